// MXNet 1.x's LAMB update operators: lamb_update_phase1 / lamb_update_phase2 and the
// multi-precision mp_lamb_update_phase1 / mp_lamb_update_phase2. Phase 1 steps mean and var (aux
// states, updated in place) and returns the direction g; the caller computes r1 = weight.norm()
// and r2 = g.norm() and phase 2 returns weight - lr * r1 / r2 * g. The element steps are
// formulas/lamb.h's, on the host here and in backends/cuda/optimizer_lamb.cu on a GPU (where phase
// 2 reads r1 and r2 on the device).
#include <cmath>

#include "base/half_hd.h"
#include "ops/cuda_only.h"
#include "ops/optimizer_gpu.h"
#include "ops/registry.h"

namespace mx {
namespace {

struct LambPhase1Param {
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-6, wd = 0, rescale_grad = 1, clip_gradient = -1;
  int64_t t = 0;
  bool bias_correction = true;
  static void describe(ParamDecl<LambPhase1Param> &d) {
    d.field("beta1", &LambPhase1Param::beta1).def(0.9).doc("The decay rate for the 1st moment estimates.");
    d.field("beta2", &LambPhase1Param::beta2).def(0.999).doc("The decay rate for the 2nd moment estimates.");
    d.field("epsilon", &LambPhase1Param::epsilon).def(1e-6).doc("A small constant for numerical stability.");
    d.field("t", &LambPhase1Param::t).required().doc("Index update count.");
    d.field("bias_correction", &LambPhase1Param::bias_correction).def(true).doc("Whether to use bias correction.");
    d.field("wd", &LambPhase1Param::wd).required().doc("Weight decay augments the objective function with a "
                                                         "regularization term that penalizes large weights.");
    d.field("rescale_grad", &LambPhase1Param::rescale_grad).def(1.0).doc("Rescale gradient to grad = rescale_grad*grad.");
    d.field("clip_gradient", &LambPhase1Param::clip_gradient).def(-1.0)
        .doc("Clip gradient to the range of [-clip_gradient, clip_gradient] If clip_gradient <= 0, gradient "
             "clipping is turned off. grad = max(min(grad, clip_gradient), -clip_gradient).");
  }
};
struct LambPhase2Param {
  double lr = 0, lower_bound = -1, upper_bound = -1;
  static void describe(ParamDecl<LambPhase2Param> &d) {
    d.field("lr", &LambPhase2Param::lr).required().doc("Learning rate");
    d.field("lower_bound", &LambPhase2Param::lower_bound).def(-1.0)
        .doc("Lower limit of norm of weight. If lower_bound <= 0, Lower limit is not set");
    d.field("upper_bound", &LambPhase2Param::upper_bound).def(-1.0)
        .doc("Upper limit of norm of weight. If upper_bound <= 0, Upper limit is not set");
  }
};

template <typename T> LambCoef<T> phase1_coef(const OpCall &c) {
  const auto &p = c.p<LambPhase1Param>();
  LambCoef<T> k;
  k.beta1 = T(p.beta1);
  k.beta2 = T(p.beta2);
  k.eps = T(p.epsilon);
  k.wd = T(p.wd);
  k.re = T(p.rescale_grad);
  k.clip = T(p.clip_gradient);
  k.c1 = T(1.0 - std::pow(p.beta1, static_cast<double>(p.t)));
  k.c2 = T(1.0 - std::pow(p.beta2, static_cast<double>(p.t)));
  k.bc = p.bias_correction;
  return k;
}

// Weight-shaped arrays share one shape; r1 and r2 (phase 2's inputs 2 and 3) hold one element.
bool lamb_shape(const Params &p, ShapeVec &in, ShapeVec &aux, ShapeVec &out) {
  const char *op = p.op ? p.op->name.c_str() : "lamb update";
  const bool phase2 = in.size() == 4;
  auto is_norm = [&](size_t i) { return phase2 && (i == 2 || i == 3); };
  Shape s;
  for (size_t i = 0; i < in.size(); ++i)
    if (!s.known() && in[i].known() && !is_norm(i)) s = in[i];
  for (auto &x : aux)
    if (!s.known() && x.known()) s = x;
  if (!s.known() && out[0].known()) s = out[0];
  if (!s.known()) return false;
  static const char *names1[] = {"weight", "grad"}, *names2[] = {"weight", "g", "r1", "r2"};
  for (size_t i = 0; i < in.size(); ++i)
    assign_shape(in[i], is_norm(i) ? Shape{1} : s, op, phase2 ? names2[i] : names1[i]);
  for (size_t i = 0; i < aux.size(); ++i) assign_shape(aux[i], s, op, p.op ? p.op->aux_names[i] : "state");
  assign_shape(out[0], s, op, "output");
  return true;
}

// mp forms: weight (and phase 1's grad) float16, bfloat16 or float32; every other array float32;
// the output is float32 (phase 1's g) or the weight's dtype (phase 2).
bool mp_lamb_type(const Params &p, TypeVec &in, TypeVec &aux, TypeVec &out) {
  const char *op = p.op ? p.op->name.c_str() : "mp lamb update";
  const bool phase2 = in.size() == 4;
  int t = in[0] >= 0 ? in[0] : (!phase2 && in[1] >= 0) ? in[1] : phase2 ? out[0] : -1;
  if (t < 0) return false;
  const DType dt = static_cast<DType>(t);
  MX_CHECK(dt == DType::f16 || dt == DType::bf16 || dt == DType::f32, MX_ERR_TYPE, op,
           ": the weight must be float16, bfloat16 or float32, got ", dtype_name(dt));
  const int f32 = static_cast<int>(DType::f32);
  auto want = [&](int &v, int w, const std::string &what) {
    if (v < 0) v = w;
    MX_CHECK(v == w, MX_ERR_TYPE, op, ": ", what, " has dtype ", dtype_name(static_cast<DType>(v)), ", expected ",
             dtype_name(static_cast<DType>(w)));
  };
  want(in[0], t, "weight");
  if (phase2) {
    want(in[1], f32, "g");
    want(in[2], f32, "r1");
    want(in[3], f32, "r2");
  } else {
    want(in[1], t, "grad");
  }
  for (size_t i = 0; i < aux.size(); ++i) want(aux[i], f32, p.op ? p.op->aux_names[i] : "state");
  want(out[0], phase2 ? t : f32, "output");
  return true;
}

// ---- phase 1: (weight, grad | mean, var) -> g; mp: (weight, grad | mean, var, weight32) -> g (float32)

template <typename T, typename G>
void phase1_run(const LambCoef<T> &k, const NDArray &out, const T *w, const G *g, T *m, T *v, const char *op) {
  const int64_t n = out.size();
  T *o = out.data<T>();
  if (!out.device().is_cpu()) return gpu_lamb_phase1<T, G>(k, n, w, g, m, v, o, out.device().id, op);
  for (int64_t i = 0; i < n; ++i) lamb_phase1_element<T, G>(k, i, w, g, m, v, o);
}

void phase1_kernel(const OpCall &c) {
  const char *op = c.params.op->name.c_str();
  MX_DTYPE_SWITCH_FLOAT(c.outputs[0].dtype(), T, op, {
    phase1_run<T, T>(phase1_coef<T>(c), c.outputs[0], c.inputs[0].cdata<T>(), c.inputs[1].cdata<T>(),
                     c.aux[0].data<T>(), c.aux[1].data<T>(), op);
  });
}

void mp_phase1_kernel(const OpCall &c) {
  const char *op = c.params.op->name.c_str();
  const LambCoef<float> k = phase1_coef<float>(c);
  const float *w32 = c.aux[2].cdata<float>();
  float *m = c.aux[0].data<float>(), *v = c.aux[1].data<float>();
  const NDArray &g = c.inputs[1];
  switch (g.dtype()) {
    case DType::f16: return phase1_run(k, c.outputs[0], w32, hd_ptr(g.cdata<half_t>()), m, v, op);
    case DType::bf16: return phase1_run(k, c.outputs[0], w32, hd_ptr(g.cdata<bf16_t>()), m, v, op);
    default: return phase1_run(k, c.outputs[0], w32, g.cdata<float>(), m, v, op);
  }
}

// ---- phase 2: (weight, g, r1, r2) -> weight - lr * r1 / r2 * g; mp: the master copy weight32
// (aux) is the source and the output has the weight's dtype. As MXNet 1.9.1's kernel,
// mp_lamb_update_phase2 reads weight32 and does not write it.

template <typename T, typename O>
void phase2_run(const OpCall &c, const T *src, const NDArray &out, O *o) {
  const auto &p = c.p<LambPhase2Param>();
  const char *op = c.params.op->name.c_str();
  const T *g = c.inputs[1].cdata<T>(), *r1 = c.inputs[2].cdata<T>(), *r2 = c.inputs[3].cdata<T>();
  const int64_t n = out.size();
  if (!out.device().is_cpu())
    return gpu_lamb_phase2<T, O>(T(p.lr), T(p.lower_bound), T(p.upper_bound), false, n, r1, r2, src, g, o,
                                 out.device().id, op);
  const T lr = lamb_trust_lr(T(p.lr), r1[0], r2[0], T(p.lower_bound), T(p.upper_bound));
  for (int64_t i = 0; i < n; ++i) lamb_phase2_element<T, O>(lr, i, src, g, o);
}

void phase2_kernel(const OpCall &c) {
  const char *op = c.params.op->name.c_str();
  const NDArray &o = c.outputs[0];
  MX_DTYPE_SWITCH_FLOAT(o.dtype(), T, op, { phase2_run<T, T>(c, c.inputs[0].cdata<T>(), o, o.data<T>()); });
}

void mp_phase2_kernel(const OpCall &c) {
  const NDArray &o = c.outputs[0];
  const float *w32 = c.aux[0].cdata<float>();
  switch (o.dtype()) {
    case DType::f16: return phase2_run<float>(c, w32, o, hd_ptr(o.data<half_t>()));
    case DType::bf16: return phase2_run<float>(c, w32, o, hd_ptr(o.data<bf16_t>()));
    default: return phase2_run<float>(c, w32, o, o.data<float>());
  }
}

OpBuilder &lamb_op(const char *name, const char *doc, std::vector<std::string> inputs, std::vector<std::string> aux) {
  return OpBuilder::create(name)
      .doc(doc)
      .inputs(std::move(inputs))
      .aux(std::move(aux))
      .no_grad()  // an optimizer step, not a differentiable function
      .shape(lamb_shape);
}

const int registered = [] {
  lamb_op("lamb_update_phase1",
          "Phase 1 of the LAMB update: g = clip(rescale_grad * grad); mean = beta1 * mean + (1 - beta1) * g; var = "
          "beta2 * var + (1 - beta2) * g^2; returns mean' / (sqrt(var') + epsilon) + wd * weight, where mean' = mean "
          "/ (1 - beta1^t) and var' = var / (1 - beta2^t) with bias_correction, else mean and var. mean and var are "
          "updated in place.",
          {"weight", "grad"}, {"mean", "var"})
      .params<LambPhase1Param>()
      .type(infer_type_same)
      .cpu(phase1_kernel)
      .gpu(cuda_only(phase1_kernel));
  lamb_op("lamb_update_phase2",
          "Phase 2 of the LAMB update: returns weight - lr * r1 / r2 * g, with g phase 1's result, r1 = "
          "||weight|| clamped to [lower_bound, upper_bound] (a bound < 0 is off) and r2 = ||g|| (one-element "
          "arrays); lr alone when r1 or r2 is 0.",
          {"weight", "g", "r1", "r2"}, {})
      .params<LambPhase2Param>()
      .type(infer_type_same)
      .cpu(phase2_kernel)
      .gpu(cuda_only(phase2_kernel));
  lamb_op("mp_lamb_update_phase1",
          "Multi-precision phase 1 of the LAMB update: lamb_update_phase1 on the float32 master copy weight32 and "
          "the float16/bfloat16/float32 gradient; mean and var (float32) are updated in place; g is float32.",
          {"weight", "grad"}, {"mean", "var", "weight32"})
      .params<LambPhase1Param>()
      .dtypes({DType::f16, DType::bf16, DType::f32})
      .type(mp_lamb_type)
      .cpu(mp_phase1_kernel)
      .gpu(cuda_only(mp_phase1_kernel));
  lamb_op("mp_lamb_update_phase2",
          "Multi-precision phase 2 of the LAMB update: returns weight32 - lr * r1 / r2 * g in the weight's dtype (g, "
          "r1, r2 and weight32 float32). As MXNet 1.9.1's kernel, weight32 is read and not written.",
          {"weight", "g", "r1", "r2"}, {"weight32"})
      .params<LambPhase2Param>()
      .dtypes({DType::f16, DType::bf16, DType::f32})
      .type(mp_lamb_type)
      .cpu(mp_phase2_kernel)
      .gpu(cuda_only(mp_phase2_kernel));
  return 0;
}();

}  // namespace
}  // namespace mx
