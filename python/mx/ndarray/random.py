"""mx.nd.random: sampling ops from the core's counter-based generator (MXNet 1.x signatures)."""

from .._random_args import per_element, shape_tuple
from ..context import current_context
from .ndarray import NDArray


def _shape(shape):
    return shape_tuple(shape, (1,))


def _scalars(fname, **values):
    return per_element("mx.nd.random", fname, NDArray, values)


def _sample_shape(shape):
    return shape_tuple(shape, ())


def _dt(dtype, default):
    if dtype is None:
        return default
    from ._internal_ops import param_str
    return param_str(dtype)


def _sample(opname, arrays, shape, dtype, out):
    from . import _internal
    return getattr(_internal, opname)(*arrays, shape=_sample_shape(shape), dtype=_dt(dtype, "None"), out=out)


def _call(opname, ctx, out, dtype, default_dtype, **params):
    from . import _internal
    f = getattr(_internal, opname)
    return f(dtype=_dt(dtype, default_dtype), ctx=ctx or current_context(), out=out, **params)


def uniform(low=0, high=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from U[low, high)."""
    if _scalars("uniform", low=low, high=high):
        return _sample("_sample_uniform", [low, high], shape, dtype, out)
    return _call("_random_uniform", ctx, out, dtype, "float32", low=float(low), high=float(high), shape=_shape(shape))


def normal(loc=0, scale=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from N(loc, scale^2)."""
    if _scalars("normal", loc=loc, scale=scale):
        return _sample("_sample_normal", [loc, scale], shape, dtype, out)
    return _call("_random_normal", ctx, out, dtype, "float32", loc=float(loc), scale=float(scale),
                 shape=_shape(shape))


def randn(*shape, **kwargs):
    """Standard normal samples of the given shape: randn(2, 3, loc=0, scale=1)."""
    loc = kwargs.pop("loc", 0)
    scale = kwargs.pop("scale", 1)
    return normal(loc=loc, scale=scale, shape=shape if shape else None, **kwargs)


def randint(low, high, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples integers uniformly from [low, high)."""
    _scalars("randint", low=low, high=high)
    return _call("_random_randint", ctx, out, dtype, "int32", low=int(low), high=int(high), shape=_shape(shape))


def exponential(scale=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from the exponential distribution with mean `scale` (rate 1/scale)."""
    if _scalars("exponential", scale=scale):
        return _sample("_sample_exponential", [1.0 / scale], shape, dtype, out)
    if float(scale) <= 0:
        raise ValueError("mx.nd.random.exponential: parameter 'scale' has value %r; it must be > 0" % (scale,))
    return _call("_random_exponential", ctx, out, dtype, "float32", lam=1.0 / float(scale), shape=_shape(shape))


def gamma(alpha=1, beta=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from the gamma distribution with shape alpha and scale beta."""
    if _scalars("gamma", alpha=alpha, beta=beta):
        return _sample("_sample_gamma", [alpha, beta], shape, dtype, out)
    return _call("_random_gamma", ctx, out, dtype, "float32", alpha=float(alpha), beta=float(beta),
                 shape=_shape(shape))


def poisson(lam=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from the Poisson distribution with mean lam."""
    if _scalars("poisson", lam=lam):
        return _sample("_sample_poisson", [lam], shape, dtype, out)
    return _call("_random_poisson", ctx, out, dtype, "float32", lam=float(lam), shape=_shape(shape))


def negative_binomial(k=1, p=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples the number of failures before k successes (success probability p)."""
    if _scalars("negative_binomial", k=k, p=p):
        return _sample("_sample_negative_binomial", [k, p], shape, dtype, out)
    return _call("_random_negative_binomial", ctx, out, dtype, "float32", k=int(k), p=float(p),
                 shape=_shape(shape))


def generalized_negative_binomial(mu=1, alpha=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from the generalized negative binomial distribution (mean mu, variance
    mu + alpha * mu^2; alpha = 0 is Poisson)."""
    if _scalars("generalized_negative_binomial", mu=mu, alpha=alpha):
        return _sample("_sample_generalized_negative_binomial", [mu, alpha], shape, dtype, out)
    return _call("_random_generalized_negative_binomial", ctx, out, dtype, "float32", mu=float(mu),
                 alpha=float(alpha), shape=_shape(shape))


def multinomial(data, shape=None, get_prob=False, out=None, dtype="int32", **kwargs):
    """Samples category indices from the probabilities along data's last axis."""
    from . import _internal
    shp = () if shape is None else _shape(shape)
    return _internal._sample_multinomial(data, shape=shp, get_prob=bool(get_prob), dtype=_dt(dtype, "int32"),
                                         out=out)


def shuffle(data, **kwargs):
    """A copy of data randomly permuted along its first axis."""
    from . import _internal
    return _internal._shuffle(data, **kwargs)
