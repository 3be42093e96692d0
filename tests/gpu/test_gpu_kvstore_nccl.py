"""kvstore reductions of GPU arrays through NCCL (needs a GPU and libnccl.so.2: the PyPI wheel
nvidia-nccl-cu13 beside mx or on LD_LIBRARY_PATH, or MX_NCCL_LIBRARY). One process on one GPU
('device' kvstore: a one-rank communicator) runs the same init broadcast, grouped allreduce and
stream ordering as a job; with mpirun and 2+ GPUs a 2-worker dist_sync job runs too."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import mx

ok, why = mx.kv.nccl_status()
pytestmark = [pytest.mark.skipif(not ok, reason="NCCL cannot be loaded: %s" % why),
              pytest.mark.skipif(os.environ.get("MX_GPU_TESTS_ON_CPU") == "1",
                                 reason="NCCL needs real GPU arrays (MX_GPU_TESTS_ON_CPU run)")]
GPU = mx.gpu(0) if mx.context.num_gpus() > 0 else None


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int32"])
def test_one_gpu_init_push_pull_pushpull_through_nccl(dtype):
    kv = mx.kv.create("device")
    rng = np.random.RandomState(0)
    w0 = rng.uniform(-1, 1, (33, 7)).astype(dtype) if "float" in dtype else rng.randint(-9, 9, (33, 7)).astype(dtype)
    g = (w0 * 3).astype(dtype)
    kv.init(["w", "b"], [mx.nd.array(w0, ctx=GPU, dtype=dtype), mx.nd.array(g[0], ctx=GPU, dtype=dtype)])
    out = mx.nd.zeros(w0.shape, ctx=GPU, dtype=dtype)
    kv.pull("w", out=out)
    np.testing.assert_array_equal(out.asnumpy(), w0)          # init stored it (NCCL broadcast)
    kv.push(["w", "b"], [mx.nd.array(g, ctx=GPU, dtype=dtype), mx.nd.array(g[1], ctx=GPU, dtype=dtype)])
    kv.pull(["w", "b"], out=[out, mx.nd.zeros((7,), ctx=GPU, dtype=dtype)])
    np.testing.assert_array_equal(out.asnumpy(), g)           # one worker: the sum is the value
    x = mx.nd.array(w0 + 1, ctx=GPU, dtype=dtype)
    y = x * 2                                                  # a kernel writes it just before
    kv.pushpull("w", y, out=y)                                 # reduced in place, stream-ordered
    np.testing.assert_array_equal(y.asnumpy(), ((w0 + 1) * 2).astype(dtype))
    cfg = kv._config()
    isz = np.dtype(dtype).itemsize
    assert cfg["device_backend"] == "nccl"
    assert cfg["device_payload_bytes"] == (2 * w0.size + 7) * isz, cfg  # bytes handed to ncclAllReduce


def test_gpu_key_pushed_from_cpu_is_a_clear_error():
    kv = mx.kv.create("device")
    kv.init("w", mx.nd.ones((4,), ctx=GPU))
    with pytest.raises(mx.base.MXNetError) as info:
        kv.push("w", mx.nd.ones((4,)))
    assert "stored on gpu(0)" in str(info.value) and "cpu(0)" in str(info.value)


WORKER = r'''
import sys, numpy as np, mx
kv = mx.kv.create("dist_sync")
r, n = kv.rank, kv.num_workers
ctx = mx.gpu(r)
kv.init("w", mx.nd.full((1000,), r + 5.0, ctx=ctx))       # rank 0's value wins
out = mx.nd.zeros((1000,), ctx=ctx)
kv.pull("w", out=out)
assert np.all(out.asnumpy() == 5.0), out.asnumpy()[:3]
g = mx.nd.full((1000,), r + 1.0, ctx=ctx)
kv.pushpull("w", g, out=g)
assert np.all(g.asnumpy() == n * (n + 1) / 2), g.asnumpy()[:3]
assert kv._config()["device_backend"] == "nccl"
print("NCCL-WORKER-OK", r, flush=True)
'''


@pytest.mark.skipif(shutil.which("mpirun") is None or mx.context.num_gpus() < 2,
                    reason="needs mpirun and 2 GPUs")
def test_two_workers_two_gpus(tmp_path):
    script = tmp_path / "w.py"
    script.write_text(WORKER)
    p = subprocess.run([sys.executable, "-m", "mx.tools.launch", "-n", "2", sys.executable, str(script)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
    out = p.stdout.decode()
    assert p.returncode == 0 and out.count("NCCL-WORKER-OK") == 2, out
