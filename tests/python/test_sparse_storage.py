"""Sparse storage (csr, row_sparse): construction, parts, conversion, validation, the storage
fallback for ops without sparse kernels, and autograd with sparse gradient buffers.
References: scipy.sparse and numpy."""
import numpy as np
import pytest
import scipy.sparse as sp

import mx
from mx.base import MXError, MXNotSupportedError
from mx.ndarray.sparse import CSRNDArray, RowSparseNDArray


def _rand_sparse_dense(rng, shape, density, rows_only=False):
    d = rng.uniform(-1, 1, size=shape)
    if rows_only:
        d *= (rng.rand(shape[0], *([1] * (len(shape) - 1))) < density)
    else:
        d *= rng.rand(*shape) < density
    return d.astype(np.float32)


def test_csr_from_dense_matches_scipy_parts():
    rng = np.random.RandomState(0)
    d = _rand_sparse_dense(rng, (7, 9), 0.3)
    ref = sp.csr_matrix(d)
    c = mx.nd.sparse.csr_matrix(d)
    assert isinstance(c, CSRNDArray) and c.stype == "csr" and c.shape == (7, 9) and c.dtype == np.float32
    np.testing.assert_array_equal(c.data.asnumpy(), ref.data)
    np.testing.assert_array_equal(c.indices.asnumpy(), ref.indices)
    np.testing.assert_array_equal(c.indptr.asnumpy(), ref.indptr)
    assert c.indices.dtype == np.int64 and c.indptr.dtype == np.int64
    np.testing.assert_array_equal(c.asnumpy(), d)
    np.testing.assert_array_equal(c.asscipy().toarray(), d)
    # the same through NDArray.tostype and cast_storage
    c2 = mx.nd.array(d).tostype("csr")
    np.testing.assert_array_equal(c2.indptr.asnumpy(), ref.indptr)
    c3 = mx.nd.cast_storage(mx.nd.array(d), stype="csr")
    assert isinstance(c3, CSRNDArray)


def test_csr_from_scipy_parts_and_coo():
    rng = np.random.RandomState(1)
    m = sp.random(6, 5, density=0.4, format="csr", random_state=rng, dtype=np.float64)
    c = mx.nd.sparse.array(m)
    assert c.dtype == np.float64
    np.testing.assert_array_equal(c.asnumpy(), m.toarray())
    # unsorted, duplicated scipy input is canonicalised by scipy before it reaches the core
    coo = sp.coo_matrix((np.array([1., 2., 3.]), (np.array([0, 0, 2]), np.array([3, 3, 1]))), shape=(3, 4))
    c = mx.nd.sparse.csr_matrix(coo)
    np.testing.assert_array_equal(c.asnumpy(), coo.toarray())
    c = mx.nd.sparse.csr_matrix((np.array([1., 2., 3.]), (np.array([0, 0, 2]), np.array([3, 1, 1]))),
                                shape=(3, 4))
    np.testing.assert_array_equal(c.asnumpy(), sp.coo_matrix(
        (np.array([1., 2., 3.]), (np.array([0, 0, 2]), np.array([3, 1, 1]))), shape=(3, 4)).toarray())
    # (data, indices, indptr), shape inferred like MXNet's (rows from indptr, columns from the max index)
    c = mx.nd.sparse.csr_matrix(([5., 6., 7.], [1, 4, 0], [0, 2, 2, 3]))
    assert c.shape == (3, 5)
    np.testing.assert_array_equal(c.asnumpy(), sp.csr_matrix(([5., 6., 7.], [1, 4, 0], [0, 2, 2, 3]),
                                                             shape=(3, 5)).toarray())


def test_row_sparse_from_dense_and_parts():
    rng = np.random.RandomState(2)
    d = _rand_sparse_dense(rng, (8, 3, 2), 0.4, rows_only=True)
    r = mx.nd.sparse.row_sparse_array(d)
    assert isinstance(r, RowSparseNDArray) and r.stype == "row_sparse" and r.shape == (8, 3, 2)
    rows = np.nonzero(np.abs(d).reshape(8, -1).sum(axis=1))[0]
    np.testing.assert_array_equal(r.indices.asnumpy(), rows)
    np.testing.assert_array_equal(r.data.asnumpy(), d[rows])
    np.testing.assert_array_equal(r.asnumpy(), d)
    r2 = mx.nd.sparse.row_sparse_array(([[1., 2.], [3., 4.]], [1, 4]), shape=(6, 2))
    expect = np.zeros((6, 2), np.float32)
    expect[[1, 4]] = [[1, 2], [3, 4]]
    np.testing.assert_array_equal(r2.asnumpy(), expect)
    assert mx.nd.sparse.row_sparse_array(([[1., 2.]], [3])).shape == (4, 2)


