"""The NDArray class: a handle to a libmx array, with numpy interop and operators."""
import numbers

import numpy as np

from ..base import check_call, ffi, lib, MXError
from ..context import Context, current_context, cpu
from . import _internal_ops as _ops

__all__ = ["NDArray", "array", "empty", "waitall", "from_numpy", "dtype_np", "dtype_code"]

_CODE_OF = {
    np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.float16): 2, np.dtype(np.uint8): 3,
    np.dtype(np.int32): 4, np.dtype(np.int8): 5, np.dtype(np.int64): 6, np.dtype(np.bool_): 7,
}
_NP_OF = {v: k.type for k, v in _CODE_OF.items()}
_BF16 = 12
py_slice = slice  # MXNet's name for Python's slice (its ndarray module shadows `slice`)
_STORAGE_TYPE_STR_TO_ID = {"undefined": -1, "default": 0, "row_sparse": 1, "csr": 2}
_STORAGE_TYPE_ID_TO_STR = {v: k for k, v in _STORAGE_TYPE_STR_TO_ID.items()}
_NAMES = {0: "float32", 1: "float64", 2: "float16", 3: "uint8", 4: "int32", 5: "int8", 6: "int64",
          7: "bool", 12: "bfloat16"}


class _BFloat16Marker:
    """numpy has no bfloat16: MX names it by this marker (dtype='bfloat16' works too)."""
    name = "bfloat16"

    def __repr__(self):
        return "bfloat16"


bfloat16 = _BFloat16Marker()


def dtype_code(dtype):
    """MX dtype code of a numpy dtype, type, or name (None -> float32)."""
    if dtype is None:
        return 0
    if dtype is bfloat16 or (isinstance(dtype, str) and dtype == "bfloat16"):
        return _BF16
    try:
        return _CODE_OF[np.dtype(dtype)]
    except (KeyError, TypeError):
        raise TypeError("unsupported dtype %r (MX supports float32, float64, float16, bfloat16, "
                        "uint8, int8, int32, int64 and bool)" % (dtype,)) from None


def dtype_np(code):
    """numpy type of an MX dtype code (bfloat16 -> the bfloat16 marker)."""
    if code == _BF16:
        return bfloat16
    return _NP_OF[code]


def _shape_tuple(shape):
    """A shape as a tuple of Python ints: an int or a sequence of integers (numpy integers too).
    Floats and strings are a TypeError, as numpy's, rather than silently truncated."""
    import operator
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    if isinstance(shape, (str, bytes)):
        raise TypeError("shape must be an int or a tuple of ints, got %r" % (shape,))
    try:
        return tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError("shape must be an int or a tuple of ints, got %r" % (shape,)) from None


def _new_handle(shape, code, ctx):
    shape = _shape_tuple(shape)
    h = ffi.new("mx_ndarray_t *")
    check_call(lib.mx_ndarray_new(ffi.new("int64_t[]", shape) if shape else ffi.NULL, len(shape), code,
                                  ctx.device_typeid, ctx.device_id, h))
    return h[0]


def _wrap(handle):
    a = NDArray.__new__(NDArray)
    a.handle = handle
    return a


def _wrap_any(handle):
    """Like _wrap, choosing CSRNDArray / RowSparseNDArray for sparse handles (one extra call)."""
    c = ffi.new("int *")
    check_call(lib.mx_ndarray_stype(handle, c))
    if c[0] == 0:
        return _wrap(handle)
    from .sparse import _cls_of
    a = _cls_of(c[0]).__new__(_cls_of(c[0]))
    a.handle = handle
    return a


_free = lib.mx_ndarray_free


