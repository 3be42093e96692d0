"""Fused recurrent layers (MXNet 1.x ``gluon.rnn.rnn_layer``): RNN, LSTM, GRU.

Each layer keeps one set of parameters per layer and direction, named as in MXNet
(``l0_i2h_weight``, ``l0_h2h_weight``, ``l0_i2h_bias``, ``l0_h2h_bias``, ``r0_...`` for the reverse
direction), and runs the core's fused ``RNN`` operator on the flat parameter vector made by
reshaping every parameter to 1-D and concatenating them in the operator's layout (all weights,
layer by layer, direction by direction, i2h before h2h; then all biases in the same order).

Dropout between layers: the core operator does not apply its ``p`` argument, so a layer with
``dropout > 0`` and several layers runs the operator once per layer with a ``Dropout`` op between
them (identical numbers in predict mode, MXNet's semantics in training).
"""
import re

from ...base import MXShapeError, MXValueError, MXNotSupportedError
from ... import ndarray as _nd
from ... import symbol as _sym
from ...ndarray.ndarray import NDArray
from ..block import HybridBlock
from .._ops import op as _op

__all__ = ["RNN", "LSTM", "GRU"]

_GATES = {"rnn_relu": 1, "rnn_tanh": 1, "lstm": 4, "gru": 3}
_KEY = re.compile(r"([lr])(\d+)_(i2h|h2h|h2r)_(weight|bias)\Z")


def _nm(F, block, suffix):
    return {"name": block.prefix + suffix} if F is _sym else {}


