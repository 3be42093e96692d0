"""Activation, LeakyReLU, Dropout, the softmax family, SoftmaxOutput, softmax_cross_entropy and
the indexing ops (argmax/argmin/argmax_channel, pick, one_hot, take, Embedding) on the GPU against
the CPU: forward values and, through autograd, the gradients (which run the fused backward ops
_backward_<op> on the device). The kernels share their functors with the CPU ones
(ops/nn/*_kernels.h, ops/formulas/index.h): differences come only from the GPU's libm."""
import numpy as np
import pytest

import mx

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-11, atol=1e-13)}
FLOATS = ["float32", "float64"]


def _both(fn, arrays, dtypes=None, grad=True, head_seed=0, train=True):
    """fn(*nd_arrays) on cpu(0) and gpu(0): (outputs, input grads) per device as numpy."""
    res = []
    for ctx in (mx.cpu(), GPU):
        xs = []
        for i, a in enumerate(arrays):
            dt = (dtypes or [None] * len(arrays))[i] or a.dtype
            x = mx.nd.array(a, ctx=ctx, dtype=dt)
            if grad and np.dtype(dt).kind == "f":
                x.attach_grad()
            xs.append(x)
        with mx.autograd.record(train_mode=train):
            y = fn(*xs)
        ys = y if isinstance(y, (list, tuple)) else [y]
        if grad:
            heads = [mx.nd.array(np.random.default_rng(head_seed + k).uniform(-1, 1, o.shape), ctx=ctx, dtype=o.dtype)
                     for k, o in enumerate(ys)]
            mx.autograd.backward(ys, heads)
        for o in ys:
            assert o.context == ctx
        res.append(([o.asnumpy() for o in ys],
                    [x.grad.asnumpy() if grad and x.grad is not None else None for x in xs]))
    return res


def _check(res, dtype, exact=False):
    (co, cg), (go, gg) = res
    for c, g in zip(co + cg, go + gg):
        if c is None:
            assert g is None
            continue
        if exact or c.dtype.kind != "f":
            np.testing.assert_array_equal(g, c)
        else:
            np.testing.assert_allclose(g, c, **TOL["float64" if c.dtype == np.float64 else "float32"])


