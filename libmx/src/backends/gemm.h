// GEMM for kernels shared by the CPU and the GPU (dot, batch_dot, FullyConnected, linalg_gemm):
// the same kernel code runs on either device, and this picks OpenBLAS (backends/cpu/blas.h) or
// cuBLAS (backends/gpu.h) by the arrays' device. float16/bfloat16 exist only on the GPU side
// (cuBLAS GemmEx, float32 accumulation): ops list them in gpu_dtypes, so on the CPU invoke_raw
// runs them through float32 and these element types never reach a CPU GEMM.
#pragma once
#include <cstdint>
#include <type_traits>

#include "backends/cpu/blas.h"
#include "backends/gpu.h"
#include "ndarray/storage.h"

namespace mx {

// float32/float64 on either device, plus float16/bfloat16 on the GPU (ops with
// .gpu_dtypes({DType::f16, DType::bf16})).
#define MX_DTYPE_SWITCH_GEMM(dt, T, opname, ...)                                                 \
  switch (dt) {                                                                                 \
    MX_DTYPE_CASE(::mx::DType::f32, T, __VA_ARGS__)                                             \
    MX_DTYPE_CASE(::mx::DType::f64, T, __VA_ARGS__)                                             \
    MX_DTYPE_CASE(::mx::DType::f16, T, __VA_ARGS__)                                             \
    MX_DTYPE_CASE(::mx::DType::bf16, T, __VA_ARGS__)                                            \
    default: ::mx::fail(MX_ERR_TYPE, opname, ": dtype ", ::mx::dtype_name(dt),                 \
                        " is not supported (float16, bfloat16, float32 or float64)");          \
  }

template <typename T> constexpr DType gemm_dtype() {
  if constexpr (std::is_same_v<T, float>) return DType::f32;
  else if constexpr (std::is_same_v<T, double>) return DType::f64;
  else if constexpr (std::is_same_v<T, half_t>) return DType::f16;
  else return DType::bf16;
}

struct DeviceGemm {
  Device dev;
  const char *op;
  // C = alpha op(A) op(B) + beta C (row-major). alpha/beta are given in T and passed to cuBLAS in
  // the compute type (float32 for float16/bfloat16).
  template <typename T>
  void operator()(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t lda, const T *b,
                  int64_t ldb, T beta, T *c, int64_t ldc) const {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      if (dev.is_cpu()) gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      else gpu::gemm(dev.id, op, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else {
      batched(ta, tb, m, n, k, static_cast<float>(alpha), a, lda, 0, b, ldb, 0, static_cast<float>(beta), c, ldc, 0, 1);
    }
  }
  // `batch` products, operand i at a + i * sa (etc.): one cuBLAS call on the GPU, a loop of GEMMs
  // on the CPU. alpha/beta stay double until the compute type (so float16 data keeps an exact
  // float32 alpha such as 0.1f).
  template <typename T>
  void batched(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const T *a, int64_t lda, int64_t sa,
               const T *b, int64_t ldb, int64_t sb, double beta, T *c, int64_t ldc, int64_t sc, int64_t batch) const {
    if (dev.is_cpu()) {
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        for (int64_t i = 0; i < batch; ++i)
          gemm(ta, tb, m, n, k, static_cast<T>(alpha), a + i * sa, lda, b + i * sb, ldb, static_cast<T>(beta),
               c + i * sc, ldc);
      } else {
        fail(MX_ERR_INTERNAL, op, ": a float16/bfloat16 GEMM reached the CPU (it runs through float32 there)");
      }
    } else {
      gpu::gemm_ex(dev.id, op, gemm_dtype<T>(), ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch);
    }
  }
  // Zero n elements at p (a kernel output).
  template <typename T> void zero(T *p, int64_t n) const {
    if (n <= 0) return;
    if (dev.is_cpu()) {
      for (int64_t i = 0; i < n; ++i) p[i] = T(0);
    } else {
      const T z = T(0);
      gpu::fill(dev.id, p, &z, sizeof(T), static_cast<size_t>(n));
    }
  }
};

}  // namespace mx
