"""MXNet 1.x symbolic recurrent cells (mx.rnn): each cell builds one time step from registered
ops (FullyConnected, SliceChannel, Activation, RNN for the fused cell); `unroll` builds a
sequence. Parameter and node names follow MXNet 1.x ('<prefix>i2h_weight', '<prefix>t0_out').

Begin states of an unroll without `begin_state` are zeros shaped from the input's batch
dimension, so shape inference needs only the data shapes (MXNet used zeros of unknown batch)."""
from .. import symbol as _sym
from .. import initializer as _init
from ..symbol import Symbol

__all__ = ["RNNParams", "BaseRNNCell", "RNNCell", "LSTMCell", "GRUCell", "FusedRNNCell",
           "SequentialRNNCell", "DropoutCell", "ModifierCell", "ZoneoutCell", "ResidualCell",
           "BidirectionalCell"]


class RNNParams:
    """Shared weights of cells: get(name) returns the variable '<prefix><name>'."""

    def __init__(self, prefix=""):
        self._prefix = prefix
        self._params = {}

    def get(self, name, **kwargs):
        name = self._prefix + name
        if name not in self._params:
            self._params[name] = _sym.var(name, **kwargs)
        return self._params[name]


def _normalize_sequence(length, inputs, layout, merge, in_layout=None):
    """Inputs as a list of steps (merge False), one tensor in `layout` (True) or as given (None).
    Returns (inputs, time axis)."""
    if inputs is None:
        raise ValueError("unroll(inputs=None) is not supported; pass the input sequence")
    axis = layout.find("T")
    in_axis = in_layout.find("T") if in_layout is not None else axis
    if isinstance(inputs, Symbol):
        if merge is False:
            if len(inputs.list_outputs()) != 1:
                raise ValueError("unroll: pass one Symbol or a list of Symbols as inputs")
            inputs = list(_sym.split(inputs, axis=in_axis, num_outputs=length, squeeze_axis=1))
    else:
        inputs = list(inputs)
        if length is not None and len(inputs) != length:
            raise ValueError("unroll: length is %d but %d input steps were given" % (length, len(inputs)))
        if merge is True:
            inputs = _sym.Concat(*[_sym.expand_dims(i, axis=axis) for i in inputs], dim=axis)
            in_axis = axis
    if isinstance(inputs, Symbol) and axis != in_axis:
        inputs = _sym.swapaxes(inputs, dim1=axis, dim2=in_axis)
    return inputs, axis


def _zeros_from(step, shape, batch_axis=0):
    """Zeros of `shape` (batch dimension 0 = unknown) whose batch size is the one of `step`."""
    one = _sym.slice_axis(_sym.flatten(step), axis=1, begin=0, end=1)            # (N, 1)
    z = _sym.zeros_like(one)
    ndim = len(shape)
    z = _sym.reshape(z, shape=(0,) + (1,) * (ndim - 1))                             # (N, 1, ..., 1)
    if ndim > 1:
        z = _sym.broadcast_axis(z, axis=tuple(range(1, ndim)), size=tuple(int(d) for d in shape[1:]))
    if batch_axis != 0:
        z = _sym.swapaxes(z, dim1=0, dim2=batch_axis)
    return z


