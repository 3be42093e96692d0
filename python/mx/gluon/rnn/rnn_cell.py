"""Recurrent cells (MXNet 1.x ``gluon.rnn.rnn_cell``).

A cell computes one time step, ``output, new_states = cell(x_t, states)``, with registered ops
(FullyConnected, SliceChannel, Activation, elementwise ops); ``unroll`` runs it over a sequence.
Parameter names, gate orders (LSTM i, f, c, o; GRU r, z, n) and the unroll conventions
(layouts, ``merge_outputs``, ``valid_length``) follow MXNet 1.9.1.
"""
from numbers import Number

from ...base import MXShapeError, MXValueError
from ... import ndarray as _nd
from ... import symbol as _sym
from ...ndarray.ndarray import NDArray
from ...symbol import Symbol
from ..block import Block, HybridBlock, _indent

__all__ = ["RecurrentCell", "HybridRecurrentCell", "RNNCell", "LSTMCell", "GRUCell",
           "SequentialRNNCell", "HybridSequentialRNNCell", "DropoutCell", "ModifierCell",
           "ZoneoutCell", "ResidualCell", "BidirectionalCell"]

_TENSOR = (NDArray, Symbol)


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _split_list(F, data, n, axis):
    """data split into n pieces along axis (the axis removed), as a Python list."""
    parts = F.split(data, axis=axis, num_outputs=n, squeeze_axis=True)
    if isinstance(parts, Symbol):
        return [parts[i] for i in range(n)] if n > 1 else [parts]
    return _as_list(parts)


def _F_of(inputs):
    first = inputs if isinstance(inputs, _TENSOR) else inputs[0]
    return _sym if isinstance(first, Symbol) else _nd


def _nm(F, block, suffix):
    return {"name": "%st%d_%s" % (block.prefix, block._counter, suffix)} if F is _sym else {}


def _check_layout(layout):
    if not isinstance(layout, str) or sorted(layout) != ["C", "N", "T"]:
        raise MXValueError("Invalid layout %r for unroll; must be 'NTC' or 'TNC'" % (layout,))
    if layout not in ("NTC", "TNC"):
        raise MXValueError("Invalid layout %r for unroll; must be 'NTC' or 'TNC'" % (layout,))


def _format_sequence(length, inputs, layout, merge):
    """Bring inputs (a (N,T,C)/(T,N,C) tensor or a list of (N,C) steps) to the wanted form:
    merge False: a list of steps; True: one tensor in `layout`; None: unchanged.
    Returns (inputs, time_axis, F, batch_size)."""
    if inputs is None:
        raise MXValueError("unroll(inputs=None) is not supported; pass the input sequence")
    _check_layout(layout)
    axis, batch_axis = layout.find("T"), layout.find("N")
    F = _F_of(inputs)
    batch_size = 0
    if isinstance(inputs, _TENSOR):
        if F is _nd:
            if inputs.ndim < 3:  # more axes after C: feature maps of convolutional cells
                raise MXShapeError("unroll: the input sequence must be a tensor of layout %s (rank 3, "
                                   "or more for feature maps), got shape %s" % (layout, inputs.shape))
            batch_size = inputs.shape[batch_axis]
            if length is not None and inputs.shape[axis] != length:
                raise MXShapeError("unroll: length is %d but the input has %d steps on axis %d "
                                   "(layout %s, shape %s)" % (length, inputs.shape[axis], axis,
                                                              layout, inputs.shape))
            n = inputs.shape[axis]
        else:
            if length is None:
                raise MXValueError("unroll: length is required for a Symbol input")
            n = length
        if merge is False:
            inputs = _split_list(F, inputs, n, axis)
    else:
        inputs = list(inputs)
        if length is not None and len(inputs) != length:
            raise MXValueError("unroll: length is %d but %d input steps were given"
                               % (length, len(inputs)))
        if F is _nd:
            batch_size = inputs[0].shape[0]
        if merge is True:
            inputs = F.stack(*inputs, axis=axis)
    return inputs, axis, F, batch_size


