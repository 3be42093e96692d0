"""Neural-network operators: forward against numpy references, gradients against central finite
differences in float64, and parameter/shape validation."""
import itertools
import math

import numpy as np
import pytest

import mx
from fd_check import fd_check as _fd_check

RNG = np.random.RandomState(0)


def nd(a, dtype=None):
    a = np.asarray(a)
    return mx.nd.array(a, dtype=dtype or a.dtype)


# ---------------------------------------------------------------- numpy references
def ref_conv(x, w, b, kernel, stride=None, pad=None, dilate=None, num_group=1):
    n = len(kernel)
    stride = stride or (1,) * n
    pad = pad or (0,) * n
    dilate = dilate or (1,) * n
    N, C = x.shape[:2]
    F = w.shape[0]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pad])
    out_sp = [(x.shape[2 + i] + 2 * pad[i] - dilate[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(n)]
    y = np.zeros((N, F) + tuple(out_sp), dtype=np.float64)
    Cg, Fg = C // num_group, F // num_group
    for o in itertools.product(*[range(s) for s in out_sp]):
        for g in range(num_group):
            sl = [slice(None), slice(g * Cg, (g + 1) * Cg)]
            for i in range(n):
                st = o[i] * stride[i]
                sl.append(slice(st, st + dilate[i] * (kernel[i] - 1) + 1, dilate[i]))
            patch = xp[tuple(sl)].reshape(N, -1)  # (N, Cg*K)
            wg = w[g * Fg:(g + 1) * Fg].reshape(Fg, -1)
            y[(slice(None), slice(g * Fg, (g + 1) * Fg)) + o] = patch @ wg.T
    if b is not None:
        y += b.reshape((1, F) + (1,) * n)
    return y


def ref_pool(x, kernel=None, stride=None, pad=None, pool_type="max", convention="valid", count_include_pad=True,
             p_value=None, global_pool=False):
    n = x.ndim - 2
    if global_pool:
        kernel, stride, pad = x.shape[2:], (1,) * n, (0,) * n
    stride = stride or (1,) * n
    pad = pad or (0,) * n
    out_sp = []
    for i in range(n):
        L = x.shape[2 + i] + 2 * pad[i] - kernel[i]
        if global_pool:
            out_sp.append(1)
        elif convention == "valid":
            out_sp.append(L // stride[i] + 1)
        else:
            out_sp.append(int(math.ceil(L / stride[i])) + 1)
    y = np.zeros(x.shape[:2] + tuple(out_sp))
    for o in itertools.product(*[range(s) for s in out_sp]):
        sl, area = [slice(None), slice(None)], 1
        for i in range(n):
            st = o[i] * stride[i] - pad[i]
            en = min(st + kernel[i], x.shape[2 + i] + pad[i])
            area *= en - st
            st, en = max(st, 0), min(en, x.shape[2 + i])
            sl.append(slice(st, en))
        win = x[tuple(sl)].reshape(x.shape[0], x.shape[1], -1)
        if pool_type == "max":
            v = win.max(-1)
        elif pool_type == "sum":
            v = win.sum(-1)
        elif pool_type == "avg":
            v = win.sum(-1) / (area if count_include_pad else win.shape[-1])
        else:
            v = (win ** p_value).sum(-1) ** (1.0 / p_value)
        y[(slice(None), slice(None)) + o] = v
    return y


def ref_softmax(x, axis=-1, t=1.0):
    z = x / t
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def ref_dot(a, b, ta=False, tb=False):
    if a.ndim == 1 and b.ndim == 1:
        return np.array([np.dot(a, b)])
    a2 = a.reshape(a.shape[0], -1).T if ta else a.reshape(-1, a.shape[-1])
    b2 = b.reshape(-1, b.shape[-1]).T if tb else b.reshape(b.shape[0], -1)
    lo = a.shape[1:] if ta else a.shape[:-1]
    ro = b.shape[:-1] if tb else b.shape[1:]
    return (a2 @ b2).reshape(tuple(lo) + tuple(ro))


# ---------------------------------------------------------------- finite differences
def fd_check(fn, arrays, **kwargs):
    return _fd_check(fn, arrays, rng=RNG, **kwargs)


# ---------------------------------------------------------------- FullyConnected
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fully_connected_forward(dtype):
    x = RNG.standard_normal((4, 3, 2)).astype(dtype)
    w = RNG.standard_normal((5, 6)).astype(dtype)
    b = RNG.standard_normal(5).astype(dtype)
    y = mx.nd.FullyConnected(nd(x), nd(w), nd(b), num_hidden=5).asnumpy()
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y, x.reshape(4, -1) @ w.T + b, rtol=1e-5, atol=1e-5)
    w2 = RNG.standard_normal((5, 2)).astype(dtype)
    y2 = mx.nd.FullyConnected(nd(x), nd(w2), num_hidden=5, no_bias=True, flatten=False).asnumpy()
    assert y2.shape == (4, 3, 5)
    np.testing.assert_allclose(y2, x @ w2.T, rtol=1e-5, atol=1e-5)


def test_fully_connected_grad():
    fd_check(lambda x, w, b: mx.nd.FullyConnected(x, w, b, num_hidden=3),
             [RNG.standard_normal((2, 2, 2)), RNG.standard_normal((3, 4)), RNG.standard_normal(3)])
    fd_check(lambda x, w: mx.nd.FullyConnected(x, w, num_hidden=2, no_bias=True, flatten=False),
             [RNG.standard_normal((2, 3, 3)), RNG.standard_normal((2, 3))])


def test_fully_connected_errors():
    x = nd(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="FullyConnected.*weight"):
        mx.nd.FullyConnected(x, nd(np.ones((3, 5), np.float32)), nd(np.ones(3, np.float32)), num_hidden=3)
    with pytest.raises(ValueError, match="FullyConnected.*num_hidden"):
        mx.nd.FullyConnected(x, nd(np.ones((3, 4), np.float32)), nd(np.ones(3, np.float32)), num_hidden=0)


# ---------------------------------------------------------------- Convolution
CONV_CASES = [
    dict(x=(2, 3, 7), w=(4, 3, 3), kernel=(3,), stride=(2,), pad=(1,)),
    dict(x=(2, 4, 7, 6), w=(6, 4, 3, 3), kernel=(3, 3), pad=(1, 1)),
    dict(x=(2, 4, 9, 8), w=(6, 2, 3, 2), kernel=(3, 2), stride=(2, 1), dilate=(2, 1), num_group=2),
    dict(x=(1, 3, 6, 6), w=(3, 1, 3, 3), kernel=(3, 3), stride=(2, 2), pad=(1, 1), num_group=3, no_bias=True),
    dict(x=(2, 4, 5, 5), w=(3, 4, 1, 1), kernel=(1, 1)),
    dict(x=(1, 2, 4, 5, 4), w=(3, 2, 2, 3, 2), kernel=(2, 3, 2), stride=(1, 2, 1), pad=(1, 0, 1)),
    # a map of 576 positions: one GEMM per sample (above the grouped path's 512 columns)
    dict(x=(2, 2, 24, 24), w=(3, 2, 3, 3), kernel=(3, 3), pad=(1, 1)),
    # small maps: several samples share one GEMM per group of positions with the same valid taps
    dict(x=(5, 3, 3, 3), w=(4, 3, 3, 3), kernel=(3, 3), pad=(1, 1)),
    # taps that read only padding are skipped: 1x1 maps (only the centre tap), 2x2 with stride 2
    dict(x=(3, 4, 1, 1), w=(5, 4, 3, 3), kernel=(3, 3), pad=(1, 1)),
    dict(x=(3, 2, 2, 2), w=(3, 2, 3, 3), kernel=(3, 3), stride=(2, 2), pad=(1, 1)),
    dict(x=(2, 4, 1, 1), w=(4, 2, 3, 3), kernel=(3, 3), pad=(1, 1), num_group=2, no_bias=True),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_convolution_forward(case, dtype):
    x = RNG.standard_normal(case["x"]).astype(dtype)
    w = RNG.standard_normal(case["w"]).astype(dtype)
    no_bias = case.get("no_bias", False)
    b = None if no_bias else RNG.standard_normal(case["w"][0]).astype(dtype)
    kw = {k: case[k] for k in ("kernel", "stride", "pad", "dilate", "num_group") if k in case}
    args = [nd(x), nd(w)] + ([] if no_bias else [nd(b)])
    y = mx.nd.Convolution(*args, num_filter=case["w"][0], no_bias=no_bias, **kw).asnumpy()
    ref = ref_conv(x.astype(np.float64), w.astype(np.float64), None if b is None else b.astype(np.float64), **kw)
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", CONV_CASES[:4] + CONV_CASES[5:])
def test_convolution_grad(case):
    no_bias = case.get("no_bias", False)
    kw = {k: case[k] for k in ("kernel", "stride", "pad", "dilate", "num_group") if k in case}
    arrays = [RNG.standard_normal(case["x"]), RNG.standard_normal(case["w"])]
    if not no_bias:
        arrays.append(RNG.standard_normal(case["w"][0]))
    fd_check(lambda *a: mx.nd.Convolution(*a, num_filter=case["w"][0], no_bias=no_bias, **kw), arrays)


def test_convolution_errors():
    x = nd(np.ones((1, 4, 5, 5), np.float32))
    with pytest.raises(ValueError, match="Convolution.*weight"):
        mx.nd.Convolution(x, nd(np.ones((2, 3, 3, 3), np.float32)), nd(np.ones(2, np.float32)), kernel=(3, 3),
                          num_filter=2)
    w = nd(np.ones((2, 4, 3, 3), np.float32))
    b = nd(np.ones(2, np.float32))
    with pytest.raises(ValueError, match="Convolution.*stride"):
        mx.nd.Convolution(x, w, b, kernel=(3, 3), stride=(0, 1), num_filter=2)
    with pytest.raises(ValueError, match="Convolution.*kernel"):
        mx.nd.Convolution(x, w, b, kernel=(0, 3), num_filter=2)
    with pytest.raises(ValueError, match="Convolution.*kernel"):
        mx.nd.Convolution(x, nd(np.ones((2, 4, 7, 7), np.float32)), b, kernel=(7, 7), num_filter=2)
    with pytest.raises(ValueError, match="Convolution.*num_group"):
        mx.nd.Convolution(x, w, b, kernel=(3, 3), num_filter=2, num_group=3)
    with pytest.raises(ValueError, match="Convolution.*pad"):
        mx.nd.Convolution(x, w, b, kernel=(3, 3), pad=(1, 1, 1), num_filter=2)


# ---------------------------------------------------------------- Pooling
POOL_CASES = [
    dict(kernel=(3, 3), stride=(2, 2), pool_type="max"),
    dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max", convention="full"),
    dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg"),
    dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", count_include_pad=False),
    dict(kernel=(2, 2), stride=(2, 2), pool_type="avg", convention="full"),
    dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg", convention="full", count_include_pad=False),
    dict(kernel=(2, 3), stride=(2, 2), pool_type="sum"),
    dict(kernel=(2, 2), stride=(2, 2), pool_type="lp", p_value=2),
    dict(kernel=(2, 2), stride=(1, 1), pool_type="lp", p_value=3),
    dict(pool_type="max", global_pool=True),
    dict(pool_type="avg", global_pool=True),
]


def pool_kwargs(c):
    kw = dict(c)
    if "convention" in kw:
        kw["pooling_convention"] = kw.pop("convention")
    return kw


@pytest.mark.parametrize("case", POOL_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pooling_forward_2d(case, dtype):
    x = RNG.standard_normal((2, 3, 7, 8)).astype(dtype)
    if case["pool_type"] == "lp":
        x = np.abs(x) + 0.1
    y = mx.nd.Pooling(nd(x), **pool_kwargs(case)).asnumpy()
    np.testing.assert_allclose(y, ref_pool(x.astype(np.float64), **case), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pool_type", ["max", "avg", "sum"])
def test_pooling_forward_1d_3d(pool_type):
    x1 = RNG.standard_normal((2, 2, 9))
    y1 = mx.nd.Pooling(nd(x1), kernel=(3,), stride=(2,), pad=(1,), pool_type=pool_type).asnumpy()
    np.testing.assert_allclose(y1, ref_pool(x1, (3,), (2,), (1,), pool_type), rtol=1e-6)
    x3 = RNG.standard_normal((1, 2, 5, 4, 6))
    y3 = mx.nd.Pooling(nd(x3), kernel=(2, 2, 3), stride=(2, 1, 2), pool_type=pool_type,
                       pooling_convention="full").asnumpy()
    np.testing.assert_allclose(y3, ref_pool(x3, (2, 2, 3), (2, 1, 2), None, pool_type, "full"), rtol=1e-6)


@pytest.mark.parametrize("case", POOL_CASES)
def test_pooling_grad(case):
    x = RNG.permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) / 7.0 + 0.5  # distinct, positive
    fd_check(lambda a: mx.nd.Pooling(a, **pool_kwargs(case)), [x], rtol=1e-5, atol=1e-6)


def test_pooling_errors():
    x = nd(np.ones((1, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match="Pooling.*stride"):
        mx.nd.Pooling(x, kernel=(2, 2), stride=(0, 2))
    with pytest.raises(ValueError, match="Pooling.*kernel"):
        mx.nd.Pooling(x, kernel=(2, 2, 2))
    with pytest.raises(ValueError, match="Pooling.*kernel"):
        mx.nd.Pooling(x, kernel=(7, 7))
    with pytest.raises(ValueError, match="Pooling.*pool_type"):
        mx.nd.Pooling(x, kernel=(2, 2), pool_type="median")
    with pytest.raises(ValueError, match="Pooling.*p_value"):
        mx.nd.Pooling(x, kernel=(2, 2), pool_type="lp")


# ---------------------------------------------------------------- Activation
ACTS = {
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "softrelu": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
}


@pytest.mark.parametrize("act", sorted(ACTS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation(act, dtype):
    x = (RNG.standard_normal((3, 5)) * 3).astype(dtype)
    y = mx.nd.Activation(nd(x), act_type=act).asnumpy()
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y, ACTS[act](x.astype(np.float64)), rtol=1e-5, atol=1e-6)
    xg = RNG.standard_normal((2, 3)) + np.sign(RNG.standard_normal((2, 3))) * 0.1  # away from relu's kink
    fd_check(lambda a: mx.nd.Activation(a, act_type=act), [xg])


def test_float32_tanh_accuracy_and_special_values():
    # float32 tanh has its own vectorised kernel (backends/cpu/fast_math.h): compare with float64
    x = np.concatenate([np.linspace(-30, 30, 200001), np.logspace(-30, 1, 2000), -np.logspace(-30, 1, 2000)])
    x = x.astype(np.float32)
    ref = np.tanh(x.astype(np.float64))
    for got in (mx.nd.tanh(nd(x)).asnumpy(), mx.nd.Activation(nd(x), act_type="tanh").asnumpy()):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, ref, rtol=3e-7, atol=0)
    special = nd(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 100.0, -100.0], np.float32))
    out = mx.nd.tanh(special).asnumpy()
    np.testing.assert_array_equal(out[[0, 2, 3, 5, 6]], [0, 1, -1, 1, -1])
    assert np.signbit(out[1]) and np.isnan(out[4])


def test_activation_errors():
    with pytest.raises(ValueError, match="Activation.*act_type"):
        mx.nd.Activation(nd(np.ones(3, np.float32)), act_type="swish")
    with pytest.raises(ValueError, match="Activation.*act_type"):
        mx.nd.Activation(nd(np.ones(3, np.float32)))


# ---------------------------------------------------------------- softmax family
@pytest.mark.parametrize("axis,t", [(-1, None), (0, 2.0), (1, 0.5)])
def test_softmax_family(axis, t):
    x = RNG.standard_normal((2, 3, 4))
    kw = dict(axis=axis) if t is None else dict(axis=axis, temperature=t)
    tt = 1.0 if t is None else t
    np.testing.assert_allclose(mx.nd.softmax(nd(x), **kw).asnumpy(), ref_softmax(x, axis, tt), rtol=1e-10)
    np.testing.assert_allclose(mx.nd.log_softmax(nd(x), **kw).asnumpy(), np.log(ref_softmax(x, axis, tt)), rtol=1e-10)
    np.testing.assert_allclose(mx.nd.softmin(nd(x), **kw).asnumpy(), ref_softmax(-x, axis, tt), rtol=1e-10)
    for f in (mx.nd.softmax, mx.nd.log_softmax, mx.nd.softmin):
        fd_check(lambda a: f(a, **kw), [x])
    y32 = mx.nd.softmax(nd(x.astype(np.float32)), **kw).asnumpy()
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, ref_softmax(x, axis, tt), rtol=1e-5)


def test_softmax_length_and_dtype():
    x = RNG.standard_normal((3, 5))
    length = np.array([2, 5, 1], dtype=np.int32)
    y = mx.nd.softmax(nd(x), nd(length), axis=-1, use_length=True).asnumpy()
    for i, l in enumerate(length):
        np.testing.assert_allclose(y[i, :l], ref_softmax(x[i, :l]), rtol=1e-10)
        assert np.all(y[i, l:] == 0)
    fd_check(lambda a: mx.nd.softmax(a, nd(length), axis=-1, use_length=True), [x], wrt=[0])
    y64 = mx.nd.softmax(nd(x.astype(np.float32)), dtype="float64")
    assert y64.dtype == np.float64


# ---------------------------------------------------------------- SoftmaxOutput and regression outputs
def softmax_output_grad(data, label, **kw):
    x = nd(data)
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.SoftmaxOutput(x, nd(label), **kw)
    y.backward(nd(RNG.standard_normal(y.shape)))  # ignored by the loss layer
    return y.asnumpy(), x.grad.asnumpy()


def test_softmax_output():
    x = RNG.standard_normal((4, 5))
    label = np.array([0, 2, 4, 2], dtype=np.float64)
    onehot = np.eye(5)[label.astype(int)]
    y, g = softmax_output_grad(x, label)
    np.testing.assert_allclose(y, ref_softmax(x), rtol=1e-10)
    np.testing.assert_allclose(g, ref_softmax(x) - onehot, rtol=1e-10)
    _, g = softmax_output_grad(x, label, normalization="batch", grad_scale=2.0)
    np.testing.assert_allclose(g, (ref_softmax(x) - onehot) * 2.0 / 4, rtol=1e-10)
    _, g = softmax_output_grad(x, label, use_ignore=True, ignore_label=2, normalization="valid")
    want = (ref_softmax(x) - onehot) / 2
    want[label == 2] = 0
    np.testing.assert_allclose(g, want, rtol=1e-10, atol=1e-12)
    # multi_output: class axis 1
    x3 = RNG.standard_normal((2, 3, 4))
    l3 = RNG.randint(0, 3, (2, 4)).astype(np.float64)
    y3, g3 = softmax_output_grad(x3, l3, multi_output=True, normalization="valid")
    np.testing.assert_allclose(y3, ref_softmax(x3, axis=1), rtol=1e-10)
    oh = np.moveaxis(np.eye(3)[l3.astype(int)], -1, 1)
    np.testing.assert_allclose(g3, (ref_softmax(x3, axis=1) - oh) / 8, rtol=1e-10, atol=1e-12)


def test_regression_outputs():
    x = RNG.standard_normal((4, 2))
    label = RNG.standard_normal((4, 2))
    for name, fwd, grad in [
        ("LinearRegressionOutput", lambda v: v, lambda o, l: o - l),
        ("LogisticRegressionOutput", lambda v: 1 / (1 + np.exp(-v)), lambda o, l: o - l),
        ("MAERegressionOutput", lambda v: v, lambda o, l: np.sign(o - l)),
    ]:
        a = nd(x)
        a.attach_grad()
        with mx.autograd.record():
            y = getattr(mx.nd, name)(a, nd(label), grad_scale=3.0)
        y.backward()
        np.testing.assert_allclose(y.asnumpy(), fwd(x), rtol=1e-10)
        np.testing.assert_allclose(a.grad.asnumpy(), 3.0 / 2 * grad(fwd(x), label), rtol=1e-10)


# ---------------------------------------------------------------- Dropout
def test_dropout():
    x = np.ones((200, 50), dtype=np.float32)
    a = nd(x)
    a.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Dropout(a, p=0.3)
    y.backward()
    yv = y.asnumpy()
    assert set(np.unique(yv)).issubset({0.0, np.float32(1 / 0.7)})
    assert abs((yv == 0).mean() - 0.3) < 0.03
    np.testing.assert_array_equal(a.grad.asnumpy(), yv)  # grad reuses the mask
    # predict mode: identity; mode='always' drops in predict mode too
    np.testing.assert_array_equal(mx.nd.Dropout(a, p=0.3).asnumpy(), x)
    assert (mx.nd.Dropout(a, p=0.3, mode="always").asnumpy() == 0).any()
    # axes: the mask is shared along axis 1
    with mx.autograd.train_mode():
        z = mx.nd.Dropout(nd(np.ones((100, 6), np.float32)), p=0.5, axes=(1,)).asnumpy()
    assert np.all(z == z[:, :1])
    # float64 and reproducibility under a seed
    mx.random.seed(7) if hasattr(mx, "random") and hasattr(mx.random, "seed") else None
    with mx.autograd.train_mode():
        d64 = mx.nd.Dropout(nd(np.ones((10, 10))), p=0.5).asnumpy()
    assert d64.dtype == np.float64 and set(np.unique(d64)).issubset({0.0, 2.0})


def test_dropout_errors():
    with pytest.raises(ValueError, match="Dropout.*p"):
        mx.nd.Dropout(nd(np.ones(3, np.float32)), p=1.5)


# ---------------------------------------------------------------- BatchNorm
def ref_bn(x, gamma, beta, mm, mv, eps, momentum, fix_gamma, train, axis=1):
    red = tuple(i for i in range(x.ndim) if i != axis)
    shp = [1] * x.ndim
    shp[axis] = -1
    if train:
        mean, var = x.mean(red), x.var(red)
        mm2, mv2 = momentum * mm + (1 - momentum) * mean, momentum * mv + (1 - momentum) * var
    else:
        mean, var, mm2, mv2 = mm, mv, mm, mv
    g = np.ones_like(gamma) if fix_gamma else gamma
    y = (x - mean.reshape(shp)) / np.sqrt(var.reshape(shp) + eps) * g.reshape(shp) + beta.reshape(shp)
    return y, mm2, mv2


@pytest.mark.parametrize("train,fix_gamma,axis", [(True, True, 1), (True, False, 1), (False, False, 1),
                                                  (True, False, -1)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batch_norm_forward(train, fix_gamma, axis, dtype):
    x = RNG.standard_normal((4, 3, 2, 5)).astype(dtype)
    c = x.shape[axis]
    gamma, beta = RNG.standard_normal(c).astype(dtype), RNG.standard_normal(c).astype(dtype)
    mm, mv = RNG.standard_normal(c).astype(dtype), (RNG.random_sample(c) + 0.5).astype(dtype)
    amm, amv = nd(mm), nd(mv)
    with mx.autograd.record(train_mode=train):
        y = mx.nd.BatchNorm(nd(x), nd(gamma), nd(beta), amm, amv, fix_gamma=fix_gamma, axis=axis, momentum=0.8)
    ry, rmm, rmv = ref_bn(*[a.astype(np.float64) for a in (x, gamma, beta, mm, mv)], 1e-3, 0.8, fix_gamma, train,
                          axis=axis % 4)
    np.testing.assert_allclose(y.asnumpy(), ry, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(amm.asnumpy(), rmm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(amv.asnumpy(), rmv, rtol=1e-5, atol=1e-6)


def test_batch_norm_output_mean_var():
    x = RNG.standard_normal((4, 3))
    outs = mx.nd.BatchNorm(nd(x), nd(np.ones(3)), nd(np.zeros(3)), nd(np.zeros(3)), nd(np.ones(3)),
                           output_mean_var=True, use_global_stats=False)
    assert len(outs) == 3


@pytest.mark.parametrize("fix_gamma,use_global_stats", [(False, False), (True, False), (False, True)])
def test_batch_norm_grad(fix_gamma, use_global_stats):
    x = RNG.standard_normal((3, 2, 2, 2))
    gamma, beta = RNG.standard_normal(2), RNG.standard_normal(2)
    mm, mv = RNG.standard_normal(2), RNG.random_sample(2) + 0.5

    def f(a, g, b):
        return mx.nd.BatchNorm(a, g, b, nd(mm), nd(mv), fix_gamma=fix_gamma, use_global_stats=use_global_stats)

    if fix_gamma:  # gamma is taken as 1 and gets a zero gradient
        fd_check(f, [x, gamma, beta], wrt=[0, 2], rtol=1e-5, atol=1e-6)
        a, g, b = nd(x), nd(gamma), nd(beta)
        g.attach_grad()
        with mx.autograd.record():
            y = f(a, g, b)
        y.backward()
        assert np.all(g.grad.asnumpy() == 0)
    else:
        fd_check(f, [x, gamma, beta], rtol=1e-5, atol=1e-6)


def test_batch_norm_errors():
    x = nd(np.ones((2, 3, 4), np.float32))
    one = nd(np.ones(3, np.float32))
    with pytest.raises(ValueError, match="BatchNorm.*gamma"):
        mx.nd.BatchNorm(x, nd(np.ones(4, np.float32)), one, one, one)
    with pytest.raises(ValueError, match="BatchNorm.*axis"):
        mx.nd.BatchNorm(x, one, one, one, one, axis=5)


# ---------------------------------------------------------------- dot, batch_dot
DOT_CASES = [((3, 4), (4, 5), False, False), ((4, 3), (4, 5), True, False), ((3, 4), (5, 4), False, True),
             ((4, 3), (5, 4), True, True), ((2, 3, 4), (4, 5), False, False), ((4,), (4,), False, False),
             ((4,), (4, 3), False, False), ((2, 3, 4), (2, 5, 4), False, True), ((4, 2, 3), (4, 5), True, False),
             ((3, 4), (4, 2, 2), False, False)]


@pytest.mark.parametrize("sa,sb,ta,tb", DOT_CASES)
def test_dot(sa, sb, ta, tb):
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    for dtype in ("float32", "float64"):
        y = mx.nd.dot(nd(a.astype(dtype)), nd(b.astype(dtype)), transpose_a=ta, transpose_b=tb).asnumpy()
        assert y.dtype == np.dtype(dtype)
        np.testing.assert_allclose(y, ref_dot(a, b, ta, tb), rtol=1e-5, atol=1e-5)
    fd_check(lambda x, z: mx.nd.dot(x, z, transpose_a=ta, transpose_b=tb), [a, b])


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_batch_dot(ta, tb):
    a = RNG.standard_normal((2, 4, 3) if ta else (2, 3, 4))
    b = RNG.standard_normal((2, 5, 4) if tb else (2, 4, 5))
    y = mx.nd.batch_dot(nd(a), nd(b), transpose_a=ta, transpose_b=tb).asnumpy()
    ra = np.swapaxes(a, 1, 2) if ta else a
    rb = np.swapaxes(b, 1, 2) if tb else b
    np.testing.assert_allclose(y, ra @ rb, rtol=1e-10)
    fd_check(lambda x, z: mx.nd.batch_dot(x, z, transpose_a=ta, transpose_b=tb), [a, b])


def test_dot_errors():
    with pytest.raises(ValueError, match="dot.*(3, 4).*(5, 2)"):
        mx.nd.dot(nd(np.ones((3, 4), np.float32)), nd(np.ones((5, 2), np.float32)))
    with pytest.raises(ValueError, match="batch_dot"):
        mx.nd.batch_dot(nd(np.ones((2, 3, 4), np.float32)), nd(np.ones((3, 4, 5), np.float32)))