class BaseRNNCell:
    """Abstract cell: __call__(inputs, states) -> (output, new_states)."""

    def __init__(self, prefix="", params=None):
        if params is None:
            params = RNNParams(prefix)
            self._own_params = True
        else:
            self._own_params = False
        self._prefix = prefix
        self._params = params
        self._modified = False
        self.reset()

    def reset(self):
        self._init_counter = -1
        self._counter = -1
        for cell in getattr(self, "_cells", []):
            cell.reset()

    def __call__(self, inputs, states):
        raise NotImplementedError()

    @property
    def params(self):
        self._own_params = False
        return self._params

    @property
    def state_info(self):
        raise NotImplementedError()

    @property
    def state_shape(self):
        return [ele["shape"] for ele in self.state_info]

    @property
    def _gate_names(self):
        return ()

    def begin_state(self, func=None, **kwargs):
        """One symbol per state from func (default: zeros of the state's shape, whose batch
        dimension 0 must then be known from elsewhere; unroll without begin_state avoids that)."""
        if self._modified:
            raise RuntimeError("After applying a modifier cell the base cell cannot be called directly; "
                               "call the modifier cell instead")
        func = func or zeros
        states = []
        for info in self.state_info:
            self._init_counter += 1
            kw = dict(kwargs)
            if info is not None:
                kw.update(info)
            kw.pop("__layout__", None)
            states.append(func(name="%sbegin_state_%d" % (self._prefix, self._init_counter), **kw))
        return states

    def _zero_states(self, step):
        return [_zeros_from(step, info["shape"], info.get("__layout__", "NC").find("N"))
                for info in self.state_info]

    def unpack_weights(self, args):
        """Split fused gate weights ('<prefix>i2h_weight') into one per gate."""
        args = args.copy()
        if not self._gate_names:
            return args
        h = self._num_hidden
        for group in ("i2h", "h2h"):
            weight = args.pop("%s%s_weight" % (self._prefix, group))
            bias = args.pop("%s%s_bias" % (self._prefix, group))
            for j, gate in enumerate(self._gate_names):
                args["%s%s%s_weight" % (self._prefix, group, gate)] = weight[j * h:(j + 1) * h].copy()
                args["%s%s%s_bias" % (self._prefix, group, gate)] = bias[j * h:(j + 1) * h].copy()
        return args

    def pack_weights(self, args):
        """Inverse of unpack_weights."""
        from .. import ndarray as nd
        args = args.copy()
        if not self._gate_names:
            return args
        for group in ("i2h", "h2h"):
            ws = [args.pop("%s%s%s_weight" % (self._prefix, group, g)) for g in self._gate_names]
            bs = [args.pop("%s%s%s_bias" % (self._prefix, group, g)) for g in self._gate_names]
            args["%s%s_weight" % (self._prefix, group)] = nd.concat(*ws, dim=0)
            args["%s%s_bias" % (self._prefix, group)] = nd.concat(*bs, dim=0)
        return args

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        """Run the cell over `length` steps; returns (outputs, states)."""
        self.reset()
        inputs, _ = _normalize_sequence(length, inputs, layout, False)
        states = begin_state if begin_state is not None else self._zero_states(inputs[0])
        outputs = []
        for i in range(length):
            output, states = self(inputs[i], states)
            outputs.append(output)
        outputs, _ = _normalize_sequence(length, outputs, layout, merge_outputs)
        return outputs, states

    def _get_activation(self, inputs, activation, **kwargs):
        if isinstance(activation, str):
            return _sym.Activation(inputs, act_type=activation, **kwargs)
        return activation(inputs, **kwargs)


def zeros(shape, dtype=None, name=None, **kwargs):
    """Symbol of zeros (mx.sym.zeros)."""
    kw = {"shape": tuple(int(d) for d in shape)}
    if dtype is not None:
        kw["dtype"] = dtype
    return _sym._internal._zeros(name=name, **kw)


class RNNCell(BaseRNNCell):
    """Elman cell: out = activation(W x + b + U h + c)."""

    def __init__(self, num_hidden, activation="tanh", prefix="rnn_", params=None):
        super().__init__(prefix=prefix, params=params)
        self._num_hidden = num_hidden
        self._activation = activation
        self._iW = self.params.get("i2h_weight")
        self._iB = self.params.get("i2h_bias")
        self._hW = self.params.get("h2h_weight")
        self._hB = self.params.get("h2h_bias")

    @property
    def state_info(self):
        return [{"shape": (0, self._num_hidden), "__layout__": "NC"}]

    @property
    def _gate_names(self):
        return ("",)

    def __call__(self, inputs, states):
        self._counter += 1
        name = "%st%d_" % (self._prefix, self._counter)
        i2h = _sym.FullyConnected(data=inputs, weight=self._iW, bias=self._iB, num_hidden=self._num_hidden,
                                  name="%si2h" % name)
        h2h = _sym.FullyConnected(data=states[0], weight=self._hW, bias=self._hB, num_hidden=self._num_hidden,
                                  name="%sh2h" % name)
        output = self._get_activation(i2h + h2h, self._activation, name="%sout" % name)
        return output, [output]


