"""The NCCL side of the kvstore that this machine (no GPU, no NCCL installed) can check: loading
libnccl.so.2 at run time and the errors when it cannot be, the error for GPU arrays without a
GPU, and the type names. The NCCL reductions themselves run in tests/gpu/test_gpu_kvstore_nccl.py."""
import os
import subprocess
import sys

import pytest

import mx
from mx import base

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _status_in_child(env_extra):
    """mx.kv.nccl_status() in a fresh process (libmx opens NCCL once per process)."""
    env = dict(os.environ, **env_extra)
    env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + env.get("PYTHONPATH", "")
    code = "import mx; ok, msg = mx.kv.nccl_status(); print(int(ok)); print(msg)"
    p = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    assert p.returncode == 0, p.stdout.decode()
    first, msg = p.stdout.decode().split("\n", 1)
    return first.strip() == "1", msg.strip()


def test_missing_library_names_nccl_and_how_to_provide_it(tmp_path):
    path = str(tmp_path / "no" / "libnccl.so.2")
    ok, msg = _status_in_child({"MX_NCCL_LIBRARY": path})
    assert not ok
    for part in ("NCCL", path, "pip install nvidia-nccl-cu13", "MX_NCCL_LIBRARY", "CPU arrays need no NCCL"):
        assert part in msg, (part, msg)


def test_a_library_that_is_not_nccl_is_refused_by_name(tmp_path):
    # libm loads but has none of NCCL's entry points: the first one looked up is named
    libm = "libm.so.6"
    ok, msg = _status_in_child({"MX_NCCL_LIBRARY": libm})
    assert not ok
    assert "has no symbol ncclGetVersion" in msg and "NCCL 2.x" in msg, msg


def test_default_search_reports_a_version_or_the_reason():
    ok, msg = mx.kv.nccl_status()
    if ok:  # an NCCL wheel is installed beside mx or on the loader path
        assert msg.startswith("NCCL 2.") and "libnccl.so.2" in msg, msg
    else:
        assert "libnccl.so.2" in msg and "nvidia-nccl-cu13" in msg, msg


@pytest.mark.skipif(mx.context.num_gpus() > 0, reason="a GPU is usable here (tests/gpu covers it)")
def test_gpu_array_for_a_kvstore_without_gpu_is_the_clear_gpu_error():
    reason = base.ffi.new("const char **")
    base.check_call(base.lib.mx_gpu_status(base.ffi.NULL, base.ffi.NULL, reason))
    kv = mx.kv.create("device")
    with pytest.raises(base.MXNotSupportedError) as info:
        kv.init("w", mx.nd.ones((4,), ctx=mx.gpu(0)))
    assert "gpu(0)" in str(info.value) and base.ffi.string(reason[0]).decode() in str(info.value)


@pytest.mark.parametrize("name", ["nccl", "dist_sync_device"])
def test_single_process_multi_gpu_types_say_what_to_use(name):
    with pytest.raises(base.MXNotSupportedError) as info:
        mx.kv.create(name)
    msg = str(info.value)
    assert "one process per GPU" in msg and "dist_sync" in msg and "mx.tools.launch" in msg, msg


def test_local_kvstore_keeps_cpu_arrays_and_config_names_no_device_backend():
    kv = mx.kv.create("local")
    kv.init("w", mx.nd.ones((3,)))
    kv.push("w", mx.nd.ones((3,)) * 2)
    out = mx.nd.zeros((3,))
    kv.pull("w", out=out)
    assert out.asnumpy().tolist() == [2.0, 2.0, 2.0]
    cfg = kv._config()
    assert cfg["device_backend"] is None and cfg["backend"] == "local"
