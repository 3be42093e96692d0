// Reductions over axes (sum, mean, prod, max, min, nansum, nanprod, norm), index reductions
// (argmax, argmin, argmax_channel) and the hidden `_reshape_to` their gradients use.
//
// Kernels merge adjacent axes into groups. The common layout (outer, reduced, inner) runs
// parallel over `outer`, vectorised along the contiguous `inner`; an inner-axis reduction runs a
// contiguous loop per output with independent accumulators. Other layouts use an odometer.
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

#include "ops/cuda_only.h"
#include "ops/elemwise_common.h"
#include "ops/each.h"
#include "ops/formulas/index.h"
#include "ops/formulas/reduce.h"
#include "ops/index_gpu.h"
#include "ops/reduce_gpu.h"

namespace mx {
namespace {

const std::vector<DType> &kFloat = kFloatTypes;
const std::vector<DType> &kNumeric = kNumericTypes;
const std::vector<DType> &kAll = kAllTypes;


struct ReduceParam {
  std::vector<std::optional<int64_t>> axis;
  bool keepdims = false, exclude = false;
  static void describe(ParamDecl<ReduceParam> &d) {
    d.field("axis", &ReduceParam::axis).def({})
        .doc("Axis or axes to reduce; empty or None reduces all axes. Negative values count from the end.");
    d.field("keepdims", &ReduceParam::keepdims).def(false).doc("Keep reduced axes with size 1.");
    d.field("exclude", &ReduceParam::exclude).def(false).doc("Reduce every axis except those in `axis`.");
  }
};
struct NormParam {
  int64_t ord = 2;
  std::vector<std::optional<int64_t>> axis;
  std::string out_dtype;
  bool keepdims = false;
  static void describe(ParamDecl<NormParam> &d) {
    d.field("ord", &NormParam::ord).def(2).doc("Order of the norm: 1 or 2.");
    d.field("axis", &NormParam::axis).def({}).doc("Axis or axes to reduce; empty or None reduces all axes.");
    d.field("out_dtype", &NormParam::out_dtype).def(std::string("None"))
        .choices({"None", "float16", "float32", "float64", "int32", "int64", "int8"})
        .doc("Output dtype (None: the input's).");
    d.field("keepdims", &NormParam::keepdims).def(false).doc("Keep reduced axes with size 1.");
    d.check([](const NormParam &p, const std::string &op) {
      MX_CHECK(p.ord == 1 || p.ord == 2, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'ord' has value ", p.ord,
               " but only 1 and 2 are supported");
    });
  }
};
struct ArgParam {
  std::optional<int64_t> axis;
  bool keepdims = false;
  static void describe(ParamDecl<ArgParam> &d) {
    d.field("axis", &ArgParam::axis).def(std::optional<int64_t>())
        .doc("Axis to search; None searches the flattened input.");
    d.field("keepdims", &ArgParam::keepdims).def(false).doc("Keep the reduced axis with size 1.");
  }
};
struct ReshapeToParam {
  std::vector<int64_t> shape;
  static void describe(ParamDecl<ReshapeToParam> &d) {
    d.field("shape", &ReshapeToParam::shape).required().doc("Target shape (same number of elements).");
  }
};

// Which axes of an `ndim` input are reduced.
std::vector<bool> reduced_axes(const std::vector<std::optional<int64_t>> &axis, bool exclude, int ndim,
                               const char *op) {
  std::vector<bool> red(static_cast<size_t>(ndim), false);
  bool all = axis.empty();
  for (auto &a : axis) all = all || !a.has_value();
  if (all) {
    std::fill(red.begin(), red.end(), true);
    return red;
  }
  std::vector<bool> named(static_cast<size_t>(ndim), false);
  for (auto &a : axis) {
    int64_t v = *a;
    if (v < -ndim || v >= ndim)
      fail(MX_ERR_INVALID_ARGUMENT, op, ": parameter 'axis' has value ", v, " which is out of range for an input with ",
           ndim, " dimensions");
    int ax = static_cast<int>(v < 0 ? v + ndim : v);
    MX_CHECK(!named[static_cast<size_t>(ax)], MX_ERR_INVALID_ARGUMENT, op, ": parameter 'axis' names axis ", v,
             " twice");
    named[static_cast<size_t>(ax)] = true;
  }
  for (int i = 0; i < ndim; ++i) red[static_cast<size_t>(i)] = exclude ? !named[static_cast<size_t>(i)] : named[static_cast<size_t>(i)];
  return red;
}

Shape reduced_shape(const Shape &in, const std::vector<bool> &red, bool keepdims) {
  std::vector<int64_t> d;
  for (int i = 0; i < in.ndim(); ++i) {
    if (!red[static_cast<size_t>(i)]) d.push_back(in[i]);
    else if (keepdims) d.push_back(1);
  }
  if (d.empty() && in.ndim() > 0) d.push_back(1);  // MXNet 1.x has no 0-d arrays: (1,)
  return Shape(d);
}

// Reducers (SumR, ..., L2R) are shared with the CUDA kernels: ops/formulas/reduce.h.
using namespace formula;

// Adjacent axes merged into groups of (size, reduced); size-1 axes dropped.
struct Groups {
  std::vector<int64_t> size;
  std::vector<bool> red;
};
Groups merge_groups(const Shape &in, const std::vector<bool> &red) {
  Groups g;
  for (int i = 0; i < in.ndim(); ++i) {
    if (in[i] == 1) continue;
    bool r = red[static_cast<size_t>(i)];
    if (!g.size.empty() && g.red.back() == r) g.size.back() *= in[i];
    else {
      g.size.push_back(in[i]);
      g.red.push_back(r);
    }
  }
  return g;
}

template <typename R, typename T> inline typename R::A reduce_contig(const T *x, int64_t n) {
  using A = typename R::A;
  A a0 = R::init(), a1 = R::init(), a2 = R::init(), a3 = R::init();
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 = R::step(a0, x[i]);
    a1 = R::step(a1, x[i + 1]);
    a2 = R::step(a2, x[i + 2]);
    a3 = R::step(a3, x[i + 3]);
  }
  for (; i < n; ++i) a0 = R::step(a0, x[i]);
  return R::comb(R::comb(a0, a1), R::comb(a2, a3));
}

template <template <typename> class RT, typename T>
void reduce_kernel(const NDArray &in, const NDArray &out, const std::vector<bool> &red) {
  using R = RT<T>;
  using A = typename R::A;
  const T *x = in.data<T>();
  T *y = out.data<T>();
  const int64_t nout = out.size();
  const int64_t count = nout ? in.size() / nout : 0;
  if (nout == 0) return;
  if (in.size() == 0) {
    for (int64_t i = 0; i < nout; ++i) y[i] = R::fin(R::init(), 0);
    return;
  }
  Groups g = merge_groups(in.shape(), red);
  int ng = static_cast<int>(g.size.size());
  int nred = 0;
  for (bool r : g.red) nred += r;
  if (nred == 0) {  // nothing reduced: element-wise finalize
    parallel_for(nout, kElemGrain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) y[i] = R::fin(R::step(R::init(), x[i]), 1);
    });
    return;
  }
  if (nred == 1) {
    // Layout (M, Rn, N) with M, N products of kept groups (possibly 1).
    int rg = 0;
    while (!g.red[static_cast<size_t>(rg)]) ++rg;
    int64_t M = 1, Rn = g.size[static_cast<size_t>(rg)], N = 1;
    for (int i = 0; i < rg; ++i) M *= g.size[static_cast<size_t>(i)];
    for (int i = rg + 1; i < ng; ++i) N *= g.size[static_cast<size_t>(i)];
    if (N == 1) {
      parallel_for(M, std::max<int64_t>(1, kElemGrain / Rn), [&](int64_t s, int64_t e) {
        for (int64_t m = s; m < e; ++m) y[m] = R::fin(reduce_contig<R>(x + m * Rn, Rn), Rn);
      });
      return;
    }
    // Parallel over (m, column block); each accumulates rows over r into a column buffer.
    const int64_t kBlock = 1024;
    const int64_t nblk = (N + kBlock - 1) / kBlock;
    parallel_for(M * nblk, std::max<int64_t>(1, kElemGrain / (Rn * std::min(N, kBlock))), [&](int64_t s, int64_t e) {
      std::vector<A> acc(static_cast<size_t>(std::min(N, kBlock)));
      for (int64_t t = s; t < e; ++t) {
        int64_t m = t / nblk, j0 = (t % nblk) * kBlock, j1 = std::min(N, j0 + kBlock), w = j1 - j0;
        for (int64_t j = 0; j < w; ++j) acc[static_cast<size_t>(j)] = R::init();
        A *a = acc.data();
        for (int64_t r = 0; r < Rn; ++r) {
          const T *row = x + (m * Rn + r) * N + j0;
          for (int64_t j = 0; j < w; ++j) a[j] = R::step(a[j], row[j]);
        }
        T *dst = y + m * N + j0;
        for (int64_t j = 0; j < w; ++j) dst[j] = R::fin(a[j], Rn);
      }
    });
    return;
  }
  // General: odometer over the reduced groups for each output element.
  std::vector<int64_t> stride(static_cast<size_t>(ng));
  {
    int64_t s = 1;
    for (int i = ng - 1; i >= 0; --i) {
      stride[static_cast<size_t>(i)] = s;
      s *= g.size[static_cast<size_t>(i)];
    }
  }
  std::vector<int64_t> ksize, kstride, rsize, rstride;
  for (int i = 0; i < ng; ++i) {
    if (g.red[static_cast<size_t>(i)]) {
      rsize.push_back(g.size[static_cast<size_t>(i)]);
      rstride.push_back(stride[static_cast<size_t>(i)]);
    } else {
      ksize.push_back(g.size[static_cast<size_t>(i)]);
      kstride.push_back(stride[static_cast<size_t>(i)]);
    }
  }
  const bool inner_contig = g.red.back();
  const int nr = static_cast<int>(rsize.size());
  const int64_t inner = inner_contig ? rsize.back() : 1;
  const int64_t outer_red = count / inner;
  parallel_for(nout, std::max<int64_t>(1, kElemGrain / count), [&](int64_t s, int64_t e) {
    std::vector<int64_t> idx(static_cast<size_t>(nr));
    for (int64_t o = s; o < e; ++o) {
      int64_t rem = o, base = 0;
      for (int k = static_cast<int>(ksize.size()) - 1; k >= 0; --k) {
        base += (rem % ksize[static_cast<size_t>(k)]) * kstride[static_cast<size_t>(k)];
        rem /= ksize[static_cast<size_t>(k)];
      }
      A a = R::init();
      std::fill(idx.begin(), idx.end(), 0);
      const int nodo = inner_contig ? nr - 1 : nr;  // odometer dims
      for (int64_t t = 0; t < outer_red; ++t) {
        int64_t off = base;
        for (int k = 0; k < nodo; ++k) off += idx[static_cast<size_t>(k)] * rstride[static_cast<size_t>(k)];
        if (inner_contig) a = R::comb(a, reduce_contig<R>(x + off, inner));
        else a = R::step(a, x[off]);
        for (int k = nodo - 1; k >= 0; --k) {
          if (++idx[static_cast<size_t>(k)] < rsize[static_cast<size_t>(k)]) break;
          idx[static_cast<size_t>(k)] = 0;
        }
      }
      y[o] = R::fin(a, count);
    }
  });
}

