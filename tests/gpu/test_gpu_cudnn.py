"""Convolution, Deconvolution, Pooling and BatchNorm on the GPU (cuDNN) against the CPU kernels:
forward outputs, gradients of every input (through autograd, so the _backward_* ops run too), the
moving statistics BatchNorm updates, over a grid of shapes and parameters; then LeNet trained for
20 steps on each device (Gluon, hybridized). float32 on cuDNN uses FMA math (no TF32), so results
agree to float32 rounding of different summation orders."""
import os
import tempfile

import numpy as np
import pytest

import mx
from mx import base

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
# MX_GPU_TESTS_ON_CPU=1 (tests/gpu/conftest.py) runs these bodies with gpu(0) = cpu(0); the CPU
# computes what cuDNN refuses, so the GPU-only error checks are skipped then.
GPU_ONLY = pytest.mark.skipif(os.environ.get("MX_GPU_TESTS_ON_CPU") == "1", reason="checks a cuDNN limit")
TOL = {"float32": dict(rtol=1e-4, atol=1e-4), "float64": dict(rtol=1e-9, atol=1e-10),
       # float16 on cuDNN (tensor cores, float32 accumulation) against the CPU's float32 run of the
       # same float16 inputs: both round the result to float16 once, so about an ulp apart.
       "float16": dict(rtol=1e-2, atol=1e-2)}


def _head(shape, dtype):
    """A fixed, non-uniform output gradient (the same on both devices)."""
    n = int(np.prod(shape)) if shape else 1
    return (np.cos(np.arange(n) * 0.37) * 0.5).reshape(shape).astype(dtype)


def _run(fn, arrays, kwargs, ctx, grads, aux=(), train=True):
    """fn(*arrays, *aux, **kwargs) on ctx under autograd; returns outputs, the gradients of the
    arrays whose index is in grads, and the aux arrays afterwards, as numpy."""
    xs = [mx.nd.array(a, ctx=ctx, dtype=a.dtype) for a in arrays]
    for i in grads:
        xs[i].attach_grad()
    auxs = [mx.nd.array(a, ctx=ctx, dtype=a.dtype) for a in aux]
    with mx.autograd.record(train_mode=train):
        out = fn(*(xs + auxs), **kwargs)
    outs = out if isinstance(out, (list, tuple)) else [out]
    for o in outs:
        assert o.context == ctx
    outs[0].backward(mx.nd.array(_head(outs[0].shape, outs[0].dtype), ctx=ctx, dtype=outs[0].dtype))
    return ([o.asnumpy() for o in outs], [xs[i].grad.asnumpy() for i in grads], [a.asnumpy() for a in auxs])


def _compare(fn, arrays, kwargs, grads, aux=(), train=True, what=""):
    cpu = _run(fn, arrays, kwargs, mx.cpu(), grads, aux, train)
    gpu = _run(fn, arrays, kwargs, GPU, grads, aux, train)
    tol = TOL[str(arrays[0].dtype)]
    for kind, c, g in zip(("output", "gradient", "aux"), cpu, gpu):
        assert len(c) == len(g)
        for i, (a, b) in enumerate(zip(c, g)):
            assert a.shape == b.shape and a.dtype == b.dtype
            np.testing.assert_allclose(b, a, err_msg="%s %s %d %s" % (what, kind, i, kwargs), **tol)
    return cpu


def _rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


