// cuBLAS, opened with dlopen on the first GPU matrix product (libmx does not link it: a machine
// without a GPU never needs it, and the wheels are ~600 MB). The few entry points used are
// declared here from cuBLAS's public C API (cublas_v2.h, CUDA 13): the handle is opaque,
// statuses and operations are ints.
#ifdef MX_HAVE_CUDA
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "backends/gpu.h"
#include "base/error.h"

namespace mx {
namespace gpu {
namespace {

using Handle = void *;  // cublasHandle_t
constexpr int kOpN = 0, kOpT = 1;  // cublasOperation_t
using CreateFn = int (*)(Handle *);
using SetStreamFn = int (*)(Handle, cudaStream_t);
using SgemmFn = int (*)(Handle, int, int, int, int, int, const float *, const float *, int, const float *, int,
                        const float *, float *, int);
using DgemmFn = int (*)(Handle, int, int, int, int, int, const double *, const double *, int, const double *, int,
                        const double *, double *, int);
using StatusStringFn = const char *(*)(int);

struct Cublas {
  CreateFn create = nullptr;
  SetStreamFn set_stream = nullptr;
  SgemmFn sgemm = nullptr;
  DgemmFn dgemm = nullptr;
  StatusStringFn status_string = nullptr;
  std::string error;  // why it could not be loaded
};

// Where libcublas.so.13 may be: MX_CUBLAS_LIBRARY, the loader's search path, then beside an
// installed mx package (site-packages/mx/libmx.so -> site-packages/nvidia/cu13/lib, where
// pyproject.toml's cuda-libs extra puts it).
std::vector<std::string> candidates() {
  std::vector<std::string> c;
  if (const char *env = std::getenv("MX_CUBLAS_LIBRARY")) c.push_back(env);
  c.push_back("libcublas.so.13");
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&candidates), &info) && info.dli_fname) {
    std::string self = info.dli_fname;
    std::string dir = self.substr(0, self.find_last_of('/') + 1);
    c.push_back(dir + "../nvidia/cu13/lib/libcublas.so.13");
  }
  return c;
}

const Cublas &cublas() {
  static const Cublas lib = [] {
    Cublas r;
    void *h = nullptr;
    std::string tried;
    for (const std::string &path : candidates()) {
      h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (h) break;
      const char *e = dlerror();
      tried += (tried.empty() ? "" : "; ") + std::string(e ? e : path);
    }
    if (!h) {
      r.error = "cuBLAS 13 (libcublas.so.13) could not be loaded (" + tried +
                "); install it with pip install nvidia-cublas (pyproject.toml's cuda-libs extra) or set "
                "MX_CUBLAS_LIBRARY to the library's path";
      return r;
    }
    r.create = reinterpret_cast<CreateFn>(dlsym(h, "cublasCreate_v2"));
    r.set_stream = reinterpret_cast<SetStreamFn>(dlsym(h, "cublasSetStream_v2"));
    r.sgemm = reinterpret_cast<SgemmFn>(dlsym(h, "cublasSgemm_v2"));
    r.dgemm = reinterpret_cast<DgemmFn>(dlsym(h, "cublasDgemm_v2"));
    r.status_string = reinterpret_cast<StatusStringFn>(dlsym(h, "cublasGetStatusString"));
    if (!r.create || !r.set_stream || !r.sgemm || !r.dgemm)
      r.error = "the loaded libcublas.so.13 lacks cublasCreate_v2/cublasSetStream_v2/cublasSgemm_v2/cublasDgemm_v2";
    return r;
  }();
  return lib;
}

std::mutex g_handles_mu;
std::vector<Handle> g_handles;  // per device, created on first use, never destroyed

void check_status(int st, const char *op, const char *what) {
  if (st == 0) return;
  const Cublas &c = cublas();
  fail(st == 3 ? MX_ERR_OUT_OF_MEMORY : MX_ERR_INTERNAL, op, ": cuBLAS ", what, " failed: ",
       c.status_string ? c.status_string(st) : "", " (status ", st, ")");
}

// The device's handle, bound to its compute stream.
Handle handle_for(int dev, const char *op) {
  const Cublas &c = cublas();
  if (!c.error.empty()) fail(MX_ERR_UNSUPPORTED, op, " on gpu(", dev, "): ", c.error);
  cudaStream_t st = static_cast<cudaStream_t>(compute_stream(dev, op));  // also selects the device
  Handle h;
  {
    std::lock_guard<std::mutex> g(g_handles_mu);
    if (g_handles.size() <= static_cast<size_t>(dev)) g_handles.resize(static_cast<size_t>(dev) + 1, nullptr);
    if (!g_handles[static_cast<size_t>(dev)]) check_status(c.create(&g_handles[static_cast<size_t>(dev)]), op, "handle creation");
    h = g_handles[static_cast<size_t>(dev)];
  }
  check_status(c.set_stream(h, st), op, "stream binding");
  return h;
}

void check_dims(const char *op, std::initializer_list<int64_t> dims) {
  for (int64_t d : dims)
    MX_CHECK(d <= INT_MAX, MX_ERR_UNSUPPORTED, op, ": a matrix dimension of ", d,
             " is too large for the GPU GEMM (at most ", INT_MAX, ")");
}

// Row-major C (m x n) = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands.
template <typename T, typename F>
void gemm_impl(F fn, int dev, const char *op, bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T *a,
               int64_t lda, const T *b, int64_t ldb, T beta, T *c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  check_dims(op, {m, n, k, lda, ldb, ldc});
  Handle h = handle_for(dev, op);
  check_status(fn(h, tb ? kOpT : kOpN, ta ? kOpT : kOpN, static_cast<int>(n), static_cast<int>(m),
                  static_cast<int>(k), &alpha, b, static_cast<int>(ldb), a, static_cast<int>(lda), &beta, c,
                  static_cast<int>(ldc)),
               op, "gemm");
}

}  // namespace

void gemm(int dev, const char *op, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
          int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  gemm_impl(cublas().sgemm, dev, op, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void gemm(int dev, const char *op, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double *a,
          int64_t lda, const double *b, int64_t ldb, double beta, double *c, int64_t ldc) {
  gemm_impl(cublas().dgemm, dev, op, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace gpu
}  // namespace mx
#endif  // MX_HAVE_CUDA
