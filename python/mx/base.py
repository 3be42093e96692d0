"""Loading libmx and mapping its status codes to Python exceptions."""
import os

from . import _cdef

__all__ = ["MXError", "MXNetError", "check_call", "ffi", "lib", "py_str", "c_str", "string_types", "numeric_types",
           "integer_types", "NotImplementedForSymbol"]


class MXError(Exception):
    """Base class of every error raised by the MX core."""


MXNetError = MXError  # MXNet's name


class MXValueError(MXError, ValueError):
    """An invalid argument: unknown op, bad parameter value, out-of-range axis."""


class MXShapeError(MXError, ValueError):
    """Incompatible or invalid shapes."""


class MXTypeError(MXError, TypeError):
    """An unsupported or mismatched dtype."""


class MXNotSupportedError(MXError, NotImplementedError):
    """A valid request this build cannot serve (no GPU, sparse storage)."""


class MXMemoryError(MXError, MemoryError):
    """Out of memory."""


class MXIOError(MXError, OSError):
    """A file that is missing, unreadable or unwritable."""


class MXFormatError(MXError, ValueError):
    """A corrupt or truncated file, or malformed JSON."""


class MXInternalError(MXError):
    """A bug in MX."""


_ERRORS = {
    -1: MXValueError,
    -2: MXShapeError,
    -3: MXTypeError,
    -4: MXNotSupportedError,
    -5: MXMemoryError,
    -6: MXIOError,
    -7: MXFormatError,
    -8: MXInternalError,
}

ABI_VERSION = 1


def _omp_wait_default():
    """Brief-spin OpenMP waits unless the user chose a policy (docs/ONEDNN.md, Threads).

    libgomp (shared by MX's loops and oneDNN) reads OMP_WAIT_POLICY / GOMP_SPINCOUNT once, when
    it is loaded with libmx just below; its default spins ~300000 iterations after every parallel
    region, which starves other busy processes on a shared machine (and MX with them). Setting
    either variable before importing mx overrides this."""
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = OMP_SPINCOUNT_DEFAULT


OMP_SPINCOUNT_DEFAULT = "10000"


def _load():
    """API mode (compiled extension, ~150 ns a call) unless MX_LIBRARY names another build,
    which is then opened in cffi's ABI mode from the packaged header."""
    path = os.environ.get("MX_LIBRARY")
    if not path:
        try:
            from ._mx_cffi import ffi as _f, lib as _l  # noqa: F401
            return _f, _l
        except ImportError as e:
            here = os.path.dirname(os.path.abspath(__file__))
            path = os.path.join(here, "libmx.so")
            if not os.path.exists(path):
                raise ImportError(
                    "mx: the compiled core is missing (%s). Build it with 'pip install .' or "
                    "'make build', or set MX_LIBRARY to a libmx.so" % e) from None
    import cffi
    here = os.path.dirname(os.path.abspath(__file__))
    header = None
    for cand in (os.path.join(here, "include", "mx", "c_api.h"),
                 os.path.join(here, "..", "..", "libmx", "include", "mx", "c_api.h")):
        if os.path.exists(cand):
            header = cand
            break
    if header is None:
        raise ImportError("mx: c_api.h not found next to the package; cannot open %s" % path)
    f = cffi.FFI()
    with open(header, encoding="utf-8") as fh:
        f.cdef(_cdef.cdef_from_header(fh.read()))
    try:
        # RTLD_NODELETE: libmx stays mapped when cffi drops the library at interpreter exit; its
        # OpenMP workers and process-lifetime registries outlive Python's teardown (and leak
        # checkers can still name its frames).
        return f, f.dlopen(path, f.RTLD_NOW | f.RTLD_NODELETE)
    except OSError as e:
        raise ImportError("mx: cannot load %s: %s" % (path, e)) from None


_omp_wait_default()
ffi, lib = _load()

_abi = lib.mx_abi_version()
if _abi != ABI_VERSION:
    raise ImportError(
        "mx: libmx has ABI version %d but this Python package needs %d; rebuild or reinstall "
        "them together" % (_abi, ABI_VERSION))


def last_error():
    return ffi.string(lib.mx_last_error()).decode("utf-8", "replace")


def raise_error(status):
    raise _ERRORS.get(status, MXError)(last_error())


def check_call(status):
    """Raise the exception matching a non-zero libmx status."""
    if status != 0:
        raise _ERRORS.get(status, MXError)(last_error())


def py_str(cptr):
    """A Python str from a C string; str and bytes (what MX's callbacks pass) are accepted too."""
    if isinstance(cptr, str):
        return cptr
    if isinstance(cptr, (bytes, bytearray)):
        return bytes(cptr).decode("utf-8")
    return ffi.string(cptr).decode("utf-8")


def c_str(s, what="string"):
    """UTF-8 bytes for a C string argument. The ABI takes NUL-terminated strings, so an embedded
    NUL would silently cut the string short ('victim.nd\\x00.x' would save to 'victim.nd'):
    refuse it, as Python's own open() does."""
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    if b"\x00" in b:
        raise ValueError("embedded null character in %s %r" % (what, s))
    return b


def version():
    a = ffi.new("int[3]")
    lib.mx_version(a, a + 1, a + 2)
    return "%d.%d.%d" % (a[0], a[1], a[2])


def features():
    import json
    out = ffi.new("const char **")
    check_call(lib.mx_features(out))
    return json.loads(py_str(out[0]))


# ---------------------------------------------------------------------------- MXNet 1.x names
# Code written for MXNet imports these from mxnet.base.
import numbers as _numbers  # noqa: E402

import numpy as _np  # noqa: E402

string_types = (str,)
numeric_types = (float, int, _np.generic)
integer_types = (int, _np.int32, _np.int64)
py_str_types = string_types
NDArrayHandle = "mx_ndarray_t"   # handle type names; MX's handles are cffi pointers
SymbolHandle = "mx_symbol_t"
ExecutorHandle = "mx_executor_t"
_LIB = lib  # MX's C library (its functions are the mx_* ABI, not MXNet's MX* functions)
_Null = None


class NotImplementedForSymbol(MXError, NotImplementedError):
    """An NDArray method that has no Symbol counterpart."""

    def __init__(self, function, alias, *args):
        super().__init__()
        self.function = getattr(function, "__name__", str(function))
        self.alias = alias
        self.args = tuple(str(type(a)) for a in args)

    def __str__(self):
        msg = "Function %s" % self.function
        if self.alias:
            msg += " (namely operator \"%s\")" % self.alias
        if self.args:
            msg += " with arguments (%s)" % ", ".join(self.args)
        return msg + " is not implemented for Symbol and only available in NDArray."


def _as_list(obj):
    """obj if it is a list, [obj] otherwise (MXNet's helper)."""
    return obj if isinstance(obj, list) else [obj]


def data_dir():
    import os
    return os.getenv("MXNET_HOME", os.path.join(os.path.expanduser("~"), ".mxnet"))


def _is_number(x):
    return isinstance(x, _numbers.Number)