class LSTMCell(BaseRNNCell):
    """LSTM (gates i, f, c, o); the forget gate's bias starts at forget_bias."""

    def __init__(self, num_hidden, prefix="lstm_", params=None, forget_bias=1.0):
        super().__init__(prefix=prefix, params=params)
        self._num_hidden = num_hidden
        self._iW = self.params.get("i2h_weight")
        self._hW = self.params.get("h2h_weight")
        self._iB = self.params.get("i2h_bias", init=_init.LSTMBias(forget_bias=forget_bias))
        self._hB = self.params.get("h2h_bias")

    @property
    def state_info(self):
        return [{"shape": (0, self._num_hidden), "__layout__": "NC"},
                {"shape": (0, self._num_hidden), "__layout__": "NC"}]

    @property
    def _gate_names(self):
        return ["_i", "_f", "_c", "_o"]

    def __call__(self, inputs, states):
        self._counter += 1
        name = "%st%d_" % (self._prefix, self._counter)
        h = self._num_hidden
        i2h = _sym.FullyConnected(data=inputs, weight=self._iW, bias=self._iB, num_hidden=h * 4,
                                  name="%si2h" % name)
        h2h = _sym.FullyConnected(data=states[0], weight=self._hW, bias=self._hB, num_hidden=h * 4,
                                  name="%sh2h" % name)
        gates = _sym.elemwise_add(i2h, h2h, name="%splus0" % name)
        sl = _sym.SliceChannel(gates, num_outputs=4, name="%sslice" % name)
        in_gate = _sym.Activation(sl[0], act_type="sigmoid", name="%si" % name)
        forget_gate = _sym.Activation(sl[1], act_type="sigmoid", name="%sf" % name)
        in_transform = _sym.Activation(sl[2], act_type="tanh", name="%sc" % name)
        out_gate = _sym.Activation(sl[3], act_type="sigmoid", name="%so" % name)
        next_c = _sym.elemwise_add(forget_gate * states[1], in_gate * in_transform, name="%sstate" % name)
        next_h = _sym.elemwise_mul(out_gate, _sym.Activation(next_c, act_type="tanh"), name="%sout" % name)
        return next_h, [next_h, next_c]


class GRUCell(BaseRNNCell):
    """GRU (gates r, z, n as MXNet's)."""

    def __init__(self, num_hidden, prefix="gru_", params=None):
        super().__init__(prefix=prefix, params=params)
        self._num_hidden = num_hidden
        self._iW = self.params.get("i2h_weight")
        self._iB = self.params.get("i2h_bias")
        self._hW = self.params.get("h2h_weight")
        self._hB = self.params.get("h2h_bias")

    @property
    def state_info(self):
        return [{"shape": (0, self._num_hidden), "__layout__": "NC"}]

    @property
    def _gate_names(self):
        return ["_r", "_z", "_o"]

    def __call__(self, inputs, states):
        self._counter += 1
        name = "%st%d_" % (self._prefix, self._counter)
        h = self._num_hidden
        prev = states[0]
        i2h = _sym.FullyConnected(data=inputs, weight=self._iW, bias=self._iB, num_hidden=h * 3,
                                  name="%s_i2h" % name)
        h2h = _sym.FullyConnected(data=prev, weight=self._hW, bias=self._hB, num_hidden=h * 3,
                                  name="%s_h2h" % name)
        i_r, i_z, i_n = list(_sym.SliceChannel(i2h, num_outputs=3, name="%s_i2h_slice" % name))
        h_r, h_z, h_n = list(_sym.SliceChannel(h2h, num_outputs=3, name="%s_h2h_slice" % name))
        reset_gate = _sym.Activation(i_r + h_r, act_type="sigmoid", name="%s_r_act" % name)
        update_gate = _sym.Activation(i_z + h_z, act_type="sigmoid", name="%s_z_act" % name)
        cand = _sym.Activation(i_n + reset_gate * h_n, act_type="tanh", name="%s_h_act" % name)
        next_h = _sym.elemwise_add((1.0 - update_gate) * cand, update_gate * prev, name="%sout" % name)
        return next_h, [next_h]