def _x(shape, dtype, seed=0, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "softrelu", "softsign"])
def test_activation(act, dtype):
    _check(_both(lambda x: mx.nd.Activation(x, act_type=act), [_x((7, 33), dtype)]), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("act", ["leaky", "elu", "selu", "gelu", "rrelu"])
def test_leaky_relu(act, dtype):
    # rrelu outside training: the mean slope (the training form is test_rrelu_training_same_seed)
    _check(_both(lambda x: mx.nd.LeakyReLU(x, act_type=act, slope=0.3), [_x((5, 6, 7), dtype)], train=False), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("gshape", [(6,), (1,), (2, 6)])
def test_prelu_with_gamma_gradient(gshape, dtype):
    x = _x((2, 6, 5), dtype, 1)
    gamma = _x(gshape, dtype, 2, 0.1, 0.5)
    _check(_both(lambda a, g: mx.nd.LeakyReLU(a, g, act_type="prelu"), [x, gamma]), dtype)


def test_rrelu_training_same_seed():
    x = _x((4, 50), "float32", 3)
    outs = []
    for ctx in (mx.cpu(), GPU):
        mx.random.seed(42)
        a = mx.nd.array(x, ctx=ctx)
        a.attach_grad()
        with mx.autograd.record(train_mode=True):
            y, slopes = mx.nd.LeakyReLU(a, act_type="rrelu")
        y.backward(mx.nd.ones(y.shape, ctx=ctx))
        outs.append((y.asnumpy(), slopes.asnumpy(), a.grad.asnumpy()))
    for c, g in zip(*outs):
        np.testing.assert_allclose(g, c, rtol=1e-6)
    assert len(np.unique(outs[0][1])) > 100  # random slopes


@pytest.mark.parametrize("axes", [(), (1,), (0, 2)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_dropout_same_seed_same_mask(axes, dtype):
    x = _x((6, 10, 9), dtype, 4)
    res = []
    for ctx in (mx.cpu(), GPU):
        mx.random.seed(7)
        a = mx.nd.array(x, ctx=ctx, dtype=dtype)
        a.attach_grad()
        with mx.autograd.record(train_mode=True):
            y = mx.nd.Dropout(a, p=0.4, axes=axes)
        y.backward(mx.nd.ones(y.shape, ctx=ctx, dtype=dtype))
        res.append((y.asnumpy(), a.grad.asnumpy()))
    np.testing.assert_array_equal(res[1][1], res[0][1])  # the scaled mask: bit for bit
    np.testing.assert_array_equal(res[1][0], res[0][0])
    kept = res[0][1] != 0
    assert 0.3 < kept.mean() < 0.9  # not all kept, not all dropped


def test_dropout_inference_is_identity():
    x = _x((5, 5), "float32", 5)
    _check(_both(lambda a: mx.nd.Dropout(a, p=0.5), [x], train=False), "float32")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("kw", [{}, {"axis": 0}, {"axis": 1, "temperature": 2.5}])
def test_softmax_family(op, kw, dtype):
    f = getattr(mx.nd, op)
    _check(_both(lambda x: f(x, **kw), [_x((4, 9, 5), dtype, 6)]), dtype)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_with_length(op):
    f = getattr(mx.nd, op)
    x = _x((3, 8), "float32", 7)
    length = np.array([8, 3, 0], dtype="int32")
    _check(_both(lambda a, l: f(a, l, axis=-1, use_length=True), [x, length], dtypes=["float32", "int32"]), "float32")


def test_softmax_output_dtype():
    _check(_both(lambda x: mx.nd.softmax(x, dtype="float64"), [_x((4, 6), "float32", 8)], grad=False), "float32")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", ["instance", "channel"])
def test_softmax_activation(mode, dtype):
    _check(_both(lambda x: mx.nd.SoftmaxActivation(x, mode=mode), [_x((3, 5, 4), dtype, 9)]), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kw,lshape", [
    ({}, (6,)), ({"normalization": "batch", "grad_scale": 2.0}, (6,)),
    ({"use_ignore": True, "ignore_label": 1, "normalization": "valid"}, (6,)),
    ({"smooth_alpha": 0.1}, (6,)), ({"multi_output": True}, (6, 3)), ({"preserve_shape": True}, (6, 4)),
])
def test_softmax_output(kw, lshape, dtype):
    dshape = (6, 5, 3) if kw.get("multi_output") else ((6, 4, 5) if kw.get("preserve_shape") else (6, 5))
    label = np.random.default_rng(10).integers(0, 5 if not kw.get("preserve_shape") else 5, lshape).astype(dtype)
    x = _x(dshape, dtype, 11)
    _check(_both(lambda a, l: mx.nd.SoftmaxOutput(a, l, **kw), [x, label]), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_softmax_cross_entropy(dtype):
    x = _x((7, 5), dtype, 12)
    label = np.random.default_rng(13).integers(0, 5, (7,)).astype(dtype)
    _check(_both(lambda a, l: mx.nd.softmax_cross_entropy(a, l), [x, label]), dtype)


def test_softmax_cross_entropy_bad_label_is_an_error():
    x = mx.nd.array(_x((2, 3), "float32"), ctx=GPU)
    with pytest.raises(mx.base.MXNetError, match="out of range"):
        mx.nd.softmax_cross_entropy(x, mx.nd.array([0, 3], ctx=GPU)).asnumpy()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("op,kw", [("argmax", {"axis": 1}), ("argmin", {"axis": 0}), ("argmax", {}),
                                   ("argmin", {"axis": -1, "keepdims": True}), ("argmax_channel", {})])
def test_arg_extreme(op, kw, dtype):
    x = np.random.default_rng(14).integers(-20, 20, (5, 7, 4)).astype(dtype)  # ties: the first wins
    if dtype.startswith("float"):
        x[1, 2, 3] = np.nan
    _check(_both(lambda a: getattr(mx.nd, op)(a, **kw), [x], grad=False), dtype, exact=True)


@pytest.mark.parametrize("dtype", FLOATS + ["int32", "int64"])
@pytest.mark.parametrize("kw", [{"axis": 1}, {"axis": 0, "keepdims": True}, {"axis": -1, "mode": "wrap"}])
def test_pick(kw, dtype):
    x = _x((4, 6, 3), dtype, 15) if dtype.startswith("float") else np.arange(72, dtype=dtype).reshape(4, 6, 3)
    ax = kw["axis"]
    ishape = list(x.shape)
    ishape[ax] = 1
    if not kw.get("keepdims"):
        ishape.pop(ax)
    idx = np.random.default_rng(16).integers(-2, 9, ishape).astype("float32")
    _check(_both(lambda a, i: mx.nd.pick(a, i, **kw), [x, idx], dtypes=[dtype, "float32"],
                 grad=dtype.startswith("float")), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "uint8"])
def test_one_hot(dtype):
    idx = np.array([[0, 3, -1], [5, 2, 7]], dtype="int32")
    _check(_both(lambda i: mx.nd.one_hot(i, depth=6, on_value=3, off_value=1, dtype=dtype), [idx], grad=False),
           dtype, exact=True)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kw", [{}, {"axis": 1}, {"axis": -1, "mode": "wrap"}, {"axis": 0, "mode": "clip"}])
def test_take(kw, dtype):
    x = _x((5, 4, 3), dtype, 17)
    idx = np.array([[0, 4, 1], [4, 4, -7]], dtype="float32")  # repeats: the gradient adds them
    _check(_both(lambda a, i: mx.nd.take(a, i, **kw), [x, idx], dtypes=[dtype, "float32"]), dtype)


def test_take_raise_mode_error():
    x = mx.nd.ones((3, 2), ctx=GPU)
    with pytest.raises(mx.base.MXNetError, match="out of bounds"):
        mx.nd.take(x, mx.nd.array([5], ctx=GPU), mode="raise").asnumpy()


@pytest.mark.parametrize("dtype", FLOATS)
def test_embedding(dtype):
    w = _x((10, 4), dtype, 18)
    idx = np.array([[1, 9, 1], [0, 3, 12]], dtype="float32")  # 12 clips to 9
    _check(_both(lambda i, ww: mx.nd.Embedding(i, ww, input_dim=10, output_dim=4, dtype=dtype), [idx, w],
                 dtypes=["float32", dtype]), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", ["LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput"])
def test_regression_outputs(op, dtype):
    x, label = _x((6, 3), dtype, 19), _x((6, 3), dtype, 20, 0, 1)
    _check(_both(lambda a, l: getattr(mx.nd, op)(a, l, grad_scale=1.5), [x, label]), dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_hard_sigmoid_and_smooth_l1(dtype):
    x = _x((9, 7), dtype, 21, -4, 4)
    _check(_both(lambda a: mx.nd.hard_sigmoid(a, alpha=0.3, beta=0.4), [x]), dtype)
    _check(_both(lambda a: mx.nd.smooth_l1(a, scalar=1.5), [x]), dtype)
