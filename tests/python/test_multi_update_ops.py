"""Multi-tensor update operators (multi_sgd_update, multi_sgd_mom_update, multi_mp_sgd_update,
multi_mp_sgd_mom_update, preloaded_multi_*, _multi_adamw_update, _multi_mp_adamw_update), the
single-weight _adamw_update and LAMB's (mp_)lamb_update_phase1/2 on the CPU: replayed against MXNet 1.9.1's own steps (tests/data/multi_update, made by its
make_multi_update.py), against numpy float64 for what MXNet has no fixture for (bfloat16, more
weights than one table holds, the skipped AdamW step), and their errors. The GPU runs the same
element step (tests/gpu/test_gpu_multi_update.py compares the devices)."""
import json
import os

import numpy as np
import pytest

import mx
from mx.base import MXNetError
from test_mp_update_ops import _arr, _clip, _round  # 16-bit arrays, float64 clip and rounding

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "multi_update", "multi_update.npz")
_FIX = np.load(DATA)
_META = json.loads(str(_FIX["meta"]))


def _op(name):
    return getattr(mx.nd._internal, name) if name.startswith("_") else getattr(mx.nd, name)


def _np(a):
    """A float16/bfloat16/float32 array's values (exact in float32)."""
    return a.astype("float32").asnumpy()


@pytest.mark.parametrize("case", sorted(k for k in _META if "op" in _META[k]))
def test_replays_mxnet_steps(case):
    m = _META[case]
    n, dt, mp, states = m["n"], m["dtype"], m["mp"], m["states"]
    sdt = "float32" if mp else dt
    w = [_arr(_FIX["%s/w%d/init" % (case, i)], dt) for i in range(n)]
    st = {s: [_arr(_FIX["%s/%s%d/init" % (case, s, i)], sdt) for i in range(n)] for s in states}
    w32 = [_arr(_FIX["%s/w%d/init" % (case, i)].astype(np.float32), "float32") for i in range(n)]
    kw = dict(m["params"])
    if m["trailing"] == "rescale":
        kw.update(lrs=m["lrs"], wds=m["wds"], etas=m["etas"])
    elif m["trailing"] is None:
        kw.update(lrs=m["lrs"], wds=m["wds"])
    low = dt == "float16"
    for t in range(m["steps"]):
        args = []
        for i in range(n):
            g = _arr(_FIX["%s/g%d/step%d" % (case, i, t)], dt)
            args += [w[i], g] + [st[s][i] for s in states] + ([w32[i]] if mp else [])
        if m["trailing"] == "preloaded":
            args += [mx.nd.array(m["lrs"], dtype="float32"), mx.nd.array(m["wds"], dtype="float32")]
        elif m["trailing"] == "rescale":
            args += [mx.nd.array([m["rescale"][t]], dtype="float32")]
        _op(m["op"])(*args, out=w, num_weights=n, **kw)
        for i in range(n):
            want = _FIX["%s/w%d/step%d" % (case, i, t)]
            got = w[i].asnumpy()
            assert got.dtype == want.dtype
            # a float16 weight may land one float16 ulp away (float32 rounding order differs)
            tol = dict(rtol=2e-3, atol=2e-3) if low else dict(rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), err_msg="w%d step %d" % (i, t),
                                       **tol)
            for s in states:
                np.testing.assert_allclose(st[s][i].asnumpy(), _FIX["%s/%s%d/step%d" % (case, s, i, t)], rtol=1e-5,
                                           atol=1e-6, err_msg="%s%d step %d" % (s, i, t))
            if mp:
                np.testing.assert_allclose(w32[i].asnumpy(), _FIX["%s/w32_%d/step%d" % (case, i, t)], rtol=1e-5,
                                           atol=1e-6, err_msg="w32_%d step %d" % (i, t))


# ---- numpy float64 references (MXNet 1.9.1's formulas)

