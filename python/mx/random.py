"""mx.random: seeding and sampling from the core's counter-based generator (Philox4x32-10).

The same seed gives the same numbers in every front end and for any number of threads.
"""
from .base import check_call, lib
from .context import Context
from .ndarray.random import (uniform, normal, randn, randint, exponential, gamma, poisson,  # noqa: F401
                             negative_binomial, multinomial, shuffle)

__all__ = ["seed", "uniform", "normal", "randn", "randint", "exponential", "gamma", "poisson",
           "negative_binomial", "multinomial", "shuffle"]


def seed(seed_state, ctx="all"):
    """Seed the generator of every device (ctx='all') or of one device type (a Context)."""
    try:
        s = int(seed_state)
    except (TypeError, ValueError):
        raise ValueError("seed: seed_state must be an integer, got %r" % (seed_state,)) from None
    if s < -2 ** 63 or s >= 2 ** 64:
        raise ValueError("seed: seed_state must be in [-2**63, 2**64), got %d" % s)
    s &= 2 ** 64 - 1  # MXNet accepts negative seeds: use their two's complement
    if isinstance(ctx, str):
        if ctx != "all":
            raise ValueError("seed: ctx must be 'all' or a Context, got %r" % (ctx,))
        dev_type = -1
    elif isinstance(ctx, Context):
        dev_type = ctx.device_typeid
    else:
        raise TypeError("seed: ctx must be 'all' or a Context, got %s" % type(ctx).__name__)
    check_call(lib.mx_random_seed(s, dev_type))
