"""Sparse kernels against numpy/scipy: dot (3 forms), elemwise add/sub/mul, scalar and unary maps,
sum/mean, csr slices, add_n, retain; Embedding(sparse_grad=True) gradients against finite
differences; sgd/adam lazy updates against real MXNet 1.9.1 vectors (tests/data/sparse)."""
import os

import numpy as np
import pytest
import scipy.sparse as sp

import mx
from mx.ndarray.sparse import CSRNDArray, RowSparseNDArray

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sparse")


def _csr(rng, shape, density, dtype=np.float32):
    m = sp.random(*shape, density=density, format="csr", random_state=rng, dtype=np.float64)
    return m.astype(dtype)


def _rsp_dense(rng, shape, density, dtype=np.float32):
    d = rng.uniform(-1, 1, shape) * (rng.rand(shape[0], *([1] * (len(shape) - 1))) < density)
    return d.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dot_three_forms(dtype):
    rng = np.random.RandomState(0)
    m = _csr(rng, (20, 15), 0.2, dtype)
    a = mx.nd.sparse.csr_matrix(m)
    b = rng.uniform(-1, 1, (15, 4)).astype(dtype)
    out = mx.nd.dot(a, mx.nd.array(b, dtype=dtype))
    assert type(out) is mx.nd.NDArray
    np.testing.assert_allclose(out.asnumpy(), m @ b, rtol=1e-5, atol=1e-6)
    c = rng.uniform(-1, 1, (20, 3)).astype(dtype)
    outT = mx.nd.dot(a, mx.nd.array(c, dtype=dtype), transpose_a=True)
    assert isinstance(outT, RowSparseNDArray)
    np.testing.assert_allclose(outT.asnumpy(), m.T @ c, rtol=1e-5, atol=1e-6)
    used = np.unique(m.indices)
    np.testing.assert_array_equal(outT.indices.asnumpy(), used)
    d = rng.uniform(-1, 1, (6, 20)).astype(dtype)
    np.testing.assert_allclose(mx.nd.dot(mx.nd.array(d, dtype=dtype), a).asnumpy(), d @ m, rtol=1e-5, atol=1e-6)
    # vector right-hand side, forward_stype, and a form without a kernel (fallback)
    v = rng.uniform(-1, 1, 15).astype(dtype)
    np.testing.assert_allclose(mx.nd.dot(a, mx.nd.array(v, dtype=dtype)).asnumpy(), m @ v, rtol=1e-5, atol=1e-6)
    fs = mx.nd.dot(a, mx.nd.array(b, dtype=dtype), forward_stype="csr")
    assert fs.stype == "csr"
    np.testing.assert_allclose(fs.asnumpy(), m @ b, rtol=1e-5, atol=1e-6)
    e = rng.uniform(-1, 1, (4, 15)).astype(dtype)
    np.testing.assert_allclose(mx.nd.dot(a, mx.nd.array(e, dtype=dtype), transpose_b=True).asnumpy(), m @ e.T,
                               rtol=1e-5, atol=1e-6)


def test_dot_shape_mismatch_is_an_error():
    a = mx.nd.sparse.csr_matrix(np.eye(3, dtype=np.float32))
    with pytest.raises(mx.base.MXError, match="dot"):
        mx.nd.dot(a, mx.nd.ones((4, 2)))


