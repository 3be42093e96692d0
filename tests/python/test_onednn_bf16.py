"""bfloat16 on the CPU (docs/ONEDNN.md, "bfloat16"): Convolution (forward, data and weight
gradients), Pooling, BatchNorm, Activation(relu) take bf16 arrays directly (OpDef::cpu_dtypes);
with oneDNN they run its bf16 primitives, without it (MX_ONEDNN=OFF builds, or switched off) the
float32 kernels on converted copies. Every test runs both ways and compares with numpy float64
on the bf16-rounded inputs, to bf16 tolerances (8 significant bits: ~4e-3 relative per rounding)."""

import numpy as np
import pytest

import mx
from mx import autograd, gluon, nd
from conv_reference import conv_grads_ref, conv_ref
from switches import onednn

RNG = np.random.RandomState(7)
BUILT = mx.runtime.onednn_status()[0]
MODES = [True, False] if BUILT else [False]


def bf16(a):
    """The bf16 array and its exact values as float64 (the reference's input)."""
    x = nd.array(np.asarray(a, dtype=np.float32)).astype("bfloat16")
    return x, x.astype("float32").asnumpy().astype(np.float64)


def f64(x):
    return x.astype("float32").asnumpy().astype(np.float64)


def assert_bf16_close(got, ref, rel=1.5e-2):
    """got (an MX bf16 array) against a float64 reference, relative to the reference's scale."""
    g = f64(got)
    assert g.shape == ref.shape
    scale = max(np.abs(ref).max(), 1e-6)
    err = np.abs(g - ref).max() / scale
    assert err < rel, "max error %.3g of scale %.3g" % (err, scale)


def dtype_name(x):
    return np.dtype(x.dtype).name if not isinstance(x.dtype, str) else x.dtype


def is_bf16(x):
    return "bfloat16" in str(x.dtype) or dtype_name(x) == "bfloat16"


# ---------------------------------------------------------------- numpy float64 references
def pool_ref(x, k, s, kind):
    n, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s][:, :, :oh, :ow]
    return win.max(axis=(4, 5)) if kind == "max" else win.mean(axis=(4, 5))


def calls():
    return mx.runtime.onednn_status()[2]