def _sym_zero_states(cell, F, inputs, axis):
    """Zero begin states for a symbolic unroll, shaped from the input's batch dimension."""
    if isinstance(inputs, _TENSOR):
        z = F.slice_axis(F.slice_axis(inputs, axis=axis, begin=0, end=1), axis=2, begin=0, end=1)
        z = F.squeeze(z, axis=axis)
    else:
        z = F.slice_axis(inputs[0], axis=1, begin=0, end=1)
    z = F.zeros_like(z)
    states = []
    for info in cell.state_info(0):
        shape = tuple(info["shape"])
        if len(shape) != 2:
            raise MXValueError("unroll: cannot make symbolic begin states of shape %s; pass "
                               "begin_state" % (shape,))
        states.append(F.broadcast_axis(z, axis=1, size=shape[1]))
    return states


def _begin_state_for(cell, F, begin_state, inputs, batch_size, axis):
    if begin_state is not None:
        return _as_list(begin_state)
    if F is _nd:
        first = inputs if isinstance(inputs, NDArray) else inputs[0]
        return cell.begin_state(batch_size=batch_size, func=_nd.zeros, ctx=first.context,
                                dtype=first.dtype)
    return _sym_zero_states(cell, F, inputs, axis)


def _mask_sequence(F, data, length, valid_length, axis, merge):
    """Zero the steps beyond valid_length (data: a list of steps or a tensor)."""
    if not isinstance(data, _TENSOR):
        data = F.stack(*data, axis=axis)
    out = F.SequenceMask(data, valid_length, use_sequence_length=True, axis=axis)
    if not merge:
        out = _split_list(F, out, length, axis)
    return out


def _reverse_steps(steps, length, valid_length):
    """Reverse a list of steps (only the first valid_length steps of each sequence, if given)."""
    if valid_length is None:
        return list(reversed(steps))
    F = _F_of(steps)
    rev = F.SequenceReverse(F.stack(*steps, axis=0), valid_length, use_sequence_length=True)
    return _split_list(F, rev, length, 0)


def _activate(F, x, activation, **kw):
    simple = {"tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid", "softsign": "softsign"}
    if isinstance(activation, str):
        if activation in simple:
            return getattr(F, simple[activation])(x, **kw)
        return F.Activation(x, act_type=activation, **kw)
    from ..nn import LeakyReLU
    if isinstance(activation, LeakyReLU):
        return F.LeakyReLU(x, act_type="leaky", slope=activation._alpha, **kw)
    if callable(activation):
        return activation(x)
    raise MXValueError("unsupported activation %r" % (activation,))


class RecurrentCell(Block):
    """Base class of recurrent cells: one step per call, ``unroll`` for sequences.

    Subclasses define ``state_info`` and the step; ``begin_state`` and ``unroll`` come from here.

    Parameters
    ----------
    prefix : str, default None
        Prefix of the cell's parameter names.
    params : ParameterDict, default None
        Parameters to share.
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        self._modified = False
        self.reset()

    def reset(self):
        """Reset the step counters (called by unroll before a new sequence)."""
        self._init_counter = -1
        self._counter = -1
        for cell in self._children.values():
            if hasattr(cell, "reset"):
                cell.reset()

    def state_info(self, batch_size=0):
        """Shape and layout of each state: a list of dicts {'shape': ..., '__layout__': ...}."""
        raise NotImplementedError()

    def begin_state(self, batch_size=0, func=_nd.zeros, **kwargs):
        """Initial states: ``func(name=..., shape=..., **kwargs)`` for each entry of ``state_info``."""
        if self._modified:
            raise MXValueError("After applying modifier cells (e.g. ZoneoutCell) the base cell "
                               "cannot be called directly. Call the modifier cell instead.")
        states = []
        for info in self.state_info(batch_size):
            self._init_counter += 1
            info = dict(info) if info is not None else {}
            info.update(kwargs)
            states.append(func(name="%sbegin_state_%d" % (self._prefix, self._init_counter),
                               **info))
        return states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        """Run the cell over `length` steps of inputs (a tensor in `layout` or a list of (N, C)
        steps). Returns (outputs, states): outputs one tensor if merge_outputs is True, else a
        list of steps (a tensor when valid_length is given and merge_outputs is None)."""
        self.reset()
        steps, axis, F, batch_size = _format_sequence(length, inputs, layout, False)
        states = _begin_state_for(self, F, begin_state, steps, batch_size, axis)
        outputs, history = [], []
        for x in steps:
            out, states = self(x, states)
            outputs.append(out)
            if valid_length is not None:
                history.append(states)
        if valid_length is not None:
            states = [F.SequenceLast(F.stack(*per_step, axis=0), valid_length,
                                     use_sequence_length=True, axis=0)
                      for per_step in zip(*history)]
            outputs = _mask_sequence(F, outputs, len(steps), valid_length, axis, True)
        outputs, _, _, _ = _format_sequence(len(steps), outputs, layout, merge_outputs)
        return outputs, states

    def _get_activation(self, F, inputs, activation, **kwargs):
        return _activate(F, inputs, activation, **kwargs)

    def _check_step(self, inputs, states):
        """Validate one step's NDArray input and states (leaf cells)."""

    def forward(self, inputs, states):
        self._counter += 1
        if isinstance(states, _TENSOR):
            states = [states]
        if isinstance(inputs, NDArray):
            self._check_step(inputs, states)
        return super().forward(inputs, states)


