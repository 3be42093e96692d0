"""mx.nd.sparse: compressed sparse row (CSR) and row_sparse NDArrays (MXNet 1.x API).

The arrays live in libmx (a sparse NDArray is a handle whose parts, values and int64 indices,
are held by the core); this module builds them from Python/numpy/scipy data, exposes their
parts and calls the core's operators. No arithmetic happens here.
"""
import numbers

import numpy as np

from ..base import check_call, ffi, lib, MXNotSupportedError
from ..context import Context, current_context
from .ndarray import NDArray, array as _dense_array, dtype_code, dtype_np, _wrap_any, _CODE_OF
from .ndarray import _STORAGE_TYPE_STR_TO_ID, _STORAGE_TYPE_ID_TO_STR
from . import op as _op
from . import _internal

try:
    import scipy.sparse as spsp
except ImportError:  # scipy is optional: only conversions to and from scipy need it
    spsp = None

__all__ = ["csr_matrix", "row_sparse_array", "BaseSparseNDArray", "CSRNDArray", "RowSparseNDArray",
           "add", "subtract", "multiply", "divide", "zeros", "empty", "array"]

_DATA, _INDICES, _INDPTR = 0, 1, 2
py_slice = slice  # `slice` below becomes the operator, as in MXNet


class BaseSparseNDArray(NDArray):
    """Base class of the sparse arrays: logical ``shape``, values ``dtype``, ``stype``, and the
    parts (``data``, ``indices``; ``indptr`` for CSR) as dense NDArrays sharing memory."""

    __slots__ = ()

    @property
    def stype(self):
        c = ffi.new("int *")
        check_call(lib.mx_ndarray_stype(self.handle, c))
        return _STORAGE_TYPE_ID_TO_STR[c[0]]

    def _part(self, which):
        h = ffi.new("mx_ndarray_t *")
        check_call(lib.mx_ndarray_sparse_part(self.handle, which, h))
        return NDArray(h[0])

    @property
    def data(self):
        """The stored values (dense NDArray sharing memory with this array)."""
        return self._part(_DATA)

    @property
    def indices(self):
        """int64 indices: row numbers (row_sparse) or column numbers (csr)."""
        return self._part(_INDICES)

    def __repr__(self):
        shape = "x".join(str(d) for d in self.shape)
        return "\n<%s %s @%s>" % (type(self).__name__, shape, self.context)

    def asnumpy(self):
        """The dense values as a numpy array."""
        return self.tostype("default").asnumpy()

    def astype(self, dtype, copy=True):
        """The same sparse structure with values converted to ``dtype``."""
        if not copy and dtype_code(dtype) == self._code():
            return self
        parts = [self.data.astype(dtype)] + self._index_parts()
        return _from_parts(self.stype, self.shape, parts)

    def copy(self):
        return self.copyto(self.context)

    def copyto(self, other):
        """Copy into ``other`` (an NDArray of any storage type: values are converted to its
        storage type and dtype) or onto a Context (cpu only)."""
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

    def reshape(self, *shape, **kwargs):
        raise MXNotSupportedError("reshape is not supported for %s arrays; convert with "
                                  "tostype('default') first" % self.stype)

    def check_format(self, full_check=True):
        """Raise MXNetError if the parts do not form a valid array (indices in bounds and
        sorted, consistent counts). The core checks when an array is built, so this rebuilds
        a copy from the parts."""
        _from_parts(self.stype, self.shape, [self.data] + self._index_parts())

    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __sub__(self, other):
        return subtract(self, other)

    def __rsub__(self, other):
        return subtract(other, self)

    def __mul__(self, other):
        return multiply(self, other)

    def __rmul__(self, other):
        return multiply(other, self)

    def __truediv__(self, other):
        return divide(self, other)

    def __rtruediv__(self, other):
        return divide(other, self)

    __div__ = __truediv__
    __rdiv__ = __rtruediv__

    def __neg__(self):
        return _op.negative(self)

    def _inplace(self, res):
        check_call(lib.mx_ndarray_copy(res.handle, self.handle))
        return self

    def __iadd__(self, other):
        return self._inplace(add(self, other))

    def __isub__(self, other):
        return self._inplace(subtract(self, other))

    def __imul__(self, other):
        return self._inplace(multiply(self, other))

    def __itruediv__(self, other):
        return self._inplace(divide(self, other))

    __idiv__ = __itruediv__


