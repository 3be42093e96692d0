"""linalg_* operators (mx.nd.linalg / mx.sym.linalg) against Apache MXNet 1.9.1's outputs and
gradients (tests/data/linalg, made by make_linalg_vectors.py with a real MXNet) and against numpy."""
import json
import os

import numpy as np
import pytest

import mx

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "linalg", "mxnet_linalg_vectors.npz")
VECTORS = np.load(DATA)
MANIFEST = json.loads(str(VECTORS["manifest"]))


def run(op, params, inputs, heads, dtype):
    xs = [mx.nd.array(x, dtype=dtype) for x in inputs]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        out = getattr(mx.nd.linalg, op[len("linalg_"):])(*xs, **params)
    outs = out if isinstance(out, (list, tuple)) else [out]
    mx.autograd.backward(outs, [mx.nd.array(h, dtype=dtype) for h in heads])
    return [o.asnumpy() for o in outs], [x.grad.asnumpy() for x in xs]


def case_ids():
    return ["%d-%s-%s" % (i, c["op"], ",".join("%s=%s" % kv for kv in sorted(c["params"].items())))
            for i, c in enumerate(MANIFEST)]


@pytest.mark.parametrize("dtype,rtol,atol", [("float64", 1e-9, 1e-11), ("float32", 2e-4, 2e-5)])
@pytest.mark.parametrize("index", range(len(MANIFEST)), ids=case_ids())
def test_matches_mxnet(index, dtype, rtol, atol):
    case = MANIFEST[index]
    inputs = [VECTORS["%d_in%d" % (index, j)] for j in range(case["n_in"])]
    heads = [VECTORS["%d_head%d" % (index, j)] for j in range(case["n_out"])]
    outs, grads = run(case["op"], case["params"], inputs, heads, dtype)
    assert len(outs) == case["n_out"]
    for j, o in enumerate(outs):
        np.testing.assert_allclose(o, VECTORS["%d_out%d" % (index, j)], rtol=rtol, atol=atol,
                                   err_msg="%s output %d" % (case["op"], j))
    for j, g in enumerate(grads):
        np.testing.assert_allclose(g, VECTORS["%d_grad%d" % (index, j)], rtol=rtol, atol=atol * 10,
                                   err_msg="%s gradient of input %d" % (case["op"], j))


def test_forward_against_numpy():
    rng = np.random.RandomState(3)
    b = rng.uniform(-1, 1, (2, 4, 4))
    spd = b @ np.swapaxes(b, -1, -2) + 4 * np.eye(4)
    L = mx.nd.linalg.potrf(mx.nd.array(spd, dtype="float64")).asnumpy()
    np.testing.assert_allclose(L, np.linalg.cholesky(spd), rtol=1e-10)
    np.testing.assert_allclose(mx.nd.linalg.potri(mx.nd.array(L, dtype="float64")).asnumpy(), np.linalg.inv(spd),
                               rtol=1e-8)
    a = rng.uniform(-1, 1, (3, 5, 5))
    np.testing.assert_allclose(mx.nd.linalg.inverse(mx.nd.array(a, dtype="float64")).asnumpy(), np.linalg.inv(a),
                               rtol=1e-8)
    np.testing.assert_allclose(mx.nd.linalg.det(mx.nd.array(a, dtype="float64")).asnumpy(), np.linalg.det(a),
                               rtol=1e-10)
    sign, logabs = mx.nd.linalg.slogdet(mx.nd.array(a, dtype="float64"))
    ref_sign, ref_log = np.linalg.slogdet(a)
    np.testing.assert_array_equal(sign.asnumpy(), ref_sign)
    np.testing.assert_allclose(logabs.asnumpy(), ref_log, rtol=1e-10)
    w, _ = np.linalg.eigh(spd)
    U, lam = mx.nd.linalg.syevd(mx.nd.array(spd, dtype="float64"))
    np.testing.assert_allclose(lam.asnumpy(), w, rtol=1e-10)
    u = U.asnumpy()
    np.testing.assert_allclose(np.swapaxes(u, -1, -2) @ (lam.asnumpy()[..., None] * u), spd, rtol=1e-9)
    r = rng.uniform(-1, 1, (2, 3, 6))
    Q, Lq = mx.nd.linalg.gelqf(mx.nd.array(r, dtype="float64"))
    np.testing.assert_allclose(Lq.asnumpy() @ Q.asnumpy(), r, atol=1e-12)
    np.testing.assert_allclose(Q.asnumpy() @ np.swapaxes(Q.asnumpy(), -1, -2), np.broadcast_to(np.eye(3), (2, 3, 3)),
                               atol=1e-12)
    t = np.tril(rng.uniform(1, 2, (2, 3, 3)))
    rhs = rng.uniform(-1, 1, (2, 3, 2))
    np.testing.assert_allclose(mx.nd.linalg.trsm(mx.nd.array(t, dtype="float64"), mx.nd.array(rhs, dtype="float64"),
                                                 alpha=2.0).asnumpy(), np.linalg.solve(t, 2 * rhs), rtol=1e-9)
    np.testing.assert_allclose(mx.nd.linalg.syrk(mx.nd.array(r, dtype="float64"), transpose=True).asnumpy(),
                               np.swapaxes(r, -1, -2) @ r, rtol=1e-12)
    np.testing.assert_allclose(mx.nd.linalg.sumlogdiag(mx.nd.array(spd, dtype="float64")).asnumpy(),
                               np.log(np.diagonal(spd, axis1=1, axis2=2)).sum(-1), rtol=1e-12)


