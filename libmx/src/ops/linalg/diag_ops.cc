// Diagonals and triangles of batches of square matrices (last two axes): linalg_extractdiag,
// makediag, extracttrian, maketrian (each the other's gradient) and sumlogdiag.
#include <cmath>

#include "ops/linalg/la_op_util.h"

namespace mx {
namespace {
using la::Batch;

struct OffsetParam {
  int64_t offset = 0;
  static void describe(ParamDecl<OffsetParam> &d) {
    d.field("offset", &OffsetParam::offset).def(0)
        .doc("Offset of the diagonal versus the main diagonal: 0 is the main diagonal, negative below, positive above.");
  }
};

struct TrianParam {
  int64_t offset = 0;
  bool lower = true;
  static void describe(ParamDecl<TrianParam> &d) {
    d.field("offset", &TrianParam::offset).def(0)
        .doc("Offset of the diagonal versus the main diagonal: 0 is the main diagonal, negative below, positive above.");
    d.field("lower", &TrianParam::lower).def(true)
        .doc("Refer to the lower triangle if true, the upper otherwise; only relevant when offset=0.");
  }
};

// Element (row, col) of the n x n matrix holding diagonal entry k at `offset`.
inline int64_t diag_row(int64_t k, int64_t offset) { return offset < 0 ? k - offset : k; }
inline int64_t diag_col(int64_t k, int64_t offset) { return offset > 0 ? k + offset : k; }

// The triangle's entries in the order MXNet stores them: a lower triangle row by row; an upper one
// as the lower triangle of the transpose, i.e. column by column. Calls f(packed_index, row, col).
template <typename F> void for_each_triangle_entry(int64_t n, int64_t offset, bool lower, F f) {
  const bool use_lower = offset < 0 || (offset == 0 && lower);
  const int64_t shift = offset < 0 ? -offset : offset, m = n - shift;
  int64_t k = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j <= i; ++j, ++k) {
      const int64_t r = i + shift, c = j;  // entry of the lower triangle at -shift
      if (use_lower)
        f(k, r, c);
      else
        f(k, c, r);
    }
}

int64_t triangle_size(int64_t n, int64_t offset, const char *op) {
  const int64_t shift = offset < 0 ? -offset : offset;
  MX_CHECK(shift < n || (n == 0 && shift == 0), MX_ERR_INVALID_ARGUMENT, op, ": offset ", offset,
           " is out of range for matrices of size ", n);
  const int64_t m = n - shift;
  return m * (m + 1) / 2;
}

// Size n of the matrix whose triangle at `offset` has `count` entries.
int64_t matrix_size_for_triangle(int64_t count, int64_t offset, const char *op) {
  const int64_t m = static_cast<int64_t>(std::llround((std::sqrt(8.0 * static_cast<double>(count) + 1.0) - 1.0) / 2.0));
  MX_CHECK(m * (m + 1) / 2 == count, MX_ERR_SHAPE, op, ": the last axis (", count,
           ") is not a triangular number m*(m+1)/2");
  return m + (offset < 0 ? -offset : offset);
}

template <typename T> void copy_diag(const OpCall &c, bool extract, int64_t n, int64_t len, int64_t count, int64_t offset) {
  const T *src = c.inputs[0].data<T>();
  T *dst = c.outputs[0].data<T>();
  for (int64_t b = 0; b < count; ++b) {
    if (!extract)
      for (int64_t i = 0; i < n * n; ++i) dst[b * n * n + i] = T(0);
    for (int64_t k = 0; k < len; ++k) {
      const int64_t at = b * n * n + diag_row(k, offset) * n + diag_col(k, offset);
      if (extract)
        dst[b * len + k] = src[at];
      else
        dst[at] = src[b * len + k];
    }
  }
}

template <typename T> void copy_trian(const OpCall &c, bool extract, int64_t n, int64_t len, int64_t count, const TrianParam &p) {
  const T *src = c.inputs[0].data<T>();
  T *dst = c.outputs[0].data<T>();
  for (int64_t b = 0; b < count; ++b) {
    if (!extract)
      for (int64_t i = 0; i < n * n; ++i) dst[b * n * n + i] = T(0);
    for_each_triangle_entry(n, p.offset, p.lower, [&](int64_t k, int64_t r, int64_t col) {
      const int64_t at = b * n * n + r * n + col;
      if (extract)
        dst[b * len + k] = src[at];
      else
        dst[at] = src[b * len + k];
    });
  }
}

Shape vector_batch(const Shape &s, int64_t n) {  // (..., n, n) from (..., len)
  std::vector<int64_t> d(s.dims().begin(), s.dims().end() - 1);
  d.push_back(n);
  d.push_back(n);
  return Shape(d);
}

const int registered = [] {
  MX_REGISTER_OP(linalg_extractdiag)
      .alias("_linalg_extractdiag")
      .doc("Extracts a diagonal of square matrices (at 'offset') as a vector per matrix.")
      .params<OffsetParam>()
      .inputs({"A"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        Batch b = la::square_batch_of(in[0], "linalg_extractdiag", "A");
        const int64_t off = prm.get<OffsetParam>().offset, len = b.rows - (off < 0 ? -off : off);
        MX_CHECK(len > 0 || b.rows == 0, MX_ERR_INVALID_ARGUMENT, "linalg_extractdiag: offset ", off,
                 " is out of range for matrices of size ", b.rows);
        assign_shape(out[0], la::with_vector(in[0], std::max<int64_t>(len, 0)), "linalg_extractdiag", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Batch b = la::batch_of(c.inputs[0], "linalg_extractdiag", "A");
        const int64_t off = c.p<OffsetParam>().offset, len = c.outputs[0].shape()[c.outputs[0].shape().ndim() - 1];
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "linalg_extractdiag", { copy_diag<T>(c, true, b.rows, len, b.count, off); });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("linalg_makediag"), n.params, {n.out_grads[0]})[0]};
      });

  MX_REGISTER_OP(linalg_makediag)
      .alias("_linalg_makediag")
      .doc("Builds square matrices with the input vectors on a diagonal (at 'offset') and zeros elsewhere.")
      .params<OffsetParam>()
      .inputs({"A"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        MX_CHECK(in[0].ndim() >= 1, MX_ERR_SHAPE, "linalg_makediag: input must have at least 1 dimension");
        const int64_t off = prm.get<OffsetParam>().offset;
        const int64_t n = in[0][in[0].ndim() - 1] + (off < 0 ? -off : off);
        assign_shape(out[0], vector_batch(in[0], n), "linalg_makediag", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.outputs[0].shape();
        const int64_t n = s[s.ndim() - 1], len = c.inputs[0].shape()[c.inputs[0].shape().ndim() - 1];
        const int64_t count = n == 0 ? 0 : s.size() / (n * n);
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "linalg_makediag",
                              { copy_diag<T>(c, false, n, len, count, c.p<OffsetParam>().offset); });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("linalg_extractdiag"), n.params, {n.out_grads[0]})[0]};
      });

  MX_REGISTER_OP(linalg_extracttrian)
      .alias("_linalg_extracttrian")
      .doc("Extracts a triangle of square matrices as a vector per matrix: the lower triangle row by row, the "
           "upper column by column (offset > 0 selects the upper, < 0 the lower, 0 follows 'lower').")
      .params<TrianParam>()
      .inputs({"A"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        Batch b = la::square_batch_of(in[0], "linalg_extracttrian", "A");
        const int64_t len = triangle_size(b.rows, prm.get<TrianParam>().offset, "linalg_extracttrian");
        assign_shape(out[0], la::with_vector(in[0], len), "linalg_extracttrian", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Batch b = la::batch_of(c.inputs[0], "linalg_extracttrian", "A");
        const int64_t len = c.outputs[0].shape()[c.outputs[0].shape().ndim() - 1];
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "linalg_extracttrian",
                              { copy_trian<T>(c, true, b.rows, len, b.count, c.p<TrianParam>()); });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("linalg_maketrian"), n.params, {n.out_grads[0]})[0]};
      });

  MX_REGISTER_OP(linalg_maketrian)
      .alias("_linalg_maketrian")
      .doc("Builds square matrices from packed triangles (the layout of linalg_extracttrian), zeros elsewhere.")
      .params<TrianParam>()
      .inputs({"A"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        MX_CHECK(in[0].ndim() >= 1, MX_ERR_SHAPE, "linalg_maketrian: input must have at least 1 dimension");
        const int64_t n = matrix_size_for_triangle(in[0][in[0].ndim() - 1], prm.get<TrianParam>().offset,
                                                   "linalg_maketrian");
        assign_shape(out[0], vector_batch(in[0], n), "linalg_maketrian", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.outputs[0].shape();
        const int64_t n = s[s.ndim() - 1], len = c.inputs[0].shape()[c.inputs[0].shape().ndim() - 1];
        const int64_t count = n == 0 ? 0 : s.size() / (n * n);
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "linalg_maketrian",
                              { copy_trian<T>(c, false, n, len, count, c.p<TrianParam>()); });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("linalg_extracttrian"), n.params, {n.out_grads[0]})[0]};
      });

  MX_REGISTER_OP(linalg_sumlogdiag)
      .alias("_linalg_sumlogdiag")
      .doc("Sum of the natural logarithms of the diagonal of square matrices (e.g. half log|A| from a Cholesky "
           "factor); one value per matrix, shape (1,) for a single matrix.")
      .inputs({"A"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        la::square_batch_of(in[0], "linalg_sumlogdiag", "A");
        assign_shape(out[0], la::per_matrix_shape(in[0]), "linalg_sumlogdiag", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Batch b = la::batch_of(c.inputs[0], "linalg_sumlogdiag", "A");
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "linalg_sumlogdiag", {
          const T *a = c.inputs[0].data<T>();
          T *out = c.outputs[0].data<T>();
          for (int64_t m = 0; m < b.count; ++m) {
            T s = 0;
            for (int64_t i = 0; i < b.rows; ++i) s += std::log(a[m * b.rows * b.rows + i * b.rows + i]);
            out[m] = s;
          }
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {la::emit_backward(b, "_backward_linalg_sumlogdiag", {n.out_grads[0], n.inputs[0]})};
      });
  MX_REGISTER_OP(_backward_linalg_sumlogdiag)
      .doc("Gradient of linalg_sumlogdiag: inputs (out_grad, A); g / A_ii on the diagonal.")
      .inputs({"out_grad", "A"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_linalg_sumlogdiag", "dA");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Batch b = la::batch_of(c.inputs[1], "_backward_linalg_sumlogdiag", "A");
        MX_DTYPE_SWITCH_FLOAT(c.inputs[1].dtype(), T, "_backward_linalg_sumlogdiag", {
          const T *g = c.inputs[0].data<T>(), *a = c.inputs[1].data<T>();
          T *da = c.outputs[0].data<T>();
          const int64_t n = b.rows;
          for (int64_t m = 0; m < b.count; ++m)
            for (int64_t i = 0; i < n; ++i)
              for (int64_t j = 0; j < n; ++j) {
                const int64_t at = m * n * n + i * n + j;
                da[at] = i == j ? g[m] / a[at] : T(0);
              }
        });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
