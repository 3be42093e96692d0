"""mx.module.executor_group: MXNet's DataParallelExecutorGroup is internal to its Module; MX's
Module binds one executor per module, so the class exists only to be importable."""
from ..base import MXNotSupportedError


class DataParallelExecutorGroup:
    def __init__(self, *args, **kwargs):
        raise MXNotSupportedError("DataParallelExecutorGroup is MXNet-internal; MX's Module does not use "
                                  "executor groups (use mx.mod.Module)")