class _RNNLayer(HybridBlock):
    """Shared implementation of RNN, LSTM and GRU."""

    def __init__(self, hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                 i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                 h2h_bias_initializer, mode, projection_size, h2r_weight_initializer,
                 lstm_state_clip_min, lstm_state_clip_max, lstm_state_clip_nan, dtype,
                 use_sequence_length=False, **kwargs):
        super().__init__(**kwargs)
        if layout not in ("TNC", "NTC"):
            raise MXValueError("Invalid layout %s; must be one of ['TNC' or 'NTC']" % (layout,))
        if mode not in _GATES:
            raise MXValueError("Invalid activation for %s: '%s'; must be 'relu' or 'tanh'"
                               % (self.__class__.__name__, mode[4:] if mode.startswith("rnn_")
                                  else mode))
        if projection_size and (mode != "lstm" or not 0 < int(projection_size) <= int(hidden_size)):
            raise MXValueError("%s: projection_size must lie in [1, hidden_size = %s] (LSTM only), got %s"
                               % (self.__class__.__name__, hidden_size, projection_size))
        if use_sequence_length:
            raise MXNotSupportedError("%s: use_sequence_length=True is not supported by the core "
                                      "RNN operator" % self.__class__.__name__)
        if int(hidden_size) <= 0 or int(num_layers) <= 0:
            raise MXValueError("%s: hidden_size and num_layers must be positive, got %s and %s"
                               % (self.__class__.__name__, hidden_size, num_layers))
        if not 0 <= dropout < 1:
            raise MXValueError("%s: dropout must be in [0, 1), got %s"
                               % (self.__class__.__name__, dropout))
        self._hidden_size = int(hidden_size)
        self._projection_size = int(projection_size) if projection_size else None
        self._num_layers = int(num_layers)
        self._mode = mode
        self._layout = layout
        self._dropout = dropout
        self._dir = 2 if bidirectional else 1
        self._input_size = input_size
        self._i2h_weight_initializer = i2h_weight_initializer
        self._h2h_weight_initializer = h2h_weight_initializer
        self._i2h_bias_initializer = i2h_bias_initializer
        self._h2h_bias_initializer = h2h_bias_initializer
        self._h2r_weight_initializer = h2r_weight_initializer
        self._lstm_state_clip_min = lstm_state_clip_min
        self._lstm_state_clip_max = lstm_state_clip_max
        self._lstm_state_clip_nan = lstm_state_clip_nan
        self._dtype = dtype
        self._use_sequence_length = use_sequence_length
        self._gates = _GATES[mode]
        self.skip_states = None
        self._traced_skip = None

        # with projection (LSTMP) the recurrent state and the output are projection_size wide
        gh, ni, nh = self._gates * self._hidden_size, input_size, self._hidden_size
        nr = self._projection_size or nh
        for layer in range(self._num_layers):
            for d in "lr"[:self._dir]:
                pre = "%s%d_" % (d, layer)
                self._register_param(pre + "i2h_weight", (gh, ni), i2h_weight_initializer, dtype)
                self._register_param(pre + "h2h_weight", (gh, nr), h2h_weight_initializer, dtype)
                self._register_param(pre + "i2h_bias", (gh,), i2h_bias_initializer, dtype)
                self._register_param(pre + "h2h_bias", (gh,), h2h_bias_initializer, dtype)
                if self._projection_size:
                    self._register_param(pre + "h2r_weight", (nr, nh), h2r_weight_initializer, dtype)
            ni = nr * self._dir

    def _register_param(self, name, shape, init, dtype):
        p = self.params.get(name, shape=shape, init=init, allow_deferred_init=True, dtype=dtype)
        setattr(self, name, p)
        return p

    def __repr__(self):
        s = "{name}({mapping}, {layout}".format(
            name=self.__class__.__name__, layout=self._layout,
            mapping="{0} -> {1}".format(self.l0_i2h_weight.shape[1] or None,
                                        self.l0_i2h_weight.shape[0] // self._gates))
        if self._num_layers != 1:
            s += ", num_layers=%s" % self._num_layers
        if self._dropout != 0:
            s += ", dropout=%s" % self._dropout
        if self._dir == 2:
            s += ", bidirectional"
        return s + ")"

    def _collect_params_with_prefix(self, prefix=""):
        """Structural names as MXNet 1.x writes them with save_parameters (the names of the
        equivalent stack of cells): '_unfused.<layer>.<i2h|h2h>_<weight|bias>', or with
        '<l|r>_cell.' inserted for bidirectional layers, so files load both ways."""
        if prefix:
            prefix += "."
        ret = {}
        for key, val in self._reg_params.items():
            d, layer, g, t = _KEY.match(key).groups()
            if self._dir == 2:
                ret["%s_unfused.%s.%s_cell.%s_%s" % (prefix, layer, d, g, t)] = val
            else:
                ret["%s_unfused.%s.%s_%s" % (prefix, layer, g, t)] = val
        for name, child in self._children.items():
            ret.update(child._collect_params_with_prefix(prefix + name))
        return ret

    def state_info(self, batch_size=0):
        raise NotImplementedError

    def _unfuse(self):
        """The same network as a stack of cells (HybridSequentialRNNCell of RNNCell/LSTMCell/
        GRUCell, BidirectionalCell for two directions, DropoutCell between layers) sharing
        this layer's parameters, as MXNet's _unfuse."""
        if self._projection_size:
            raise MXNotSupportedError("%s: no cell stack for projection_size (LSTMPCell); the fused "
                                      "layer runs it" % self.__class__.__name__)
        from . import rnn_cell
        make = {"rnn_relu": lambda **kw: rnn_cell.RNNCell(self._hidden_size, activation="relu", **kw),
                "rnn_tanh": lambda **kw: rnn_cell.RNNCell(self._hidden_size, activation="tanh", **kw),
                "lstm": lambda **kw: rnn_cell.LSTMCell(self._hidden_size, **kw),
                "gru": lambda **kw: rnn_cell.GRUCell(self._hidden_size, **kw)}[self._mode]
        stack = rnn_cell.HybridSequentialRNNCell(prefix=self.prefix, params=self.params)
        with stack.name_scope():
            ni = self._input_size
            for i in range(self._num_layers):
                kw = {"input_size": ni,
                      "i2h_weight_initializer": self._i2h_weight_initializer,
                      "h2h_weight_initializer": self._h2h_weight_initializer,
                      "i2h_bias_initializer": self._i2h_bias_initializer,
                      "h2h_bias_initializer": self._h2h_bias_initializer}
                if self._dir == 2:
                    stack.add(rnn_cell.BidirectionalCell(make(prefix="l%d_" % i, **kw),
                                                         make(prefix="r%d_" % i, **kw)))
                else:
                    stack.add(make(prefix="l%d_" % i, **kw))
                if self._dropout > 0 and i != self._num_layers - 1:
                    stack.add(rnn_cell.DropoutCell(self._dropout))
                ni = self._hidden_size * self._dir
        return stack

    def cast(self, dtype):
        super().cast(dtype)
        self._dtype = dtype

    def begin_state(self, batch_size=0, func=_nd.zeros, **kwargs):
        """The initial states: a list of arrays made by func(name=..., shape=..., dtype=...,
        **kwargs) with the shapes of state_info(batch_size)."""
        states = []
        for i, info in enumerate(self.state_info(batch_size)):
            info = dict(info) if info is not None else {}
            info.update(kwargs)
            states.append(func(name="%sh0_%d" % (self.prefix, i), **info))
        return states

    # ------------------------------------------------------------------ checks
    def _check_input(self, inputs):
        if inputs.ndim != 3:
            raise MXShapeError(
                "%s: input data should be a rank-3 tensor of layout %s, got shape %s (rank %d)"
                % (self.__class__.__name__, self._layout, inputs.shape, inputs.ndim))
        expected = self.l0_i2h_weight.shape[1]
        if expected and inputs.shape[2] != expected:
            raise MXShapeError(
                "%s: expected input with %d features (layout %s, axis 2), got shape %s"
                % (self.__class__.__name__, expected, self._layout, inputs.shape))

    def _check_states(self, inputs, states):
        info = self.state_info(inputs.shape[self._layout.find("N")])
        if len(states) != len(info):
            raise MXValueError("%s expects %d recurrent state(s) %s, got %d"
                               % (self.__class__.__name__, len(info),
                                  [tuple(i["shape"]) for i in info], len(states)))
        for i, (s, inf) in enumerate(zip(states, info)):
            if not isinstance(s, NDArray):
                raise TypeError("%s: state %d must be an NDArray, got %s"
                                % (self.__class__.__name__, i, type(s).__name__))
            if tuple(s.shape) != tuple(inf["shape"]):
                raise MXShapeError("Invalid recurrent state shape. Expecting %s, got %s."
                                   % (tuple(inf["shape"]), tuple(s.shape)))

    def infer_shape(self, inputs, *args):
        """Fill the deferred input sizes of the i2h weights from the input's feature axis."""
        if inputs.ndim != 3:
            raise MXShapeError("%s: input data should be a rank-3 tensor, got shape %s"
                               % (self.__class__.__name__, inputs.shape))
        ni = inputs.shape[2]
        for layer in range(self._num_layers):
            for d in "lr"[:self._dir]:
                getattr(self, "%s%d_i2h_weight" % (d, layer)).shape = (
                    self._gates * self._hidden_size, ni)
            ni = (self._projection_size or self._hidden_size) * self._dir

    # ------------------------------------------------------------------ calls
    def forward(self, inputs, states=None):
        """layer(x) -> output; layer(x, states) -> (output, new_states)."""
        skip = states is None
        if isinstance(inputs, NDArray):
            self._check_input(inputs)
            if states is None:
                states = self.begin_state(inputs.shape[self._layout.find("N")],
                                          ctx=inputs.context, dtype=inputs.dtype)
        if isinstance(states, (NDArray, _sym.Symbol)):
            states = [states]
        if states is not None:
            states = list(states)
            if isinstance(inputs, NDArray):
                self._check_states(inputs, states)
            elif len(states) != len(self.state_info()):
                raise MXValueError("%s expects %d recurrent state(s), got %d"
                                   % (self.__class__.__name__, len(self.state_info()),
                                      len(states)))
        # the traced graph's outputs depend on whether states were given: retrace on a change
        if self._cached_graph and self._traced_skip is not None and self._traced_skip != skip:
            self._clear_cached_op()
        if not self._cached_graph:
            self._traced_skip = skip
        self.skip_states = skip
        if states is None:
            return super().forward(inputs)
        return super().forward(inputs, states)

    def _zero_states(self, F, inputs):
        """Zero begin states (L*D, N, H) built from the (T, N, C) input, for symbolic graphs."""
        z = F.zeros_like(F.slice_axis(F.slice_axis(inputs, axis=0, begin=0, end=1),
                                      axis=2, begin=0, end=1))
        sizes = [(self._num_layers * self._dir, self._projection_size or self._hidden_size),
                 (self._num_layers * self._dir, self._hidden_size)]
        return [F.broadcast_axis(z, axis=(0, 2), size=sizes[i])
                for i in range(2 if self._mode == "lstm" else 1)]

    def _flat_params(self, F, params, layers):
        parts = [F.reshape(params["%s%d_%s_%s" % (d, layer, g, t)], shape=(-1,))
                 for t in ("weight", "bias") for layer in layers
                 for d in "lr"[:self._dir] for g in ("i2h", "h2h", "h2r")
                 if g != "h2r" or (t == "weight" and self._projection_size)]
        return F.concat(*parts, dim=0, **_nm(F, self, "rnn_param_concat%d" % layers[0]))

    def _kernel(self, F, inputs, states, params, layers, p):
        kw = dict(state_size=self._hidden_size, num_layers=len(layers),
                  bidirectional=self._dir == 2, mode=self._mode, p=p, state_outputs=True)
        if self._projection_size:
            kw["projection_size"] = self._projection_size
        if self._mode == "lstm":
            if self._lstm_state_clip_min is not None:
                kw["lstm_state_clip_min"] = self._lstm_state_clip_min
            if self._lstm_state_clip_max is not None:
                kw["lstm_state_clip_max"] = self._lstm_state_clip_max
            if self._lstm_state_clip_nan:
                kw["lstm_state_clip_nan"] = True
        res = _op(F, "RNN", self.__class__.__name__)(
            inputs, self._flat_params(F, params, layers), *states, **kw,
            **_nm(F, self, "rnn%d" % layers[0]))
        n = 3 if self._mode == "lstm" else 2
        return res[0], [res[i] for i in range(1, n)]

    def hybrid_forward(self, F, inputs, states=None, **params):
        if self._layout == "NTC":
            inputs = F.swapaxes(inputs, dim1=0, dim2=1)
        if states is None:
            states = self._zero_states(F, inputs)
        if self._dropout > 0 and self._num_layers > 1:
            # one operator call per layer with Dropout in between (see the module docstring)
            D, outs = self._dir, []
            x = inputs
            for layer in range(self._num_layers):
                st = [F.slice_axis(s, axis=0, begin=layer * D, end=(layer + 1) * D)
                      for s in states]
                x, new = self._kernel(F, x, st, params, [layer], 0.0)
                outs.append(new)
                if layer != self._num_layers - 1:
                    x = F.Dropout(x, p=self._dropout, **_nm(F, self, "dropout%d" % layer))
                    if isinstance(x, (list, tuple)):
                        x = x[0]
            outputs = x
            new_states = [F.concat(*[o[i] for o in outs], dim=0) for i in range(len(states))]
        else:
            outputs, new_states = self._kernel(F, inputs, states, params,
                                               list(range(self._num_layers)), self._dropout)
        if self._layout == "NTC":
            outputs = F.swapaxes(outputs, dim1=0, dim2=1)
        return outputs if self.skip_states else (outputs, new_states)


class RNN(_RNNLayer):
    """Multi-layer Elman RNN with tanh or ReLU: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh).

    Call as ``out = layer(x)`` or ``out, states = layer(x, states)``; x has layout 'TNC' or 'NTC',
    states is a list with one (num_layers * num_directions, N, hidden_size) array.

    Runs the fused ``RNN`` operator of the core over a whole sequence (forward and backward), with MXNet's parameter names ``l0_i2h_weight``, ...

    Parameters
    ----------
    hidden_size : int
        Number of hidden units.
    num_layers : int, default 1
        Number of stacked layers.
    activation : str, default 'relu'
        Activation of the cell ('tanh', 'relu', ...).
    layout : {'TNC', 'NTC'}, default 'TNC'
        Layout of the input and output: time, batch, channel (or batch first).
    dropout : float, default 0
        Dropout rate between layers (not after the last).
    bidirectional : bool, default False
        Also run a backward-in-time RNN and concatenate both outputs.
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
    dtype : str, default 'float32'
        Parameter dtype.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.
    """

    def __init__(self, hidden_size, num_layers=1, activation="relu", layout="TNC", dropout=0,
                 bidirectional=False, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", input_size=0,
                 dtype="float32", **kwargs):
        if activation not in ("relu", "tanh"):
            raise MXValueError("RNN: invalid activation '%s'; must be 'relu' or 'tanh'"
                               % (activation,))
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "rnn_" + activation, None, None, None, None, False,
                         dtype, **kwargs)

    def state_info(self, batch_size=0):
        return [{"shape": (self._num_layers * self._dir, batch_size, self._hidden_size),
                 "__layout__": "LNC", "dtype": self._dtype}]


class LSTM(_RNNLayer):
    """Multi-layer LSTM (gates i, f, c, o); states [h, c], each (L * D, N, hidden_size).

    With ``projection_size`` P (LSTMP) the output and the h state are P wide (h = W_h2r (o * tanh(c)));
    ``state_clip_min``/``state_clip_max`` clip the cell state as MXNet's GPU kernel does.

    Runs the fused ``RNN`` operator of the core over a whole sequence (forward and backward), with MXNet's parameter names ``l0_i2h_weight``, ...

    Parameters
    ----------
    hidden_size : int
        Number of hidden units.
    num_layers : int, default 1
        Number of stacked layers.
    layout : {'TNC', 'NTC'}, default 'TNC'
        Layout of the input and output: time, batch, channel (or batch first).
    dropout : float, default 0
        Dropout rate between layers (not after the last).
    bidirectional : bool, default False
        Also run a backward-in-time RNN and concatenate both outputs.
    input_size : int, default 0
        Input feature size; 0 infers it at the first forward.
    i2h_weight_initializer : Initializer, default None
        Initializer of the input-to-hidden weights.
    h2h_weight_initializer : Initializer, default None
        Initializer of the hidden-to-hidden weights.
    i2h_bias_initializer : str or Initializer, default 'zeros'
        Initializer of the input-to-hidden bias.
    h2h_bias_initializer : str or Initializer, default 'zeros'
        Initializer of the hidden-to-hidden bias.
    projection_size : int, default None
        Size of the projection of the hidden state (``l0_h2r_weight`` (P, hidden_size)); None: none.
    h2r_weight_initializer : Initializer, default None
        Initializer of the projection weights.
    state_clip_min : float, default None
        Lower clip of the cell state (None: no clipping).
    state_clip_max : float, default None
        Upper clip of the cell state (None: no clipping).
    state_clip_nan : bool, default False
        Clip NaN cell states too.
    dtype : str, default 'float32'
        Parameter dtype.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.

    Example
    -------
    >>> layer = mx.gluon.rnn.LSTM(8, num_layers=2)
    >>> layer.initialize()
    >>> x = mx.nd.ones((5, 3, 4))            # (time, batch, features), layout 'TNC'
    >>> out, (h, c) = layer(x, layer.begin_state(batch_size=3))
    >>> out.shape, h.shape, c.shape
    ((5, 3, 8), (2, 3, 8), (2, 3, 8))
    """

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False,
                 input_size=0, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros",
                 projection_size=None, h2r_weight_initializer=None, state_clip_min=None,
                 state_clip_max=None, state_clip_nan=False, dtype="float32", **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "lstm", projection_size, h2r_weight_initializer,
                         state_clip_min, state_clip_max, state_clip_nan, dtype, **kwargs)

    def state_info(self, batch_size=0):
        shape = (self._num_layers * self._dir, batch_size, self._hidden_size)
        hshape = (shape[0], batch_size, self._projection_size or self._hidden_size)
        return [{"shape": hshape, "__layout__": "LNC", "dtype": self._dtype},
                {"shape": shape, "__layout__": "LNC", "dtype": self._dtype}]


