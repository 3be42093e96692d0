"""Gluon's convolutional recurrent cells: the gates of RNN/LSTM/GRU cells computed by
convolutions (input-to-hidden with the given kernel/padding/dilation, hidden-to-hidden with
'same' padding), so inputs and states are feature maps (channel-first layouts)."""
from ....base import MXValueError
from ...rnn.rnn_cell import HybridRecurrentCell, _activate, _nm

_LAYOUTS = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


def _tuple(value, dims, what):
    t = (value,) * dims if isinstance(value, int) else tuple(value)
    if len(t) != dims:
        raise MXValueError("%s must have %d values, got %s" % (what, dims, value))
    return t


class _ConvCell(HybridRecurrentCell):
    _num_gates = 1
    _num_states = 1

    def __init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad, i2h_dilate,
                 h2h_dilate, i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                 h2h_bias_initializer, dims, conv_layout, activation, prefix, params):
        super().__init__(prefix=prefix, params=params)
        if conv_layout != _LAYOUTS[dims]:
            raise MXValueError("%s: conv_layout must be '%s' (MX convolutions are channel-first), got %r"
                               % (self.__class__.__name__, _LAYOUTS[dims], conv_layout))
        input_shape = tuple(input_shape)
        if len(input_shape) != dims + 1:
            raise MXValueError("%s: input_shape is (channels, %d spatial sizes), got %s"
                               % (self.__class__.__name__, dims, input_shape))
        self._i2h_kernel = _tuple(i2h_kernel, dims, "i2h_kernel")
        self._h2h_kernel = _tuple(h2h_kernel, dims, "h2h_kernel")
        if any(k % 2 == 0 for k in self._h2h_kernel):
            raise MXValueError("%s: h2h_kernel must be odd (the state keeps its size), got %s"
                               % (self.__class__.__name__, self._h2h_kernel))
        self._i2h_pad = _tuple(i2h_pad, dims, "i2h_pad")
        self._i2h_dilate = _tuple(i2h_dilate, dims, "i2h_dilate")
        self._h2h_dilate = _tuple(h2h_dilate, dims, "h2h_dilate")
        self._h2h_pad = tuple(d * (k - 1) // 2 for k, d in zip(self._h2h_kernel, self._h2h_dilate))
        self._hidden_channels = hidden_channels
        self._input_shape = input_shape
        self._conv_layout = conv_layout
        self._activation = activation
        spatial = tuple(x + 2 * p - d * (k - 1) for x, k, p, d in
                        zip(input_shape[1:], self._i2h_kernel, self._i2h_pad, self._i2h_dilate))
        if any(s <= 0 for s in spatial):
            raise MXValueError("%s: the input-to-hidden convolution leaves no output for input shape %s"
                               % (self.__class__.__name__, input_shape))
        self._state_shape = (hidden_channels,) + spatial
        rows = self._num_gates * hidden_channels
        self.i2h_weight = self.params.get("i2h_weight", shape=(rows, input_shape[0]) + self._i2h_kernel,
                                          init=i2h_weight_initializer, allow_deferred_init=True)
        self.h2h_weight = self.params.get("h2h_weight", shape=(rows, hidden_channels) + self._h2h_kernel,
                                          init=h2h_weight_initializer, allow_deferred_init=True)
        self.i2h_bias = self.params.get("i2h_bias", shape=(rows,), init=i2h_bias_initializer,
                                        allow_deferred_init=True)
        self.h2h_bias = self.params.get("h2h_bias", shape=(rows,), init=h2h_bias_initializer,
                                        allow_deferred_init=True)

    def state_info(self, batch_size=0):
        return [{"shape": (batch_size,) + self._state_shape, "__layout__": self._conv_layout}
                for _ in range(self._num_states)]

    def __repr__(self):
        return "%s(%s -> %s, %s)" % (self.__class__.__name__, self._input_shape[0], self._hidden_channels,
                                     self._conv_layout)

    def _convs(self, F, inputs, h, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        rows = self._num_gates * self._hidden_channels
        i2h = F.Convolution(inputs, i2h_weight, i2h_bias, kernel=self._i2h_kernel, pad=self._i2h_pad,
                            dilate=self._i2h_dilate, num_filter=rows, **_nm(F, self, "i2h"))
        h2h = F.Convolution(h, h2h_weight, h2h_bias, kernel=self._h2h_kernel, pad=self._h2h_pad,
                            dilate=self._h2h_dilate, num_filter=rows, **_nm(F, self, "h2h"))
        return i2h, h2h


class _ConvRNN(_ConvCell):
    def _alias(self):
        return "conv_rnn"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._convs(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        out = _activate(F, i2h + h2h, self._activation, **_nm(F, self, "out"))
        return out, [out]


class _ConvLSTM(_ConvCell):
    _num_gates = 4
    _num_states = 2

    def _alias(self):
        return "conv_lstm"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._convs(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        gates = F.SliceChannel(i2h + h2h, num_outputs=4, axis=1, **_nm(F, self, "slice"))
        in_gate, forget_gate, out_gate = (F.sigmoid(gates[i]) for i in (0, 1, 3))
        next_c = forget_gate * states[1] + in_gate * _activate(F, gates[2], self._activation)
        next_h = out_gate * _activate(F, next_c, self._activation)
        return next_h, [next_h, next_c]


class _ConvGRU(_ConvCell):
    _num_gates = 3

    def _alias(self):
        return "conv_gru"

    def hybrid_forward(self, F, inputs, states, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        i2h, h2h = self._convs(F, inputs, states[0], i2h_weight, h2h_weight, i2h_bias, h2h_bias)
        i_r, i_z, i_n = F.SliceChannel(i2h, num_outputs=3, axis=1, **_nm(F, self, "i2h_slice"))
        h_r, h_z, h_n = F.SliceChannel(h2h, num_outputs=3, axis=1, **_nm(F, self, "h2h_slice"))
        reset_gate, update_gate = F.sigmoid(i_r + h_r), F.sigmoid(i_z + h_z)
        candidate = _activate(F, i_n + reset_gate * h_n, self._activation)
        next_h = (1 - update_gate) * candidate + update_gate * states[0]
        return next_h, [next_h]


def _make(base, dims):
    """The public class for `dims` spatial dimensions (MXNet's signature and defaults)."""

    def __init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad=(0,) * dims,
                 i2h_dilate=(1,) * dims, h2h_dilate=(1,) * dims, i2h_weight_initializer=None,
                 h2h_weight_initializer=None, i2h_bias_initializer="zeros", h2h_bias_initializer="zeros",
                 conv_layout=_LAYOUTS[dims], activation="tanh", prefix=None, params=None):
        base.__init__(self, input_shape, hidden_channels, i2h_kernel, h2h_kernel, i2h_pad, i2h_dilate,
                      h2h_dilate, i2h_weight_initializer, h2h_weight_initializer, i2h_bias_initializer,
                      h2h_bias_initializer, dims, conv_layout, activation, prefix, params)

    kind = {"_ConvRNN": "RNN", "_ConvLSTM": "LSTM", "_ConvGRU": "GRU"}[base.__name__]
    name = "Conv%dD%sCell" % (dims, kind)
    doc = ("%d-d convolutional %s cell: input (batch, channels, %s), states of shape (batch, "
           "hidden_channels, output spatial sizes of the input-to-hidden convolution)."
           % (dims, kind, ", ".join("spatial%d" % i for i in range(dims))))
    return type(name, (base,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


Conv1DRNNCell, Conv2DRNNCell, Conv3DRNNCell = (_make(_ConvRNN, d) for d in (1, 2, 3))
Conv1DLSTMCell, Conv2DLSTMCell, Conv3DLSTMCell = (_make(_ConvLSTM, d) for d in (1, 2, 3))
Conv1DGRUCell, Conv2DGRUCell, Conv3DGRUCell = (_make(_ConvGRU, d) for d in (1, 2, 3))
