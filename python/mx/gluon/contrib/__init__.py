"""mx.gluon.contrib (MXNet 1.x): estimator (a fit/evaluate loop with event handlers) and extra layers (nn, cnn)."""
from . import estimator  # noqa: F401
from . import nn  # noqa: F401
from . import rnn  # noqa: F401
from . import cnn  # noqa: F401
