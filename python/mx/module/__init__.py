"""mx.mod: the Module API (MXNet 1.x) on the core's graph executor."""
from .base_module import BaseModule  # noqa: F401
from .module import Module  # noqa: F401
