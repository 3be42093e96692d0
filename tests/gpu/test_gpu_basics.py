"""Device probing, memory pool, copies and synchronisation on a real GPU."""
import numpy as np
import pytest

import mx
from mx import base

GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None
DTYPES = ["float32", "float64", "float16", "int8", "uint8", "int32", "int64", "bool"]


def _pool():
    used, res = base.ffi.new("uint64_t *"), base.ffi.new("uint64_t *")
    base.check_call(base.lib.mx_gpu_pool_stats(0, used, res))
    return int(used[0]), int(res[0])


def test_device_is_usable():
    assert mx.context.num_gpus() >= 1
    free, total = mx.context.gpu_memory_info(0)
    assert 0 < free <= total
    assert mx.runtime.Features().is_enabled("CUDA")
    with pytest.raises(base.MXNotSupportedError) as info:
        mx.gpu(mx.context.num_gpus())
    assert "no such GPU" in str(info.value)


@pytest.mark.parametrize("dtype", DTYPES)
def test_host_device_round_trip(dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((37, 129)) * 50).astype(dtype)
    g = mx.nd.array(x, ctx=GPU, dtype=dtype)
    assert g.context == GPU and g.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(g.asnumpy(), x)
    # cpu -> gpu -> gpu (copy on the device) -> cpu
    h = mx.nd.array(x, dtype=dtype).as_in_context(GPU)
    k = h.copyto(GPU)
    np.testing.assert_array_equal(k.asnumpy(), x)
    np.testing.assert_array_equal(k.copyto(mx.cpu()).asnumpy(), x)


def test_copy_between_gpus():
    if mx.context.num_gpus() < 2:
        pytest.skip("one GPU")
    x = np.arange(1000, dtype=np.float32)
    a = mx.nd.array(x, ctx=mx.gpu(0))
    b = a.copyto(mx.gpu(1))
    np.testing.assert_array_equal(b.asnumpy(), x)


def test_views_and_fills():
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    g = mx.nd.array(x, ctx=GPU)
    np.testing.assert_array_equal(g[1:3].asnumpy(), x[1:3])
    np.testing.assert_array_equal(g.reshape((6, 4)).asnumpy(), x.reshape(6, 4))
    np.testing.assert_array_equal(mx.nd.zeros((3, 5), ctx=GPU).asnumpy(), np.zeros((3, 5), np.float32))
    np.testing.assert_array_equal(mx.nd.ones((3, 5), ctx=GPU, dtype="int32").asnumpy(), np.ones((3, 5), np.int32))
    np.testing.assert_array_equal(mx.nd.full((7,), 2.5, ctx=GPU).asnumpy(), np.full(7, 2.5, np.float32))
    np.testing.assert_array_equal(g.astype("float64").asnumpy(), x.astype(np.float64))
    np.testing.assert_array_equal(g.astype("int32").asnumpy(), x.astype(np.int32))


def test_async_results_are_synchronised_by_reads():
    # A long chain of queued kernels: asnumpy/wait_to_read/waitall must all see the final values.
    x = mx.nd.ones((1 << 20,), ctx=GPU)
    y = x
    for _ in range(200):
        y = y + x
    y.wait_to_read()
    mx.nd.waitall()
    np.testing.assert_array_equal(y.asnumpy()[:5], np.full(5, 201.0, np.float32))


def test_pool_reuses_memory_in_steady_state():
    mx.nd.waitall()
    mx.gpu(0).empty_cache()
    x = mx.nd.ones((1 << 20,), ctx=GPU)

    def step():
        y = x * 2 + 1
        z = mx.nd.exp(y) - y
        return z.sum()

    for _ in range(3):  # warm-up: the pool takes the segments this loop needs
        step().wait_to_read()
    _, reserved0 = _pool()
    for _ in range(100):
        step()
    mx.nd.waitall()
    _, reserved1 = _pool()
    assert reserved1 == reserved0, "the pool grew in steady state (%d -> %d bytes)" % (reserved0, reserved1)
    # A 64 MiB array gets a segment of its own; freed and empty_cache'd, the driver gets it back.
    big = mx.nd.ones((16 << 20,), ctx=GPU)
    big.wait_to_read()
    used_b, reserved_b = _pool()
    del big
    mx.gpu(0).empty_cache()
    used_a, reserved_a = _pool()
    assert used_b - used_a >= 64 << 20 and reserved_b - reserved_a >= 64 << 20


def test_out_of_memory_is_a_clear_error():
    # Chunks of 8 GiB (each below the host-memory bound every array is checked against) until the
    # device is full: the pool releases its cache, retries, then raises MemoryError naming gpu(0).
    _, total = mx.context.gpu_memory_info(0)
    chunks = []
    with pytest.raises(MemoryError) as info:
        for _ in range(int(total // (8 << 30)) + 2):
            chunks.append(mx.nd.empty((2 << 30,), ctx=GPU))
    assert "gpu(0)" in str(info.value)
    del chunks
    mx.gpu(0).empty_cache()
    # still usable afterwards
    np.testing.assert_array_equal((mx.nd.ones((3,), ctx=GPU) * 3).asnumpy(), np.full(3, 3.0, np.float32))


def test_cpu_only_op_names_op_and_device():
    a = mx.nd.ones((2, 3), ctx=GPU)
    with pytest.raises(base.MXNotSupportedError) as info:
        mx.nd.sort(a)
    msg = str(info.value)
    assert "sort" in msg and "gpu(0)" in msg


def test_mixed_devices_are_refused():
    with pytest.raises(ValueError) as info:
        mx.nd.ones((2,), ctx=GPU) + mx.nd.ones((2,))
    assert "device" in str(info.value)
