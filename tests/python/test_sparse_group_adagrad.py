"""mx.optimizer.contrib.GroupAdaGrad (one history value per weight row, shape (rows, 1)): dense
and row_sparse gradients (only the gradient's rows change) against MXNet 1.9.1's steps
(tests/data/sparse/make_group_adagrad_fixtures.py) and a numpy restatement of its formula."""
import json
import os

import numpy as np
import pytest

import mx

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sparse")
VEC = np.load(os.path.join(DATA, "group_adagrad_vectors.npz"))
NCASES = len({k.split("/")[0] for k in VEC.files if "/" in k})


@pytest.mark.parametrize("k", range(NCASES))
def test_group_adagrad_matches_mxnet(k):
    kw = json.loads(str(VEC["%d/kwargs" % k]))
    sparse = bool(VEC["%d/sparse" % k])
    opt = mx.optimizer.contrib.GroupAdaGrad(**kw)
    upd = mx.optimizer.get_updater(opt)  # the state lives in the core; the updater reads it back
    w = mx.nd.array(VEC["%d/w0" % k])
    for step in range(3):
        g = VEC["%d/g%d" % (k, step)]
        upd(0, mx.nd.array(g).tostype("row_sparse") if sparse else mx.nd.array(g), w)
        np.testing.assert_allclose(w.asnumpy(), VEC["%d/w%d" % (k, step + 1)], rtol=1e-5, atol=1e-6)
        state = upd.states[0]
        assert state.shape == (w.shape[0], 1)
        np.testing.assert_allclose(state.asnumpy(), VEC["%d/h%d" % (k, step + 1)], rtol=1e-5, atol=1e-6)


def test_group_adagrad_numpy_formula_and_registry():
    rng = np.random.RandomState(0)
    w0 = rng.uniform(-1, 1, (5, 3)).astype(np.float32)
    g = rng.uniform(-1, 1, (5, 3)).astype(np.float32)
    opt = mx.optimizer.create("groupadagrad", learning_rate=0.3, eps=1e-4, rescale_grad=2.0)
    assert isinstance(opt, mx.optimizer.contrib.GroupAdaGrad) and opt.float_stable_eps == pytest.approx(1e-4)
    w = mx.nd.array(w0)
    upd = mx.optimizer.get_updater(opt)
    upd(0, mx.nd.array(g), w)
    h = np.mean((2 * g) ** 2, axis=1, keepdims=True)
    np.testing.assert_allclose(w.asnumpy(), w0 - 0.3 * (2 * g) / np.sqrt(h + 1e-4), rtol=1e-5, atol=1e-6)


def test_group_adagrad_refuses_weight_decay_and_non_2d_weights():
    assert "not supported" in str(VEC["wd_error"])  # MXNet refuses it too
    opt = mx.optimizer.contrib.GroupAdaGrad(wd=0.1)
    w = mx.nd.ones((2, 2))
    with pytest.raises(mx.base.MXNetError, match="weight decay"):
        opt.update(0, w, mx.nd.ones((2, 2)))
    np.testing.assert_array_equal(w.asnumpy(), np.ones((2, 2)))  # unchanged
    opt = mx.optimizer.contrib.GroupAdaGrad()
    with pytest.raises(mx.base.MXNetError, match="2-d"):
        opt.update(1, mx.nd.ones((4,)), mx.nd.ones((4,)))


def test_group_adagrad_states_save_and_load(tmp_path):
    rng = np.random.RandomState(1)
    w0 = rng.uniform(-1, 1, (4, 3)).astype(np.float32)
    gs = [rng.uniform(-1, 1, (4, 3)).astype(np.float32) for _ in range(2)]
    ref = mx.optimizer.get_updater(mx.optimizer.contrib.GroupAdaGrad(learning_rate=0.1))
    w_ref = mx.nd.array(w0)
    for g in gs:
        ref(0, mx.nd.array(g), w_ref)
    first = mx.optimizer.get_updater(mx.optimizer.contrib.GroupAdaGrad(learning_rate=0.1))
    w = mx.nd.array(w0)
    first(0, mx.nd.array(gs[0]), w)
    path = str(tmp_path / "gada.states")
    first.save(path)
    second = mx.optimizer.get_updater(mx.optimizer.contrib.GroupAdaGrad(learning_rate=0.1))
    second.load(path)
    assert second.states[0].shape == (4, 1)
    second(0, mx.nd.array(gs[1]), w)  # continues from the saved (rows, 1) history
    np.testing.assert_allclose(w.asnumpy(), w_ref.asnumpy(), rtol=1e-6)
