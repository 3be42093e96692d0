#include "ops/linalg/dense_la.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "backends/cpu/blas.h"
#include "base/dtype.h"
#include "base/error.h"

// LAPACKE/CBLAS from the same OpenBLAS as the GEMM calls (the scipy-openblas32 wheel prefixes its
// symbols with scipy_; 32-bit integers in both builds).
#ifdef MX_BLAS_PREFIX_SCIPY
#define MX_LA(name) scipy_##name
#else
#define MX_LA(name) name
#endif
extern "C" {
int MX_LA(LAPACKE_dpotrf)(int layout, char uplo, int n, double *a, int lda);
int MX_LA(LAPACKE_dpotri)(int layout, char uplo, int n, double *a, int lda);
int MX_LA(LAPACKE_dgetrf)(int layout, int m, int n, double *a, int lda, int *ipiv);
int MX_LA(LAPACKE_dgetri)(int layout, int n, double *a, int lda, const int *ipiv);
int MX_LA(LAPACKE_dgelqf)(int layout, int m, int n, double *a, int lda, double *tau);
int MX_LA(LAPACKE_dorglq)(int layout, int m, int n, int k, double *a, int lda, const double *tau);
int MX_LA(LAPACKE_dsyevd)(int layout, char jobz, char uplo, int n, double *a, int lda, double *w);
void MX_LA(cblas_dtrsm)(int order, int side, int uplo, int trans, int diag, int m, int n, double alpha,
                        const double *a, int lda, double *b, int ldb);
void MX_LA(cblas_dtrmm)(int order, int side, int uplo, int trans, int diag, int m, int n, double alpha,
                        const double *a, int lda, double *b, int ldb);
}

