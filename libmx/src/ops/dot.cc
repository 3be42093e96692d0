// dot (1-D, 2-D and N-D with MXNet's flattening rules) and batch_dot, both on GEMM.
#include <optional>

#include "backends/cpu/parallel.h"
#include "backends/gemm.h"
#include "ops/cuda_only.h"
#include "ops/registry.h"

namespace mx {
namespace {

struct DotParam {
  bool transpose_a = false, transpose_b = false;
  std::string forward_stype;
  static void describe(ParamDecl<DotParam> &d) {
    d.field("transpose_a", &DotParam::transpose_a).def(false).doc("If true then transpose the first input before dot.");
    d.field("transpose_b", &DotParam::transpose_b).def(false).doc("If true then transpose the second input before dot.");
    d.field("forward_stype", &DotParam::forward_stype).def("None").choices({"None", "csr", "default", "row_sparse"})
        .doc("The desired storage type of the forward output (dense only here).");
  }
};

// Matrix view of a dot: op(A) is M x K, op(B) is K x N.
struct MM {
  int64_t M, N, K;
  Shape out;
};

MM dot_dims(const DotParam &p, const Shape &a, const Shape &b, const char *op) {
  MX_CHECK(a.ndim() >= 1 && b.ndim() >= 1, MX_ERR_SHAPE, op, ": inputs must have at least one dimension, got ",
           a.str(), " and ", b.str());
  MM r;
  std::vector<int64_t> o;
  int64_t ka, kb;
  if (a.ndim() == 1 && b.ndim() == 1) {
    ka = a[0];
    kb = b[0];
    r.M = 1;
    r.N = 1;
  } else {
    if (!p.transpose_a) { ka = a[a.ndim() - 1]; r.M = a.prod(0, a.ndim() - 1); for (int i = 0; i + 1 < a.ndim(); ++i) o.push_back(a[i]); }
    else { ka = a[0]; r.M = a.prod(1, a.ndim()); for (int i = 1; i < a.ndim(); ++i) o.push_back(a[i]); }
    if (!p.transpose_b) { kb = b[0]; r.N = b.prod(1, b.ndim()); for (int i = 1; i < b.ndim(); ++i) o.push_back(b[i]); }
    else { kb = b[b.ndim() - 1]; r.N = b.prod(0, b.ndim() - 1); for (int i = 0; i + 1 < b.ndim(); ++i) o.push_back(b[i]); }
  }
  MX_CHECK(ka == kb, MX_ERR_SHAPE, op, ": shapes ", a.str(), " and ", b.str(), " are not aligned (transpose_a=",
           p.transpose_a ? "True" : "False", ", transpose_b=", p.transpose_b ? "True" : "False", "): ", ka, " != ", kb);
  r.K = ka;
  if (o.empty()) o.push_back(1);
  r.out = Shape(o);
  return r;
}

// `gemm` is OpenBLAS or cuBLAS by the arrays' device (backends/gemm.h): one kernel for both.
template <typename T> void matmul(const DeviceGemm &gemm, bool ta, bool tb, const MM &d, const T *a, const T *b, T *c) {
  if (d.K == 0) {
    gemm.zero(c, d.M * d.N);
    return;
  }
  gemm(ta, tb, d.M, d.N, d.K, T(1), a, ta ? d.M : d.K, b, tb ? d.K : d.N, T(0), c, d.N);
}

// Gradients of C = op(A) op(B) given G (M x N): writes dA, dB in A's and B's storage layout.
template <typename T>
void matmul_grad(const DeviceGemm &gemm, bool ta, bool tb, const MM &d, const T *g, const T *a, const T *b, T *da,
                 T *db) {
  const int64_t M = d.M, N = d.N, K = d.K, lda = ta ? M : K, ldb = tb ? K : N;
  if (N == 0 || M == 0) {
    gemm.zero(da, M * K);
    gemm.zero(db, K * N);
    return;
  }
  if (!ta) gemm(false, !tb, M, K, N, T(1), g, N, b, ldb, T(0), da, K);
  else gemm(tb, true, K, M, N, T(1), b, ldb, g, N, T(0), da, M);
  if (!tb) gemm(!ta, false, K, N, M, T(1), a, lda, g, N, T(0), db, N);
  else gemm(true, ta, N, K, M, T(1), g, N, a, lda, T(0), db, K);
}

// batch_dot: leading dims are batch dims (must agree); last two are the matrices.
struct BMM {
  int64_t batch;
  MM m;
};
BMM bdot_dims(const DotParam &p, const Shape &a, const Shape &b, const char *op) {
  MX_CHECK(a.ndim() >= 3 && a.ndim() == b.ndim(), MX_ERR_SHAPE, op,
           ": inputs must have the same number (>= 3) of dimensions, got ", a.str(), " and ", b.str());
  int n = a.ndim();
  for (int i = 0; i < n - 2; ++i)
    MX_CHECK(a[i] == b[i], MX_ERR_SHAPE, op, ": batch dimensions of ", a.str(), " and ", b.str(), " differ");
  Shape a2{a[n - 2], a[n - 1]}, b2{b[n - 2], b[n - 1]};
  BMM r;
  r.batch = a.prod(0, n - 2);
  r.m = dot_dims(p, a2, b2, op);
  std::vector<int64_t> o(a.dims().begin(), a.dims().end() - 2);
  o.push_back(r.m.M);
  o.push_back(r.m.N);
  r.m.out = Shape(o);
  return r;
}

Kwargs tkw(bool ta, bool tb) {
  return {{"transpose_a", ta ? "True" : "False"}, {"transpose_b", tb ? "True" : "False"}};
}

// Gradient through the same op with transposes (valid for 2-D dot and batch_dot).
std::vector<Var> transpose_grad(GradBuilder &b, const GradNode &n, const char *op) {
  const auto &p = n.p<DotParam>();
  Var G = n.out_grads[0], A = n.inputs[0], B = n.inputs[1];
  Var ga, gb;
  if (!p.transpose_a && !p.transpose_b) {
    ga = b.emit1(op, tkw(false, true), {G, B});
    gb = b.emit1(op, tkw(true, false), {A, G});
  } else if (!p.transpose_a && p.transpose_b) {
    ga = b.emit1(op, tkw(false, false), {G, B});
    gb = b.emit1(op, tkw(true, false), {G, A});
  } else if (p.transpose_a && !p.transpose_b) {
    ga = b.emit1(op, tkw(false, true), {B, G});
    gb = b.emit1(op, tkw(false, false), {A, G});
  } else {
    ga = b.emit1(op, tkw(true, true), {B, G});
    gb = b.emit1(op, tkw(true, true), {G, A});
  }
  return {ga, gb};
}

void dot_kernel(const OpCall &c) {
  const auto &p = c.p<DotParam>();
  MM d = dot_dims(p, c.inputs[0].shape(), c.inputs[1].shape(), "dot");
  const DeviceGemm gemm{c.outputs[0].device(), "dot"};
  MX_DTYPE_SWITCH_GEMM(c.inputs[0].dtype(), T, "dot", {
    matmul<T>(gemm, p.transpose_a, p.transpose_b, d, c.inputs[0].data<T>(), c.inputs[1].data<T>(),
              c.outputs[0].data<T>());
  });
}

void dot_backward_kernel(const OpCall &c) {
  const auto &p = c.p<DotParam>();
  MM d = dot_dims(p, c.inputs[1].shape(), c.inputs[2].shape(), "_backward_dot");
  const DeviceGemm gemm{c.outputs[0].device(), "_backward_dot"};
  MX_DTYPE_SWITCH_GEMM(c.inputs[0].dtype(), T, "_backward_dot", {
    matmul_grad<T>(gemm, p.transpose_a, p.transpose_b, d, c.inputs[0].data<T>(), c.inputs[1].data<T>(),
                   c.inputs[2].data<T>(), c.outputs[0].data<T>(), c.outputs[1].data<T>());
  });
}

void batch_dot_kernel(const OpCall &c) {
  const auto &p = c.p<DotParam>();
  BMM d = bdot_dims(p, c.inputs[0].shape(), c.inputs[1].shape(), "batch_dot");
  const DeviceGemm gemm{c.outputs[0].device(), "batch_dot"};
  MX_DTYPE_SWITCH_GEMM(c.inputs[0].dtype(), T, "batch_dot", {
    const T *a = c.inputs[0].data<T>(), *b = c.inputs[1].data<T>();
    T *o = c.outputs[0].data<T>();
    const int64_t sa = d.m.M * d.m.K, sb = d.m.K * d.m.N, so = d.m.M * d.m.N;
    if (!gemm.dev.is_cpu()) {  // one strided-batched cuBLAS call
      if (d.m.K == 0) {
        gemm.zero(o, d.batch * so);
        return;
      }
      gemm.batched(p.transpose_a, p.transpose_b, d.m.M, d.m.N, d.m.K, 1.0, a, p.transpose_a ? d.m.M : d.m.K, sa, b,
                   p.transpose_b ? d.m.K : d.m.N, sb, 0.0, o, d.m.N, so, d.batch);
      return;
    }
    auto one = [&](int64_t i) { matmul<T>(gemm, p.transpose_a, p.transpose_b, d.m, a + i * sa, b + i * sb, o + i * so); };
    parallel_for(d.batch, std::max<int64_t>(1, 32768 / std::max<int64_t>(so * std::max<int64_t>(d.m.K, 1), 1)),
                 [&](int64_t s, int64_t e) {
                   for (int64_t i = s; i < e; ++i) one(i);
                 });
  });
}

const int registered = [] {
  MX_REGISTER_OP(dot)
      .doc("Dot product of two arrays. 1-D . 1-D is the inner product (shape (1,)); otherwise the last axis of lhs "
           "(first with transpose_a) is contracted with the first axis of rhs (last with transpose_b).")
      .params<DotParam>()
      .inputs({"lhs", "rhs"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        assign_shape(out[0], dot_dims(prm.get<DotParam>(), in[0], in[1], "dot").out, "dot", "output");
        return true;
      })
      .cpu(dot_kernel)
      .gpu(cuda_only(dot_kernel))
      .gpu_dtypes(cuda_half_dtypes())  // cuBLAS GemmEx: tensor cores, float32 accumulation
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        if (b.shape(n.inputs[0]).ndim() == 2 && b.shape(n.inputs[1]).ndim() == 2) return transpose_grad(b, n, "dot");
        auto gs = b.emit(&Registry::get().require("_backward_dot"), n.params, {n.out_grads[0], n.inputs[0], n.inputs[1]});
        return {gs[0], gs[1]};
      });
  MX_REGISTER_OP(_backward_dot)
      .doc("Gradients of dot: inputs (out_grad, lhs, rhs); outputs lhs and rhs gradients.")
      .params<DotParam>()
      .inputs({"out_grad", "lhs", "rhs"})
      .outputs({"lhs_grad", "rhs_grad"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known() || !in[2].known()) return false;
        assign_shape(in[0], dot_dims(prm.get<DotParam>(), in[1], in[2], "_backward_dot").out, "_backward_dot", "out_grad");
        assign_shape(out[0], in[1], "_backward_dot", "lhs_grad");
        assign_shape(out[1], in[2], "_backward_dot", "rhs_grad");
        return true;
      })
      .cpu(dot_backward_kernel)
      .gpu(cuda_only(dot_backward_kernel))
      .gpu_dtypes(cuda_half_dtypes())  // cuBLAS GemmEx: tensor cores, float32 accumulation
      .no_grad();
  MX_REGISTER_OP(batch_dot)
      .doc("Batchwise dot product: out[i] = op(lhs[i]) . op(rhs[i]) over the leading (batch) dimensions.")
      .params<DotParam>()
      .inputs({"lhs", "rhs"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        assign_shape(out[0], bdot_dims(prm.get<DotParam>(), in[0], in[1], "batch_dot").m.out, "batch_dot", "output");
        return true;
      })
      .cpu(batch_dot_kernel)
      .gpu(cuda_only(batch_dot_kernel))
      .gpu_dtypes(cuda_half_dtypes())  // cuBLAS GemmEx: tensor cores, float32 accumulation
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> { return transpose_grad(b, n, "batch_dot"); });
  return 0;
}();

}  // namespace
}  // namespace mx
