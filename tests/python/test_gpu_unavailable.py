"""The one libmx on a machine without a usable GPU (this machine, CI): it loads, reports 0 GPUs
and says why, and every GPU request fails with MXNotSupportedError naming the reason — never a
crash. On a machine with a GPU these tests skip; tests/gpu (make test-gpu) covers that side."""
import ctypes
import glob
import os
import sys

import numpy as np
import pytest

import mx
from mx import base


def _status():
    compiled, count, reason = base.ffi.new("int *"), base.ffi.new("int *"), base.ffi.new("const char **")
    base.check_call(base.lib.mx_gpu_status(compiled, count, reason))
    return bool(compiled[0]), count[0], base.ffi.string(reason[0]).decode()


def _driver_loadable():
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


needs_no_gpu = pytest.mark.skipif(mx.context.num_gpus() > 0, reason="a GPU is usable here (make test-gpu)")


def _wheel_nvcc():
    """nvcc of pyproject.toml's `cuda` extra in this interpreter's environment, if installed."""
    for sp in sys.path:
        hits = glob.glob(os.path.join(sp, "nvidia", "cu13", "bin", "nvcc"))
        if hits:
            return hits[0]
    return None


def test_build_has_cuda_backend_when_toolchain_is_installed():
    # `make deps` installs the toolchain; then `make build` must have compiled the backend (a
    # configure that silently fell back to CPU-only would leave every .cu file untested).
    if _wheel_nvcc() is None:
        pytest.skip("the CUDA toolchain wheel is not installed in this environment")
    if os.environ.get("MX_LIBRARY"):
        pytest.skip("MX_LIBRARY names another build (make test-asan's is CPU-only by design); "
                    "this checks the libmx that make build installs")
    compiled, _, _ = _status()
    assert compiled, ("nvcc is installed (%s) but libmx was built without the CUDA backend (configured with "
                      "-DMX_CUDA=OFF, or CMake did not find it)" % _wheel_nvcc())
    assert mx.runtime.Features().is_enabled("CUDA")


def test_status_agrees_with_features_and_count():
    compiled, count, reason = _status()
    assert compiled == bool(base.features()["cuda"])
    assert count == mx.context.num_gpus() == mx.num_gpus() == mx.util.get_gpu_count()
    assert (reason == "") == (count > 0)


@needs_no_gpu
def test_reason_names_the_missing_piece():
    compiled, count, reason = _status()
    assert count == 0
    if not compiled:
        assert "no CUDA backend" in reason
    elif not _driver_loadable():
        assert "no NVIDIA driver" in reason and "libcuda.so.1" in reason
    else:
        assert "driver" in reason or "no CUDA-capable GPU" in reason


@needs_no_gpu
def test_gpu_context_error_says_why():
    _, _, reason = _status()
    with pytest.raises(base.MXNotSupportedError) as info:
        mx.gpu(0)
    assert "mx.gpu(0)" in str(info.value) and reason in str(info.value)
    assert isinstance(info.value, NotImplementedError)
    with pytest.raises(base.MXNotSupportedError):
        mx.gpu(3)


@needs_no_gpu
@pytest.mark.parametrize("make", [
    lambda ctx: mx.nd.zeros((2, 3), ctx=ctx),
    lambda ctx: mx.nd.array(np.arange(6.0).reshape(2, 3), ctx=ctx),
    lambda ctx: mx.nd.ones((4,)).as_in_context(ctx),
    lambda ctx: mx.nd.ones((4,)).copyto(ctx),
    lambda ctx: mx.nd.random.uniform(shape=(3,), ctx=ctx),
])
def test_gpu_arrays_raise_clear_error(make):
    _, _, reason = _status()
    with pytest.raises(base.MXNotSupportedError) as info:
        make(mx.Context("gpu", 0))
    msg = str(info.value)
    assert "gpu(0)" in msg and reason in msg


@needs_no_gpu
def test_gpu_memory_functions_raise_clear_error():
    with pytest.raises(base.MXNotSupportedError) as info:
        mx.context.gpu_memory_info(0)
    assert "gpu(0)" in str(info.value)
    with pytest.raises(base.MXNotSupportedError):
        mx.Context("gpu", 1).empty_cache()
    mx.cpu().empty_cache()  # a no-op on the CPU


