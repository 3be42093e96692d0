"""Training with sparse storage: Gluon Parameter(grad_stype=...), Embedding(sparse_grad=True) with a
Trainer (lazy sgd), and LibSVMIter's csr batches against real MXNet 1.9.1's (tests/data/sparse)."""
import os

import numpy as np
import pytest

import mx
from mx import autograd, gluon
from mx.base import MXNotSupportedError

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sparse")


def test_parameter_grad_stype():
    p = gluon.Parameter("w", shape=(5, 2), grad_stype="row_sparse", init=mx.init.One())
    p.initialize()
    assert p.grad_stype == "row_sparse" and p.grad().stype == "row_sparse"
    with pytest.raises(ValueError):
        gluon.Parameter("w", shape=(5, 2), grad_stype="coo")
    with pytest.raises(MXNotSupportedError, match="csr"):
        gluon.Parameter("w", shape=(5, 2), stype="csr")
    assert gluon.Parameter("w", shape=(5, 2), stype="row_sparse").stype == "row_sparse"


@pytest.mark.parametrize("hybridize", [False, True])
def test_sparse_embedding_trains_only_seen_rows(hybridize):
    rng = np.random.RandomState(0)
    w0 = rng.uniform(-1, 1, (10, 3)).astype(np.float32)
    net = gluon.nn.Embedding(10, 3, sparse_grad=True)
    net.initialize()
    net.weight.set_data(mx.nd.array(w0))
    if hybridize:
        net.hybridize()
    assert net.weight.grad().stype == "row_sparse"
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5, "wd": 0.1})
    x = np.array([[1, 2], [2, 5]])
    head = rng.uniform(-1, 1, (2, 2, 3)).astype(np.float32)
    with autograd.record():
        loss = (net(mx.nd.array(x)) * mx.nd.array(head)).sum()
    loss.backward()
    g = net.weight.grad()
    assert g.stype == "row_sparse"
    np.testing.assert_array_equal(g.indices.asnumpy(), [1, 2, 5])
    dense_g = np.zeros_like(w0)
    np.add.at(dense_g, x.reshape(-1), head.reshape(-1, 3))
    np.testing.assert_allclose(g.asnumpy(), dense_g, rtol=1e-6)
    trainer.step(1)
    # lazy sgd: the seen rows get gradient and weight decay, the others stay as they were
    want = w0.copy()
    rows = [1, 2, 5]
    want[rows] = w0[rows] - 0.5 * (dense_g[rows] + 0.1 * w0[rows])
    np.testing.assert_allclose(net.weight.data().asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_libsvm_iter_matches_mxnet():
    with np.load(os.path.join(DATA, "libsvm_batches.npz")) as z:
        ref = {k: z[k] for k in z.files}
    it = mx.io.LibSVMIter(data_libsvm=os.path.join(DATA, "sample.libsvm"), data_shape=(5,), batch_size=4)
    assert it.provide_data[0].shape == (4, 5) and it.provide_label[0].shape == (4,)
    seen = 0
    for ep in range(2):
        for i, b in enumerate(it):
            key = "%d/%d/" % (ep, i)
            assert b.data[0].stype == "csr"
            np.testing.assert_array_equal(b.data[0].asnumpy(), ref[key + "dense"])
            np.testing.assert_array_equal(b.data[0].indptr.asnumpy(), ref[key + "indptr"])
            np.testing.assert_array_equal(b.label[0].asnumpy(), ref[key + "label"])
            assert b.pad == int(ref[key + "pad"])
            seen += 1
        it.reset()
    assert seen == len([k for k in ref if k.endswith("/pad")])


def test_libsvm_iter_errors(tmp_path):
    p = tmp_path / "bad.libsvm"
    p.write_text("1 0:1 7:2\n")
    with pytest.raises(mx.base.MXError, match="out of range"):
        mx.io.LibSVMIter(data_libsvm=str(p), data_shape=(5,), batch_size=1)
    p.write_text("1 0:1 0:2\n")
    with pytest.raises(mx.base.MXError, match="twice"):
        mx.io.LibSVMIter(data_libsvm=str(p), data_shape=(5,), batch_size=1)
    p.write_text("1 0=1\n")
    with pytest.raises(mx.base.MXError, match="index:value"):
        mx.io.LibSVMIter(data_libsvm=str(p), data_shape=(5,), batch_size=1)
    with pytest.raises(MXNotSupportedError):
        mx.io.LibSVMIter(data_libsvm=str(p), data_shape=(5,), batch_size=1, round_batch=False)


def test_linear_model_on_libsvm_batches_learns():
    # A csr batch through dot into a dense weight: the row_sparse gradient trains it.
    rng = np.random.RandomState(1)
    true_w = rng.uniform(-1, 1, (20, 1)).astype(np.float32)
    w = mx.nd.zeros((20, 1))
    w.attach_grad(stype="row_sparse")
    opt = mx.optimizer.create("sgd", learning_rate=0.1, lazy_update=True)
    x_all = (rng.rand(64, 20) < 0.3) * rng.uniform(-1, 1, (64, 20)).astype(np.float32)
    y_all = x_all @ true_w
    first = None
    for epoch in range(30):
        tot = 0.0
        for b in range(0, 64, 16):
            x = mx.nd.sparse.csr_matrix(x_all[b:b + 16].astype(np.float32))
            y = mx.nd.array(y_all[b:b + 16])
            with autograd.record():
                loss = mx.nd.sum(mx.nd.square(mx.nd.dot(x, w) - y))
            loss.backward()
            opt.update(0, w, w.grad, None)
            tot += float(loss.asscalar())
        first = tot if first is None else first
    assert tot < 0.05 * first


def test_kvstore_row_sparse_pull():
    kv = mx.kv.create("local")
    w = np.arange(12, dtype=np.float32).reshape(6, 2)
    kv.init("w", mx.nd.array(w))
    out = mx.nd.sparse.zeros("row_sparse", (6, 2))
    kv.row_sparse_pull("w", out=out, row_ids=mx.nd.array([4, 1, 4], dtype="int64"))
    assert out.stype == "row_sparse"
    np.testing.assert_array_equal(out.indices.asnumpy(), [1, 4])
    want = np.zeros_like(w)
    want[[1, 4]] = w[[1, 4]]
    np.testing.assert_array_equal(out.asnumpy(), want)
    dense = mx.nd.ones((6, 2))
    kv.row_sparse_pull("w", out=dense, row_ids=mx.nd.array([0]))
    want = np.zeros_like(w)
    want[0] = w[0]
    np.testing.assert_array_equal(dense.asnumpy(), want)
    with pytest.raises(mx.base.MXError, match="out of bounds"):
        kv.row_sparse_pull("w", out=out, row_ids=mx.nd.array([6]))
