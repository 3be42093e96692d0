"""The GPU's warp/block-per-row softmax family and its layout-specific reductions
(backends/cuda/softmax_rows.cu, reduce.cu) against the CPU: row lengths on both sides of the warp
and block paths (1, 31, 32, 33, 1024, 1025, 5000), leading-axis (column) reductions with enough
outputs for the column kernel, forward and gradient, float32/float64/float16; and determinism:
the same input gives the same bits on every run (no atomics)."""
import numpy as np
import pytest

import mx

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
TOL = {"float32": dict(rtol=2e-5, atol=1e-6), "float64": dict(rtol=1e-11, atol=1e-13),
       "float16": dict(rtol=2e-3, atol=2e-3)}
LENGTHS = [1, 31, 32, 33, 1024, 1025, 5000]


def _run(f, x, ctx, dtype, head, **kw):
    a = mx.nd.array(x, ctx=ctx, dtype=dtype)
    a.attach_grad()
    with mx.autograd.record():
        y = f(a, **kw)
    y.backward(mx.nd.array(head, ctx=ctx, dtype=dtype))
    return y.astype("float64").asnumpy(), a.grad.astype("float64").asnumpy()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("n", LENGTHS)
def test_softmax_rows_match_cpu(n, name, dtype):
    rng = np.random.default_rng(n)
    rows = 3 if n > 1000 else 37
    x = rng.uniform(-4, 4, (rows, n)).astype(np.float32)
    head = rng.uniform(-1, 1, (rows, n)).astype(np.float32)
    kw = {"temperature": 1.5} if n == 33 else {}
    f = getattr(mx.nd, name)
    cpu = _run(f, x, mx.cpu(), dtype, head, **kw)
    gpu = _run(f, x, GPU, dtype, head, **kw)
    for c, g in zip(cpu, gpu):
        np.testing.assert_allclose(g, c, **TOL[dtype])


def test_softmax_rows_are_deterministic():
    x = mx.nd.array(np.random.default_rng(1).uniform(-3, 3, (64, 3000)), ctx=GPU)
    a = mx.nd.log_softmax(x).asnumpy()
    for _ in range(3):
        np.testing.assert_array_equal(mx.nd.log_softmax(x).asnumpy(), a)


REDUCE_LAYOUTS = [((200, 37), {"axis": 1}), ((50, 4096), {"axis": 1}), ((7, 5000), {"axis": -1}),
                  ((300, 3000), {"axis": 0}), ((16, 3, 1024), {"axis": 0}), ((9, 2, 2048), {"axis": (0, 1)}),
                  ((4, 5, 6), {"axis": (0, 2)})]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "float16"])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "norm"])
def test_reduction_layouts_match_cpu(name, dtype):
    if name == "norm" and dtype == "int32":
        return  # norm is float-only on both devices
    rng = np.random.default_rng(len(name))
    for shape, kw in REDUCE_LAYOUTS:
        if name == "norm" and isinstance(kw["axis"], tuple) and len(kw["axis"]) > 1 and shape[0] == 4:
            continue
        x = rng.uniform(-1, 1, shape) if dtype != "int32" else rng.integers(-50, 50, shape)
        c = getattr(mx.nd, name)(mx.nd.array(x, dtype=dtype), **kw).astype("float64").asnumpy()
        g = getattr(mx.nd, name)(mx.nd.array(x, ctx=GPU, dtype=dtype), **kw).astype("float64").asnumpy()
        if dtype == "int32":
            np.testing.assert_array_equal(g, c, err_msg="%s %s" % (shape, kw))
        else:
            np.testing.assert_allclose(g, c, err_msg="%s %s" % (shape, kw), **TOL[dtype])


def test_reductions_are_deterministic():
    x = mx.nd.array(np.random.default_rng(2).uniform(-1, 1, (512, 4000)).astype(np.float32), ctx=GPU)
    for kw in ({"axis": 1}, {"axis": 0}, {}):
        a = mx.nd.sum(x, **kw).asnumpy()
        for _ in range(3):
            np.testing.assert_array_equal(mx.nd.sum(x, **kw).asnumpy(), a)
