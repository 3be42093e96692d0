"""mx.gluon.model_zoo: predefined network architectures (MXNet 1.x ``gluon.model_zoo``).

Networks are built with the same block structure and parameter names as Apache MXNet 1.x, so
parameter files published for MXNet's model zoo load unchanged (``pretrained=True`` looks for them
in a local ``root`` folder; nothing is downloaded).
"""
from . import model_store  # noqa: F401
from . import vision  # noqa: F401
from .vision import get_model  # noqa: F401