@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32"])
@pytest.mark.parametrize("n", [3, 40])  # 40: more weights than one table (32) holds
def test_mp_sgd_mom_matches_numpy(dtype, n):
    rng = np.random.RandomState(n)
    shapes = [(int(rng.randint(1, 6)),) for _ in range(n)]
    lrs, wds = list(rng.uniform(0.05, 0.2, n)), list(rng.uniform(0, 0.1, n))
    mom, rs, clip = 0.9, 0.5, 0.3
    w64 = [_round(rng.uniform(-1, 1, s), dtype) for s in shapes]
    m64 = [rng.uniform(-0.1, 0.1, s).astype(np.float32).astype(np.float64) for s in shapes]
    w = [_arr(x, dtype) for x in w64]
    m = [mx.nd.array(x, dtype="float32") for x in m64]
    w32 = [mx.nd.array(x, dtype="float32") for x in w64]
    w0 = [x.asnumpy().copy() for x in w32]
    for _ in range(3):
        g64 = [_round(rng.uniform(-1, 1, s), dtype) for s in shapes]
        args = []
        for i in range(n):
            args += [w[i], _arr(g64[i], dtype), m[i], w32[i]]
        mx.nd.multi_mp_sgd_mom_update(*args, out=w, num_weights=n, lrs=lrs, wds=wds, momentum=mom, rescale_grad=rs,
                                      clip_gradient=clip)
        for i in range(n):
            m64[i] = mom * m64[i] - lrs[i] * wds[i] * w64[i] - lrs[i] * _clip(rs * g64[i], clip)
            w64[i] = w64[i] + m64[i]
            np.testing.assert_allclose(m[i].asnumpy(), m64[i], rtol=1e-5, atol=1e-6)
            if dtype == "float32":
                # as MXNet 1.9.1: a float32 weight is its own master; weight32 is left alone
                np.testing.assert_allclose(w[i].asnumpy(), w64[i], rtol=1e-5, atol=1e-6)
                np.testing.assert_array_equal(w32[i].asnumpy(), w0[i])
                continue
            np.testing.assert_allclose(w32[i].asnumpy(), w64[i], rtol=1e-5, atol=1e-6)
            # the output is the master rounded to the weight's dtype (compare with the rounded
            # float32 master MX holds, so float64 drift cannot move a rounding boundary)
            np.testing.assert_array_equal(_np(w[i]).astype(np.float64), _round(w32[i].asnumpy().astype(np.float64),
                                                                               dtype))


