// GEMM for kernels shared by the CPU and the GPU (dot, batch_dot, FullyConnected): the same kernel
// code runs on either device, and this picks OpenBLAS (backends/cpu/blas.h) or cuBLAS
// (backends/gpu.h) by the arrays' device.
#pragma once
#include <cstdint>

#include "backends/cpu/blas.h"
#include "backends/gpu.h"
#include "ndarray/storage.h"

namespace mx {

struct DeviceGemm {
  Device dev;
  const char *op;
  template <typename T>
  void operator()(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t lda, const T *b,
                  int64_t ldb, T beta, T *c, int64_t ldc) const {
    if (dev.is_cpu()) gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    else gpu::gemm(dev.id, op, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