bool infer_reduce(const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  if (!in[0].known()) return false;
  const auto &rp = p.get<ReduceParam>();
  const char *op = p.op->name.c_str();
  auto red = reduced_axes(rp.axis, rp.exclude, in[0].ndim(), op);
  assign_shape(out[0], reduced_shape(in[0], red, rp.keepdims), op, "output");
  return true;
}

// Gradient helpers: bring a reduced Var back to the input's shape.
Var expand_to(GradBuilder &b, Var v, const Shape &in, const std::vector<bool> &red) {
  Shape keep = reduced_shape(in, red, true);
  if (b.shape(v) != keep) v = b.emit1("_reshape_to", {{"shape", keep.str()}}, {v});
  if (keep != in) v = b.emit1("broadcast_to", {{"shape", in.str()}}, {v});
  return v;
}

enum class GradKind { Sum, Mean, Extreme, Prod, NanSum, NanProd, None };

GradFn reduce_grad(GradKind kind) {
  return [kind](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
    const auto &rp = n.p<ReduceParam>();
    Shape in = b.shape(n.inputs[0]);
    auto red = reduced_axes(rp.axis, rp.exclude, in.ndim(), n.op->name.c_str());
    Var g = expand_to(b, n.out_grads[0], in, red);
    Var x = n.inputs[0];
    switch (kind) {
      case GradKind::Sum: return {g};
      case GradKind::Mean: {
        int64_t out_n = reduced_shape(in, red, false).size();
        double cnt = out_n ? static_cast<double>(in.size()) / static_cast<double>(out_n) : 1.0;
        return {b.emit1("_div_scalar", {{"scalar", print_value(cnt)}}, {g})};
      }
      case GradKind::Extreme: {
        Var y = expand_to(b, n.outputs[0], in, red);
        Var mask = b.emit1("broadcast_equal", {}, {x, y});
        return {b.emit1("broadcast_mul", {}, {g, mask})};
      }
      case GradKind::Prod: {
        Var y = expand_to(b, n.outputs[0], in, red);
        return {b.emit1("broadcast_mul", {}, {g, b.emit1("broadcast_div", {}, {y, x})})};
      }
      case GradKind::NanSum: {
        Var mask = b.emit1("broadcast_equal", {}, {x, x});
        return {b.emit1("broadcast_mul", {}, {g, mask})};
      }
      case GradKind::NanProd: {
        Var y = expand_to(b, n.outputs[0], in, red);
        return {b.emit1("_backward_nanprod", {}, {g, x, y})};
      }
      default: return {Var::none()};
    }
  };
}

