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

#include "ops/shape_common.h"

namespace mx {
namespace {

template <typename T> inline T clip_to(T x, T c) { return x > c ? c : (x < -c ? -c : x); }
template <typename T> inline T sign_of(T x) { return T((x > T(0)) - (x < T(0))); }
// rescale, then clip when clip >= 0
template <typename T> inline T rescaled(T g, T rescale, T clip) {
  const T x = rescale * g;
  return clip >= T(0) ? clip_to(x, clip) : x;
}

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

// A float32/float64 kernel: the body sees w (weight), g (grad), o (output), the aux states s0..s2 and n.
#define MX_UPDATE_KERNEL(OPNAME, ...)                                                    \
  [](const OpCall &c) {                                                                  \
    MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, OPNAME, {                               \
      const T *w = c.inputs[0].data<T>();                                                \
      const T *g = c.inputs[1].data<T>();                                                \
      T *o = c.outputs[0].data<T>();                                                     \
      T *s0 = c.aux.size() > 0 ? c.aux[0].data<T>() : nullptr;                           \
      T *s1 = c.aux.size() > 1 ? c.aux[1].data<T>() : nullptr;                           \
      T *s2 = c.aux.size() > 2 ? c.aux[2].data<T>() : nullptr;                           \
      (void)s0; (void)s1; (void)s2;                                                      \
      const int64_t n = c.outputs[0].size();                                             \
      __VA_ARGS__                                                                        \
    });                                                                                  \
  }

#define MX_COMMON_FIELDS(S)                                                                          \
  d.field("lr", &S::lr).required().doc("Learning rate");                                            \
  d.field("wd", &S::wd).def(0.0).doc("Weight decay augments the objective function with a "          \
                                     "regularization term that penalizes large weights.");           \
  d.field("rescale_grad", &S::rescale_grad).def(1.0).doc("Rescale gradient to grad = rescale_grad*grad."); \
  d.field("clip_gradient", &S::clip_gradient).def(-1.0)                                              \
      .doc("Clip gradient to the range of [-clip_gradient, clip_gradient]. If clip_gradient <= 0, "  \
           "gradient clipping is turned off.")

#define MX_COMMON_MEMBERS \
  double lr = 0, wd = 0, rescale_grad = 1, clip_gradient = -1, momentum = 0; \
  bool lazy_update = true

struct SGDParam {
  MX_COMMON_MEMBERS;
  static void describe(ParamDecl<SGDParam> &d) {
    MX_COMMON_FIELDS(SGDParam);
    d.field("lazy_update", &SGDParam::lazy_update).def(true)
        .doc("If true, lazy updates are applied if gradient's stype is row_sparse (dense here: no effect).");
  }
};
struct SGDMomParam {
  MX_COMMON_MEMBERS;
  static void describe(ParamDecl<SGDMomParam> &d) {
    MX_COMMON_FIELDS(SGDMomParam);
    d.field("momentum", &SGDMomParam::momentum).def(0.0).doc("The decay rate of momentum estimates at each epoch.");
    d.field("lazy_update", &SGDMomParam::lazy_update).def(true)
        .doc("If true, lazy updates are applied if gradient's stype is row_sparse (dense here: no effect).");
  }
};
struct NAGMomParam {
  MX_COMMON_MEMBERS;
  static void describe(ParamDecl<NAGMomParam> &d) {
    MX_COMMON_FIELDS(NAGMomParam);
    d.field("momentum", &NAGMomParam::momentum).def(0.0).doc("The decay rate of momentum estimates at each epoch.");
  }
};
struct SignSGDParam {
  MX_COMMON_MEMBERS;
  static void describe(ParamDecl<SignSGDParam> &d) { MX_COMMON_FIELDS(SignSGDParam); }
};
struct SignumParam {
  MX_COMMON_MEMBERS;
  double wd_lh = 0;
  static void describe(ParamDecl<SignumParam> &d) {
    MX_COMMON_FIELDS(SignumParam);
    d.field("momentum", &SignumParam::momentum).def(0.0).doc("The decay rate of momentum estimates at each epoch.");
    d.field("wd_lh", &SignumParam::wd_lh).def(0.0)
        .doc("The amount of weight decay that does not go into gradient/momentum calculations otherwise do "
             "weight decay algorithmically only.");
  }
};
struct AdamParam {
  MX_COMMON_MEMBERS;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  static void describe(ParamDecl<AdamParam> &d) {
    MX_COMMON_FIELDS(AdamParam);
    d.field("beta1", &AdamParam::beta1).def(0.9).doc("The decay rate for the 1st moment estimates.");
    d.field("beta2", &AdamParam::beta2).def(0.999).doc("The decay rate for the 2nd moment estimates.");
    d.field("epsilon", &AdamParam::epsilon).def(1e-8).doc("A small constant for numerical stability.");
    d.field("lazy_update", &AdamParam::lazy_update).def(true)
        .doc("If true, lazy updates are applied if gradient's stype is row_sparse (dense here: no effect).");
  }
};
struct RMSPropParam {
  MX_COMMON_MEMBERS;
  double gamma1 = 0.95, gamma2 = 0.9, epsilon = 1e-8, clip_weights = -1;
  static void describe(ParamDecl<RMSPropParam> &d) {
    MX_COMMON_FIELDS(RMSPropParam);
    d.field("gamma1", &RMSPropParam::gamma1).def(0.95).doc("The decay rate of momentum estimates.");
    d.field("epsilon", &RMSPropParam::epsilon).def(1e-8).doc("A small constant for numerical stability.");
    d.field("clip_weights", &RMSPropParam::clip_weights).def(-1.0)
        .doc("Clip weights to the range of [-clip_weights, clip_weights]. If clip_weights < 0, weight clipping "
             "is turned off.");
  }
};
struct RMSPropAlexParam {
  MX_COMMON_MEMBERS;
  double gamma1 = 0.95, gamma2 = 0.9, epsilon = 1e-8, clip_weights = -1;
  static void describe(ParamDecl<RMSPropAlexParam> &d) {
    MX_COMMON_FIELDS(RMSPropAlexParam);
    d.field("gamma1", &RMSPropAlexParam::gamma1).def(0.95).doc("Decay rate.");
    d.field("gamma2", &RMSPropAlexParam::gamma2).def(0.9).doc("Decay rate.");
    d.field("epsilon", &RMSPropAlexParam::epsilon).def(1e-8).doc("A small constant for numerical stability.");
    d.field("clip_weights", &RMSPropAlexParam::clip_weights).def(-1.0)
        .doc("Clip weights to the range of [-clip_weights, clip_weights]. If clip_weights < 0, weight clipping "
             "is turned off.");
  }
};
struct FtrlParam {
  MX_COMMON_MEMBERS;
  double lamda1 = 0.01, beta = 1;
  static void describe(ParamDecl<FtrlParam> &d) {
    MX_COMMON_FIELDS(FtrlParam);
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

#define MX_P(S) const auto &p = c.p<S>(); const T lr = T(p.lr), wd = T(p.wd), re = T(p.rescale_grad), \
  cl = T(p.clip_gradient); (void)cl

const int registered = [] {
  update_op(OpBuilder::create("sgd_update"),
            "Update function for Stochastic Gradient Descent (SGD): "
            "weight = (1 - lr * wd) * weight - lr * clip(rescale_grad * grad, clip_gradient).", {})
      .params<SGDParam>()
      .cpu(MX_UPDATE_KERNEL("sgd_update", {
        MX_P(SGDParam);
        for (int64_t i = 0; i < n; ++i) o[i] = (T(1) - lr * wd) * w[i] - lr * rescaled(g[i], re, cl);
      }));

  update_op(OpBuilder::create("sgd_mom_update"),
            "Momentum update for SGD: mom = momentum * mom - lr * wd * weight - lr * clip(rescale_grad * grad); "
            "weight = weight + mom. The state mom is updated in place.",
            {"mom"})
      .params<SGDMomParam>()
      .cpu(MX_UPDATE_KERNEL("sgd_mom_update", {
        MX_P(SGDMomParam);
        const T mu = T(p.momentum);
        for (int64_t i = 0; i < n; ++i) {
          s0[i] = mu * s0[i] - lr * wd * w[i] - lr * rescaled(g[i], re, cl);
          o[i] = w[i] + s0[i];
        }
      }));

  update_op(OpBuilder::create("nag_mom_update"),
            "Nesterov accelerated gradient update: mom = momentum * mom; with g = clip(rescale_grad * grad) + "
            "wd * weight, weight = weight - mom + (momentum + 1) * (mom - lr * g); mom = mom - lr * (clip(...) + wd "
            "* new weight) (MXNet's in-place order). The state mom is updated in place.",
            {"mom"})
      .params<NAGMomParam>()
      .cpu(MX_UPDATE_KERNEL("nag_mom_update", {
        MX_P(NAGMomParam);
        const T mu = T(p.momentum);
        for (int64_t i = 0; i < n; ++i) {
          const T gc = rescaled(g[i], re, cl);
          const T m = mu * s0[i];
          o[i] = w[i] - m + (mu + T(1)) * (m - lr * (gc + wd * w[i]));
          // MXNet's kernel runs in place (out=weight, how it is always called): the momentum's
          // weight-decay term reads the weight just written.
          s0[i] = m - lr * (gc + wd * o[i]);
        }
      }));

  update_op(OpBuilder::create("signsgd_update"),
            "SignSGD update: weight = (1 - lr * wd) * weight - lr * sign(grad). clip_gradient has no effect.", {})
      .params<SignSGDParam>()
      .cpu(MX_UPDATE_KERNEL("signsgd_update", {
        MX_P(SignSGDParam);
        (void)re;
        for (int64_t i = 0; i < n; ++i) o[i] = (T(1) - lr * wd) * w[i] - lr * sign_of(g[i]);
      }));

  update_op(OpBuilder::create("signum_update"),
            "Signum (SIGN momentUM) update: mom = momentum * mom - (1 - momentum) * (wd * weight + "
            "clip(rescale_grad * grad)); weight = (1 - lr * wd_lh) * weight + lr * sign(mom). The state mom is "
            "updated in place.",
            {"mom"})
      .params<SignumParam>()
      .cpu(MX_UPDATE_KERNEL("signum_update", {
        MX_P(SignumParam);
        const T mu = T(p.momentum), lh = T(p.wd_lh);
        for (int64_t i = 0; i < n; ++i) {
          s0[i] = mu * s0[i] - (T(1) - mu) * wd * w[i] - (T(1) - mu) * rescaled(g[i], re, cl);
          o[i] = (T(1) - lr * lh) * w[i] + lr * sign_of(s0[i]);
        }
      }));

  update_op(OpBuilder::create("adam_update"),
            "Adam update without bias correction (the caller folds it into lr): g = clip(rescale_grad * grad + "
            "wd * weight); mean = beta1 * mean + (1 - beta1) * g; var = beta2 * var + (1 - beta2) * g^2; "
            "weight = weight - lr * mean / (sqrt(var) + epsilon). mean and var are updated in place.",
            {"mean", "var"})
      .params<AdamParam>()
      .cpu(MX_UPDATE_KERNEL("adam_update", {
        MX_P(AdamParam);
        const T b1 = T(p.beta1), b2 = T(p.beta2), eps = T(p.epsilon);
        for (int64_t i = 0; i < n; ++i) {
          T gi = re * g[i] + wd * w[i];
          if (cl >= T(0)) gi = clip_to(gi, cl);
          s0[i] = b1 * s0[i] + (T(1) - b1) * gi;
          s1[i] = b2 * s1[i] + (T(1) - b2) * gi * gi;
          o[i] = w[i] - lr * s0[i] / (std::sqrt(s1[i]) + eps);
        }
      }));

  update_op(OpBuilder::create("rmsprop_update"),
            "RMSProp (Tieleman & Hinton) update: g = clip(rescale_grad * grad + wd * weight); n = (1 - gamma1) * "
            "g^2 + gamma1 * n; weight = weight - lr * g / sqrt(n + epsilon), clipped to clip_weights when >= 0. "
            "n is updated in place.",
            {"n"})
      .params<RMSPropParam>()
      .cpu(MX_UPDATE_KERNEL("rmsprop_update", {
        MX_P(RMSPropParam);
        const T g1 = T(p.gamma1), eps = T(p.epsilon), cw = T(p.clip_weights);
        for (int64_t i = 0; i < n; ++i) {
          T gi = re * g[i] + wd * w[i];
          if (cl >= T(0)) gi = clip_to(gi, cl);
          s0[i] = (T(1) - g1) * gi * gi + g1 * s0[i];
          const T nw = w[i] - lr * (gi / std::sqrt(s0[i] + eps));
          o[i] = cw >= T(0) ? clip_to(nw, cw) : nw;
        }
      }));

  update_op(OpBuilder::create("rmspropalex_update"),
            "Centered RMSProp (Graves) update: g = clip(rescale_grad * grad + wd * weight); n = (1 - gamma1) * "
            "g^2 + gamma1 * n; gbar = (1 - gamma1) * g + gamma1 * gbar; delta = gamma2 * delta - lr * g / "
            "sqrt(n - gbar^2 + epsilon); weight = weight + delta (clipped to clip_weights when >= 0). The states "
            "n, g and delta are updated in place.",
            {"n", "g", "delta"})
      .params<RMSPropAlexParam>()
      .cpu(MX_UPDATE_KERNEL("rmspropalex_update", {
        MX_P(RMSPropAlexParam);
        const T g1 = T(p.gamma1), g2 = T(p.gamma2), eps = T(p.epsilon), cw = T(p.clip_weights);
        for (int64_t i = 0; i < n; ++i) {
          T gi = re * g[i] + wd * w[i];
          if (cl >= T(0)) gi = clip_to(gi, cl);
          s0[i] = (T(1) - g1) * gi * gi + g1 * s0[i];
          s1[i] = (T(1) - g1) * gi + g1 * s1[i];
          s2[i] = g2 * s2[i] - lr * gi / std::sqrt(s0[i] - s1[i] * s1[i] + eps);
          const T nw = w[i] + s2[i];
          o[i] = cw >= T(0) ? clip_to(nw, cw) : nw;
        }
      }));

  update_op(OpBuilder::create("ftrl_update"),
            "FTRL (follow the regularized leader) update: g = clip(rescale_grad * grad); z += g - (sqrt(n + g^2) "
            "- sqrt(n)) * weight / lr; n += g^2; weight = (sign(z) * lamda1 - z) / ((beta + sqrt(n)) / lr + wd) "
            "where |z| > lamda1, else 0. z and n are updated in place.",
            {"z", "n"})
      .params<FtrlParam>()
      .cpu(MX_UPDATE_KERNEL("ftrl_update", {
        MX_P(FtrlParam);
        const T l1 = T(p.lamda1), beta = T(p.beta);
        for (int64_t i = 0; i < n; ++i) {
          const T gi = rescaled(g[i], re, cl);
          s0[i] += gi - (std::sqrt(s1[i] + gi * gi) - std::sqrt(s1[i])) * w[i] / lr;
          s1[i] += gi * gi;
          o[i] = std::abs(s0[i]) > l1 ? (sign_of(s0[i]) * l1 - s0[i]) / ((beta + std::sqrt(s1[i])) / lr + wd) : T(0);
        }
      }));

  update_op(OpBuilder::create("ftml_update"),
            "FTML (follow the moving leader) update at step t: g = clip(rescale_grad * grad + wd * weight); v = "
            "beta2 * v + (1 - beta2) * g^2; d_t = (1 - beta1^t) / lr * (sqrt(v / (1 - beta2^t)) + epsilon); z = "
            "beta1 * z + (1 - beta1) * g - (d_t - beta1 * d) * weight; d = d_t; weight = -z / d_t. The states d, "
            "v and z are updated in place.",
            {"d", "v", "z"})
      .params<FTMLParam>()
      .cpu(MX_UPDATE_KERNEL("ftml_update", {
        const auto &p = c.p<FTMLParam>();
        const T lr = T(p.lr), wd = T(p.wd), re = T(p.rescale_grad), cl = T(p.clip_grad);
        const T b1 = T(p.beta1), b2 = T(p.beta2), eps = T(p.epsilon), t = T(p.t);
        const T c1 = T(1) - std::pow(b1, t), c2 = T(1) - std::pow(b2, t);
        for (int64_t i = 0; i < n; ++i) {
          T gi = re * g[i] + wd * w[i];
          if (cl >= T(0)) gi = clip_to(gi, cl);
          s1[i] = b2 * s1[i] + (T(1) - b2) * gi * gi;
          const T dt = c1 / lr * (std::sqrt(s1[i] / c2) + eps);
          s2[i] = b1 * s2[i] + (T(1) - b1) * gi - (dt - b1 * s0[i]) * w[i];
          s0[i] = dt;
          o[i] = -s2[i] / dt;
        }
      }));
  return 0;
}();

}  // namespace
}  // namespace mx