def test_gradient_by_finite_differences():
    rng = np.random.RandomState(5)
    a = rng.uniform(-1, 1, (3, 3)) + 2 * np.eye(3)
    x = mx.nd.array(a, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.linalg.inverse(x).sum() + mx.nd.linalg.slogdet(x)[1].sum()
    y.backward()

    def f(m):
        return np.linalg.inv(m).sum() + np.linalg.slogdet(m)[1]
    num = np.zeros_like(a)
    for i in range(3):
        for j in range(3):
            e = np.zeros_like(a)
            e[i, j] = 1e-6
            num[i, j] = (f(a + e) - f(a - e)) / 2e-6
    np.testing.assert_allclose(x.grad.asnumpy(), num, rtol=1e-6, atol=1e-8)


def test_symbolic_executor_matches_imperative():
    rng = np.random.RandomState(9)
    b = rng.uniform(-1, 1, (2, 3, 3))
    spd = b @ np.swapaxes(b, -1, -2) + 3 * np.eye(3)
    A = mx.sym.var("A")
    out = mx.sym.linalg.sumlogdiag(mx.sym.linalg.potrf(A))
    ex = out.simple_bind(mx.cpu(), A=(2, 3, 3), grad_req="write")
    ex.arg_dict["A"][:] = spd
    ex.forward(is_train=True)
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), 0.5 * np.linalg.slogdet(spd)[1], rtol=1e-5)
    ex.backward(mx.nd.ones((2,)))
    # d/dA of 0.5 log|A| is 0.5 A^-1 (symmetric)
    np.testing.assert_allclose(ex.grad_dict["A"].asnumpy(), 0.5 * np.linalg.inv(spd), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("call,fragment", [
    (lambda: mx.nd.linalg.potrf(mx.nd.array([[-1.0, 0], [0, 1]])), "not symmetric positive definite"),
    (lambda: mx.nd.linalg.inverse(mx.nd.array([[1.0, 1], [1, 1]])), "singular"),
    (lambda: mx.nd.linalg.det(mx.nd.ones((2, 3))), "square"),
    (lambda: mx.nd.linalg.gelqf(mx.nd.ones((3, 2))), "no more rows than columns"),
    (lambda: mx.nd.linalg.trsm(mx.nd.ones((3, 3)), mx.nd.ones((2, 4))), "does not fit"),
    (lambda: mx.nd.linalg.maketrian(mx.nd.ones((4,))), "triangular number"),
    (lambda: mx.nd.linalg.extractdiag(mx.nd.ones((3, 3)), offset=3), "out of range"),
    (lambda: mx.nd.linalg.potrf(mx.nd.ones((3,))), "at least 2 dimensions"),
])
def test_bad_input_is_a_clear_error(call, fragment):
    with pytest.raises(mx.MXNetError, match=fragment):
        call()


def test_singular_det_and_slogdet():
    m = mx.nd.array([[1.0, 2], [2, 4]], dtype="float64")
    assert mx.nd.linalg.det(m).asnumpy().tolist() == [0.0]
    sign, logabs = mx.nd.linalg.slogdet(m)
    assert sign.asnumpy().tolist() == [0.0] and logabs.asnumpy().tolist() == [-np.inf]
    m.attach_grad()
    with mx.autograd.record():
        d = mx.nd.linalg.det(m)
    d.backward()
    assert not m.grad.asnumpy().any()  # as MXNet: no gradient through a singular matrix