// GPU: the same reducers in backends/cuda/reduce.cu.
KernelFn reduce_gpu(ReduceOp r) {
  return cuda_only([r](const OpCall &c) {
    const auto &rp = c.p<ReduceParam>();
    const char *op = c.params.op->name.c_str();
    gpu_reduce(r, c.inputs[0], c.outputs[0], reduced_axes(rp.axis, rp.exclude, c.inputs[0].ndim(), op), op);
  });
}

template <template <typename> class RT> KernelFn reduce_cpu(bool numeric) {
  return [numeric](const OpCall &c) {
    const auto &rp = c.p<ReduceParam>();
    const char *op = c.params.op->name.c_str();
    auto red = reduced_axes(rp.axis, rp.exclude, c.inputs[0].ndim(), op);
    if (numeric) {
      MX_DTYPE_SWITCH_NUMERIC(c.inputs[0].dtype(), T, op, { reduce_kernel<RT, T>(c.inputs[0], c.outputs[0], red); });
    } else {
      MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, op, { reduce_kernel<RT, T>(c.inputs[0], c.outputs[0], red); });
    }
  };
}

// max/min have no identity: reducing an empty set of elements is an error (as numpy's and MXNet's
// zero-size reductions), not a silent +-inf.
KernelFn no_identity(KernelFn k) {
  if (!k) return k;  // no GPU kernel in this build
  return [k](const OpCall &c) {
    const char *op = c.params.op->name.c_str();
    MX_CHECK(c.inputs[0].size() > 0 || c.outputs[0].size() == 0, MX_ERR_INVALID_ARGUMENT, op,
             ": zero-size array (shape ", c.inputs[0].shape().str(), ") to reduction operation ", op,
             ", which has no identity");
    k(c);
  };
}

