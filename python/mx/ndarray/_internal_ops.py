"""Calling registered operators from Python: handles, parsed-parameter cache, invocation.

Kept small and flat: this is the hot path of every imperative call.
"""
import threading

import numpy as np

from ..base import check_call, ffi, lib, py_str, c_str

_op_handles = {}
_params_cache = {}
_NULL = ffi.NULL
_invoke = lib.mx_op_invoke
_invoke1 = lib.mx_op_invoke1
_tls = threading.local()


def op_handle(name):
    h = _op_handles.get(name)
    if h is None:
        out = ffi.new("mx_op_t *")
        check_call(lib.mx_op_find(c_str(name), out))
        h = _op_handles[name] = out[0]
    return h


_NP_NAMES = {
    np.float32: "float32", np.float64: "float64", np.float16: "float16", np.uint8: "uint8",
    np.int32: "int32", np.int8: "int8", np.int64: "int64", np.bool_: "bool",
}


def param_str(v):
    """A Python value as MXNet writes it in symbol JSON."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool) or isinstance(v, np.bool_):
        return "True" if v else "False"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if v is None:
        return "None"
    if isinstance(v, np.ndarray):  # MXNet accepts numpy arrays for tuple parameters
        v = v.tolist()
    if isinstance(v, (tuple, list)):
        items = [param_str(x) for x in v]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(v, type) and v in _NP_NAMES:
        return _NP_NAMES[v]
    if isinstance(v, np.dtype):
        return "bool" if v == np.bool_ else v.name
    return str(v)  # Context prints as cpu(0)


def params_handle(op_name, kwargs):
    """Parsed parameters for (op, kwargs), parsed once and cached."""
    if not kwargs:
        return _NULL
    items = tuple(sorted((k, param_str(v)) for k, v in kwargs.items()))
    key = (op_name, items)
    h = _params_cache.get(key)
    if h is None:
        keys = [ffi.new("char[]", c_str(k, "parameter name")) for k, _ in items]
        vals = [ffi.new("char[]", c_str(v, "value of parameter '%s'" % k)) for k, v in items]
        out = ffi.new("mx_params_t *")
        check_call(lib.mx_params_new(op_handle(op_name), len(items), ffi.new("char *[]", keys),
                                     ffi.new("char *[]", vals), out))
        h = ffi.gc(out[0], lib.mx_params_free)
        if len(_params_cache) > 65536:  # unbounded distinct params (e.g. varying scalars)
            _params_cache.clear()
        _params_cache[key] = h
    return h


def out_slot():
    """This thread's one-handle output slot (cffi releases the GIL during calls, so slots must
    not be shared between threads)."""
    _tls.out = ffi.new("mx_ndarray_t *")
    return _tls.out


def _buffers():
    b = getattr(_tls, "b", None)
    if b is None:
        b = _tls.b = (ffi.new("mx_ndarray_t[64]"), ffi.new("mx_ndarray_t *"), ffi.new("int *"),
                      ffi.new("mx_ndarray_t **"))
    return b


def invoke(op, params, handles, out_handles=None):
    """Run op on input handles. Returns a list of new output handles (owned by the caller), or
    None when out_handles were given."""
    n = len(handles)
    inbuf, one, nout, outs = _buffers()
    if n > 64:
        inbuf = ffi.new("mx_ndarray_t[]", handles)
    else:
        inbuf[0:n] = handles
    if out_handles is not None:
        check_call(_invoke(op, params, n, inbuf, len(out_handles), ffi.new("mx_ndarray_t[]", out_handles),
                           nout, ffi.NULL))
        return None
    check_call(_invoke(op, params, n, inbuf, 0, _NULL, nout, outs))
    k = nout[0]
    arr = outs[0]
    return [arr[i] for i in range(k)]


def invoke1(op, params, handles):
    """Single-output fast path: one new handle."""
    inbuf, one, _, _ = _buffers()
    n = len(handles)
    inbuf[0:n] = handles
    check_call(_invoke1(op, params, n, inbuf, one))
    return one[0]


def op_schema(name):
    import json
    out = ffi.new("const char **")
    check_call(lib.mx_op_schema(op_handle(name), out))
    return json.loads(py_str(out[0]))


def list_ops():
    n = ffi.new("int *")
    check_call(lib.mx_op_count(n))
    names = []
    p = ffi.new("const char **")
    for i in range(n[0]):
        check_call(lib.mx_op_name(i, p))
        names.append(py_str(p[0]))
    return names