def test_elemwise_binary_storage_and_values():
    rng = np.random.RandomState(1)
    x, y = _csr(rng, (8, 9), 0.3), _csr(rng, (8, 9), 0.3)
    xd, yd = x.toarray(), y.toarray()
    cx, cy = mx.nd.sparse.csr_matrix(x), mx.nd.sparse.csr_matrix(y)
    rx, ry = mx.nd.array(xd).tostype("row_sparse"), mx.nd.array(_rsp_dense(rng, (8, 9), 0.5)).tostype("row_sparse")
    ryd = ry.asnumpy()
    dense = mx.nd.array(yd + 1)
    cases = [
        (mx.nd.elemwise_add(cx, cy), "csr", xd + yd),
        (mx.nd.elemwise_sub(cx, cy), "csr", xd - yd),
        (mx.nd.elemwise_mul(cx, cy), "csr", xd * yd),
        (mx.nd.elemwise_add(rx, ry), "row_sparse", xd + ryd),
        (mx.nd.elemwise_sub(rx, ry), "row_sparse", xd - ryd),
        (mx.nd.elemwise_mul(rx, ry), "row_sparse", xd * ryd),
        (mx.nd.elemwise_add(cx, dense), "default", xd + yd + 1),
        (mx.nd.elemwise_sub(dense, cx), "default", yd + 1 - xd),
        (mx.nd.elemwise_sub(rx, dense), "default", xd - yd - 1),
        (mx.nd.elemwise_mul(cx, dense), "csr", xd * (yd + 1)),
        (mx.nd.elemwise_mul(dense, ry), "row_sparse", (yd + 1) * ryd),
        (mx.nd.elemwise_add(cx, ry), "default", xd + ryd),  # csr with row_sparse: fallback
        (cx + cy, "csr", xd + yd),
        (rx - ry, "row_sparse", xd - ryd),
        (cx * dense, "csr", xd * (yd + 1)),
    ]
    for got, stype, want in cases:
        assert got.stype == stype
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-6, atol=1e-7)
    # multiplication keeps only the common rows
    assert set(mx.nd.elemwise_mul(rx, ry).indices.asnumpy()) <= set(ry.indices.asnumpy())
    # in-place operators keep the storage type
    z = cx.copy()
    z += cy
    assert z.stype == "csr"
    np.testing.assert_allclose(z.asnumpy(), xd + yd, rtol=1e-6)


def test_scalar_and_unary_maps_keep_storage():
    rng = np.random.RandomState(2)
    m = _csr(rng, (6, 7), 0.4)
    d = m.toarray()
    c = mx.nd.sparse.csr_matrix(m)
    r = mx.nd.array(d).tostype("row_sparse")
    for s in (c, r):
        for f, ref in [(mx.nd.square, np.square), (mx.nd.abs, np.abs), (mx.nd.sign, np.sign),
                       (mx.nd.relu, lambda v: np.maximum(v, 0)), (mx.nd.negative, np.negative),
                       (mx.nd.tanh, np.tanh), (mx.nd.expm1, np.expm1), (mx.nd.floor, np.floor)]:
            got = f(s)
            assert got.stype == s.stype, f
            np.testing.assert_allclose(got.asnumpy(), ref(d), rtol=1e-6, atol=1e-7)
        got = mx.nd.sqrt(mx.nd.abs(s))
        np.testing.assert_allclose(got.asnumpy(), np.sqrt(np.abs(d)), rtol=1e-6)
        assert (s * 3).stype == s.stype and (s / 2).stype == s.stype and (2 * s).stype == s.stype
        np.testing.assert_allclose((s * 3).asnumpy(), d * 3, rtol=1e-6)
        np.testing.assert_allclose((s / 2).asnumpy(), d / 2, rtol=1e-6)
        # not zero-preserving: dense results
        assert (s + 1).stype == "default" and mx.nd.exp(s).stype == "default"
        np.testing.assert_allclose((s + 1).asnumpy(), d + 1, rtol=1e-6)
        z = mx.nd.zeros_like(s)
        assert z.stype == s.stype and not z.asnumpy().any()


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_mean_csr(axis, keepdims):
    rng = np.random.RandomState(3)
    m = _csr(rng, (9, 5), 0.3)
    d = m.toarray()
    c = mx.nd.sparse.csr_matrix(m)
    np.testing.assert_allclose(mx.nd.sum(c, axis=axis, keepdims=keepdims).asnumpy(),
                               d.sum(axis=axis, keepdims=keepdims), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mx.nd.mean(c, axis=axis, keepdims=keepdims).asnumpy(),
                               d.mean(axis=axis, keepdims=keepdims), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mx.nd.sum(c).asnumpy(), d.sum(keepdims=False).reshape(1), rtol=1e-5)