void reg_reduce(const char *name, std::vector<const char *> aliases, const char *doc, KernelFn k, KernelFn gk_,
                std::vector<DType> dtypes, GradKind gk) {
  OpBuilder &ob = OpBuilder::create(name);
  for (auto a : aliases) ob.alias(a);
  ob.doc(doc).params<ReduceParam>().inputs({"data"}).dtypes(std::move(dtypes)).shape(infer_reduce).cpu(std::move(k));
  // float16/bfloat16 computed natively by the GPU kernel (float loads, the float reducer).
  if (gk_) ob.gpu_dtypes(cuda_half_dtypes());
  ob.gpu(std::move(gk_));
  ob.grad(reduce_grad(gk));
}

// ---- argmax / argmin: index (in the input's dtype) of the first extreme element.
template <typename T, bool IsMax>
void arg_kernel(const NDArray &in, const NDArray &out, int64_t M, int64_t Rn, int64_t N) {
  const formula::ArgExtreme<T, IsMax> f{Rn, N, in.data<T>(), out.data<T>()};
  parallel_for(M * N, std::max<int64_t>(1, kElemGrain / std::max<int64_t>(Rn, 1)), [&](int64_t s, int64_t e) {
    for (int64_t t = s; t < e; ++t) f(t);
  });
}

