// Row-major GEMM through the BLAS chosen at build time (OpenBLAS from the scipy-openblas32 wheel,
// whose symbols carry a scipy_ prefix, or the system's). C = alpha * op(A) op(B) + beta * C.
#pragma once
#include <cstdint>

namespace mx {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
          int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double *a,
          int64_t lda, const double *b, int64_t ldb, double beta, double *c, int64_t ldc);
const char *blas_name();

}  // namespace mx
