"""mx.nd.random: sampling ops from the core's counter-based generator."""
from ..context import current_context


def _shape(shape):
    if shape is None:
        return (1,)
    return (int(shape),) if isinstance(shape, int) else tuple(shape)


def uniform(low=0, high=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    from . import _internal
    return _internal._random_uniform(low=float(low), high=float(high), shape=_shape(shape),
                                     dtype=dtype or "float32", ctx=ctx or current_context(), out=out)


def normal(loc=0, scale=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    from . import _internal
    return _internal._random_normal(loc=float(loc), scale=float(scale), shape=_shape(shape),
                                    dtype=dtype or "float32", ctx=ctx or current_context(), out=out)


def randint(low, high, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    from . import _internal
    return _internal._random_randint(low=int(low), high=int(high), shape=_shape(shape),
                                     dtype=dtype or "int32", ctx=ctx or current_context(), out=out)
