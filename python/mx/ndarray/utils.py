"""Creation helpers and file I/O for mx.nd."""
import numbers

import numpy as np

from ..base import check_call, ffi, lib, c_str, py_str
from ..context import current_context
from .ndarray import NDArray, _wrap, _wrap_any, dtype_code, empty


def _shape(shape):
    """A shape tuple of ints; a float or text dimension is a TypeError (as numpy), not truncated."""
    from .ndarray import _shape_tuple
    return _shape_tuple(shape)


def _dtype_name(dtype):
    from .ndarray import _NAMES
    return _NAMES[dtype_code(dtype)]


def _dense_only(fname, stype):
    """MXNet's stype argument: dense ('default') works, sparse storage is not supported."""
    if stype not in (None, "default"):
        from ..base import MXNotSupportedError
        raise MXNotSupportedError("%s: storage type %r is not supported (MX stores arrays densely)" % (fname, stype))


def full(shape, val, ctx=None, dtype=None, out=None, stype=None):
    """An array filled with ``val``.

    Parameters
    ----------
    shape : int or tuple of int
        The shape.
    val : float
        The value.
    ctx : Context, optional
        Device (default: the current context, ``mx.cpu()``).
    dtype : str or numpy dtype, optional
        Element type (default ``float32``).
    out : NDArray, optional
        Write into this array instead.
    stype : str, optional
        Only ``"default"`` (dense) is supported.

    Returns
    -------
    NDArray
    """
    _dense_only("full", stype)
    from . import _internal
    ctx = ctx or current_context()
    return _internal._full(shape=_shape(shape), value=float(val), dtype=_dtype_name(dtype), ctx=ctx, out=out)


def zeros(shape, ctx=None, dtype=None, stype=None, **kwargs):
    """An array of zeros.

    Parameters
    ----------
    shape : int or tuple of int
        The shape.
    ctx : Context, optional
        Device (default: the current context, ``mx.cpu()``).
    dtype : str or numpy dtype, optional
        Element type (default ``float32``).
    stype : str, optional
        ``"default"`` (dense), ``"row_sparse"`` or ``"csr"`` (an empty sparse array, as
        ``mx.nd.sparse.zeros``).

    Returns
    -------
    NDArray

    Example
    -------
    >>> mx.nd.zeros((2, 3)).asnumpy()
    array([[0., 0., 0.],
           [0., 0., 0.]], dtype=float32)
    """
    if stype not in (None, "default"):
        from . import sparse
        return sparse.zeros(stype, shape, ctx=ctx, dtype=dtype, **kwargs)
    from . import _internal
    return _internal._zeros(shape=_shape(shape), dtype=_dtype_name(dtype), ctx=ctx or current_context(), **kwargs)


def ones(shape, ctx=None, dtype=None, stype=None, **kwargs):
    """An array of ones.

    Parameters
    ----------
    shape : int or tuple of int
        The shape.
    ctx : Context, optional
        Device (default: the current context, ``mx.cpu()``).
    dtype : str or numpy dtype, optional
        Element type (default ``float32``).
    stype : str, optional
        Only ``"default"`` (dense) is supported.

    Returns
    -------
    NDArray
    """
    _dense_only("ones", stype)
    from . import _internal
    return _internal._ones(shape=_shape(shape), dtype=_dtype_name(dtype), ctx=ctx or current_context(), **kwargs)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=None, ctx=None, dtype=None):
    """Evenly spaced values in ``[start, stop)`` (MXNet's ``arange``, with ``repeat``).

    Parameters
    ----------
    start : float
        First value (or the stop, with start 0, when ``stop`` is None).
    stop : float, optional
        End of the interval (excluded).
    step : float, default 1.0
        Spacing.
    repeat : int, default 1
        Repeat each value this many times.
    infer_range : optional
        Accepted for MXNet compatibility.
    ctx : Context, optional
        Device (default: the current context, ``mx.cpu()``).
    dtype : str or numpy dtype, optional
        Element type (default ``float32``).

    Returns
    -------
    NDArray

    Example
    -------
    >>> mx.nd.arange(0, 3, repeat=2).asnumpy()
    array([0., 0., 1., 1., 2., 2.], dtype=float32)
    """
    from . import _internal
    return _internal._arange(start=float(start), stop=None if stop is None else float(stop), step=float(step),
                             repeat=int(repeat), dtype=_dtype_name(dtype), ctx=ctx or current_context())


def zeros_like(*args, **kwargs):
    """An array of zeros with the shape, dtype and device of ``a``.

    Parameters
    ----------
    data : NDArray
        The template (positional or `data=`, as MXNet's op).
    **kwargs
        ``out`` and further operator arguments.

    Returns
    -------
    NDArray
    """
    from . import op
    return op.zeros_like(*args, **kwargs)


def ones_like(*args, **kwargs):
    """An array of ones with the shape, dtype and device of ``a``.

    Parameters
    ----------
    data : NDArray
        The template (positional or `data=`, as MXNet's op).
    **kwargs
        ``out`` and further operator arguments.

    Returns
    -------
    NDArray
    """
    from . import op
    return op.ones_like(*args, **kwargs)