namespace mx {
namespace la {
namespace {
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112, kUpper = 121, kLower = 122, kNonUnit = 131,
              kLeft = 141, kRight = 142;

int lapack_dim(int64_t n, const char *op) {
  MX_CHECK(n <= INT_MAX, MX_ERR_UNSUPPORTED, op, ": matrix dimension ", n, " too large for 32-bit LAPACK");
  return static_cast<int>(n);
}
}  // namespace

Mat Mat::t() const {
  Mat r(cols, rows);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) r.at(j, i) = at(i, j);
  return r;
}

Batch batch_of(const Shape &s, const char *op, const char *what) {
  MX_CHECK(s.ndim() >= 2, MX_ERR_SHAPE, op, ": input '", what, "' must have at least 2 dimensions, got shape ",
           s.str());
  Batch b;
  b.rows = s[s.ndim() - 2];
  b.cols = s[s.ndim() - 1];
  b.count = s.prod(0, s.ndim() - 2);
  return b;
}

Batch square_batch_of(const Shape &s, const char *op, const char *what) {
  Batch b = batch_of(s, op, what);
  MX_CHECK(b.rows == b.cols, MX_ERR_SHAPE, op, ": input '", what, "' must be a tensor of square matrices, got shape ",
           s.str());
  return b;
}

Shape per_matrix_shape(const Shape &s) {
  if (s.ndim() <= 2) return Shape({1});
  return Shape(std::vector<int64_t>(s.dims().begin(), s.dims().end() - 2));
}

Mat load(const NDArray &a, const Batch &b, int64_t index) {
  Mat m(b.rows, b.cols);
  const int64_t n = b.rows * b.cols;
  MX_DTYPE_SWITCH_FLOAT(a.dtype(), T, "linalg", {
    const T *p = a.data<T>() + index * n;
    for (int64_t i = 0; i < n; ++i) m.v[static_cast<size_t>(i)] = static_cast<double>(p[i]);
  });
  return m;
}

void store(const NDArray &a, const Batch &b, int64_t index, const Mat &m) {
  const int64_t n = b.rows * b.cols;
  MX_DTYPE_SWITCH_FLOAT(a.dtype(), T, "linalg", {
    T *p = a.data<T>() + index * n;
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(m.v[static_cast<size_t>(i)]);
  });
}

double load_scalar(const NDArray &a, int64_t index) {
  double v = 0;
  MX_DTYPE_SWITCH_FLOAT(a.dtype(), T, "linalg", { v = static_cast<double>(a.data<T>()[index]); });
  return v;
}

void store_scalar(const NDArray &a, int64_t index, double v) {
  MX_DTYPE_SWITCH_FLOAT(a.dtype(), T, "linalg", { a.data<T>()[index] = static_cast<T>(v); });
}

Mat matmul(const Mat &a, bool ta, const Mat &b, bool tb, double alpha) {
  const int64_t m = ta ? a.cols : a.rows, k = ta ? a.rows : a.cols, n = tb ? b.rows : b.cols;
  Mat c(m, n);
  gemm(ta, tb, m, n, k, alpha, a.data(), a.cols, b.data(), b.cols, 0.0, c.data(), n);
  return c;
}

void trsm(const Mat &a, Mat &b, bool rightside, bool lower, bool trans, double alpha) {
  if (b.rows == 0 || b.cols == 0) return;
  MX_LA(cblas_dtrsm)(kRowMajor, rightside ? kRight : kLeft, lower ? kLower : kUpper, trans ? kTrans : kNoTrans,
                     kNonUnit, lapack_dim(b.rows, "linalg_trsm"), lapack_dim(b.cols, "linalg_trsm"), alpha, a.data(),
                     static_cast<int>(a.cols), b.data(), static_cast<int>(b.cols));
}

void trmm(const Mat &a, Mat &b, bool rightside, bool lower, bool trans, double alpha) {
  if (b.rows == 0 || b.cols == 0) return;
  MX_LA(cblas_dtrmm)(kRowMajor, rightside ? kRight : kLeft, lower ? kLower : kUpper, trans ? kTrans : kNoTrans,
                     kNonUnit, lapack_dim(b.rows, "linalg_trmm"), lapack_dim(b.cols, "linalg_trmm"), alpha, a.data(),
                     static_cast<int>(a.cols), b.data(), static_cast<int>(b.cols));
}

void keep_triangle(Mat &m, bool keep_lower) {
  for (int64_t i = 0; i < m.rows; ++i)
    for (int64_t j = 0; j < m.cols; ++j)
      if (keep_lower ? j > i : j < i) m.at(i, j) = 0.0;
}

void lower_to_symmetric(Mat &m) {
  for (int64_t i = 0; i < m.rows; ++i)
    for (int64_t j = i + 1; j < m.cols; ++j) m.at(i, j) = m.at(j, i);
}

Mat cholesky_lower(const Mat &a, const char *op, int64_t index) {
  Mat l = a;
  if (l.rows == 0) return l;
  int info = MX_LA(LAPACKE_dpotrf)(kRowMajor, 'L', lapack_dim(l.rows, op), l.data(), static_cast<int>(l.cols));
  MX_CHECK(info == 0, MX_ERR_INVALID_ARGUMENT, op, ": matrix ", index,
           " of the batch is not symmetric positive definite (Cholesky factorisation failed at column ", info, ")");
  keep_triangle(l, true);
  return l;
}

Mat inverse_from_cholesky(const Mat &l, const char *op, int64_t index) {
  Mat r = l;
  if (r.rows == 0) return r;
  keep_triangle(r, true);
  int info = MX_LA(LAPACKE_dpotri)(kRowMajor, 'L', lapack_dim(r.rows, op), r.data(), static_cast<int>(r.cols));
  MX_CHECK(info == 0, MX_ERR_INVALID_ARGUMENT, op, ": matrix ", index,
           " of the batch is not a valid Cholesky factor (zero on the diagonal at ", info, ")");
  lower_to_symmetric(r);
  return r;
}

Mat inverse(const Mat &a, const char *op, int64_t index) {
  Mat r = a;
  if (r.rows == 0) return r;
  const int n = lapack_dim(r.rows, op);
  std::vector<int> piv(static_cast<size_t>(n));
  int info = MX_LA(LAPACKE_dgetrf)(kRowMajor, n, n, r.data(), n, piv.data());
  MX_CHECK(info == 0, MX_ERR_INVALID_ARGUMENT, op, ": matrix ", index, " of the batch is singular (not invertible)");
  info = MX_LA(LAPACKE_dgetri)(kRowMajor, n, r.data(), n, piv.data());
  MX_CHECK(info == 0, MX_ERR_INVALID_ARGUMENT, op, ": matrix ", index, " of the batch is singular (not invertible)");
  return r;
}

void lq(const Mat &a, Mat &q, Mat &l, const char *op, int64_t index) {
  MX_CHECK(a.rows <= a.cols, MX_ERR_SHAPE, op, ": input matrices must have no more rows than columns, got ",
           a.rows, "x", a.cols);
  const int m = lapack_dim(a.rows, op), n = lapack_dim(a.cols, op);
  q = a;
  l = Mat(a.rows, a.rows);
  if (m == 0) return;
  std::vector<double> tau(static_cast<size_t>(m));
  int info = MX_LA(LAPACKE_dgelqf)(kRowMajor, m, n, q.data(), n, tau.data());
  MX_CHECK(info == 0, MX_ERR_INTERNAL, op, ": LQ factorisation of matrix ", index, " failed (", info, ")");
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t j = 0; j <= i; ++j) l.at(i, j) = q.at(i, j);
  info = MX_LA(LAPACKE_dorglq)(kRowMajor, m, n, m, q.data(), n, tau.data());
  MX_CHECK(info == 0, MX_ERR_INTERNAL, op, ": forming Q of matrix ", index, " failed (", info, ")");
}

