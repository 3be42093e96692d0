"""Deformable convolution layers (MXNet 1.x ``gluon.contrib.cnn``): a plain convolution predicts the
offsets (and, for the modulated v2 layer, the masks) from the input, and the core's deformable
convolution operator uses them. Parameter names, shapes and defaults follow MXNet 1.9.1
(``offset_weight``/``offset_bias`` initialised to zeros, ``deformable_conv_weight``/``_bias``)."""
from ...block import HybridBlock
from ...nn import Activation

_INT = (int,)


def _pair(v, n):
    return (v,) * n if isinstance(v, _INT) else tuple(v)


class _DeformableBase(HybridBlock):
    _offset_factor = 2  # offset channels per tap and deformable group (v2: 3, the last third masks)

    def __init__(self, channels, kernel_size=(1, 1), strides=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1,
                 num_deformable_group=1, layout="NCHW", use_bias=True, in_channels=0, activation=None,
                 weight_initializer=None, bias_initializer="zeros", offset_weight_initializer="zeros",
                 offset_bias_initializer="zeros", offset_use_bias=True, op_name=None, adj=None, prefix=None,
                 params=None):
        super().__init__(prefix=prefix, params=params)
        if layout != "NCHW":
            raise ValueError("%s: only layout 'NCHW' is supported, got %r" % (type(self).__name__, layout))
        kernel_size = _pair(kernel_size, 2)
        if len(kernel_size) != 2:
            raise ValueError("%s: kernel_size must be 2-d, got %s" % (type(self).__name__, kernel_size))
        strides, padding, dilation = _pair(strides, 2), _pair(padding, 2), _pair(dilation, 2)
        self._channels, self._in_channels = channels, in_channels
        taps = kernel_size[0] * kernel_size[1] * num_deformable_group
        self.offset_split_index = 2 * taps
        common = dict(kernel=kernel_size, stride=strides, dilate=dilation, pad=padding, num_group=groups,
                      layout=layout)
        self._kwargs_offset = dict(common, num_filter=self._offset_factor * taps, no_bias=not offset_use_bias)
        self._kwargs_deformable_conv = dict(common, num_filter=channels, num_deformable_group=num_deformable_group,
                                            no_bias=not use_bias)
        cin = in_channels // groups if in_channels else 0
        with self.name_scope():
            self.offset_weight = self.params.get("offset_weight", shape=(self._offset_factor * taps, cin) + kernel_size,
                                                 init=offset_weight_initializer, allow_deferred_init=True)
            self.offset_bias = self.params.get("offset_bias", shape=(self._offset_factor * taps,),
                                               init=offset_bias_initializer,
                                               allow_deferred_init=True) if offset_use_bias else None
            self.deformable_conv_weight = self.params.get("deformable_conv_weight", shape=(channels, cin) + kernel_size,
                                                          init=weight_initializer, allow_deferred_init=True)
            self.deformable_conv_bias = self.params.get("deformable_conv_bias", shape=(channels,),
                                                        init=bias_initializer,
                                                        allow_deferred_init=True) if use_bias else None
            self.act = Activation(activation, prefix=activation + "_") if activation else None

    def _offsets(self, F, x, offset_weight, offset_bias):
        args = [x, offset_weight] + ([offset_bias] if offset_bias is not None else [])
        return F.Convolution(*args, **self._kwargs_offset)

    def _finish(self, act):
        return self.act(act) if self.act else act

    def __repr__(self):
        k = self._kwargs_deformable_conv
        return "%s(%s -> %s, kernel_size=%s, stride=%s)" % (type(self).__name__, self._in_channels or None,
                                                             self._channels, k["kernel"], k["stride"])


class DeformableConvolution(_DeformableBase):
    """2-d deformable convolution (v1): offsets = Convolution(x) (2 * kh * kw * num_deformable_group
    channels), output = contrib.DeformableConvolution(x, offsets), then the optional activation.

    Parameters
    ----------
    channels : int
        Output channels.
    kernel_size, strides, padding, dilation : int or tuple of 2
        Convolution geometry (shared by the offset convolution).
    groups : int, default 1
        Convolution groups.
    num_deformable_group : int, default 1
        Groups of input channels sharing one set of offsets.
    layout : str, default 'NCHW'
        Only 'NCHW'.
    use_bias, offset_use_bias : bool, default True
        Biases of the deformable and of the offset convolution.
    in_channels : int, default 0
        Input channels (0: inferred at the first call).
    activation : str, default None
        Activation after the convolution.
    weight_initializer, bias_initializer, offset_weight_initializer, offset_bias_initializer
        Initializers (the offset convolution starts at zero: a plain convolution).
    op_name, adj
        Accepted for MXNet compatibility.
    """

    def hybrid_forward(self, F, x, offset_weight, deformable_conv_weight, offset_bias=None, deformable_conv_bias=None):
        offset = self._offsets(F, x, offset_weight, offset_bias)
        args = [x, offset, deformable_conv_weight] + ([deformable_conv_bias] if deformable_conv_bias is not None else [])
        return self._finish(F.contrib.DeformableConvolution(*args, **self._kwargs_deformable_conv))


class ModulatedDeformableConvolution(_DeformableBase):
    """2-d modulated deformable convolution (DCNv2): Convolution(x) gives 3 * kh * kw *
    num_deformable_group channels, the first two thirds offsets, the last third masks
    (2 * sigmoid(.)), fed to contrib.ModulatedDeformableConvolution; then the optional activation.
    Parameters as :class:`DeformableConvolution`."""
    _offset_factor = 3

    def hybrid_forward(self, F, x, offset_weight, deformable_conv_weight, offset_bias=None, deformable_conv_bias=None):
        offset = self._offsets(F, x, offset_weight, offset_bias)
        offset_t = F.slice_axis(offset, axis=1, begin=0, end=self.offset_split_index)
        mask = F.sigmoid(F.slice_axis(offset, axis=1, begin=self.offset_split_index, end=None)) * 2
        args = [x, offset_t, mask, deformable_conv_weight]
        if deformable_conv_bias is not None:
            args.append(deformable_conv_bias)
        return self._finish(F.contrib.ModulatedDeformableConvolution(*args, **self._kwargs_deformable_conv))
