"""MXNet 1.x API details around sparse arrays and Gluon helpers: nd.zeros/empty(stype=),
mx.sym.sparse, sparse arrays on a chosen cpu context, SyncBatchNorm (one device),
split_and_load of csr batches, Block.summary with nested inputs, test_utils.rand_sparse_ndarray."""
import numpy as np
import pytest
import scipy.sparse as sps

import mx
from mx import gluon
from mx.test_utils import rand_sparse_ndarray


@pytest.mark.parametrize("stype", ["row_sparse", "csr"])
def test_zeros_and_empty_take_sparse_stype(stype):
    z = mx.nd.zeros((3, 4), stype=stype, dtype="float64")
    assert z.stype == stype and z.dtype == np.float64
    np.testing.assert_array_equal(z.asnumpy(), np.zeros((3, 4)))
    e = mx.nd.empty((2, 5), stype=stype)
    assert e.stype == stype and e.shape == (2, 5)
    with pytest.raises(ValueError, match="storage type"):
        mx.nd.zeros((2, 2), stype="blocked")


def test_symbol_sparse_namespace_runs_csr_dot():
    x, w = mx.sym.var("x", stype="csr"), mx.sym.var("w")
    out = mx.sym.sparse.dot(x, w)
    xd = np.array([[0, 2, 0], [1, 0, 0]], dtype=np.float32)
    wd = np.arange(6, dtype=np.float32).reshape(3, 2)
    ex = out.bind(mx.cpu(), {"x": mx.nd.array(xd).tostype("csr"), "w": mx.nd.array(wd)})
    np.testing.assert_allclose(ex.forward()[0].asnumpy(), xd @ wd)
    assert mx.sym.sparse.retain is not None and mx.sym.sparse.elemwise_add is mx.sym.elemwise_add


@pytest.mark.parametrize("stype", ["row_sparse", "csr"])
def test_sparse_copies_land_on_the_requested_cpu(stype):
    a = mx.nd.array(np.eye(4, dtype=np.float32)).tostype(stype)
    for moved in (a.copyto(mx.cpu(1)), a.as_in_context(mx.cpu(2))):
        assert moved.stype == stype and moved.context.device_id in (1, 2)
        np.testing.assert_array_equal(moved.asnumpy(), np.eye(4))


def test_row_sparse_pull_keeps_the_output_context():
    kv = mx.kv.create("local")
    value = np.arange(8, dtype=np.float32).reshape(4, 2)
    kv.init(0, mx.nd.array(value).tostype("row_sparse"))
    out = mx.nd.sparse.zeros("row_sparse", (4, 2), ctx=mx.cpu(1))
    kv.row_sparse_pull(0, out=out, row_ids=mx.nd.array([2, 0], ctx=mx.cpu(1)))
    assert out.context == mx.cpu(1)
    expect = np.zeros_like(value)
    expect[[0, 2]] = value[[0, 2]]
    np.testing.assert_array_equal(out.asnumpy(), expect)


def test_row_sparse_parameter_data_on_each_context():
    x = gluon.Parameter("x", shape=(4, 2), stype="row_sparse")
    x.initialize(init="xavier", ctx=[mx.cpu(1), mx.cpu(2)])
    gluon.Trainer([x], "sgd")
    full = x._data[0].asnumpy()
    got = x.row_sparse_data(mx.nd.array([0, 1], ctx=mx.cpu(1)))
    assert got.context == mx.cpu(1)
    expect = np.zeros_like(full)
    expect[:2] = full[:2]
    np.testing.assert_array_equal(got.asnumpy(), expect)
    whole = x.row_sparse_data(mx.nd.arange(0, 4, ctx=mx.cpu(2)))
    assert whole.context == mx.cpu(2)
    np.testing.assert_array_equal(whole.asnumpy(), full)
    per_ctx = x.list_row_sparse_data(mx.nd.array([3]))
    assert [a.context for a in per_ctx] == [mx.cpu(1), mx.cpu(2)]