struct ArgLayout {
  int64_t M, Rn, N;
  Shape out;
};
ArgLayout arg_layout(const Shape &in, std::optional<int64_t> axis, bool keepdims, const char *op) {
  ArgLayout l;
  if (!axis) {
    l.M = 1;
    l.Rn = in.size();
    l.N = 1;
    l.out = keepdims ? Shape(std::vector<int64_t>(static_cast<size_t>(in.ndim()), 1)) : Shape{1};
    if (!keepdims && in.ndim() == 0) l.out = Shape{1};
  } else {
    int nd = in.ndim();
    int64_t v = *axis;
    if (v < -nd || v >= nd)
      fail(MX_ERR_INVALID_ARGUMENT, op, ": parameter 'axis' has value ", v, " which is out of range for an input with ",
           nd, " dimensions");
    int ax = static_cast<int>(v < 0 ? v + nd : v);
    l.M = in.prod(0, ax);
    l.Rn = in[ax];
    l.N = in.prod(ax + 1, nd);
    std::vector<int64_t> d;
    for (int i = 0; i < nd; ++i) {
      if (i != ax) d.push_back(in[i]);
      else if (keepdims) d.push_back(1);
    }
    l.out = Shape(d);
  }
  MX_CHECK(l.Rn > 0, MX_ERR_SHAPE, op, ": cannot search an empty axis of input shape ", in.str());
  return l;
}