class NDArray:
    """An n-dimensional array on a device, backed by libmx (MXNet 1.x ``mx.nd.NDArray``).

    Create arrays with :func:`mx.nd.array`, ``mx.nd.zeros``/``ones``/``full``/``arange`` or any
    operator. Arithmetic (``+ - * / ** %%``, comparisons) broadcasts like numpy; indexing with ints,
    slices, lists and arrays follows MXNet (basic slices of the first axis are views that share
    memory). Every registered operator is also a method (``x.sum(axis=1)``, ``x.reshape(...)``).
    Arrays are row-major with the same logical shape in Python, R and Julia.

    Parameters
    ----------
    handle : cdata
        An owned ``mx_ndarray_t`` handle (internal: use the creation functions).

    Example
    -------
    >>> x = mx.nd.array([[1, 2], [3, 4]])
    >>> (x * 2 + 1).asnumpy()
    array([[3., 5.],
           [7., 9.]], dtype=float32)
    >>> x.shape, x.dtype, x.sum(axis=0).asnumpy()
    ((2, 2), <class 'numpy.float32'>, array([4., 6.], dtype=float32))
    """

    __slots__ = ("handle", "__weakref__")
    __array_priority__ = 1000.0  # numpy defers to our operators

    def __init__(self, handle):
        self.handle = handle

    def __del__(self, _free=_free, _null=ffi.NULL):
        # Clear the handle before freeing it, so a second __del__ (or a use afterwards) never
        # reaches a freed handle: released exactly once. Runs once per array, so it is kept
        # to the cheapest operations (bound defaults, not global lookups; a cdata is false when
        # NULL); the defaults also keep working while the interpreter tears modules down.
        h = getattr(self, "handle", None)
        if h:
            self.handle = _null  # later use: a clear "NULL array handle" error from the core
            _free(h)

    # ------------------------------------------------------------------ properties
    @property
    def shape(self):
        nd = ffi.new("int *")
        p = ffi.new("const int64_t **")
        check_call(lib.mx_ndarray_shape(self.handle, nd, p))
        return tuple(p[0][0:nd[0]])

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = ffi.new("int64_t *")
        check_call(lib.mx_ndarray_size(self.handle, n))
        return n[0]

    def _code(self):
        c = ffi.new("int *")
        check_call(lib.mx_ndarray_dtype(self.handle, c))
        return c[0]

    @property
    def dtype(self):
        return dtype_np(self._code())

    @property
    def context(self):
        t = ffi.new("int[2]")
        check_call(lib.mx_ndarray_device(self.handle, t, t + 1))
        return Context(t[0], t[1])

    ctx = context

    @property
    def stype(self):
        """Storage type: 'default' (dense); sparse arrays are CSRNDArray / RowSparseNDArray."""
        return "default"

    def tostype(self, stype):
        """A copy with storage type ``stype``: 'default', 'row_sparse' or 'csr' (2-d).

        Parameters
        ----------
        stype : str

        Returns
        -------
        NDArray, RowSparseNDArray or CSRNDArray
        """
        from . import op
        return op.cast_storage(self, stype=stype)

    @property
    def T(self):
        if self.ndim < 2:
            return self
        from . import op
        return op.transpose(self)

    # ------------------------------------------------------------------ numpy interop
    def asnumpy(self):
        """A numpy copy of the array (bfloat16 arrays come back as float32)."""
        code = self._code()
        if code == _BF16:
            return self.astype(np.float32).asnumpy()
        out = np.empty(self.shape, dtype=_NP_OF[code])
        check_call(lib.mx_ndarray_copy_to(self.handle, ffi.from_buffer(out, require_writable=True), out.nbytes))
        return out

    def __array__(self, dtype=None, copy=None):
        a = self.asnumpy()
        return a if dtype is None else a.astype(dtype)

    def asscalar(self):
        """The value of a one-element array, as a numpy scalar (ValueError otherwise)."""
        if self.size != 1:
            raise ValueError("asscalar: the array has %d elements, not 1" % self.size)
        return self.asnumpy().reshape(-1)[0]

    def item(self):
        """The value of a one-element array, as a Python number."""
        return self.asscalar().item()

    def tolist(self):
        """The values as nested Python lists."""
        return self.asnumpy().tolist()

    def __float__(self):
        return float(self.asscalar())

    def __int__(self):
        return int(self.asscalar())

    def __index__(self):
        if self.size != 1 or self._code() not in (3, 4, 5, 6):
            raise TypeError("only integer scalar arrays can be converted to an index")
        return int(self.asscalar())

    def __bool__(self):
        n = self.size
        if n == 0:
            return False
        if n > 1:
            raise ValueError("the truth value of an array with more than one element is ambiguous")
        return bool(self.asscalar())

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d array")
        return shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        return "\n%s\n<NDArray %s @%s>" % (str(self.asnumpy()), "x".join(str(d) for d in self.shape)
                                          or "()", self.context)

    def __getstate__(self):
        return {"data": self.asnumpy(), "ctx": self.context}

    def __setstate__(self, state):
        a = array(state["data"], ctx=state.get("ctx"), dtype=state["data"].dtype)
        self.handle = a.handle
        a.handle = None

    # ------------------------------------------------------------------ copies and views
    def copy(self):
        """A new array with the same values on the same device."""
        return self.copyto(self.context)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def copyto(self, other):
        """Copy into another NDArray (converting the dtype; shapes must match) or onto a Context.

        Parameters
        ----------
        other : NDArray or Context
            Destination array, or the device of a new array.

        Returns
        -------
        NDArray
            ``other``, or the new array.
        """
        if isinstance(other, NDArray):
            if other.handle == self.handle:
                return other
            check_call(lib.mx_ndarray_copy(self.handle, other.handle))
            return other
        if isinstance(other, Context):
            h = ffi.new("mx_ndarray_t *")
            check_call(lib.mx_ndarray_to_device(self.handle, other.device_typeid, other.device_id, h))
            return _wrap_any(h[0])
        raise TypeError("copyto: expected an NDArray or a Context, got %s" % type(other).__name__)

    def as_in_context(self, ctx):
        """This array on device ``ctx``: itself if it is there already, else a copy.

        Parameters
        ----------
        ctx : Context
            The device.

        Returns
        -------
        NDArray
        """
        if self.context == ctx:
            return self
        return self.copyto(ctx)

    as_in_ctx = as_in_context

    def astype(self, dtype, copy=True):
        """The array converted to another dtype.

        Parameters
        ----------
        dtype : str or numpy dtype
            E.g. ``'float64'``, ``np.int32``, ``'float16'``, ``'bfloat16'``.
        copy : bool, default True
            When False and the dtype is already right, return this array itself.

        Returns
        -------
        NDArray
        """
        code = dtype_code(dtype)
        if not copy and code == self._code():
            return self
        from .. import autograd
        if autograd.is_recording():  # differentiable, as MXNet's: the gradient is cast back
            from . import op
            return op.Cast(self, dtype="bfloat16" if code == _BF16 else np.dtype(dtype).name)
        out = _wrap(_new_handle(self.shape, code, self.context))
        check_call(lib.mx_ndarray_copy(self.handle, out.handle))
        return out

    def reshape(self, *shape, **kwargs):
        """Reshape; MXNet's special codes (0, -1, -2, -3, -4, reverse) are supported."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if "shape" in kwargs:
            shape = tuple(kwargs.pop("shape"))
        reverse = kwargs.pop("reverse", False)
        if kwargs:
            raise TypeError("reshape: unexpected arguments %s" % sorted(kwargs))
        if not reverse and all(isinstance(d, numbers.Integral) and d >= -1 for d in shape) and \
                sum(1 for d in shape if d == 0) == 0:
            from .. import autograd
            if not autograd.is_recording():
                h = ffi.new("mx_ndarray_t *")
                check_call(lib.mx_ndarray_reshape(self.handle, ffi.new("int64_t[]", [int(d) for d in shape]),
                                                  len(shape), h))
                return _wrap(h[0])
        from . import op
        return op.Reshape(self, shape=tuple(shape), reverse=reverse)

    def reshape_like(self, *args, **kwargs):
        """This array reshaped to the shape of ``rhs`` (the reshape_like op: ``rhs``, and optionally
        ``lhs_begin``/``lhs_end``/``rhs_begin``/``rhs_end`` to reshape a range of axes).

        Returns
        -------
        NDArray
        """
        from . import op
        return op.reshape_like(self, *args, **kwargs)

    def detach(self):
        """A new array sharing the data but cut from the autograd graph (no gradient flows through it)."""
        h = ffi.new("mx_ndarray_t *")
        check_call(lib.mx_ndarray_detach(self.handle, h))
        return _wrap_any(h[0])

    def wait_to_read(self):
        """Block until pending writes to this array are done (MX computes synchronously, so this returns at once)."""
        check_call(lib.mx_ndarray_wait_to_read(self.handle))

    def wait_to_write(self):
        """Block until pending reads and writes of this array are done."""
        self.wait_to_read()

    @property
    def _version(self):
        """The version of the storage this array views (MX-specific, for tests and caches): it
        changes whenever the bytes may have changed; see mx_ndarray_version in c_api.h."""
        out = ffi.new("uint64_t *")
        check_call(lib.mx_ndarray_version(self.handle, out))
        return int(out[0])

    # ------------------------------------------------------------------ autograd
    def attach_grad(self, grad_req="write", stype=None):
        """Allocate a gradient buffer (``x.grad``) and make this array a variable of recorded graphs.

        Parameters
        ----------
        grad_req : {'write', 'add', 'null'}, default 'write'
            Overwrite the gradient at each ``backward``, accumulate into it, or compute none.
        stype : str, optional
            Storage type of the gradient buffer ('default', 'row_sparse' or 'csr'); default: this
            array's own storage type (as MXNet).
        """
        from ..autograd import _GRAD_REQ
        if grad_req not in _GRAD_REQ:
            raise ValueError("attach_grad: grad_req must be 'write', 'add' or 'null', got %r" % (grad_req,))
        if stype is None:
            stype = self.stype
        grads = ffi.NULL
        if stype is not None and stype != "default":
            from .sparse import zeros as _sparse_zeros
            g = _sparse_zeros(stype, self.shape, ctx=self.context, dtype=self.dtype)
            grads = ffi.new("mx_ndarray_t[1]", [g.handle])
        check_call(lib.mx_autograd_mark_variables(1, ffi.new("mx_ndarray_t[1]", [self.handle]),
                                                  ffi.new("int[1]", [_GRAD_REQ[grad_req]]), grads))

    @property
    def grad(self):
        h = ffi.new("mx_ndarray_t *")
        check_call(lib.mx_ndarray_grad(self.handle, h))
        return None if h[0] == ffi.NULL else _wrap_any(h[0])

    @property
    def _fresh_grad(self):
        """MXNet's flag: backward wrote this array's gradient since the last optimizer step."""
        f = ffi.new("int *")
        check_call(lib.mx_ndarray_grad_fresh(self.handle, f))
        return bool(f[0])

    @_fresh_grad.setter
    def _fresh_grad(self, state):
        check_call(lib.mx_ndarray_set_grad_fresh(self.handle, int(bool(state))))

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        """Back-propagate from this array (recorded in ``autograd.record()``) into the variables' ``.grad``.

        Parameters
        ----------
        out_grad : NDArray, optional
            Gradient with respect to this array (default: ones).
        retain_graph : bool, default False
            Keep the graph for another backward pass.
        train_mode : bool, default True
            Run the backward pass in training mode.
        """
        from .. import autograd
        autograd.backward([self], None if out_grad is None else [out_grad], retain_graph, train_mode)

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, key):
        from . import indexing
        return indexing.getitem(self, key)

    def __setitem__(self, key, value):
        from . import indexing
        indexing.setitem(self, key, value)

    # ------------------------------------------------------------------ DLPack
    def __dlpack__(self, stream=None, **kwargs):
        from .. import dlpack
        return dlpack.to_dlpack_capsule(self)

    def __dlpack_device__(self):
        ctx = self.context
        return (2, ctx.device_id) if ctx.device_type == "gpu" else (1, 0)

    def to_dlpack_for_read(self):
        """A DLPack capsule viewing this array (zero-copy), e.g. for ``torch.utils.dlpack.from_dlpack``."""
        return self.__dlpack__()

    def to_dlpack_for_write(self):
        """A DLPack capsule viewing this array for writing (zero-copy)."""
        return self.__dlpack__()


def _binary(op_array, op_scalar, op_rscalar):
    """Build a dunder method: array (broadcasting) or scalar forms, reversed when asked."""
    h_arr = _ops.op_handle(op_array)
    h_scal = _ops.op_handle(op_scalar) if op_scalar else None
    h_rscal = _ops.op_handle(op_rscalar) if op_rscalar else None
    invoke1 = _ops.invoke1
    params = _ops.params_handle
    call_ab = lib.mx_op_invoke_ab
    null = ffi.NULL
    tls = _ops._tls
    out_slot = _ops.out_slot
    new = NDArray.__new__
    scal_params, scal_types = {}, {}  # parsed params per scalar value (1 == 1.0 == True: keep the type)

    def fwd(self, other):
        if type(other) is NDArray or isinstance(other, NDArray):  # the hot path, kept flat
            try:
                out = tls.out
            except AttributeError:
                out = out_slot()
            status = call_ab(h_arr, null, self.handle, other.handle, out)
            if status:
                check_call(status)
            r = new(NDArray)
            r.handle = out[0]
            return r
        if isinstance(other, numbers.Number):
            p = scal_params.get(other)
            if p is None or type(other) is not scal_types.get(other):
                p = scal_params[other] = params(op_scalar, {"scalar": other})
                scal_types[other] = type(other)
            try:
                out = tls.out
            except AttributeError:
                out = out_slot()
            status = call_ab(h_scal, p, self.handle, null, out)
            if status:
                check_call(status)
            r = new(NDArray)
            r.handle = out[0]
            return r
        if isinstance(other, np.ndarray):
            return fwd(self, array(other, ctx=self.context, dtype=self.dtype))
        return NotImplemented

    def rev(self, other):
        if isinstance(other, numbers.Number):
            if h_rscal is None:  # commutative
                return _wrap(invoke1(h_scal, params(op_scalar, {"scalar": other}), [self.handle]))
            return _wrap(invoke1(h_rscal, params(op_rscalar, {"scalar": other}), [self.handle]))
        if isinstance(other, np.ndarray):
            # Keep the converted operand alive across the call: taking .handle of a temporary
            # let it be freed before the op ran (numpy_array + nd_array segfaulted).
            lhs = array(other, ctx=self.context, dtype=self.dtype)
            return _wrap(invoke1(h_arr, _ops._NULL, [lhs.handle, self.handle]))
        return NotImplemented

    def inplace(self, other):
        if isinstance(other, np.ndarray):
            other = array(other, ctx=self.context, dtype=self.dtype)
        if isinstance(other, NDArray):
            _ops.invoke(h_arr, _ops._NULL, [self.handle, other.handle], [self.handle])
        elif isinstance(other, numbers.Number):
            _ops.invoke(h_scal, params(op_scalar, {"scalar": other}), [self.handle], [self.handle])
        else:
            return NotImplemented
        return self

    return fwd, rev, inplace


def _install_operators():
    table = [
        ("add", "broadcast_add", "_plus_scalar", None),
        ("sub", "broadcast_sub", "_minus_scalar", "_rminus_scalar"),
        ("mul", "broadcast_mul", "_mul_scalar", None),
        ("truediv", "broadcast_div", "_div_scalar", "_rdiv_scalar"),
        ("mod", "broadcast_mod", "_mod_scalar", "_rmod_scalar"),
        ("pow", "broadcast_power", "_power_scalar", "_rpower_scalar"),
    ]
    for name, arr, scal, rscal in table:
        f, r, i = _binary(arr, scal, rscal)
        setattr(NDArray, "__%s__" % name, f)
        setattr(NDArray, "__r%s__" % name, r)
        setattr(NDArray, "__i%s__" % name, i)
    NDArray.__div__ = NDArray.__truediv__
    NDArray.__rdiv__ = NDArray.__rtruediv__
    NDArray.__idiv__ = NDArray.__itruediv__
    for name, arr, scal in [("eq", "broadcast_equal", "_equal_scalar"),
                            ("ne", "broadcast_not_equal", "_not_equal_scalar"),
                            ("gt", "broadcast_greater", "_greater_scalar"),
                            ("ge", "broadcast_greater_equal", "_greater_equal_scalar"),
                            ("lt", "broadcast_lesser", "_lesser_scalar"),
                            ("le", "broadcast_lesser_equal", "_lesser_equal_scalar")]:
        f, _, _ = _binary(arr, scal, None)
        setattr(NDArray, "__%s__" % name, f)
    NDArray.__hash__ = object.__hash__

    neg = _ops.op_handle("_mul_scalar")

    def __neg__(self):
        return _wrap(_ops.invoke1(neg, _ops.params_handle("_mul_scalar", {"scalar": -1.0}), [self.handle]))

    NDArray.__neg__ = __neg__
    NDArray.__pos__ = lambda self: self

    def __abs__(self):
        from . import op
        return op.abs(self)

    NDArray.__abs__ = __abs__


_install_operators()


def empty(shape, ctx=None, dtype=None, stype=None):
    """A new array whose contents are uninitialised (arbitrary values).

    Parameters
    ----------
    shape : int or tuple of int
        The shape.
    ctx : Context, optional
        Device (default: the current context, ``mx.cpu()``).
    dtype : str or numpy dtype, optional
        Element type (default ``float32``).
    stype : str, optional
        ``"row_sparse"`` or ``"csr"`` give an empty sparse array (``mx.nd.sparse.empty``).

    Returns
    -------
    NDArray
    """
    if stype not in (None, "default"):
        from . import sparse
        return sparse.empty(stype, shape, ctx=ctx, dtype=dtype)
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    return _wrap(_new_handle(shape, dtype_code(dtype), ctx or current_context()))


def array(source_array, ctx=None, dtype=None):
    """An NDArray from a numpy array, an NDArray or nested lists (a copy).

    Parameters
    ----------
    source_array : array_like or NDArray
        The values.
    ctx : Context, optional
        Device (default: the current context, ``mx.cpu()``).
    dtype : str or numpy dtype, optional
        Element type: ``float32`` unless given, even for a float64 numpy array (as MXNet); an
        NDArray source keeps its dtype.

    Returns
    -------
    NDArray

    Example
    -------
    >>> mx.nd.array(np.arange(3, dtype=np.float64)).dtype
    <class 'numpy.float32'>
    >>> mx.nd.array([[1, 2]], dtype="int32").asnumpy()
    array([[1, 2]], dtype=int32)
    """
    ctx = ctx or current_context()
    if isinstance(source_array, NDArray):
        src = source_array
        out = empty(src.shape, ctx, dtype if dtype is not None else src.dtype)
        check_call(lib.mx_ndarray_copy(src.handle, out.handle))
        return out
    if dtype is None:  # MXNet: float32 unless the source is an NDArray
        dtype = np.float32
    code = dtype_code(dtype)
    if code == _BF16:
        return array(source_array, ctx, np.float32).astype(bfloat16)
    # numpy would silently drop imaginary parts and turn dates or digit strings into numbers.
    kind = getattr(source_array, "dtype", None)
    kind = kind.kind if isinstance(kind, np.dtype) else None
    if kind in ("c", "m", "M", "S", "U", "V"):
        raise TypeError("array: cannot convert an array of %s to %s" % (source_array.dtype, _NAMES[code]))
    try:
        src = np.asarray(source_array, dtype=_NP_OF[code])
        if not src.flags.c_contiguous:  # (np.ascontiguousarray would turn a 0-d source into shape (1,))
            src = np.ascontiguousarray(src)
    except (TypeError, ValueError) as e:
        raise TypeError("array: cannot convert %s to an array of %s: %s" % (
            type(source_array).__name__, _NAMES[code], e)) from None
    out = empty(src.shape, ctx, _NP_OF[code])
    if src.size:
        check_call(lib.mx_ndarray_copy_from(out.handle, ffi.from_buffer(src), src.nbytes))
    return out


def from_numpy(ndarray, zero_copy=True):
    """An NDArray from a numpy array, sharing its memory by default (through DLPack).

    Parameters
    ----------
    ndarray : numpy.ndarray
        A C-contiguous array.
    zero_copy : bool, default True
        Share the memory (writes through either are visible in both); False copies.

    Returns
    -------
    NDArray
    """
    from .. import dlpack
    if not zero_copy:
        return array(ndarray, dtype=ndarray.dtype)
    if not ndarray.flags["C_CONTIGUOUS"]:
        raise ValueError("from_numpy: only C-contiguous arrays can be shared (zero_copy=True); pass "
                         "numpy.ascontiguousarray(a) or zero_copy=False")
    if not ndarray.flags["WRITEABLE"]:
        # numpy refuses to export read-only arrays through DLPack; an array made read-only by an
        # earlier from_numpy (its base is writeable) is shared again, as MXNet allows
        try:
            ndarray.flags["WRITEABLE"] = True
        except ValueError:
            raise ValueError("from_numpy: the array is read-only; pass zero_copy=False to copy it") from None
    out = dlpack.from_dlpack(ndarray)
    # As MXNet: the NDArray now owns the memory, so the numpy view becomes read-only.
    ndarray.flags["WRITEABLE"] = False
    return out


def waitall():
    """Wait for all pending computation (MX computes synchronously; kept for MXNet code)."""
    check_call(lib.mx_waitall())
