"""Second batch of neural-network operators (Deconvolution, LayerNorm/InstanceNorm/GroupNorm,
L2Normalization, LRN, LeakyReLU, UpSampling, softmax_cross_entropy, SoftmaxActivation,
linalg_gemm/gemm2): forward against numpy references, gradients against central finite
differences in float64, and parameter/shape validation."""
import itertools
import math

import numpy as np
import pytest

import mx
from fd_check import fd_check as _fd_check

RNG = np.random.RandomState(1)


def nd(a, dtype=None):
    a = np.asarray(a)
    return mx.nd.array(a, dtype=dtype or a.dtype)


def fd_check(fn, arrays, **kwargs):
    return _fd_check(fn, arrays, rng=RNG, **kwargs)


# ---------------------------------------------------------------- Deconvolution
def ref_deconv(x, w, b, kernel, stride=None, pad=None, dilate=None, adj=None, target_shape=None, num_group=1):
    n = len(kernel)
    stride = stride or (1,) * n
    dilate = dilate or (1,) * n
    pad = list(pad or (0,) * n)
    adj = list(adj or (0,) * n)
    N, C = x.shape[:2]
    Cg = C // num_group
    Fg = w.shape[1]
    F = Fg * num_group
    full = [stride[i] * (x.shape[2 + i] - 1) + dilate[i] * (kernel[i] - 1) + 1 for i in range(n)]
    if target_shape:
        for i in range(n):
            tot = full[i] - target_shape[i]
            adj[i], pad[i] = tot % 2, (tot + 1) // 2
    big = [full[i] + adj[i] for i in range(n)]
    y = np.zeros((N, F) + tuple(big))
    for pos in itertools.product(*[range(s) for s in x.shape[2:]]):
        for k in itertools.product(*[range(s) for s in kernel]):
            o = tuple(pos[i] * stride[i] + k[i] * dilate[i] for i in range(n))
            for g in range(num_group):
                xv = x[(slice(None), slice(g * Cg, (g + 1) * Cg)) + pos]  # (N, Cg)
                wv = w[(slice(g * Cg, (g + 1) * Cg), slice(None)) + k]  # (Cg, Fg)
                y[(slice(None), slice(g * Fg, (g + 1) * Fg)) + o] += xv @ wv
    sl = [slice(None), slice(None)] + [slice(pad[i], pad[i] + full[i] - 2 * pad[i] + adj[i]) for i in range(n)]
    y = y[tuple(sl)]
    if b is not None:
        y = y + b.reshape((1, F) + (1,) * n)
    return y


DECONV_CASES = [
    dict(x=(2, 3, 5), w=(3, 2, 3), kernel=(3,), stride=(2,), pad=(1,)),
    dict(x=(2, 4, 4, 3), w=(4, 3, 3, 3), kernel=(3, 3), stride=(2, 2), pad=(1, 1), adj=(1, 1), no_bias=False),
    dict(x=(1, 4, 3, 4), w=(4, 2, 3, 2), kernel=(3, 2), stride=(2, 1), dilate=(2, 1), num_group=2, no_bias=False),
    dict(x=(1, 2, 4, 4), w=(2, 2, 4, 4), kernel=(4, 4), stride=(2, 2), target_shape=(8, 7)),
    dict(x=(1, 2, 3, 3, 2), w=(2, 2, 2, 2, 3), kernel=(2, 2, 3), stride=(1, 2, 1), pad=(0, 1, 1)),
    dict(x=(2, 3, 3, 3), w=(3, 2, 1, 1), kernel=(1, 1)),
]
DK = ("kernel", "stride", "pad", "dilate", "adj", "target_shape", "num_group")


@pytest.mark.parametrize("case", DECONV_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_deconvolution_forward(case, dtype):
    x = RNG.standard_normal(case["x"]).astype(dtype)
    w = RNG.standard_normal(case["w"]).astype(dtype)
    no_bias = case.get("no_bias", True)
    ng = case.get("num_group", 1)
    F = case["w"][1] * ng
    b = None if no_bias else RNG.standard_normal(F).astype(dtype)
    kw = {k: case[k] for k in DK if k in case}
    args = [nd(x), nd(w)] + ([] if no_bias else [nd(b)])
    y = mx.nd.Deconvolution(*args, num_filter=F, no_bias=no_bias, **kw).asnumpy()
    ref = ref_deconv(x.astype(np.float64), w.astype(np.float64), None if b is None else b.astype(np.float64), **kw)
    assert y.dtype == np.dtype(dtype) and y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)
    if "target_shape" in case:
        assert y.shape[2:] == tuple(case["target_shape"])


@pytest.mark.parametrize("case", DECONV_CASES)
def test_deconvolution_grad(case):
    no_bias = case.get("no_bias", True)
    F = case["w"][1] * case.get("num_group", 1)
    kw = {k: case[k] for k in DK if k in case}
    arrays = [RNG.standard_normal(case["x"]), RNG.standard_normal(case["w"])]
    if not no_bias:
        arrays.append(RNG.standard_normal(F))
    fd_check(lambda *a: mx.nd.Deconvolution(*a, num_filter=F, no_bias=no_bias, **kw), arrays)


