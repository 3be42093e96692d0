// Unary element-wise ops: one functor per op, registered from a table. Gradients are written
// with other registered ops where cheap (so higher-order gradients work); the others use one
// fused hidden op `_backward_<name>(out_grad, data)` computing out_grad * f'(data).
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "backends/cpu/fast_math.h"
#include "ops/cuda_only.h"
#include "ops/elemwise_common.h"
#include "ops/elemwise_gpu.h"
#include "ops/formulas/select.h"
#include "ops/formulas/unary.h"
#include "ops/shape_gpu.h"

namespace mx {
namespace {

const std::vector<DType> &kFloat = kFloatTypes;
const std::vector<DType> &kNumeric = kNumericTypes;
const std::vector<DType> &kAll = kAllTypes;


// The element formulas (Sqrt, ..., Reciprocal; DRsqrt, ... for fused backward) are shared with
// the CUDA kernels: ops/formulas/unary.h.
using namespace formula;

// CPU and CUDA kernels of one op (the CUDA one empty when the op is CPU-only or the build has
// no CUDA). A lone CPU kernel converts implicitly.
struct Kernels {
  KernelFn cpu, gpu;
  bool gpu_half = false;  // the GPU kernel computes float16/bfloat16 natively (elemwise_unary.cu)
  Kernels(KernelFn c, KernelFn g) : cpu(std::move(c)), gpu(std::move(g)) {}
  template <typename L, typename = std::enable_if_t<std::is_invocable<L, const OpCall &>::value>>
  Kernels(L l) : cpu(std::move(l)) {}
};
// Device-agnostic kernels (copies, fills): the same function on both (GPU in CUDA builds only).
Kernels both(KernelFn f) { return Kernels(f, cuda_only(f)); }

template <typename F> Kernels float_kernel() {
  Kernels k([](const OpCall &c) {
    MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, c.params.op->name, {
      map_unary<T, T>(c.inputs[0], c.outputs[0], [](T x) { return F::template f<T>(x); });
    });
  }, gpu_unary_kernel(F::id));
  k.gpu_half = true;
  return k;
}
template <typename F> Kernels numeric_kernel() {
  Kernels k([](const OpCall &c) {
    MX_DTYPE_SWITCH_NUMERIC(c.inputs[0].dtype(), T, c.params.op->name, {
      map_unary<T, T>(c.inputs[0], c.outputs[0], [](T x) { return F::template f<T>(x); });
    });
  }, gpu_unary_kernel(F::id));
  k.gpu_half = true;
  return k;
}

Kwargs skw(double v) { return {{"scalar", print_value(v)}}; }
Var mul(GradBuilder &b, Var x, Var y) { return b.emit1("broadcast_mul", {}, {x, y}); }
Var divv(GradBuilder &b, Var x, Var y) { return b.emit1("broadcast_div", {}, {x, y}); }
Var muls(GradBuilder &b, Var x, double s) { return b.emit1("_mul_scalar", skw(s), {x}); }
// Apply a hidden backward op that shares the forward op's parameter struct.
std::vector<Var> emitp(GradBuilder &b, const char *op, std::shared_ptr<const Params> p, const std::vector<Var> &in) {
  return b.emit(&Registry::get().require(op), std::move(p), in);
}

// Registers `_backward_<name>(out_grad, data) = out_grad * D::d(data)` and returns the gradient.
template <typename D> GradFn fused(const std::string &name) {
  std::string bw = "_backward_" + name;
  OpBuilder::create(bw.c_str())
      .doc("Fused backward of a unary op: out_grad * f'(data).")
      .inputs({"out_grad", "data"})
      .shape(infer_shape_same)
      .inplace({{0, 0}, {1, 0}})
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, c.params.op->name, {
          const NDArray &g = c.inputs[0], &x = c.inputs[1], &o = c.outputs[0];
          if (g.shape() == o.shape() && x.shape() == o.shape()) {
            // the usual case: one element loop, run by for_range (its AVX-512 build where the CPU
            // has it), which broadcast_binary's loops are not
            const T *pg = g.data<T>(), *px = x.data<T>();
            T *po = o.data<T>();
            parallel_for(o.size(), kElemGrain, [&](int64_t s, int64_t e) {
              for_range(s, e, [pg, px, po](int64_t i) { po[i] = pg[i] * D::template d<T>(px[i]); });
            });
          } else {
            broadcast_binary<T, T, T>(g, x, o, [](T gv, T xv) { return gv * D::template d<T>(xv); });
          }
        });
      })
      .gpu(gpu_unary_backward_kernel(D::id))
      .gpu_dtypes(gpu_half_dtypes(gpu_unary_backward_kernel(D::id)))
      .no_grad();
  return [bw](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
    return {b.emit1(bw, {}, {n.out_grads[0], n.inputs[0]})};
  };
}

