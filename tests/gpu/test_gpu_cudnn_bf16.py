"""bfloat16 Convolution, Deconvolution and Pooling on cuDNN (sm_80+: bf16 data, float32 accumulation, tensor-op
math) against the CPU's bfloat16 kernels (oneDNN's bf16 primitives, also accumulating in float32):
forward outputs and the gradients of every input through autograd (so _backward_Convolution and
_backward_Pooling run natively too). Both devices round each result to bfloat16 once after
summing in float32 in different orders, so they agree to about one bfloat16 ulp (2^-8 relative)
of the largest value. On a GPU older than sm_80, or with a cuDNN lacking bf16, the ops raise
MXNotSupportedError naming the op."""
import os

import numpy as np
import pytest

import mx
from mx import base

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
GPU_ONLY = pytest.mark.skipif(os.environ.get("MX_GPU_TESTS_ON_CPU") == "1", reason="checks the GPU's own refusal")


def _run(fn, arrays, kwargs, ctx):
    xs = [mx.nd.array(a, ctx=ctx).astype("bfloat16") for a in arrays]
    for x in xs:
        x.attach_grad()
    with mx.autograd.record():
        out = fn(*xs, **kwargs)
    assert str(out.dtype) == "bfloat16"
    assert out.context == ctx
    n = int(np.prod(out.shape))
    head = (np.cos(np.arange(n) * 0.37) * 0.5).reshape(out.shape).astype(np.float32)
    out.backward(mx.nd.array(head, ctx=ctx).astype("bfloat16"))
    return [out.astype("float32").asnumpy()] + [x.grad.astype("float32").asnumpy() for x in xs]


def _compare(fn, arrays, kwargs, what):
    cpu, gpu = _run(fn, arrays, kwargs, mx.cpu()), _run(fn, arrays, kwargs, GPU)
    for i, (c, g) in enumerate(zip(cpu, gpu)):
        assert c.shape == g.shape
        scale = max(1.0, float(np.abs(c).max()))
        np.testing.assert_allclose(g, c, rtol=2e-2, atol=2e-2 * scale,
                                   err_msg="%s %s %s" % (what, "output" if i == 0 else "gradient %d" % (i - 1), kwargs))


CONV = [
    ((2, 3, 9, 8), dict(kernel=(3, 3), num_filter=5)),
    ((2, 6, 12, 12), dict(kernel=(3, 3), num_filter=6, dilate=(2, 2), pad=(2, 2), num_group=3)),
    ((2, 2, 6, 7, 5), dict(kernel=(3, 3, 2), num_filter=3, stride=(1, 2, 1), pad=(1, 0, 1))),
    ((4, 16, 8, 8), dict(kernel=(3, 3), num_filter=16, pad=(1, 1))),  # tensor-core friendly
    ((2, 8, 6, 6), dict(kernel=(1, 1), num_filter=8, no_bias=True)),
]


@pytest.mark.parametrize("shape,kw", CONV, ids=["2d", "grouped", "3d", "tensor-core", "pointwise-nobias"])
def test_convolution_bfloat16(shape, kw):
    rng = np.random.default_rng(21)
    C, G, F = shape[1], kw.get("num_group", 1), kw["num_filter"]
    arrays = [rng.standard_normal(shape).astype(np.float32) * 0.5,
              rng.standard_normal((F, C // G) + kw["kernel"]).astype(np.float32) * 0.2]
    if not kw.get("no_bias"):
        arrays.append(rng.standard_normal((F,)).astype(np.float32))
    _compare(mx.nd.Convolution, arrays, kw, "Convolution bfloat16")


@pytest.mark.parametrize("shape,kw", [((2, 3, 5, 6), dict(kernel=(3, 3), num_filter=4, stride=(2, 2), pad=(1, 1), no_bias=False)),
                                      ((2, 4, 6), dict(kernel=(3,), num_filter=4, num_group=2, no_bias=False))],
                         ids=["2d", "1d-grouped"])
def test_deconvolution_bfloat16(shape, kw):
    rng = np.random.default_rng(22)
    C, G = shape[1], kw.get("num_group", 1)
    arrays = [rng.standard_normal(shape).astype(np.float32) * 0.5,
              rng.standard_normal((C, kw["num_filter"] // G) + kw["kernel"]).astype(np.float32) * 0.2,
              rng.standard_normal((kw["num_filter"],)).astype(np.float32)]
    _compare(mx.nd.Deconvolution, arrays, kw, "Deconvolution bfloat16")


POOL = [
    ((2, 3, 8, 8), dict(kernel=(2, 2), pool_type="max", stride=(2, 2))),
    ((2, 3, 9, 7), dict(kernel=(3, 3), pool_type="avg", stride=(2, 2), pad=(1, 1))),
    ((2, 3, 9, 7), dict(kernel=(3, 2), pool_type="sum", stride=(1, 2))),
    ((2, 4, 7, 5), dict(kernel=(1, 1), pool_type="avg", global_pool=True)),
    ((1, 2, 6, 5, 7), dict(kernel=(2, 2, 3), pool_type="max", stride=(2, 1, 2), pad=(1, 0, 1))),
]


@pytest.mark.parametrize("shape,kw", POOL, ids=["max", "avg", "sum", "global", "3d"])
def test_pooling_bfloat16(shape, kw):
    rng = np.random.default_rng(23)
    _compare(mx.nd.Pooling, [rng.standard_normal(shape).astype(np.float32)], kw, "Pooling bfloat16")


def test_bfloat16_runs_natively_on_the_gpu():
    # the schema says so (registry: gpu_dtypes), so invoke_raw hands cuDNN the bf16 arrays
    for op in ("Convolution", "_backward_Convolution", "Deconvolution", "_backward_Deconvolution", "Pooling",
               "_backward_Pooling"):
        assert "bfloat16" in mx.nd.register._ops.op_schema(op)["gpu_dtypes"], op


@GPU_ONLY
def test_bfloat16_convolution_on_the_device_or_a_clear_refusal():
    # sm_80+ with cuDNN >= 8.1: it runs (and test_convolution_bfloat16 checks the numbers); an
    # older GPU gets MXNotSupportedError naming the op and the compute capability it needs.
    x = mx.nd.ones((1, 2, 5, 5), ctx=GPU).astype("bfloat16")
    w = mx.nd.ones((3, 2, 3, 3), ctx=GPU).astype("bfloat16")
    try:
        y = mx.nd.Convolution(x, w, kernel=(3, 3), num_filter=3, no_bias=True).astype("float32").asnumpy()
    except base.MXNotSupportedError as e:
        assert "Convolution" in str(e) and "compute capability 8.0" in str(e), str(e)
        return
    np.testing.assert_array_equal(y, np.full((1, 3, 3, 3), 18.0, np.float32))