void symmetric_eigen(const Mat &a, Mat &u, std::vector<double> &w, const char *op, int64_t index) {
  Mat vecs = a;
  w.assign(static_cast<size_t>(a.rows), 0.0);
  if (a.rows == 0) {
    u = vecs;
    return;
  }
  const int n = lapack_dim(a.rows, op);
  int info = MX_LA(LAPACKE_dsyevd)(kRowMajor, 'V', 'L', n, vecs.data(), n, w.data());
  MX_CHECK(info == 0, MX_ERR_INVALID_ARGUMENT, op, ": eigendecomposition of matrix ", index, " did not converge (",
           info, ")");
  u = vecs.t();  // LAPACK returns eigenvectors as columns; MXNet's U holds them as rows
  // Deterministic signs (as MXNet): the largest-magnitude entry of each row is positive, the
  // first one on ties.
  for (int64_t i = 0; i < u.rows; ++i) {
    int64_t k = 0;
    for (int64_t j = 1; j < u.cols; ++j)
      if (std::fabs(u.at(i, j)) > std::fabs(u.at(i, k))) k = j;
    if (u.at(i, k) < 0)
      for (int64_t j = 0; j < u.cols; ++j) u.at(i, j) = -u.at(i, j);
  }
}

void sign_logdet(const Mat &a, double &sign, double &logabsdet) {
  sign = 1.0;
  logabsdet = 0.0;
  if (a.rows == 0) return;
  Mat lu = a;
  const int n = lapack_dim(a.rows, "linalg_det");
  std::vector<int> piv(static_cast<size_t>(n));
  MX_LA(LAPACKE_dgetrf)(kRowMajor, n, n, lu.data(), n, piv.data());  // info > 0: exact zero pivot, handled below
  for (int i = 0; i < n; ++i) {
    const double d = lu.at(i, i);
    if (piv[static_cast<size_t>(i)] != i + 1) sign = -sign;
    if (d == 0.0 || std::isnan(d)) {
      sign = std::isnan(d) ? d : 0.0;
      logabsdet = std::isnan(d) ? d : -INFINITY;
      return;
    }
    if (d < 0) sign = -sign;
    logabsdet += std::log(std::fabs(d));
  }
}

}  // namespace la
}  // namespace mx
