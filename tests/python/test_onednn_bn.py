"""BatchNorm on oneDNN (backends/cpu/onednn_bn.cc) and in the executor's blocked steps.

oneDNN runs BatchNorm on values the executor keeps blocked (conv -> BN -> relu -> conv in
training); on plain arrays MX's own loops run (faster there), unless MX_ONEDNN_BN_PLAIN=1, which
these tests use to check the oneDNN path on every case. Everything is checked against a numpy
float64 reference (forward, moving statistics, the three gradients; the reference gradients
against finite differences of the reference forward), and the executor's blocked graphs against
the same graphs bound with MX_EXEC_BLOCKED=0.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import mx
from mx import autograd, nd
from mx.gluon import nn

ONEDNN = mx.runtime.onednn_status()[1]  # built and switched on (MX_ONEDNN=0 switches it off)
needs_onednn = pytest.mark.skipif(not ONEDNN, reason="oneDNN not built or switched off (MX_ONEDNN)")

# ---- numpy float64 reference ---------------------------------------------------------------


def axes_of(x):
    return (0,) + tuple(range(2, x.ndim))


def bshape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def np_bn(x, g, b, mm, mv, eps, momentum, fix_gamma, batch):
    """y, mean and var outputs, new moving mean and var."""
    ax = axes_of(x)
    if batch:
        mean, var = x.mean(axis=ax), x.var(axis=ax)  # biased variance, as MXNet's CPU kernel
        mm2, mv2 = momentum * mm + (1 - momentum) * mean, momentum * mv + (1 - momentum) * var
    else:
        mean, var, mm2, mv2 = mm, mv, mm, mv
    gg = np.ones_like(g) if fix_gamma else g
    y = (x - mean.reshape(bshape(x))) / np.sqrt(var.reshape(bshape(x)) + eps) * gg.reshape(bshape(x)) + \
        b.reshape(bshape(x))
    return y, mean, var, mm2, mv2


def np_bn_grads(dy, x, g, mean, var, eps, fix_gamma, batch):
    """dx, dgamma (0 with fix_gamma), dbeta, given the statistics the forward used.
    batch: the batch-statistics formula (mean and var depend on x); else they are constants."""
    ax = axes_of(x)
    m = x.size // x.shape[1]
    inv = 1.0 / np.sqrt(var + eps)
    xh = (x - mean.reshape(bshape(x))) * inv.reshape(bshape(x))
    db, dg = dy.sum(axis=ax), (dy * xh).sum(axis=ax)
    k = ((np.ones_like(g) if fix_gamma else g) * inv).reshape(bshape(x))
    if batch:
        dx = k * (dy - db.reshape(bshape(x)) / m - xh * dg.reshape(bshape(x)) / m)
    else:
        dx = k * dy
    return dx, (np.zeros_like(dg) if fix_gamma else dg), db


def test_reference_gradients_match_finite_differences():
    # The analytic reference itself, against central differences of the reference forward.
    rng = np.random.RandomState(3)
    x = rng.randn(3, 4, 2, 3)
    g, b = rng.rand(4) + 0.5, rng.randn(4)
    mm, mv = rng.randn(4), rng.rand(4) + 0.5
    dy = rng.randn(*x.shape)
    for batch in (True, False):
        mean, var = (x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))) if batch else (mm, mv)
        dx, dg, db = np_bn_grads(dy, x, g, mean, var, 1e-3, False, batch)
        for name, arr, grad in (("x", x, dx), ("g", g, dg), ("b", b, db)):
            v = rng.randn(*arr.shape)
            h = 1e-6

            def loss(s):
                a = {"x": x, "g": g, "b": b}
                a[name] = arr + s * h * v
                return float(np.sum(dy * np_bn(a["x"], a["g"], a["b"], mm, mv, 1e-3, 0.9, False, batch)[0]))
            fd = (loss(1) - loss(-1)) / (2 * h)
            assert abs(fd - float(np.sum(grad * v))) < 1e-6 * (1 + abs(fd)), (batch, name)


# ---- imperative BatchNorm: oneDNN on plain arrays (forced) and MX's loops --------------------

def onednn_calls():
    return mx.runtime.onednn_status()[2]


@pytest.fixture(params=["onednn", "mx"])
def path(request, monkeypatch):
    if request.param == "onednn":
        if not ONEDNN:
            pytest.skip("oneDNN not built or switched off (MX_ONEDNN)")
        monkeypatch.setenv("MX_ONEDNN_BN_PLAIN", "1")
    else:
        monkeypatch.setenv("MX_ONEDNN_BN_PLAIN", "0")
    return request.param


def run_imperative(x, g, b, mm, mv, dy, mode, fix_gamma, eps=1e-3, momentum=0.9, dtype="float32"):
    """mode: 'train' (batch statistics), 'global' (train, use_global_stats), 'predict'."""
    X = nd.array(x).astype(dtype)
    G, B = nd.array(g), nd.array(b)
    MM, MV = nd.array(mm), nd.array(mv)
    for a in (X, G, B):
        a.attach_grad()
    with autograd.record(train_mode=mode != "predict"):
        y, mean, var = nd.BatchNorm(X, G, B, MM, MV, eps=eps, momentum=momentum, fix_gamma=fix_gamma,
                                    use_global_stats=mode == "global", output_mean_var=True)
    y.backward(nd.array(dy).astype(dtype))
    f = lambda a: a.astype("float32").asnumpy().astype(np.float64)
    return dict(y=f(y), mean=f(mean), var=f(var), mm=f(MM), mv=f(MV), dx=f(X.grad), dg=f(G.grad), db=f(B.grad))


def reference(x, g, b, mm, mv, dy, mode, fix_gamma, eps=1e-3, momentum=0.9):
    y, mean, var, mm2, mv2 = np_bn(x, g, b, mm, mv, eps, momentum, fix_gamma, mode == "train")
    # As MXNet's: backward() runs in training mode, so unless use_global_stats it takes the
    # batch-statistics formula, with the statistics the forward saved (the moving ones in predict).
    dx, dg, db = np_bn_grads(dy, x, g, mean, var, eps, fix_gamma, mode != "global")
    return dict(y=y, mean=mean, var=var, mm=mm2, mv=mv2, dx=dx, dg=dg, db=db)


def case(shape, seed=0):
    rng = np.random.RandomState(seed)
    C = shape[1]
    x = (rng.randn(*shape) * 2 + rng.randn(1, C, *([1] * (len(shape) - 2))) * 3).astype(np.float32)
    g, b = (rng.rand(C) + 0.5).astype(np.float32), rng.randn(C).astype(np.float32)
    mm, mv = rng.randn(C).astype(np.float32), (rng.rand(C) + 0.5).astype(np.float32)
    dy = rng.randn(*shape).astype(np.float32)
    return [a.astype(np.float64) for a in (x, g, b, mm, mv, dy)]


@pytest.mark.parametrize("mode", ["train", "global", "predict"])
@pytest.mark.parametrize("fix_gamma", [True, False])
def test_imperative_matches_numpy(path, mode, fix_gamma):
    args = case((4, 5, 6, 7))
    before = onednn_calls()
    got = run_imperative(*args, mode, fix_gamma, eps=2e-3, momentum=0.8)
    ref = reference(*args, mode, fix_gamma, eps=2e-3, momentum=0.8)
    ran = onednn_calls() - before
    assert ran >= 2 if path == "onednn" else ran == 0, ran  # forward and backward primitives
    for k in ref:
        np.testing.assert_allclose(got[k], ref[k], rtol=2e-5, atol=2e-5, err_msg=k)


@pytest.mark.parametrize("shape", [(3, 4, 10), (2, 3, 4, 5, 6), (8, 6)])
def test_other_ranks(path, shape):
    args = case(shape, seed=1)
    got = run_imperative(*args, "train", False)
    ref = reference(*args, "train", False)
    for k in ref:
        np.testing.assert_allclose(got[k], ref[k], rtol=2e-5, atol=2e-5, err_msg=k)


def test_small_variance_and_eps(path):
    # A channel whose values barely vary: eps dominates var + eps, and the backward's variance
    # (recovered from the saved 1/sqrt(var + eps)) must still give MX's gradients.
    x, g, b, mm, mv, dy = case((4, 3, 5, 5), seed=2)
    # (values near 0: y = x * scale + shift loses |x * scale| * 2^-24 in float32)
    x[:, 0] = 0.5 + 1e-4 * x[:, 0]
    x[:, 1] = 0.25
    got = run_imperative(x, g, b, mm, mv, dy, "train", False, eps=1e-4)
    ref = reference(x, g, b, mm, mv, dy, "train", False, eps=1e-4)
    for k in ref:
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-4, atol=1e-4, err_msg=k)


def test_other_axis_and_float64_use_mx_loops(monkeypatch):
    monkeypatch.setenv("MX_ONEDNN_BN_PLAIN", "1")
    x, g, b, mm, mv, dy = case((3, 4, 5, 6), seed=4)
    before = onednn_calls()
    X = nd.array(x.transpose(0, 2, 3, 1))
    y = nd.BatchNorm(X, nd.array(g), nd.array(b), nd.array(mm), nd.array(mv), axis=3, fix_gamma=False,
                     use_global_stats=True)
    ref = np_bn(x, g, b, mm, mv, 1e-3, 0.9, False, False)[0].transpose(0, 2, 3, 1)
    np.testing.assert_allclose(y.asnumpy(), ref, rtol=1e-5, atol=1e-5)
    y64 = nd.BatchNorm(nd.array(x, dtype="float64"), *(nd.array(a, dtype="float64") for a in (g, b, mm, mv)),
                       fix_gamma=False, use_global_stats=True)
    np.testing.assert_allclose(y64.asnumpy(), np_bn(x, g, b, mm, mv, 1e-3, 0.9, False, False)[0], rtol=1e-12)
    assert onednn_calls() == before


@needs_onednn
@pytest.mark.parametrize("mode", ["train", "global"])
def test_bfloat16_close_to_float32(monkeypatch, mode):
    monkeypatch.setenv("MX_ONEDNN_BN_PLAIN", "1")
    x, g, b, mm, mv, dy = case((4, 16, 6, 6), seed=5)
    # inputs rounded to bfloat16 first, so both runs see the same data
    x = nd.array(x).astype("bfloat16").astype("float32").asnumpy().astype(np.float64)
    dy = nd.array(dy).astype("bfloat16").astype("float32").asnumpy().astype(np.float64)
    before = onednn_calls()
    got = run_imperative(x, g, b, mm, mv, dy, mode, False, dtype="bfloat16")
    assert onednn_calls() - before >= 2
    ref = reference(x, g, b, mm, mv, dy, mode, False)
    for k in ref:  # bfloat16 keeps 8 significant bits
        scale = np.abs(ref[k]).max() + 1e-3
        np.testing.assert_allclose(got[k], ref[k], rtol=2e-2, atol=1e-2 * scale, err_msg=k)


# ---- executor: conv -> BatchNorm -> relu -> conv with blocked values ---------------------------

S = mx.sym


def np_conv3(x, w):
    """3x3, pad 1, no bias (NCHW, float64)."""
    N, C, H, W = x.shape
    xp = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])
    y = np.zeros((N, w.shape[0], H, W))
    for i in range(3):
        for j in range(3):
            y += np.einsum("fc,nchw->nfhw", w[:, :, i, j], xp[:, :, i:i + H, j:j + W])
    return y


def bn_chain(F1, F2, fix_gamma, use_global_stats):
    d = S.var("data")
    kw = dict(fix_gamma=fix_gamma, use_global_stats=use_global_stats, eps=1e-3, momentum=0.8)
    c1 = S.Convolution(d, num_filter=F1, kernel=(3, 3), pad=(1, 1), no_bias=True, name="c1")
    r1 = S.Activation(S.BatchNorm(c1, name="bn1", **kw), act_type="relu")
    c2 = S.Convolution(r1, num_filter=F2, kernel=(3, 3), pad=(1, 1), no_bias=True, name="c2")
    bn2 = S.BatchNorm(c2, name="bn2", **kw)
    return S.Activation(bn2 + c2, act_type="relu")  # residual-style add of two blocked values


def chain_ref(a, aux, fix_gamma, batch):
    y1 = np_conv3(a["data"], a["c1_weight"])
    b1, _, _, mm1, mv1 = np_bn(y1, a["bn1_gamma"], a["bn1_beta"], aux["bn1_moving_mean"], aux["bn1_moving_var"],
                               1e-3, 0.8, fix_gamma, batch)
    y2 = np_conv3(np.maximum(b1, 0), a["c2_weight"])
    b2, _, _, mm2, mv2 = np_bn(y2, a["bn2_gamma"], a["bn2_beta"], aux["bn2_moving_mean"], aux["bn2_moving_var"],
                               1e-3, 0.8, fix_gamma, batch)
    return np.maximum(b2 + y2, 0), dict(bn1_moving_mean=mm1, bn1_moving_var=mv1, bn2_moving_mean=mm2,
                                        bn2_moving_var=mv2)


def bind_chain(sym, arrays, aux, head, blocked, monkeypatch):
    monkeypatch.setenv("MX_EXEC_BLOCKED", "1" if blocked else "0")
    args = {k: nd.array(v) for k, v in arrays.items()}
    grads = {k: nd.zeros(v.shape) for k, v in arrays.items()}
    auxs = {k: nd.array(v) for k, v in aux.items()}
    ex = sym.bind(mx.cpu(), args, args_grad=grads, aux_states=auxs)
    out = ex.forward(is_train=True)[0].asnumpy()
    ex.backward([nd.array(head)])
    return out, {k: v.asnumpy() for k, v in grads.items()}, {k: v.asnumpy() for k, v in auxs.items()}


@needs_onednn
@pytest.mark.parametrize("own_nhwc", ["1", "0"])
@pytest.mark.parametrize("F1,fix_gamma,use_global_stats", [(16, False, False), (20, True, False),
                                                           (32, False, True), (12, False, False)])
def test_blocked_chain_training(monkeypatch, F1, fix_gamma, use_global_stats, own_nhwc):
    # F1 = 20 / 12: channels padded in the blocked layout; use_global_stats: fixed statistics.
    # own_nhwc "0": oneDNN's forward also on channels-last values (MX's own kernel by default).
    monkeypatch.delenv("MX_ONEDNN_BN_PLAIN", raising=False)
    monkeypatch.setenv("MX_BN_OWN_NHWC", own_nhwc)
    sym = bn_chain(F1, 16, fix_gamma, use_global_stats)
    rng = np.random.RandomState(F1)
    shapes, _, aux_shapes = sym.infer_shape(data=(2, 8, 9, 9))
    arrays = {n: (rng.randn(*s) * (0.3 if "weight" in n else 1) + (1.0 if "gamma" in n else 0)).astype(np.float32)
              for n, s in zip(sym.list_arguments(), shapes)}
    aux = {n: (rng.rand(*s) + 0.5 if "var" in n else rng.randn(*s) * 0.1).astype(np.float32)
           for n, s in zip(sym.list_auxiliary_states(), aux_shapes)}
    f64 = lambda d: {k: v.astype(np.float64) for k, v in d.items()}
    batch = not use_global_stats
    ref, ref_aux = chain_ref(f64(arrays), f64(aux), fix_gamma, batch)
    head = rng.randn(*ref.shape).astype(np.float32)
    before = onednn_calls()
    out, grads, aux1 = bind_chain(sym, arrays, aux, head, True, monkeypatch)
    assert onednn_calls() - before >= 8  # 2 convs fwd, 2 conv bwd (x2), 2 BN fwd, 2 BN bwd
    np.testing.assert_allclose(out, ref, rtol=2e-4, atol=2e-4)
    for k, v in ref_aux.items():
        np.testing.assert_allclose(aux1[k], v, rtol=1e-5, atol=1e-5, err_msg=k)
    # <grad, v> against central differences of the float64 reference, per argument
    for name in sorted(arrays):
        if fix_gamma and name.endswith("gamma"):
            np.testing.assert_array_equal(grads[name], 0)
            continue
        v = rng.randn(*arrays[name].shape)
        h = 1e-6

        def loss(s):
            a = f64(arrays)
            a[name] = a[name] + s * h * v
            return float(np.sum(head * chain_ref(a, f64(aux), fix_gamma, batch)[0]))
        fd = (loss(1) - loss(-1)) / (2 * h)
        got = float(np.sum(grads[name].astype(np.float64) * v))
        assert abs(got - fd) <= 2e-3 * (abs(fd) + 1.0), (name, got, fd)
    # the same graph with every value plain (MX's BatchNorm loops)
    out0, grads0, aux0 = bind_chain(sym, arrays, aux, head, False, monkeypatch)
    # Relative to the output's scale: the second convolution (32 channels, 3x3) runs oneDNN's
    # Winograd kernel, which turns the last-bit differences between the two BatchNorms' outputs
    # into ~3e-6 of the output's magnitude.
    np.testing.assert_allclose(out, out0, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(out0).max()))
    for k in grads:
        np.testing.assert_allclose(grads[k], grads0[k], rtol=1e-4, atol=1e-4, err_msg=k)
    for k in aux0:
        np.testing.assert_allclose(aux1[k], aux0[k], rtol=1e-6, atol=1e-6, err_msg=k)


def resnet_block(channels):
    net = nn.HybridSequential()
    net.add(nn.Conv2D(channels, 3, padding=1, use_bias=False), nn.BatchNorm(), nn.Activation("relu"),
            nn.Conv2D(channels, 3, padding=1, use_bias=False), nn.BatchNorm(), nn.Activation("relu"),
            nn.Conv2D(8, 1), nn.GlobalAvgPool2D(), nn.Dense(4))
    return net


def gluon_train(monkeypatch, blocked, steps=3):
    monkeypatch.setenv("MX_EXEC_BLOCKED", "1" if blocked else "0")
    mx.random.seed(7)
    net = resnet_block(16)
    net.initialize(mx.init.Xavier())
    net.hybridize(static_alloc=True)
    rng = np.random.RandomState(0)
    x = nd.array(rng.randn(4, 3, 10, 10))
    label = nd.array(rng.randint(0, 4, 4))
    loss = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    tr = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9})
    for _ in range(steps):
        with autograd.record():
            L = loss(net(x), label)
        L.backward()
        tr.step(4)
    # keyed by position: the layer names count up between the two nets
    return {"%d_%s" % (i, k.split("_", 1)[1]): p.data().asnumpy()
            for i, (k, p) in enumerate(net.collect_params().items())}, net(x).asnumpy()


@needs_onednn
def test_gluon_hybridized_training_blocked_matches_plain(monkeypatch):
    monkeypatch.delenv("MX_ONEDNN_BN_PLAIN", raising=False)
    p1, y1 = gluon_train(monkeypatch, True)
    p0, y0 = gluon_train(monkeypatch, False)
    assert any("running_mean" in k for k in p1)
    for k in p0:  # weights, gamma/beta and the moving statistics after 3 SGD steps
        np.testing.assert_allclose(p1[k], p0[k], rtol=1e-4, atol=1e-4, err_msg=k)
    np.testing.assert_allclose(y1, y0, rtol=1e-4, atol=1e-4)


def test_onednn_switched_off_matches(monkeypatch):
    # oneDNN off at run time: the executor keeps nothing blocked, MX's loops run
    monkeypatch.setenv("MX_ONEDNN_BN_PLAIN", "1")
    prev = mx.runtime.set_onednn_enabled(False) if ONEDNN else None
    try:
        args = case((4, 5, 6, 7), seed=6)
        before = onednn_calls()
        got = run_imperative(*args, "train", False)
        assert onednn_calls() == before
        ref = reference(*args, "train", False)
        for k in ref:
            np.testing.assert_allclose(got[k], ref[k], rtol=2e-5, atol=2e-5, err_msg=k)
    finally:
        if ONEDNN:
            mx.runtime.set_onednn_enabled(prev)


@needs_onednn
def test_verbose_bn_runs_blocked_with_fewer_reorders():
    # DNNL_VERBOSE: in a hybridized training step BatchNorm runs on the conv's blocked layout
    # (not MX's plain arrays) and fewer reorders run than with MX_EXEC_BLOCKED=0.
    code = (
        "import mx, numpy as np\n"
        "from mx import nd, autograd\n"
        "from mx.gluon import nn\n"
        "net = nn.HybridSequential()\n"
        "net.add(nn.Conv2D(32, 3, padding=1, in_channels=16), nn.BatchNorm(in_channels=32), nn.Activation('relu'),"
        " nn.Conv2D(32, 3, padding=1, in_channels=32), nn.BatchNorm(in_channels=32), nn.Activation('relu'),"
        " nn.Conv2D(16, 3, padding=1, in_channels=32))\n"
        "net.initialize(); net.hybridize()\n"
        "x = nd.array(np.random.randn(8, 16, 14, 14))\n"
        "for i in range(2):\n"
        "    with autograd.record():\n"
        "        y = net(x)\n"
        "    y.backward()\n"
        "mx.nd.waitall()\n")
    counts = {}
    for blocked, own in (("1", None), ("0", None), ("1", "0")):
        env = dict(os.environ, MX_EXEC_BLOCKED=blocked, DNNL_VERBOSE="1", MX_NUM_THREADS="1")
        env.pop("MX_ONEDNN_BN_PLAIN", None)
        env.pop("MX_BN_OWN_NHWC", None)
        if own:
            env["MX_BN_OWN_NHWC"] = own
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith("onednn_verbose,exec")]
        bn = [ln for ln in lines if ",batch_normalization," in ln]
        counts[blocked + (own or "")] = (len(bn), sum(",reorder," in ln for ln in lines), bn)
    # MX_BN_OWN_NHWC=0: every forward on oneDNN; by default MX's own kernel takes the nhwc ones
    fwd_all = [ln for ln in counts["10"][2] if ",forward_training," in ln]
    assert len(fwd_all) == 4, fwd_all
    nhwc = sum(":acdb:" in ln for ln in fwd_all)
    assert sum(",forward_training," in ln for ln in counts["1"][2]) == 4 - nhwc
    n_bn, reorders, bn = counts["1"]
    # 2 BatchNorms x 2 steps: the backward on oneDNN; the forward too, or MX's own kernel on nhwc
    assert sum(",backward," in ln for ln in bn) == 4, bn
    assert all("blocked:abcd:" not in ln for ln in bn), bn[0]
    assert counts["0"][0] == 0  # plain arrays: MX's loops
    assert reorders < counts["0"][1], (reorders, counts["0"][1])
