// linalg_gemm2 (alpha * op(A) op(B)) and linalg_gemm (alpha * op(A) op(B) + beta * C) on batches
// of matrices. The matrix rows lie along `axis` (default -2), the columns along the last axis;
// every other axis is a batch axis. Gradients are expressed with linalg_gemm2 itself.
#include "backends/cpu/blas.h"
#include "backends/cpu/parallel.h"
#include "backends/gemm.h"
#include "ops/cuda_only.h"
#include "ops/registry.h"

namespace mx {
namespace {

struct Gemm2Param {
  bool transpose_a = false, transpose_b = false;
  double alpha = 1.0;
  int64_t axis = -2;
  static void describe(ParamDecl<Gemm2Param> &d) {
    d.field("transpose_a", &Gemm2Param::transpose_a).def(false).doc("Multiply with transposed of first input (A).");
    d.field("transpose_b", &Gemm2Param::transpose_b).def(false).doc("Multiply with transposed of second input (B).");
    d.field("alpha", &Gemm2Param::alpha).def(1.0).doc("Scalar factor multiplied with A*B.");
    d.field("axis", &Gemm2Param::axis).def(-2).doc("Axis corresponding to the matrix rows.");
  }
};
struct GemmParam {
  bool transpose_a = false, transpose_b = false;
  double alpha = 1.0, beta = 1.0;
  int64_t axis = -2;
  static void describe(ParamDecl<GemmParam> &d) {
    d.field("transpose_a", &GemmParam::transpose_a).def(false).doc("Multiply with transposed of first input (A).");
    d.field("transpose_b", &GemmParam::transpose_b).def(false).doc("Multiply with transposed of second input (B).");
    d.field("alpha", &GemmParam::alpha).def(1.0).doc("Scalar factor multiplied with A*B.");
    d.field("beta", &GemmParam::beta).def(1.0).doc("Scalar factor multiplied with C.");
    d.field("axis", &GemmParam::axis).def(-2).doc("Axis corresponding to the matrix rows.");
  }
};

struct Common { bool ta, tb; double alpha, beta; int64_t axis; };
Common common_of(const Params &prm, bool with_c) {
  if (with_c) {
    const auto &p = prm.get<GemmParam>();
    return {p.transpose_a, p.transpose_b, p.alpha, p.beta, p.axis};
  }
  const auto &p = prm.get<Gemm2Param>();
  return {p.transpose_a, p.transpose_b, p.alpha, 0.0, p.axis};
}

// Batch layout of a tensor whose matrices have rows along `ax` and columns along the last axis.
struct MatView {
  int ax = 0, nd = 0;
  int64_t rows = 0, cols = 0, batch = 1;
  Shape shape;
  // offset of element (b, i, j)
  int64_t off(int64_t b, int64_t i, int64_t j) const {
    // decompose b over the batch axes (all but ax and nd-1), last batch axis fastest
    int64_t o = 0, stride = 1;
    std::vector<int64_t> strides(static_cast<size_t>(nd));
    for (int d = nd - 1; d >= 0; --d) {
      strides[static_cast<size_t>(d)] = stride;
      stride *= shape[d];
    }
    o = i * strides[static_cast<size_t>(ax)] + j;
    for (int d = nd - 2; d >= 0; --d) {
      if (d == ax) continue;
      o += (b % shape[d]) * strides[static_cast<size_t>(d)];
      b /= shape[d];
    }
    return o;
  }
  bool contiguous() const { return ax == nd - 2; }
};

MatView view_of(const Shape &s, int64_t axis, const char *op, const char *what) {
  MX_CHECK(s.ndim() >= 2, MX_ERR_SHAPE, op, ": input '", what, "' must have at least 2 dimensions, got shape ", s.str());
  MatView v;
  v.nd = s.ndim();
  v.ax = normalize_axis(axis, v.nd, "linalg: axis");
  MX_CHECK(v.ax != v.nd - 1, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'axis' (", axis,
           ") must not be the last axis (the column axis)");
  v.shape = s;
  v.rows = s[v.ax];
  v.cols = s[v.nd - 1];
  v.batch = s.size() / std::max<int64_t>(1, v.rows * v.cols);
  if (v.rows * v.cols == 0) v.batch = 0;
  return v;
}

Shape batch_shape(const MatView &v) {
  std::vector<int64_t> b;
  for (int d = 0; d < v.nd - 1; ++d)
    if (d != v.ax) b.push_back(v.shape[d]);
  return Shape(b);
}

bool gemm_shape(bool with_c, const Params &prm, ShapeVec &in, ShapeVec &out) {
  const char *op = with_c ? "linalg_gemm" : "linalg_gemm2";
  Common c = common_of(prm, with_c);
  if (!in[0].known() || !in[1].known()) return false;
  MatView a = view_of(in[0], c.axis, op, "A"), b = view_of(in[1], c.axis, op, "B");
  MX_CHECK(a.nd == b.nd && batch_shape(a) == batch_shape(b), MX_ERR_SHAPE, op, ": A ", in[0].str(), " and B ",
           in[1].str(), " must have the same batch dimensions");
  const int64_t M = c.ta ? a.cols : a.rows, K = c.ta ? a.rows : a.cols;
  const int64_t Kb = c.tb ? b.cols : b.rows, N = c.tb ? b.rows : b.cols;
  MX_CHECK(K == Kb, MX_ERR_SHAPE, op, ": inner dimensions of A ", in[0].str(), " (transpose_a=", c.ta, ") and B ",
           in[1].str(), " (transpose_b=", c.tb, ") do not match (", K, " vs ", Kb, ")");
  std::vector<int64_t> o;
  for (int d = 0; d < a.nd; ++d) o.push_back(d == a.ax ? M : d == a.nd - 1 ? N : in[0][d]);
  if (with_c) assign_shape(in[2], Shape(o), op, "C");
  assign_shape(out[0], Shape(o), op, "output");
  return true;
}

template <typename T> void gather(const T *src, const MatView &v, int64_t b, T *dst) {
  for (int64_t i = 0; i < v.rows; ++i)
    for (int64_t j = 0; j < v.cols; ++j) dst[i * v.cols + j] = src[v.off(b, i, j)];
}

template <typename T> void gemm_forward(bool with_c, const OpCall &call) {
  const char *op = with_c ? "linalg_gemm" : "linalg_gemm2";
  Common c = common_of(call.params, with_c);
  MatView a = view_of(call.inputs[0].shape(), c.axis, op, "A"), b = view_of(call.inputs[1].shape(), c.axis, op, "B");
  MatView o = view_of(call.outputs[0].shape(), c.axis, op, "output");
  const int64_t M = o.rows, N = o.cols, K = c.ta ? a.rows : a.cols;
  const T *pa = call.inputs[0].data<T>(), *pb = call.inputs[1].data<T>();
  const T *pc = with_c ? call.inputs[2].data<T>() : nullptr;
  T *py = call.outputs[0].data<T>();
  const bool contig = a.contiguous();
  parallel_for(o.batch, 1, [&](int64_t s, int64_t e) {
    std::vector<T> ba, bb, by;
    if (!contig) {
      ba.resize(static_cast<size_t>(a.rows * a.cols));
      bb.resize(static_cast<size_t>(b.rows * b.cols));
      by.resize(static_cast<size_t>(M * N));
    }
    for (int64_t i = s; i < e; ++i) {
      const T *A = pa + i * a.rows * a.cols, *B = pb + i * b.rows * b.cols;
      T *Y = py + i * M * N;
      if (!contig) {
        gather(pa, a, i, ba.data());
        gather(pb, b, i, bb.data());
        A = ba.data();
        B = bb.data();
        Y = by.data();
      }
      if (pc) {
        if (contig) {
          for (int64_t j = 0; j < M * N; ++j) Y[j] = pc[i * M * N + j];
        } else {
          gather(pc, o, i, Y);
        }
      }
      gemm(c.ta, c.tb, M, N, K, static_cast<T>(c.alpha), A, a.cols, B, b.cols, pc ? static_cast<T>(c.beta) : T(0), Y, N);
      if (!contig)
        for (int64_t r = 0; r < M; ++r)
          for (int64_t j = 0; j < N; ++j) py[o.off(i, r, j)] = Y[r * N + j];
    }
  });
}

// GPU: one strided-batched cuBLAS call (float16/bfloat16 on tensor cores, float32 accumulation)
// when the matrices are the last two axes; C is first copied into the output (beta * C is then
// cuBLAS's own beta term). Other row axes are refused with a clear error (the CPU gathers them).
template <typename T> void gemm_forward_gpu(bool with_c, const OpCall &call) {
  const char *op = with_c ? "linalg_gemm" : "linalg_gemm2";
  Common c = common_of(call.params, with_c);
  MatView a = view_of(call.inputs[0].shape(), c.axis, op, "A"), b = view_of(call.inputs[1].shape(), c.axis, op, "B");
  MatView o = view_of(call.outputs[0].shape(), c.axis, op, "output");
  MX_CHECK(a.contiguous(), MX_ERR_UNSUPPORTED, op, ": on the GPU the matrix rows must be axis -2 (got axis=", c.axis,
           "); swap the axes first or run it on the CPU");
  const int64_t M = o.rows, N = o.cols, K = c.ta ? a.rows : a.cols;
  const DeviceGemm gemm{call.outputs[0].device(), op};
  T *py = call.outputs[0].data<T>();
  if (o.batch == 0) return;
  if (with_c) gpu::copy(py, gemm.dev, call.inputs[2].data<T>(), gemm.dev, sizeof(T) * static_cast<size_t>(o.batch * M * N));
  if (K == 0) {
    if (!with_c) gemm.zero(py, o.batch * M * N);
    else if (c.beta != 1.0)  // C * beta with no product: a GEMM with K = 0 is not allowed by every path
      fail(MX_ERR_UNSUPPORTED, op, ": an empty inner dimension with beta != 1 is not supported on the GPU");
    return;
  }
  gemm.batched(c.ta, c.tb, M, N, K, c.alpha, call.inputs[0].data<T>(), a.cols, a.rows * a.cols,
               call.inputs[1].data<T>(), b.cols, b.rows * b.cols, with_c ? c.beta : 0.0, py, N, M * N, o.batch);
}

Kwargs kw(bool ta, bool tb, double alpha, int64_t axis) {
  return {{"transpose_a", print_value(ta)}, {"transpose_b", print_value(tb)}, {"alpha", print_value(alpha)},
          {"axis", print_value(axis)}};
}

std::vector<Var> gemm_grad(bool with_c, GradBuilder &b, const GradNode &n) {
  Common c = common_of(*n.params, with_c);
  Var g = n.out_grads[0], A = n.inputs[0], B = n.inputs[1];
  Var dA = c.ta ? b.emit1("linalg_gemm2", kw(c.tb, true, c.alpha, c.axis), {B, g})
                : b.emit1("linalg_gemm2", kw(false, !c.tb, c.alpha, c.axis), {g, B});
  Var dB = c.tb ? b.emit1("linalg_gemm2", kw(true, c.ta, c.alpha, c.axis), {g, A})
                : b.emit1("linalg_gemm2", kw(!c.ta, false, c.alpha, c.axis), {A, g});
  std::vector<Var> r{dA, dB};
  if (with_c) r.push_back(b.emit1("_mul_scalar", {{"scalar", print_value(c.beta)}}, {g}));
  return r;
}

const int registered = [] {
  MX_REGISTER_OP(linalg_gemm2)
      .alias("_linalg_gemm2")
      .doc("Performs general matrix multiplication: alpha * op(A) * op(B) on batches of matrices (rows along "
           "'axis', columns along the last axis).")
      .params<Gemm2Param>()
      .inputs({"A", "B"})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) { return gemm_shape(false, p, in, out); })
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "linalg_gemm2", { gemm_forward<T>(false, c); }); })
      .gpu(cuda_only([](const OpCall &c) {
        MX_DTYPE_SWITCH_GEMM(c.inputs[0].dtype(), T, "linalg_gemm2", { gemm_forward_gpu<T>(false, c); });
      }))
      .gpu_dtypes(cuda_half_dtypes())
      .grad([](GradBuilder &b, const GradNode &n) { return gemm_grad(false, b, n); });
  MX_REGISTER_OP(linalg_gemm)
      .alias("_linalg_gemm")
      .doc("Performs general matrix multiplication and accumulation: alpha * op(A) * op(B) + beta * C.")
      .params<GemmParam>()
      .inputs({"A", "B", "C"})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) { return gemm_shape(true, p, in, out); })
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "linalg_gemm", { gemm_forward<T>(true, c); }); })
      .gpu(cuda_only([](const OpCall &c) {
        MX_DTYPE_SWITCH_GEMM(c.inputs[0].dtype(), T, "linalg_gemm", { gemm_forward_gpu<T>(true, c); });
      }))
      .gpu_dtypes(cuda_half_dtypes())
      .grad([](GradBuilder &b, const GradNode &n) { return gemm_grad(true, b, n); });
  return 0;
}();

}  // namespace
}  // namespace mx
