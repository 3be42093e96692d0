"""row_sparse values in the KVStore and Gluon: push/pushpull sum them as row_sparse (the union of
rows), an optimizer on the store updates only those rows, Trainer with row_sparse gradients
(update_on_kvstore both ways), row_sparse Parameters read through row_sparse_pull
(gluon.contrib.nn.SparseEmbedding). Expected values are numpy sums and update formulas."""
import numpy as np
import pytest

import mx
from mx import autograd, gluon
from mx.base import MXNotSupportedError


def _rsp(dense):
    return mx.nd.array(dense).tostype("row_sparse")


def _rows(rng, shape, rows):
    d = np.zeros(shape, np.float32)
    d[rows] = rng.uniform(-1, 1, (len(rows),) + shape[1:])
    return d


def test_push_sums_row_sparse_values_as_row_sparse():
    rng = np.random.RandomState(0)
    kv = mx.kv.create("local")
    kv.init("g", mx.nd.zeros((6, 2)))
    a, b = _rows(rng, (6, 2), [1, 4]), _rows(rng, (6, 2), [0, 4])
    kv.push("g", [_rsp(a), _rsp(b)])
    out = mx.nd.sparse.zeros("row_sparse", (6, 2))
    kv.pull("g", out=out)  # MXNet's default ignore_sparse=True leaves row_sparse outputs alone
    assert out.stype == "row_sparse" and out.indices.shape == (0,)
    kv.pull("g", out=out, ignore_sparse=False)
    assert out.stype == "row_sparse"
    np.testing.assert_array_equal(out.indices.asnumpy(), [0, 1, 4])
    np.testing.assert_allclose(out.asnumpy(), a + b, rtol=1e-6)
    dense = mx.nd.ones((6, 2))
    kv.pull("g", out=dense)
    np.testing.assert_allclose(dense.asnumpy(), a + b, rtol=1e-6)
    # a row present with zero values stays a stored row (it matters to lazy updates)
    z = mx.nd.sparse.row_sparse_array((np.zeros((1, 2), np.float32), np.array([5])), shape=(6, 2))
    kv.pushpull("g", z, out=out)
    np.testing.assert_array_equal(out.indices.asnumpy(), [5])
    np.testing.assert_array_equal(out.asnumpy(), np.zeros((6, 2)))


def test_push_mixed_storage_sums_densely_and_csr_is_refused():
    kv = mx.kv.create("device")
    kv.init(3, mx.nd.zeros((4, 3)))
    a = np.zeros((4, 3), np.float32)
    a[2] = 1
    kv.push(3, [_rsp(a), mx.nd.ones((4, 3))])
    out = mx.nd.zeros((4, 3))
    kv.pull(3, out=out)
    np.testing.assert_array_equal(out.asnumpy(), a + 1)
    with pytest.raises(MXNotSupportedError, match="csr"):
        kv.push(3, mx.nd.ones((4, 3)).tostype("csr"))
    with pytest.raises(mx.base.MXError, match=r"\(4, 3\)"):
        kv.push(3, _rsp(np.ones((5, 3), np.float32)))


@pytest.mark.parametrize("opt,kw", [("sgd", {"learning_rate": 0.5, "wd": 0.1}),
                                    ("adagrad", {"learning_rate": 0.5})])
def test_optimizer_on_kvstore_updates_only_pushed_rows(opt, kw):
    rng = np.random.RandomState(1)
    w0 = rng.uniform(-1, 1, (5, 3)).astype(np.float32)
    kv = mx.kv.create("local")
    kv.set_optimizer(mx.optimizer.create(opt, **kw))
    kv.init(0, mx.nd.array(w0))
    a, b = _rows(rng, (5, 3), [1]), _rows(rng, (5, 3), [1, 3])
    kv.push(0, [_rsp(a), _rsp(b)])
    out = mx.nd.zeros((5, 3))
    kv.pull(0, out=out)
    g = a + b
    want = w0.copy()
    rows = [1, 3]
    if opt == "sgd":
        want[rows] = w0[rows] - 0.5 * (g[rows] + 0.1 * w0[rows])
    else:
        want[rows] = w0[rows] - 0.5 * g[rows] / np.sqrt(g[rows] ** 2 + 1e-7)
    np.testing.assert_allclose(out.asnumpy(), want, rtol=1e-5, atol=1e-6)


def _embed_net(w0, ctxs):
    net = gluon.nn.Embedding(w0.shape[0], w0.shape[1], sparse_grad=True)
    net.initialize(ctx=ctxs)
    net.weight.set_data(mx.nd.array(w0))
    return net


