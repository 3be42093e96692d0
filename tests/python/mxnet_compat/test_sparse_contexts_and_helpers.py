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