class CSRNDArray(BaseSparseNDArray):
    """A 2-d array in compressed sparse row format: ``data`` [nnz] values, ``indices`` [nnz]
    column numbers (increasing within a row) and ``indptr`` [rows+1] row offsets."""

    __slots__ = ()

    @property
    def indptr(self):
        """int64 row offsets into ``data``/``indices`` (rows+1 entries)."""
        return self._part(_INDPTR)

    def _index_parts(self):
        return [self.indptr, self.indices]

    def __getitem__(self, key):
        if isinstance(key, numbers.Integral):
            n = self.shape[0]
            if not -n <= key < n:
                raise IndexError("index %d is out of bounds for axis 0 with size %d" % (key, n))
            key = py_slice(key % n, key % n + 1)
        if isinstance(key, py_slice):
            if key.step not in (None, 1):
                raise ValueError("CSRNDArray only supports slices with step 1, got %r" % (key.step,))
            begin, end, _ = key.indices(self.shape[0])
            return _op.slice(self, begin=(begin,), end=(max(begin, end),))
        raise ValueError("CSRNDArray only supports integer and slice indexing on the first axis, got %r" % (key,))

    def __setitem__(self, key, value):
        if not (isinstance(key, py_slice) and key == py_slice(None)):
            raise ValueError("CSRNDArray only supports assignment to the whole array (x[:] = value)")
        if isinstance(value, NDArray):
            check_call(lib.mx_ndarray_copy(value.handle, self.handle))
        else:
            src = _dense_array(np.asarray(value, dtype=dtype_np(self._code())), ctx=self.context)
            check_call(lib.mx_ndarray_copy(src.handle, self.handle))

    def tostype(self, stype):
        """Convert to 'default' (dense) or 'csr' (a copy); csr to row_sparse is not allowed (as in MXNet)."""
        if stype == "row_sparse":
            raise ValueError("cast_storage from csr to row_sparse is not supported")
        return _op.cast_storage(self, stype=stype)

    def asscipy(self):
        """A ``scipy.sparse.csr_matrix`` with copies of the parts."""
        if spsp is None:
            raise ImportError("asscipy needs scipy")
        return spsp.csr_matrix((self.data.asnumpy(), self.indices.asnumpy(), self.indptr.asnumpy()),
                               shape=self.shape)


class RowSparseNDArray(BaseSparseNDArray):
    """An array storing only some rows (axis 0): ``data`` [nnz_rows, ...] values and ``indices``
    [nnz_rows] increasing int64 row numbers; all other rows are zero."""

    __slots__ = ()

    def _index_parts(self):
        return [self.indices]

    def __getitem__(self, key):
        if isinstance(key, py_slice) and key == py_slice(None):
            return self
        raise ValueError("RowSparseNDArray only supports x[:] (convert with tostype('default') to index)")

    def __setitem__(self, key, value):
        if not (isinstance(key, py_slice) and key == py_slice(None)):
            raise ValueError("RowSparseNDArray only supports assignment to the whole array (x[:] = value)")
        if isinstance(value, NDArray):
            check_call(lib.mx_ndarray_copy(value.handle, self.handle))
        else:
            src = _dense_array(np.broadcast_to(np.asarray(value, dtype=dtype_np(self._code())), self.shape),
                               ctx=self.context)
            check_call(lib.mx_ndarray_copy(src.handle, self.handle))

    def tostype(self, stype):
        """Convert to 'default' (dense) or 'row_sparse' (a copy); row_sparse to csr is not allowed (as in MXNet)."""
        if stype == "csr":
            raise ValueError("cast_storage from row_sparse to csr is not supported")
        return _op.cast_storage(self, stype=stype)

    def retain(self, indices):
        """The rows whose numbers are in ``indices`` (an NDArray); other rows become zero."""
        return _internal._sparse_retain(self, indices)


_CLASS_OF = {1: RowSparseNDArray, 2: CSRNDArray}


def _cls_of(stype_code):
    return _CLASS_OF.get(stype_code, NDArray)


def _index_nd(x, ctx):
    if isinstance(x, NDArray):
        return x
    return _dense_array(np.asarray(x, dtype=np.int64), ctx=ctx, dtype=np.int64)


def _values_nd(x, ctx, dtype):
    if isinstance(x, NDArray):
        return x if dtype is None else x.astype(dtype, copy=False)
    a = np.asarray(x)
    if dtype is None:
        dtype = a.dtype if isinstance(x, np.ndarray) and a.dtype in _CODE_OF else np.float32
    return _dense_array(a, ctx=ctx, dtype=dtype)


def _from_parts(stype, shape, parts):
    """Build a sparse array in the core from dense part arrays (validated and copied there)."""
    code = _STORAGE_TYPE_STR_TO_ID[stype]
    shape = tuple(int(d) for d in shape)
    h = ffi.new("mx_ndarray_t *")
    check_call(lib.mx_ndarray_sparse_new(code, ffi.new("int64_t[]", shape), len(shape), len(parts),
                                         ffi.new("mx_ndarray_t[]", [p.handle for p in parts]), h))
    return _CLASS_OF[code](h[0])