# ---------------------------------------------------------------- single operators
@pytest.mark.parametrize("on", MODES)
@pytest.mark.parametrize("stride,pad,groups,bias", [(1, 1, 1, True), (2, 0, 1, False), (1, 1, 2, True)])
def test_convolution_forward(on, stride, pad, groups, bias):
    x, xr = bf16(RNG.randn(3, 8, 9, 9))
    w, wr = bf16(RNG.randn(12, 8 // groups, 3, 3) * 0.3)
    b, br = bf16(RNG.randn(12))
    args = [x, w] + ([b] if bias else [])
    with onednn(on):
        c0 = calls()
        y = nd.Convolution(*args, kernel=(3, 3), num_filter=12, stride=(stride, stride), pad=(pad, pad),
                           num_group=groups, no_bias=not bias)
        ran = calls() - c0
    assert is_bf16(y)
    assert ran == (1 if on else 0)  # oneDNN's bf16 primitive ran (or nothing of oneDNN)
    assert_bf16_close(y, conv_ref(xr, wr, br if bias else None, stride, pad, groups))


@pytest.mark.parametrize("on", MODES)
@pytest.mark.parametrize("stride,pad,groups", [(1, 1, 1), (2, 1, 1), (1, 0, 2)])
def test_convolution_gradients(on, stride, pad, groups):
    x, xr = bf16(RNG.randn(2, 8, 8, 8))
    w, wr = bf16(RNG.randn(16, 8 // groups, 3, 3) * 0.3)
    b, _ = bf16(RNG.randn(16))
    for a in (x, w, b):
        a.attach_grad()
    with onednn(on):
        with autograd.record():
            y = nd.Convolution(x, w, b, kernel=(3, 3), num_filter=16, stride=(stride, stride), pad=(pad, pad),
                               num_group=groups)
        gy, gyr = bf16(RNG.randn(*y.shape))
        c0 = calls()
        y.backward(gy)
        ran = calls() - c0
    assert ran == (2 if on else 0)  # weight and data gradient primitives
    dx, dw, db = conv_grads_ref(xr, wr, gyr, stride, pad, groups)
    for got, ref in ((x.grad, dx), (w.grad, dw), (b.grad, db)):
        assert is_bf16(got)
        assert_bf16_close(got, ref)


@pytest.mark.parametrize("on", MODES)
@pytest.mark.parametrize("kind,k,s", [("max", 3, 2), ("avg", 2, 2), ("max", 2, 1)])
def test_pooling_forward_backward(on, kind, k, s):
    x, xr = bf16(RNG.randn(2, 5, 9, 9))
    x.attach_grad()
    with onednn(on):
        with autograd.record():
            y = nd.Pooling(x, kernel=(k, k), stride=(s, s), pool_type=kind)
        y.backward(nd.ones(y.shape).astype("bfloat16"))
    assert is_bf16(y) and is_bf16(x.grad)
    # Max and mean of bf16 values: max is exact, the mean rounds once.
    assert_bf16_close(y, pool_ref(xr, k, s, kind), rel=5e-3)
    # Gradient of sum(pool(x)) by finite reasoning: for avg each window spreads 1/k^2; for max the
    # count of windows whose maximum an element is (ties are unlikely with random data).
    xv = nd.array(xr.astype(np.float64), dtype="float64")
    xv.attach_grad()
    with autograd.record():
        yv = nd.Pooling(xv, kernel=(k, k), stride=(s, s), pool_type=kind)
    yv.backward(nd.ones(yv.shape, dtype="float64"))
    assert np.array_equal(f64(x.grad), xv.grad.asnumpy())  # 1/4 and window counts are exact in bf16


@pytest.mark.parametrize("on", MODES)
def test_relu_is_exact(on):
    x, xr = bf16(RNG.randn(4, 7, 5))
    x.attach_grad()
    with onednn(on):
        with autograd.record():
            y = nd.Activation(x, act_type="relu")
        g, gr = bf16(RNG.randn(4, 7, 5))
        y.backward(g)
    assert is_bf16(y) and is_bf16(x.grad)
    assert np.array_equal(f64(y), np.maximum(xr, 0))
    assert np.array_equal(f64(x.grad), np.where(xr > 0, gr, 0))


def test_sigmoid_runs_through_float32():
    x, xr = bf16(RNG.randn(3, 4))
    y = nd.Activation(x, act_type="sigmoid")
    assert is_bf16(y)
    assert_bf16_close(y, 1 / (1 + np.exp(-xr)), rel=5e-3)


@pytest.mark.parametrize("param_dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("train", [False, True])
def test_batchnorm(param_dtype, train):
    x, xr = bf16(RNG.randn(4, 6, 5, 5) * 2 + 1)
    gamma = nd.array(RNG.rand(6) + 0.5).astype(param_dtype)
    beta = nd.array(RNG.randn(6)).astype(param_dtype)
    mm = nd.array(RNG.randn(6) * 0.1).astype(param_dtype)
    mv = nd.array(RNG.rand(6) + 0.5).astype(param_dtype)
    g, b, m0, v0 = (f64(a) for a in (gamma, beta, mm, mv))
    x.attach_grad()
    gamma.attach_grad()
    beta.attach_grad()
    with autograd.record(train_mode=train):
        y = nd.BatchNorm(x, gamma, beta, mm, mv, fix_gamma=False, eps=1e-3, momentum=0.9)
    gy, gyr = bf16(RNG.randn(*y.shape))
    y.backward(gy)
    assert is_bf16(y) and is_bf16(x.grad)
    assert str(gamma.grad.dtype) == str(gamma.dtype) and str(mm.dtype) == str(gamma.dtype)
    if train:
        mean, var = xr.mean(axis=(0, 2, 3)), xr.var(axis=(0, 2, 3))
        prm_rel = 4e-3 if param_dtype == "bfloat16" else 1e-5
        np.testing.assert_allclose(f64(mm), 0.9 * m0 + 0.1 * mean, rtol=prm_rel, atol=prm_rel)
        np.testing.assert_allclose(f64(mv), 0.9 * v0 + 0.1 * var, rtol=prm_rel, atol=prm_rel)
    else:
        mean, var = m0, v0
        assert np.array_equal(f64(mm), m0)  # moving statistics untouched in inference
    inv = 1 / np.sqrt(var + 1e-3)
    xh = (xr - mean[None, :, None, None]) * inv[None, :, None, None]
    assert_bf16_close(y, xh * g[None, :, None, None] + b[None, :, None, None])
    m = xr.size / 6
    sg, sgx = gyr.sum(axis=(0, 2, 3)), (gyr * xh).sum(axis=(0, 2, 3))
    assert_bf16_close(beta.grad, sg)
    assert_bf16_close(gamma.grad, sgx)
    if train:  # (the data gradient of a predict-mode record follows the float32 kernel's rule)
        dx = (g * inv)[None, :, None, None] * (gyr - sg[None, :, None, None] / m - xh * sgx[None, :, None, None] / m)
        assert_bf16_close(x.grad, dx, rel=3e-2)


def test_batchnorm_dtype_rules():
    """As MXNet: half data with float32 parameters gives float32 mean/var; other parameter
    dtypes are refused with a clear error."""
    x, _ = bf16(RNG.randn(2, 3, 4))
    one, zero = nd.ones(3), nd.zeros(3)
    y, mean, var = nd.BatchNorm(x, one, zero, zero.copy(), one.copy(), output_mean_var=True)
    assert is_bf16(y) and mean.dtype == np.float32 and var.dtype == np.float32
    d = one.astype("float64")
    with pytest.raises(mx.base.MXNetError, match="float32 was expected"):
        nd.BatchNorm(x, d, d, d, d)


# ---------------------------------------------------------------- Gluon: net.cast('bfloat16')
def small_resnet():
    return mx.gluon.model_zoo.vision.resnet18_v1(classes=10)


def test_cast_keeps_batchnorm_float32():
    net = small_resnet()
    net.initialize()
    net.cast("bfloat16")
    kinds = {}
    for name, p in net.collect_params().items():
        kinds.setdefault("bn" if "batchnorm" in name else "other", set()).add(np.dtype(p.dtype).name
                                                                             if p.dtype != "bfloat16" else "bfloat16")
    assert kinds["bn"] == {"float32"}
    assert kinds["other"] == {"bfloat16"}


def test_resnet18_bf16_inference_matches_float32():
    """Model-zoo ResNet-18, net.cast('bfloat16') + hybridize: predictions within bf16 error of the
    same parameters in float32; the graph folds Conv+BatchNorm and runs on oneDNN."""
    mx.random.seed(3)
    net = small_resnet()
    net.initialize(mx.init.Xavier())
    x = nd.random.uniform(shape=(4, 3, 32, 32))
    ref = net(x).asnumpy().astype(np.float64)  # float32, imperative
    # A few training-mode forwards give BatchNorm non-trivial moving statistics first.
    with autograd.record(train_mode=True):
        for _ in range(2):
            net(nd.random.uniform(shape=(4, 3, 32, 32)))
    ref = net(x).asnumpy().astype(np.float64)
    net.cast("bfloat16")
    net.hybridize()
    c0 = calls()
    y = net(x.astype("bfloat16"))
    assert is_bf16(y)
    if BUILT:
        assert calls() - c0 >= 20  # convolutions, pooling: bf16 primitives
    err = np.abs(f64(y) - ref).max() / np.abs(ref).max()
    assert err < 5e-2, err  # ~20 layers of bf16 rounding
    assert np.array_equal(np.argmax(f64(y), 1), np.argmax(ref, 1)) or err < 2e-2


def test_bf16_training_keeps_float32_master_weights():
    """Trainer(multi_precision=True) keeps float32 master weights (as MXNet): updates smaller than
    bf16's spacing accumulate; without it they are rounded away."""
    def run(mp):
        net = gluon.nn.Dense(1, use_bias=False, in_units=1)
        net.initialize(mx.init.One())
        net.cast("bfloat16")
        tr = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 1e-3, "multi_precision": mp})
        x = nd.ones((1, 1)).astype("bfloat16")
        for _ in range(10):
            with autograd.record():
                y = net(x)
            y.backward()
            tr.step(1)
        return float(f64(net.weight.data())[0, 0])
    # 1 - 10 * 1e-3 = 0.99, rounded to bf16; a single step 1 - 1e-3 rounds back to 1.0.
    assert run(False) == 1.0
    assert run(True) == float(f64(bf16([0.99])[0])[0])


def test_bf16_training_follows_float32_training():
    """Eight SGD steps of a small hybridized CNN (conv, BatchNorm, relu, max-pool, global avg-pool,
    Dense) in bf16 with float32 master weights: the loss falls and tracks the float32 run from the
    same initial parameters within bf16 error."""
    def run(dtype):
        mx.random.seed(5)
        net = gluon.nn.HybridSequential()
        net.add(gluon.nn.Conv2D(16, 3, padding=1), gluon.nn.BatchNorm(), gluon.nn.Activation("relu"),
                gluon.nn.MaxPool2D(2), gluon.nn.Conv2D(16, 3, padding=1), gluon.nn.Activation("relu"),
                gluon.nn.GlobalAvgPool2D(), gluon.nn.Dense(4))
        net.initialize(mx.init.Xavier())
        net(nd.zeros((1, 3, 12, 12)))
        if dtype == "bfloat16":
            net.cast("bfloat16")
        net.hybridize()
        x = nd.random.uniform(shape=(16, 3, 12, 12)).astype(dtype)
        lab = nd.array(np.arange(16) % 4).astype(dtype)
        L = gluon.loss.SoftmaxCrossEntropyLoss()
        tr = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.5, "multi_precision": True})
        losses = []
        for _ in range(8):
            with autograd.record():
                loss = L(net(x), lab)
            loss.backward()
            tr.step(16)
            losses.append(float(f64(loss).mean()))
        return net, np.array(losses)
    net, lb = run("bfloat16")
    _, lf = run("float32")
    assert np.all(np.isfinite(lb))
    assert lb[-1] < lb[0] - 0.05, lb
    np.testing.assert_allclose(lb, lf, rtol=3e-2)
    for n, p in net.collect_params().items():
        assert ("bfloat16" in str(p.data().dtype)) == ("batchnorm" not in n), n


@pytest.mark.parametrize("on", MODES)
@pytest.mark.parametrize("bn_dtype", ["float32", "bfloat16"])
def test_conv_batchnorm_folding_in_bf16(on, bn_dtype):
    """An inference binding folds BatchNorm into a bf16 convolution (BatchNorm parameters float32
    as Gluon's cast leaves them, or bf16); a changed gamma refolds before the next predict."""
    data = mx.sym.Variable("data")
    c = mx.sym.Convolution(data, kernel=(3, 3), num_filter=6, pad=(1, 1), name="conv")
    y = mx.sym.Activation(mx.sym.BatchNorm(c, fix_gamma=False, name="bn"), act_type="relu")
    x, xr = bf16(RNG.randn(2, 4, 7, 7))
    w, wr = bf16(RNG.randn(6, 4, 3, 3) * 0.3)
    b, br = bf16(RNG.randn(6) * 0.2)
    bnp = {k: nd.array(v).astype(bn_dtype) for k, v in
           (("bn_gamma", RNG.uniform(0.5, 1.5, 6)), ("bn_beta", RNG.randn(6) * 0.2))}
    aux = {k: nd.array(v).astype(bn_dtype) for k, v in
           (("bn_moving_mean", RNG.randn(6) * 0.3), ("bn_moving_var", RNG.uniform(0.3, 2.0, 6)))}
    with onednn(on):
        ex = y.bind(mx.cpu(), dict(data=x, conv_weight=w, conv_bias=b, **bnp), grad_req="null", aux_states=aux)
        assert [op for op, bw in ex.step_ops() if not bw] == ["_fused_Convolution_BatchNorm_relu"]
        for _ in range(2):
            got = ex.forward(is_train=False)[0]
            g, be, m, v = (f64(a) for a in (bnp["bn_gamma"], bnp["bn_beta"], aux["bn_moving_mean"],
                                             aux["bn_moving_var"]))
            s = (g / np.sqrt(v + 1e-3))[None, :, None, None]
            ref = np.maximum((conv_ref(xr, wr, br, pad=1) - m[None, :, None, None]) * s + be[None, :, None, None], 0)
            assert is_bf16(got)
            assert_bf16_close(got, ref, rel=2e-2)
            bnp["bn_gamma"][:] = nd.array(RNG.uniform(0.5, 1.5, 6)).astype(bn_dtype)


# ---------------------------------------------------------------- FullyConnected and softmax
@pytest.mark.parametrize("on", MODES)
@pytest.mark.parametrize("bias,flatten", [(True, True), (False, True), (True, False)])
def test_fully_connected_bf16(on, bias, flatten):
    x, xr = bf16(RNG.randn(6, 4, 5))
    w, wr = bf16(RNG.randn(7, 20 if flatten else 5) * 0.3)
    b, br = bf16(RNG.randn(7))
    args = [x, w] + ([b] if bias else [])
    for a in args:
        a.attach_grad()
    with onednn(on):
        c0 = calls()
        with autograd.record():
            y = nd.FullyConnected(*args, num_hidden=7, no_bias=not bias, flatten=flatten)
        gy, gyr = bf16(RNG.randn(*y.shape))
        y.backward(gy)
        ran = calls() - c0
    assert ran == (3 if on else 0)  # forward, weight and data gradients
    x2 = xr.reshape(6, 20) if flatten else xr.reshape(24, 5)
    g2 = gyr.reshape(x2.shape[0], 7)
    ref = x2 @ wr.T + (br if bias else 0)
    assert is_bf16(y) and is_bf16(w.grad)
    assert_bf16_close(y, ref.reshape(y.shape))
    assert_bf16_close(x.grad, (g2 @ wr).reshape(xr.shape))
    assert_bf16_close(w.grad, g2.T @ x2)
    if bias:
        assert_bf16_close(b.grad, g2.sum(0))


@pytest.mark.parametrize("on", MODES)
def test_fully_connected_float32_predict_follows_weight_writes(on):
    """A predict-mode float32 FullyConnected large enough runs oneDNN with a cached blocked
    weight: writing the weight between calls must be seen by the next call."""
    x = RNG.randn(64, 256).astype(np.float32)
    w = RNG.randn(128, 256).astype(np.float32) * 0.1
    b = RNG.randn(128).astype(np.float32)
    X, W, B = nd.array(x), nd.array(w), nd.array(b)
    with onednn(on):
        for step in range(3):
            c0 = calls()
            y = nd.FullyConnected(X, W, B, num_hidden=128).asnumpy()
            assert calls() - c0 == (1 if on else 0)
            ref = x.astype(np.float64) @ W.asnumpy().astype(np.float64).T + b
            np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)
            W[:] = W * 0.5 + 1.0  # a write: the next call must not reuse the old blocked copy


