"""MXNet's fluent methods (x.sum(axis=1), x.exp(), ...): each forwards to the registered op of
the same name with the array as first input. Installed only for ops the core registers."""
from .ndarray import NDArray

_FLUENT = [
    "abs", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "argmax", "argmax_channel",
    "argmin", "argsort", "broadcast_axes", "broadcast_like", "broadcast_to", "cbrt", "ceil", "clip",
    "cos", "cosh", "degrees", "depth_to_space", "diag", "exp", "expand_dims", "expm1", "fix", "flatten",
    "flip", "floor", "log", "log10", "log1p", "log2", "log_softmax", "max", "mean", "min", "nanprod",
    "nansum", "norm", "one_hot", "ones_like", "pad", "pick", "prod", "radians", "rcbrt", "reciprocal",
    "relu", "repeat", "reshape_like", "rint", "round", "rsqrt", "shape_array", "sigmoid", "sign", "sin",
    "sinh", "size_array", "slice", "slice_axis", "slice_like", "softmax", "softmin", "sort", "space_to_depth",
    "split", "sqrt", "square", "squeeze", "sum", "swapaxes", "take", "tan", "tanh", "tile", "topk",
    "transpose", "trunc", "zeros_like",
]


def _method(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def _shape_method(fn):
    """flatten/squeeze/expand_dims: inplace=True returns a view sharing this array's memory
    (MXNet's semantics), with the shape the op computes."""
    def method(self, *args, **kwargs):
        inplace = kwargs.pop("inplace", False)
        out = fn(self, *args, **kwargs)
        return self.reshape(out.shape) if inplace else out
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def install(op_module):
    for name in _FLUENT:
        fn = getattr(op_module, name, None)
        if fn is not None and not hasattr(NDArray, name):
            wrap = _shape_method if name in ("flatten", "squeeze", "expand_dims") else _method
            setattr(NDArray, name, wrap(fn))
    if not hasattr(NDArray, "as_nd_ndarray"):
        NDArray.as_nd_ndarray = _as_nd_ndarray


def _as_nd_ndarray(self):
    """This array (MXNet's conversion from an ``mx.np`` array; MX has only ``mx.nd`` arrays)."""
    return self