# (data shape, kwargs): 1-D, 2-D and 3-D; stride, pad, dilation, groups (depthwise too), 1x1, no bias.
CONV = [
    ((2, 3, 11), dict(kernel=(3,), num_filter=4)),
    ((2, 4, 13), dict(kernel=(5,), num_filter=6, stride=(2,), pad=(2,), dilate=(2,), num_group=2)),
    ((2, 3, 9, 8), dict(kernel=(3, 3), num_filter=5)),
    ((3, 4, 10, 9), dict(kernel=(3, 2), num_filter=6, stride=(2, 1), pad=(1, 1), no_bias=True)),
    ((2, 6, 12, 12), dict(kernel=(3, 3), num_filter=6, dilate=(2, 2), pad=(2, 2), num_group=3)),
    ((2, 8, 7, 7), dict(kernel=(3, 3), num_filter=8, pad=(1, 1), num_group=8)),  # depthwise
    ((4, 16, 6, 6), dict(kernel=(1, 1), num_filter=8)),                             # pointwise
    ((2, 3, 5, 5), dict(kernel=(5, 5), num_filter=2, layout="NCHW")),                # one output pixel
    ((2, 2, 6, 7, 5), dict(kernel=(3, 3, 2), num_filter=3, stride=(1, 2, 1), pad=(1, 0, 1))),
    ((1, 4, 5, 6, 6), dict(kernel=(2, 3, 3), num_filter=4, dilate=(2, 1, 1), num_group=2, no_bias=True)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,kw", CONV, ids=[str(i) for i in range(len(CONV))])
def test_convolution(shape, kw, dtype):
    rng = np.random.default_rng(len(shape) * 100 + kw["num_filter"])
    C, G, F = shape[1], kw.get("num_group", 1), kw["num_filter"]
    arrays = [_rand(rng, shape, dtype), _rand(rng, (F, C // G) + kw["kernel"], dtype)]
    if not kw.get("no_bias"):
        arrays.append(_rand(rng, (F,), dtype))
    _compare(mx.nd.Convolution, arrays, kw, grads=range(len(arrays)), what="Convolution")


@pytest.mark.parametrize("shape,kw", [CONV[2], CONV[4], CONV[8], ((4, 16, 8, 8), dict(kernel=(3, 3), num_filter=16, pad=(1, 1)))],
                         ids=["2d", "grouped", "3d", "tensor-core"])
def test_convolution_float16(shape, kw):
    rng = np.random.default_rng(11)
    C, G, F = shape[1], kw.get("num_group", 1), kw["num_filter"]
    arrays = [(_rand(rng, shape, "float32") * 0.5).astype("float16"),
              (_rand(rng, (F, C // G) + kw["kernel"], "float32") * 0.2).astype("float16")]
    if not kw.get("no_bias"):
        arrays.append(_rand(rng, (F,), "float16"))
    _compare(mx.nd.Convolution, arrays, kw, grads=range(len(arrays)), what="Convolution float16")


def test_convolution_weight_gradient_only():
    # The data gradient is skipped (c.needed(0) false): weight and bias gradients still right.
    rng = np.random.default_rng(7)
    arrays = [_rand(rng, (3, 4, 9, 9), "float32"), _rand(rng, (5, 4, 3, 3), "float32"), _rand(rng, (5,), "float32")]
    _compare(mx.nd.Convolution, arrays, dict(kernel=(3, 3), num_filter=5, stride=(2, 2)), grads=[1, 2])


@pytest.mark.parametrize("tune", ["off", "limited_workspace", "fastest"])
def test_convolution_algorithm_choice(tune):
    rng = np.random.default_rng(8)
    arrays = [_rand(rng, (8, 16, 14, 14), "float32"), _rand(rng, (32, 16, 3, 3), "float32"),
              _rand(rng, (32,), "float32")]
    kw = dict(kernel=(3, 3), num_filter=32, pad=(1, 1), cudnn_tune=tune, workspace=64)
    for _ in range(2):  # the second call takes the cached algorithm
        _compare(mx.nd.Convolution, arrays, kw, grads=range(3))


DECONV = [
    ((2, 3, 7), dict(kernel=(3,), num_filter=4, no_bias=False)),
    ((2, 4, 6), dict(kernel=(4,), num_filter=2, stride=(2,), pad=(1,), adj=(1,), num_group=2)),
    ((2, 3, 5, 6), dict(kernel=(3, 3), num_filter=5)),
    ((2, 4, 5, 5), dict(kernel=(4, 4), num_filter=6, stride=(2, 2), pad=(1, 1), no_bias=False)),
    ((1, 6, 4, 5), dict(kernel=(3, 3), num_filter=6, stride=(2, 2), target_shape=(8, 10), num_group=3)),
    ((2, 2, 5, 4), dict(kernel=(3, 2), num_filter=3, dilate=(2, 2), pad=(1, 0), adj=(1, 0), stride=(2, 1))),
    ((1, 2, 3, 4, 3), dict(kernel=(2, 3, 2), num_filter=2, stride=(2, 1, 2), no_bias=False)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,kw", DECONV, ids=[str(i) for i in range(len(DECONV))])
def test_deconvolution(shape, kw, dtype):
    rng = np.random.default_rng(len(shape) * 10 + kw["num_filter"])
    C, G, F = shape[1], kw.get("num_group", 1), kw["num_filter"]
    arrays = [_rand(rng, shape, dtype), _rand(rng, (C, F // G) + kw["kernel"], dtype)]
    if kw.get("no_bias") is False:
        arrays.append(_rand(rng, (F,), dtype))
    _compare(mx.nd.Deconvolution, arrays, kw, grads=range(len(arrays)), what="Deconvolution")


def test_deconvolution_float16():
    rng = np.random.default_rng(12)
    shape, kw = DECONV[3]
    arrays = [(_rand(rng, shape, "float32") * 0.5).astype("float16"),
              (_rand(rng, (shape[1], kw["num_filter"]) + kw["kernel"], "float32") * 0.2).astype("float16"),
              _rand(rng, (kw["num_filter"],), "float16")]
    _compare(mx.nd.Deconvolution, arrays, kw, grads=range(3), what="Deconvolution float16")


@GPU_ONLY
def test_deconvolution_geometry_cudnn_cannot_express():
    # adj >= stride (allowed when dilate is larger) has no cuDNN equivalent: a clear error.
    x = mx.nd.ones((1, 2, 4, 4), ctx=GPU)
    w = mx.nd.ones((2, 2, 2, 2), ctx=GPU)
    with pytest.raises(base.MXNotSupportedError) as info:
        mx.nd.Deconvolution(x, w, kernel=(2, 2), num_filter=2, dilate=(3, 3), adj=(2, 2)).asnumpy()
    assert "Deconvolution" in str(info.value)


POOL = [
    ((2, 3, 10), dict(kernel=(3,), pool_type="max", stride=(2,))),
    ((2, 3, 10), dict(kernel=(2,), pool_type="avg", pad=(1,))),
    ((2, 3, 9, 8), dict(kernel=(2, 2), pool_type="max", stride=(2, 2))),
    ((2, 3, 9, 8), dict(kernel=(3, 3), pool_type="max", stride=(2, 2), pad=(1, 1))),
    ((2, 3, 9, 8), dict(kernel=(3, 3), pool_type="avg", stride=(2, 2), pad=(1, 1))),
    ((2, 3, 9, 8), dict(kernel=(3, 3), pool_type="avg", stride=(2, 2), pad=(1, 1), count_include_pad=False)),
    ((2, 3, 9, 8), dict(kernel=(3, 2), pool_type="sum", stride=(1, 2), pad=(1, 1))),
    ((2, 3, 7, 7), dict(kernel=(3, 3), pool_type="max", stride=(2, 2), pooling_convention="full")),  # = valid here
    ((2, 3, 8, 8), dict(kernel=(3, 3), pool_type="avg", stride=(1, 1), pooling_convention="same")),
    ((2, 4, 7, 5), dict(kernel=(1, 1), pool_type="avg", global_pool=True)),
    ((2, 4, 7, 5), dict(kernel=(1, 1), pool_type="max", global_pool=True)),
    ((2, 4, 7, 5), dict(kernel=(1, 1), pool_type="sum", global_pool=True)),
    ((1, 2, 6, 5, 7), dict(kernel=(2, 2, 3), pool_type="max", stride=(2, 1, 2), pad=(1, 0, 1))),
    ((1, 2, 6, 5, 7), dict(kernel=(3, 2, 2), pool_type="avg", stride=(1, 2, 2), pad=(1, 1, 0))),
    ((2, 2, 4, 6, 5), dict(kernel=(1, 1, 1), pool_type="avg", global_pool=True)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,kw", POOL, ids=[str(i) for i in range(len(POOL))])
def test_pooling(shape, kw, dtype):
    rng = np.random.default_rng(len(shape) + 3 * len(kw))
    _compare(mx.nd.Pooling, [_rand(rng, shape, dtype)], kw, grads=[0], what="Pooling")


@pytest.mark.parametrize("shape,kw", [POOL[3], POOL[5], POOL[6], POOL[9], POOL[12]], ids=["max", "avg", "sum", "global", "3d"])
def test_pooling_float16(shape, kw):
    rng = np.random.default_rng(13)
    _compare(mx.nd.Pooling, [_rand(rng, shape, "float16")], kw, grads=[0], what="Pooling float16")


@GPU_ONLY
@pytest.mark.parametrize("kw", [dict(kernel=(3, 3), pool_type="lp", p_value=2),
                                dict(kernel=(3, 3), pool_type="max", stride=(2, 2), pooling_convention="full")])
def test_pooling_cudnn_cannot_express(kw):
    # Lp pooling and 'full' windows that overhang the input: a clear error naming the op.
    x = mx.nd.ones((1, 1, 8, 8), ctx=GPU)
    with pytest.raises(base.MXNotSupportedError) as info:
        mx.nd.Pooling(x, **kw).asnumpy()
    assert "Pooling" in str(info.value)


# (data shape, kwargs). fix_gamma, use_global_stats, axis (1, last, middle), 2-D and 5-D data.
BN = [
    ((4, 3, 5, 6), dict(fix_gamma=False)),
    ((4, 3, 5, 6), dict(fix_gamma=True)),
    ((4, 3, 5, 6), dict(fix_gamma=False, use_global_stats=True)),
    ((8, 5), dict(fix_gamma=False, momentum=0.8, eps=1e-5)),
    ((3, 4, 5, 6), dict(fix_gamma=False, axis=-1)),
    ((3, 4, 5, 6), dict(fix_gamma=False, axis=2, output_mean_var=True)),
    ((2, 3, 4, 3, 5), dict(fix_gamma=False, eps=2e-3)),
]


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,kw", BN, ids=[str(i) for i in range(len(BN))])
def test_batch_norm(shape, kw, dtype, train):
    rng = np.random.default_rng(len(shape) * 7 + len(kw))
    axis = kw.get("axis", 1) % len(shape)
    C = shape[axis]
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    gamma = rng.uniform(0.5, 1.5, C).astype(dtype)
    beta = rng.standard_normal(C).astype(dtype)
    mm = rng.standard_normal(C).astype(dtype) * 0.1
    mv = rng.uniform(0.5, 2.0, C).astype(dtype)
    cpu = _compare(mx.nd.BatchNorm, [x, gamma, beta], kw, grads=[0, 1, 2], aux=[mm, mv], train=train,
                   what="BatchNorm")
    # Independent check of what the devices agree on: in training without global statistics the
    # moving statistics move towards the batch's (biased) mean and variance.
    red = tuple(i for i in range(len(shape)) if i != axis)
    mom = kw.get("momentum", 0.9)
    if train and not kw.get("use_global_stats"):
        np.testing.assert_allclose(cpu[2][0], mom * mm + (1 - mom) * x.mean(axis=red), **TOL[dtype])
        np.testing.assert_allclose(cpu[2][1], mom * mv + (1 - mom) * x.var(axis=red), rtol=1e-4)
    else:
        np.testing.assert_array_equal(cpu[2][0], mm)
        np.testing.assert_array_equal(cpu[2][1], mv)


def test_batch_norm_steps_running_statistics():
    # Several training steps through the same aux arrays: the moving statistics agree.
    out = []
    for ctx in (mx.cpu(), GPU):
        mm, mv = mx.nd.zeros((4,), ctx=ctx), mx.nd.ones((4,), ctx=ctx)
        g, b = mx.nd.ones((4,), ctx=ctx), mx.nd.zeros((4,), ctx=ctx)
        r = np.random.default_rng(3)
        for _ in range(5):
            x = mx.nd.array(r.standard_normal((6, 4, 3, 3)) * 3 + 1, ctx=ctx)
            with mx.autograd.record():
                mx.nd.BatchNorm(x, g, b, mm, mv, fix_gamma=False, momentum=0.7)
        out.append((mm.asnumpy(), mv.asnumpy()))
    (cm, cv), (gm, gv) = out
    np.testing.assert_allclose(gm, cm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gv, cv, rtol=1e-5, atol=1e-6)


def _lenet():
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Conv2D(8, kernel_size=5, activation="relu"),
            mx.gluon.nn.MaxPool2D(pool_size=2, strides=2),
            mx.gluon.nn.BatchNorm(),
            mx.gluon.nn.Conv2D(16, kernel_size=3, padding=1, activation="relu"),
            mx.gluon.nn.AvgPool2D(pool_size=2, strides=2),
            mx.gluon.nn.Flatten(),
            mx.gluon.nn.Dense(32, activation="relu"),
            mx.gluon.nn.Dense(10))
    return net


def test_lenet_training_matches_cpu():
    # Same initial weights (the CPU net's, loaded onto the GPU), same 20 batches: the loss curve
    # and the final weights agree to 1e-4.
    rng = np.random.default_rng(0)
    data = rng.standard_normal((20, 16, 1, 20, 20)).astype(np.float32)
    labels = rng.integers(0, 10, (20, 16)).astype(np.float32)
    mx.random.seed(1)
    nets = {"cpu": _lenet(), "gpu": _lenet()}
    nets["cpu"].initialize(mx.init.Xavier(), ctx=mx.cpu())
    nets["cpu"](mx.nd.array(data[0]))
    with tempfile.TemporaryDirectory() as d:
        f = os.path.join(d, "lenet.params")
        nets["cpu"].save_parameters(f)
        nets["gpu"].load_parameters(f, ctx=GPU)
    losses, params = {}, {}
    for name, ctx in (("cpu", mx.cpu()), ("gpu", GPU)):
        net = nets[name]
        net.hybridize()
        trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.05, "momentum": 0.9})
        loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
        curve = []
        for step in range(20):
            x, y = mx.nd.array(data[step], ctx=ctx), mx.nd.array(labels[step], ctx=ctx)
            with mx.autograd.record():
                loss = loss_fn(net(x), y)
            loss.backward()
            trainer.step(x.shape[0])
            curve.append(float(loss.mean().asscalar()))
        losses[name] = np.array(curve)
        params[name] = [(k, v.data(ctx).asnumpy()) for k, v in net.collect_params().items()]  # same order
    assert np.all(np.isfinite(losses["cpu"])) and losses["cpu"][-1] < losses["cpu"][0]
    np.testing.assert_allclose(losses["gpu"], losses["cpu"], rtol=1e-4, atol=1e-4)
    assert len(params["gpu"]) == len(params["cpu"]) == 12  # BatchNorm moving statistics included
    for (k, g), (_, c) in zip(params["gpu"], params["cpu"]):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-4, err_msg=k)
