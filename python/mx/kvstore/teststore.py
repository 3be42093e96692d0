"""TestStore: the minimal Python kvstore MXNet 1.9 registers for testing custom kvstores.

It keeps nothing: ``broadcast`` copies the value into the outputs and ``pushpull`` sums the
values (with the core's add operator) into the outputs. It cannot run an optimizer, so a
Trainer using it must reduce gradients and update locally (update_on_kvstore=False)."""
from ..ndarray.ndarray import NDArray
from .kvstore import KVStoreBase

__all__ = ["TestStore"]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


@KVStoreBase.register
class TestStore(KVStoreBase):
    """A key-value store that only reduces (registered as ``mx.kv.create('teststore')``)."""

    def broadcast(self, key, value, out, priority=0):
        """Copy `value` into every array of `out`."""
        for o in _as_list(out):
            o[:] = value

    def pushpull(self, key, value, out=None, priority=0):
        """Sum the arrays of `value` and write the sum into `out` (into `value` when out is None)."""
        values = _as_list(value)
        if isinstance(value, NDArray):
            total = value
        else:
            ctx = values[0].context
            total = values[0].as_in_context(ctx).copy()
            for v in values[1:]:
                total += v.as_in_context(ctx)
        for o in _as_list(out if out is not None else value):
            o[:] = total.as_in_context(o.context)

    def is_capable(self, capability):
        """TestStore runs no optimizer: False for every capability."""
        if capability.lower() == KVStoreBase.OPTIMIZER:
            return False
        raise ValueError("Unknown capability: %s" % capability)

    @property
    def type(self):
        return "teststore"

    @property
    def rank(self):
        return 0

    @property
    def num_workers(self):
        return 1