template <bool IsMax> void reg_arg(const char *name, bool channel) {
  OpBuilder &ob = OpBuilder::create(name);
  ob.doc(channel ? "Index of the maximum along the last axis (as the input's dtype)."
                 : (IsMax ? "Indices of the maximum values along an axis (as the input's dtype)."
                          : "Indices of the minimum values along an axis (as the input's dtype)."))
      .inputs({"data"})
      .dtypes({DType::f32, DType::f64, DType::i32, DType::i64})
      .no_grad();
  if (!channel) ob.params<ArgParam>();
  ob.shape([channel](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
    if (!in[0].known()) return false;
    auto l = channel ? arg_layout(in[0], std::optional<int64_t>(-1), false, p.op->name.c_str())
                     : arg_layout(in[0], p.get<ArgParam>().axis, p.get<ArgParam>().keepdims, p.op->name.c_str());
    assign_shape(out[0], l.out, p.op->name.c_str(), "output");
    return true;
  });
  ob.cpu([channel](const OpCall &c) {
    const char *op = c.params.op->name.c_str();
    auto l = channel ? arg_layout(c.inputs[0].shape(), std::optional<int64_t>(-1), false, op)
                     : arg_layout(c.inputs[0].shape(), c.p<ArgParam>().axis, c.p<ArgParam>().keepdims, op);
    switch (c.inputs[0].dtype()) {
      case DType::f32: arg_kernel<float, IsMax>(c.inputs[0], c.outputs[0], l.M, l.Rn, l.N); break;
      case DType::f64: arg_kernel<double, IsMax>(c.inputs[0], c.outputs[0], l.M, l.Rn, l.N); break;
      case DType::i32: arg_kernel<int32_t, IsMax>(c.inputs[0], c.outputs[0], l.M, l.Rn, l.N); break;
      case DType::i64: arg_kernel<int64_t, IsMax>(c.inputs[0], c.outputs[0], l.M, l.Rn, l.N); break;
      default: fail(MX_ERR_TYPE, op, ": dtype ", dtype_name(c.inputs[0].dtype()), " is not supported");
    }
  });
  ob.gpu(cuda_only([channel](const OpCall &c) {
    const char *op = c.params.op->name.c_str();
    auto l = channel ? arg_layout(c.inputs[0].shape(), std::optional<int64_t>(-1), false, op)
                     : arg_layout(c.inputs[0].shape(), c.p<ArgParam>().axis, c.p<ArgParam>().keepdims, op);
    gpu_arg_extreme(c.inputs[0], c.outputs[0], l.M, l.Rn, l.N, IsMax, op);
  }));
}

// One kernel for both devices (the reduction itself is reduce_kernel or gpu_reduce).
void norm_kernel(const OpCall &c) {
  const auto &np = c.p<NormParam>();
  auto red = reduced_axes(np.axis, false, c.inputs[0].ndim(), "norm");
  NDArray out = c.outputs[0];
  if (out.dtype() != c.inputs[0].dtype()) out = NDArray(out.shape(), c.inputs[0].dtype(), out.device());
  if (!out.device().is_cpu()) {
    gpu_reduce(np.ord == 1 ? ReduceOp::L1 : ReduceOp::L2, c.inputs[0], out, red, "norm");
  } else {
    MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "norm", {
      if (np.ord == 1) reduce_kernel<L1R, T>(c.inputs[0], out, red);
      else reduce_kernel<L2R, T>(c.inputs[0], out, red);
    });
  }
  if (!out.same_data(c.outputs[0])) c.outputs[0].assign(out);
}

// A flat copy on either device (NDArray::assign copies on the GPU too).
void reshape_to_kernel(const OpCall &c) {
  if (c.inputs[0].same_data(c.outputs[0])) return;
  c.outputs[0].assign(c.inputs[0].reshape(c.outputs[0].shape()));
}

