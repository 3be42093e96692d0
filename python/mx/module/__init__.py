"""mx.mod: the Module API (MXNet 1.x) on the core's graph executor."""
from .base_module import BaseModule  # noqa: F401
from .module import Module  # noqa: F401
from .bucketing_module import BucketingModule  # noqa: F401,E402
from .executor_group import DataParallelExecutorGroup  # noqa: F401,E402