class GRU(_RNNLayer):
    """Multi-layer GRU (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))).

    Runs the fused ``RNN`` operator of the core over a whole sequence (forward and backward), with MXNet's parameter names ``l0_i2h_weight``, ...

    Parameters
    ----------
    hidden_size : int
        Number of hidden units.
    num_layers : int, default 1
        Number of stacked layers.
    layout : {'TNC', 'NTC'}, default 'TNC'
        Layout of the input and output: time, batch, channel (or batch first).
    dropout : float, default 0
        Dropout rate between layers (not after the last).
    bidirectional : bool, default False
        Also run a backward-in-time RNN and concatenate both outputs.
    input_size : int, default 0
        Input feature size; 0 infers it at the first forward.
    i2h_weight_initializer : Initializer, default None
        Initializer of the input-to-hidden weights.
    h2h_weight_initializer : Initializer, default None
        Initializer of the hidden-to-hidden weights.
    i2h_bias_initializer : str or Initializer, default 'zeros'
        Initializer of the input-to-hidden bias.
    h2h_bias_initializer : str or Initializer, default 'zeros'
        Initializer of the hidden-to-hidden bias.
    dtype : str, default 'float32'
        Parameter dtype.
    **kwargs
        ``prefix``/``params`` of :class:`HybridBlock`.
    """

    def __init__(self, hidden_size, num_layers=1, layout="TNC", dropout=0, bidirectional=False,
                 input_size=0, i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer="zeros", h2h_bias_initializer="zeros", dtype="float32",
                 **kwargs):
        super().__init__(hidden_size, num_layers, layout, dropout, bidirectional, input_size,
                         i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                         h2h_bias_initializer, "gru", None, None, None, None, False, dtype,
                         **kwargs)

    def state_info(self, batch_size=0):
        return [{"shape": (self._num_layers * self._dir, batch_size, self._hidden_size),
                 "__layout__": "LNC", "dtype": self._dtype}]