class FusedRNNCell(BaseRNNCell):
    """Several layers run by the fused RNN op (packed 'parameters'); unfuse() gives the
    equivalent stack of single-step cells."""

    def __init__(self, num_hidden, num_layers=1, mode="lstm", bidirectional=False, dropout=0.,
                 get_next_state=False, forget_bias=1.0, prefix=None, params=None):
        if prefix is None:
            prefix = "%s_" % mode
        super().__init__(prefix=prefix, params=params)
        self._num_hidden = num_hidden
        self._num_layers = num_layers
        self._mode = mode
        self._bidirectional = bidirectional
        self._dropout = dropout
        self._get_next_state = get_next_state
        self._directions = ["l", "r"] if bidirectional else ["l"]
        self._forget_bias = forget_bias
        from .. import initializer
        self._parameter = self.params.get("parameters", init=initializer.FusedRNN(
            None, num_hidden, num_layers, mode, bidirectional, forget_bias))

    @property
    def _gate_names(self):
        return {"rnn_relu": [""], "rnn_tanh": [""], "lstm": ["_i", "_f", "_c", "_o"],
                "gru": ["_r", "_z", "_o"]}[self._mode]

    def _weight_views(self, arr, num_input):
        """Name -> view of the packed vector, in the RNN op's layout: every weight (per layer, per
        direction: the i2h gates, then the h2h gates), then every bias in the same order."""
        h, b = self._num_hidden, len(self._directions)
        views, pos = {}, 0

        def take(name, shape):
            nonlocal pos
            n = 1
            for d in shape:
                n *= d
            views[name] = arr[pos:pos + n].reshape(shape)
            pos += n

        for kind in ("weight", "bias"):
            for layer in range(self._num_layers):
                cols = num_input if layer == 0 else b * h
                for d in self._directions:
                    for group, width in (("i2h", cols), ("h2h", h)):
                        for g in self._gate_names:
                            take("%s%s%d_%s%s_%s" % (self._prefix, d, layer, group, g, kind),
                                 (h, width) if kind == "weight" else (h,))
        if pos != arr.size:
            raise ValueError("FusedRNNCell: 'parameters' has %d elements, expected %d for this configuration"
                             % (arr.size, pos))
        return views

    def _num_input(self, size):
        # size = g*h*b*(I + h + 2) + (L-1)*g*h*b*(b*h + h + 2), solved for the input width I
        g, h, b, L = len(self._gate_names), self._num_hidden, len(self._directions), self._num_layers
        return size // (g * h * b) - (L - 1) * (b * h + h + 2) - h - 2

    def unpack_weights(self, args):
        """Split the packed 'parameters' into per-layer, per-direction, per-gate weights and biases."""
        args = args.copy()
        arr = args.pop(self._parameter.name)
        for name, view in self._weight_views(arr, self._num_input(arr.size)).items():
            args[name] = view.copy()
        return args

    def pack_weights(self, args):
        """Inverse of unpack_weights."""
        from .. import ndarray as nd
        args = args.copy()
        w0 = args["%sl0_i2h%s_weight" % (self._prefix, self._gate_names[0])]
        num_input = w0.shape[1]
        g, h, b, L = len(self._gate_names), self._num_hidden, len(self._directions), self._num_layers
        total = g * h * b * (num_input + h + 2) + (L - 1) * g * h * b * (b * h + h + 2)
        arr = nd.zeros((total,), ctx=w0.context, dtype=w0.dtype)
        for name, view in self._weight_views(arr, num_input).items():
            view[:] = args.pop(name)
        args[self._parameter.name] = arr
        return args

    @property
    def state_info(self):
        b = self._bidirectional + 1
        n = (self._mode == "lstm") + 1
        return [{"shape": (b * self._num_layers, 0, self._num_hidden), "__layout__": "LNC"} for _ in range(n)]

    def __call__(self, inputs, states):
        raise NotImplementedError("FusedRNNCell cannot be stepped; use unroll")

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        inputs, axis = _normalize_sequence(length, inputs, layout, True)
        if axis == 1:
            inputs = _sym.swapaxes(inputs, dim1=0, dim2=1)  # the RNN op reads TNC
        if begin_state is None:
            step = _sym.slice_axis(inputs, axis=0, begin=0, end=1).reshape((-3, -2))
            layers = self.state_info[0]["shape"][0]
            # zeros (N, layers, H) from the first step's batch, then (layers, N, H)
            begin_state = [_sym.swapaxes(_zeros_from(step, (0, layers, self._num_hidden)), dim1=0, dim2=1)
                           for _ in self.state_info]
        states = {"state": begin_state[0]}
        if self._mode == "lstm":
            states["state_cell"] = begin_state[1]
        rnn = _sym.RNN(data=inputs, parameters=self._parameter, state_size=self._num_hidden,
                       num_layers=self._num_layers, bidirectional=self._bidirectional, p=self._dropout,
                       state_outputs=self._get_next_state, mode=self._mode, name=self._prefix + "rnn", **states)
        if not self._get_next_state:
            outputs, states = rnn, []
        elif self._mode == "lstm":
            outputs, states = rnn[0], [rnn[1], rnn[2]]
        else:
            outputs, states = rnn[0], [rnn[1]]
        if axis == 1:
            outputs = _sym.swapaxes(outputs, dim1=0, dim2=1)
        outputs, _ = _normalize_sequence(length, outputs, layout, merge_outputs)
        return outputs, states

    def unfuse(self):
        """The same network as a SequentialRNNCell of single-step cells."""
        stack = SequentialRNNCell()
        make = {"rnn_relu": lambda p: RNNCell(self._num_hidden, activation="relu", prefix=p),
                "rnn_tanh": lambda p: RNNCell(self._num_hidden, activation="tanh", prefix=p),
                "lstm": lambda p: LSTMCell(self._num_hidden, prefix=p, forget_bias=self._forget_bias),
                "gru": lambda p: GRUCell(self._num_hidden, prefix=p)}[self._mode]
        for i in range(self._num_layers):
            if self._bidirectional:
                stack.add(BidirectionalCell(make("%sl%d_" % (self._prefix, i)), make("%sr%d_" % (self._prefix, i)),
                                            output_prefix="%sbi_l%d_" % (self._prefix, i)))
            else:
                stack.add(make("%sl%d_" % (self._prefix, i)))
            if self._dropout > 0 and i != self._num_layers - 1:
                stack.add(DropoutCell(self._dropout, prefix="%s_dropout%d_" % (self._prefix, i)))
        return stack


