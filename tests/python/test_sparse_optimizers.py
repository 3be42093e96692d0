"""Optimizer steps on row_sparse gradients against real MXNet 1.9.1's results
(tests/data/sparse/sparse_optimizer_vectors.npz, made by make_sparse_optimizer_fixtures.py):
adagrad updates only the gradient's rows, ftrl too for row_sparse weights (kept in a kvstore),
ftrl on dense weights, sgd/adam with lazy_update=False and rmsprop see the dense gradient."""
import os

import numpy as np
import pytest

import mx

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sparse")


def _vectors():
    with np.load(os.path.join(DATA, "sparse_optimizer_vectors.npz")) as z:
        return {k: z[k] for k in z.files}


V = _vectors()


@pytest.mark.parametrize("case", range(int(V["count"])))
def test_sparse_gradient_steps_match_mxnet(case):
    opt = str(V["%d/opt" % case])
    kw = dict(eval(str(V["%d/kwargs" % case])))  # written by the fixture script: literals only
    o = mx.optimizer.create(opt, **kw)
    w0 = V["%d/w0" % case]
    if str(V["%d/weight_stype" % case]) == "row_sparse":
        # MX keeps a row_sparse weight where MXNet's Trainer does: in the kvstore
        kv = mx.kv.create("local")
        kv.set_optimizer(o)
        kv.init(0, mx.nd.array(w0).tostype("row_sparse"))
        w = mx.nd.zeros(w0.shape)
        step_fn = lambda g: (kv.push(0, g), kv.pull(0, out=w))  # noqa: E731
    else:
        w = mx.nd.array(w0)
        state = o.create_state(0, w)
        step_fn = lambda g: o.update(0, w, g, state)  # noqa: E731
    for step in range(3):
        step_fn(mx.nd.array(V["%d/g%d" % (case, step)]).tostype("row_sparse"))
        np.testing.assert_allclose(w.asnumpy(), V["%d/w%d" % (case, step + 1)], rtol=1e-5, atol=1e-6,
                                   err_msg="%s %s step %d" % (opt, kw, step))


def test_adagrad_leaves_absent_rows_alone_ftrl_only_for_sparse_weights():
    # adagrad: rows without gradient keep weight and state. ftrl on a dense weight is MXNet's
    # dense rule (its weight is a function of z and n: absent rows drop to 0 at the first step);
    # on a row_sparse weight (in a kvstore) only the gradient's rows change.
    rng = np.random.RandomState(3)
    w0 = rng.uniform(-1, 1, (5, 2)).astype(np.float32)
    g = np.zeros((5, 2), np.float32)
    g[[0, 3]] = rng.uniform(-1, 1, (2, 2))
    absent, present = [1, 2, 4], [0, 3]
    res = {}
    for opt in ("adagrad", "ftrl"):
        for how in ("sparse", "dense"):
            o = mx.optimizer.create(opt, learning_rate=0.1)
            w = mx.nd.array(w0)
            o.update(0, w, mx.nd.array(g).tostype("row_sparse") if how == "sparse" else mx.nd.array(g),
                     o.create_state(0, w))
            res[opt, how] = w.asnumpy()
    np.testing.assert_array_equal(res["adagrad", "sparse"][absent], w0[absent])
    np.testing.assert_allclose(res["adagrad", "sparse"][present], res["adagrad", "dense"][present], rtol=1e-6)
    np.testing.assert_array_equal(res["ftrl", "sparse"], res["ftrl", "dense"])
    assert (res["ftrl", "dense"][absent] == 0).all()
    kv = mx.kv.create("local")
    kv.set_optimizer(mx.optimizer.create("ftrl", learning_rate=0.1))
    kv.init("w", mx.nd.array(w0).tostype("row_sparse"))
    kv.push("w", mx.nd.array(g).tostype("row_sparse"))
    out = mx.nd.zeros((5, 2))
    kv.pull("w", out=out)
    np.testing.assert_array_equal(out.asnumpy()[absent], w0[absent])
    np.testing.assert_allclose(out.asnumpy()[present], res["ftrl", "dense"][present], rtol=1e-6)


def test_sparse_adagrad_refuses_weight_decay_as_mxnet():
    # MXNet 1.9.1 refuses it as well (its sparse adagrad kernel has no storage dispatch for wd != 0)
    assert "_sparse_adagrad_update" in str(V["adagrad_wd_error"])
    o = mx.optimizer.create("adagrad", learning_rate=0.1, wd=0.01)
    w = mx.nd.ones((3, 2))
    with pytest.raises(mx.base.MXError, match="weight decay"):
        o.update(0, w, mx.nd.ones((3, 2)).tostype("row_sparse"), o.create_state(0, w))
    np.testing.assert_array_equal(w.asnumpy(), np.ones((3, 2)))  # refused before any change
    o.update(0, w, mx.nd.ones((3, 2)), o.create_state(0, w))  # the dense gradient is fine
    assert (w.asnumpy() < 1).all()
