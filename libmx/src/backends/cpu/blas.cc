#include "backends/cpu/blas.h"

#include <climits>

#include "base/error.h"

// CBLAS declarations: the scipy-openblas32 wheel prefixes every symbol with "scipy_"
// (MX_BLAS_PREFIX_SCIPY set by CMake); a system OpenBLAS has the plain names.
extern "C" {
enum CBLAS_ORDER_ { CblasRowMajor_ = 101 };
enum CBLAS_TRANSPOSE_ { CblasNoTrans_ = 111, CblasTrans_ = 112 };
#ifdef MX_BLAS_PREFIX_SCIPY
#define MX_SGEMM scipy_cblas_sgemm
#define MX_DGEMM scipy_cblas_dgemm
#else
#define MX_SGEMM cblas_sgemm
#define MX_DGEMM cblas_dgemm
#endif
void MX_SGEMM(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);
void MX_DGEMM(int order, int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
              const double *b, int ldb, double beta, double *c, int ldc);
}

namespace mx {

namespace {
void check_dims(int64_t m, int64_t n, int64_t k) {
  MX_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX, MX_ERR_UNSUPPORTED,
           "matrix product too large for 32-bit BLAS: ", m, "x", k, " by ", k, "x", n);
}
}  // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
          const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  check_dims(m, n, k);
  MX_SGEMM(CblasRowMajor_, ta ? CblasTrans_ : CblasNoTrans_, tb ? CblasTrans_ : CblasNoTrans_,
           static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda),
           b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double *a, int64_t lda,
          const double *b, int64_t ldb, double beta, double *c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  check_dims(m, n, k);
  MX_DGEMM(CblasRowMajor_, ta ? CblasTrans_ : CblasNoTrans_, tb ? CblasTrans_ : CblasNoTrans_,
           static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda),
           b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

const char *blas_name() {
#ifdef MX_BLAS_PREFIX_SCIPY
  return "scipy-openblas32";
#else
  return "openblas";
#endif
}

}  // namespace mx