def test_csr_slices():
    rng = np.random.RandomState(4)
    m = _csr(rng, (10, 8), 0.3)
    d = m.toarray()
    c = mx.nd.sparse.csr_matrix(m)
    for key in [slice(2, 7), slice(None, 3), slice(-4, None), slice(5, 5), 3]:
        got = c[key]
        assert isinstance(got, CSRNDArray)
        want = d[key] if not isinstance(key, int) else d[key:key + 1]
        np.testing.assert_array_equal(got.asnumpy(), want)
        ref = sp.csr_matrix(want)
        np.testing.assert_array_equal(got.indptr.asnumpy(), ref.indptr)
    got = mx.nd.slice(c, begin=(1, 2), end=(6, 7))
    assert got.stype == "csr"
    np.testing.assert_array_equal(got.asnumpy(), d[1:6, 2:7])
    np.testing.assert_array_equal(mx.nd.slice(c, begin=(0, 0), end=(None, None), step=(2, 1)).asnumpy(), d[::2])
    with pytest.raises(ValueError):
        c[::2]


def test_add_n_and_retain():
    rng = np.random.RandomState(5)
    ds = [_rsp_dense(rng, (7, 3), 0.4) for _ in range(3)]
    rs = [mx.nd.array(x).tostype("row_sparse") for x in ds]
    got = mx.nd.add_n(*rs)
    assert got.stype == "row_sparse"
    np.testing.assert_allclose(got.asnumpy(), sum(ds), rtol=1e-6)
    cs = [mx.nd.sparse.csr_matrix(_csr(rng, (4, 5), 0.4)) for _ in range(2)]
    got = mx.nd.ElementWiseSum(*cs)
    assert got.stype == "csr"
    np.testing.assert_allclose(got.asnumpy(), cs[0].asnumpy() + cs[1].asnumpy(), rtol=1e-6)
    mixed = mx.nd.add_n(rs[0], mx.nd.array(ds[1]))
    assert mixed.stype == "default"
    np.testing.assert_allclose(mixed.asnumpy(), ds[0] + ds[1], rtol=1e-6)
    keep = np.array([0, 2, 5, 6])
    got = mx.nd.sparse.retain(rs[0], mx.nd.array(keep, dtype="int64"))
    want = np.zeros_like(ds[0])
    want[keep] = ds[0][keep]
    assert got.stype == "row_sparse"
    np.testing.assert_array_equal(got.asnumpy(), want)
    np.testing.assert_array_equal(rs[0].retain(mx.nd.array(keep)).asnumpy(), want)
    with pytest.raises(mx.base.MXError, match="out of bounds"):
        mx.nd.sparse.retain(rs[0], mx.nd.array([9]))


def test_dot_gradient_is_row_sparse_and_matches_finite_differences():
    rng = np.random.RandomState(6)
    m = _csr(rng, (5, 6), 0.4, np.float64)
    a = mx.nd.sparse.csr_matrix(m)
    w0 = rng.uniform(-1, 1, (6, 2))
    w = mx.nd.array(w0, dtype="float64")
    w.attach_grad(stype="row_sparse")
    with mx.autograd.record():
        loss = mx.nd.sum(mx.nd.square(mx.nd.dot(a, w)))
    loss.backward()
    assert w.grad.stype == "row_sparse"

    def f(wv):
        return np.sum(np.square(m @ wv))
    eps, fd = 1e-6, np.zeros_like(w0)
    for i in range(w0.shape[0]):
        for j in range(w0.shape[1]):
            p, q = w0.copy(), w0.copy()
            p[i, j] += eps
            q[i, j] -= eps
            fd[i, j] = (f(p) - f(q)) / (2 * eps)
    np.testing.assert_allclose(w.grad.asnumpy(), fd, rtol=1e-6, atol=1e-8)


