"""mx.runtime: which features this build of MX has (MXNet's Features / feature_list API),
read from the core (mx_features)."""
import collections

from .base import features as _core_features

# MXNet's feature names; those not listed here are reported as disabled.
_MXNET_NAMES = ["CUDA", "CUDNN", "NCCL", "CUDA_RTC", "TENSORRT", "CPU_SSE", "CPU_SSE2", "CPU_SSE3",
                "CPU_SSE4_1", "CPU_SSE4_2", "CPU_SSE4A", "CPU_AVX", "CPU_AVX2", "OPENMP", "SSE", "F16C",
                "JEMALLOC", "BLAS_OPEN", "BLAS_ATLAS", "BLAS_MKL", "BLAS_APPLE", "LAPACK", "MKLDNN",
                "OPENCV", "CAFFE", "PROFILER", "DIST_KVSTORE", "CXX14", "INT64_TENSOR_SIZE",
                "SIGNAL_HANDLER", "DEBUG", "TVM_OP"]


class Feature:
    """One compile-time feature: name and whether this build has it."""

    def __init__(self, name, enabled):
        self.name = name
        self.enabled = bool(enabled)

    def __repr__(self):
        return "%s %s" % ("\u2714" if self.enabled else "\u2716", self.name)


def _enabled():
    core = _core_features()
    blas = str(core.get("blas", "")).lower()
    on = {"CUDA": bool(core.get("cuda")), "OPENMP": bool(core.get("openmp")), "MKLDNN": bool(core.get("dnnl")),
          "BLAS_OPEN": "openblas" in blas, "BLAS_MKL": "mkl" in blas, "LAPACK": bool(blas),
          "CXX14": True, "INT64_TENSOR_SIZE": True}
    return on


def feature_list():
    """Every feature MXNet names, with this build's setting."""
    on = _enabled()
    return [Feature(n, on.get(n, False)) for n in _MXNET_NAMES]


class Features(collections.OrderedDict):
    """Features()['CUDA'].enabled, Features().is_enabled('CUDA')."""

    def __init__(self):
        super().__init__((f.name, f) for f in feature_list())

    def __repr__(self):
        return str(list(self.values()))

    def is_enabled(self, feature_name):
        name = feature_name.upper()
        if name not in self:
            raise RuntimeError("Feature '%s' is unknown, known features are: %s" % (feature_name, list(self.keys())))
        return self[name].enabled


# ---------------------------------------------------------------- CPU threads and oneDNN (MX's own)
def set_num_threads(num_threads):
    """Threads MX's CPU kernels (and oneDNN's) use from now on; 0 restores the default
    (MX_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs this process may run on)."""
    from .base import check_call, lib
    if isinstance(num_threads, bool) or not isinstance(num_threads, int):
        raise TypeError("set_num_threads: num_threads must be an int, got %r" % (num_threads,))
    check_call(lib.mx_set_num_threads(num_threads))


def get_num_threads():
    """Threads MX's CPU kernels use now."""
    from .base import check_call, ffi, lib
    out = ffi.new("int *")
    check_call(lib.mx_get_num_threads(out))
    return out[0]


def onednn_status():
    """(built, enabled, calls): whether this libmx has oneDNN kernels, whether they run now, and
    how many oneDNN primitives ran since load (which ops took the oneDNN path)."""
    from .base import check_call, ffi, lib
    built, enabled, calls = ffi.new("int *"), ffi.new("int *"), ffi.new("int64_t *")
    check_call(lib.mx_onednn_status(built, enabled, calls))
    return bool(built[0]), bool(enabled[0]), int(calls[0])


def onednn_weight_cache_stats():
    """(hits, misses): oneDNN weights reused from their cached blocked layout, and reordered
    afresh, since load (a weight is reordered once per version of its data; docs/ONEDNN.md)."""
    from .base import check_call, ffi, lib
    hits, misses = ffi.new("int64_t *"), ffi.new("int64_t *")
    check_call(lib.mx_onednn_weight_cache_stats(hits, misses))
    return int(hits[0]), int(misses[0])


def set_onednn_enabled(enabled):
    """Run the oneDNN kernels (True) or bypass them for MX's own (False); returns the previous
    setting. Enabling in a build without oneDNN raises MXNotSupportedError."""
    from .base import check_call, lib
    prev = onednn_status()[1]
    check_call(lib.mx_onednn_set_enabled(1 if enabled else 0))
    return prev