GradFn zero_grad() {
  return [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
    return {b.emit1("zeros_like", {}, {n.inputs[0]})};
  };
}
GradFn pass_grad() {
  return [](GradBuilder &, const GradNode &n) -> std::vector<Var> { return {n.out_grads[0]}; };
}
// Gradient g * h(x, y) with h built from registered ops.
template <typename H> GradFn composed(H h) {
  return [h](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
    return {mul(b, n.out_grads[0], h(b, n.inputs[0], n.outputs[0]))};
  };
}

OpBuilder &reg(const char *name, std::vector<const char *> aliases, const char *doc, Kernels k,
               std::vector<DType> dtypes, GradFn g) {
  OpBuilder &ob = OpBuilder::create(name);
  for (auto a : aliases) ob.alias(a);
  // Every kernel registered here maps element i to element i (copies check for same_data).
  ob.doc(doc).inputs({"data"}).shape(infer_shape_same).dtypes(std::move(dtypes)).cpu(std::move(k.cpu)).inplace({{0, 0}});
  if (k.gpu && k.gpu_half) ob.gpu_dtypes(gpu_half_dtypes(k.gpu));
  if (k.gpu) ob.gpu(std::move(k.gpu));
  if (g) ob.grad(std::move(g));
  else ob.no_grad();
  return ob;
}

void copy_kernel(const OpCall &c) {  // any device (NDArray::assign copies on the GPU too)
  if (!c.inputs[0].same_data(c.outputs[0])) c.outputs[0].assign(c.inputs[0]);
}

// ---- params
struct ClipParam {
  double a_min, a_max;
  static void describe(ParamDecl<ClipParam> &d) {
    d.field("a_min", &ClipParam::a_min).required().doc("Minimum value.");
    d.field("a_max", &ClipParam::a_max).required().doc("Maximum value.");
  }
};
struct HardSigmoidParam {
  double alpha, beta;
  static void describe(ParamDecl<HardSigmoidParam> &d) {
    d.field("alpha", &HardSigmoidParam::alpha).def(0.2).doc("Slope of the hard sigmoid.");
    d.field("beta", &HardSigmoidParam::beta).def(0.5).doc("Bias of the hard sigmoid.");
  }
};
struct SmoothL1Param {
  double scalar;
  static void describe(ParamDecl<SmoothL1Param> &d) {
    d.field("scalar", &SmoothL1Param::scalar).def(1.0).doc("sigma: the quadratic region is |x| < 1/sigma^2.");
  }
};
struct CastParam {
  std::string dtype;
  static void describe(ParamDecl<CastParam> &d) {
    d.field("dtype", &CastParam::dtype).required().doc("Output dtype.")
        .choices({"bfloat16", "bool", "float16", "float32", "float64", "int32", "int64", "int8", "uint8"});
  }
};
struct MakeLossParam {
  double grad_scale, valid_thresh;
  std::string normalization;
  static void describe(ParamDecl<MakeLossParam> &d) {
    d.field("grad_scale", &MakeLossParam::grad_scale).def(1.0).doc("Gradient scale.");
    d.field("valid_thresh", &MakeLossParam::valid_thresh).def(0.0)
        .doc("Entries above this count as valid for normalization='valid'.");
    d.field("normalization", &MakeLossParam::normalization).def(std::string("null"))
        .choices({"null", "batch", "valid"}).doc("How the gradient is normalized.");
  }
};