def test_zeros_empty_and_storage_conversions():
    z = mx.nd.sparse.zeros("csr", (3, 4))
    assert z.stype == "csr" and z.data.shape == (0,) and z.indptr.asnumpy().tolist() == [0, 0, 0, 0]
    np.testing.assert_array_equal(z.asnumpy(), np.zeros((3, 4)))
    z = mx.nd.sparse.zeros("row_sparse", (5, 2), dtype="float64")
    assert z.dtype == np.float64 and z.data.shape == (0, 2)
    assert mx.nd.sparse.empty("row_sparse", (2, 2)).asnumpy().sum() == 0
    d = np.array([[0, 1.5], [0, 0], [2, 0]], dtype=np.float32)
    c = mx.nd.array(d).tostype("csr")
    np.testing.assert_array_equal(c.tostype("default").asnumpy(), d)
    assert type(c.tostype("default")) is mx.nd.NDArray
    with pytest.raises(ValueError):
        c.tostype("row_sparse")  # MXNet refuses csr -> row_sparse
    r = c.tostype("default").tostype("row_sparse")
    np.testing.assert_array_equal(r.indices.asnumpy(), [0, 2])
    with pytest.raises(ValueError):
        r.tostype("csr")
    # astype keeps the structure; copyto converts storage and dtype
    c64 = c.astype("float64")
    assert c64.stype == "csr" and c64.dtype == np.float64
    np.testing.assert_array_equal(c64.asnumpy(), d)
    dense = mx.nd.zeros((3, 2))
    c.copyto(dense)
    np.testing.assert_array_equal(dense.asnumpy(), d)
    target = mx.nd.sparse.zeros("row_sparse", (3, 2))
    mx.nd.array(d).copyto(target)
    assert target.stype == "row_sparse"
    np.testing.assert_array_equal(target.indices.asnumpy(), [0, 2])
    np.testing.assert_array_equal(target.asnumpy(), d)
    cc = c.copy()
    assert cc.stype == "csr" and cc.handle != c.handle
    np.testing.assert_array_equal(cc.asnumpy(), d)


def test_parts_are_validated():
    with pytest.raises(MXError, match="out of bounds"):
        mx.nd.sparse.csr_matrix(([1., 2.], [0, 5], [0, 1, 2]), shape=(2, 3))
    with pytest.raises(MXError, match="strictly increasing"):
        mx.nd.sparse.csr_matrix(([1., 2.], [2, 1], [0, 2, 2]), shape=(2, 3))
    with pytest.raises(MXError, match="indptr"):
        mx.nd.sparse.csr_matrix(([1., 2.], [0, 1], [0, 2, 1]), shape=(2, 3))
    with pytest.raises(MXError, match="indptr"):
        mx.nd.sparse.csr_matrix(([1., 2.], [0, 1], [0, 1]), shape=(2, 3))
    with pytest.raises(MXError, match="row index"):
        mx.nd.sparse.row_sparse_array(([[1.], [2.]], [0, 9]), shape=(4, 1))
    with pytest.raises(MXError, match="strictly increasing"):
        mx.nd.sparse.row_sparse_array(([[1.], [2.]], [2, 1]), shape=(4, 1))
    with pytest.raises(MXError, match="shape"):
        mx.nd.sparse.row_sparse_array(([[1., 2.]], [0]), shape=(4, 3))
    with pytest.raises(MXError, match="integers"):
        mx.nd.sparse.row_sparse_array((mx.nd.ones((1, 2)), mx.nd.array([0.5])), shape=(4, 2))
    with pytest.raises(ValueError):
        mx.nd.sparse.csr_matrix(np.ones((2, 2, 2)))


