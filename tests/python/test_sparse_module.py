"""Module with a row_sparse weight (sym.var(stype='row_sparse'), MXNet's sparse linear
classification example): the weight is bound row_sparse, the kvstore holds it and runs the
optimizer, Module.prepare(batch, sparse_row_id_fn) row_sparse_pulls only the rows a batch needs.
Reference: weights trained by MXNet 1.9.1 on the same LibSVM file
(tests/data/sparse/make_module_rsp_fixtures.py)."""
import json
import os
import sys
import warnings

import numpy as np
import pytest

import mx

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sparse")
sys.path.insert(0, DATA)
from make_module_rsp_fixtures import BATCH, EPOCHS, NUM_FEATURES, OPTIMIZERS, linear_model  # noqa: E402

VEC = np.load(os.path.join(DATA, "module_rsp_vectors.npz"))
LIBSVM = os.path.join(DATA, "module_rsp.libsvm")


def batch_rows(batch):
    return {"weight": batch.data[0].indices}


def all_rows(_):
    return {"weight": mx.nd.arange(0, NUM_FEATURES, dtype="int64")}


def _module(k, kvstore="local"):
    opt, kw = OPTIMIZERS[k]
    assert (str(VEC["%d/opt" % k]), json.loads(str(VEC["%d/kwargs" % k]))) == (opt, kw)
    it = mx.io.LibSVMIter(data_libsvm=LIBSVM, data_shape=(NUM_FEATURES,), batch_size=BATCH)
    mod = mx.mod.Module(linear_model(mx.sym), data_names=["data"], label_names=["softmax_label"])
    mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    mod.init_params(arg_params={"weight": mx.nd.array(VEC["%d/w0" % k]).tostype("row_sparse"),
                                "bias": mx.nd.array(VEC["%d/b0" % k])})
    mod.init_optimizer(optimizer=mx.optimizer.create(opt, **kw),
                       kvstore=mx.kv.create(kvstore) if kvstore else None)
    return mod, it


@pytest.mark.parametrize("k", range(len(OPTIMIZERS)))
def test_module_row_sparse_weight_trains_as_mxnet(k):
    mod, it = _module(k)
    group = mod._exec_group
    assert group.param_arrays[0][0].stype == "row_sparse" and group.grad_arrays[0][0].stype == "row_sparse"
    for epoch in range(EPOCHS):
        it.reset()
        for nb, batch in enumerate(it):
            mod.prepare(batch, sparse_row_id_fn=batch_rows)
            if epoch == 0 and nb == 1:  # the bound weight holds exactly the batch's rows
                np.testing.assert_array_equal(group.param_arrays[0][0].indices.asnumpy(), VEC["%d/pulled_rows" % k])
                np.testing.assert_array_equal(np.unique(batch.data[0].indices.asnumpy()), VEC["%d/pulled_rows" % k])
            mod.forward_backward(batch)
            mod.update()
        mod.prepare(None, all_rows)
        args, _ = mod.get_params()
        np.testing.assert_allclose(args["weight"].asnumpy(), VEC["%d/w_epoch%d" % (k, epoch)], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(args["bias"].asnumpy(), VEC["%d/b_epoch%d" % (k, epoch)], rtol=1e-5, atol=1e-6)


def test_fit_with_sparse_row_id_fn_matches_the_manual_loop():
    mod, it = _module(0)
    mod.fit(it, num_epoch=EPOCHS, sparse_row_id_fn=batch_rows)
    mod.prepare(None, all_rows)
    np.testing.assert_allclose(mod.get_params()[0]["weight"].asnumpy(), VEC["0/w_epoch%d" % (EPOCHS - 1)],
                               rtol=1e-5, atol=1e-6)


def test_prepare_errors_and_warnings():
    mod, it = _module(0)
    batch = next(iter(it))
    with pytest.raises(TypeError, match="dict"):
        mod.prepare(batch, sparse_row_id_fn=lambda b: [b.data[0].indices])
    with pytest.raises(ValueError, match="not a parameter"):
        mod.prepare(batch, sparse_row_id_fn=lambda b: {"nope": b.data[0].indices})
    with pytest.warns(UserWarning, match="not 'row_sparse'"):
        mod.prepare(batch, sparse_row_id_fn=lambda b: {"bias": mx.nd.array([0], dtype="int64")})
    local, it2 = _module(0, kvstore=None)  # one device, no kvstore: nothing to pull from
    with pytest.warns(UserWarning, match="not updated in the KVStore"):
        local.prepare(batch, sparse_row_id_fn=batch_rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mod.prepare(batch)  # no sparse_row_id_fn: nothing to do


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dot_csr_row_sparse_weight(dtype):
    # what the Module's forward computes after prepare(): a weight holding some rows only
    import scipy.sparse as sp
    rng = np.random.RandomState(5)
    x = sp.random(7, 20, density=0.2, format="csr", random_state=rng).astype(dtype)
    w = rng.uniform(-1, 1, (20, 3)).astype(dtype)
    w[rng.permutation(20)[:12]] = 0  # absent rows
    wr = mx.nd.array(w, dtype=dtype).tostype("row_sparse")
    assert wr.indices.shape[0] == 8
    out = mx.nd.dot(mx.nd.sparse.csr_matrix(x), wr)
    assert out.stype == "default" and out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out.asnumpy(), x @ w, rtol=1e-6, atol=1e-7)
    empty = mx.nd.dot(mx.nd.sparse.csr_matrix(x), mx.nd.sparse.zeros("row_sparse", (20, 3), dtype=dtype))
    np.testing.assert_array_equal(empty.asnumpy(), np.zeros((7, 3), dtype))


def test_row_sparse_weight_initializer_and_local_update_without_kvstore():
    # MXNet 1.9.1 (one device, no kvstore): the initializer fills the row_sparse weight, and the
    # Module's own updater changes only the rows of the batch (lazy sgd on a row_sparse gradient)
    it = mx.io.LibSVMIter(data_libsvm=LIBSVM, data_shape=(NUM_FEATURES,), batch_size=BATCH)
    mod = mx.mod.Module(linear_model(mx.sym), data_names=["data"], label_names=["softmax_label"])
    mod.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    mod.init_params(initializer=mx.init.Constant(0.05))
    mod.init_optimizer(optimizer="sgd", optimizer_params={"learning_rate": 0.5, "wd": 0.1})
    w0 = mod.get_params()[0]["weight"].asnumpy()
    np.testing.assert_array_equal(w0, np.full((NUM_FEATURES, 2), 0.05, np.float32))
    batch = next(iter(it))
    mod.forward_backward(batch)
    mod.update()
    changed = np.nonzero((mod.get_params()[0]["weight"].asnumpy() != w0).any(1))[0]
    np.testing.assert_array_equal(changed, np.unique(batch.data[0].indices.asnumpy()))
