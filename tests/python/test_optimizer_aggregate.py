"""Aggregated LAMB and AdamW optimizers (MXNet's aggregate_num / MXNET_OPTIMIZER_AGGREGATION_SIZE).
LAMB as MXNet 1.9.1's: aggregate_num = max(1, min(45, env or 45)); a list update steps chunks of
that many weights (grouped by dtype) with _multi_lamb_update / _multi_mp_lamb_update, each
index counted and then its rate read; aggregate_num 1 steps one by one. Checked against MXNet
1.9.1's own Updater (tests/data/optimizer_aggregate/lamb_aggregate.npz, made by
make_lamb_aggregate.py), against numpy float64 (bfloat16 masters, which MXNet 1.9.1 lacks), and
aggregated against one-by-one steps. AdamW (no MXNet 1.9.1 optimizer; MXNet 2's counts as SGD):
chunks of aggregate_num (default 4) counted together, then one rate; same element steps, so the
CPU results equal index-by-index stepping bit for bit without a scheduler."""
import json
import os

import numpy as np
import pytest

import mx

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "optimizer_aggregate", "lamb_aggregate.npz")
_FIX = np.load(DATA)
_META = json.loads(str(_FIX["meta"]))


def _arr(x, dtype):
    return mx.nd.array(np.asarray(x, np.float32)).astype(dtype)


def _lamb(monkeypatch, env, mp, kw):
    monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", env)
    kw = dict(kw)
    sched = kw.pop("sched", None)
    if sched:
        kw["lr_scheduler"] = mx.lr_scheduler.FactorScheduler(step=sched["step"], factor=sched["factor"],
                                                             base_lr=kw["learning_rate"])
    return mx.optimizer.LAMB(multi_precision=mp, **kw)


def _replay(monkeypatch, case, env=None, dtype=None, resync=True):
    """MX's Updater over the fixture's gradients; returns per step (weights, masters, means, vars)."""
    m = _META[case]
    dtype = dtype or m["dtype"]
    opt = _lamb(monkeypatch, env or m["env"], m["mp"], m["kw"])
    upd = mx.optimizer.get_updater(opt)
    n = m["n"]
    w = [_arr(_FIX["%s/w%d/init" % (case, i)], dtype) for i in range(n)]
    steps = []
    for t in range(m["steps"]):
        if t > 0 and resync:
            # start each step from MXNet's arrays: a master one float32 ulp off may round its 16-bit
            # weight the other way, and the next trust ratio (the 16-bit weight's norm) then moves
            # every element; one step's difference is what the comparison bounds
            for i in range(n):
                prev = "%s/%%s%d/step%d" % (case, i, t - 1)
                w[i][:] = _arr(_FIX[prev % "w"], dtype)
                st = upd.states[i]
                arrays = zip(st, ["w32_", "mean", "var"]) if m["mp"] else zip(st, ["mean", "var"])
                for a, name in arrays:
                    key = "%s/w32_%d/step%d" % (case, i, t - 1) if name == "w32_" else prev % name
                    a[:] = mx.nd.array(_FIX[key])
        g = [_arr(_FIX["%s/g%d/step%d" % (case, i, t)], dtype) for i in range(n)]
        upd(list(range(n)), g, w)
        st = [upd.states[i] for i in range(n)]
        if m["mp"]:  # (MX's updater keeps (weight32, mean, var) flat; MXNet's nests (weight32, (mean, var)))
            masters = [s[0].asnumpy() for s in st]
            st = [s[1:] for s in st]
        else:
            masters = []
        steps.append(([x.astype("float32").asnumpy() for x in w], masters, [s[0].asnumpy() for s in st],
                      [s[1].asnumpy() for s in st]))
    return opt, steps


def test_lamb_aggregate_num_from_the_environment(monkeypatch):
    monkeypatch.delenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", raising=False)
    assert mx.optimizer.LAMB().aggregate_num == 45
    for env, want in [("100", 45), ("0", 1), ("-3", 1), ("3", 3), ("45", 45)]:
        monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", env)
        assert mx.optimizer.LAMB().aggregate_num == want, env
    monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "x")
    with pytest.raises(mx.base.MXNetError, match="MXNET_OPTIMIZER_AGGREGATION_SIZE"):
        mx.optimizer.LAMB()
    monkeypatch.delenv("MXNET_OPTIMIZER_AGGREGATION_SIZE")
    assert mx.optimizer.AdamW().aggregate_num == 4