class SequentialRNNCell(BaseRNNCell):
    """Cells stacked: each cell's output is the next one's input."""

    def __init__(self, params=None):
        super().__init__(prefix="", params=params)
        self._override_cell_params = params is not None
        self._cells = []

    def add(self, cell):
        self._cells.append(cell)
        if self._override_cell_params:
            cell.params._params.update(self.params._params)
        self.params._params.update(cell.params._params)

    @property
    def state_info(self):
        return [i for c in self._cells for i in c.state_info]

    def begin_state(self, **kwargs):
        return [s for c in self._cells for s in c.begin_state(**kwargs)]

    def _zero_states(self, step):
        return [s for c in self._cells for s in c._zero_states(step)]

    def unpack_weights(self, args):
        for cell in self._cells:
            args = cell.unpack_weights(args)
        return args

    def pack_weights(self, args):
        for cell in self._cells:
            args = cell.pack_weights(args)
        return args

    def __call__(self, inputs, states):
        self._counter += 1
        next_states = []
        p = 0
        for cell in self._cells:
            n = len(cell.state_info)
            inputs, st = cell(inputs, states[p:p + n])
            p += n
            next_states.extend(st)
        return inputs, next_states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        num_cells = len(self._cells)
        p = 0
        next_states = []
        for i, cell in enumerate(self._cells):
            n = len(cell.state_info)
            states = begin_state[p:p + n] if begin_state is not None else None
            p += n
            inputs, states = cell.unroll(length, inputs=inputs, begin_state=states, layout=layout,
                                         merge_outputs=None if i < num_cells - 1 else merge_outputs)
            next_states.extend(states)
        return inputs, next_states