def concatenate(arrays, axis=0, always_copy=True):
    """Join arrays along an existing axis (the ``concat`` operator).

    Parameters
    ----------
    arrays : list of NDArray
        Arrays whose shapes agree except along ``axis``.
    axis : int, default 0
        The axis to join along.
    always_copy : bool, default True
        Accepted for MXNet compatibility (the result is always a new array).

    Returns
    -------
    NDArray
    """
    from . import op
    return op.concat(*arrays, dim=axis)


def save(fname, data):
    """Save arrays to a file in MXNet's binary format (or safetensors for a ``.safetensors`` name).

    Files load in MXNet 1.x (``mx.nd.load``), in MX's R (``mx.nd.load``) and Julia (``MX.load``).

    Parameters
    ----------
    fname : str or os.PathLike
        Output path.
    data : NDArray or list of NDArray or dict of str to NDArray
        What to save; a dict keeps the names.

    Example
    -------
    >>> mx.nd.save("arrays.nd", {"w": mx.nd.ones((2,))})
    >>> mx.nd.load("arrays.nd")["w"].asnumpy()
    array([1., 1.], dtype=float32)
    """
    if isinstance(data, NDArray):
        data = [data]
    if isinstance(data, dict):
        names = list(data.keys())
        arrays = list(data.values())
        if not all(isinstance(k, str) for k in names):
            raise TypeError("save: dict keys must be str")
        # surrogateescape: names loaded from files that are not valid UTF-8 save back unchanged
        cnames = [ffi.new("char[]", c_str(k.encode("utf-8", "surrogateescape"), "array name")) for k in names]
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
    check_call(lib.mx_ndarray_save(c_str(fname, "path"), len(arrays), ffi.new("mx_ndarray_t[]", [a.handle for a in arrays]),
                                   names_arg, 0))


def _collect(n, arrs, names):
    out = [_wrap_any(arrs[0][i]) for i in range(n[0])]
    if names[0] == ffi.NULL:
        return out
    # Names in files are bytes; ones that are not UTF-8 keep their bytes as surrogate escapes.
    return {ffi.string(names[0][i]).decode("utf-8", "surrogateescape"): out[i] for i in range(n[0])}


def load(fname):
    """Load a file written by ``save`` (or by MXNet: ``.params``, ``.nd``).

    Parameters
    ----------
    fname : str or os.PathLike
        Path of the file.

    Returns
    -------
    list of NDArray or dict of str to NDArray
        A dict when the file has names.
    """
    import os
    fname = os.fspath(fname)
    n = ffi.new("int *")
    arrs = ffi.new("mx_ndarray_t **")
    names = ffi.new("const char ***")
    check_call(lib.mx_ndarray_load(c_str(fname, "path"), n, arrs, names))
    return _collect(n, arrs, names)


def load_frombuffer(buf):
    """Load arrays from the bytes of a file written by ``save``.

    Parameters
    ----------
    buf : bytes-like
        The file's contents.

    Returns
    -------
    list of NDArray or dict of str to NDArray
    """
    n = ffi.new("int *")
    arrs = ffi.new("mx_ndarray_t **")
    names = ffi.new("const char ***")
    check_call(lib.mx_ndarray_load_buffer(ffi.from_buffer(buf), len(buf), n, arrs, names))
    return _collect(n, arrs, names)


def eye(N, M=0, k=0, ctx=None, dtype=None, **kwargs):
    """A 2-D array with ones on the ``k``-th diagonal and zeros elsewhere.

    Parameters
    ----------
    N : int
        Number of rows.
    M : int, default 0
        Number of columns (0: ``N``).
    k : int, default 0
        Diagonal index (positive: above the main diagonal).
    ctx : Context, optional
        Device (default: the current context, ``mx.cpu()``).
    dtype : str or numpy dtype, optional
        Element type (default ``float32``).

    Returns
    -------
    NDArray
    """
    from . import _internal
    return _internal._eye(N=int(N), M=int(M), k=int(k), dtype=_dtype_name(dtype), ctx=ctx or current_context())


def linspace(start, stop, num, endpoint=True, ctx=None, dtype=None):
    """``num`` evenly spaced values from ``start`` to ``stop``.

    Parameters
    ----------
    start : float
        First value.
    stop : float
        Last value (included when ``endpoint``).
    num : int
        Number of values.
    endpoint : bool, default True
        Include ``stop``.
    ctx : Context, optional
        Device (default: the current context, ``mx.cpu()``).
    dtype : str or numpy dtype, optional
        Element type (default ``float32``).

    Returns
    -------
    NDArray
    """
    from . import _internal
    return _internal._linspace(start=float(start), stop=float(stop), num=int(num), endpoint=bool(endpoint),
                               dtype=_dtype_name(dtype), ctx=ctx or current_context())