int register_all() {
  reg_reduce("sum", {"sum_axis"}, "Sum over the given axes.", reduce_cpu<SumR>(true), reduce_gpu(ReduceOp::Sum), kNumeric, GradKind::Sum);
  reg_reduce("mean", {}, "Mean over the given axes.", reduce_cpu<MeanR>(true), reduce_gpu(ReduceOp::Mean), kNumeric, GradKind::Mean);
  reg_reduce("prod", {}, "Product over the given axes.", reduce_cpu<ProdR>(true), reduce_gpu(ReduceOp::Prod), kNumeric, GradKind::Prod);
  reg_reduce("max", {"max_axis"}, "Maximum over the given axes.", no_identity(reduce_cpu<MaxR>(true)), no_identity(reduce_gpu(ReduceOp::Max)), kNumeric, GradKind::Extreme);
  reg_reduce("min", {"min_axis"}, "Minimum over the given axes.", no_identity(reduce_cpu<MinR>(true)), no_identity(reduce_gpu(ReduceOp::Min)), kNumeric, GradKind::Extreme);
  reg_reduce("nansum", {}, "Sum over the given axes, treating NaN as zero.", reduce_cpu<NanSumR>(false), reduce_gpu(ReduceOp::NanSum), kFloat,
             GradKind::NanSum);
  reg_reduce("nanprod", {}, "Product over the given axes, treating NaN as one.", reduce_cpu<NanProdR>(false), reduce_gpu(ReduceOp::NanProd), kFloat,
             GradKind::NanProd);

  OpBuilder::create("_backward_nanprod")
      .doc("Backward of nanprod: out_grad * out / data where data is not NaN, else 0.")
      .inputs({"out_grad", "data", "out"})
      .shape(infer_shape_same)
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_nanprod", {
          const T *g = c.inputs[0].data<T>(), *x = c.inputs[1].data<T>(), *y = c.inputs[2].data<T>();
          T *o = c.outputs[0].data<T>();
          parallel_for(c.outputs[0].size(), kElemGrain, [&](int64_t s, int64_t e) {
            for (int64_t i = s; i < e; ++i) o[i] = std::isnan(x[i]) ? T(0) : g[i] * y[i] / x[i];
          });
        });
      })
      .no_grad();

  MX_REGISTER_OP(norm)
      .doc("L1 or L2 norm over the given axes (all axes by default).")
      .params<NormParam>()
      .inputs({"data"})
      .dtypes(kFloat)
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &np = p.get<NormParam>();
        auto red = reduced_axes(np.axis, false, in[0].ndim(), "norm");
        Shape s = reduced_shape(in[0], red, np.keepdims);
        assign_shape(out[0], s, "norm", "output");
        return true;
      })
      .type([](const Params &p, TypeVec &in, TypeVec &, TypeVec &out) {
        const auto &np = p.get<NormParam>();
        if (np.out_dtype != "None") out[0] = static_cast<int>(dtype_from_name(np.out_dtype));
        else if (in[0] >= 0) out[0] = in[0];
        return in[0] >= 0 && out[0] >= 0;
      })
      .cpu(norm_kernel)
      .gpu(cuda_only(norm_kernel))
      .gpu_dtypes(cuda_half_dtypes())
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &np = n.p<NormParam>();
        Shape in = b.shape(n.inputs[0]);
        auto red = reduced_axes(np.axis, false, in.ndim(), "norm");
        Var g = n.out_grads[0], y = n.outputs[0];
        if (b.dtype(g) != b.dtype(n.inputs[0])) {
          g = b.emit1("Cast", {{"dtype", dtype_name(b.dtype(n.inputs[0]))}}, {g});
          y = b.emit1("Cast", {{"dtype", dtype_name(b.dtype(n.inputs[0]))}}, {y});
        }
        g = expand_to(b, g, in, red);
        if (np.ord == 1) return {b.emit1("broadcast_mul", {}, {g, b.emit1("sign", {}, {n.inputs[0]})})};
        y = expand_to(b, y, in, red);
        return {b.emit1("broadcast_mul", {}, {g, b.emit1("broadcast_div", {}, {n.inputs[0], y})})};
      });

  reg_arg<true>("argmax", false);
  reg_arg<false>("argmin", false);
  reg_arg<true>("argmax_channel", true);

  MX_REGISTER_OP(_reshape_to)
      .doc("Copies the input into `shape` (same number of elements).")
      .params<ReshapeToParam>()
      .inputs({"data"})
      .dtypes(kAll)
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        Shape t(p.get<ReshapeToParam>().shape);
        MX_CHECK(t.size() == in[0].size(), MX_ERR_SHAPE, "_reshape_to: cannot reshape ", in[0].str(), " (",
                 in[0].size(), " elements) to ", t.str());
        assign_shape(out[0], t, "_reshape_to", "output");
        return true;
      })
      .cpu(reshape_to_kernel)
      .gpu(cuda_only(reshape_to_kernel))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit1("_reshape_to", {{"shape", b.shape(n.inputs[0]).str()}}, {n.out_grads[0]})};
      });
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace mx