class DropoutCell(BaseRNNCell):
    """Dropout on each step's input; no state."""

    def __init__(self, dropout, prefix="dropout_", params=None):
        super().__init__(prefix, params)
        self.dropout = dropout

    @property
    def state_info(self):
        return []

    def __call__(self, inputs, states):
        if self.dropout > 0:
            inputs = _sym.Dropout(data=inputs, p=self.dropout)
        return inputs, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        inputs, _ = _normalize_sequence(length, inputs, layout, merge_outputs)
        if isinstance(inputs, Symbol):
            return self(inputs, [])
        return super().unroll(length, inputs, begin_state=begin_state, layout=layout,
                              merge_outputs=merge_outputs)


class ModifierCell(BaseRNNCell):
    """Base of cells that wrap another cell (its parameters and states)."""

    def __init__(self, base_cell):
        super().__init__()
        base_cell._modified = True
        self.base_cell = base_cell

    @property
    def params(self):
        self._own_params = False
        return self.base_cell.params

    @property
    def state_info(self):
        return self.base_cell.state_info

    def begin_state(self, init_sym=None, **kwargs):
        self.base_cell._modified = False
        begin = self.base_cell.begin_state(**kwargs)
        self.base_cell._modified = True
        return begin

    def _zero_states(self, step):
        return self.base_cell._zero_states(step)

    def unpack_weights(self, args):
        return self.base_cell.unpack_weights(args)

    def pack_weights(self, args):
        return self.base_cell.pack_weights(args)

    def __call__(self, inputs, states):
        raise NotImplementedError


class ZoneoutCell(ModifierCell):
    """Zoneout: each output/state unit keeps its previous value with probability p (training)."""

    def __init__(self, base_cell, zoneout_outputs=0., zoneout_states=0.):
        if isinstance(base_cell, FusedRNNCell):
            raise TypeError("FusedRNNCell does not support zoneout; unfuse() it first")
        if isinstance(base_cell, BidirectionalCell):
            raise TypeError("BidirectionalCell does not support zoneout; apply it to the inner cells")
        super().__init__(base_cell)
        self.zoneout_outputs = zoneout_outputs
        self.zoneout_states = zoneout_states
        self.prev_output = None

    def reset(self):
        super().reset()
        self.prev_output = None

    def __call__(self, inputs, states):
        cell, p_out, p_st = self.base_cell, self.zoneout_outputs, self.zoneout_states
        next_output, next_states = cell(inputs, states)

        def mask(p, like):
            return _sym.Dropout(_sym.ones_like(like), p=p)
        prev_output = self.prev_output if self.prev_output is not None else _sym.zeros_like(next_output)
        output = _sym.where(mask(p_out, next_output), next_output, prev_output) if p_out != 0. else next_output
        states = [_sym.where(mask(p_st, new), new, old) for new, old in zip(next_states, states)] \
            if p_st != 0. else next_states
        self.prev_output = output
        return output, states


