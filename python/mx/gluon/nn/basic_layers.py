"""Basic layers (MXNet 1.x ``gluon.nn.basic_layers``). Every computation is a registered op."""
import numpy as np

from ... import symbol as _sym
from ...base import MXShapeError
from ..block import Block, HybridBlock, Sequential, HybridSequential
from .._ops import op as _op

__all__ = ["Sequential", "HybridSequential", "Dense", "Dropout", "Embedding", "BatchNorm",
           "InstanceNorm", "LayerNorm", "GroupNorm", "Flatten", "Lambda", "HybridLambda",
           "Identity"]


def _name(F, block, suffix="fwd"):
    """Op names in traced graphs follow MXNet: <block prefix>fwd."""
    return {"name": block.prefix + suffix} if F is _sym else {}


def _first(out):
    return out[0] if isinstance(out, (list, tuple)) else out


class Dense(HybridBlock):
    """Fully connected layer: ``activation(dot(x, weight.T) + bias)``.

    Input ``(batch, in_units)`` (with ``flatten=True`` any ``(batch, ...)`` is flattened first;
    with ``flatten=False`` the layer acts on the last axis), output ``(batch, units)``.
    ``weight`` has shape ``(units, in_units)``.

    Parameters
    ----------
    units : int
        Output size.
    activation : str, optional
        Activation applied to the output (``'relu'``, ``'sigmoid'``, ``'tanh'``, ...).
    use_bias : bool, default True
        Add a learned bias.
    flatten : bool, default True
        Flatten all input axes but the first.
    dtype : str, default 'float32'
        Parameter dtype.
    weight_initializer, bias_initializer : str or Initializer, optional
        Initializers (default: the global one / ``'zeros'``).
    in_units : int, default 0
        Input size; 0 infers it from the first input.
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.

    Example
    -------
    >>> layer = mx.gluon.nn.Dense(3, in_units=4)
    >>> layer.initialize()
    >>> layer(mx.nd.ones((2, 4))).shape
    (2, 3)
    >>> layer.weight.shape
    (3, 4)
    """

    def __init__(self, units, activation=None, use_bias=True, flatten=True, dtype="float32",
                 weight_initializer=None, bias_initializer="zeros", in_units=0, **kwargs):
        super().__init__(**kwargs)
        self._flatten = flatten
        with self.name_scope():
            self._units = units
            self._in_units = in_units
            self.weight = self.params.get("weight", shape=(units, in_units), init=weight_initializer,
                                          dtype=dtype, allow_deferred_init=True)
            if use_bias:
                self.bias = self.params.get("bias", shape=(units,), init=bias_initializer, dtype=dtype,
                                            allow_deferred_init=True)
            else:
                self.bias = None
            if activation is not None:
                from .activations import Activation
                self.act = Activation(activation, prefix=activation + "_")
            else:
                self.act = None

    def hybrid_forward(self, F, x, weight, bias=None):
        if F is not _sym:
            self._check_width(x, weight)
        fc = _op(F, "FullyConnected", "Dense")
        if bias is None:
            act = fc(x, weight, no_bias=True, num_hidden=self._units, flatten=self._flatten,
                     **_name(F, self))
        else:
            act = fc(x, weight, bias, no_bias=False, num_hidden=self._units, flatten=self._flatten,
                     **_name(F, self))
        if self.act is not None:
            act = self.act(act)
        return act

    def _check_width(self, x, weight):
        """In the layer's own terms (in_units), before the op would talk about its weight."""
        shape = x.shape
        if not shape or weight.ndim != 2:
            return
        width = int(np.prod(shape[1:])) if self._flatten else shape[-1]
        if width != weight.shape[1]:
            raise MXShapeError("input has %d features but in_units=%d (input shape %s%s)"
                               % (width, weight.shape[1], shape, ", flattened" if self._flatten else ""))

    def __repr__(self):
        shape = self.weight.shape
        return "{name}({layout}, {act})".format(
            name=self.__class__.__name__, act=self.act if self.act else "linear",
            layout="{0} -> {1}".format(shape[1] if shape[1] else None, shape[0]))


