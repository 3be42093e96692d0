"""mx.gluon.data.vision: image datasets and transforms (MXNet 1.x)."""
from .datasets import *  # noqa: F401,F403
from . import datasets  # noqa: F401
from . import transforms  # noqa: F401
