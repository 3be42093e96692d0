"""The GPU's Philox samplers give the CPU's numbers for the same seed and call sequence (both
devices' generators are seeded by mx.random.seed; the formulas are ops/formulas/random.h)."""
import numpy as np
import pytest

import mx

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None


def _both(draw):
    out = []
    for ctx in (mx.cpu(), GPU):
        mx.random.seed(1234)
        out.append([draw(ctx).asnumpy() for _ in range(3)])  # three calls: counters advance alike
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_is_bitwise_the_cpus(dtype):
    cpu, gpu = _both(lambda ctx: mx.nd.random.uniform(-2, 3, shape=(1001, 7), ctx=ctx, dtype=dtype))
    for c, g in zip(cpu, gpu):
        np.testing.assert_array_equal(g, c)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_randint_is_bitwise_the_cpus(dtype):
    cpu, gpu = _both(lambda ctx: mx.nd.random.randint(-50, 1000, shape=(999,), ctx=ctx, dtype=dtype))
    for c, g in zip(cpu, gpu):
        np.testing.assert_array_equal(g, c)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_and_exponential_match_the_cpus(dtype):
    # log/sqrt/cos on the GPU may differ from glibc in the last double ulp.
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-13, atol=1e-13)
    cpu, gpu = _both(lambda ctx: mx.nd.random.normal(0.5, 2.0, shape=(4097,), ctx=ctx, dtype=dtype))
    for c, g in zip(cpu, gpu):
        np.testing.assert_allclose(g, c, **tol)
    cpu, gpu = _both(lambda ctx: mx.nd.random.exponential(1.5, shape=(513,), ctx=ctx, dtype=dtype))
    for c, g in zip(cpu, gpu):
        np.testing.assert_allclose(g, c, **tol)


def test_gpu_draws_are_distributed_right():
    mx.random.seed(7)
    u = mx.nd.random.uniform(0, 1, shape=(1 << 20,), ctx=GPU).asnumpy()
    n = mx.nd.random.normal(0, 1, shape=(1 << 20,), ctx=GPU).asnumpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 2e-3
    assert abs(n.mean()) < 5e-3 and abs(n.std() - 1) < 5e-3