@pytest.mark.parametrize("update_on_kvstore", [True, False])
def test_trainer_row_sparse_gradients_through_kvstore(update_on_kvstore):
    rng = np.random.RandomState(2)
    w0 = rng.uniform(-1, 1, (8, 3)).astype(np.float32)
    ctxs = [mx.cpu(0), mx.cpu(1)]
    net = _embed_net(w0, ctxs)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5, "wd": 0.1},
                            kvstore=mx.kv.create("device"), update_on_kvstore=update_on_kvstore)
    xs = [np.array([1, 2, 2]), np.array([2, 6])]
    heads = [rng.uniform(-1, 1, (len(x), 3)).astype(np.float32) for x in xs]
    with autograd.record():
        losses = [(net(mx.nd.array(x, ctx=c)) * mx.nd.array(h, ctx=c)).sum()
                  for x, h, c in zip(xs, heads, ctxs)]
    autograd.backward(losses)
    trainer.step(2)
    g = np.zeros_like(w0)
    for x, h in zip(xs, heads):
        np.add.at(g, x, h)
    rows = [1, 2, 6]
    want = w0.copy()
    want[rows] = w0[rows] - 0.5 * (g[rows] / 2 + 0.1 * w0[rows])
    for d in net.weight.list_data():
        np.testing.assert_allclose(d.asnumpy(), want, rtol=1e-5, atol=1e-6)
    if not update_on_kvstore:  # the reduced gradient came back row_sparse to every context
        for gr in net.weight.list_grad():
            assert gr.stype == "row_sparse"
            np.testing.assert_array_equal(gr.indices.asnumpy(), rows)
            np.testing.assert_allclose(gr.asnumpy(), g, rtol=1e-6)


def test_row_sparse_parameter_and_sparse_embedding_train_in_kvstore():
    rng = np.random.RandomState(4)
    w0 = rng.uniform(-1, 1, (10, 4)).astype(np.float32)
    net = gluon.contrib.nn.SparseEmbedding(10, 4, weight_initializer=mx.init.Constant(mx.nd.array(w0)))
    net.initialize()
    p = net.weight
    assert p.stype == "row_sparse" and p.grad_stype == "row_sparse"
    with pytest.raises(RuntimeError, match="row_sparse_data"):
        p.data()
    with pytest.raises(RuntimeError, match="Trainer"):
        p.row_sparse_data(mx.nd.array([1]))
    trainer = gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.1}, kvstore="local")
    with pytest.raises(ValueError, match="update_on_kvstore=False"):
        gluon.Trainer(gluon.contrib.nn.SparseEmbedding(3, 2).collect_params(), "sgd",
                      update_on_kvstore=False)._init_kvstore()
    x = np.array([[3, 7], [7, 0]])
    pulled = p.row_sparse_data(mx.nd.array(x))
    assert pulled.stype == "row_sparse"
    np.testing.assert_array_equal(pulled.indices.asnumpy(), [0, 3, 7])
    np.testing.assert_allclose(pulled.asnumpy()[[0, 3, 7]], w0[[0, 3, 7]])
    head = rng.uniform(-1, 1, (2, 2, 4)).astype(np.float32)
    with autograd.record():
        out = net(mx.nd.array(x))
        loss = (out * mx.nd.array(head)).sum()
    np.testing.assert_allclose(out.asnumpy(), w0[x], rtol=1e-6)
    loss.backward()
    assert p.grad().stype == "row_sparse"
    trainer.step(1)
    g = np.zeros_like(w0)
    np.add.at(g, x.reshape(-1), head.reshape(-1, 4))
    # lazy adam, first step: m = 0.1 g, v = 0.001 g^2, lr_t = lr sqrt(1-b2)/(1-b1)
    rows = [0, 3, 7]
    lr_t = 0.1 * np.sqrt(1 - 0.999) / (1 - 0.9)
    want = w0.copy()
    want[rows] = w0[rows] - lr_t * (0.1 * g[rows]) / (np.sqrt(0.001 * g[rows] ** 2) + 1e-8)
    full = p.row_sparse_data(mx.nd.arange(10))
    np.testing.assert_allclose(full.asnumpy(), want, rtol=1e-4, atol=1e-6)
    # the whole value (for saving) comes from the kvstore too
    np.testing.assert_allclose(p._reduce().asnumpy(), want, rtol=1e-4, atol=1e-6)


def test_allreduce_row_sparse_in_place_and_mixed_keys():
    rng = np.random.RandomState(5)
    kv = mx.kv.create("device")
    kv.init(["a", "m"], [mx.nd.zeros((5, 2)), mx.nd.zeros((5, 2))])
    a, b = _rows(rng, (5, 2), [0, 2]), _rows(rng, (5, 2), [2, 3])
    xa, xb = _rsp(a), _rsp(b)
    ma, mb = _rsp(a), mx.nd.array(b)  # key 'm' mixes storage types: summed densely
    kv.allreduce(["a", "m"], [[xa, xb], [ma, mb]])
    for x in (xa, xb):
        assert x.stype == "row_sparse"
        np.testing.assert_array_equal(x.indices.asnumpy(), [0, 2, 3])
        np.testing.assert_allclose(x.asnumpy(), a + b, rtol=1e-6)
    assert ma.stype == "row_sparse" and mb.stype == "default"
    np.testing.assert_allclose(ma.asnumpy(), a + b, rtol=1e-6)
    np.testing.assert_allclose(mb.asnumpy(), a + b, rtol=1e-6)