@pytest.mark.parametrize("mp", [False, True])
def test_multi_adamw_matches_numpy_and_skips_bad_rescale(mp):
    rng = np.random.RandomState(7)
    n, shapes = 2, [(4,), (3, 2)]
    lrs, wds, etas = [0.01, 0.02], [0.1, 0.0], [1.0, 0.5]
    b1, b2, eps = 0.9, 0.999, 1e-8
    dtype = "float16" if mp else "float64"
    w64 = [_round(rng.uniform(-1, 1, s), dtype) if mp else rng.uniform(-1, 1, s) for s in shapes]
    mean64 = [np.zeros(s) for s in shapes]
    var64 = [np.zeros(s) for s in shapes]
    w = [_arr(x, dtype) for x in w64]
    sdt = "float32" if mp else dtype
    mean = [mx.nd.zeros(s, dtype=sdt) for s in shapes]
    var = [mx.nd.zeros(s, dtype=sdt) for s in shapes]
    w32 = [mx.nd.array(x, dtype="float32") for x in w64]
    op = mx.nd._internal._multi_mp_adamw_update if mp else mx.nd._internal._multi_adamw_update
    for rescale in [0.5, float("nan"), 2.0, 0.0, float("inf")]:
        g64 = [_round(rng.uniform(-1, 1, s), dtype) if mp else rng.uniform(-1, 1, s) for s in shapes]
        args = []
        for i in range(n):
            args += [w[i], _arr(g64[i], dtype), mean[i], var[i]] + ([w32[i]] if mp else [])
        args.append(mx.nd.array([rescale], dtype="float32"))
        before = [x.asnumpy().copy() for x in w]
        op(*args, out=w, num_weights=n, lrs=lrs, wds=wds, etas=etas, beta1=b1, beta2=b2, epsilon=eps)
        if not np.isfinite(rescale) or rescale == 0:
            for i in range(n):  # skipped: nothing moves
                np.testing.assert_array_equal(w[i].asnumpy(), before[i])
                np.testing.assert_allclose(mean[i].asnumpy(), mean64[i], rtol=1e-6, atol=1e-7)
            continue
        for i in range(n):
            gc = rescale * g64[i]
            mean64[i] = b1 * mean64[i] + (1 - b1) * gc
            var64[i] = b2 * var64[i] + (1 - b2) * gc * gc
            w64[i] = w64[i] - etas[i] * (lrs[i] * mean64[i] / (np.sqrt(var64[i]) + eps) + wds[i] * w64[i])
            tol = dict(rtol=1e-5, atol=1e-6) if mp else dict(rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(mean[i].asnumpy(), mean64[i], **tol)
            np.testing.assert_allclose(var[i].asnumpy(), var64[i], **tol)
            np.testing.assert_allclose((w32[i] if mp else w[i]).asnumpy(), w64[i], **tol)


def test_preloaded_reads_lrs_and_wds_arrays():
    rng = np.random.RandomState(3)
    w64 = [rng.uniform(-1, 1, (4,)), rng.uniform(-1, 1, (2, 2))]
    g64 = [rng.uniform(-1, 1, (4,)), rng.uniform(-1, 1, (2, 2))]
    lrs = np.array([0.1, 0.25], np.float32)
    wds = np.array([0.01, 0.05], np.float32)
    w = [mx.nd.array(x, dtype="float64") for x in w64]
    out = mx.nd.preloaded_multi_sgd_update(w[0], mx.nd.array(g64[0], dtype="float64"), w[1],
                                           mx.nd.array(g64[1], dtype="float64"), mx.nd.array(lrs),
                                           mx.nd.array(wds), num_weights=2)
    for i in range(2):
        lr, wd = float(lrs[i]), float(wds[i])
        np.testing.assert_allclose(out[i].asnumpy(), (1 - lr * wd) * w64[i] - lr * g64[i], rtol=1e-12)


def test_out_of_place_leaves_weights_alone():
    w = mx.nd.array([1.0, 2.0])
    g = mx.nd.array([0.5, -0.5])
    res = mx.nd.multi_sgd_update(w, g, lrs=[0.1], wds=[0.0], num_weights=1)
    np.testing.assert_allclose(res.asnumpy(), [0.95, 2.05], rtol=1e-6)
    np.testing.assert_array_equal(w.asnumpy(), [1.0, 2.0])


# ---- errors

def test_errors_name_the_problem():
    w, g = mx.nd.ones((3,)), mx.nd.ones((3,))
    with pytest.raises(MXNetError, match="num_weights=2 needs 4 inputs"):
        mx.nd.multi_sgd_update(w, g, lrs=[0.1, 0.1], wds=[0, 0], num_weights=2)
    with pytest.raises(MXNetError, match="lrs has 1 entries but num_weights is 2"):
        mx.nd.multi_sgd_update(w, g, w, g, lrs=[0.1], wds=[0, 0], num_weights=2)
    with pytest.raises(MXNetError, match="weight_0 must be float16, bfloat16, float32 or float64, got int32"):
        mx.nd.multi_sgd_update(w.astype("int32"), g.astype("int32"), lrs=[0.1], wds=[0.0], num_weights=1)
    with pytest.raises(MXNetError, match="multi_mp"):  # LAMB's plain form: float32/float64 only
        mx.nd._internal._multi_lamb_update(*[w.astype("float16")] * 4, num_tensors=1, learning_rates=[0.1], wds=[0.0],
                                           step_count=[1])
    with pytest.raises(MXNetError, match="mom_0 has dtype float16, expected float32"):
        mx.nd.multi_mp_sgd_mom_update(w.astype("float16"), g.astype("float16"), w.astype("float16"), w, lrs=[0.1],
                                      wds=[0.0], num_weights=1)
    with pytest.raises(MXNetError, match="grad_1"):
        mx.nd.multi_sgd_update(w, g, w, mx.nd.ones((4,)), lrs=[0.1, 0.1], wds=[0, 0], num_weights=2)
    with pytest.raises(MXNetError, match="lrs"):
        mx.nd.preloaded_multi_sgd_update(w, g, mx.nd.ones((2,)), mx.nd.ones((1,)), num_weights=1)
    with pytest.raises(MXNetError, match="num_weights must be >= 1"):
        mx.nd.multi_sgd_update(w, g, lrs=[], wds=[], num_weights=0)


def test_adamw_update_replays_mxnet_steps():
    # _adamw_update (no master copy), including a NaN rescale_grad step that MXNet skips
    w = mx.nd.array(_FIX["adamw_single/w/init"])
    m, v = mx.nd.zeros((3, 4)), mx.nd.zeros((3, 4))
    for t in range(4):
        mx.nd._internal._adamw_update(w, mx.nd.array(_FIX["adamw_single/g/step%d" % t]), m, v,
                                      mx.nd.array(_FIX["adamw_single/rescale/step%d" % t]), out=w, lr=0.01, eta=0.7,
                                      wd=0.05, beta1=0.85, beta2=0.99, epsilon=1e-7, clip_gradient=0.6)
        for name, a in (("w", w), ("mean", m), ("var", v)):
            np.testing.assert_allclose(a.asnumpy(), _FIX["adamw_single/%s/step%d" % (name, t)], rtol=1e-5, atol=1e-7,
                                       err_msg="%s step %d" % (name, t))


def test_adamw_update_float64_matches_numpy():
    rng = np.random.RandomState(5)
    w64 = rng.uniform(-1, 1, (6,))
    m64, v64 = np.zeros(6), np.zeros(6)
    w = mx.nd.array(w64, dtype="float64")
    m, v = mx.nd.zeros((6,), dtype="float64"), mx.nd.zeros((6,), dtype="float64")
    for _ in range(3):
        g = rng.uniform(-1, 1, (6,))
        mx.nd._internal._adamw_update(w, mx.nd.array(g, dtype="float64"), m, v, mx.nd.array([0.5]), out=w, lr=0.02,
                                      eta=0.9, wd=0.1)
        gc = 0.5 * g
        m64 = 0.9 * m64 + 0.1 * gc
        v64 = 0.999 * v64 + 0.001 * gc * gc
        w64 = w64 - 0.9 * (0.02 * m64 / (np.sqrt(v64) + 1e-8) + 0.1 * w64)
        np.testing.assert_allclose(w.asnumpy(), w64, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(v.asnumpy(), v64, rtol=1e-12, atol=1e-16)


# ---- LAMB phases

@pytest.mark.parametrize("case", ["lamb", "lamb_nobc", "mp_lamb"])
def test_lamb_phases_replay_mxnet_steps(case):
    m = _META[case]
    dt, mp = m["dtype"], m["mp"]
    w = mx.nd.array(_FIX["%s/w/init" % case], dtype=dt)
    mean, var = mx.nd.zeros((4, 5)), mx.nd.zeros((4, 5))
    w32 = mx.nd.array(_FIX["%s/w/init" % case].astype(np.float32))
    low = dict(rtol=2e-3, atol=2e-3) if dt == "float16" else dict(rtol=2e-5, atol=1e-6)
    for t in range(3):
        g = mx.nd.array(_FIX["%s/grad/step%d" % (case, t)], dtype=dt)
        if mp:
            d = mx.nd.mp_lamb_update_phase1(w, g, mean, var, w32, t=t + 1, **m["p1"])
            assert str(np.dtype(d.dtype)) == "float32"
            r1, r2 = w32.norm(), d.norm()
            mx.nd.mp_lamb_update_phase2(w, d, r1, r2, w32, out=w, **m["p2"])
        else:
            d = mx.nd.lamb_update_phase1(w, g, mean, var, t=t + 1, **m["p1"])
            r1, r2 = w.norm(), d.norm()
            mx.nd.lamb_update_phase2(w, d, r1, r2, out=w, **m["p2"])
        for k, a in (("g", d), ("mean", mean), ("var", var), ("w32", w32)):
            np.testing.assert_allclose(a.asnumpy(), _FIX["%s/%s/step%d" % (case, k, t)], rtol=2e-5, atol=1e-6,
                                       err_msg="%s step %d" % (k, t))
        np.testing.assert_allclose(w.asnumpy().astype(np.float64),
                                   _FIX["%s/w/step%d" % (case, t)].astype(np.float64), err_msg="w step %d" % t, **low)


def test_lamb_phases_float64_match_numpy():
    rng = np.random.RandomState(11)
    w64, m64, v64 = rng.uniform(-1, 1, (7,)), np.zeros(7), np.zeros(7)
    w = mx.nd.array(w64, dtype="float64")
    mean, var = mx.nd.zeros((7,), dtype="float64"), mx.nd.zeros((7,), dtype="float64")
    b1, b2, eps, wd, lr = 0.9, 0.999, 1e-6, 0.05, 0.1
    for t in range(1, 4):
        g64 = rng.uniform(-1, 1, (7,))
        d = mx.nd.lamb_update_phase1(w, mx.nd.array(g64, dtype="float64"), mean, var, t=t, wd=wd, clip_gradient=0.5)
        gc = np.clip(g64, -0.5, 0.5)
        m64 = b1 * m64 + (1 - b1) * gc
        v64 = b2 * v64 + (1 - b2) * gc * gc
        d64 = (m64 / (1 - b1 ** t)) / (np.sqrt(v64 / (1 - b2 ** t)) + eps) + wd * w64
        np.testing.assert_allclose(d.asnumpy(), d64, rtol=1e-12)
        r1, r2 = np.linalg.norm(w64), np.linalg.norm(d64)
        # lower_bound above ||w||: r1 is raised to it
        w = mx.nd.lamb_update_phase2(w, d, mx.nd.array([r1], dtype="float64"), mx.nd.array([r2], dtype="float64"),
                                     lr=lr, lower_bound=5.0)
        w64 = w64 - lr * max(r1, 5.0) / r2 * d64
        np.testing.assert_allclose(w.asnumpy(), w64, rtol=1e-12)
    # a zero norm keeps the plain learning rate
    out = mx.nd.lamb_update_phase2(w, d, mx.nd.array([0.0], dtype="float64"), mx.nd.array([2.0], dtype="float64"),
                                   lr=lr)
    np.testing.assert_allclose(out.asnumpy(), w64 - lr * d64, rtol=1e-12)


def test_lamb_phase_errors():
    w = mx.nd.ones((3,), dtype="float16")
    with pytest.raises(MXNetError, match="mean has dtype float16, expected float32"):
        mx.nd.mp_lamb_update_phase1(w, w, w, mx.nd.ones((3,)), mx.nd.ones((3,)), t=1, wd=0.0)
    with pytest.raises(MXNetError, match="r1"):
        mx.nd.lamb_update_phase2(mx.nd.ones((3,)), mx.nd.ones((3,)), mx.nd.ones((2,)), mx.nd.ones((1,)), lr=0.1)
    with pytest.raises(MXNetError, match="'t'"):
        mx.nd.lamb_update_phase1(mx.nd.ones((3,)), mx.nd.ones((3,)), mx.nd.ones((3,)), mx.nd.ones((3,)), wd=0.0)


@pytest.mark.parametrize("case", ["multi_lamb", "multi_mp_lamb"])
def test_multi_lamb_replays_mxnet_steps(case):
    m = _META[case]
    n, dt, mp = m["n"], m["dtype"], m["mp"]
    w = [mx.nd.array(_FIX["%s/w%d/init" % (case, i)], dtype=dt) for i in range(n)]
    shapes = [x.shape for x in w]
    mean = [mx.nd.zeros(s) for s in shapes]
    var = [mx.nd.zeros(s) for s in shapes]
    w32 = [x.astype("float32") for x in w]
    op = mx.nd._internal._multi_mp_lamb_update if mp else mx.nd._internal._multi_lamb_update
    low = dict(rtol=2e-3, atol=2e-3) if dt == "float16" else dict(rtol=2e-5, atol=1e-6)
    for t in range(3):
        args = []
        for i in range(n):
            g = mx.nd.array(_FIX["%s/g%d/step%d" % (case, i, t)], dtype=dt)
            args += [w[i], g, mean[i], var[i]] + ([w32[i]] if mp else [])
        op(*args, out=w, num_tensors=n, step_count=[t + 1, t + 2, t + 1], learning_rates=m["lrs"], wds=m["wds"],
           **m["kw"])
        for i in range(n):
            for k, a in (("mean", mean), ("var", var)):
                np.testing.assert_allclose(a[i].asnumpy(), _FIX["%s/%s%d/step%d" % (case, k, i, t)], rtol=2e-5,
                                           atol=1e-6, err_msg="%s%d step %d" % (k, i, t))
            if mp:  # the trust ratio's norms sum in another order than MXNet's MultiSumSq: a few float32 ulps
                np.testing.assert_allclose(w32[i].asnumpy(), _FIX["%s/w32_%d/step%d" % (case, i, t)], rtol=1e-4,
                                           atol=1e-5, err_msg="w32_%d step %d" % (i, t))
            np.testing.assert_allclose(w[i].asnumpy().astype(np.float64),
                                       _FIX["%s/w%d/step%d" % (case, i, t)].astype(np.float64),
                                       err_msg="w%d step %d" % (i, t), **low)


def test_multi_lamb_errors():
    w = mx.nd.ones((3,))
    with pytest.raises(MXNetError, match="step_count has 1 entries but num_tensors is 2"):
        mx.nd._internal._multi_lamb_update(w, w, w, w, w, w, w, w, num_tensors=2, step_count=[1],
                                           learning_rates=[0.1, 0.1], wds=[0, 0])
    with pytest.raises(MXNetError, match="num_tensors=1 needs 4 inputs"):
        mx.nd._internal._multi_lamb_update(w, w, w, num_tensors=1, step_count=[1], learning_rates=[0.1], wds=[0])


# ---- the optimizers' aggregation size (MXNet: Optimizer.aggregate_num, MXNET_OPTIMIZER_AGGREGATION_SIZE)

def test_sgd_aggregate_num_default_env_and_set(monkeypatch):
    monkeypatch.delenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", raising=False)
    assert mx.optimizer.SGD(learning_rate=0.1).aggregate_num == 4  # MXNet's default for SGD
    assert mx.optimizer.Adam().aggregate_num == 0  # other rules step index by index
    monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "2")
    opt = mx.optimizer.SGD(learning_rate=0.1)
    assert opt.aggregate_num == 2
    assert mx.optimizer.Adam().aggregate_num == 0
    opt.aggregate_num = 0
    assert opt.aggregate_num == 0
    monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "four")
    with pytest.raises(MXNetError, match="MXNET_OPTIMIZER_AGGREGATION_SIZE must be an integer"):
        mx.optimizer.SGD(learning_rate=0.1)