def softmax_ref(x, axis, log):
    r = x - x.max(axis=axis, keepdims=True)
    lse = np.log(np.exp(r).sum(axis=axis, keepdims=True))
    return r - lse if log else np.exp(r - lse)


@pytest.mark.parametrize("on", MODES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [-1, 1, 0])
def test_softmax(on, name, axis):
    s = RNG.randn(5, 40, 3) * 4
    f = getattr(nd, name)
    ref = softmax_ref(s, axis, name == "log_softmax")
    with onednn(on):
        c0 = calls()
        y32 = f(nd.array(s), axis=axis).asnumpy()
        sb, sbr = bf16(s)
        yb = f(sb, axis=axis)
        ran = calls() - c0
    assert ran == (2 if on else 0)
    np.testing.assert_allclose(y32, ref, rtol=2e-5, atol=1e-5)  # float32 of values up to ~12
    assert is_bf16(yb)
    assert_bf16_close(yb, softmax_ref(sbr, axis, name == "log_softmax"), rel=1e-2)


def test_softmax_cases_oneDNN_does_not_take():
    """temperature, use_length, softmin and another output dtype run MX's kernels (bf16 through
    float32) and still match numpy."""
    s = RNG.randn(4, 9)
    sb, sbr = bf16(s)
    c0 = calls()
    y = nd.softmax(sb, temperature=2.0)
    assert_bf16_close(y, softmax_ref(sbr / 2.0, -1, False), rel=1e-2)
    y = nd.softmin(sb)
    assert_bf16_close(y, softmax_ref(-sbr, -1, False), rel=1e-2)
    y = nd.softmax(sb, dtype="float32")
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.asnumpy(), softmax_ref(sbr, -1, False), rtol=1e-5, atol=1e-6)
    length = nd.array([3, 9, 1, 5], dtype="int32")
    y = nd.softmax(nd.array(s), length, axis=-1, use_length=True).asnumpy()
    for i, n in enumerate([3, 9, 1, 5]):
        np.testing.assert_allclose(y[i, :n], softmax_ref(s[i, :n], -1, False), rtol=1e-5, atol=1e-6)
        assert np.all(y[i, n:] == 0)
    assert calls() == c0