def test_sync_points_work_without_gpu():
    a = mx.nd.ones((3,)) * 2
    a.wait_to_read()
    mx.nd.waitall()
    np.testing.assert_array_equal(a.asnumpy(), np.full(3, 2.0, np.float32))


def test_registry_lists_gpu_kernels_consistently():
    # Every op says whether it has a GPU kernel; a build without CUDA has none.
    import json
    compiled, _, _ = _status()
    schemas = [json.loads(s) for s in _all_schemas()]
    assert schemas and all("has_gpu_kernel" in s for s in schemas)
    if not compiled:
        assert not any(s["has_gpu_kernel"] for s in schemas)


def _all_schemas():
    count = base.ffi.new("int *")
    base.check_call(base.lib.mx_op_count(count))
    out = []
    for i in range(count[0]):
        name = base.ffi.new("const char **")
        base.check_call(base.lib.mx_op_name(i, name))
        op = base.ffi.new("mx_op_t *")
        base.check_call(base.lib.mx_op_find(name[0], op))
        js = base.ffi.new("const char **")
        base.check_call(base.lib.mx_op_schema(op[0], js))
        out.append(base.ffi.string(js[0]).decode())
    return out


def test_cuda_build_registers_elementwise_gpu_kernels():
    # The element-wise families share their formulas with CUDA kernels (ops/formulas/); a CUDA
    # build registers those kernels for every member (forward, scalar and fused backward forms).
    import json
    compiled, _, _ = _status()
    if not compiled:
        pytest.skip("build without the CUDA backend")
    has = {}
    for s in _all_schemas():
        d = json.loads(s)
        has[d["name"]] = d["has_gpu_kernel"]
    expected = ["elemwise_add", "broadcast_add", "_plus_scalar", "_rminus_scalar", "broadcast_div", "_mod",
                "broadcast_power", "_rpower_scalar", "broadcast_hypot", "broadcast_logical_xor",
                "_backward_broadcast_maximum", "abs", "sign", "relu", "rint", "exp", "tanh", "sigmoid",
                "erfinv", "gammaln", "_backward_erfinv", "_backward_gamma", "identity", "zeros_like", "Cast",
                "_random_uniform", "_random_normal", "_random_randint", "_random_exponential",
                "dot", "_backward_dot", "batch_dot", "FullyConnected", "_backward_FullyConnected",
                "sum", "mean", "prod", "max", "min", "nansum", "nanprod", "norm", "broadcast_to", "_sum_to",
                "_reshape_to"]
    missing = [n for n in expected if not has.get(n)]
    assert not missing, "no GPU kernel registered for %s" % missing


def test_cuda_build_registers_cudnn_kernels():
    # Convolution, Deconvolution, Pooling and BatchNorm (and their backward ops) run on cuDNN in
    # a CUDA build; convolution and pooling also take float16 and bfloat16 natively there
    # (gpu_dtypes), which a build without CUDA never advertises. The executor's fused ops stay CPU-only.
    import json
    compiled, _, _ = _status()
    schemas = {d["name"]: d for d in (json.loads(s) for s in _all_schemas())}
    cudnn_ops = ["Convolution", "_backward_Convolution", "Deconvolution", "_backward_Deconvolution", "Pooling",
                 "_backward_Pooling", "BatchNorm", "_backward_BatchNorm"]
    for n in cudnn_ops:
        assert schemas[n]["has_gpu_kernel"] == bool(compiled), n
        f16 = n not in ("BatchNorm", "_backward_BatchNorm") and compiled
        want = ["float16", "bfloat16"] if f16 else []  # bfloat16 on cuDNN: sm_80+
        assert schemas[n]["gpu_dtypes"] == want, n
    for n in ("_fused_Convolution_relu", "_fused_backward_Pooling_relu", "_fused_Convolution_BatchNorm"):
        if n in schemas:
            assert not schemas[n]["has_gpu_kernel"], n
    assert all(s["gpu_dtypes"] == [] for s in schemas.values() if not s["has_gpu_kernel"])