class ResidualCell(ModifierCell):
    """Adds each step's input to the base cell's output."""

    def __call__(self, inputs, states):
        output, states = self.base_cell(inputs, states)
        output = _sym.elemwise_add(output, inputs, name="%s_plus_residual" % output.name)
        return output, states

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        self.base_cell._modified = False
        outputs, states = self.base_cell.unroll(length, inputs=inputs, begin_state=begin_state, layout=layout,
                                                merge_outputs=merge_outputs)
        self.base_cell._modified = True
        merge_outputs = isinstance(outputs, Symbol) if merge_outputs is None else merge_outputs
        inputs, _ = _normalize_sequence(length, inputs, layout, merge_outputs)
        if merge_outputs:
            outputs = _sym.elemwise_add(outputs, inputs, name="%s_plus_residual" % outputs.name)
        else:
            outputs = [_sym.elemwise_add(o, i, name="%s_plus_residual" % o.name) for o, i in zip(outputs, inputs)]
        return outputs, states


class BidirectionalCell(BaseRNNCell):
    """Runs l_cell forward and r_cell backward over the sequence; outputs concatenated."""

    def __init__(self, l_cell, r_cell, params=None, output_prefix="bi_"):
        super().__init__("", params=params)
        self._output_prefix = output_prefix
        self._override_cell_params = params is not None
        if self._override_cell_params:
            l_cell.params._params.update(self.params._params)
            r_cell.params._params.update(self.params._params)
        self.params._params.update(l_cell.params._params)
        self.params._params.update(r_cell.params._params)
        self._cells = [l_cell, r_cell]

    def unpack_weights(self, args):
        for cell in self._cells:
            args = cell.unpack_weights(args)
        return args

    def pack_weights(self, args):
        for cell in self._cells:
            args = cell.pack_weights(args)
        return args

    def __call__(self, inputs, states):
        raise NotImplementedError("BidirectionalCell cannot be stepped; use unroll")

    @property
    def state_info(self):
        return [i for c in self._cells for i in c.state_info]

    def begin_state(self, **kwargs):
        return [s for c in self._cells for s in c.begin_state(**kwargs)]

    def _zero_states(self, step):
        return [s for c in self._cells for s in c._zero_states(step)]

    def unroll(self, length, inputs, begin_state=None, layout="NTC", merge_outputs=None):
        self.reset()
        inputs, axis = _normalize_sequence(length, inputs, layout, False)
        if begin_state is None:
            begin_state = self._zero_states(inputs[0])
        l_cell, r_cell = self._cells
        n = len(l_cell.state_info)
        l_out, l_states = l_cell.unroll(length, inputs=inputs, begin_state=begin_state[:n], layout=layout,
                                        merge_outputs=merge_outputs)
        r_out, r_states = r_cell.unroll(length, inputs=list(reversed(inputs)), begin_state=begin_state[n:],
                                        layout=layout, merge_outputs=merge_outputs)
        if merge_outputs is None:
            merge_outputs = isinstance(l_out, Symbol) and isinstance(r_out, Symbol)
            l_out, _ = _normalize_sequence(None, l_out, layout, merge_outputs)
            r_out, _ = _normalize_sequence(None, r_out, layout, merge_outputs)
        if merge_outputs:
            r_out = _sym.reverse(r_out, axis=axis)
            outputs = _sym.Concat(l_out, r_out, dim=2, name="%sout" % self._output_prefix)
        else:
            outputs = [_sym.Concat(l, r, dim=1, name="%st%d" % (self._output_prefix, i))
                       for i, (l, r) in enumerate(zip(l_out, reversed(r_out)))]
        return outputs, l_states + r_states