@pytest.mark.parametrize("case", sorted(_META))
def test_lamb_updater_replays_mxnet(monkeypatch, case):
    m = _META[case]
    opt, steps = _replay(monkeypatch, case)
    assert opt.aggregate_num == m["aggregate_num"]
    for t, (w, masters, means, vars_) in enumerate(steps):
        for i in range(m["n"]):
            key = "%s/%%s%d/step%d" % (case, i, t)
            if m["mp"]:
                np.testing.assert_allclose(masters[i], _FIX["%s/w32_%d/step%d" % (case, i, t)], rtol=1e-5, atol=1e-6,
                                           err_msg="w32_%d step %d" % (i, t))
                # the float16 weight: the master rounded (one float16 ulp where the masters differ in the last bits)
                np.testing.assert_allclose(w[i], _FIX[key % "w"].astype(np.float32), rtol=1e-3, atol=1e-3)
            else:
                np.testing.assert_allclose(w[i], _FIX[key % "w"], rtol=1e-5, atol=1e-6, err_msg="w%d step %d" % (i, t))
            np.testing.assert_allclose(means[i], _FIX[key % "mean"], rtol=1e-5, atol=1e-7)
            np.testing.assert_allclose(vars_[i], _FIX[key % "var"], rtol=1e-5, atol=1e-8)


def _round(x, dtype):
    if dtype == "float16":
        return x.astype(np.float16).astype(np.float64)
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    return u.astype(np.uint32).view(np.float32).astype(np.float64)