def _check_ctx(ctx):
    ctx = ctx or current_context()
    if ctx.device_type != "cpu":
        raise MXNotSupportedError("sparse arrays live on the cpu in MX, got ctx=%s" % (ctx,))
    return ctx


def _is_shape(arg):
    return isinstance(arg, tuple) and arg and all(isinstance(d, numbers.Integral) for d in arg)


def zeros(stype, shape, ctx=None, dtype=None, **kwargs):
    """An all-zero array of storage type ``stype`` ('default', 'row_sparse' or 'csr')."""
    if stype == "default":
        from .utils import zeros as _zeros
        return _zeros(shape, ctx=ctx, dtype=dtype, **kwargs)
    if stype not in ("row_sparse", "csr"):
        raise ValueError("zeros: unknown storage type %r" % (stype,))
    ctx = _check_ctx(ctx)
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    dt = dtype or np.float32
    if stype == "csr":
        if len(shape) != 2:
            raise ValueError("csr arrays must be 2-d, got shape %s" % (shape,))
        parts = [_dense_array(np.zeros(0), ctx=ctx, dtype=dt), _index_nd(np.zeros(shape[0] + 1), ctx),
                 _index_nd(np.zeros(0), ctx)]
    else:
        if len(shape) < 1:
            raise ValueError("row_sparse arrays need at least 1 dimension")
        parts = [_dense_array(np.zeros((0,) + shape[1:]), ctx=ctx, dtype=dt), _index_nd(np.zeros(0), ctx)]
    return _from_parts(stype, shape, parts)


def empty(stype, shape, ctx=None, dtype=None):
    """MXNet's empty sparse array: no stored values (the same as zeros)."""
    return zeros(stype, shape, ctx=ctx, dtype=dtype)


def csr_matrix(arg1, shape=None, ctx=None, dtype=None):
    """A CSRNDArray from: a dense array-like, a CSRNDArray or scipy sparse matrix, a shape
    ``(M, N)`` (all zeros), ``(data, indices, indptr)`` or ``(data, (row, col))`` (COO, needs scipy)."""
    ctx = _check_ctx(ctx)
    if isinstance(arg1, tuple) and len(arg1) == 2 and _is_shape(arg1):
        return zeros("csr", arg1, ctx=ctx, dtype=dtype)
    if isinstance(arg1, tuple) and len(arg1) == 2 and isinstance(arg1[1], tuple) and len(arg1[1]) == 2:
        if spsp is None:
            raise ImportError("csr_matrix from (data, (row, col)) needs scipy")
        data, (row, col) = [np.asarray(x.asnumpy() if isinstance(x, NDArray) else x)
                            for x in (arg1[0],)] + [tuple(np.asarray(y.asnumpy() if isinstance(y, NDArray) else y)
                                                          for y in arg1[1])]
        return csr_matrix(spsp.coo_matrix((data, (row, col)), shape=shape).tocsr(), ctx=ctx,
                          dtype=dtype or np.float32)
    if isinstance(arg1, tuple) and len(arg1) == 3:
        data, indices, indptr = arg1
        indices, indptr = _index_nd(indices, ctx), _index_nd(indptr, ctx)
        if shape is None:
            ind = indices.asnumpy()
            shape = (indptr.shape[0] - 1, int(ind.max()) + 1 if ind.size else 0)
        return _from_parts("csr", shape, [_values_nd(data, ctx, dtype), indptr, indices])
    if isinstance(arg1, CSRNDArray):
        out = arg1.copyto(ctx)
        return out if dtype is None else out.astype(dtype)
    if isinstance(arg1, BaseSparseNDArray):
        raise ValueError("csr_matrix: unexpected input of storage type %s" % arg1.stype)
    if spsp is not None and spsp.issparse(arg1):
        m = arg1.tocsr(copy=True)
        m.sum_duplicates()  # canonical: sorted, unique column indices per row
        if shape is not None and tuple(shape) != m.shape:
            raise ValueError("csr_matrix: shape %s does not match the matrix's %s" % (shape, m.shape))
        return _from_parts("csr", m.shape, [_values_nd(m.data, ctx, dtype), _index_nd(m.indptr, ctx),
                                            _index_nd(m.indices, ctx)])
    dense = arg1 if isinstance(arg1, NDArray) else _values_nd(arg1, ctx, dtype)
    if dtype is not None:
        dense = dense.astype(dtype, copy=False)
    if shape is not None and tuple(shape) != dense.shape:
        raise ValueError("csr_matrix: shape %s does not match the input's %s" % (shape, dense.shape))
    if dense.ndim != 2:
        raise ValueError("csr_matrix: a csr array must be 2-d, got shape %s" % (dense.shape,))
    return _op.cast_storage(dense, stype="csr")