def test_dense_only_functions_refuse_sparse():
    c = mx.nd.sparse.csr_matrix(np.eye(3, dtype=np.float32))
    with pytest.raises(MXNotSupportedError):
        c.reshape((9,))
    h = mx.base.ffi.new("void **")
    rc = mx.base.lib.mx_ndarray_data(c.handle, h)
    assert rc == mx.base.lib.MX_ERR_UNSUPPORTED
    assert "csr" in mx.base.py_str(mx.base.lib.mx_last_error())


def test_storage_fallback_ops_match_numpy():
    rng = np.random.RandomState(3)
    d = _rand_sparse_dense(rng, (5, 6), 0.4)
    c = mx.nd.sparse.csr_matrix(d)
    r = mx.nd.sparse.row_sparse_array(d)
    w = rng.uniform(-1, 1, (6, 3)).astype(np.float32)
    for s in (c, r):
        np.testing.assert_allclose(mx.nd.exp(s).asnumpy(), np.exp(d), rtol=1e-6)
        np.testing.assert_allclose(mx.nd.broadcast_add(s, mx.nd.ones((1, 6))).asnumpy(), d + 1, rtol=1e-6)
        np.testing.assert_allclose(mx.nd.FullyConnected(s, mx.nd.array(w.T), num_hidden=3, no_bias=True).asnumpy(),
                                   d @ w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(mx.nd.softmax(s, axis=1).asnumpy(),
                                   np.exp(d) / np.exp(d).sum(axis=1, keepdims=True), rtol=1e-5)
        np.testing.assert_allclose(mx.nd.transpose(s).asnumpy(), d.T)
        # dense NDArray operators with a sparse operand
        np.testing.assert_allclose((mx.nd.array(d) * s).asnumpy(), d * d, rtol=1e-6)
    # float16 values go through the same fallback
    h = mx.nd.sparse.csr_matrix(d.astype(np.float16))
    assert h.dtype == np.float16
    np.testing.assert_allclose(mx.nd.relu(h).asnumpy(), np.maximum(d, 0).astype(np.float16))


def test_fallback_writes_into_sparse_out():
    d = np.array([[0, -1.], [2, 0], [0, 0]], dtype=np.float32)
    out = mx.nd.sparse.zeros("row_sparse", (3, 2))
    mx.nd.abs(mx.nd.array(d), out=out)
    assert out.stype == "row_sparse"
    np.testing.assert_array_equal(out.indices.asnumpy(), [0, 1])
    np.testing.assert_array_equal(out.asnumpy(), np.abs(d))


def test_setitem_whole_array():
    c = mx.nd.sparse.zeros("csr", (2, 3))
    c[:] = np.array([[0, 1, 0], [0, 0, 2]], dtype=np.float32)
    np.testing.assert_array_equal(c.indices.asnumpy(), [1, 2])
    r = mx.nd.sparse.zeros("row_sparse", (3, 2))
    r[:] = mx.nd.array([[0, 0], [1, 1], [0, 0]])
    np.testing.assert_array_equal(r.indices.asnumpy(), [1])


def test_autograd_row_sparse_gradient_buffer():
    rng = np.random.RandomState(4)
    x = _rand_sparse_dense(rng, (4, 5), 0.5)
    w0 = rng.uniform(-1, 1, (5, 3)).astype(np.float32)
    w = mx.nd.array(w0)
    w.attach_grad(stype="row_sparse")
    assert w.grad.stype == "row_sparse"
    xs = mx.nd.sparse.csr_matrix(x)
    with mx.autograd.record():
        y = mx.nd.dot(xs, w)
        loss = (y * y).sum()
    loss.backward()
    g = w.grad
    assert isinstance(g, RowSparseNDArray)
    expect = x.T @ (2 * (x @ w0))
    np.testing.assert_allclose(g.asnumpy(), expect, rtol=1e-5, atol=1e-5)
    # rows of w that no input touches hold no values
    untouched = np.nonzero(np.abs(x).sum(axis=0) == 0)[0]
    assert not set(untouched) & set(g.indices.asnumpy().tolist())


def test_rand_ndarray_sparse():
    from mx import test_utils as tu
    r = tu.rand_ndarray((20, 3), stype="row_sparse", density=0.5)
    assert r.stype == "row_sparse"
    assert set(r.indices.asnumpy().tolist()) == set(np.nonzero(np.abs(r.asnumpy()).sum(axis=1))[0].tolist())
