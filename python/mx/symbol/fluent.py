"""Symbol fluent methods (x.reshape(...), x.sum(axis=1), x.transpose(), ...): the same methods
NDArray has, each composing the registered op of that name with the symbol as first input, so
hybrid_forward code written with methods works on NDArrays and, after hybridize(), on Symbols."""
from ..ndarray.fluent import _FLUENT
from .symbol import Symbol


def _method(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def _reshape(self, *shape, **kwargs):
    """reshape((2, -1)), reshape(2, -1) or reshape(shape=(2, -1), reverse=False): the Reshape op
    with MXNet's special codes.

    Parameters
    ----------
    *shape : int or tuple of int
        The new shape.
    **kwargs
        ``shape``, ``reverse`` as the Reshape op.

    Returns
    -------
    Symbol
    """
    from . import Reshape
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if shape:
        if "shape" in kwargs:
            raise TypeError("reshape: shape given both positionally and by keyword")
        kwargs["shape"] = tuple(shape)
    return Reshape(self, **kwargs)


def _astype(self, dtype, **kwargs):
    """The symbol cast to another element type (the Cast op).

    Parameters
    ----------
    dtype : str or numpy dtype
        Target element type.

    Returns
    -------
    Symbol
    """
    from . import Cast
    return Cast(self, dtype=dtype)


def install(module):
    for name in _FLUENT:
        fn = getattr(module, name, None)
        if fn is not None and not hasattr(Symbol, name):
            setattr(Symbol, name, _method(fn))
    Symbol.reshape = _reshape
    Symbol.astype = _astype
    for name in ("zeros_like", "ones_like", "broadcast_to", "broadcast_like", "split", "slice",
                 "abs", "sign", "flatten", "expand_dims"):
        fn = getattr(module, name, None)
        if fn is not None and not hasattr(Symbol, name):
            setattr(Symbol, name, _method(fn))
