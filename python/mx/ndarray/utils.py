"""Creation helpers and file I/O for mx.nd."""
import numbers

import numpy as np

from ..base import check_call, ffi, lib, c_str, py_str
from ..context import current_context
from .ndarray import NDArray, _wrap, dtype_code, empty


def _shape(shape):
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(d) for d in shape)


def _dtype_name(dtype):
    from .ndarray import _NAMES
    return _NAMES[dtype_code(dtype)]


def full(shape, val, ctx=None, dtype=None, out=None):
    from . import _internal
    ctx = ctx or current_context()
    return _internal._full(shape=_shape(shape), value=float(val), dtype=_dtype_name(dtype), ctx=ctx, out=out)


def zeros(shape, ctx=None, dtype=None, **kwargs):
    from . import _internal
    return _internal._zeros(shape=_shape(shape), dtype=_dtype_name(dtype), ctx=ctx or current_context(), **kwargs)


def ones(shape, ctx=None, dtype=None, **kwargs):
    from . import _internal
    return _internal._ones(shape=_shape(shape), dtype=_dtype_name(dtype), ctx=ctx or current_context(), **kwargs)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=None, ctx=None, dtype=None):
    from . import _internal
    return _internal._arange(start=float(start), stop=None if stop is None else float(stop), step=float(step),
                             repeat=int(repeat), dtype=_dtype_name(dtype), ctx=ctx or current_context())


def zeros_like(a, **kwargs):
    from . import op
    return op.zeros_like(a, **kwargs)


def ones_like(a, **kwargs):
    from . import op
    return op.ones_like(a, **kwargs)


def concatenate(arrays, axis=0, always_copy=True):
    from . import op
    return op.concat(*arrays, dim=axis)


def save(fname, data):
    """Save an NDArray, a list of NDArrays or a dict of str -> NDArray (MXNet's format, or
    safetensors for a .safetensors name)."""
    if isinstance(data, NDArray):
        data = [data]
    if isinstance(data, dict):
        names = list(data.keys())
        arrays = list(data.values())
        if not all(isinstance(k, str) for k in names):
            raise TypeError("save: dict keys must be str")
        # surrogateescape: names loaded from files that are not valid UTF-8 save back unchanged
        cnames = [ffi.new("char[]", k.encode("utf-8", "surrogateescape")) for k in names]
        names_arg = ffi.new("char *[]", cnames)
    elif isinstance(data, (list, tuple)):
        arrays = list(data)
        names_arg = ffi.NULL
    else:
        raise TypeError("save: data must be an NDArray, a list of NDArrays or a dict of str to NDArray, "
                        "got %s" % type(data).__name__)
    for a in arrays:
        if not isinstance(a, NDArray):
            raise TypeError("save: every value must be an NDArray, got %s" % type(a).__name__)
    import os
    fname = os.fspath(fname)
    check_call(lib.mx_ndarray_save(c_str(fname), len(arrays), ffi.new("mx_ndarray_t[]", [a.handle for a in arrays]),
                                   names_arg, 0))


def _collect(n, arrs, names):
    out = [_wrap(arrs[0][i]) for i in range(n[0])]
    if names[0] == ffi.NULL:
        return out
    # Names in files are bytes; ones that are not UTF-8 keep their bytes as surrogate escapes.
    return {ffi.string(names[0][i]).decode("utf-8", "surrogateescape"): out[i] for i in range(n[0])}


def load(fname):
    """Load what save wrote (or an MXNet .params/.nd file): a list or a dict."""
    import os
    fname = os.fspath(fname)
    n = ffi.new("int *")
    arrs = ffi.new("mx_ndarray_t **")
    names = ffi.new("const char ***")
    check_call(lib.mx_ndarray_load(c_str(fname), n, arrs, names))
    return _collect(n, arrs, names)


def load_frombuffer(buf):
    n = ffi.new("int *")
    arrs = ffi.new("mx_ndarray_t **")
    names = ffi.new("const char ***")
    check_call(lib.mx_ndarray_load_buffer(ffi.from_buffer(buf), len(buf), n, arrs, names))
    return _collect(n, arrs, names)


def eye(N, M=0, k=0, ctx=None, dtype=None, **kwargs):
    from . import _internal
    return _internal._eye(N=int(N), M=int(M), k=int(k), dtype=_dtype_name(dtype), ctx=ctx or current_context())


def linspace(start, stop, num, endpoint=True, ctx=None, dtype=None):
    from . import _internal
    return _internal._linspace(start=float(start), stop=float(stop), num=int(num), endpoint=bool(endpoint),
                               dtype=_dtype_name(dtype), ctx=ctx or current_context())
