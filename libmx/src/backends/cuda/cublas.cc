// cuBLAS, opened with dlopen on the first GPU matrix product (libmx does not link it: a machine
// without a GPU never needs it, and the wheels are ~600 MB). The entry points used are declared
// in cublas_api.h from cuBLAS's public C API (CUDA 13; tools/check_api_decls.py checks them).
#ifdef MX_HAVE_CUDA
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "backends/cuda/cublas_api.h"
#include "backends/gemm_math.h"
#include "backends/gpu.h"
#include "base/error.h"

namespace mx {
namespace gpu {
namespace {

using cublas::Handle;
using cublas::kOpN;
using cublas::kOpT;

struct Cublas {
  cublas::Api api{};
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
    // Each member of cublas::Api is "cublas" + its name in the library.
    auto sym = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(h, (std::string("cublas") + name).c_str()));
      if (!fn) r.error += std::string(r.error.empty() ? "the loaded libcublas.so.13 lacks " : ", ") + "cublas" + name;
    };
    cublas::Api &a = r.api;
    sym(a.Create_v2, "Create_v2");
    sym(a.SetStream_v2, "SetStream_v2");
    sym(a.SetMathMode, "SetMathMode");
    sym(a.Sgemm_v2, "Sgemm_v2");
    sym(a.Dgemm_v2, "Dgemm_v2");
    sym(a.GemmEx, "GemmEx");
    sym(a.GemmStridedBatchedEx, "GemmStridedBatchedEx");
    sym(a.GetStatusString, "GetStatusString");
    return r;
  }();
  return lib;
}

std::mutex g_handles_mu;
std::vector<Handle> g_handles;  // per device, created on first use, never destroyed

void check_status(int st, const char *op, const char *what) {
  if (st == 0) return;
  const Cublas &c = cublas();
  fail(st == cublas::kAllocFailed ? MX_ERR_OUT_OF_MEMORY : MX_ERR_INTERNAL, op, ": cuBLAS ", what, " failed: ",
       c.api.GetStatusString ? c.api.GetStatusString(st) : "", " (status ", st, ")");
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
    if (!g_handles[static_cast<size_t>(dev)]) {
      check_status(c.api.Create_v2(&g_handles[static_cast<size_t>(dev)]), op, "handle creation");
      // Default math: no TF32 unless a product asks for it through its compute type.
      check_status(c.api.SetMathMode(g_handles[static_cast<size_t>(dev)], cublas::kDefaultMath), op, "math mode");
    }
    h = g_handles[static_cast<size_t>(dev)];
  }
  check_status(c.api.SetStream_v2(h, st), op, "stream binding");
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

int data_type(DType dt, const char *op) {
  switch (dt) {
    case DType::f32: return cublas::kR32F;
    case DType::f64: return cublas::kR64F;
    case DType::f16: return cublas::kR16F;
    case DType::bf16: return cublas::kR16BF;
    default: fail(MX_ERR_TYPE, op, ": the GPU GEMM takes float16, bfloat16, float32 or float64, not ", dtype_name(dt));
  }
}

int compute_type(GemmCompute g) {
  switch (g) {
    case GemmCompute::F64: return cublas::kCompute64F;
    case GemmCompute::F32Pedantic: return cublas::kCompute32FPedantic;
    case GemmCompute::F32FastTF32: return cublas::kCompute32FFastTF32;
    default: return cublas::kCompute32F;
  }
}

}  // namespace

void gemm(int dev, const char *op, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
          int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  if (gemm_compute(DType::f32) != GemmCompute::F32) {  // TF32 allowed: through GemmEx
    gemm_ex(dev, op, DType::f32, ta, tb, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
    return;
  }
  gemm_impl(cublas().api.Sgemm_v2, dev, op, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void gemm(int dev, const char *op, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double *a,
          int64_t lda, const double *b, int64_t ldb, double beta, double *c, int64_t ldc) {
  gemm_impl(cublas().api.Dgemm_v2, dev, op, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// Row-major batch as column-major (operands swapped, as gemm_impl). alpha/beta are float32 for
// every float type but float64 (the compute type's scalar type).
void gemm_ex(int dev, const char *op, DType dt, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
             const void *a, int64_t lda, int64_t stride_a, const void *b, int64_t ldb, int64_t stride_b, double beta,
             void *c, int64_t ldc, int64_t stride_c, int64_t batch) {
  if (m == 0 || n == 0 || batch == 0) return;
  check_dims(op, {m, n, k, lda, ldb, ldc, batch});
  const int type = data_type(dt, op);
  const GemmCompute g = gemm_compute(dt);
  const int compute = compute_type(g);
  const float alpha32 = static_cast<float>(alpha), beta32 = static_cast<float>(beta);
  const void *pa = g == GemmCompute::F64 ? static_cast<const void *>(&alpha) : &alpha32;
  const void *pb = g == GemmCompute::F64 ? static_cast<const void *>(&beta) : &beta32;
  Handle h = handle_for(dev, op);
  const cublas::Api &api = cublas().api;
  const int opa = tb ? kOpT : kOpN, opb = ta ? kOpT : kOpN;
  if (batch == 1) {
    check_status(api.GemmEx(h, opa, opb, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), pa, b, type,
                            static_cast<int>(ldb), a, type, static_cast<int>(lda), pb, c, type, static_cast<int>(ldc),
                            compute, cublas::kGemmDefault),
                 op, "GemmEx");
    return;
  }
  check_status(api.GemmStridedBatchedEx(h, opa, opb, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), pa,
                                        b, type, static_cast<int>(ldb), stride_b, a, type, static_cast<int>(lda),
                                        stride_a, pb, c, type, static_cast<int>(ldc), stride_c,
                                        static_cast<int>(batch), compute, cublas::kGemmDefault),
               op, "GemmStridedBatchedEx");
}

}  // namespace gpu
}  // namespace mx
#endif  // MX_HAVE_CUDA