def test_embedding_sparse_grad_matches_finite_differences():
    rng = np.random.RandomState(7)
    idx = np.array([[1, 4, 1], [7, 4, 0]], dtype=np.float32)
    w0 = rng.uniform(-1, 1, (9, 3))
    head = rng.uniform(-1, 1, (2, 3, 3))
    results = {}
    for sparse_grad in (True, False):
        w = mx.nd.array(w0, dtype="float64")
        w.attach_grad()
        with mx.autograd.record():
            out = mx.nd.Embedding(mx.nd.array(idx), w, input_dim=9, output_dim=3, sparse_grad=sparse_grad)
            loss = mx.nd.sum(out * mx.nd.array(head, dtype="float64"))
        loss.backward()
        results[sparse_grad] = w.grad.asnumpy()
    # The row_sparse gradient itself, through autograd.grad.
    w = mx.nd.array(w0, dtype="float64")
    w.attach_grad(stype="row_sparse")
    with mx.autograd.record():
        out = mx.nd.Embedding(mx.nd.array(idx), w, input_dim=9, output_dim=3, sparse_grad=True)
        loss = mx.nd.sum(out * mx.nd.array(head, dtype="float64"))
    loss.backward()
    g = w.grad
    assert isinstance(g, RowSparseNDArray)
    np.testing.assert_array_equal(g.indices.asnumpy(), [0, 1, 4, 7])

    def f(wv):
        return np.sum(wv[idx.astype(int)] * head)
    eps, fd = 1e-6, np.zeros_like(w0)
    for i in range(9):
        for j in range(3):
            p, q = w0.copy(), w0.copy()
            p[i, j] += eps
            q[i, j] -= eps
            fd[i, j] = (f(p) - f(q)) / (2 * eps)
    for got in (results[True], results[False], g.asnumpy()):
        np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)


def _vectors():
    with np.load(os.path.join(DATA, "optimizer_vectors.npz")) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("case", [0, 1, 2, 3])
def test_lazy_update_matches_mxnet(case):
    v = _vectors()
    opt = str(v["%d/opt" % case])
    kw = dict(eval(str(v["%d/kwargs" % case])))  # written by make_sparse_fixtures.py: literals only
    o = mx.optimizer.create(opt, **kw)
    w = mx.nd.array(v["%d/w0" % case])
    state = o.create_state(0, w)
    for step in range(3):
        g = mx.nd.array(v["%d/g%d" % (case, step)]).tostype("row_sparse")
        o.update(0, w, g, state)
        np.testing.assert_allclose(w.asnumpy(), v["%d/w%d" % (case, step + 1)], rtol=1e-5, atol=1e-6,
                                   err_msg="%s step %d" % (opt, step))


def test_lazy_update_touches_only_gradient_rows_and_dense_update_differs():
    w0 = np.ones((4, 2), np.float32)
    g = np.zeros((4, 2), np.float32)
    g[2] = 1
    lazy = mx.nd.array(w0)
    mx.optimizer.create("sgd", learning_rate=0.1, wd=0.1, lazy_update=True).update(
        0, lazy, mx.nd.array(g).tostype("row_sparse"), None)
    full = mx.nd.array(w0)
    mx.optimizer.create("sgd", learning_rate=0.1, wd=0.1, lazy_update=False).update(
        0, full, mx.nd.array(g).tostype("row_sparse"), None)
    want_full = w0 - 0.1 * (g + 0.1 * w0)
    np.testing.assert_allclose(full.asnumpy(), want_full, rtol=1e-6)
    want_lazy = w0.copy()
    want_lazy[2] = want_full[2]
    np.testing.assert_allclose(lazy.asnumpy(), want_lazy, rtol=1e-6)
