"""Basic layers (MXNet 1.x ``gluon.nn.basic_layers``). Every computation is a registered op."""
import numpy as np

from ... import symbol as _sym
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
    """Fully connected layer: activation(dot(x, weight.T) + bias)."""

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

    def __repr__(self):
        shape = self.weight.shape
        return "{name}({layout}, {act})".format(
            name=self.__class__.__name__, act=self.act if self.act else "linear",
            layout="{0} -> {1}".format(shape[1] if shape[1] else None, shape[0]))


class Dropout(HybridBlock):
    """Drops inputs with probability rate during training (identity in predict mode)."""

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
    """Batch normalization; running_mean/running_var are auxiliary states (grad_req 'null')."""

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
        if np.dtype(dtype).name == "float16":
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
    """Maps integer indices to dense vectors."""

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None,
                 sparse_grad=False, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"input_dim": input_dim, "output_dim": output_dim, "dtype": dtype,
                        "sparse_grad": sparse_grad}
        self.weight = self.params.get("weight", shape=(input_dim, output_dim), init=weight_initializer,
                                      dtype=dtype, allow_deferred_init=True)

    def hybrid_forward(self, F, x, weight):
        return _op(F, "Embedding", "Embedding")(x, weight, **self._kwargs, **_name(F, self))

    def __repr__(self):
        return "Embedding(%s -> %s, %s)" % (self._kwargs["input_dim"], self._kwargs["output_dim"],
                                            self._kwargs["dtype"])


class Flatten(HybridBlock):
    """Flattens all but the first axis."""

    def hybrid_forward(self, F, x):
        return _op(F, "Flatten", "Flatten")(x, **_name(F, self, "flatten0"))

    def __repr__(self):
        return "Flatten"


class InstanceNorm(HybridBlock):
    """Instance normalization (the InstanceNorm operator)."""

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
    """Layer normalization over `axis` (the LayerNorm operator)."""

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
    """Group normalization (the GroupNorm operator)."""

    def __init__(self, num_groups=1, epsilon=1e-5, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"eps": epsilon, "num_groups": num_groups}
        self.gamma = self.params.get("gamma", grad_req="write" if scale else "null",
                                     shape=(in_channels,), init=gamma_initializer,
                                     allow_deferred_init=True)
        self.beta = self.params.get("beta", grad_req="write" if center else "null",
                                    shape=(in_channels,), init=beta_initializer,
                                    allow_deferred_init=True)

    def hybrid_forward(self, F, data, gamma, beta):
        return _first(_op(F, "GroupNorm", "GroupNorm")(data, gamma, beta, **self._kwargs,
                                                       **_name(F, self)))


class Lambda(Block):
    """Wraps a function of NDArrays (or the name of an mx.nd function) as a Block."""

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
    """Returns its input."""

    def hybrid_forward(self, F, x):
        return _op(F, "identity")(x)