class Dropout(HybridBlock):
    """Sets inputs to zero with probability ``rate`` during training and scales the rest by
    ``1 / (1 - rate)``; the identity in predict mode (outside ``autograd.record()``).

    Parameters
    ----------
    rate : float
        Fraction of the inputs to drop, in [0, 1).
    axes : tuple of int, default ()
        Axes along which the same mask is shared (variational dropout).
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.
    """

    def __init__(self, rate, axes=(), **kwargs):
        super().__init__(**kwargs)
        self._rate = rate
        self._axes = axes

    def hybrid_forward(self, F, x):
        if self._rate > 0:
            return _first(_op(F, "Dropout", "Dropout")(x, p=self._rate, axes=self._axes,
                                                        cudnn_off=False, **_name(F, self)))
        return _op(F, "identity")(x)

    def __repr__(self):
        return "Dropout(p = %s, axes=%s)" % (self._rate, self._axes)


class BatchNorm(HybridBlock):
    """Batch normalization (Ioffe & Szegedy, 2015) over the channel axis.

    In training, each channel is normalized with the batch's mean and variance and
    ``running_mean``/``running_var`` (auxiliary states, ``grad_req='null'``) are updated as
    ``running = momentum * running + (1 - momentum) * batch``; in predict mode the running
    statistics are used. Output: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    Parameters
    ----------
    axis : int, default 1
        The channel axis.
    momentum : float, default 0.9
        Momentum of the running statistics.
    epsilon : float, default 1e-5
        Added to the variance.
    center : bool, default True
        Learn the offset ``beta``.
    scale : bool, default True
        Learn the scale ``gamma`` (else fixed at 1).
    use_global_stats : bool, default False
        Always use the running statistics (also in training).
    beta_initializer, gamma_initializer, running_mean_initializer, running_variance_initializer : optional
        Initializers (zeros, ones, zeros, ones).
    in_channels : int, default 0
        Number of channels; 0 infers it.
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.
    """

    def __init__(self, axis=1, momentum=0.9, epsilon=1e-5, center=True, scale=True,
                 use_global_stats=False, beta_initializer="zeros", gamma_initializer="ones",
                 running_mean_initializer="zeros", running_variance_initializer="ones",
                 in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"axis": axis, "eps": epsilon, "momentum": momentum, "fix_gamma": not scale,
                        "use_global_stats": use_global_stats}
        self._axis = axis
        if in_channels != 0:
            self.in_channels = in_channels
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null",
                                     shape=(in_channels,), init=gamma_initializer,
                                     allow_deferred_init=True, differentiable=scale)
        self.beta = self.params.get("beta", grad_req="write" if center else "null",
                                    shape=(in_channels,), init=beta_initializer,
                                    allow_deferred_init=True, differentiable=center)
        self.running_mean = self.params.get("running_mean", grad_req="null", shape=(in_channels,),
                                            init=running_mean_initializer, allow_deferred_init=True,
                                            differentiable=False)
        self.running_var = self.params.get("running_var", grad_req="null", shape=(in_channels,),
                                           init=running_variance_initializer,
                                           allow_deferred_init=True, differentiable=False)

    def cast(self, dtype):
        # As MXNet: half-precision data keeps BatchNorm's parameters (and statistics) float32.
        # numpy has no bfloat16, so that name is compared as a string.
        if str(dtype) == "bfloat16" or np.dtype(dtype).name == "float16":
            dtype = "float32"
        super().cast(dtype)

    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        return _first(_op(F, "BatchNorm", "BatchNorm")(x, gamma, beta, running_mean, running_var,
                                                       **self._kwargs, **_name(F, self)))

    def __repr__(self):
        in_channels = self.gamma.shape[0]
        return "BatchNorm(%s, in_channels=%s)" % (
            ", ".join("%s=%s" % kv for kv in self._kwargs.items()), in_channels or None)


class Embedding(HybridBlock):
    """Maps integer indices to dense vectors: output ``weight[x]``.

    Input of any shape with values in ``[0, input_dim)``, output ``x.shape + (output_dim,)``.

    Parameters
    ----------
    input_dim : int
        Vocabulary size.
    output_dim : int
        Vector size.
    dtype : str, default 'float32'
        Dtype of the weight.
    weight_initializer : Initializer, optional
        Initializer of the ``(input_dim, output_dim)`` weight.
    sparse_grad : bool, default False
        Accepted for MXNet compatibility (gradients are dense).
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.

    Example
    -------
    >>> emb = mx.gluon.nn.Embedding(10, 4)
    >>> emb.initialize()
    >>> emb(mx.nd.array([[1, 2, 3]])).shape
    (1, 3, 4)
    """

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None,
                 sparse_grad=False, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype,
                        "sparse_grad": sparse_grad}
        self.weight = self.params.get("weight", shape=(input_dim, output_dim), init=weight_initializer,
                                      dtype=dtype, allow_deferred_init=True,
                                      grad_stype="row_sparse" if sparse_grad else "default")

    def hybrid_forward(self, F, x, weight):
        return _op(F, "Embedding", "Embedding")(x, weight, **self._kwargs, **_name(F, self))

    def __repr__(self):
        return "Embedding(%s -> %s, %s)" % (self._kwargs["input_dim"], self._kwargs["output_dim"],
                                            self._kwargs["dtype"])