int register_all() {
  // --- numeric (integer dtypes allowed)
  reg("abs", {}, "Element-wise absolute value.", numeric_kernel<Abs>(), kNumeric,
      composed([](GradBuilder &b, Var x, Var) { return b.emit1("sign", {}, {x}); }));
  reg("sign", {}, "Element-wise sign (-1, 0, 1).", numeric_kernel<Sign>(), kNumeric, zero_grad());
  reg("negative", {}, "Element-wise negation: -x (integer dtypes too).", numeric_kernel<Negative>(), kNumeric,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> { return {muls(b, n.out_grads[0], -1)}; });
  reg("square", {}, "Element-wise square: x * x (integer dtypes too).", numeric_kernel<Square>(), kNumeric,
      composed([](GradBuilder &b, Var x, Var) { return muls(b, x, 2); }));
  reg("relu", {}, "Rectified linear unit: max(x, 0).", numeric_kernel<Relu>(), kNumeric,
      composed([](GradBuilder &b, Var x, Var) { return b.emit1("_greater_scalar", skw(0), {x}); }));
  reg("logical_not", {}, "Element-wise logical not: 1 where x == 0, else 0.", numeric_kernel<LogicalNot>(),
      kNumeric, GradFn());
  reg("round", {}, "Round half away from zero.", numeric_kernel<Round>(), kNumeric, zero_grad());
  reg("rint", {}, "Round half to even.", numeric_kernel<Rint>(), kNumeric, zero_grad());
  reg("ceil", {}, "Element-wise ceiling: the smallest integer not less than x (integer dtypes pass through).", numeric_kernel<Ceil>(), kNumeric, zero_grad());
  reg("floor", {}, "Element-wise floor: the largest integer not greater than x (integer dtypes pass through).", numeric_kernel<Floor>(), kNumeric, zero_grad());
  reg("trunc", {}, "Truncate toward zero.", numeric_kernel<Trunc>(), kNumeric, zero_grad());
  reg("fix", {}, "Round toward zero.", numeric_kernel<Fix>(), kNumeric, zero_grad());

  // --- float math, composed gradients
  reg("sqrt", {}, "Element-wise square root.", float_kernel<Sqrt>(), kFloat,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {divv(b, muls(b, n.out_grads[0], 0.5), n.outputs[0])};
      });
  reg("exp", {}, "Element-wise exponential e^x.", float_kernel<Exp>(), kFloat,
      composed([](GradBuilder &, Var, Var y) { return y; }));
  reg("expm1", {}, "exp(x) - 1, accurate near 0.", float_kernel<Expm1>(), kFloat,
      composed([](GradBuilder &b, Var x, Var) { return b.emit1("exp", {}, {x}); }));
  reg("log", {}, "Element-wise natural logarithm ln(x): -inf at 0, NaN for x < 0.", float_kernel<Log>(), kFloat,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> { return {divv(b, n.out_grads[0], n.inputs[0])}; });
  reg("log10", {}, "Element-wise base-10 logarithm log10(x): -inf at 0, NaN for x < 0.", float_kernel<Log10>(), kFloat,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {divv(b, muls(b, n.out_grads[0], 1.0 / std::log(10.0)), n.inputs[0])};
      });
  reg("log2", {}, "Element-wise base-2 logarithm log2(x): -inf at 0, NaN for x < 0.", float_kernel<Log2>(), kFloat,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {divv(b, muls(b, n.out_grads[0], 1.0 / std::log(2.0)), n.inputs[0])};
      });
  reg("log1p", {}, "log(1 + x), accurate near 0.", float_kernel<Log1p>(), kFloat,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {divv(b, n.out_grads[0], b.emit1("_plus_scalar", skw(1), {n.inputs[0]}))};
      });
  reg("sin", {}, "Element-wise sine of x in radians.", float_kernel<Sin>(), kFloat,
      composed([](GradBuilder &b, Var x, Var) { return b.emit1("cos", {}, {x}); }));
  reg("cos", {}, "Element-wise cosine of x in radians.", float_kernel<Cos>(), kFloat,
      composed([](GradBuilder &b, Var x, Var) { return muls(b, b.emit1("sin", {}, {x}), -1); }));
  reg("sinh", {}, "Element-wise hyperbolic sine (e^x - e^-x) / 2.", float_kernel<Sinh>(), kFloat,
      composed([](GradBuilder &b, Var x, Var) { return b.emit1("cosh", {}, {x}); }));
  reg("cosh", {}, "Element-wise hyperbolic cosine (e^x + e^-x) / 2.", float_kernel<Cosh>(), kFloat,
      composed([](GradBuilder &b, Var x, Var) { return b.emit1("sinh", {}, {x}); }));
  reg("tanh", {}, "Element-wise hyperbolic tangent sinh(x) / cosh(x), in (-1, 1).", float_kernel<Tanh>(), kFloat,
      composed([](GradBuilder &b, Var, Var y) {
        return b.emit1("_rminus_scalar", skw(1), {b.emit1("square", {}, {y})});
      }));
  reg("sigmoid", {}, "Logistic sigmoid 1 / (1 + exp(-x)).", float_kernel<Sigmoid>(), kFloat,
      composed([](GradBuilder &b, Var, Var y) { return mul(b, y, b.emit1("_rminus_scalar", skw(1), {y})); }));
  reg("degrees", {}, "Radians to degrees.", float_kernel<Degrees>(), kFloat,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> { return {muls(b, n.out_grads[0], 180.0 / M_PI)}; });
  reg("radians", {}, "Degrees to radians.", float_kernel<Radians>(), kFloat,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> { return {muls(b, n.out_grads[0], M_PI / 180.0)}; });
  reg("reciprocal", {}, "Element-wise 1 / x.", float_kernel<Reciprocal>(), kFloat,
      composed([](GradBuilder &b, Var, Var y) { return muls(b, b.emit1("square", {}, {y}), -1); }));

  // --- float math, fused backward
  reg("rsqrt", {}, "1 / sqrt(x).", float_kernel<Rsqrt>(), kFloat, fused<DRsqrt>("rsqrt"));
  reg("cbrt", {}, "Element-wise cube root, defined for negative x too (cbrt(-8) = -2).", float_kernel<Cbrt>(), kFloat, fused<DCbrt>("cbrt"));
  reg("rcbrt", {}, "1 / cbrt(x).", float_kernel<Rcbrt>(), kFloat, fused<DRcbrt>("rcbrt"));
  reg("tan", {}, "Element-wise tangent of x in radians.", float_kernel<Tan>(), kFloat, fused<DTan>("tan"));
  reg("arcsin", {}, "Element-wise inverse sine, in radians [-pi/2, pi/2]; NaN outside [-1, 1].", float_kernel<Arcsin>(), kFloat, fused<DArcsin>("arcsin"));
  reg("arccos", {}, "Element-wise inverse cosine, in radians [0, pi]; NaN outside [-1, 1].", float_kernel<Arccos>(), kFloat, fused<DArccos>("arccos"));
  reg("arctan", {}, "Element-wise inverse tangent, in radians (-pi/2, pi/2).", float_kernel<Arctan>(), kFloat, fused<DArctan>("arctan"));
  reg("arcsinh", {}, "Inverse hyperbolic sine.", float_kernel<Arcsinh>(), kFloat, fused<DArcsinh>("arcsinh"));
  reg("arccosh", {}, "Inverse hyperbolic cosine.", float_kernel<Arccosh>(), kFloat, fused<DArccosh>("arccosh"));
  reg("arctanh", {}, "Inverse hyperbolic tangent.", float_kernel<Arctanh>(), kFloat, fused<DArctanh>("arctanh"));
  reg("softsign", {}, "x / (1 + |x|).", float_kernel<Softsign>(), kFloat, fused<DSoftsign>("softsign"));
  reg("erf", {}, "Gauss error function.", float_kernel<Erf>(), kFloat, fused<DErf>("erf"));
  reg("erfinv", {}, "Inverse error function.", float_kernel<Erfinv>(), kFloat, fused<DErfinv>("erfinv"));
  reg("gamma", {}, "Element-wise gamma function (gamma(n) = (n - 1)! for positive integers n).", float_kernel<Gamma>(), kFloat, fused<DGamma>("gamma"));
  reg("gammaln", {}, "Log of the absolute value of the gamma function.", float_kernel<Gammaln>(), kFloat,
      fused<DGammaln>("gammaln"));

  // --- parameterised
  reg("clip", {}, "Clips values to [a_min, a_max].",
      [](const OpCall &c) {
        const auto &p = c.p<ClipParam>();
        MX_DTYPE_SWITCH_NUMERIC(c.inputs[0].dtype(), T, "clip", {
          // Compare in double so bounds outside T's range (e.g. a_min=-1 for uint8) behave.
          const double lo = p.a_min, hi = p.a_max;
          map_unary<T, T>(c.inputs[0], c.outputs[0], [lo, hi](T x) { return formula::clip_value(x, lo, hi); });
        });
      },
      kNumeric,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emitp(b, "_backward_clip", n.params, {n.out_grads[0], n.inputs[0]})[0]};
      })
      .params<ClipParam>()
      .gpu(cuda_only([](const OpCall &c) {
        const auto &p = c.p<ClipParam>();
        gpu_param_unary(ParamUnary::Clip, c.inputs[0], c.outputs[0], p.a_min, p.a_max);
      }))
      .gpu_dtypes(cuda_half_dtypes());
  OpBuilder::create("_backward_clip")
      .doc("Backward of clip: out_grad where a_min <= data <= a_max, else 0.")
      .params<ClipParam>().inputs({"out_grad", "data"}).shape(infer_shape_same)
      .cpu([](const OpCall &c) {
        const auto &p = c.p<ClipParam>();
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_clip", {
          const T lo = static_cast<T>(p.a_min), hi = static_cast<T>(p.a_max);
          broadcast_binary<T, T, T>(c.inputs[0], c.inputs[1], c.outputs[0],
                                    [lo, hi](T g, T x) { return formula::clip_grad(g, x, lo, hi); });
        });
      })
      .gpu(cuda_only([](const OpCall &c) {
        const auto &p = c.p<ClipParam>();
        gpu_param_unary_backward(ParamUnary::Clip, c.inputs[0], c.inputs[1], c.outputs[0], p.a_min, p.a_max);
      }))
      .gpu_dtypes(cuda_half_dtypes())
      .no_grad();

  reg("hard_sigmoid", {}, "max(0, min(1, alpha * x + beta)).",
      [](const OpCall &c) {
        const auto &p = c.p<HardSigmoidParam>();
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "hard_sigmoid", {
          const T a = static_cast<T>(p.alpha), bb = static_cast<T>(p.beta);
          map_unary<T, T>(c.inputs[0], c.outputs[0], [a, bb](T x) { return formula::hard_sigmoid_value(x, a, bb); });
        });
      },
      kFloat,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emitp(b, "_backward_hard_sigmoid", n.params, {n.out_grads[0], n.inputs[0]})[0]};
      })
      .params<HardSigmoidParam>()
      .gpu(cuda_only([](const OpCall &c) {
        const auto &p = c.p<HardSigmoidParam>();
        gpu_param_unary(ParamUnary::HardSigmoid, c.inputs[0], c.outputs[0], p.alpha, p.beta);
      }))
      .gpu_dtypes(cuda_half_dtypes());
  OpBuilder::create("_backward_hard_sigmoid")
      .doc("Backward of hard_sigmoid.")
      .params<HardSigmoidParam>().inputs({"out_grad", "data"}).shape(infer_shape_same)
      .cpu([](const OpCall &c) {
        const auto &p = c.p<HardSigmoidParam>();
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_hard_sigmoid", {
          const T a = static_cast<T>(p.alpha), bb = static_cast<T>(p.beta);
          broadcast_binary<T, T, T>(c.inputs[0], c.inputs[1], c.outputs[0],
                                    [a, bb](T g, T x) { return formula::hard_sigmoid_grad(g, x, a, bb); });
        });
      })
      .gpu(cuda_only([](const OpCall &c) {
        const auto &p = c.p<HardSigmoidParam>();
        gpu_param_unary_backward(ParamUnary::HardSigmoid, c.inputs[0], c.inputs[1], c.outputs[0], p.alpha, p.beta);
      }))
      .gpu_dtypes(cuda_half_dtypes())
      .no_grad();

  reg("smooth_l1", {}, "Smooth L1: 0.5 (sigma x)^2 if |x| < 1/sigma^2, else |x| - 0.5/sigma^2.",
      [](const OpCall &c) {
        const double s2 = c.p<SmoothL1Param>().scalar * c.p<SmoothL1Param>().scalar;
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "smooth_l1", {
          const T sig2 = static_cast<T>(s2);
          map_unary<T, T>(c.inputs[0], c.outputs[0], [sig2](T x) { return formula::smooth_l1_value(x, sig2); });
        });
      },
      kFloat,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emitp(b, "_backward_smooth_l1", n.params, {n.out_grads[0], n.inputs[0]})[0]};
      })
      .params<SmoothL1Param>()
      .gpu(cuda_only([](const OpCall &c) {
        const double s = c.p<SmoothL1Param>().scalar;
        gpu_param_unary(ParamUnary::SmoothL1, c.inputs[0], c.outputs[0], s * s, 0);
      }))
      .gpu_dtypes(cuda_half_dtypes());
  OpBuilder::create("_backward_smooth_l1")
      .doc("Backward of smooth_l1.")
      .params<SmoothL1Param>().inputs({"out_grad", "data"}).shape(infer_shape_same)
      .cpu([](const OpCall &c) {
        const double s2 = c.p<SmoothL1Param>().scalar * c.p<SmoothL1Param>().scalar;
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_smooth_l1", {
          const T sig2 = static_cast<T>(s2);
          broadcast_binary<T, T, T>(c.inputs[0], c.inputs[1], c.outputs[0],
                                    [sig2](T g, T x) { return formula::smooth_l1_grad(g, x, sig2); });
        });
      })
      .gpu(cuda_only([](const OpCall &c) {
        const double s = c.p<SmoothL1Param>().scalar;
        gpu_param_unary_backward(ParamUnary::SmoothL1, c.inputs[0], c.inputs[1], c.outputs[0], s * s, 0);
      }))
      .gpu_dtypes(cuda_half_dtypes())
      .no_grad();

  // --- copies, constants and casts (every dtype)
  reg("identity", {"_copy"}, "Returns a copy of the input.", both(copy_kernel), kAll, pass_grad());
  reg("BlockGrad", {"stop_gradient"}, "Passes the input through; no gradient flows back.", both(copy_kernel), kAll,
      zero_grad());
  reg("make_loss", {}, "Marks the input as a loss: the gradient of the input is ones.", both(copy_kernel), kAll,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit1("ones_like", {}, {n.inputs[0]})};
      });
  reg("MakeLoss", {}, "Legacy loss marker: gradient grad_scale (normalized by batch or valid count).",
      both(copy_kernel), kAll,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emitp(b, "_backward_MakeLoss", n.params, {n.inputs[0]})[0]};
      })
      .params<MakeLossParam>();
  OpBuilder::create("_backward_MakeLoss")
      .doc("Backward of MakeLoss: grad_scale / normalizer everywhere.")
      .params<MakeLossParam>().inputs({"data"}).shape(infer_shape_same)
      .cpu([](const OpCall &c) {
        const auto &p = c.p<MakeLossParam>();
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_MakeLoss", {
          const T *x = c.inputs[0].data<T>();
          double norm = 1;
          if (p.normalization == "batch") {
            norm = c.inputs[0].ndim() > 0 ? static_cast<double>(c.inputs[0].shape()[0]) : 1.0;
          } else if (p.normalization == "valid") {
            int64_t cnt = 0;
            for (int64_t i = 0; i < c.inputs[0].size(); ++i) cnt += static_cast<double>(x[i]) > p.valid_thresh;
            norm = cnt > 0 ? static_cast<double>(cnt) : 1.0;
          }
          c.outputs[0].fill(p.grad_scale / norm);
        });
      })
      .no_grad();
  reg("zeros_like", {}, "An array of zeros with the input's shape and dtype.",
      both([](const OpCall &c) { c.outputs[0].fill(0); }), kAll, GradFn());
  reg("ones_like", {}, "An array of ones with the input's shape and dtype.",
      both([](const OpCall &c) { c.outputs[0].fill(1); }), kAll, GradFn());
  reg("Cast", {"cast"}, "Casts the input to `dtype`.",
      Kernels(
          [](const OpCall &c) {
            const NDArray &in = c.inputs[0], &out = c.outputs[0];
            if (in.dtype() == out.dtype()) copy_kernel(c);
            else convert_buffer(in.raw(), in.dtype(), out.raw(), out.dtype(), in.size());
          },
          // GPU: a copy, or the conversion kernel (NDArray::assign -> backends/cuda/cast.cu).
          cuda_only(copy_kernel)),
      kAll,
      [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        // as MXNet, also for integer inputs: the head gradient cast back to the input's dtype
        DType t = b.dtype(n.inputs[0]);
        return {b.emit1("Cast", {{"dtype", dtype_name(t)}}, {n.out_grads[0]})};
      })
      .params<CastParam>()
      .type([](const Params &p, TypeVec &in, TypeVec &, TypeVec &out) {
        int t = static_cast<int>(dtype_from_name(p.get<CastParam>().dtype));
        if (out[0] >= 0 && out[0] != t)
          fail(MX_ERR_TYPE, "Cast: output has dtype ", dtype_name(static_cast<DType>(out[0])), " but dtype=",
               p.get<CastParam>().dtype, " was asked");
        out[0] = t;
        return in[0] >= 0;
      });
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace mx
