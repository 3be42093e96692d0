"""Devices: mx.cpu(), mx.gpu(), Context."""
import threading

from .base import check_call, ffi, lib, MXNotSupportedError

_DEV_TYPES = {"cpu": 1, "gpu": 2, "cpu_pinned": 3, "cpu_shared": 5}
_DEV_NAMES = {v: k for k, v in _DEV_TYPES.items()}
# MXNet's cpu_shared (shared memory that DataLoader workers hand batches back in): MX's workers
# pass batches back by pickling, so such arrays are ordinary CPU arrays in the core
_CORE_TYPES = dict(_DEV_TYPES, cpu_shared=1)


class Context:
    """A device: Context('cpu', 0) or Context('gpu', 1). Usable as a `with` block."""

    _default = threading.local()
    devtype2str = _DEV_NAMES
    devstr2type = _DEV_TYPES

    def __init__(self, device_type, device_id=0):
        if isinstance(device_type, Context):
            device_type, device_id = device_type.device_type, device_type.device_id
        if isinstance(device_type, int):
            device_type = _DEV_NAMES.get(device_type, device_type)
        if device_type not in _DEV_TYPES:
            raise ValueError("unknown device type %r (expected 'cpu', 'gpu', 'cpu_pinned' or "
                             "'cpu_shared')" % (device_type,))
        if int(device_id) < 0:
            raise ValueError("device id must be >= 0, got %r" % (device_id,))
        self.device_type = device_type
        self.device_id = int(device_id)
        self._old = None

    @property
    def device_typeid(self):
        return _CORE_TYPES[self.device_type]

    def __eq__(self, other):
        return isinstance(other, Context) and self.device_type == other.device_type and \
            self.device_id == other.device_id

    def __hash__(self):
        return hash((self.device_type, self.device_id))

    def __repr__(self):
        return "%s(%d)" % (self.device_type, self.device_id)

    __str__ = __repr__

    def __enter__(self):
        self._old = current_context()
        Context._default.value = self
        return self

    def __exit__(self, *exc):
        Context._default.value = self._old

    def empty_cache(self):
        """Give the GPU memory MX's pool keeps for reuse back to the driver (no-op on the CPU)."""
        if self.device_type == "gpu":
            check_call(lib.mx_gpu_empty_cache(self.device_id))


def cpu(device_id=0):
    return Context("cpu", device_id)


def cpu_pinned(device_id=0):
    return Context("cpu_pinned", device_id)


def cpu_shared(device_id=0):
    """MXNet's shared-memory CPU context; MX allocates such arrays as ordinary CPU arrays."""
    return Context("cpu_shared", device_id)


def num_gpus():
    n = ffi.new("int *")
    check_call(lib.mx_device_count(2, n))
    return n[0]


def _gpu_unavailable_reason():
    reason = ffi.new("const char **")
    check_call(lib.mx_gpu_status(ffi.NULL, ffi.NULL, reason))
    return ffi.string(reason[0]).decode()


def gpu(device_id=0):
    """A GPU context. Raises a clear error (naming why: no CUDA build, no driver, no device)
    where gpu(device_id) cannot be used."""
    n = num_gpus()
    if int(device_id) >= n:
        raise MXNotSupportedError(
            "mx.gpu(%d): no such GPU (%d usable GPUs: %s)" % (
                int(device_id), n, _gpu_unavailable_reason() if n == 0 else "ids 0..%d" % (n - 1)))
    return Context("gpu", device_id)


def gpu_memory_info(device_id=0):
    """(free, total) bytes of GPU device_id, as the driver reports them."""
    free, total = ffi.new("uint64_t *"), ffi.new("uint64_t *")
    check_call(lib.mx_gpu_memory_info(int(device_id), free, total))
    return int(free[0]), int(total[0])


def current_context():
    ctx = getattr(Context._default, "value", None)
    return ctx if ctx is not None else Context("cpu", 0)


class _DefaultCtx:
    """Context.default_ctx (MXNet 1.x): the calling thread's current context."""

    def __get__(self, obj, cls):
        return current_context()


Context.default_ctx = _DefaultCtx()
