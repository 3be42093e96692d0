"""MXNet 1.x convolutional recurrent cells (mx.rnn.ConvRNNCell, ConvLSTMCell, ConvGRUCell): the
gates of RNN/LSTM/GRU computed by Convolution ops instead of FullyConnected, so states are
feature maps. The state shape is the shape of the input-to-hidden convolution's output (batch
dimension 0 = unknown), found by the core's shape inference."""
from .. import symbol as _sym
from .. import initializer as _init
from .rnn_cell import BaseRNNCell

__all__ = ["BaseConvRNNCell", "ConvRNNCell", "ConvLSTMCell", "ConvGRUCell"]


class BaseConvRNNCell(BaseRNNCell):
    """Shared parts: convolution settings, state shape, parameters and the two convolutions."""

    def __init__(self, input_shape, num_hidden, h2h_kernel, h2h_dilate, i2h_kernel, i2h_stride,
                 i2h_pad, i2h_dilate, i2h_weight_initializer, h2h_weight_initializer,
                 i2h_bias_initializer, h2h_bias_initializer, activation, prefix="", params=None,
                 conv_layout="NCHW"):
        super().__init__(prefix=prefix, params=params)
        h2h_kernel, h2h_dilate = tuple(h2h_kernel), tuple(h2h_dilate)
        if any(k % 2 != 1 for k in h2h_kernel):
            # the hidden-to-hidden convolution must keep the state's size: odd kernels only
            raise ValueError("Only support odd number, get h2h_kernel= %s" % str(h2h_kernel))
        self._h2h_kernel = h2h_kernel
        self._h2h_dilate = h2h_dilate
        self._h2h_pad = tuple(d * (k - 1) // 2 for k, d in zip(h2h_kernel, h2h_dilate))
        self._i2h_kernel = tuple(i2h_kernel)
        self._i2h_stride = tuple(i2h_stride)
        self._i2h_pad = tuple(i2h_pad)
        self._i2h_dilate = tuple(i2h_dilate)
        self._num_hidden = num_hidden
        self._input_shape = tuple(input_shape)
        self._conv_layout = conv_layout
        self._activation = activation
        probe = _sym.Convolution(data=_sym.var("data"), num_filter=num_hidden,
                                 kernel=self._i2h_kernel, stride=self._i2h_stride,
                                 pad=self._i2h_pad, dilate=self._i2h_dilate, layout=conv_layout)
        out_shape = probe.infer_shape(data=self._input_shape)[1][0]
        self._state_shape = (0,) + tuple(out_shape[1:])
        self._iW = self.params.get("i2h_weight", init=i2h_weight_initializer)
        self._hW = self.params.get("h2h_weight", init=h2h_weight_initializer)
        self._iB = self.params.get("i2h_bias", init=i2h_bias_initializer)
        self._hB = self.params.get("h2h_bias", init=h2h_bias_initializer)

    @property
    def _num_gates(self):
        return len(self._gate_names)

    @property
    def state_info(self):
        return [{"shape": self._state_shape, "__layout__": self._conv_layout},
                {"shape": self._state_shape, "__layout__": self._conv_layout}]

    def _conv_forward(self, inputs, states, name):
        nf = self._num_hidden * self._num_gates
        i2h = _sym.Convolution(name="%si2h" % name, data=inputs, num_filter=nf,
                               kernel=self._i2h_kernel, stride=self._i2h_stride,
                               pad=self._i2h_pad, dilate=self._i2h_dilate,
                               weight=self._iW, bias=self._iB, layout=self._conv_layout)
        h2h = _sym.Convolution(name="%sh2h" % name, data=states[0], num_filter=nf,
                               kernel=self._h2h_kernel, dilate=self._h2h_dilate,
                               pad=self._h2h_pad, stride=(1,) * len(self._h2h_kernel),
                               weight=self._hW, bias=self._hB, layout=self._conv_layout)
        return i2h, h2h

    def __call__(self, inputs, states):
        raise NotImplementedError("BaseConvRNNCell is abstract class for convolutional RNN")


def _leaky(data, **kwargs):
    return _sym.LeakyReLU(data, act_type="leaky", slope=0.2, **kwargs)


class ConvRNNCell(BaseConvRNNCell):
    """Convolutional Elman cell: out = activation(conv(x) + conv(h)); the default activation is
    LeakyReLU with slope 0.2, as MXNet's."""

    def __init__(self, input_shape, num_hidden, h2h_kernel=(3, 3), h2h_dilate=(1, 1),
                 i2h_kernel=(3, 3), i2h_stride=(1, 1), i2h_pad=(1, 1), i2h_dilate=(1, 1),
                 i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer=None, h2h_bias_initializer=None,
                 activation=_leaky, prefix="ConvRNN_", params=None, conv_layout="NCHW"):
        super().__init__(input_shape, num_hidden, h2h_kernel, h2h_dilate, i2h_kernel, i2h_stride,
                         i2h_pad, i2h_dilate, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, activation, prefix, params,
                         conv_layout)

    @property
    def state_info(self):
        return [{"shape": self._state_shape, "__layout__": self._conv_layout}]

    @property
    def _gate_names(self):
        return ("",)

    def __call__(self, inputs, states):
        self._counter += 1
        name = "%st%d_" % (self._prefix, self._counter)
        i2h, h2h = self._conv_forward(inputs, states, name)
        output = self._get_activation(i2h + h2h, self._activation, name="%sout" % name)
        return output, [output]


class ConvLSTMCell(BaseConvRNNCell):
    """Convolutional LSTM (Shi et al. 2015): gates i, f, c, o from convolutions; the forget
    gate's bias starts at forget_bias."""

    def __init__(self, input_shape, num_hidden, h2h_kernel=(3, 3), h2h_dilate=(1, 1),
                 i2h_kernel=(3, 3), i2h_stride=(1, 1), i2h_pad=(1, 1), i2h_dilate=(1, 1),
                 i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer=None, h2h_bias_initializer=None,
                 activation="tanh", prefix="ConvLSTM_", params=None, forget_bias=1.0,
                 conv_layout="NCHW"):
        if i2h_bias_initializer is None:
            i2h_bias_initializer = _init.LSTMBias(forget_bias=forget_bias)
        super().__init__(input_shape, num_hidden, h2h_kernel, h2h_dilate, i2h_kernel, i2h_stride,
                         i2h_pad, i2h_dilate, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, activation, prefix, params,
                         conv_layout)

    @property
    def _gate_names(self):
        return ["_i", "_f", "_c", "_o"]

    def __call__(self, inputs, states):
        self._counter += 1
        name = "%st%d_" % (self._prefix, self._counter)
        i2h, h2h = self._conv_forward(inputs, states, name)
        gates = i2h + h2h
        sl = _sym.SliceChannel(gates, num_outputs=4, axis=self._conv_layout.find("C"),
                               name="%sslice" % name)
        in_gate = _sym.Activation(sl[0], act_type="sigmoid", name="%si" % name)
        forget_gate = _sym.Activation(sl[1], act_type="sigmoid", name="%sf" % name)
        in_transform = self._get_activation(sl[2], self._activation, name="%sc" % name)
        out_gate = _sym.Activation(sl[3], act_type="sigmoid", name="%so" % name)
        next_c = _sym.elemwise_add(forget_gate * states[1], in_gate * in_transform,
                                   name="%sstate" % name)
        next_h = _sym.elemwise_mul(out_gate, self._get_activation(next_c, self._activation),
                                   name="%sout" % name)
        return next_h, [next_h, next_c]


class ConvGRUCell(BaseConvRNNCell):
    """Convolutional GRU: reset and update gates and the candidate from convolutions."""

    def __init__(self, input_shape, num_hidden, h2h_kernel=(3, 3), h2h_dilate=(1, 1),
                 i2h_kernel=(3, 3), i2h_stride=(1, 1), i2h_pad=(1, 1), i2h_dilate=(1, 1),
                 i2h_weight_initializer=None, h2h_weight_initializer=None,
                 i2h_bias_initializer=None, h2h_bias_initializer=None,
                 activation="tanh", prefix="ConvGRU_", params=None, conv_layout="NCHW"):
        super().__init__(input_shape, num_hidden, h2h_kernel, h2h_dilate, i2h_kernel, i2h_stride,
                         i2h_pad, i2h_dilate, i2h_weight_initializer, h2h_weight_initializer,
                         i2h_bias_initializer, h2h_bias_initializer, activation, prefix, params,
                         conv_layout)

    @property
    def state_info(self):
        return [{"shape": self._state_shape, "__layout__": self._conv_layout}]

    @property
    def _gate_names(self):
        return ["_r", "_z", "_o"]

    def __call__(self, inputs, states):
        self._counter += 1
        name = "%st%d_" % (self._prefix, self._counter)
        i2h, h2h = self._conv_forward(inputs, states, name)
        axis = self._conv_layout.find("C")
        i_r, i_z, i_n = list(_sym.SliceChannel(i2h, num_outputs=3, axis=axis, name="%s_i2h_slice" % name))
        h_r, h_z, h_n = list(_sym.SliceChannel(h2h, num_outputs=3, axis=axis, name="%s_h2h_slice" % name))
        reset_gate = _sym.Activation(i_r + h_r, act_type="sigmoid", name="%s_r_act" % name)
        update_gate = _sym.Activation(i_z + h_z, act_type="sigmoid", name="%s_z_act" % name)
        cand = self._get_activation(i_n + reset_gate * h_n, self._activation, name="%s_h_act" % name)
        next_h = _sym.elemwise_add((1.0 - update_gate) * cand, update_gate * states[0],
                                   name="%sout" % name)
        return next_h, [next_h]
