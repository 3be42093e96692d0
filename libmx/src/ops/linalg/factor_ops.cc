// Factorisations and determinants of batches of matrices (last two axes): linalg_potrf, potri,
// gelqf, syevd, inverse, det, slogdet, each with a fused backward op (MXNet 1.9's formulas).
#include <cmath>

#include "ops/linalg/la_op_util.h"

namespace mx {
namespace {
using la::Batch;
using la::Mat;

bool same_square_shape(const char *op, ShapeVec &in, ShapeVec &out) {
  if (!in[0].known()) return false;
  la::square_batch_of(in[0], op, "A");
  assign_shape(out[0], in[0], op, "output");
  return true;
}

// potrf/potri's 'lower' (MXNet 1.9): false works with the upper factor U = L^T (A = U^T U, read
// from A's upper triangle); the kernels run the lower-triangular math on transposes.
struct LowerParam {
  bool lower = true;
  static void describe(ParamDecl<LowerParam> &d) {
    d.field("lower", &LowerParam::lower).def(true)
        .doc("True if the triangular matrix is lower triangular, false if it is upper triangular.");
  }
};
inline Mat lower_view(Mat m, bool lower) { return lower ? m : m.t(); }

// dA = 0.5 * L^-T * sym(L^T dL) * L^-1, sym() mirroring the lower triangle (B = potrf(A) = L).
void potrf_backward(const OpCall &c) {
  const bool lower = c.p<LowerParam>().lower;
  const Batch b = la::batch_of(c.inputs[1], "_backward_linalg_potrf", "L");
  la::for_each_matrix(b.count, [&](int64_t i) {
    Mat dl = lower_view(la::load(c.inputs[0], b, i), lower), l = lower_view(la::load(c.inputs[1], b, i), lower);
    Mat m = la::matmul(l, true, dl, false);
    la::lower_to_symmetric(m);
    la::trsm(l, m, true, true, false, 1.0);  // m L^-1
    la::trsm(l, m, false, true, true, 0.5);  // 0.5 L^-T m
    la::store(c.outputs[0], b, i, lower_view(m, lower));
  });
}

// dL = -tril(A (dA + dA^T) L^-T) for A = potri(L).
void potri_backward(const OpCall &c) {
  const bool lower = c.p<LowerParam>().lower;
  const Batch b = la::batch_of(c.inputs[1], "_backward_linalg_potri", "L");
  la::for_each_matrix(b.count, [&](int64_t i) {
    Mat da = la::load(c.inputs[0], b, i), a = la::load(c.inputs[2], b, i);
    Mat l = lower_view(la::load(c.inputs[1], b, i), lower);
    Mat m = la::matmul(a, false, da, false);
    Mat m2 = la::matmul(a, false, da, true);
    for (size_t k = 0; k < m.v.size(); ++k) m.v[k] += m2.v[k];
    la::trsm(l, m, true, true, true, -1.0);
    la::keep_triangle(m, true);
    la::store(c.outputs[0], b, i, lower_view(m, lower));
  });
}

// dA = L^-T (dQ + sym(M) Q), M = L^T dL - dQ Q^T, for (Q, L) = gelqf(A).
void gelqf_backward(const OpCall &c) {
  const Batch bq = la::batch_of(c.inputs[2], "_backward_linalg_gelqf", "Q");
  const Batch bl = la::batch_of(c.inputs[3], "_backward_linalg_gelqf", "L");
  la::for_each_matrix(bq.count, [&](int64_t i) {
    Mat dq = la::load(c.inputs[0], bq, i), dl = la::load(c.inputs[1], bl, i);
    Mat q = la::load(c.inputs[2], bq, i), l = la::load(c.inputs[3], bl, i);
    Mat m = la::matmul(l, true, dl, false);
    Mat dqqt = la::matmul(dq, false, q, true);
    for (size_t k = 0; k < m.v.size(); ++k) m.v[k] -= dqqt.v[k];
    la::lower_to_symmetric(m);
    Mat da = la::matmul(m, false, q, false);
    for (size_t k = 0; k < da.v.size(); ++k) da.v[k] += dq.v[k];
    la::trsm(l, da, false, true, true, 1.0);
    la::store(c.outputs[0], bq, i, da);
  });
}

// dA = U^T Y U with Y_ij = (X_ij - X_ji) / (2 max(w_i - w_j, eps)) off the diagonal, Y_ii = dw_i,
// X = dU U^T, for (U, w) = syevd(A).
void syevd_backward(const OpCall &c) {
  const Batch b = la::batch_of(c.inputs[2], "_backward_linalg_syevd", "U");
  const Batch bw{b.count, 1, b.rows};
  const double eps = c.inputs[2].dtype() == DType::f64 ? 1e-100 : 1e-30;
  la::for_each_matrix(b.count, [&](int64_t i) {
    Mat du = la::load(c.inputs[0], b, i), dw = la::load(c.inputs[1], bw, i);
    Mat u = la::load(c.inputs[2], b, i), w = la::load(c.inputs[3], bw, i);
    Mat x = la::matmul(du, false, u, true);
    Mat y(b.rows, b.rows);
    for (int64_t r = 0; r < b.rows; ++r) {
      y.at(r, r) = dw.at(0, r);
      for (int64_t s = 0; s < r; ++s) {
        const double denom = 2.0 * std::max(w.at(0, r) - w.at(0, s), eps);
        y.at(r, s) = y.at(s, r) = (x.at(r, s) - x.at(s, r)) / denom;
      }
    }
    la::store(c.outputs[0], b, i, la::matmul(la::matmul(u, true, y, false), false, u, false));
  });
}

// Jacobi's formula: d|A| = |A| tr(A^-1 dA); no gradient flows through a singular matrix.
// scale_by_det: det's gradient (g |A| A^-T); otherwise slogdet's (g A^-T).
void det_backward(const OpCall &c, bool scale_by_det, const char *op) {
  const Batch b = la::square_batch_of(c.inputs[1].shape(), op, "A");
  la::for_each_matrix(b.count, [&](int64_t i) {
    const double g = la::load_scalar(c.inputs[0], i), value = la::load_scalar(c.inputs[2], i);
    Mat a = la::load(c.inputs[1], b, i);
    Mat da(b.rows, b.cols);
    const bool singular = scale_by_det ? value == 0.0 : std::isinf(value) && value < 0;
    if (!singular) {
      Mat inv = la::inverse(a, op, i).t();
      const double f = scale_by_det ? g * value : g;
      for (size_t k = 0; k < inv.v.size(); ++k) da.v[k] = f * inv.v[k];
    }
    la::store(c.outputs[0], b, i, da);
  });
}

const int registered = [] {
  MX_REGISTER_OP(linalg_potrf)
      .alias("_linalg_potrf")
      .doc("Cholesky factorisation of symmetric positive-definite matrices: returns the lower-triangular L with "
           "A = L L^T, read from A's lower triangle (last two axes; other axes are batch axes); lower=False "
           "returns the upper-triangular U with A = U^T U, read from the upper triangle.")
      .params<LowerParam>()
      .inputs({"A"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return same_square_shape("linalg_potrf", in, out); })
      .cpu([](const OpCall &c) {
        const bool lower = c.p<LowerParam>().lower;
        const Batch b = la::square_batch_of(c.inputs[0].shape(), "linalg_potrf", "A");
        la::for_each_matrix(b.count, [&](int64_t i) {
          Mat l = la::cholesky_lower(lower_view(la::load(c.inputs[0], b, i), lower), "linalg_potrf", i);
          la::store(c.outputs[0], b, i, lower_view(l, lower));
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_linalg_potrf"), n.params, {n.out_grads[0], n.outputs[0]})[0]};
      });
  MX_REGISTER_OP(_backward_linalg_potrf)
      .doc("Gradient of linalg_potrf: inputs (out_grad, L).")
      .params<LowerParam>()
      .inputs({"out_grad", "L"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return same_square_shape("_backward_linalg_potrf", in, out); })
      .cpu(potrf_backward)
      .no_grad();

  MX_REGISTER_OP(linalg_potri)
      .alias("_linalg_potri")
      .doc("Inverse of A = L L^T from its lower-triangular Cholesky factor L (the output of linalg_potrf); "
           "lower=False takes the upper factor U of A = U^T U.")
      .params<LowerParam>()
      .inputs({"A"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return same_square_shape("linalg_potri", in, out); })
      .cpu([](const OpCall &c) {
        const bool lower = c.p<LowerParam>().lower;
        const Batch b = la::square_batch_of(c.inputs[0].shape(), "linalg_potri", "A");
        la::for_each_matrix(b.count, [&](int64_t i) {
          la::store(c.outputs[0], b, i,
                    la::inverse_from_cholesky(lower_view(la::load(c.inputs[0], b, i), lower), "linalg_potri", i));
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_linalg_potri"), n.params,
                       {n.out_grads[0], n.inputs[0], n.outputs[0]})[0]};
      });
  MX_REGISTER_OP(_backward_linalg_potri)
      .doc("Gradient of linalg_potri: inputs (out_grad, L, output).")
      .params<LowerParam>()
      .inputs({"out_grad", "L", "output"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return same_square_shape("_backward_linalg_potri", in, out); })
      .cpu(potri_backward)
      .no_grad();

  MX_REGISTER_OP(linalg_gelqf)
      .alias("_linalg_gelqf")
      .doc("LQ factorisation A = L Q of matrices with no more rows than columns: Q has orthonormal rows, L is "
           "lower triangular (LAPACK gelqf's signs). Outputs (Q, L).")
      .inputs({"A"})
      .outputs({"Q", "L"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        Batch b = la::batch_of(in[0], "linalg_gelqf", "A");
        MX_CHECK(b.rows <= b.cols, MX_ERR_SHAPE, "linalg_gelqf: input matrices must have no more rows than columns, "
                 "got shape ", in[0].str());
        assign_shape(out[0], in[0], "linalg_gelqf", "Q");
        assign_shape(out[1], la::with_matrix(in[0], b.rows, b.rows), "linalg_gelqf", "L");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Batch b = la::batch_of(c.inputs[0], "linalg_gelqf", "A");
        const Batch bl{b.count, b.rows, b.rows};
        la::for_each_matrix(b.count, [&](int64_t i) {
          Mat q, l;
          la::lq(la::load(c.inputs[0], b, i), q, l, "linalg_gelqf", i);
          la::store(c.outputs[0], b, i, q);
          la::store(c.outputs[1], bl, i, l);
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {la::emit_backward(b, "_backward_linalg_gelqf", {n.out_grads[0], n.out_grads[1], n.outputs[0], n.outputs[1]})};
      });
  MX_REGISTER_OP(_backward_linalg_gelqf)
      .doc("Gradient of linalg_gelqf: inputs (dQ, dL, Q, L).")
      .inputs({"dQ", "dL", "Q", "L"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[2].known()) return false;
        assign_shape(out[0], in[2], "_backward_linalg_gelqf", "dA");
        return true;
      })
      .cpu(gelqf_backward)
      .no_grad();

  MX_REGISTER_OP(linalg_syevd)
      .alias("_linalg_syevd")
      .doc("Eigendecomposition of symmetric matrices (lower triangle read): A = U^T diag(L) U with eigenvalues L "
           "ascending and eigenvectors as the rows of U, each signed so its largest-magnitude entry is positive. "
           "Outputs (U, L).")
      .inputs({"A"})
      .outputs({"U", "L"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        Batch b = la::square_batch_of(in[0], "linalg_syevd", "A");
        assign_shape(out[0], in[0], "linalg_syevd", "U");
        assign_shape(out[1], la::with_vector(in[0], b.rows), "linalg_syevd", "L");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Batch b = la::square_batch_of(c.inputs[0].shape(), "linalg_syevd", "A");
        la::for_each_matrix(b.count, [&](int64_t i) {
          Mat u, w(1, b.rows);
          la::symmetric_eigen(la::load(c.inputs[0], b, i), u, w.v, "linalg_syevd", i);
          la::store(c.outputs[0], b, i, u);
          la::store(c.outputs[1], Batch{b.count, 1, b.rows}, i, w);
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {la::emit_backward(b, "_backward_linalg_syevd", {n.out_grads[0], n.out_grads[1], n.outputs[0], n.outputs[1]})};
      });
  MX_REGISTER_OP(_backward_linalg_syevd)
      .doc("Gradient of linalg_syevd: inputs (dU, dL, U, L).")
      .inputs({"dU", "dL", "U", "L"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[2].known()) return false;
        assign_shape(out[0], in[2], "_backward_linalg_syevd", "dA");
        return true;
      })
      .cpu(syevd_backward)
      .no_grad();

  MX_REGISTER_OP(linalg_inverse)
      .alias("_linalg_inverse")
      .doc("Inverse of square matrices (LU with partial pivoting); a singular matrix is an error naming its batch "
           "index.")
      .inputs({"A"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return same_square_shape("linalg_inverse", in, out); })
      .cpu([](const OpCall &c) {
        const Batch b = la::square_batch_of(c.inputs[0].shape(), "linalg_inverse", "A");
        la::for_each_matrix(b.count, [&](int64_t i) {
          la::store(c.outputs[0], b, i, la::inverse(la::load(c.inputs[0], b, i), "linalg_inverse", i));
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        // B = A^-1: dA = -B^T dB B^T
        Var inv = n.outputs[0];
        Var t = b.emit1("linalg_gemm2", {{"transpose_b", print_value(true)}}, {n.out_grads[0], inv});
        return {b.emit1("linalg_gemm2", {{"transpose_a", print_value(true)}, {"alpha", print_value(-1.0)}}, {inv, t})};
      });

  MX_REGISTER_OP(linalg_det)
      .alias("_linalg_det")
      .doc("Determinant of square matrices (LU); one value per matrix, shape (1,) for a single matrix.")
      .inputs({"A"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        la::square_batch_of(in[0], "linalg_det", "A");
        assign_shape(out[0], la::per_matrix_shape(in[0]), "linalg_det", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Batch b = la::square_batch_of(c.inputs[0].shape(), "linalg_det", "A");
        la::for_each_matrix(b.count, [&](int64_t i) {
          double sign, logabs;
          la::sign_logdet(la::load(c.inputs[0], b, i), sign, logabs);
          la::store_scalar(c.outputs[0], i, sign * std::exp(logabs));
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {la::emit_backward(b, "_backward_linalg_det", {n.out_grads[0], n.inputs[0], n.outputs[0]})};
      });
  MX_REGISTER_OP(_backward_linalg_det)
      .doc("Gradient of linalg_det: inputs (out_grad, A, det).")
      .inputs({"out_grad", "A", "det"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_linalg_det", "dA");
        return true;
      })
      .cpu([](const OpCall &c) { det_backward(c, true, "_backward_linalg_det"); })
      .no_grad();

  MX_REGISTER_OP(linalg_slogdet)
      .alias("_linalg_slogdet")
      .doc("Sign and natural log of the absolute determinant of square matrices; a singular matrix gives sign 0 "
           "and -inf. Outputs (sign, logabsdet).")
      .inputs({"A"})
      .outputs({"sign", "logabsdet"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        la::square_batch_of(in[0], "linalg_slogdet", "A");
        assign_shape(out[0], la::per_matrix_shape(in[0]), "linalg_slogdet", "sign");
        assign_shape(out[1], la::per_matrix_shape(in[0]), "linalg_slogdet", "logabsdet");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Batch b = la::square_batch_of(c.inputs[0].shape(), "linalg_slogdet", "A");
        la::for_each_matrix(b.count, [&](int64_t i) {
          double sign, logabs;
          la::sign_logdet(la::load(c.inputs[0], b, i), sign, logabs);
          la::store_scalar(c.outputs[0], i, sign);
          la::store_scalar(c.outputs[1], i, logabs);
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        // The sign has no gradient.
        return {la::emit_backward(b, "_backward_linalg_slogdet", {n.out_grads[1], n.inputs[0], n.outputs[1]})};
      });
  MX_REGISTER_OP(_backward_linalg_slogdet)
      .doc("Gradient of linalg_slogdet: inputs (logabsdet_grad, A, logabsdet).")
      .inputs({"out_grad", "A", "logabsdet"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_linalg_slogdet", "dA");
        return true;
      })
      .cpu([](const OpCall &c) { det_backward(c, false, "_backward_linalg_slogdet"); })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