class Flatten(HybridBlock):
    """Flattens all axes but the first: ``(batch, d1, d2, ...)`` becomes ``(batch, d1 * d2 * ...)``.

    Parameters
    ----------
    prefix : str, optional
        Prefix of the block's name.
    params : ParameterDict, optional
        Parameters to share (this layer has none).

    Example
    -------
    >>> mx.gluon.nn.Flatten()(mx.nd.ones((2, 3, 4))).shape
    (2, 12)
    """

    def hybrid_forward(self, F, x):
        return _op(F, "Flatten", "Flatten")(x, **_name(F, self, "flatten0"))

    def __repr__(self):
        return "Flatten"


class InstanceNorm(HybridBlock):
    """Instance normalization (Ulyanov et al., 2016): each sample and channel is normalized over its
    spatial axes, then scaled by ``gamma`` and shifted by ``beta`` per channel.

    Parameters
    ----------
    axis : int, default 1
        The channel axis.
    epsilon : float, default 1e-5
        Added to the variance.
    center : bool, default True
        Learn ``beta``.
    scale : bool, default False
        Learn ``gamma``.
    beta_initializer, gamma_initializer : optional
        Initializers (zeros, ones).
    in_channels : int, default 0
        Number of channels; 0 infers it.
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.
    """

    def __init__(self, axis=1, epsilon=1e-5, center=True, scale=False, beta_initializer="zeros",
                 gamma_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon}
        self._axis = axis
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null",
                                     shape=(in_channels,), init=gamma_initializer,
                                     allow_deferred_init=True)
        self.beta = self.params.get("beta", grad_req="write" if center else "null",
                                    shape=(in_channels,), init=beta_initializer,
                                    allow_deferred_init=True)

    def hybrid_forward(self, F, x, gamma, beta):
        fn = _op(F, "InstanceNorm", "InstanceNorm")
        if self._axis == 1:
            return fn(x, gamma, beta, **self._kwargs, **_name(F, self))
        x = F.swapaxes(x, dim1=1, dim2=self._axis) if hasattr(F, "swapaxes") else \
            F.SwapAxis(x, dim1=1, dim2=self._axis)
        return F.SwapAxis(fn(x, gamma, beta, **self._kwargs), dim1=1, dim2=self._axis)


class LayerNorm(HybridBlock):
    """Layer normalization (Ba et al., 2016) over ``axis``, with a learned scale and offset of that
    axis's size.

    Parameters
    ----------
    axis : int, default -1
        The normalized axis.
    epsilon : float, default 1e-5
        Added to the variance.
    center : bool, default True
        Learn ``beta``.
    scale : bool, default True
        Learn ``gamma``.
    beta_initializer, gamma_initializer : optional
        Initializers (zeros, ones).
    in_channels : int, default 0
        Size of ``axis``; 0 infers it.
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.

    Example
    -------
    >>> ln = mx.gluon.nn.LayerNorm()
    >>> ln.initialize()
    >>> y = ln(mx.nd.array([[1.0, 2.0, 3.0]]))
    >>> np.round(y.asnumpy(), 3)
    array([[-1.225,  0.   ,  1.225]], dtype=float32)
    """

    def __init__(self, axis=-1, epsilon=1e-5, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon, "axis": axis}
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null",
                                     shape=(in_channels,), init=gamma_initializer,
                                     allow_deferred_init=True)
        self.beta = self.params.get("beta", grad_req="write" if center else "null",
                                    shape=(in_channels,), init=beta_initializer,
                                    allow_deferred_init=True)

    def hybrid_forward(self, F, data, gamma, beta):
        return _first(_op(F, "LayerNorm", "LayerNorm")(data, gamma=gamma, beta=beta, **self._kwargs,
                                                       **_name(F, self)))