@pytest.mark.parametrize("agg", [0, 1, 2, 4, 7])
def test_sgd_chunk_size_does_not_change_the_steps(agg):
    # chunks change when the scheduled rate is read, not the formula: with per-step counts the
    # same, every chunk size gives numpy's momentum SGD
    rng = np.random.RandomState(2)
    w64 = [rng.uniform(-1, 1, (4,)) for _ in range(6)]
    m64 = [np.zeros(4) for _ in range(6)]
    opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9, wd=0.01)
    opt.aggregate_num = agg
    upd = mx.optimizer.get_updater(opt)
    w = [mx.nd.array(x, dtype="float64") for x in w64]
    for _ in range(3):
        g64 = [rng.uniform(-1, 1, (4,)) for _ in range(6)]
        upd(list(range(6)), [mx.nd.array(x, dtype="float64") for x in g64], w)
        for i in range(6):
            m64[i] = 0.9 * m64[i] - 0.1 * (g64[i] + 0.01 * w64[i])
            w64[i] = w64[i] + m64[i]
            np.testing.assert_allclose(w[i].asnumpy(), w64[i], rtol=1e-12, atol=1e-14)


# ---- mx.nd.contrib's wrappers (MXNet's python/mxnet/ndarray/contrib.py signatures)

def test_contrib_multi_lamb_wrapper_replays_mxnet_call():
    # the fixture was made by mxnet.nd.contrib.multi_lamb_update with these arguments
    m = _META["multi_lamb"]
    w = [mx.nd.array(_FIX["multi_lamb/w%d/init" % i]) for i in range(m["n"])]
    mean = [mx.nd.zeros(x.shape) for x in w]
    var = [mx.nd.zeros(x.shape) for x in w]
    for t in range(3):
        g = [mx.nd.array(_FIX["multi_lamb/g%d/step%d" % (i, t)]) for i in range(m["n"])]
        mx.nd.contrib.multi_lamb_update(w, g, mean, var, step_count=[t + 1, t + 2, t + 1], lrs=m["lrs"], wds=m["wds"],
                                        out=w, **m["kw"])
        for i in range(m["n"]):
            np.testing.assert_allclose(w[i].asnumpy(), _FIX["multi_lamb/w%d/step%d" % (i, t)], rtol=2e-5, atol=1e-6)