def row_sparse_array(arg1, shape=None, ctx=None, dtype=None):
    """A RowSparseNDArray from: a dense array-like, a RowSparseNDArray, a shape (all zeros) or
    ``(data, indices)`` with data [nnz_rows, ...] and increasing row numbers ``indices``."""
    ctx = _check_ctx(ctx)
    if isinstance(arg1, tuple) and _is_shape(arg1):
        return zeros("row_sparse", arg1, ctx=ctx, dtype=dtype)
    if isinstance(arg1, tuple) and len(arg1) == 2:
        data, indices = arg1
        data = _values_nd(data, ctx, dtype)
        indices = _index_nd(indices, ctx)
        if data.ndim == 0:
            raise ValueError("row_sparse_array: data must have at least 1 dimension")
        if shape is None:
            ind = indices.asnumpy()
            shape = (int(ind.max()) + 1 if ind.size else 0,) + data.shape[1:]
        return _from_parts("row_sparse", shape, [data, indices])
    if isinstance(arg1, RowSparseNDArray):
        out = arg1.copyto(ctx)
        return out if dtype is None else out.astype(dtype)
    if isinstance(arg1, BaseSparseNDArray):
        raise ValueError("row_sparse_array: unexpected input of storage type %s" % arg1.stype)
    dense = arg1 if isinstance(arg1, NDArray) else _values_nd(arg1, ctx, dtype)
    if dtype is not None:
        dense = dense.astype(dtype, copy=False)
    if shape is not None and tuple(shape) != dense.shape:
        raise ValueError("row_sparse_array: shape %s does not match the input's %s" % (shape, dense.shape))
    return _op.cast_storage(dense, stype="row_sparse")


def array(source_array, ctx=None, dtype=None):
    """A sparse array from a sparse NDArray or a scipy.sparse matrix (becomes csr)."""
    if isinstance(source_array, CSRNDArray):
        return csr_matrix(source_array, ctx=ctx, dtype=dtype)
    if isinstance(source_array, RowSparseNDArray):
        return row_sparse_array(source_array, ctx=ctx, dtype=dtype)
    if spsp is not None and spsp.issparse(source_array):
        return csr_matrix(source_array, ctx=ctx, dtype=dtype)
    raise ValueError("mx.nd.sparse.array: expected a sparse NDArray or a scipy.sparse matrix, got %s"
                     % type(source_array).__name__)


def _binary(lhs, rhs, elemwise, broadcast, scalar, rscalar):
    if isinstance(lhs, NDArray) and isinstance(rhs, NDArray):
        if lhs.shape == rhs.shape:
            return elemwise(lhs, rhs)
        return broadcast(lhs, rhs)
    if isinstance(lhs, NDArray) and isinstance(rhs, numbers.Number):
        return scalar(lhs, scalar=float(rhs))
    if isinstance(rhs, NDArray) and isinstance(lhs, numbers.Number):
        return rscalar(rhs, scalar=float(lhs))
    if isinstance(lhs, np.ndarray) or isinstance(rhs, np.ndarray):
        ctx = (lhs if isinstance(lhs, NDArray) else rhs).context
        lhs = _dense_array(lhs, ctx=ctx) if isinstance(lhs, np.ndarray) else lhs
        rhs = _dense_array(rhs, ctx=ctx) if isinstance(rhs, np.ndarray) else rhs
        return _binary(lhs, rhs, elemwise, broadcast, scalar, rscalar)
    raise TypeError("unsupported operand types %s and %s" % (type(lhs).__name__, type(rhs).__name__))


def add(lhs, rhs):
    """lhs + rhs for sparse or dense arrays and scalars (elementwise when shapes match, else broadcast)."""
    return _binary(lhs, rhs, _op.elemwise_add, _op.broadcast_add, _internal._plus_scalar, _internal._plus_scalar)


def subtract(lhs, rhs):
    """lhs - rhs (see add)."""
    return _binary(lhs, rhs, _op.elemwise_sub, _op.broadcast_sub, _internal._minus_scalar,
                   _internal._rminus_scalar)


def multiply(lhs, rhs):
    """lhs * rhs (see add)."""
    return _binary(lhs, rhs, _op.elemwise_mul, _op.broadcast_mul, _internal._mul_scalar, _internal._mul_scalar)


def divide(lhs, rhs):
    """lhs / rhs (see add)."""
    return _binary(lhs, rhs, _op.elemwise_div, _op.broadcast_div, _internal._div_scalar, _internal._rdiv_scalar)


# MXNet's mx.nd.sparse also holds the operators that have sparse kernels (or take sparse inputs).
from .._sparse_op_names import install as _install  # noqa: E402
_install(globals(), _op, _internal)