def test_sync_batch_norm_one_device_matches_numpy():
    data = np.random.RandomState(3).uniform(size=(12, 3, 4, 4)).astype(np.float32)
    bn = gluon.contrib.nn.SyncBatchNorm(in_channels=3, num_devices=1)
    bn.initialize()
    x = mx.nd.array(data)
    x.attach_grad()
    with mx.autograd.record():
        y = bn(x)
        loss = (y ** 2).sum()
    loss.backward()
    mean = data.mean(axis=(0, 2, 3), keepdims=True)
    var = data.var(axis=(0, 2, 3), keepdims=True)
    norm = (data - mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(y.asnumpy(), norm, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.data().asnumpy(), 0.1 * mean.ravel(), rtol=1e-5, atol=1e-7)
    # d/dx sum(norm^2) is zero up to rounding: the normalised output's norm does not depend on x
    assert np.abs(x.grad.asnumpy()).max() < 1e-2
    bn2 = gluon.contrib.nn.SyncBatchNorm(in_channels=3, num_devices=2)
    bn2.initialize()
    with pytest.raises(mx.base.MXNotSupportedError, match="ndev"):
        bn2(x)


def test_split_and_load_keeps_csr_batches_sparse():
    batch = mx.nd.sparse.csr_matrix(sps.coo_matrix(([2.0, 3.0], ([99, 10], [999, 5]))).tocsr())
    parts = gluon.utils.split_and_load(batch, [mx.cpu(0), mx.cpu(1)])
    assert [type(p).__name__ for p in parts] == ["CSRNDArray", "CSRNDArray"]
    assert [p.context for p in parts] == [mx.cpu(0), mx.cpu(1)]
    dense = batch.asnumpy()
    np.testing.assert_array_equal(np.concatenate([p.asnumpy() for p in parts]), dense)


def test_summary_accepts_nested_state_inputs(capsys):
    lstm = gluon.rnn.LSTM(30)
    lstm.initialize()
    lstm.summary(mx.nd.ones((8, 4, 5)), lstm.begin_state(4))
    printed = capsys.readouterr().out
    assert "(8, 4, 5)" in printed and "(1, 4, 30)" in printed
    assert "Total params: %d" % (4 * 30 * (5 + 30 + 2)) in printed


def test_rand_sparse_ndarray_returns_consistent_parts():
    arr, (values, rows) = rand_sparse_ndarray((10, 3), "row_sparse", density=0.5)
    dense = np.zeros((10, 3), dtype=np.float32)
    dense[rows] = values
    np.testing.assert_array_equal(arr.asnumpy(), dense)
    arr, (indptr, indices, data) = rand_sparse_ndarray((6, 7), "csr", density=0.3)
    np.testing.assert_array_equal(arr.asnumpy(), sps.csr_matrix((data, indices, indptr), shape=(6, 7)).toarray())
    arr, (values, rows) = rand_sparse_ndarray((5, 2), "row_sparse", rsp_indices=[3, 1], data_init=2)
    np.testing.assert_array_equal(rows, [1, 3])
    np.testing.assert_array_equal(arr.asnumpy()[[1, 3]], np.full((2, 2), 2.0))
    with pytest.raises(ValueError, match="stype"):
        rand_sparse_ndarray((2, 2), "default")


@pytest.mark.parametrize("stype", ["row_sparse", "csr"])
def test_recorded_unary_and_scalar_ops_take_sparse_inputs(stype):
    base = np.random.RandomState(4).uniform(size=(4, 5)).astype(np.float32)
    x = mx.nd.array(base).tostype(stype)
    grad = mx.nd.zeros_like(x)
    mx.autograd.mark_variables([x], [grad])
    with mx.autograd.record():
        y = (x ** 2) / 2 + mx.nd.exp(x)
    y.backward()
    np.testing.assert_allclose(y.asnumpy(), base ** 2 / 2 + np.exp(base), rtol=1e-6)
    np.testing.assert_allclose(grad.asnumpy(), base + np.exp(base), rtol=1e-6)


@pytest.mark.parametrize("stype", ["default", "row_sparse", "csr"])
def test_attach_grad_defaults_to_the_array_storage(stype):
    x = mx.nd.zeros((2, 2), stype=stype)
    x.attach_grad()
    assert x.grad.stype == stype
    x.attach_grad(stype="row_sparse")
    assert x.grad.stype == "row_sparse" and x.detach().stype == stype


def test_kvstore_pull_ignores_row_sparse_outputs_unless_asked():
    kv = mx.kv.create("local")
    kv.init("w", mx.nd.ones((3, 2)) * 2)
    out = mx.nd.sparse.zeros("row_sparse", (3, 2))
    kv.pull("w", out=out)  # MXNet: row_sparse outputs come from row_sparse_pull
    np.testing.assert_array_equal(out.asnumpy(), np.zeros((3, 2)))
    kv.pull("w", out=out, ignore_sparse=False)
    np.testing.assert_array_equal(out.asnumpy(), np.full((3, 2), 2.0))
    outs = [[mx.nd.sparse.zeros("row_sparse", (3, 2)) for _ in range(2)] for _ in range(2)]
    kv.init("v", mx.nd.ones((3, 2)))
    kv.row_sparse_pull(["w", "v"], out=outs, row_ids=[[mx.nd.array([0, 2])] * 2] * 2)
    for o, value in zip(outs, (2.0, 1.0)):
        for arr in o:
            np.testing.assert_array_equal(arr.asnumpy(), [[value] * 2, [0, 0], [value] * 2])


def test_trainer_with_sparse_gradients_updates_locally_by_default():
    params = gluon.ParameterDict()
    x = params.get("x", shape=(10, 1), grad_stype="row_sparse")
    params.initialize(ctx=[mx.cpu(0), mx.cpu(1)], init="zeros")
    trainer = gluon.Trainer(params, "sgd", {"learning_rate": 0.1}, kvstore="local")
    with mx.autograd.record():
        for w in x.list_data():
            (w + 1).backward()
    trainer.step(1)
    assert trainer._update_on_kvstore is False
    # two contexts each contribute a gradient of ones: w = 0 - 0.1 * 2
    np.testing.assert_allclose(x.data(mx.cpu(0)).asnumpy(), np.full((10, 1), -0.2), rtol=1e-6)
