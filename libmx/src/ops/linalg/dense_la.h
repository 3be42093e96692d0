// Small dense linear algebra for the linalg_* operators: batches of row-major matrices on the last
// two axes, computed in double through the build's LAPACK/CBLAS (OpenBLAS). float32 inputs are
// widened per matrix, so the factorisations of both dtypes share one code path.
#pragma once
#include <cstdint>
#include <vector>

#include "ndarray/ndarray.h"

namespace mx {
namespace la {

struct Mat {
  int64_t rows = 0, cols = 0;
  std::vector<double> v;
  Mat() = default;
  Mat(int64_t r, int64_t c) : rows(r), cols(c), v(static_cast<size_t>(r * c), 0.0) {}
  double &at(int64_t i, int64_t j) { return v[static_cast<size_t>(i * cols + j)]; }
  double at(int64_t i, int64_t j) const { return v[static_cast<size_t>(i * cols + j)]; }
  double *data() { return v.data(); }
  const double *data() const { return v.data(); }
  Mat t() const;  // transpose
};

// The matrices of an array whose last two axes are (rows, cols); every other axis is a batch axis.
struct Batch {
  int64_t count = 0, rows = 0, cols = 0;
};
Batch batch_of(const Shape &s, const char *op, const char *what);
Batch square_batch_of(const Shape &s, const char *op, const char *what);
// Shape of one value per matrix: the batch axes, or (1,) for a single matrix (MXNet's convention).
Shape per_matrix_shape(const Shape &s);

Mat load(const NDArray &a, const Batch &b, int64_t index);
void store(const NDArray &a, const Batch &b, int64_t index, const Mat &m);
double load_scalar(const NDArray &a, int64_t index);
void store_scalar(const NDArray &a, int64_t index, double v);

// alpha * op(A) * op(B)
Mat matmul(const Mat &a, bool ta, const Mat &b, bool tb, double alpha = 1.0);
// In place: B <- alpha * op(A)^-1 * B (left) or alpha * B * op(A)^-1 (right); A triangular.
void trsm(const Mat &a, Mat &b, bool rightside, bool lower, bool trans, double alpha);
// In place: B <- alpha * op(A) * B (left) or alpha * B * op(A) (right); A triangular.
void trmm(const Mat &a, Mat &b, bool rightside, bool lower, bool trans, double alpha);
// Zero the triangle opposite to `keep_lower` (diagonal kept).
void keep_triangle(Mat &m, bool keep_lower);
// Symmetric matrix from the lower triangle (diagonal unchanged).
void lower_to_symmetric(Mat &m);

// Factorisations; `op` and `index` name the operator and the matrix in error messages.
Mat cholesky_lower(const Mat &a, const char *op, int64_t index);        // A = L L^T from A's lower triangle
Mat inverse_from_cholesky(const Mat &l, const char *op, int64_t index); // (L L^T)^-1
Mat inverse(const Mat &a, const char *op, int64_t index);               // throws on a singular matrix
void lq(const Mat &a, Mat &q, Mat &l, const char *op, int64_t index);   // A = L Q, rows(A) <= cols(A)
void symmetric_eigen(const Mat &a, Mat &u, std::vector<double> &w, const char *op, int64_t index);
// sign(det A) and log|det A| by LU; a singular matrix gives sign 0 and log|det| = -inf.
void sign_logdet(const Mat &a, double &sign, double &logabsdet);

}  // namespace la
}  // namespace mx
