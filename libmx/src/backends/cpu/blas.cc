#include "backends/cpu/blas.h"

#include <algorithm>
#include <climits>
#include <mutex>

#include "backends/cpu/parallel.h"
#include "base/error.h"

#ifdef _OPENMP
#include <omp.h>
#endif

// CBLAS declarations: the scipy-openblas32 wheel prefixes every symbol with "scipy_"
// (MX_BLAS_PREFIX_SCIPY set by CMake); a system OpenBLAS has the plain names.
extern "C" {
enum CBLAS_ORDER_ { CblasRowMajor_ = 101 };
enum CBLAS_TRANSPOSE_ { CblasNoTrans_ = 111, CblasTrans_ = 112 };
#ifdef MX_BLAS_PREFIX_SCIPY
#define MX_SGEMM scipy_cblas_sgemm
#define MX_DGEMM scipy_cblas_dgemm
#define MX_BLAS_SET_THREADS scipy_openblas_set_num_threads
#else
#define MX_SGEMM cblas_sgemm
#define MX_DGEMM cblas_dgemm
#define MX_BLAS_SET_THREADS openblas_set_num_threads
#endif
void MX_BLAS_SET_THREADS(int n);
void MX_SGEMM(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);
void MX_DGEMM(int order, int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
              const double *b, int ldb, double beta, double *c, int ldc);
}

namespace mx {

// Threading: OpenBLAS (a pthreads build) runs single-threaded and MX splits large products
// across its own OpenMP threads. A pthreads OpenBLAS called inside an OpenMP region may hang
// (and prints a warning), and kernels such as convolution call GEMM per sample from parallel
// loops; with one threading system there is no nesting and no oversubscription.
namespace {
std::once_flag g_blas_once;
void blas_init() {
  std::call_once(g_blas_once, [] { MX_BLAS_SET_THREADS(1); });
}
// Shrink OpenBLAS's pool when libmx loads: its idle threads otherwise spin beside ours.
const bool g_blas_loaded = (blas_init(), true);
bool in_parallel() {
#ifdef _OPENMP
  return omp_in_parallel() != 0;
#else
  return true;
#endif
}
void check_dims(int64_t m, int64_t n, int64_t k) {
  MX_CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX, MX_ERR_UNSUPPORTED,
           "matrix product too large for 32-bit BLAS: ", m, "x", k, " by ", k, "x", n);
}

template <typename T, typename Call>
void gemm_split(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T *a, int64_t lda,
                const T *b, int64_t ldb, T beta, T *c, int64_t ldc, Call call) {
  if (m == 0 || n == 0) return;
  check_dims(m, n, k);
  blas_init();
  int nt = cpu_num_threads();
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (nt <= 1 || in_parallel() || flops < 2e6) {
    call(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Split the larger side of C into one block per thread (multiples of 16 for the kernels).
  const bool by_rows = m >= n;
  const int64_t len = by_rows ? m : n;
  int64_t chunks = std::min<int64_t>(nt, (len + 15) / 16);
  if (chunks <= 1) {
    call(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t ch = cb; ch < ce; ++ch) {
      int64_t s = (len * ch / chunks) & ~int64_t(15), e = ch + 1 == chunks ? len : (len * (ch + 1) / chunks) & ~int64_t(15);
      if (e <= s) continue;
      if (by_rows) {  // rows of op(A) and C
        const T *as = ta ? a + s : a + s * lda;
        call(ta, tb, e - s, n, k, alpha, as, lda, b, ldb, beta, c + s * ldc, ldc);
      } else {  // columns of op(B) and C
        const T *bs = tb ? b + s * ldb : b + s;
        call(ta, tb, m, e - s, k, alpha, a, lda, bs, ldb, beta, c + s, ldc);
      }
    }
  });
}
}  // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
          const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  gemm_split<float>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                    [](bool ta_, bool tb_, int64_t m_, int64_t n_, int64_t k_, float al, const float *a_, int64_t lda_,
                       const float *b_, int64_t ldb_, float be, float *c_, int64_t ldc_) {
                      MX_SGEMM(CblasRowMajor_, ta_ ? CblasTrans_ : CblasNoTrans_, tb_ ? CblasTrans_ : CblasNoTrans_,
                               static_cast<int>(m_), static_cast<int>(n_), static_cast<int>(k_), al, a_,
                               static_cast<int>(lda_), b_, static_cast<int>(ldb_), be, c_, static_cast<int>(ldc_));
                    });
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double *a, int64_t lda,
          const double *b, int64_t ldb, double beta, double *c, int64_t ldc) {
  gemm_split<double>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                     [](bool ta_, bool tb_, int64_t m_, int64_t n_, int64_t k_, double al, const double *a_,
                        int64_t lda_, const double *b_, int64_t ldb_, double be, double *c_, int64_t ldc_) {
                       MX_DGEMM(CblasRowMajor_, ta_ ? CblasTrans_ : CblasNoTrans_, tb_ ? CblasTrans_ : CblasNoTrans_,
                                static_cast<int>(m_), static_cast<int>(n_), static_cast<int>(k_), al, a_,
                                static_cast<int>(lda_), b_, static_cast<int>(ldb_), be, c_, static_cast<int>(ldc_));
                     });
}

const char *blas_name() {
#ifdef MX_BLAS_PREFIX_SCIPY
  return "scipy-openblas32";
#else
  return "openblas";
#endif
}

}  // namespace mx
