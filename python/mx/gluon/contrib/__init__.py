"""mx.gluon.contrib (MXNet 1.x): estimator (a fit/evaluate loop with event handlers)."""
from . import estimator  # noqa: F401
