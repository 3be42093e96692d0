"""mx.optimizer: MXNet 1.x optimizers (update rules run in the core)."""
from .optimizer import *  # noqa: F401,F403
from .optimizer import Optimizer, Updater, get_updater, create, register, opt_registry  # noqa: F401
from .. import lr_scheduler  # noqa: F401
from . import contrib  # noqa: F401  (GroupAdaGrad)