class GroupNorm(HybridBlock):
    """Group normalization (Wu & He, 2018): the channels (axis 1) are split into ``num_groups`` groups,
    each normalized over its channels and spatial axes per sample, then scaled and shifted per group
    (``gamma`` and ``beta`` have shape ``(num_groups,)``, as in MXNet 1.x).

    Parameters
    ----------
    num_groups : int, default 1
        Number of groups; must divide the channel count.
    epsilon : float, default 1e-5
        Added to the variance.
    center : bool, default True
        Learn ``beta``.
    scale : bool, default True
        Learn ``gamma``.
    beta_initializer, gamma_initializer : optional
        Initializers (zeros, ones).
    in_channels : int, default 0
        Accepted for compatibility; the parameters' shape does not depend on it.
    **kwargs
        ``prefix`` and ``params`` of :class:`HybridBlock`.
    """

    def __init__(self, num_groups=1, epsilon=1e-5, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon, "num_groups": num_groups}
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null",
                                     shape=(num_groups,), init=gamma_initializer,
                                     allow_deferred_init=True)
        self.beta = self.params.get("beta", grad_req="write" if center else "null",
                                    shape=(num_groups,), init=beta_initializer,
                                    allow_deferred_init=True)

    def hybrid_forward(self, F, data, gamma, beta):
        return _first(_op(F, "GroupNorm", "GroupNorm")(data, gamma, beta, **self._kwargs,
                                                       **_name(F, self)))


class Lambda(Block):
    """Wraps a function of NDArrays (or the name of an ``mx.nd`` function) as a Block.

    Parameters
    ----------
    function : str or callable
        An ``mx.nd`` function name (e.g. ``'tanh'``) or a function ``f(*inputs)``.
    prefix : str, optional
        Prefix of the block's name.

    Example
    -------
    >>> mx.gluon.nn.Lambda(lambda x: x * 2)(mx.nd.array([1.0, 2.0])).asnumpy()
    array([2., 4.], dtype=float32)
    """

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            from ... import ndarray as nd
            fn = getattr(nd, function, None)
            if fn is None:
                raise AttributeError("Function name %s is not found in ndarray." % function)
            self._func_impl = fn
        elif callable(function):
            self._func_impl = function
        else:
            raise ValueError("Unrecognized function in lambda: {} of type {}"
                             .format(function, type(function)))

    def forward(self, *args):
        return self._func_impl(*args)

    def __repr__(self):
        return "Lambda(%s)" % getattr(self._func_impl, "__name__", repr(self._func_impl))


class HybridLambda(HybridBlock):
    """Wraps a function ``f(F, *args)`` as a hybridizable layer.

    Parameters
    ----------
    function : str or callable
        The name of an operator present in both ``mx.nd`` and ``mx.sym`` (e.g. ``"tanh"``), or a
        function ``f(F, x, *args)`` written against ``F`` (``mx.nd`` imperatively, ``mx.sym`` once
        hybridized).
    prefix : str, optional
        Prefix of the block's name.

    Example
    -------
    >>> act = mx.gluon.nn.HybridLambda(lambda F, x: F.LeakyReLU(x, slope=0.1))
    >>> act(mx.nd.array([-1, 2])).asnumpy()
    array([-0.1,  2. ], dtype=float32)
    """

    def __init__(self, function, prefix=None):
        super().__init__(prefix=prefix)
        if isinstance(function, str):
            name = function
            from ... import ndarray as nd
            if getattr(nd, name, None) is None or getattr(_sym, name, None) is None:
                raise AttributeError("Function name %s is not found in symbol/ndarray." % name)
            self._func = lambda F, *args: getattr(F, name)(*args)
            self._func_name = name
        elif callable(function):
            self._func = function
            self._func_name = getattr(function, "__name__", "<function>")
        else:
            raise ValueError("Unrecognized function in lambda: {} of type {}"
                             .format(function, type(function)))

    def hybrid_forward(self, F, x, *args):
        return self._func(F, x, *args)

    def __repr__(self):
        return "HybridLambda(%s)" % self._func_name


class Identity(HybridBlock):
    """Returns its input unchanged (a placeholder, e.g. for a skip branch).

    Parameters
    ----------
    prefix : str, optional
        Prefix of the block's name.
    params : ParameterDict, optional
        Parameters to share (this layer has none).
    """

    def hybrid_forward(self, F, x):
        return _op(F, "identity")(x)
