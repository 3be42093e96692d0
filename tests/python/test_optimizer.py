"""mx.optimizer and mx.lr_scheduler against MXNet 1.9.1's optimizer vectors and the documented
scheduler formulas."""
import json
import math
import os

import numpy as np
import pytest

import mx
import mx.lr_scheduler as lrs
import mx.optimizer as opt

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "data", "mxnet-1.9.1", "optimizer_vectors.json")

with open(VECTORS) as _f:
    _DATA = json.load(_f)
CASES = _DATA["cases"]


def _make(case):
    kw = dict(case["create_kwargs"])
    if case["lr_scheduler"]:
        s = dict(case["lr_scheduler"])
        assert s.pop("class") == "FactorScheduler"
        kw["lr_scheduler"] = lrs.FactorScheduler(s["step"], s["factor"], base_lr=s["base_lr"])
    return opt.create(case["optimizer"], **kw)


def _arr(values, shape, dtype=np.float32):
    return mx.nd.array(np.array(values, dtype=dtype).reshape(shape), dtype=dtype)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_mxnet_vectors(case):
    o = _make(case)
    updater = opt.get_updater(o)
    shapes = {p["index"]: p["shape"] for p in case["params"]}
    weights = {p["index"]: _arr(p["weight0"], p["shape"]) for p in case["params"]}
    idx = [p["index"] for p in case["params"]]
    for step in case["steps"]:
        grads = [_arr(step["grads"][str(i)], shapes[i]) for i in idx]
        updater(idx, grads, [weights[i] for i in idx])
        states, js = o.export_states()
        for i in idx:
            np.testing.assert_allclose(
                weights[i].asnumpy(), np.array(step["weights"][str(i)]).reshape(shapes[i]),
                rtol=1e-5, atol=1e-6, err_msg="%s step %d weight %d" % (case["name"], step["step"], i))
            expected_names = ["%d:%s" % (i, n) for n in case["state_names"]]
            assert sorted(k for k in states if k.startswith("%d:" % i)) == sorted(expected_names)
            for n in case["state_names"]:
                np.testing.assert_allclose(
                    states["%d:%s" % (i, n)].asnumpy(),
                    np.array(step["states"][str(i)][n]).reshape(shapes[i]), rtol=1e-5, atol=1e-6,
                    err_msg="%s step %d state %d:%s" % (case["name"], step["step"], i, n))
        assert o.num_update == step["num_update"]
        assert js["num_update"] == step["num_update"]
        assert o.learning_rate == pytest.approx(step["learning_rate_after"], rel=1e-12)


# ---------------------------------------------------------------- schedulers (MXNet docs formulas)

def _warm(n, begin, final, steps, mode):
    return begin if mode == "constant" else begin + (final - begin) * n / steps


