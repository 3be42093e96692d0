// MXNet 1.x's multi-precision update operators: mp_sgd_update, mp_sgd_mom_update,
// mp_nag_mom_update and _mp_adamw_update (mx.nd.contrib.mp_adamw_update), and AdamW's plain form
// _adamw_update (same parameters, no master copy). The weight and gradient
// are float16, bfloat16 (or float32); the rule steps a float32 master copy (weight32, a mutable
// input: an aux state here) with float32 states, and the output is the master rounded to the
// weight's dtype. The formula is ops/formulas/optimizer.h's, as in the plain update operators;
// formula::mp_update_element adds the master copy. One kernel per device: the host loop, or
// backends/cuda/optimizer_mp.cu (float16/bfloat16 read and written there, computed in float32).
#include <cmath>

#include "base/half_hd.h"
#include "ops/cuda_only.h"
#include "ops/formulas/optimizer.h"
#include "ops/index_gpu.h"
#include "ops/optimizer_gpu.h"
#include "ops/optimizer_params.h"
#include "ops/registry.h"

namespace mx {
namespace {

// The one-element rescale_grad array of _mp_adamw_update is its last aux entry, so the positional
// order is MXNet's (weight, grad, mean, var, weight32, rescale_grad); it is only read.
bool is_rescale(const Params &p, size_t aux_index) {
  return p.op && aux_index < p.op->aux_names.size() && p.op->aux_names[aux_index] == "rescale_grad";
}

// weight, grad and the output share a shape; so do the states and weight32 (aux).
bool mp_shape(const Params &p, ShapeVec &in, ShapeVec &aux, ShapeVec &out) {
  const char *op = p.op ? p.op->name.c_str() : "mp update";
  Shape s;
  for (auto &x : in)
    if (!s.known() && x.known()) s = x;
  for (size_t i = 0; i < aux.size(); ++i)
    if (!s.known() && aux[i].known() && !is_rescale(p, i)) s = aux[i];
  if (!s.known() && out[0].known()) s = out[0];
  if (!s.known()) return false;
  assign_shape(in[0], s, op, "weight");
  assign_shape(in[1], s, op, "grad");
  for (size_t i = 0; i < aux.size(); ++i)
    assign_shape(aux[i], is_rescale(p, i) ? Shape{1} : s, op, p.op ? p.op->aux_names[i].c_str() : "state");
  assign_shape(out[0], s, op, "output");
  return true;
}

// weight and grad: float16, bfloat16 or float32 (one dtype, the output's); states, weight32 and
// rescale_grad: float32.
bool mp_type(const Params &p, TypeVec &in, TypeVec &aux, TypeVec &out) {
  const char *op = p.op ? p.op->name.c_str() : "mp update";
  int t = in[0] >= 0 ? in[0] : in[1] >= 0 ? in[1] : out[0];
  if (t < 0) return false;
  const DType dt = static_cast<DType>(t);
  MX_CHECK(dt == DType::f16 || dt == DType::bf16 || dt == DType::f32, MX_ERR_TYPE, op,
           ": the weight must be float16, bfloat16 or float32, got ", dtype_name(dt));
  auto want = [&](int &v, int w, const std::string &what) {
    if (v < 0) v = w;
    MX_CHECK(v == w, MX_ERR_TYPE, op, ": ", what, " has dtype ", dtype_name(static_cast<DType>(v)), ", expected ",
             dtype_name(static_cast<DType>(w)));
  };
  want(in[0], t, "weight");
  want(in[1], t, "grad");
  for (size_t i = 0; i < aux.size(); ++i)
    want(aux[i], static_cast<int>(DType::f32), p.op ? p.op->aux_names[i] + " (float32)" : "state");
  want(out[0], t, "output");
  return true;
}

// aux = (rule states..., weight32[, rescale_grad]). adamw skips the step when its rescale_grad
// is not finite or 0 (an overflowed loss scale): the output is then the weight unchanged.
bool skipped(UpdateRule r, const UpdCoef<double> &k, const OpCall &c) {
  if (r != UpdateRule::AdamW || (std::isfinite(k.re) && k.re != 0)) return false;
  if (!c.outputs[0].same_data(c.inputs[0])) c.outputs[0].assign(c.inputs[0]);
  return true;
}

template <CoefFn F> void mp_kernel(const OpCall &c) {
  UpdCoef<double> k;
  const UpdateRule r = F(c, &k);
  const size_t ns = static_cast<size_t>(update_num_states(r));
  const NDArray &g = c.inputs[1], &o = c.outputs[0], &w32 = c.aux[ns];
  const char *op = c.params.op->name.c_str();
  if (skipped(r, k, c)) return;
  std::vector<NDArray> s(c.aux.begin(), c.aux.begin() + static_cast<std::ptrdiff_t>(ns));
  if (!o.device().is_cpu()) {
    gpu_update_mp(r, k, g, o, w32, s, op);
    return;
  }
  float *sp[3] = {nullptr, nullptr, nullptr};
  for (size_t i = 0; i < s.size() && i < 3; ++i) sp[i] = s[i].data<float>();
  const int64_t n = o.size();
  switch (o.dtype()) {
    case DType::f16:
      run_update_mp_host(r, k, n, hd_ptr(g.data<half_t>()), hd_ptr(o.data<half_t>()), w32.data<float>(), sp);
      break;
    case DType::bf16:
      run_update_mp_host(r, k, n, hd_ptr(g.data<bf16_t>()), hd_ptr(o.data<bf16_t>()), w32.data<float>(), sp);
      break;
    default: run_update_mp_host(r, k, n, g.data<float>(), o.data<float>(), w32.data<float>(), sp); break;
  }
}

struct MPAdamWParam {
  double lr = 0, eta = 0, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, wd = 0, clip_gradient = -1;
  static void describe(ParamDecl<MPAdamWParam> &d) {
    d.field("lr", &MPAdamWParam::lr).required().doc("Learning rate");
    d.field("beta1", &MPAdamWParam::beta1).def(0.9).doc("The decay rate for the 1st moment estimates.");
    d.field("beta2", &MPAdamWParam::beta2).def(0.999).doc("The decay rate for the 2nd moment estimates.");
    d.field("epsilon", &MPAdamWParam::epsilon).def(1e-8).doc("A small constant for numerical stability.");
    d.field("wd", &MPAdamWParam::wd).def(0.0).doc("Weight decay augments the objective function with a "
                                                  "regularization term that penalizes large weights.");
    d.field("eta", &MPAdamWParam::eta).required().doc("Learning rate schedule multiplier");
    d.field("clip_gradient", &MPAdamWParam::clip_gradient).def(-1.0)
        .doc("Clip gradient to the range of [-clip_gradient, clip_gradient]. If clip_gradient <= 0, gradient "
             "clipping is turned off.");
  }
};

// MXNet's adamw: w -= eta * (lr * m / (sqrt(v) + eps) + wd * w). The shared AdamW formula computes
// w - lr' * (m / c1 / (sqrt(v / c2) + eps) + wd' * w): lr' = eta, wd' = wd, c1 = 1 / lr, c2 = 1.
// rescale_grad is an array (MXNet passes the loss scaler's value without a host sync); read here.
UpdateRule coef_mp_adamw(const OpCall &c, UpdCoef<double> *k) {
  const auto &p = c.p<MPAdamWParam>();
  NDArray rs = host_copy(c.aux.back());  // (mean, var[, weight32], rescale_grad)
  k->re = static_cast<double>(rs.data<float>()[0]);
  k->lr = p.eta;
  k->wd = p.wd;
  k->c1 = 1.0 / p.lr;  // lr = 0: c1 = inf, a zero step from the moments (as MXNet's)
  k->c2 = 1.0;
  k->clip = p.clip_gradient;
  k->beta1 = p.beta1;
  k->beta2 = p.beta2;
  k->eps = p.epsilon;
  return UpdateRule::AdamW;
}

// _adamw_update: MXNet's AdamW without a master copy (float32/float64 weight, states of its
// dtype; float16 runs through float32). aux = (mean, var, rescale_grad).
bool adamw_type(const Params &, TypeVec &in, TypeVec &aux, TypeVec &out) {
  int t = in[0] >= 0 ? in[0] : in[1] >= 0 ? in[1] : out[0];
  if (t < 0) return false;
  auto want = [&](int &v, int w, const char *what) {
    if (v < 0) v = w;
    MX_CHECK(v == w, MX_ERR_TYPE, "_adamw_update: ", what, " has dtype ", dtype_name(static_cast<DType>(v)),
             ", expected ", dtype_name(static_cast<DType>(w)));
  };
  want(in[0], t, "weight");
  want(in[1], t, "grad");
  want(aux[0], t, "mean");
  want(aux[1], t, "var");
  want(aux[2], static_cast<int>(DType::f32), "rescale_grad");
  want(out[0], t, "output");
  return true;
}

void adamw_kernel(const OpCall &c) {
  UpdCoef<double> k;
  const UpdateRule r = coef_mp_adamw(c, &k);
  if (skipped(r, k, c)) return;
  const NDArray &w = c.inputs[0], &g = c.inputs[1], &o = c.outputs[0];
  const std::vector<NDArray> s(c.aux.begin(), c.aux.begin() + 2);
  if (!o.device().is_cpu()) {
    gpu_update(r, k, w, g, o, s, c.params.op->name.c_str());
    return;
  }
  MX_DTYPE_SWITCH_FLOAT(o.dtype(), T, c.params.op->name, {
    T *sp[3] = {s[0].data<T>(), s[1].data<T>(), nullptr};
    run_update_host<T>(r, k, o.size(), w.cdata<T>(), g.cdata<T>(), o.data<T>(), sp);
  });
}

OpBuilder &mp_op(const char *name, const char *doc, std::vector<std::string> aux) {
  return OpBuilder::create(name)
      .doc(doc)
      .inputs({"weight", "grad"})
      .aux(std::move(aux))
      .no_grad()  // an optimizer step, not a differentiable function
      .dtypes({DType::f16, DType::bf16, DType::f32})
      .shape(mp_shape)
      .type(mp_type);
}

const int registered = [] {
  mp_op("mp_sgd_update",
        "Multi-precision SGD update: weight32 = (1 - lr * wd) * weight32 - lr * clip(rescale_grad * grad, "
        "clip_gradient); the output is weight32 cast to the weight's dtype. weight32 (float32) is updated in place.",
        {"weight32"})
      .params<SGDParam>()
      .cpu(mp_kernel<coef_sgd>)
      .gpu(cuda_only(mp_kernel<coef_sgd>));
  mp_op("mp_sgd_mom_update",
        "Multi-precision SGD momentum update: mom = momentum * mom - lr * wd * weight32 - lr * clip(rescale_grad * "
        "grad); weight32 += mom; the output is weight32 cast to the weight's dtype. mom and weight32 (float32) are "
        "updated in place.",
        {"mom", "weight32"})
      .params<SGDMomParam>()
      .cpu(mp_kernel<coef_sgd_mom>)
      .gpu(cuda_only(mp_kernel<coef_sgd_mom>));
  mp_op("mp_nag_mom_update",
        "Multi-precision Nesterov accelerated gradient update on the float32 master weight32 (nag_mom_update's "
        "formula); the output is weight32 cast to the weight's dtype. mom and weight32 (float32) are updated in "
        "place.",
        {"mom", "weight32"})
      .params<NAGMomParam>()
      .cpu(mp_kernel<coef_nag_mom>)
      .gpu(cuda_only(mp_kernel<coef_nag_mom>));
  mp_op("_mp_adamw_update",
        "Multi-precision AdamW update: g = clip(rescale_grad * grad); mean = beta1 * mean + (1 - beta1) * g; var = "
        "beta2 * var + (1 - beta2) * g^2; weight32 -= eta * (lr * mean / (sqrt(var) + epsilon) + wd * weight32); "
        "the output is weight32 cast to the weight's dtype. rescale_grad is a one-element float32 array; if it is "
        "NaN, infinite or 0 the step is skipped. mean, var and weight32 (float32) are updated in place.",
        {"mean", "var", "weight32", "rescale_grad"})
      .params<MPAdamWParam>()
      .cpu(mp_kernel<coef_mp_adamw>)
      .gpu(cuda_only(mp_kernel<coef_mp_adamw>));
  OpBuilder::create("_adamw_update")
      .doc("AdamW update: g = clip(rescale_grad * grad); mean = beta1 * mean + (1 - beta1) * g; var = beta2 * var + "
           "(1 - beta2) * g^2; weight -= eta * (lr * mean / (sqrt(var) + epsilon) + wd * weight). rescale_grad is a "
           "one-element float32 array; if it is NaN, infinite or 0 the step is skipped. mean and var are updated in "
           "place.")
      .inputs({"weight", "grad"})
      .aux({"mean", "var", "rescale_grad"})
      .no_grad()
      .params<MPAdamWParam>()
      .shape(mp_shape)
      .type(adamw_type)
      .cpu(adamw_kernel)
      .gpu(cuda_only(adamw_kernel));
  return 0;
}();

}  // namespace
}  // namespace mx