def test_contrib_adamw_wrappers_take_a_number_or_an_array_as_rescale_grad():
    rng = np.random.RandomState(4)
    w0, g0 = rng.uniform(-1, 1, (5,)).astype(np.float32), rng.uniform(-1, 1, (5,)).astype(np.float32)
    outs = []
    for rescale in (0.5, mx.nd.array([0.5])):
        w, mean, var = mx.nd.array(w0), mx.nd.zeros((5,)), mx.nd.zeros((5,))
        mx.nd.contrib.adamw_update(w, mx.nd.array(g0), mean, var, rescale, lr=0.01, eta=0.5, wd=0.1, out=w)
        ws, means, vars_ = [mx.nd.array(w0)], [mx.nd.zeros((5,))], [mx.nd.zeros((5,))]
        mx.nd.contrib.multi_adamw_update(ws, [mx.nd.array(g0)], means, vars_, rescale, lrs=[0.01], wds=[0.1],
                                         etas=[0.5], out=ws)
        np.testing.assert_allclose(ws[0].asnumpy(), w.asnumpy(), rtol=1e-6)
        outs.append(w.asnumpy())
    gc = 0.5 * g0.astype(np.float64)
    m64, v64 = 0.1 * gc, 0.001 * gc * gc
    want = w0 - 0.5 * (0.01 * m64 / (np.sqrt(v64) + 1e-8) + 0.1 * w0)
    for o in outs:
        np.testing.assert_allclose(o, want, rtol=1e-5)
    # multi-precision forms: float16 weights, float32 masters
    w16, w32 = mx.nd.array(w0, dtype="float16"), mx.nd.array(w0.astype(np.float16).astype(np.float32))
    mx.nd.contrib.mp_adamw_update(w16, mx.nd.array(g0, dtype="float16"), mx.nd.zeros((5,)), mx.nd.zeros((5,)), w32,
                                  1.0, lr=0.01, eta=1.0, out=w16)
    ws, w32s = [mx.nd.array(w0, dtype="float16")], [mx.nd.array(w0.astype(np.float16).astype(np.float32))]
    mx.nd.contrib.multi_mp_adamw_update(ws, [mx.nd.array(g0, dtype="float16")], [mx.nd.zeros((5,))],
                                        [mx.nd.zeros((5,))], w32s, 1.0, lrs=[0.01], wds=[0.0], etas=[1.0], out=ws)
    np.testing.assert_array_equal(ws[0].asnumpy(), w16.asnumpy())
    np.testing.assert_array_equal(w32s[0].asnumpy(), w32.asnumpy())