def test_deconvolution_errors():
    x = nd(np.ones((1, 4, 5, 5), np.float32))
    w = nd(np.ones((4, 2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="Deconvolution.*weight"):
        mx.nd.Deconvolution(x, nd(np.ones((4, 3, 3, 3), np.float32)), kernel=(3, 3), num_filter=2)
    with pytest.raises(ValueError, match="Deconvolution.*num_filter"):
        mx.nd.Deconvolution(x, w, kernel=(3, 3), num_filter=0)
    with pytest.raises(ValueError, match="Deconvolution.*adj"):
        mx.nd.Deconvolution(x, w, kernel=(3, 3), num_filter=2, stride=(2, 2), adj=(2, 2))
    with pytest.raises(ValueError, match="Deconvolution.*target_shape"):
        mx.nd.Deconvolution(x, w, kernel=(3, 3), num_filter=2, target_shape=(50, 50))
    with pytest.raises(ValueError, match="Deconvolution.*stride"):
        mx.nd.Deconvolution(x, w, kernel=(3, 3), num_filter=2, stride=(1, 2, 3))


# ---------------------------------------------------------------- LayerNorm / InstanceNorm / GroupNorm
def ref_layer_norm(x, g, b, axis=-1, eps=1e-5):
    m = x.mean(axis=axis, keepdims=True)
    v = x.var(axis=axis, keepdims=True)
    shp = [1] * x.ndim
    shp[axis] = -1
    return (x - m) / np.sqrt(v + eps) * g.reshape(shp) + b.reshape(shp), m, np.sqrt(v + eps)


def ref_group_norm(x, g, b, G, eps):
    # gamma/beta per group (MXNet 1.x's GroupNorm; InstanceNorm is the case G = C)
    N, C = x.shape[:2]
    xr = x.reshape(N, G, -1)
    m = xr.mean(-1, keepdims=True)
    s = np.sqrt(xr.var(-1, keepdims=True) + eps)
    y = (xr - m) / s * g.reshape(1, G, 1) + b.reshape(1, G, 1)
    return y.reshape(x.shape), m.reshape(N, G), s.reshape(N, G)


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_norm(axis, dtype):
    x = RNG.standard_normal((3, 4, 5)).astype(dtype)
    g = RNG.standard_normal(x.shape[axis]).astype(dtype)
    b = RNG.standard_normal(x.shape[axis]).astype(dtype)
    out = mx.nd.LayerNorm(nd(x), nd(g), nd(b), axis=axis, eps=1e-3, output_mean_var=True)
    assert len(out) == 3
    ref = ref_layer_norm(x.astype(np.float64), g, b, axis, 1e-3)
    for o, r in zip(out, ref):
        np.testing.assert_allclose(o.asnumpy(), r, rtol=1e-4, atol=1e-5)
    y = mx.nd.LayerNorm(nd(x), nd(g), nd(b), axis=axis)
    np.testing.assert_allclose(y.asnumpy(), ref_layer_norm(x.astype(np.float64), g, b, axis)[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("axis", [-1, 1])
def test_layer_norm_grad(axis):
    x = RNG.standard_normal((3, 4, 5))
    fd_check(lambda a, g, b: mx.nd.LayerNorm(a, g, b, axis=axis), [x, RNG.standard_normal(x.shape[axis]),
                                                                   RNG.standard_normal(x.shape[axis])])


def test_instance_norm():
    x = RNG.standard_normal((2, 3, 4, 5))
    g, b = RNG.standard_normal(3), RNG.standard_normal(3)
    y = mx.nd.InstanceNorm(nd(x), nd(g), nd(b)).asnumpy()
    ref = ref_group_norm(x, g, b, 3, 1e-3)[0]
    np.testing.assert_allclose(y, ref, rtol=1e-7, atol=1e-9)
    y32 = mx.nd.InstanceNorm(nd(x.astype(np.float32)), nd(g.astype(np.float32)), nd(b.astype(np.float32)), eps=0.1)
    np.testing.assert_allclose(y32.asnumpy(), ref_group_norm(x, g, b, 3, 0.1)[0], rtol=1e-4, atol=1e-5)
    fd_check(lambda a, gg, bb: mx.nd.InstanceNorm(a, gg, bb), [RNG.standard_normal((2, 3, 4)), g, b])


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_group_norm(groups):
    x = RNG.standard_normal((2, 4, 3, 2))
    g, b = RNG.standard_normal(groups), RNG.standard_normal(groups)
    out = mx.nd.GroupNorm(nd(x), nd(g), nd(b), num_groups=groups, output_mean_var=True)
    for o, r in zip(out, ref_group_norm(x, g, b, groups, 1e-5)):
        np.testing.assert_allclose(o.asnumpy(), r, rtol=1e-7, atol=1e-9)
    fd_check(lambda a, gg, bb: mx.nd.GroupNorm(a, gg, bb, num_groups=groups), [x, g, b])


def test_norm_errors():
    x = nd(np.ones((2, 4, 3), np.float32))
    with pytest.raises(ValueError, match="LayerNorm.*gamma"):
        mx.nd.LayerNorm(x, nd(np.ones(4, np.float32)), nd(np.ones(4, np.float32)))
    with pytest.raises(ValueError, match="LayerNorm.*axis"):
        mx.nd.LayerNorm(x, nd(np.ones(3, np.float32)), nd(np.ones(3, np.float32)), axis=5)
    with pytest.raises(ValueError, match="GroupNorm.*num_groups"):
        mx.nd.GroupNorm(x, nd(np.ones(4, np.float32)), nd(np.ones(4, np.float32)), num_groups=3)
    with pytest.raises(ValueError, match="GroupNorm.*num_groups"):
        mx.nd.GroupNorm(x, nd(np.ones(4, np.float32)), nd(np.ones(4, np.float32)), num_groups=0)
    with pytest.raises(ValueError, match="InstanceNorm.*beta"):
        mx.nd.InstanceNorm(x, nd(np.ones(4, np.float32)), nd(np.ones(2, np.float32)))


# ---------------------------------------------------------------- L2Normalization
def ref_l2(x, mode, eps):
    if mode == "instance":
        axes = tuple(range(1, x.ndim))
    elif mode == "channel":
        axes = (1,)
    else:
        axes = tuple(range(2, x.ndim))
    return x / np.sqrt((x * x).sum(axis=axes, keepdims=True) + eps)


@pytest.mark.parametrize("mode", ["instance", "channel", "spatial"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_l2_normalization(mode, dtype):
    x = RNG.standard_normal((2, 3, 4, 2)).astype(dtype)
    y = mx.nd.L2Normalization(nd(x), mode=mode, eps=1e-3).asnumpy()
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y, ref_l2(x.astype(np.float64), mode, 1e-3), rtol=1e-5, atol=1e-6)
    fd_check(lambda a: mx.nd.L2Normalization(a, mode=mode), [RNG.standard_normal((2, 3, 4))])


def test_l2_normalization_errors():
    with pytest.raises(ValueError, match="L2Normalization.*mode"):
        mx.nd.L2Normalization(nd(np.ones((2, 3), np.float32)), mode="bogus")
    with pytest.raises(ValueError, match="L2Normalization.*spatial"):
        mx.nd.L2Normalization(nd(np.ones((2, 3), np.float32)), mode="spatial")


# ---------------------------------------------------------------- LRN
def ref_lrn(x, nsize, alpha=1e-4, beta=0.75, knorm=2.0):
    C = x.shape[1]
    sq = x * x
    s = np.zeros_like(x)
    h = nsize // 2
    for c in range(C):
        s[:, c] = sq[:, max(0, c - h):min(C, c + h + 1)].sum(axis=1)
    return x * (knorm + alpha / nsize * s) ** (-beta)


@pytest.mark.parametrize("nsize,alpha,beta,knorm", [(3, 0.1, 0.75, 2.0), (5, 1e-4, 0.75, 2.0), (1, 0.5, 0.6, 1.0)])
def test_lrn(nsize, alpha, beta, knorm):
    x = RNG.standard_normal((2, 6, 3, 2))
    y = mx.nd.LRN(nd(x.astype(np.float32)), nsize=nsize, alpha=alpha, beta=beta, knorm=knorm).asnumpy()
    np.testing.assert_allclose(y, ref_lrn(x, nsize, alpha, beta, knorm), rtol=1e-5, atol=1e-6)
    fd_check(lambda a: mx.nd.LRN(a, nsize=nsize, alpha=alpha, beta=beta, knorm=knorm), [x])


def test_lrn_errors():
    with pytest.raises(ValueError, match="LRN.*nsize"):
        mx.nd.LRN(nd(np.ones((1, 3, 2, 2), np.float32)), nsize=2)
    with pytest.raises(ValueError, match="LRN.*data"):
        mx.nd.LRN(nd(np.ones((3, 2), np.float32)), nsize=3)


# ---------------------------------------------------------------- LeakyReLU
def ref_leaky(x, act, slope=0.25, gamma=None, lo=0.125, hi=0.334):
    if act == "leaky":
        return np.where(x > 0, x, slope * x)
    if act == "prelu":
        g = gamma.reshape((1, -1) + (1,) * (x.ndim - 2)) if gamma.size > 1 else gamma
        return np.where(x > 0, x, g * x)
    if act == "rrelu":
        return np.where(x > 0, x, (lo + hi) / 2 * x)
    if act == "elu":
        return np.where(x > 0, x, slope * np.expm1(x))
    if act == "selu":
        a, l = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
        return l * np.where(x > 0, x, a * np.expm1(x))
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


@pytest.mark.parametrize("act", ["leaky", "elu", "selu", "gelu"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_leaky_relu(act, dtype):
    x = RNG.standard_normal((3, 4, 5)).astype(dtype)
    y = mx.nd.LeakyReLU(nd(x), act_type=act, slope=0.3).asnumpy()
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y, ref_leaky(x.astype(np.float64), act, slope=0.3), rtol=1e-5, atol=1e-6)
    xs = RNG.standard_normal((3, 4))
    xs[np.abs(xs) < 1e-3] = 0.5
    if act != "selu":
        fd_check(lambda a: mx.nd.LeakyReLU(a, act_type=act, slope=0.3), [xs])
        return
    # MXNet 1.x's selu backward is lambda * (y + alpha) for x <= 0 (y the output), not the true
    # derivative; MX reproduces it (tests/data/mxnet-1.9.1 leakyrelu_selu). Positive side: lambda.
    a, l = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    xn = nd(xs)
    xn.attach_grad()
    with mx.autograd.record():
        y = mx.nd.LeakyReLU(xn, act_type="selu")
    y.backward(nd(np.ones_like(xs)))
    yv = ref_leaky(xs, "selu")
    np.testing.assert_allclose(xn.grad.asnumpy(), np.where(xs > 0, l, l * (yv + a)), rtol=1e-10)
    pos = np.abs(xs) + 0.1
    fd_check(lambda q: mx.nd.LeakyReLU(q, act_type="selu"), [pos])


def test_prelu():
    x = RNG.standard_normal((2, 3, 4))
    x[np.abs(x) < 1e-3] = 0.5
    for g in (RNG.standard_normal(3), np.array([0.2])):
        y = mx.nd.LeakyReLU(nd(x), nd(g), act_type="prelu").asnumpy()
        np.testing.assert_allclose(y, ref_leaky(x, "prelu", gamma=g), rtol=1e-12)
        fd_check(lambda a, gg: mx.nd.LeakyReLU(a, gg, act_type="prelu"), [x, g])


def test_rrelu():
    x = RNG.standard_normal((4, 50))
    y = mx.nd.LeakyReLU(nd(x), act_type="rrelu", lower_bound=0.1, upper_bound=0.3)
    assert len(y) == 2
    np.testing.assert_allclose(y[0].asnumpy(), ref_leaky(x, "rrelu", lo=0.1, hi=0.3), rtol=1e-12)
    xn = nd(x)
    xn.attach_grad()
    with mx.autograd.record(train_mode=True):
        out, mask = mx.nd.LeakyReLU(xn, act_type="rrelu", lower_bound=0.1, upper_bound=0.3)
    m = mask.asnumpy()
    assert m.min() >= 0.1 and m.max() <= 0.3 and m.std() > 0.01
    np.testing.assert_allclose(out.asnumpy(), np.where(x > 0, x, m * x), rtol=1e-12)
    out.backward(nd(np.ones_like(x)))
    np.testing.assert_allclose(xn.grad.asnumpy(), np.where(x > 0, 1, m), rtol=1e-12)
    mx.random.seed(7)
    with mx.autograd.train_mode():
        a = mx.nd.LeakyReLU(nd(x), act_type="rrelu")[1].asnumpy()
    mx.random.seed(7)
    with mx.autograd.train_mode():
        b = mx.nd.LeakyReLU(nd(x), act_type="rrelu")[1].asnumpy()
    np.testing.assert_array_equal(a, b)


def test_leaky_relu_errors():
    x = nd(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="LeakyReLU.*act_type"):
        mx.nd.LeakyReLU(x, act_type="bogus")
    with pytest.raises(ValueError, match="LeakyReLU.*gamma"):  # (2,) would fit axis 0, as in MXNet
        mx.nd.LeakyReLU(x, nd(np.ones(4, np.float32)), act_type="prelu")
    with pytest.raises(ValueError, match="LeakyReLU.*lower_bound"):
        mx.nd.LeakyReLU(x, act_type="rrelu", lower_bound=0.5, upper_bound=0.1)


# ---------------------------------------------------------------- UpSampling
def ref_bilinear(x, w, scale):
    k = 2 * scale - scale % 2
    pad = int(math.ceil((scale - 1) / 2.0))
    C = x.shape[1]
    ys = []
    for c in range(C):
        ys.append(ref_deconv(x[:, c:c + 1], w[c:c + 1], None, (k, k), (scale, scale), (pad, pad)))
    y = np.concatenate(ys, axis=1)
    return y[:, :, :x.shape[2] * scale, :x.shape[3] * scale]


def test_upsampling_nearest():
    a = RNG.standard_normal((2, 2, 2, 3))
    b = RNG.standard_normal((2, 3, 4, 6))
    y = mx.nd.UpSampling(nd(a), scale=2, sample_type="nearest", num_args=1).asnumpy()
    np.testing.assert_array_equal(y, a.repeat(2, 2).repeat(2, 3))
    y = mx.nd.UpSampling(nd(a), nd(b), scale=2, sample_type="nearest", num_args=2).asnumpy()
    np.testing.assert_array_equal(y, np.concatenate([a.repeat(2, 2).repeat(2, 3), b], axis=1))
    c = RNG.standard_normal((2, 2, 1, 1.5 and 1))
    c = RNG.standard_normal((2, 2, 2, 3))
    d = RNG.standard_normal((2, 2, 6, 9))
    y = mx.nd.UpSampling(nd(c), nd(d), scale=3, sample_type="nearest", num_args=2, multi_input_mode="sum").asnumpy()
    np.testing.assert_allclose(y, c.repeat(3, 2).repeat(3, 3) + d, rtol=1e-12)
    fd_check(lambda p, q: mx.nd.UpSampling(p, q, scale=2, sample_type="nearest", num_args=2), [a, b])
    fd_check(lambda p, q: mx.nd.UpSampling(p, q, scale=3, sample_type="nearest", num_args=2, multi_input_mode="sum"),
             [c, d])


@pytest.mark.parametrize("scale", [1, 2, 3])
def test_upsampling_bilinear(scale):
    k = 2 * scale - scale % 2
    x = RNG.standard_normal((2, 3, 3, 4))
    w = RNG.standard_normal((3, 1, k, k))
    y = mx.nd.UpSampling(nd(x), nd(w), scale=scale, sample_type="bilinear", num_args=1, num_filter=3).asnumpy()
    np.testing.assert_allclose(y, ref_bilinear(x, w, scale), rtol=1e-10, atol=1e-12)
    fd_check(lambda p, q: mx.nd.UpSampling(p, q, scale=scale, sample_type="bilinear", num_args=1, num_filter=3), [x, w])


def test_upsampling_errors():
    a = nd(np.ones((1, 2, 2, 2), np.float32))
    with pytest.raises(ValueError, match="UpSampling.*scale"):
        mx.nd.UpSampling(a, scale=0, sample_type="nearest", num_args=1)
    with pytest.raises(ValueError, match="UpSampling.*input 1"):
        mx.nd.UpSampling(a, nd(np.ones((1, 2, 3, 3), np.float32)), scale=2, sample_type="nearest", num_args=2)
    with pytest.raises(ValueError, match="UpSampling.*sample_type"):
        mx.nd.UpSampling(a, scale=2, sample_type="cubic", num_args=1)
    with pytest.raises(ValueError, match="UpSampling.*weight"):
        mx.nd.UpSampling(a, nd(np.ones((2, 1, 3, 3), np.float32)), scale=2, sample_type="bilinear", num_args=1)


# ---------------------------------------------------------------- softmax_cross_entropy, SoftmaxActivation
def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_cross_entropy(dtype):
    x = RNG.standard_normal((5, 4)).astype(dtype)
    lab = RNG.randint(0, 4, 5).astype(dtype)
    y = mx.nd.softmax_cross_entropy(nd(x), nd(lab)).asnumpy()
    assert y.shape == (1,)
    p = softmax(x.astype(np.float64), 1)
    np.testing.assert_allclose(y, [-np.log(p[np.arange(5), lab.astype(int)]).sum()], rtol=1e-5)
    yi = mx.nd.softmax_cross_entropy(nd(x), nd(lab.astype(np.int32))).asnumpy()
    np.testing.assert_allclose(yi, y, rtol=1e-6)
    fd_check(lambda a, l: mx.nd.softmax_cross_entropy(a, l), [x, lab], wrt=[0])
    with pytest.raises(TypeError, match="softmax_cross_entropy.*dtype"):
        mx.nd.softmax_cross_entropy(nd(np.ones((2, 3), np.int32)), nd(np.zeros(2, np.int32)))
    with pytest.raises(ValueError, match="softmax_cross_entropy.*label"):
        mx.nd.softmax_cross_entropy(nd(x), nd(np.array([0, 1, 7, 0, 0], dtype))).asnumpy()


@pytest.mark.parametrize("mode", ["instance", "channel"])
def test_softmax_activation(mode):
    x = RNG.standard_normal((2, 3, 4))
    y = mx.nd.SoftmaxActivation(nd(x), mode=mode).asnumpy()
    ref = softmax(x.reshape(2, -1), 1).reshape(x.shape) if mode == "instance" else softmax(x, 1)
    np.testing.assert_allclose(y, ref, rtol=1e-10)
    fd_check(lambda a: mx.nd.SoftmaxActivation(a, mode=mode), [x])
    with pytest.raises(ValueError, match="SoftmaxActivation.*mode"):
        mx.nd.SoftmaxActivation(nd(x), mode="bogus")


# ---------------------------------------------------------------- linalg
def op_t(a, t):
    return np.swapaxes(a, -1, -2) if t else a


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_linalg_gemm2(ta, tb):
    A = RNG.standard_normal((2, 3, 4, 5) if not ta else (2, 3, 5, 4))
    B = RNG.standard_normal((2, 3, 5, 6) if not tb else (2, 3, 6, 5))
    y = mx.nd.linalg_gemm2(nd(A), nd(B), transpose_a=ta, transpose_b=tb, alpha=0.5).asnumpy()
    np.testing.assert_allclose(y, 0.5 * op_t(A, ta) @ op_t(B, tb), rtol=1e-10)
    y32 = mx.nd.linalg_gemm2(nd(A.astype(np.float32)), nd(B.astype(np.float32)), transpose_a=ta, transpose_b=tb)
    np.testing.assert_allclose(y32.asnumpy(), op_t(A, ta) @ op_t(B, tb), rtol=1e-4, atol=1e-5)
    fd_check(lambda a, b: mx.nd.linalg_gemm2(a, b, transpose_a=ta, transpose_b=tb, alpha=0.5), [A[0], B[0]])
    C = RNG.standard_normal(y.shape)
    y = mx.nd.linalg_gemm(nd(A), nd(B), nd(C), transpose_a=ta, transpose_b=tb, alpha=2.0, beta=0.3).asnumpy()
    np.testing.assert_allclose(y, 2.0 * op_t(A, ta) @ op_t(B, tb) + 0.3 * C, rtol=1e-10)
    fd_check(lambda a, b, c: mx.nd.linalg_gemm(a, b, c, transpose_a=ta, transpose_b=tb, alpha=2.0, beta=0.3),
             [A[0], B[0], C[0]])


def test_linalg_axis():
    A = RNG.standard_normal((4, 2, 5))  # rows along axis 0
    B = RNG.standard_normal((5, 2, 3))
    y = mx.nd.linalg_gemm2(nd(A), nd(B), axis=0).asnumpy()
    ref = np.swapaxes(np.swapaxes(A, 0, 1) @ np.swapaxes(B, 0, 1), 0, 1)
    assert y.shape == (4, 2, 3)
    np.testing.assert_allclose(y, ref, rtol=1e-10)
    fd_check(lambda a, b: mx.nd.linalg_gemm2(a, b, axis=0), [A, B])


def test_linalg_errors():
    with pytest.raises(ValueError, match="linalg_gemm2.*inner"):
        mx.nd.linalg_gemm2(nd(np.ones((2, 3))), nd(np.ones((4, 2))))
    with pytest.raises(ValueError, match="linalg_gemm.*C"):
        mx.nd.linalg_gemm(nd(np.ones((2, 3))), nd(np.ones((3, 2))), nd(np.ones((3, 3))))
    with pytest.raises(ValueError, match="linalg_gemm2.*batch"):
        mx.nd.linalg_gemm2(nd(np.ones((2, 2, 3))), nd(np.ones((3, 3, 2))))


# ---------------------------------------------------------------- RNN
def _sig(x):
    return 1 / (1 + np.exp(-x))


def ref_rnn(x, params, h0, c0, mode, H, L, D):
    G = {"lstm": 4, "gru": 3}.get(mode, 1)
    T, N, C = x.shape
    off, W = 0, {}
    for l in range(L):
        for d in range(D):
            ins = C if l == 0 else D * H
            W[l, d, "wx"] = params[off:off + G * H * ins].reshape(G * H, ins)
            off += G * H * ins
            W[l, d, "wh"] = params[off:off + G * H * H].reshape(G * H, H)
            off += G * H * H
    for l in range(L):
        for d in range(D):
            W[l, d, "bx"] = params[off:off + G * H]
            off += G * H
            W[l, d, "bh"] = params[off:off + G * H]
            off += G * H
    assert off == params.size
    cur = x
    hy, cy = np.zeros_like(h0), np.zeros_like(h0)
    for l in range(L):
        out = np.zeros((T, N, D * H))
        for d in range(D):
            k = l * D + d
            h, c = h0[k].copy(), (c0[k].copy() if c0 is not None else None)
            for t in (range(T) if d == 0 else range(T - 1, -1, -1)):
                gx = cur[t] @ W[l, d, "wx"].T + W[l, d, "bx"]
                gh = h @ W[l, d, "wh"].T + W[l, d, "bh"]
                if mode == "lstm":
                    i, f = _sig(gx[:, :H] + gh[:, :H]), _sig(gx[:, H:2 * H] + gh[:, H:2 * H])
                    g, o = np.tanh(gx[:, 2 * H:3 * H] + gh[:, 2 * H:3 * H]), _sig(gx[:, 3 * H:] + gh[:, 3 * H:])
                    c = f * c + i * g
                    h = o * np.tanh(c)
                elif mode == "gru":
                    r, z = _sig(gx[:, :H] + gh[:, :H]), _sig(gx[:, H:2 * H] + gh[:, H:2 * H])
                    n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
                    h = (1 - z) * n + z * h
                elif mode == "rnn_tanh":
                    h = np.tanh(gx + gh)
                else:
                    h = np.maximum(gx + gh, 0)
                out[t, :, d * H:(d + 1) * H] = h
            hy[k] = h
            if c is not None:
                cy[k] = c
        cur = out
    return cur, hy, cy


def rnn_psize(mode, C, H, L, D):
    G = {"lstm": 4, "gru": 3}.get(mode, 1)
    return sum(D * (G * H * ((C if l == 0 else D * H) + H) + 2 * G * H) for l in range(L))


RNN_CASES = [("lstm", 1, False), ("gru", 1, False), ("rnn_tanh", 2, True), ("rnn_relu", 1, False),
             ("lstm", 2, True), ("gru", 2, True)]


@pytest.mark.parametrize("mode,L,bi", RNN_CASES)
def test_rnn_forward(mode, L, bi):
    T, N, C, H = 4, 2, 3, 3
    D = 2 if bi else 1
    x = RNG.standard_normal((T, N, C))
    params = RNG.standard_normal(rnn_psize(mode, C, H, L, D)) * 0.5
    h0 = RNG.standard_normal((L * D, N, H))
    c0 = RNG.standard_normal((L * D, N, H)) if mode == "lstm" else None
    args = [nd(x), nd(params), nd(h0)] + ([nd(c0)] if c0 is not None else [])
    outs = mx.nd.RNN(*args, state_size=H, num_layers=L, mode=mode, bidirectional=bi, state_outputs=True)
    ref = ref_rnn(x, params, h0, c0, mode, H, L, D)
    assert len(outs) == (3 if mode == "lstm" else 2)
    for o, r in zip(outs, ref):
        np.testing.assert_allclose(o.asnumpy(), r, rtol=1e-10, atol=1e-12)
    y32 = mx.nd.RNN(*[nd(a.asnumpy().astype(np.float32)) for a in args], state_size=H, num_layers=L, mode=mode,
                    bidirectional=bi)
    np.testing.assert_allclose(y32.asnumpy(), ref[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode,L,bi", RNN_CASES)
def test_rnn_grad(mode, L, bi):
    T, N, C, H = 3, 2, 2, 2
    D = 2 if bi else 1
    arrays = [RNG.standard_normal((T, N, C)), RNG.standard_normal(rnn_psize(mode, C, H, L, D)) * 0.5,
              RNG.standard_normal((L * D, N, H))]
    if mode == "lstm":
        arrays.append(RNG.standard_normal((L * D, N, H)))
    if mode == "rnn_relu":
        arrays[1] = np.abs(arrays[1])  # keep pre-activations away from the kink
        arrays[0] = np.abs(arrays[0])
        arrays[2] = np.abs(arrays[2])
    fd_check(lambda *a: mx.nd.RNN(*a, state_size=H, num_layers=L, mode=mode, bidirectional=bi), arrays)

    def with_states(*a):
        outs = mx.nd.RNN(*a, state_size=H, num_layers=L, mode=mode, bidirectional=bi, state_outputs=True)
        flat = [o.reshape((-1,)) for o in outs]
        return mx.nd.concat(*flat, dim=0)
    fd_check(with_states, arrays)


def test_rnn_errors():
    x = nd(np.ones((2, 1, 3), np.float32))
    with pytest.raises(ValueError, match="RNN.*parameters"):
        mx.nd.RNN(x, nd(np.ones(5, np.float32)), nd(np.ones((1, 1, 2), np.float32)), state_size=2, num_layers=1,
                  mode="rnn_tanh")
    with pytest.raises(ValueError, match="RNN.*mode"):
        mx.nd.RNN(x, nd(np.ones(5, np.float32)), nd(np.ones((1, 1, 2), np.float32)), state_size=2, num_layers=1,
                  mode="bogus")
    with pytest.raises(ValueError, match="RNN.*state_size"):
        mx.nd.RNN(x, nd(np.ones(5, np.float32)), nd(np.ones((1, 1, 2), np.float32)), state_size=0, num_layers=1,
                  mode="gru")


# ---------------------------------------------------------------- CTCLoss
def ref_ctc(x, labels, blank):
    """-log p(label | x) by enumerating every alignment (small T and alphabet only)."""
    T, K = x.shape
    p = softmax(x, 1)
    total = 0.0
    for path in itertools.product(range(K), repeat=T):
        col = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        col = [k for k in col if k != blank]
        if col == list(labels):
            total += np.prod([p[t, k] for t, k in enumerate(path)])
    return -np.log(total)


@pytest.mark.parametrize("blank_label", ["first", "last"])
def test_ctc_loss(blank_label):
    T, N, K = 5, 3, 4
    x = RNG.standard_normal((T, N, K))
    if blank_label == "first":
        lab = np.array([[1, 2, 0], [3, 3, 0], [2, 1, 3]], np.float64)  # padding 0
        seqs = [[1, 2], [3, 3], [2, 1, 3]]
        blank = 0
    else:
        lab = np.array([[0, 1, -1], [2, 2, -1], [1, 0, 2]], np.float64)  # padding -1
        seqs = [[0, 1], [2, 2], [1, 0, 2]]
        blank = K - 1
    y = mx.nd.CTCLoss(nd(x), nd(lab), blank_label=blank_label).asnumpy()
    ref = [ref_ctc(x[:, n], seqs[n], blank) for n in range(N)]
    np.testing.assert_allclose(y, ref, rtol=1e-10)
    y32 = mx.nd.ctc_loss(nd(x.astype(np.float32)), nd(lab.astype(np.int32)), blank_label=blank_label).asnumpy()
    np.testing.assert_allclose(y32, ref, rtol=1e-5)
    fd_check(lambda a, l: mx.nd.CTCLoss(a, l, blank_label=blank_label), [x, lab], wrt=[0])


def test_ctc_loss_lengths():
    T, N, K = 5, 2, 3
    x = RNG.standard_normal((T, N, K))
    lab = np.array([[1, 2, 1], [2, 1, 1]], np.float64)
    dl = np.array([4, 5], np.float64)
    ll = np.array([2, 1], np.float64)
    y = mx.nd.CTCLoss(nd(x), nd(lab), nd(dl), nd(ll), use_data_lengths=True, use_label_lengths=True).asnumpy()
    ref = [ref_ctc(x[:4, 0], [1, 2], 0), ref_ctc(x[:, 1], [2], 0)]
    np.testing.assert_allclose(y, ref, rtol=1e-10)
    fd_check(lambda a, b, c, d: mx.nd.CTCLoss(a, b, c, d, use_data_lengths=True, use_label_lengths=True),
             [x, lab, dl, ll], wrt=[0])


def test_ctc_loss_errors():
    x = nd(np.zeros((4, 2, 3), np.float32))
    with pytest.raises(ValueError, match="CTCLoss.*label"):
        mx.nd.CTCLoss(x, nd(np.array([[1, 5], [1, 0]], np.float32))).asnumpy()
    with pytest.raises(ValueError, match="CTCLoss.*label"):
        mx.nd.CTCLoss(x, nd(np.ones((3, 2), np.float32)))
    with pytest.raises(ValueError, match="CTCLoss.*blank_label"):
        mx.nd.CTCLoss(x, nd(np.ones((2, 2), np.float32)), blank_label="middle")


# ---------------------------------------------------------------- symbolic executor
def test_symbolic_shapes_and_gradients():
    data = mx.sym.Variable("data")
    net = mx.sym.Deconvolution(data, kernel=(3, 3), stride=(2, 2), num_filter=4, no_bias=False, name="dc")
    net = mx.sym.GroupNorm(net, num_groups=2, name="gn")
    net = mx.sym.LeakyReLU(net, act_type="prelu", name="pr")
    net = mx.sym.LRN(net, nsize=3, name="lrn")
    net = mx.sym.L2Normalization(net, mode="channel", name="l2")
    args, outs, _ = net.infer_shape(data=(2, 3, 4, 4))
    shapes = dict(zip(net.list_arguments(), args))
    assert shapes["dc_weight"] == (3, 4, 3, 3) and shapes["gn_gamma"] == (2,) and shapes["pr_gamma"] == (4,)
    assert outs == [(2, 4, 9, 9)]
    ex = net.simple_bind(mx.cpu(), data=(2, 3, 4, 4))
    rng = np.random.RandomState(3)
    for a in ex.arg_dict.values():
        a[:] = rng.randn(*a.shape)
    out = ex.forward(is_train=True)[0]
    head = mx.nd.array(rng.randn(*out.shape))
    ex.backward(head)
    p = {n: a.copy() for n, a in ex.arg_dict.items()}
    for v in p.values():
        v.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Deconvolution(p["data"], p["dc_weight"], p["dc_bias"], kernel=(3, 3), stride=(2, 2), num_filter=4,
                                no_bias=False)
        y = mx.nd.GroupNorm(y, p["gn_gamma"], p["gn_beta"], num_groups=2)
        y = mx.nd.LeakyReLU(y, p["pr_gamma"], act_type="prelu")
        y = mx.nd.L2Normalization(mx.nd.LRN(y, nsize=3), mode="channel")
    y.backward(head)
    np.testing.assert_allclose(out.asnumpy(), y.asnumpy(), rtol=1e-5, atol=1e-6)
    for n in p:
        np.testing.assert_allclose(ex.grad_dict[n].asnumpy(), p[n].grad.asnumpy(), rtol=1e-4, atol=1e-5)


def test_symbolic_rnn_shapes():
    net = mx.sym.RNN(mx.sym.Variable("data"), state_size=5, num_layers=2, mode="lstm", bidirectional=True,
                     state_outputs=True, name="rnn")
    args, outs, _ = net.infer_shape(data=(7, 3, 4))
    shapes = dict(zip(net.list_arguments(), args))
    assert shapes["rnn_parameters"] == (rnn_psize("lstm", 4, 5, 2, 2),)
    assert shapes["rnn_state"] == (4, 3, 5) and shapes["rnn_state_cell"] == (4, 3, 5)
    assert outs == [(7, 3, 10), (4, 3, 5), (4, 3, 5)]
