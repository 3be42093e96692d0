"""Convolution and pooling layers (MXNet 1.x ``gluon.nn.conv_layers``)."""
from ..block import HybridBlock
from .._ops import op as _op
from .basic_layers import _name, _first

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
           "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D",
           "GlobalAvgPool2D", "GlobalAvgPool3D", "ReflectionPad2D"]


def _tuple(v, n):
    if isinstance(v, int):
        return (v,) * n
    v = tuple(v)
    if len(v) != n:
        raise ValueError("expected %d values, got %s" % (n, v))
    return v


class _Conv(HybridBlock):
    def __init__(self, channels, kernel_size, strides, padding, dilation, groups, layout,
                 in_channels=0, activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", op_name="Convolution", adj=None, prefix=None, params=None):
        super().__init__(prefix=prefix, params=params)
        with self.name_scope():
            self._channels = channels
            self._in_channels = in_channels
            n = len(kernel_size)
            self._kwargs = {"kernel": kernel_size, "stride": _tuple(strides, n),
                            "dilate": _tuple(dilation, n), "pad": _tuple(padding, n),
                            "num_filter": channels, "num_group": groups, "no_bias": not use_bias,
                            "layout": layout}
            if adj is not None:
                self._kwargs["adj"] = _tuple(adj, n)
            self._op_name = op_name
            if op_name == "Convolution":
                wshape = (channels, in_channels // groups if in_channels else 0) + tuple(kernel_size)
            else:
                wshape = (in_channels, channels // groups) + tuple(kernel_size)
            self.weight = self.params.get("weight", shape=wshape, init=weight_initializer,
                                          allow_deferred_init=True)
            if use_bias:
                self.bias = self.params.get("bias", shape=(channels,), init=bias_initializer,
                                            allow_deferred_init=True)
            else:
                self.bias = None
            if activation is not None:
                from .activations import Activation
                self.act = Activation(activation, prefix=activation + "_")
            else:
                self.act = None

    def hybrid_forward(self, F, x, weight, bias=None):
        fn = _op(F, self._op_name, type(self).__name__)
        if bias is None:
            act = fn(x, weight, **self._kwargs, **_name(F, self))
        else:
            act = fn(x, weight, bias, **self._kwargs, **_name(F, self))
        if self.act is not None:
            act = self.act(act)
        return act

    def _alias(self):
        return "conv"

    def __repr__(self):
        shape = self.weight.shape
        return "%s(%s -> %s, kernel_size=%s, stride=%s)" % (
            type(self).__name__, shape[1] if shape[1] else None, shape[0], self._kwargs["kernel"],
            self._kwargs["stride"])


def _make_conv(nd_, name, layout_default, transpose):
    def __init__(self, channels, kernel_size, strides=1, padding=0, *rest, **kwargs):
        names = (["output_padding"] if transpose else []) + ["dilation", "groups", "layout",
                                                               "activation", "use_bias",
                                                               "weight_initializer",
                                                               "bias_initializer", "in_channels"]
        for k, v in zip(names, rest):
            kwargs[k] = v
        output_padding = kwargs.pop("output_padding", 0)
        dilation = kwargs.pop("dilation", 1)
        groups = kwargs.pop("groups", 1)
        layout = kwargs.pop("layout", layout_default)
        if layout != layout_default:
            raise ValueError("%s: only layout %s is supported, got %s" % (name, layout_default, layout))
        kernel_size = _tuple(kernel_size, nd_)
        _Conv.__init__(self, channels, kernel_size, strides, padding, dilation, groups, layout,
                       op_name="Deconvolution" if transpose else "Convolution",
                       adj=output_padding if transpose else None, **kwargs)
    return type(name, (_Conv,), {"__init__": __init__, "__doc__": _conv_doc(nd_, name, layout_default, transpose)})


_SPATIAL = {1: ("w",), 2: ("h", "w"), 3: ("d", "h", "w")}


def _conv_doc(nd_, name, layout, transpose):
    """The docstring of a generated convolution layer class."""
    dims = ", ".join(_SPATIAL[nd_])
    what = "transposed convolution (deconvolution)" if transpose else "convolution"
    extra = ("output_padding : int or tuple of %d ints, default 0\n"
             "    Extra size added to one side of each output dimension.\n" % nd_) if transpose else ""
    return """%(nd)dD %(what)s layer over ``%(layout)s`` input (the ``%(op)s`` operator).

Input ``(batch, in_channels, %(dims)s)``, output ``(batch, channels, %(dims)s)`` with, per spatial
axis, %(size)s.

Parameters
----------
channels : int
    Number of output channels (filters).
kernel_size : int or tuple of %(nd)d ints
    Size of the kernel along (%(dims)s).
strides : int or tuple of %(nd)d ints, default 1
    Step of the kernel.
padding : int or tuple of %(nd)d ints, default 0
    Zeros implicitly added on both sides of each spatial axis.
%(extra)sdilation : int or tuple of %(nd)d ints, default 1
    Spacing between kernel taps.
groups : int, default 1
    Split input and output channels into this many groups convolved separately.
layout : str, default '%(layout)s'
    Only ``'%(layout)s'`` is supported.
activation : str, optional
    Activation applied to the output (``'relu'``, ``'sigmoid'``, ``'tanh'``, ...).
use_bias : bool, default True
    Add a learned bias per output channel.
weight_initializer, bias_initializer : str or Initializer, optional
    Initializers of the weight (default: the global one) and of the bias (default ``'zeros'``).
in_channels : int, default 0
    Number of input channels; 0 infers it from the first input.

Example
-------
>>> layer = mx.gluon.nn.%(name)s(4, kernel_size=3)
>>> layer.initialize()
>>> layer(mx.nd.ones((2, 3) + (8,) * %(nd)d)).shape
(2, 4%(outshape)s)
""" % {"nd": nd_, "what": what, "layout": layout, "op": "Deconvolution" if transpose else "Convolution",
       "dims": dims, "extra": extra, "name": name,
       "size": ("out = (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + 1 + output_padding"
                if transpose else "out = (in + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1"),
       "outshape": (", 10" * nd_) if transpose else (", 6" * nd_)}


Conv1D = _make_conv(1, "Conv1D", "NCW", False)
Conv2D = _make_conv(2, "Conv2D", "NCHW", False)
Conv3D = _make_conv(3, "Conv3D", "NCDHW", False)
Conv1DTranspose = _make_conv(1, "Conv1DTranspose", "NCW", True)
Conv2DTranspose = _make_conv(2, "Conv2DTranspose", "NCHW", True)
Conv3DTranspose = _make_conv(3, "Conv3DTranspose", "NCDHW", True)


class _Pooling(HybridBlock):
    def __init__(self, pool_size, strides, padding, ceil_mode, global_pool, pool_type, layout,
                 count_include_pad=None, **kwargs):
        super().__init__(**kwargs)
        if strides is None:
            strides = pool_size
        n = len(pool_size)
        self._kwargs = {"kernel": pool_size, "stride": _tuple(strides, n), "pad": _tuple(padding, n),
                        "global_pool": global_pool, "pool_type": pool_type,
                        "pooling_convention": "full" if ceil_mode else "valid", "layout": layout}
        if count_include_pad is not None:
            self._kwargs["count_include_pad"] = count_include_pad

    def _alias(self):
        return "pool"

    def hybrid_forward(self, F, x):
        return _first(_op(F, "Pooling", type(self).__name__)(x, **self._kwargs, **_name(F, self)))

    def __repr__(self):
        return "%s(size=%s, stride=%s, padding=%s, ceil_mode=%s, global_pool=%s, pool_type=%s)" % (
            type(self).__name__, self._kwargs["kernel"], self._kwargs["stride"], self._kwargs["pad"],
            self._kwargs["pooling_convention"] == "full", self._kwargs["global_pool"],
            self._kwargs["pool_type"])


def _make_pool(nd_, name, pool_type, layout_default, global_pool):
    if global_pool:
        def __init__(self, layout=layout_default, **kwargs):
            _Pooling.__init__(self, (1,) * nd_, None, 0, True, True, pool_type, layout, **kwargs)
    elif pool_type == "avg":
        def __init__(self, pool_size=2, strides=None, padding=0, layout=layout_default,
                     ceil_mode=False, count_include_pad=True, **kwargs):
            _Pooling.__init__(self, _tuple(pool_size, nd_), strides, padding, ceil_mode, False,
                              pool_type, layout, count_include_pad, **kwargs)
    else:
        def __init__(self, pool_size=2, strides=None, padding=0, layout=layout_default,
                     ceil_mode=False, **kwargs):
            _Pooling.__init__(self, _tuple(pool_size, nd_), strides, padding, ceil_mode, False,
                              pool_type, layout, **kwargs)
    return type(name, (_Pooling,), {"__init__": __init__,
                                    "__doc__": _pool_doc(nd_, name, pool_type, layout_default, global_pool)})


def _pool_doc(nd_, name, pool_type, layout, global_pool):
    """The docstring of a generated pooling layer class."""
    dims = ", ".join(_SPATIAL[nd_])
    kind = "maximum" if pool_type == "max" else "average"
    if global_pool:
        return """Global %(nd)dD %(kind)s pooling over ``%(layout)s`` input: the %(kind)s over all of (%(dims)s).

Input ``(batch, channels, %(dims)s)``, output ``(batch, channels%(ones)s)``.

Parameters
----------
layout : str, default '%(layout)s'
    Only ``'%(layout)s'`` is supported.

Example
-------
>>> mx.gluon.nn.%(name)s()(mx.nd.ones((2, 3) + (5,) * %(nd)d)).shape
(2, 3%(ones)s)
""" % {"nd": nd_, "kind": kind, "layout": layout, "dims": dims, "ones": ", 1" * nd_, "name": name}
    avg = ("count_include_pad : bool, default True\n"
           "    Whether padded zeros count in the average's denominator.\n") if pool_type == "avg" else ""
    return """%(nd)dD %(kind)s pooling over ``%(layout)s`` input (the ``Pooling`` operator).

Input ``(batch, channels, %(dims)s)``; per spatial axis the output size is
``(in + 2 * padding - pool_size) // strides + 1`` (rounded up with ``ceil_mode``).

Parameters
----------
pool_size : int or tuple of %(nd)d ints, default 2
    Size of the pooling window.
strides : int or tuple of %(nd)d ints, optional
    Step of the window (default: ``pool_size``).
padding : int or tuple of %(nd)d ints, default 0
    Padding added on both sides of each spatial axis.
layout : str, default '%(layout)s'
    Only ``'%(layout)s'`` is supported.
ceil_mode : bool, default False
    Round the output size up instead of down ("full" pooling convention).
%(avg)s
Example
-------
>>> mx.gluon.nn.%(name)s(pool_size=2)(mx.nd.ones((2, 3) + (8,) * %(nd)d)).shape
(2, 3%(out)s)
""" % {"nd": nd_, "kind": kind, "layout": layout, "dims": dims, "avg": avg, "name": name, "out": ", 4" * nd_}


MaxPool1D = _make_pool(1, "MaxPool1D", "max", "NCW", False)
MaxPool2D = _make_pool(2, "MaxPool2D", "max", "NCHW", False)
MaxPool3D = _make_pool(3, "MaxPool3D", "max", "NCDHW", False)
AvgPool1D = _make_pool(1, "AvgPool1D", "avg", "NCW", False)
AvgPool2D = _make_pool(2, "AvgPool2D", "avg", "NCHW", False)
AvgPool3D = _make_pool(3, "AvgPool3D", "avg", "NCDHW", False)
GlobalMaxPool1D = _make_pool(1, "GlobalMaxPool1D", "max", "NCW", True)
GlobalMaxPool2D = _make_pool(2, "GlobalMaxPool2D", "max", "NCHW", True)
GlobalMaxPool3D = _make_pool(3, "GlobalMaxPool3D", "max", "NCDHW", True)
GlobalAvgPool1D = _make_pool(1, "GlobalAvgPool1D", "avg", "NCW", True)
GlobalAvgPool2D = _make_pool(2, "GlobalAvgPool2D", "avg", "NCHW", True)
GlobalAvgPool3D = _make_pool(3, "GlobalAvgPool3D", "avg", "NCDHW", True)


class ReflectionPad2D(HybridBlock):
    """Pads the last two axes of ``(batch, channels, h, w)`` input by reflection (the ``Pad``
    operator with ``mode='reflect'``).

    Parameters
    ----------
    padding : int or tuple of 8 ints, default 0
        An int pads all four sides by that much; 8 values are ``Pad``'s ``pad_width``
        (before/after for each of the 4 axes; the first four must be 0).
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.

    Example
    -------
    >>> mx.gluon.nn.ReflectionPad2D(1)(mx.nd.ones((1, 1, 3, 3))).shape
    (1, 1, 5, 5)
    """

    def __init__(self, padding=0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = (0, 0, 0, 0, padding, padding, padding, padding)
        if len(padding) != 8:
            raise ValueError("ReflectionPad2D: padding must be an int or 8 values, got %s" % (padding,))
        self._padding = tuple(padding)

    def hybrid_forward(self, F, x):
        return _op(F, "Pad", "ReflectionPad2D")(x, mode="reflect", pad_width=self._padding,
                                                 **_name(F, self))
