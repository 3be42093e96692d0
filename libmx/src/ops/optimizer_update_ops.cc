// MXNet 1.x's optimizer update operators (sgd_update, sgd_mom_update, nag_mom_update, adam_update,
// rmsprop_update, rmspropalex_update, ftrl_update, ftml_update, signsgd_update, signum_update):
// one step of an update rule on explicit arrays, as MXNet programs call them directly
// (mx.nd.sgd_update(weight, grad, out=weight, lr=...)). The optimizer objects
// (optimizer/rules.cc) keep their own per-index state and bias corrections; these operators are
// the lower-level form with MXNet's operator semantics: the output is the new weight, the state
// arrays (MXNet's mutable inputs, here aux states) are updated in place, nothing is bias-corrected
// unless the operator's formula says so (ftml's t). Gradient clipping applies when
// clip_gradient >= 0.
#include <cmath>

#include "ops/cuda_only.h"
#include "ops/formulas/optimizer.h"
#include "ops/optimizer_gpu.h"
#include "ops/optimizer_params.h"
#include "ops/shape_common.h"

namespace mx {
namespace {

// Every input, state and the output share the weight's shape.
bool update_shape(const Params &p, ShapeVec &in, ShapeVec &aux, ShapeVec &out) {
  const char *op = p.op ? p.op->name.c_str() : "update";
  Shape s;
  for (auto *v : {&in, &aux, &out})
    for (auto &x : *v)
      if (!s.known() && x.known()) s = x;
  if (!s.known()) return false;
  for (size_t i = 0; i < in.size(); ++i) assign_shape(in[i], s, op, i == 0 ? "weight" : i == 1 ? "grad" : "input");
  for (size_t i = 0; i < aux.size(); ++i)
    assign_shape(aux[i], s, op, p.op ? p.op->aux_names[i] : "state");
  assign_shape(out[0], s, op, "output");
  return true;
}

OpBuilder &update_op(OpBuilder &b, const char *doc, std::vector<std::string> states) {
  return b.doc(doc)
      .inputs({"weight", "grad"})
      .aux(std::move(states))
      .no_grad()  // an optimizer step, not a differentiable function
      .shape(update_shape)
      .type(infer_type_same);
}

template <CoefFn F> void cpu_update(const OpCall &c) {
  UpdCoef<double> k;
  const UpdateRule r = F(c, &k);
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, c.params.op->name, {
    T *s[3] = {nullptr, nullptr, nullptr};
    for (size_t i = 0; i < c.aux.size() && i < 3; ++i) s[i] = c.aux[i].data<T>();
    run_update_host<T>(r, k, c.outputs[0].size(), c.inputs[0].data<T>(), c.inputs[1].data<T>(),
                       c.outputs[0].data<T>(), s);
  });
}

// The same formula on the GPU (every array on the op's device: the registry checks that).
template <CoefFn F> void gpu_update_kernel(const OpCall &c) {
  UpdCoef<double> k;
  const UpdateRule r = F(c, &k);
  gpu_update(r, k, c.inputs[0], c.inputs[1], c.outputs[0], c.aux, c.params.op->name.c_str());
}

struct SignSGDParam {
  MX_UPDATE_COMMON_MEMBERS;
  static void describe(ParamDecl<SignSGDParam> &d) { MX_UPDATE_COMMON_FIELDS(SignSGDParam); }
};
struct SignumParam {
  MX_UPDATE_COMMON_MEMBERS;
  double wd_lh = 0;
  static void describe(ParamDecl<SignumParam> &d) {
    MX_UPDATE_COMMON_FIELDS(SignumParam);
    MX_UPDATE_MOMENTUM_FIELD(SignumParam);
    d.field("wd_lh", &SignumParam::wd_lh).def(0.0)
        .doc("The amount of weight decay that does not go into gradient/momentum calculations otherwise do "
             "weight decay algorithmically only.");
  }
};
struct AdamParam {
  MX_UPDATE_COMMON_MEMBERS;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  static void describe(ParamDecl<AdamParam> &d) {
    MX_UPDATE_COMMON_FIELDS(AdamParam);
    d.field("beta1", &AdamParam::beta1).def(0.9).doc("The decay rate for the 1st moment estimates.");
    d.field("beta2", &AdamParam::beta2).def(0.999).doc("The decay rate for the 2nd moment estimates.");
    d.field("epsilon", &AdamParam::epsilon).def(1e-8).doc("A small constant for numerical stability.");
    MX_UPDATE_LAZY_FIELD(AdamParam);
  }
};
struct RMSPropParam {
  MX_UPDATE_COMMON_MEMBERS;
  double gamma1 = 0.95, gamma2 = 0.9, epsilon = 1e-8, clip_weights = -1;
  static void describe(ParamDecl<RMSPropParam> &d) {
    MX_UPDATE_COMMON_FIELDS(RMSPropParam);
    d.field("gamma1", &RMSPropParam::gamma1).def(0.95).doc("The decay rate of momentum estimates.");
    d.field("epsilon", &RMSPropParam::epsilon).def(1e-8).doc("A small constant for numerical stability.");
    d.field("clip_weights", &RMSPropParam::clip_weights).def(-1.0)
        .doc("Clip weights to the range of [-clip_weights, clip_weights]. If clip_weights < 0, weight clipping "
             "is turned off.");
  }
};
struct RMSPropAlexParam {
  MX_UPDATE_COMMON_MEMBERS;
  double gamma1 = 0.95, gamma2 = 0.9, epsilon = 1e-8, clip_weights = -1;
  static void describe(ParamDecl<RMSPropAlexParam> &d) {
    MX_UPDATE_COMMON_FIELDS(RMSPropAlexParam);
    d.field("gamma1", &RMSPropAlexParam::gamma1).def(0.95).doc("Decay rate.");
    d.field("gamma2", &RMSPropAlexParam::gamma2).def(0.9).doc("Decay rate.");
    d.field("epsilon", &RMSPropAlexParam::epsilon).def(1e-8).doc("A small constant for numerical stability.");
    d.field("clip_weights", &RMSPropAlexParam::clip_weights).def(-1.0)
        .doc("Clip weights to the range of [-clip_weights, clip_weights]. If clip_weights < 0, weight clipping "
             "is turned off.");
  }
};
struct FtrlParam {
  MX_UPDATE_COMMON_MEMBERS;
  double lamda1 = 0.01, beta = 1;
  static void describe(ParamDecl<FtrlParam> &d) {
    MX_UPDATE_COMMON_FIELDS(FtrlParam);
    d.field("lamda1", &FtrlParam::lamda1).def(0.01).doc("The L1 regularization coefficient.");
    d.field("beta", &FtrlParam::beta).def(1.0).doc("Per-Coordinate Learning Rate beta.");
  }
};
struct FTMLParam {
  double lr = 0, beta1 = 0.6, beta2 = 0.999, epsilon = 1e-8, wd = 0, rescale_grad = 1, clip_grad = -1;
  int64_t t = 0;
  static void describe(ParamDecl<FTMLParam> &d) {
    d.field("lr", &FTMLParam::lr).required().doc("Learning rate.");
    d.field("beta1", &FTMLParam::beta1).def(0.6).doc("Generally close to 0.5.");
    d.field("beta2", &FTMLParam::beta2).def(0.999).doc("Generally close to 1.");
    d.field("epsilon", &FTMLParam::epsilon).def(1e-8).doc("Epsilon to prevent div 0.");
    d.field("t", &FTMLParam::t).required().doc("Number of update.");
    d.field("wd", &FTMLParam::wd).def(0.0).doc("Weight decay augments the objective function with a "
                                               "regularization term that penalizes large weights.");
    d.field("rescale_grad", &FTMLParam::rescale_grad).def(1.0).doc("Rescale gradient to grad = rescale_grad*grad.");
    d.field("clip_grad", &FTMLParam::clip_grad).def(-1.0)
        .doc("Clip gradient to the range of [-clip_gradient, clip_gradient]. If clip_gradient <= 0, gradient "
             "clipping is turned off.");
    d.check([](const FTMLParam &p, const std::string &op) {
      MX_CHECK(p.t >= 1, MX_ERR_INVALID_ARGUMENT, op, ": parameter 't' (the update count) must be >= 1, got ", p.t);
    });
  }
};

// MXNet's signsgd_update takes sign(grad) as it is: neither rescale_grad nor clip_gradient act.
UpdateRule coef_signsgd(const OpCall &c, UpdCoef<double> *k) {
  update_common<SignSGDParam>(c, k);
  k->re = 1;
  k->clip = -1;
  return UpdateRule::SignSgd;
}
UpdateRule coef_signum(const OpCall &c, UpdCoef<double> *k) {
  const auto &p = update_common<SignumParam>(c, k);
  k->mom = p.momentum;
  k->wd_lh = p.wd_lh;
  return UpdateRule::Signum;
}
UpdateRule coef_adam(const OpCall &c, UpdCoef<double> *k) {
  const auto &p = update_common<AdamParam>(c, k);
  k->beta1 = p.beta1;
  k->beta2 = p.beta2;
  k->eps = p.epsilon;
  return UpdateRule::Adam;
}
UpdateRule coef_rmsprop(const OpCall &c, UpdCoef<double> *k) {
  const auto &p = update_common<RMSPropParam>(c, k);
  k->gamma1 = p.gamma1;
  k->eps = p.epsilon;
  k->clip_w = p.clip_weights;
  return UpdateRule::RMSProp;
}
UpdateRule coef_rmspropalex(const OpCall &c, UpdCoef<double> *k) {
  const auto &p = update_common<RMSPropAlexParam>(c, k);
  k->gamma1 = p.gamma1;
  k->gamma2 = p.gamma2;
  k->eps = p.epsilon;
  k->clip_w = p.clip_weights;
  return UpdateRule::RMSPropAlex;
}
UpdateRule coef_ftrl(const OpCall &c, UpdCoef<double> *k) {
  const auto &p = update_common<FtrlParam>(c, k);
  k->lamda1 = p.lamda1;
  k->beta = p.beta;
  return UpdateRule::Ftrl;
}
UpdateRule coef_ftml(const OpCall &c, UpdCoef<double> *k) {
  const auto &p = c.p<FTMLParam>();
  k->lr = p.lr;
  k->wd = p.wd;
  k->re = p.rescale_grad;
  k->clip = p.clip_grad;
  k->beta1 = p.beta1;
  k->beta2 = p.beta2;
  k->eps = p.epsilon;
  k->c3 = static_cast<double>(p.t);
  return UpdateRule::Ftml;
}

const int registered = [] {
  update_op(OpBuilder::create("sgd_update"),
            "Update function for Stochastic Gradient Descent (SGD): "
            "weight = (1 - lr * wd) * weight - lr * clip(rescale_grad * grad, clip_gradient).", {})
      .params<SGDParam>()
      .cpu(cpu_update<coef_sgd>)
      .gpu(cuda_only(gpu_update_kernel<coef_sgd>));

  update_op(OpBuilder::create("sgd_mom_update"),
            "Momentum update for SGD: mom = momentum * mom - lr * wd * weight - lr * clip(rescale_grad * grad); "
            "weight = weight + mom. The state mom is updated in place.",
            {"mom"})
      .params<SGDMomParam>()
      .cpu(cpu_update<coef_sgd_mom>)
      .gpu(cuda_only(gpu_update_kernel<coef_sgd_mom>));

  update_op(OpBuilder::create("nag_mom_update"),
            "Nesterov accelerated gradient update: mom = momentum * mom; with g = clip(rescale_grad * grad) + "
            "wd * weight, weight = weight - mom + (momentum + 1) * (mom - lr * g); mom = mom - lr * (clip(...) + wd "
            "* new weight) (MXNet's in-place order). The state mom is updated in place.",
            {"mom"})
      .params<NAGMomParam>()
      .cpu(cpu_update<coef_nag_mom>)
      .gpu(cuda_only(gpu_update_kernel<coef_nag_mom>));

  update_op(OpBuilder::create("signsgd_update"),
            "SignSGD update: weight = (1 - lr * wd) * weight - lr * sign(grad). clip_gradient has no effect.", {})
      .params<SignSGDParam>()
      .cpu(cpu_update<coef_signsgd>)
      .gpu(cuda_only(gpu_update_kernel<coef_signsgd>));

  update_op(OpBuilder::create("signum_update"),
            "Signum (SIGN momentUM) update: mom = momentum * mom - (1 - momentum) * (wd * weight + "
            "clip(rescale_grad * grad)); weight = (1 - lr * wd_lh) * weight + lr * sign(mom). The state mom is "
            "updated in place.",
            {"mom"})
      .params<SignumParam>()
      .cpu(cpu_update<coef_signum>)
      .gpu(cuda_only(gpu_update_kernel<coef_signum>));

  update_op(OpBuilder::create("adam_update"),
            "Adam update without bias correction (the caller folds it into lr): g = clip(rescale_grad * grad + "
            "wd * weight); mean = beta1 * mean + (1 - beta1) * g; var = beta2 * var + (1 - beta2) * g^2; "
            "weight = weight - lr * mean / (sqrt(var) + epsilon). mean and var are updated in place.",
            {"mean", "var"})
      .params<AdamParam>()
      .cpu(cpu_update<coef_adam>)
      .gpu(cuda_only(gpu_update_kernel<coef_adam>));

  update_op(OpBuilder::create("rmsprop_update"),
            "RMSProp (Tieleman & Hinton) update: g = clip(rescale_grad * grad + wd * weight); n = (1 - gamma1) * "
            "g^2 + gamma1 * n; weight = weight - lr * g / sqrt(n + epsilon), clipped to clip_weights when >= 0. "
            "n is updated in place.",
            {"n"})
      .params<RMSPropParam>()
      .cpu(cpu_update<coef_rmsprop>)
      .gpu(cuda_only(gpu_update_kernel<coef_rmsprop>));

  update_op(OpBuilder::create("rmspropalex_update"),
            "Centered RMSProp (Graves) update: g = clip(rescale_grad * grad + wd * weight); n = (1 - gamma1) * "
            "g^2 + gamma1 * n; gbar = (1 - gamma1) * g + gamma1 * gbar; delta = gamma2 * delta - lr * g / "
            "sqrt(n - gbar^2 + epsilon); weight = weight + delta (clipped to clip_weights when >= 0). The states "
            "n, g and delta are updated in place.",
            {"n", "g", "delta"})
      .params<RMSPropAlexParam>()
      .cpu(cpu_update<coef_rmspropalex>)
      .gpu(cuda_only(gpu_update_kernel<coef_rmspropalex>));

  update_op(OpBuilder::create("ftrl_update"),
            "FTRL (follow the regularized leader) update: g = clip(rescale_grad * grad); z += g - (sqrt(n + g^2) "
            "- sqrt(n)) * weight / lr; n += g^2; weight = (sign(z) * lamda1 - z) / ((beta + sqrt(n)) / lr + wd) "
            "where |z| > lamda1, else 0. z and n are updated in place.",
            {"z", "n"})
      .params<FtrlParam>()
      .cpu(cpu_update<coef_ftrl>)
      .gpu(cuda_only(gpu_update_kernel<coef_ftrl>));

  update_op(OpBuilder::create("ftml_update"),
            "FTML (follow the moving leader) update at step t: g = clip(rescale_grad * grad + wd * weight); v = "
            "beta2 * v + (1 - beta2) * g^2; d_t = (1 - beta1^t) / lr * (sqrt(v / (1 - beta2^t)) + epsilon); z = "
            "beta1 * z + (1 - beta1) * g - (d_t - beta1 * d) * weight; d = d_t; weight = -z / d_t. The states d, "
            "v and z are updated in place.",
            {"d", "v", "z"})
      .params<FTMLParam>()
      .cpu(cpu_update<coef_ftml>)
      .gpu(cuda_only(gpu_update_kernel<coef_ftml>));
  return 0;
}();

}  // namespace
}  // namespace mx
