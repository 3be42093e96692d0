"""DLPack exchange (zero-copy) with numpy, torch and anything speaking the protocol.

Capsules follow the DLPack Python convention: a PyCapsule named "dltensor" holds a
DLManagedTensor*; the consumer renames it "used_dltensor" and from then on owns the tensor
(calls its deleter). A capsule that is never consumed calls the deleter when it is destroyed.
"""
import ctypes

from .base import check_call, ffi, lib
from .ndarray.ndarray import NDArray, _wrap

__all__ = ["to_dlpack_capsule", "from_dlpack", "to_dlpack_for_read", "to_dlpack_for_write"]

_api = ctypes.pythonapi


def _leaked_cstr(s):
    # Capsule names must outlive every capsule (destructors may run at interpreter exit), so the
    # buffers are deliberately never freed.
    buf = ctypes.create_string_buffer(s)
    _api.Py_IncRef(ctypes.py_object(buf))
    return buf


_NAME = _leaked_cstr(b"dltensor")
_USED_NAME = _leaked_cstr(b"used_dltensor")
_NAME_ADDR = ctypes.addressof(_NAME)
_USED_ADDR = ctypes.addressof(_USED_NAME)

_Destructor = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_Deleter = ctypes.CFUNCTYPE(None, ctypes.c_void_p)

# Separate prototypes: one taking Python objects, one taking raw PyObject* (for the destructor,
# where the capsule's reference count is already zero and must not be touched).
_PyCapsule_New = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.c_void_p, _Destructor)(
    ("PyCapsule_New", _api))
_PyCapsule_IsValid = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_IsValid", _api))
_PyCapsule_GetPointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api))
_PyCapsule_SetName = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_void_p)(
    ("PyCapsule_SetName", _api))
_raw_IsValid = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)(("PyCapsule_IsValid", _api))
_raw_GetPointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", _api))


def _call_deleter(managed):
    """Run a DLManagedTensor's deleter (the pointer at byte 56, after DLTensor and manager_ctx)."""
    fn = ctypes.c_void_p.from_address(managed + 56).value
    if fn:
        _Deleter(fn)(managed)


def _capsule_destructor(capsule):
    # Unconsumed capsules still own the tensor; consumed ones were renamed "used_dltensor".
    try:
        if _raw_IsValid(capsule, b"dltensor"):
            managed = _raw_GetPointer(capsule, b"dltensor")
            if managed:
                _call_deleter(managed)
    except Exception:  # noqa: BLE001 - never raise out of a destructor
        pass


_DESTRUCTOR = _Destructor(_capsule_destructor)  # kept alive for the life of the module


def to_dlpack_capsule(arr):
    """A "dltensor" PyCapsule viewing `arr` (zero-copy; the capsule keeps the memory alive)."""
    if not isinstance(arr, NDArray):
        raise TypeError("to_dlpack: expected an NDArray, got %s" % type(arr).__name__)
    out = ffi.new("void **")
    check_call(lib.mx_ndarray_to_dlpack(arr.handle, out))
    managed = int(ffi.cast("uintptr_t", out[0]))
    try:
        return _PyCapsule_New(managed, _NAME_ADDR, _DESTRUCTOR)
    except BaseException:
        _call_deleter(managed)
        raise


def to_dlpack_for_read(data):
    """A DLPack capsule viewing ``data`` for reading (MXNet's name; zero-copy).

    Parameters
    ----------
    data : NDArray
        The array to share.

    Returns
    -------
    PyCapsule
        A ``"dltensor"`` capsule, e.g. for ``torch.utils.dlpack.from_dlpack``.
    """
    data.wait_to_read()
    return to_dlpack_capsule(data)


def to_dlpack_for_write(data):
    """A DLPack capsule viewing ``data`` for writing (MXNet's name; zero-copy).

    Parameters
    ----------
    data : NDArray
        The array to share.

    Returns
    -------
    PyCapsule
    """
    data.wait_to_write()
    return to_dlpack_capsule(data)


def _is_capsule(obj):
    return type(obj).__name__ == "PyCapsule"


def from_dlpack(obj):
    """An NDArray sharing memory with a DLPack tensor (zero-copy).

    Parameters
    ----------
    obj : object with ``__dlpack__``, or PyCapsule
        A numpy (>= 1.22) or torch CPU tensor, an MX array, or a ``"dltensor"`` capsule (consumed:
        renamed ``"used_dltensor"``). The tensor must be compact row-major.

    Returns
    -------
    NDArray
        Writes through either side are visible in both.

    Example
    -------
    >>> a = np.arange(3, dtype=np.float32)
    >>> x = mx.nd.from_dlpack(a)
    >>> a[0] = 7
    >>> x.asnumpy()
    array([7., 1., 2.], dtype=float32)
    """
    if not _is_capsule(obj):
        if not hasattr(obj, "__dlpack__"):
            raise TypeError("from_dlpack: expected an object with __dlpack__ or a DLPack capsule, got %s"
                            % type(obj).__name__)
        if hasattr(obj, "__dlpack_device__"):
            dev = tuple(obj.__dlpack_device__())
            if int(dev[0]) != 1:
                raise NotImplementedError(
                    "from_dlpack: the tensor lives on DLPack device %r; MX imports CPU tensors (1) only" % (dev,))
        obj = obj.__dlpack__()
        if not _is_capsule(obj):
            raise TypeError("from_dlpack: __dlpack__ returned %s, not a capsule" % type(obj).__name__)
    if not _PyCapsule_IsValid(obj, b"dltensor"):
        if _PyCapsule_IsValid(obj, b"used_dltensor"):
            raise ValueError("from_dlpack: this DLPack capsule was already consumed")
        raise ValueError("from_dlpack: the capsule is not a DLPack \"dltensor\" capsule (versioned "
                         "DLPack 1.x capsules are not supported)")
    managed = _PyCapsule_GetPointer(obj, b"dltensor")
    out = ffi.new("mx_ndarray_t *")
    # On failure MX does not take the tensor: the capsule keeps it and frees it when collected.
    check_call(lib.mx_ndarray_from_dlpack(ffi.cast("void *", managed), out))
    _PyCapsule_SetName(obj, _USED_ADDR)
    return _wrap(out[0])