class HybridRecurrentCell(RecurrentCell, HybridBlock):
    """A recurrent cell whose step is ``hybrid_forward(F, x, states, **params)``.

    Subclasses define ``state_info`` and the step; ``begin_state`` and ``unroll`` come from here.

    Parameters
    ----------
    prefix : str, default None
        Prefix of the cell's parameter names.
    params : ParameterDict, default None
        Parameters to share.
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, F, x, *args, **kwargs):
        raise NotImplementedError


class _GatedCell(HybridRecurrentCell):
    """Shared parameters (i2h/h2h weight and bias, `gates` * hidden_size rows) and checks."""

    _num_gates = 1

    def __init__(self, hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                 i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params):
        super().__init__(prefix=prefix, params=params)
        if int(hidden_size) <= 0:
            raise MXValueError("%s: hidden_size must be positive, got %s"
                               % (self.__class__.__name__, hidden_size))
        self._hidden_size = int(hidden_size)
        self._input_size = input_size
        gh = self._num_gates * self._hidden_size
        self.i2h_weight = self.params.get("i2h_weight", shape=(gh, input_size),
                                          init=i2h_weight_initializer, allow_deferred_init=True)
        self.h2h_weight = self.params.get("h2h_weight", shape=(gh, self._hidden_size),
                                          init=h2h_weight_initializer, allow_deferred_init=True)
        self.i2h_bias = self.params.get("i2h_bias", shape=(gh,), init=i2h_bias_initializer,
                                        allow_deferred_init=True)
        self.h2h_bias = self.params.get("h2h_bias", shape=(gh,), init=h2h_bias_initializer,
                                        allow_deferred_init=True)

    def state_info(self, batch_size=0):
        return [{"shape": (batch_size, self._hidden_size), "__layout__": "NC"}
                for _ in range(self._num_states)]

    _num_states = 1

    def _mapping(self):
        shape = self.i2h_weight.shape
        return "{0} -> {1}".format(shape[1] if shape[1] else None, shape[0])

    def _check_step(self, inputs, states):
        name = self.__class__.__name__
        if inputs.ndim < 2:
            raise MXShapeError("%s: a step input must have shape (batch, features), got %s"
                               % (name, inputs.shape))
        feats = 1
        for d in inputs.shape[1:]:
            feats *= d
        expected = self.i2h_weight.shape[1]
        if expected and feats != expected:
            raise MXShapeError("%s: expected step input with %d features, got shape %s"
                               % (name, expected, inputs.shape))
        info = self.state_info(inputs.shape[0])
        if not isinstance(states, (list, tuple)) or len(states) != len(info):
            raise MXValueError("%s expects %d state(s) of shape %s, got %s"
                               % (name, len(info), tuple(info[0]["shape"]),
                                  len(states) if isinstance(states, (list, tuple)) else states))
        for i, (s, inf) in enumerate(zip(states, info)):
            if not isinstance(s, NDArray) or tuple(s.shape) != tuple(inf["shape"]):
                raise MXShapeError("%s: state %d must have shape %s, got %s"
                                   % (name, i, tuple(inf["shape"]),
                                      getattr(s, "shape", type(s).__name__)))

    def _i2h_h2h(self, F, inputs, h, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        nh = self._num_gates * self._hidden_size
        i2h = F.FullyConnected(inputs, i2h_weight, i2h_bias, num_hidden=nh, **_nm(F, self, "i2h"))
        h2h = F.FullyConnected(h, h2h_weight, h2h_bias, num_hidden=nh, **_nm(F, self, "h2h"))
        return i2h, h2h


class RNNCell(_GatedCell):
    """Elman cell: h' = activation(W_ih x + b_ih + W_hh h + b_hh).

    Call as ``output, new_states = cell(x, states)`` for one step, or ``cell.unroll(length, inputs)`` for a sequence.

    Parameters
    ----------
    hidden_size : int
        Number of hidden units.
    activation : str, default 'tanh'
        Activation of the cell ('tanh', 'relu', ...).
    i2h_weight_initializer : Initializer, default None
        Initializer of the input-to-hidden weights.
    h2h_weight_initializer : Initializer, default None
        Initializer of the hidden-to-hidden weights.
    i2h_bias_initializer : str or Initializer, default 'zeros'
        Initializer of the input-to-hidden bias.
    h2h_bias_initializer : str or Initializer, default 'zeros'
        Initializer of the hidden-to-hidden bias.
    input_size : int, default 0
        Input feature size; 0 infers it at the first forward.
    prefix : str, default None
        Prefix of the cell's parameter names.
    params : ParameterDict, default None
        Parameters to share.
    """

    def __init__(self, hidden_size, activation="tanh", i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros",
                 h2h_bias_initializer="zeros", input_size=0, prefix=None, params=None):
        if isinstance(activation, str) and activation not in (
                "tanh", "relu", "sigmoid", "softsign", "softrelu", "log_sigmoid", "mish"):
            raise MXValueError("RNNCell: unknown activation '%s'" % activation)
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params)
        self._activation = activation

    def _alias(self):
        return "rnn"

    def __repr__(self):
        return "%s(%s, %s)" % (self.__class__.__name__, self._mapping(), self._activation)

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._i2h_h2h(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        out = _activate(F, F.elemwise_add(i2h, h2h, **_nm(F, self, "plus0")), self._activation,
                        **_nm(F, self, "out"))
        return out, [out]


class LSTMCell(_GatedCell):
    """LSTM cell; gates (i, f, c, o) = split(W_ih x + b_ih + W_hh h + b_hh, 4);
    c' = sigmoid(f) * c + sigmoid(i) * tanh(c~); h' = sigmoid(o) * tanh(c'); states [h, c].

    Call as ``output, new_states = cell(x, states)`` for one step, or ``cell.unroll(length, inputs)`` for a sequence.

    Parameters
    ----------
    hidden_size : int
        Number of hidden units.
    i2h_weight_initializer : Initializer, default None
        Initializer of the input-to-hidden weights.
    h2h_weight_initializer : Initializer, default None
        Initializer of the hidden-to-hidden weights.
    i2h_bias_initializer : str or Initializer, default 'zeros'
        Initializer of the input-to-hidden bias.
    h2h_bias_initializer : str or Initializer, default 'zeros'
        Initializer of the hidden-to-hidden bias.
    input_size : int, default 0
        Input feature size; 0 infers it at the first forward.
    prefix : str, default None
        Prefix of the cell's parameter names.
    params : ParameterDict, default None
        Parameters to share.
    activation : str, default 'tanh'
        Activation of the cell ('tanh', 'relu', ...).
    recurrent_activation : str, default 'sigmoid'
        Activation of the gates.

    Example
    -------
    >>> cell = mx.gluon.rnn.LSTMCell(8)
    >>> cell.initialize()
    >>> outputs, states = cell.unroll(5, mx.nd.ones((3, 5, 4)), layout="NTC", merge_outputs=True)
    >>> outputs.shape, [s.shape for s in states]
    ((3, 5, 8), [(3, 8), (3, 8)])
    """

    _num_gates = 4
    _num_states = 2

    def __init__(self, hidden_size, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 prefix=None, params=None, activation="tanh", recurrent_activation="sigmoid"):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params)
        self._activation = activation
        self._recurrent_activation = recurrent_activation

    def _alias(self):
        return "lstm"

    def __repr__(self):
        return "%s(%s)" % (self.__class__.__name__, self._mapping())

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._i2h_h2h(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        gates = F.SliceChannel(F.elemwise_add(i2h, h2h, **_nm(F, self, "plus0")), num_outputs=4,
                               **_nm(F, self, "slice"))
        ra, act = self._recurrent_activation, self._activation
        in_gate = _activate(F, gates[0], ra, **_nm(F, self, "i"))
        forget_gate = _activate(F, gates[1], ra, **_nm(F, self, "f"))
        in_transform = _activate(F, gates[2], act, **_nm(F, self, "c"))
        out_gate = _activate(F, gates[3], ra, **_nm(F, self, "o"))
        next_c = F.elemwise_add(F.elemwise_mul(forget_gate, states[1], **_nm(F, self, "mul0")),
                                F.elemwise_mul(in_gate, in_transform, **_nm(F, self, "mul1")),
                                **_nm(F, self, "state"))
        c_act = (F.Activation(next_c, act_type=act, **_nm(F, self, "activation0"))
                 if isinstance(act, str) else _activate(F, next_c, act))
        next_h = F.elemwise_mul(out_gate, c_act, **_nm(F, self, "out"))
        return next_h, [next_h, next_c]


class GRUCell(_GatedCell):
    """GRU cell (MXNet's formula): r = sigmoid(i_r + h_r), z = sigmoid(i_z + h_z),
    n = tanh(i_n + r * h_n), h' = (1 - z) * n + z * h, with i_* = W_i* x + b_i*,
    h_* = W_h* h + b_h*.

    Call as ``output, new_states = cell(x, states)`` for one step, or ``cell.unroll(length, inputs)`` for a sequence.

    Parameters
    ----------
    hidden_size : int
        Number of hidden units.
    i2h_weight_initializer : Initializer, default None
        Initializer of the input-to-hidden weights.
    h2h_weight_initializer : Initializer, default None
        Initializer of the hidden-to-hidden weights.
    i2h_bias_initializer : str or Initializer, default 'zeros'
        Initializer of the input-to-hidden bias.
    h2h_bias_initializer : str or Initializer, default 'zeros'
        Initializer of the hidden-to-hidden bias.
    input_size : int, default 0
        Input feature size; 0 infers it at the first forward.
    prefix : str, default None
        Prefix of the cell's parameter names.
    params : ParameterDict, default None
        Parameters to share.
    """

    _num_gates = 3

    def __init__(self, hidden_size, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 prefix=None, params=None):
        super().__init__(hidden_size, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, input_size, prefix, params)

    def _alias(self):
        return "gru"

    def __repr__(self):
        return "%s(%s)" % (self.__class__.__name__, self._mapping())

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        h = states[0]
        i2h, h2h = self._i2h_h2h(F, inputs, h, i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        i_r, i_z, i_n = F.SliceChannel(i2h, num_outputs=3, **_nm(F, self, "i2h_slice"))
        h_r, h_z, h_n = F.SliceChannel(h2h, num_outputs=3, **_nm(F, self, "h2h_slice"))
        r = F.Activation(F.elemwise_add(i_r, h_r, **_nm(F, self, "plus0")), act_type="sigmoid",
                         **_nm(F, self, "r_act"))
        z = F.Activation(F.elemwise_add(i_z, h_z, **_nm(F, self, "plus1")), act_type="sigmoid",
                         **_nm(F, self, "z_act"))
        n = F.Activation(F.elemwise_add(i_n, F.elemwise_mul(r, h_n, **_nm(F, self, "mul0")),
                                        **_nm(F, self, "plus2")),
                         act_type="tanh", **_nm(F, self, "h_act"))
        keep = F.elemwise_sub(F.ones_like(z, **_nm(F, self, "ones_like0")), z,
                              **_nm(F, self, "minus0"))
        next_h = F.elemwise_add(F.elemwise_mul(keep, n, **_nm(F, self, "mul1")),
                                F.elemwise_mul(z, h, **_nm(F, self, "mul20")),
                                **_nm(F, self, "out"))
        return next_h, [next_h]


# ---------------------------------------------------------------------- containers
def _seq_repr(cell):
    return "{name}(\n{modstr}\n)".format(
        name=cell.__class__.__name__,
        modstr="\n".join("({i}): {m}".format(i=i, m=_indent(repr(m), 2))
                         for i, m in cell._children.items()))


class _SequentialMixin:
    """Shared behaviour of SequentialRNNCell and HybridSequentialRNNCell."""

    def add(self, cell):
        """Append a cell to the stack."""
        self.register_child(cell)

    def state_info(self, batch_size=0):
        return [i for c in self._children.values() for i in c.state_info(batch_size)]

    def begin_state(self, **kwargs):
        if self._modified:
            raise MXValueError("After applying modifier cells (e.g. ZoneoutCell) the base cell "
                               "cannot be called directly. Call the modifier cell instead.")
        return [s for c in self._children.values() for s in c.begin_state(**kwargs)]

    def _step_children(self, inputs, states):
        if isinstance(states, _TENSOR):
            states = [states]
        expected = len(self.state_info())
        if len(states) != expected:
            raise MXValueError("%s expects %d states (the states of its cells, in order), got %d"
                               % (self.__class__.__name__, expected, len(states)))
        new_states, p = [], 0
        for cell in self._children.values():
            if isinstance(cell, BidirectionalCell):
                raise MXValueError("BidirectionalCell cannot be stepped; use unroll")
            n = len(cell.state_info())
            inputs, st = cell(inputs, states[p:p + n])
            p += n
            new_states.extend(st)
        return inputs, new_states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        self.reset()
        inputs, axis, F, batch_size = _format_sequence(length, inputs, layout, None)
        begin_state = _begin_state_for(self, F, begin_state, inputs, batch_size, axis)
        cells = list(self._children.values())
        p, new_states = 0, []
        for i, cell in enumerate(cells):
            n = len(cell.state_info())
            inputs, st = cell.unroll(length, inputs=inputs, begin_state=begin_state[p:p + n],
                                     layout=layout,
                                     merge_outputs=merge_outputs if i == len(cells) - 1 else None,
                                     valid_length=valid_length)
            p += n
            new_states.extend(st)
        return inputs, new_states

    def __getitem__(self, i):
        return self._children[str(i)]

    def __len__(self):
        return len(self._children)

    def __repr__(self):
        return _seq_repr(self)


class SequentialRNNCell(_SequentialMixin, RecurrentCell):
    """Stacks cells: the output of each is the input of the next; states are concatenated.

    Call as ``output, new_states = cell(x, states)`` for one step, or ``cell.unroll(length, inputs)`` for a sequence.

    Parameters
    ----------
    prefix : str, default None
        Prefix of the cell's parameter names.
    params : ParameterDict, default None
        Parameters to share.
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def forward(self, inputs, states):
        self._counter += 1
        return self._step_children(inputs, states)


class HybridSequentialRNNCell(_SequentialMixin, HybridRecurrentCell):
    """Stacks HybridRecurrentCells (hybridizable).

    Call as ``output, new_states = cell(x, states)`` for one step, or ``cell.unroll(length, inputs)`` for a sequence.

    Parameters
    ----------
    prefix : str, default None
        Prefix of the cell's parameter names.
    params : ParameterDict, default None
        Parameters to share.
    """

    def __init__(self, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)

    def hybrid_forward(self, F, inputs, states):
        return self._step_children(inputs, states)


class DropoutCell(HybridRecurrentCell):
    """Applies Dropout to its input (no states).

    Call as ``output, new_states = cell(x, states)`` for one step, or ``cell.unroll(length, inputs)`` for a sequence.

    Parameters
    ----------
    rate : float
        Dropout rate.
    axes : tuple of int, default ()
        Axes sharing one dropout mask.
    prefix : str, default None
        Prefix of the cell's parameter names.
    params : ParameterDict, default None
        Parameters to share.
    """

    def __init__(self, rate, axes=(), prefix=None, params=None):
        if not isinstance(rate, Number):
            raise MXValueError("DropoutCell: rate must be a number, got %r" % (rate,))
        super().__init__(prefix, params)
        self._rate = rate
        self._axes = axes

    def __repr__(self):
        return "%s(rate=%s, axes=%s)" % (self.__class__.__name__, self._rate, self._axes)

    def state_info(self, batch_size=0):
        return []

    def _alias(self):
        return "dropout"

    def hybrid_forward(self, F, inputs, states):
        if self._rate > 0:
            inputs = F.Dropout(inputs, p=self._rate, axes=self._axes, **_nm(F, self, "fwd"))
            if isinstance(inputs, (list, tuple)):
                inputs = inputs[0]
        return inputs, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        self.reset()
        inputs, _, F, _ = _format_sequence(length, inputs, layout, merge_outputs)
        if isinstance(inputs, _TENSOR):
            return self.hybrid_forward(F, inputs, list(begin_state) if begin_state else [])
        return super().unroll(length, inputs, begin_state=begin_state, layout=layout,
                              merge_outputs=merge_outputs, valid_length=None)


class ModifierCell(HybridRecurrentCell):
    """Base class of cells that wrap another cell (its parameters are the base cell's).

    Subclasses define ``state_info`` and the step; ``begin_state`` and ``unroll`` come from here.

    Parameters
    ----------
    base_cell : RecurrentCell
        The wrapped cell.
    """

    def __init__(self, base_cell):
        if base_cell._modified:
            raise MXValueError("Cell %s is already modified. One cell cannot be modified twice"
                               % base_cell.name)
        base_cell._modified = True
        super().__init__(prefix=base_cell.prefix + self._alias(), params=None)
        self.base_cell = base_cell

    @property
    def params(self):
        return self.base_cell.params

    def state_info(self, batch_size=0):
        return self.base_cell.state_info(batch_size)

    def begin_state(self, func=_nd.zeros, **kwargs):
        if self._modified:
            raise MXValueError("After applying modifier cells (e.g. ZoneoutCell) the base cell "
                               "cannot be called directly. Call the modifier cell instead.")
        self.base_cell._modified = False
        try:
            return self.base_cell.begin_state(func=func, **kwargs)
        finally:
            self.base_cell._modified = True

    def hybrid_forward(self, F, inputs, states):
        raise NotImplementedError

    def __repr__(self):
        return "%s(%s)" % (self.__class__.__name__, self.base_cell)


class ZoneoutCell(ModifierCell):
    """Zoneout: in training, each output/state unit keeps its previous value with probability
    zoneout_outputs/zoneout_states (masks from the Dropout op; identity in predict mode).

    Call as ``output, new_states = cell(x, states)`` for one step, or ``cell.unroll(length, inputs)`` for a sequence.

    Parameters
    ----------
    base_cell : RecurrentCell
        The wrapped cell.
    zoneout_outputs : float, default 0.0
        Probability of keeping the previous output, per unit.
    zoneout_states : float, default 0.0
        Probability of keeping the previous state, per unit.
    """

    def __init__(self, base_cell, zoneout_outputs=0., zoneout_states=0.):
        if isinstance(base_cell, BidirectionalCell):
            raise MXValueError("BidirectionalCell doesn't support zoneout since it doesn't support "
                               "step. Please add ZoneoutCell to the cells underneath instead.")
        super().__init__(base_cell)
        self.zoneout_outputs = zoneout_outputs
        self.zoneout_states = zoneout_states
        self._prev_output = None

    def __repr__(self):
        return "%s(p_out=%s, p_state=%s, %s)" % (self.__class__.__name__, self.zoneout_outputs,
                                                 self.zoneout_states, self.base_cell)

    def _alias(self):
        return "zoneout"

    def reset(self):
        super().reset()
        self._prev_output = None

    def hybrid_forward(self, F, inputs, states):
        next_output, next_states = self.base_cell(inputs, states)

        def keep_new(p, like):
            mask = F.Dropout(F.ones_like(like), p=p)
            return mask[0] if isinstance(mask, (list, tuple)) else mask

        prev = self._prev_output if self._prev_output is not None else F.zeros_like(next_output)
        p_out, p_st = self.zoneout_outputs, self.zoneout_states
        output = (F.where(keep_new(p_out, next_output), next_output, prev)
                  if p_out != 0. else next_output)
        new_states = ([F.where(keep_new(p_st, n), n, o) for n, o in zip(next_states, states)]
                      if p_st != 0. else next_states)
        self._prev_output = output
        return output, new_states


class ResidualCell(ModifierCell):
    """Adds the input to the base cell's output (output = base(x) + x).

    Call as ``output, new_states = cell(x, states)`` for one step, or ``cell.unroll(length, inputs)`` for a sequence.

    Parameters
    ----------
    base_cell : RecurrentCell
        The wrapped cell.
    """

    def __init__(self, base_cell):
        super().__init__(base_cell)

    def hybrid_forward(self, F, inputs, states):
        output, states = self.base_cell(inputs, states)
        return F.elemwise_add(output, inputs, **_nm(F, self, "fwd")), states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        self.reset()
        self.base_cell._modified = False
        try:
            outputs, states = self.base_cell.unroll(length, inputs=inputs, begin_state=begin_state,
                                                    layout=layout, merge_outputs=merge_outputs,
                                                    valid_length=valid_length)
        finally:
            self.base_cell._modified = True
        merge = isinstance(outputs, _TENSOR) if merge_outputs is None else merge_outputs
        inputs, axis, F, _ = _format_sequence(length, inputs, layout, merge)
        if valid_length is not None:
            inputs = _mask_sequence(F, inputs, length, valid_length, axis, merge)
        if merge:
            return F.elemwise_add(outputs, inputs), states
        return [F.elemwise_add(o, i) for o, i in zip(outputs, inputs)], states


class BidirectionalCell(HybridRecurrentCell):
    """Runs l_cell forward and r_cell backward in time and concatenates their outputs on the
    feature axis; states are l_cell's followed by r_cell's. Only ``unroll`` is supported.

    Call as ``output, new_states = cell(x, states)`` for one step, or ``cell.unroll(length, inputs)`` for a sequence.

    Parameters
    ----------
    l_cell : RecurrentCell
        Cell run forward in time.
    r_cell : RecurrentCell
        Cell run backward in time.
    output_prefix : str, default ``'bi_'``
        Prefix of the output names.
    """

    def __init__(self, l_cell, r_cell, output_prefix="bi_"):
        super().__init__(prefix="", params=None)
        self.register_child(l_cell, "l_cell")
        self.register_child(r_cell, "r_cell")
        self._output_prefix = output_prefix

    def forward(self, inputs, states):
        raise NotImplementedError("Bidirectional cannot be stepped. Please use unroll")

    def __repr__(self):
        return "%s(forward=%s, backward=%s)" % (self.__class__.__name__,
                                                self._children["l_cell"],
                                                self._children["r_cell"])

    def state_info(self, batch_size=0):
        return [i for c in self._children.values() for i in c.state_info(batch_size)]

    def begin_state(self, **kwargs):
        if self._modified:
            raise MXValueError("After applying modifier cells the base cell cannot be called "
                               "directly. Call the modifier cell instead.")
        return [s for c in self._children.values() for s in c.begin_state(**kwargs)]

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None,
               valid_length=None):
        self.reset()
        steps, axis, F, batch_size = _format_sequence(length, inputs, layout, False)
        length = len(steps)
        reversed_steps = _reverse_steps(steps, length, valid_length)
        states = _begin_state_for(self, F, begin_state, steps, batch_size, axis)
        l_cell, r_cell = self._children["l_cell"], self._children["r_cell"]
        nl = len(l_cell.state_info())
        if len(states) != nl + len(r_cell.state_info()):
            raise MXValueError("BidirectionalCell expects %d begin states, got %d"
                               % (nl + len(r_cell.state_info()), len(states)))
        l_out, l_states = l_cell.unroll(length, inputs=steps, begin_state=states[:nl],
                                        layout=layout, merge_outputs=merge_outputs,
                                        valid_length=valid_length)
        r_out, r_states = r_cell.unroll(length, inputs=reversed_steps, begin_state=states[nl:],
                                        layout=layout, merge_outputs=False,
                                        valid_length=valid_length)
        r_out = _reverse_steps(r_out, length, valid_length)
        if merge_outputs is None:
            merge_outputs = isinstance(l_out, _TENSOR)
        l_out, _, _, _ = _format_sequence(length, l_out, layout, merge_outputs)
        if merge_outputs:
            r_merged = F.stack(*r_out, axis=axis)
            outputs = F.concat(l_out, r_merged, dim=2,
                               **({"name": "%sout" % self._output_prefix} if F is _sym else {}))
        else:
            outputs = [F.concat(lo, ro, dim=1,
                                **({"name": "%st%d" % (self._output_prefix, i)}
                                   if F is _sym else {}))
                       for i, (lo, ro) in enumerate(zip(l_out, r_out))]
        if valid_length is not None:
            outputs = _mask_sequence(F, outputs, length, valid_length, axis, merge_outputs)
        return outputs, l_states + r_states