def _lamb_ref(w, g, m, v, t, lr, wd, normed, b1=0.9, b2=0.999, eps=1e-6, bc=True, rescale=1.0):
    g = rescale * g
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    mh, vh = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if bc else (m, v)
    d = mh / (np.sqrt(vh) + eps) + wd * w
    r1, r2 = np.sqrt(np.sum(normed ** 2)), np.sqrt(np.sum(d ** 2))
    ratio = r1 / r2 if r1 > 0 and r2 > 0 else 1.0
    return w - lr * ratio * d, m, v


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_aggregated_lamb_matches_numpy_float64(monkeypatch, dtype):
    # float32: the weight; 16-bit weights with multi_precision: the float32 master, whose trust
    # ratio uses the norm of the 16-bit weight (MXNet's multi-tensor operator)
    mp = dtype != "float32"
    rng = np.random.RandomState(5)
    shapes = [(6,), (2, 5), (4,), (3, 3)]
    w64 = [rng.uniform(-1, 1, s) for s in shapes]
    if mp:
        w64 = [_round(x, dtype) for x in w64]
    m64, v64 = [np.zeros(s) for s in shapes], [np.zeros(s) for s in shapes]
    monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", "3")  # chunks of 3 and 1
    opt = mx.optimizer.LAMB(learning_rate=0.04, wd=0.01, multi_precision=mp)
    upd = mx.optimizer.get_updater(opt)
    w = [_arr(x, dtype) for x in w64]
    b1, b2, eps = (float(np.float32(x)) for x in (0.9, 0.999, 1e-6))  # the float32 values the kernel holds
    for t in range(1, 4):
        g64 = [rng.uniform(-1, 1, s) for s in shapes]
        g64 = [_round(x, dtype) if mp else x.astype(np.float32).astype(np.float64) for x in g64]
        normed = [_round(x, dtype) if mp else x for x in w64]
        upd(list(range(len(shapes))), [_arr(x, dtype) for x in g64], w)
        for i in range(len(shapes)):
            w64[i], m64[i], v64[i] = _lamb_ref(w64[i], g64[i], m64[i], v64[i], t, 0.04, 0.01, normed[i], b1, b2, eps)
            got = upd.states[i][0].asnumpy() if mp else w[i].asnumpy()
            np.testing.assert_allclose(got, w64[i], rtol=2e-5, atol=1e-6, err_msg="w%d step %d" % (i, t))
            if mp:  # the weight is its master rounded
                np.testing.assert_array_equal(w[i].astype("float32").asnumpy(),
                                              _arr(got, dtype).astype("float32").asnumpy())


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_aggregated_lamb_agrees_with_one_by_one(monkeypatch, dtype):
    # float32/float64: the same arithmetic up to the norms' summation order (1e-6 / 1e-12). 16-bit
    # weights (multi_precision): the aggregated trust ratio uses the 16-bit weight's norm (MXNet's
    # operator), the one-by-one path the master's: they agree to the relative size of that rounding.
    mp = dtype in ("float16", "bfloat16")
    tol = {"float32": 1e-6, "float64": 1e-12, "float16": 1e-4, "bfloat16": 1e-3}[dtype]
    rng = np.random.RandomState(8)
    shapes = [(20,), (4, 6), (9,), (3, 3, 2), (7,)]
    w0 = [rng.uniform(-1, 1, s) for s in shapes]
    gs = [[rng.uniform(-1, 1, s) for s in shapes] for _ in range(4)]
    res = []
    for env in ("45", "1"):
        monkeypatch.setenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", env)
        opt = mx.optimizer.LAMB(learning_rate=0.03, wd=0.02, clip_gradient=0.7, multi_precision=mp)
        upd = mx.optimizer.get_updater(opt)
        w = [_arr(x, dtype) for x in w0]
        for step in gs:
            upd(list(range(len(shapes))), [_arr(x, dtype) for x in step], w)
        res.append([(upd.states[i][0] if mp else w[i]).astype("float64").asnumpy() for i in range(len(shapes))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert any(not np.array_equal(a, w) for a, w in zip(res[0], w0))


def _adamw_run(monkeypatch, agg, dtype, mp, sched=None):
    monkeypatch.delenv("MXNET_OPTIMIZER_AGGREGATION_SIZE", raising=False)
    rng = np.random.RandomState(9)
    shapes = [(5,), (3, 2), (4,), (2, 2), (6,)]
    w0 = [rng.uniform(-1, 1, s) for s in shapes]
    gs = [[rng.uniform(-1, 1, s) for s in shapes] for _ in range(3)]
    kw = dict(learning_rate=0.01, wd=0.05, multi_precision=mp)
    if sched:
        kw["lr_scheduler"] = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=0.01)
    opt = mx.optimizer.AdamW(**kw)
    opt.aggregate_num = agg
    upd = mx.optimizer.get_updater(opt)
    w = [_arr(x, dtype) for x in w0]
    for step in gs:
        upd(list(range(len(shapes))), [_arr(x, dtype) for x in step], w)
    return w0, gs, [x.astype("float64").asnumpy() for x in w], [
        (upd.states[i][0] if mp else w[i]).astype("float64").asnumpy() for i in range(len(shapes))]


@pytest.mark.parametrize("dtype,mp", [("float32", False), ("float64", False), ("float16", True), ("bfloat16", True)])
def test_aggregated_adamw_equals_one_by_one_and_numpy(monkeypatch, dtype, mp):
    w0, gs, agg_w, agg_m = _adamw_run(monkeypatch, 4, dtype, mp)
    _, _, one_w, one_m = _adamw_run(monkeypatch, 0, dtype, mp)
    for a, b in zip(agg_w + agg_m, one_w + one_m):
        np.testing.assert_array_equal(a, b)  # same element step, same coefficients
    b1, b2, eps = 0.9, 0.999, 1e-6
    for i, w in enumerate(w0):
        w = _round(w, dtype) if mp else w.astype(np.float32).astype(np.float64)  # (_arr goes through float32)
        m, v = np.zeros_like(w), np.zeros_like(w)
        for t, step in enumerate(gs, 1):
            g = _round(step[i], dtype) if mp else step[i].astype(np.float32).astype(np.float64)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            w = w - 0.01 * ((m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps) + 0.05 * w)
        tol = 1e-12 if dtype == "float64" else 2e-5
        np.testing.assert_allclose(agg_m[i], w, rtol=tol, atol=tol)


def test_aggregated_adamw_counts_a_chunk_before_reading_the_rate(monkeypatch):
    # FactorScheduler(step=2): the rate halves once num_update passes 2. Chunks of 4 of 5 weights:
    # step 1 reads the rate after counting 4 indices (num_update 1), so nothing differs yet; what
    # must hold is that aggregated and index-by-index runs both follow the same schedule here
    # (every index shares one count), and that aggregation changes nothing but the chunking.
    _, _, agg_w, _ = _adamw_run(monkeypatch, 4, "float32", False, sched=True)
    _, _, one_w, _ = _adamw_run(monkeypatch, 0, "float32", False, sched=True)
    for a, b in zip(agg_w, one_w):
        np.testing.assert_array_equal(a, b)
