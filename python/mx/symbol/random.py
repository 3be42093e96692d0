"""mx.sym.random: the sampling ops as symbols (MXNet 1.x signatures, as mx.nd.random)."""

from .._random_args import per_element, shape_tuple
from . import _internal
from .symbol import Symbol


def _shape(shape):
    return shape_tuple(shape, (1,))


def _scalars(fname, **values):
    return per_element("mx.sym.random", fname, Symbol, values)


def _sample_shape(shape):
    return shape_tuple(shape, ())


def _sample(opname, arrays, shape, dtype, kwargs):
    return getattr(_internal, opname)(*arrays, shape=_sample_shape(shape), **_kw(dtype, "None", kwargs))


def _kw(dtype, default, kwargs):
    kwargs = dict(kwargs)
    kwargs.pop("ctx", None)
    from ..ndarray._internal_ops import param_str
    kwargs["dtype"] = default if dtype is None else param_str(dtype)
    return kwargs


def uniform(low=0, high=1, shape=None, dtype=None, **kwargs):
    if _scalars("uniform", low=low, high=high):
        return _sample("_sample_uniform", [low, high], shape, dtype, kwargs)
    return _internal._random_uniform(low=float(low), high=float(high), shape=_shape(shape),
                                     **_kw(dtype, "float32", kwargs))


def normal(loc=0, scale=1, shape=None, dtype=None, **kwargs):
    if _scalars("normal", loc=loc, scale=scale):
        return _sample("_sample_normal", [loc, scale], shape, dtype, kwargs)
    return _internal._random_normal(loc=float(loc), scale=float(scale), shape=_shape(shape),
                                    **_kw(dtype, "float32", kwargs))


def randn(*shape, **kwargs):
    loc, scale = kwargs.pop("loc", 0), kwargs.pop("scale", 1)
    return normal(loc=loc, scale=scale, shape=shape if shape else None, **kwargs)


def randint(low, high, shape=None, dtype=None, **kwargs):
    _scalars("randint", low=low, high=high)
    return _internal._random_randint(low=int(low), high=int(high), shape=_shape(shape),
                                     **_kw(dtype, "int32", kwargs))


def exponential(scale=1, shape=None, dtype=None, **kwargs):
    if _scalars("exponential", scale=scale):
        return _sample("_sample_exponential", [1.0 / scale], shape, dtype, kwargs)
    if float(scale) <= 0:
        raise ValueError("mx.sym.random.exponential: parameter 'scale' has value %r; it must be > 0" % (scale,))
    return _internal._random_exponential(lam=1.0 / float(scale), shape=_shape(shape),
                                         **_kw(dtype, "float32", kwargs))


def gamma(alpha=1, beta=1, shape=None, dtype=None, **kwargs):
    if _scalars("gamma", alpha=alpha, beta=beta):
        return _sample("_sample_gamma", [alpha, beta], shape, dtype, kwargs)
    return _internal._random_gamma(alpha=float(alpha), beta=float(beta), shape=_shape(shape),
                                   **_kw(dtype, "float32", kwargs))


def poisson(lam=1, shape=None, dtype=None, **kwargs):
    if _scalars("poisson", lam=lam):
        return _sample("_sample_poisson", [lam], shape, dtype, kwargs)
    return _internal._random_poisson(lam=float(lam), shape=_shape(shape), **_kw(dtype, "float32", kwargs))


def negative_binomial(k=1, p=1, shape=None, dtype=None, **kwargs):
    if _scalars("negative_binomial", k=k, p=p):
        return _sample("_sample_negative_binomial", [k, p], shape, dtype, kwargs)
    return _internal._random_negative_binomial(k=int(k), p=float(p), shape=_shape(shape),
                                               **_kw(dtype, "float32", kwargs))


def generalized_negative_binomial(mu=1, alpha=1, shape=None, dtype=None, **kwargs):
    if _scalars("generalized_negative_binomial", mu=mu, alpha=alpha):
        return _sample("_sample_generalized_negative_binomial", [mu, alpha], shape, dtype, kwargs)
    return _internal._random_generalized_negative_binomial(mu=float(mu), alpha=float(alpha), shape=_shape(shape),
                                                           **_kw(dtype, "float32", kwargs))


def multinomial(data, shape=None, get_prob=False, dtype="int32", **kwargs):
    return _internal._sample_multinomial(data, shape=() if shape is None else _shape(shape), get_prob=bool(get_prob),
                                         dtype=dtype, **kwargs)


def shuffle(data, **kwargs):
    return _internal._shuffle(data, **kwargs)