def test_factor_scheduler():
    s = lrs.FactorScheduler(step=3, factor=0.5, stop_factor_lr=0.01, base_lr=1.0)
    for n in range(1, 30):
        expected = max(1.0 * 0.5 ** ((n - 1) // 3), 0.01)
        assert s(n) == pytest.approx(expected, rel=1e-12), n


def test_factor_scheduler_warmup_and_state():
    s = lrs.FactorScheduler(step=2, factor=0.9, base_lr=0.5, warmup_steps=4, warmup_begin_lr=0.1)
    for n in range(0, 4):
        assert s(n) == pytest.approx(_warm(n, 0.1, 0.5, 4, "linear"))
    assert s(10) == pytest.approx(0.5 * 0.9 ** 4)
    # stateful as MXNet's: going back does not raise the rate again
    assert s(5) == pytest.approx(0.5 * 0.9 ** 4)
    assert s.count == 8
    c = lrs.FactorScheduler(step=2, base_lr=0.5, warmup_steps=4, warmup_begin_lr=0.1,
                            warmup_mode="constant")
    assert c(3) == pytest.approx(0.1)


def test_multifactor_scheduler():
    steps = [3, 7, 12]
    s = lrs.MultiFactorScheduler(step=steps, factor=0.1, base_lr=2.0)
    for n in range(1, 20):
        expected = 2.0 * 0.1 ** sum(1 for k in steps if n > k)
        assert s(n) == pytest.approx(expected, rel=1e-12), n
    assert s.cur_step_ind == 3


@pytest.mark.parametrize("warmup", [0, 5])
def test_poly_scheduler(warmup):
    base, final, pwr, T = 0.3, 0.01, 2, 40
    s = lrs.PolyScheduler(max_update=T, base_lr=base, pwr=pwr, final_lr=final,
                          warmup_steps=warmup, warmup_begin_lr=0.0)
    for n in range(0, T + 10):
        if n < warmup:
            exp = _warm(n, 0.0, base, warmup, "linear")
        else:
            m = min(n, T)
            exp = final + (base - final) * (1 - (m - warmup) / (T - warmup)) ** pwr
        assert s(n) == pytest.approx(exp, rel=1e-12, abs=1e-15), n


@pytest.mark.parametrize("warmup", [0, 3])
def test_cosine_scheduler(warmup):
    base, final, T = 0.2, 0.001, 25
    s = lrs.CosineScheduler(max_update=T, base_lr=base, final_lr=final, warmup_steps=warmup,
                            warmup_begin_lr=0.05)
    for n in range(0, T + 5):
        if n < warmup:
            exp = _warm(n, 0.05, base, warmup, "linear")
        else:
            m = min(n, T)
            exp = final + (base - final) * (1 + math.cos(math.pi * (m - warmup) / (T - warmup))) / 2
        assert s(n) == pytest.approx(exp, rel=1e-12, abs=1e-15), n


def test_scheduler_bad_arguments():
    with pytest.raises(ValueError):
        lrs.FactorScheduler(step=0)
    with pytest.raises(ValueError):
        lrs.FactorScheduler(step=1, factor=1.5)
    with pytest.raises(ValueError):
        lrs.MultiFactorScheduler(step=[5, 3])
    with pytest.raises(ValueError):
        lrs.PolyScheduler(max_update=0)
    with pytest.raises(ValueError):
        lrs.CosineScheduler(max_update=10, warmup_mode="cubic")
    with pytest.raises(ValueError):
        lrs.FactorScheduler(step=1, base_lr=0.1, warmup_begin_lr=0.5)


def test_optimizer_overrides_scheduler_base_lr():
    s = lrs.FactorScheduler(step=1, factor=0.5, base_lr=0.2)
    o = opt.create("sgd", learning_rate=0.4, lr_scheduler=s)
    assert s.base_lr == pytest.approx(0.4)
    # Adam's signature default (0.001) overrides the scheduler too, as in MXNet
    s2 = lrs.FactorScheduler(step=1, factor=0.5, base_lr=0.2)
    a = opt.create("adam", lr_scheduler=s2)
    assert a.learning_rate == pytest.approx(0.001)
    with pytest.raises(UserWarning):
        o.set_learning_rate(0.1)


# ---------------------------------------------------------------- optimizer API

def test_defaults_and_attributes():
    o = opt.create("SGD")
    assert o.learning_rate == pytest.approx(0.01)
    assert opt.create("adam").learning_rate == pytest.approx(0.001)
    assert opt.create("ftrl").learning_rate == pytest.approx(0.1)
    o.set_learning_rate(0.5)
    assert o.learning_rate == 0.5
    o.learning_rate = 0.25
    assert o.lr == 0.25
    o.rescale_grad = 0.125
    assert o.rescale_grad == 0.125
    assert o.momentum == 0.0
    assert o.num_update == 0
    assert isinstance(o, opt.SGD) and isinstance(opt.create("signsgd"), opt.SignSGD)


def _sgd_run(o, n_steps, seed=0, indices=(0, 1)):
    rng = np.random.RandomState(seed)
    ws = {i: mx.nd.array(rng.randn(3, 2).astype(np.float32)) for i in indices}
    for _ in range(n_steps):
        gs = [mx.nd.array(rng.randn(3, 2).astype(np.float32)) for _ in indices]
        o.update(list(indices), [ws[i] for i in indices], gs)
    return ws


def test_wd_mult_name_rule_and_lr_mult():
    names = {0: "fc_weight", 1: "fc_bias", 2: "bn_gamma", 3: "bn_beta"}
    o = opt.create("sgd", learning_rate=0.1, wd=0.5, param_idx2name=names)
    w = [mx.nd.ones((2,)) for _ in range(4)]
    g = [mx.nd.zeros((2,)) for _ in range(4)]
    o.update([0, 1, 2, 3], w, g)
    got = [x.asnumpy()[0] for x in w]
    np.testing.assert_allclose(got, [1 - 0.05, 1.0, 1 - 0.05, 1.0], rtol=1e-6)
    o.set_lr_mult({"fc_weight": 2.0, 2: 0.0})
    o.set_wd_mult({"fc_bias": 1.0})
    w = [mx.nd.ones((2,)) for _ in range(4)]
    o.update([0, 1, 2, 3], w, g)
    got = [x.asnumpy()[0] for x in w]
    np.testing.assert_allclose(got, [1 - 0.1, 1 - 0.05, 1.0, 1.0], rtol=1e-6)


def test_num_update_counts():
    o = opt.create("adam")
    w = mx.nd.ones((2,))
    g = mx.nd.ones((2,))
    for _ in range(3):
        o.update(0, w, g)
    o.update(1, mx.nd.ones((2,)), g)
    assert o.num_update == 3
    assert o._index_update_count == {0: 3, 1: 1}


def test_multi_precision_float16():
    rng = np.random.RandomState(1)
    w32 = rng.randn(4, 3).astype(np.float32)
    grads = [rng.randn(4, 3).astype(np.float32) for _ in range(3)]
    ref = opt.create("sgd", learning_rate=0.1, momentum=0.9)
    mp = opt.create("sgd", learning_rate=0.1, momentum=0.9, multi_precision=True)
    wr = mx.nd.array(w32)
    wh = mx.nd.array(w32.astype(np.float16), dtype=np.float16)
    for gg in grads:
        ref.update(0, wr, mx.nd.array(gg))
        mp.update(0, wh, mx.nd.array(gg.astype(np.float16), dtype=np.float16))
    states, _ = mp.export_states()
    assert states["0:weight32"].dtype == np.float32
    np.testing.assert_allclose(states["0:weight32"].asnumpy(), wr.asnumpy(), rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(wh.asnumpy().astype(np.float32),
                               states["0:weight32"].asnumpy().astype(np.float16).astype(np.float32))


def test_adamw_matches_paper_formula():
    rng = np.random.RandomState(3)
    w0 = rng.randn(5).astype(np.float32)
    lr, b1, b2, eps, wd = 0.01, 0.9, 0.999, 1e-6, 0.1
    o = opt.create("adamw", learning_rate=lr, wd=wd)
    w = mx.nd.array(w0)
    m = np.zeros(5)
    v = np.zeros(5)
    ref = w0.astype(np.float64)
    for t in range(1, 4):
        g = rng.randn(5).astype(np.float32)
        o.update(0, w, mx.nd.array(g))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh, vh = m / (1 - b1 ** t), v / (1 - b2 ** t)
        ref = ref - lr * (mh / (np.sqrt(vh) + eps) + wd * ref)
        np.testing.assert_allclose(w.asnumpy(), ref, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- state save / load

@pytest.mark.parametrize("name,kw", [
    ("sgd", dict(learning_rate=0.1, momentum=0.9, wd=0.01)),
    ("adam", dict(learning_rate=0.01)),
    ("nadam", dict(learning_rate=0.01)),
    ("rmsprop", dict(centered=True)),
    ("lamb", dict(wd=0.01)),
])
def test_save_load_resume_bit_identical(tmp_path, name, kw):
    def make():
        sched = lrs.FactorScheduler(step=2, factor=0.7, base_lr=kw.get("learning_rate", 0.05))
        return opt.create(name, lr_scheduler=sched, **kw)

    rng = np.random.RandomState(7)
    w0 = {i: rng.randn(3, 2).astype(np.float32) for i in (0, 1)}
    grads = [[rng.randn(3, 2).astype(np.float32) for _ in (0, 1)] for _ in range(8)]

    full = make()
    up_full = opt.get_updater(full)
    wf = {i: mx.nd.array(w0[i]) for i in w0}
    for gs in grads:
        up_full([0, 1], [mx.nd.array(g) for g in gs], [wf[0], wf[1]])

    first = make()
    up1 = opt.get_updater(first)
    wr = {i: mx.nd.array(w0[i]) for i in w0}
    for gs in grads[:4]:
        up1([0, 1], [mx.nd.array(g) for g in gs], [wr[0], wr[1]])
    blob = up1.get_states(dump_optimizer=True)
    path = str(tmp_path / "opt.states")
    up1.save(path)

    for restore in ("bytes", "file"):
        second = make()
        up2 = opt.get_updater(second)
        if restore == "bytes":
            up2.set_states(blob)
        else:
            up2.load(path)
        w2 = {i: mx.nd.array(wr[i].asnumpy()) for i in wr}
        for gs in grads[4:]:
            up2([0, 1], [mx.nd.array(g) for g in gs], [w2[0], w2[1]])
        for i in (0, 1):
            assert np.array_equal(w2[i].asnumpy(), wf[i].asnumpy()), (restore, i)
        assert second.num_update == full.num_update
        assert second.learning_rate == full.learning_rate


def test_load_states_mismatch(tmp_path):
    o = opt.create("adam")
    o.update(0, mx.nd.ones((2, 3)), mx.nd.ones((2, 3)))
    path = str(tmp_path / "adam.states")
    opt.get_updater(o).save(path)
    other = opt.get_updater(opt.create("sgd", momentum=0.9))
    with pytest.raises(mx.MXError, match="adam"):
        other.load(path)
    shaped = opt.create("adam")
    shaped.update(0, mx.nd.ones((4,)), mx.nd.ones((4,)))
    with pytest.raises(mx.MXError, match="shape"):
        opt.get_updater(shaped).load(path)
    # a fresh optimizer accepts the states; then a weight of another shape is refused
    fresh = opt.create("adam")
    opt.get_updater(fresh).load(path)
    with pytest.raises(ValueError, match="shape"):
        fresh.update(0, mx.nd.ones((4,)), mx.nd.ones((4,)))


def test_corrupt_state_file(tmp_path):
    p = tmp_path / "bad.states"
    p.write_bytes(b"this is not a state file at all")
    o = opt.create("sgd")
    with pytest.raises(mx.MXError):
        opt.get_updater(o).load(str(p))
    with pytest.raises(mx.MXError):
        opt.get_updater(o).set_states(b"\x00" * 7)
    with pytest.raises(mx.MXError):
        opt.get_updater(o).load(str(tmp_path / "missing.states"))


# ---------------------------------------------------------------- bad inputs

def test_bad_inputs():
    with pytest.raises(ValueError, match="nosuchopt"):
        opt.create("nosuchopt")
    with pytest.raises(ValueError, match="learning_rate"):
        opt.create("sgd", learning_rate=-0.1)
    with pytest.raises(ValueError, match="bogus"):
        opt.create("sgd", bogus=1)
    o = opt.create("sgd")
    w = mx.nd.ones((2, 3))
    before = w.asnumpy()
    with pytest.raises(ValueError, match="shape"):
        o.update(0, w, mx.nd.ones((3, 2)))
    np.testing.assert_array_equal(w.asnumpy(), before)
    assert o.num_update == 0
    with pytest.raises(TypeError):
        o.update(0, w, np.ones((2, 3)))
    with pytest.raises(TypeError):
        opt.get_updater(o).set_states("not bytes")
