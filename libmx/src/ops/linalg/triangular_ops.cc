// Products with triangular matrices and symmetric rank-k updates on batches (last two axes):
// linalg_trmm, linalg_trsm, linalg_syrk, with fused backward ops (MXNet 1.9's formulas).
#include "ops/linalg/la_op_util.h"

namespace mx {
namespace {
using la::Batch;
using la::Mat;

struct TriangularParam {
  bool transpose = false, rightside = false, lower = true;
  double alpha = 1.0;
  static void describe(ParamDecl<TriangularParam> &d) {
    d.field("transpose", &TriangularParam::transpose).def(false).doc("Use the transposed triangular matrix.");
    d.field("rightside", &TriangularParam::rightside).def(false)
        .doc("Multiply the triangular matrix from the right to the non-triangular one.");
    d.field("lower", &TriangularParam::lower).def(true)
        .doc("True if the triangular matrix is lower triangular, false if upper triangular.");
    d.field("alpha", &TriangularParam::alpha).def(1.0).doc("Scalar factor applied to the result.");
  }
};

struct SyrkParam {
  bool transpose = false;
  double alpha = 1.0;
  static void describe(ParamDecl<SyrkParam> &d) {
    d.field("transpose", &SyrkParam::transpose).def(false).doc("Use the transposed input: alpha * A^T A.");
    d.field("alpha", &SyrkParam::alpha).def(1.0).doc("Scalar factor applied to the result.");
  }
};

// A square, B's rows (left) or columns (right) matching A; the output has B's shape.
bool triangular_shape(const char *op, const Params &prm, ShapeVec &in, ShapeVec &out) {
  if (!in[0].known() || !in[1].known()) return false;
  const auto &p = prm.get<TriangularParam>();
  Batch a = la::square_batch_of(in[0], op, "A"), b = la::batch_of(in[1], op, "B");
  const int64_t matched = p.rightside ? b.cols : b.rows;
  MX_CHECK(a.count == b.count && in[0].ndim() == in[1].ndim() && matched == a.rows, MX_ERR_SHAPE, op,
           ": triangular A ", in[0].str(), " does not fit B ", in[1].str(), " (rightside=", p.rightside,
           "): batch axes must agree and A's size must equal B's ", p.rightside ? "columns" : "rows");
  for (int d = 0; d + 2 < in[0].ndim(); ++d)
    MX_CHECK(in[0][d] == in[1][d], MX_ERR_SHAPE, op, ": batch axes of A ", in[0].str(), " and B ", in[1].str(),
             " differ");
  assign_shape(out[0], in[1], op, "output");
  return true;
}

void triangular_forward(const OpCall &c, bool solve, const char *op) {
  const auto &p = c.p<TriangularParam>();
  const Batch a = la::batch_of(c.inputs[0], op, "A"), b = la::batch_of(c.inputs[1], op, "B");
  la::for_each_matrix(b.count, [&](int64_t i) {
    Mat ma = la::load(c.inputs[0], a, i), mb = la::load(c.inputs[1], b, i);
    if (solve)
      la::trsm(ma, mb, p.rightside, p.lower, p.transpose, p.alpha);
    else
      la::trmm(ma, mb, p.rightside, p.lower, p.transpose, p.alpha);
    la::store(c.outputs[0], b, i, mb);
  });
}

// C = alpha op(A) B (or B op(A)): dA = alpha * (dC B^T or B^T dC, transposed when op(A) = A^T) kept
// on A's triangle; dB = alpha op(A)^T dC (or dC op(A)^T).
void trmm_backward(const OpCall &c) {
  const auto &p = c.p<TriangularParam>();
  const Batch a = la::batch_of(c.inputs[1], "_backward_linalg_trmm", "A");
  const Batch b = la::batch_of(c.inputs[2], "_backward_linalg_trmm", "B");
  la::for_each_matrix(b.count, [&](int64_t i) {
    Mat dc = la::load(c.inputs[0], b, i), ma = la::load(c.inputs[1], a, i), mb = la::load(c.inputs[2], b, i);
    Mat da = p.rightside == p.transpose ? la::matmul(dc, p.transpose, mb, !p.transpose, p.alpha)
                                         : la::matmul(mb, !p.transpose, dc, p.transpose, p.alpha);
    la::keep_triangle(da, p.lower);
    la::trmm(ma, dc, p.rightside, p.lower, !p.transpose, p.alpha);
    la::store(c.outputs[0], a, i, da);
    la::store(c.outputs[1], b, i, dc);
  });
}

// C = alpha op(A)^-1 B (or B op(A)^-1): dB = alpha op(A)^-T dC (or dC op(A)^-T);
// dA = -(1/alpha) * (dB C^T or C^T dB, transposed when op(A) = A^T) kept on A's triangle.
void trsm_backward(const OpCall &c) {
  const auto &p = c.p<TriangularParam>();
  const Batch a = la::batch_of(c.inputs[1], "_backward_linalg_trsm", "A");
  const Batch b = la::batch_of(c.inputs[2], "_backward_linalg_trsm", "C");
  la::for_each_matrix(b.count, [&](int64_t i) {
    Mat db = la::load(c.inputs[0], b, i), ma = la::load(c.inputs[1], a, i), mc = la::load(c.inputs[2], b, i);
    la::trsm(ma, db, p.rightside, p.lower, !p.transpose, p.alpha);
    const double scale = -1.0 / p.alpha;
    Mat da = p.rightside == p.transpose ? la::matmul(db, p.transpose, mc, !p.transpose, scale)
                                         : la::matmul(mc, !p.transpose, db, p.transpose, scale);
    la::keep_triangle(da, p.lower);
    la::store(c.outputs[0], a, i, da);
    la::store(c.outputs[1], b, i, db);
  });
}

bool backward_shape(const char *op, ShapeVec &in, ShapeVec &out) {
  if (!in[1].known() || !in[2].known()) return false;
  assign_shape(out[0], in[1], op, "A_grad");
  assign_shape(out[1], in[2], op, "B_grad");
  return true;
}

const int registered = [] {
  MX_REGISTER_OP(linalg_trmm)
      .alias("_linalg_trmm")
      .doc("Multiplies by a triangular matrix: alpha * op(A) * B, or alpha * B * op(A) with rightside=True; only "
           "A's lower (or upper, lower=False) triangle is read.")
      .params<TriangularParam>()
      .inputs({"A", "B"})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) { return triangular_shape("linalg_trmm", p, in, out); })
      .cpu([](const OpCall &c) { triangular_forward(c, false, "linalg_trmm"); })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto g = b.emit(&Registry::get().require("_backward_linalg_trmm"), n.params,
                        {n.out_grads[0], n.inputs[0], n.inputs[1]});
        return {g[0], g[1]};
      });
  MX_REGISTER_OP(_backward_linalg_trmm)
      .doc("Gradient of linalg_trmm: inputs (out_grad, A, B).")
      .params<TriangularParam>()
      .inputs({"out_grad", "A", "B"})
      .outputs({"A_grad", "B_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return backward_shape("_backward_linalg_trmm", in, out); })
      .cpu(trmm_backward)
      .no_grad();

  MX_REGISTER_OP(linalg_trsm)
      .alias("_linalg_trsm")
      .doc("Solves triangular systems: returns X with op(A) X = alpha * B, or X op(A) = alpha * B with "
           "rightside=True; only A's lower (or upper, lower=False) triangle is read.")
      .params<TriangularParam>()
      .inputs({"A", "B"})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) { return triangular_shape("linalg_trsm", p, in, out); })
      .cpu([](const OpCall &c) { triangular_forward(c, true, "linalg_trsm"); })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto g = b.emit(&Registry::get().require("_backward_linalg_trsm"), n.params,
                        {n.out_grads[0], n.inputs[0], n.outputs[0]});
        return {g[0], g[1]};
      });
  MX_REGISTER_OP(_backward_linalg_trsm)
      .doc("Gradient of linalg_trsm: inputs (out_grad, A, output).")
      .params<TriangularParam>()
      .inputs({"out_grad", "A", "output"})
      .outputs({"A_grad", "B_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return backward_shape("_backward_linalg_trsm", in, out); })
      .cpu(trsm_backward)
      .no_grad();

  MX_REGISTER_OP(linalg_syrk)
      .alias("_linalg_syrk")
      .doc("Symmetric rank-k product: alpha * A * A^T, or alpha * A^T * A with transpose=True.")
      .params<SyrkParam>()
      .inputs({"A"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        Batch a = la::batch_of(in[0], "linalg_syrk", "A");
        const int64_t n = prm.get<SyrkParam>().transpose ? a.cols : a.rows;
        assign_shape(out[0], la::with_matrix(in[0], n, n), "linalg_syrk", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<SyrkParam>();
        const Batch a = la::batch_of(c.inputs[0], "linalg_syrk", "A"), o = la::batch_of(c.outputs[0], "linalg_syrk", "output");
        la::for_each_matrix(a.count, [&](int64_t i) {
          Mat m = la::load(c.inputs[0], a, i);
          la::store(c.outputs[0], o, i, la::matmul(m, p.transpose, m, !p.transpose, p.alpha));
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        // B = alpha A A^T: dA = alpha (dB + dB^T) A; transpose: B = alpha A^T A: dA = alpha A (dB + dB^T).
        const auto &p = n.p<SyrkParam>();
        Var g = n.out_grads[0], A = n.inputs[0];
        auto gemm = [&](Var x, Var y, bool ta, bool tb) {
          return b.emit1("linalg_gemm2", {{"transpose_a", print_value(ta)}, {"transpose_b", print_value(tb)},
                                          {"alpha", print_value(p.alpha)}}, {x, y});
        };
        Var first = p.transpose ? gemm(A, g, false, false) : gemm(g, A, false, false);
        Var second = p.transpose ? gemm(A, g, false, true) : gemm(g, A, true, false);
        return {b.emit1("elemwise_add", {}, {first, second})};
      });
  return 0;
}();

}  // namespace
}  // namespace mx
