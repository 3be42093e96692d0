// Parameters of MXNet's SGD-family update operators and their per-step coefficients, shared by
// the plain updates (ops/optimizer_update_ops.cc: sgd_update, sgd_mom_update, nag_mom_update),
// the multi-precision ones (ops/optimizer_mp_ops.cc: mp_sgd_update, ...) and the multi-tensor
// ones (ops/optimizer_multi_ops.cc): the same fields, defaults and docs as MXNet's SGDParam,
// SGDMomParam and NAGMomParam, declared once.
#pragma once
#include "ops/formulas/optimizer.h"
#include "ops/registry.h"

namespace mx {

#define MX_UPDATE_COMMON_FIELDS(S)                                                                   \
  d.field("lr", &S::lr).required().doc("Learning rate");                                            \
  d.field("wd", &S::wd).def(0.0).doc("Weight decay augments the objective function with a "          \
                                     "regularization term that penalizes large weights.");           \
  d.field("rescale_grad", &S::rescale_grad).def(1.0).doc("Rescale gradient to grad = rescale_grad*grad."); \
  d.field("clip_gradient", &S::clip_gradient).def(-1.0)                                              \
      .doc("Clip gradient to the range of [-clip_gradient, clip_gradient]. If clip_gradient <= 0, "  \
           "gradient clipping is turned off.")

#define MX_UPDATE_COMMON_MEMBERS \
  double lr = 0, wd = 0, rescale_grad = 1, clip_gradient = -1, momentum = 0; \
  bool lazy_update = true

#define MX_UPDATE_MOMENTUM_FIELD(S) \
  d.field("momentum", &S::momentum).def(0.0).doc("The decay rate of momentum estimates at each epoch.")

#define MX_UPDATE_LAZY_FIELD(S)                   \
  d.field("lazy_update", &S::lazy_update).def(true) \
      .doc("If true, lazy updates are applied if gradient's stype is row_sparse (dense here: no effect).")

struct SGDParam {
  MX_UPDATE_COMMON_MEMBERS;
  static void describe(ParamDecl<SGDParam> &d) {
    MX_UPDATE_COMMON_FIELDS(SGDParam);
    MX_UPDATE_LAZY_FIELD(SGDParam);
  }
};
struct SGDMomParam {
  MX_UPDATE_COMMON_MEMBERS;
  static void describe(ParamDecl<SGDMomParam> &d) {
    MX_UPDATE_COMMON_FIELDS(SGDMomParam);
    MX_UPDATE_MOMENTUM_FIELD(SGDMomParam);
    MX_UPDATE_LAZY_FIELD(SGDMomParam);
  }
};
struct NAGMomParam {
  MX_UPDATE_COMMON_MEMBERS;
  static void describe(ParamDecl<NAGMomParam> &d) {
    MX_UPDATE_COMMON_FIELDS(NAGMomParam);
    MX_UPDATE_MOMENTUM_FIELD(NAGMomParam);
  }
};

// The update's formula and coefficients from the op's parameters.
using CoefFn = UpdateRule (*)(const OpCall &c, UpdCoef<double> *k);

// lr, wd, rescale_grad and clip_gradient of the common parameters.
template <class P> const P &update_common(const OpCall &c, UpdCoef<double> *k) {
  const auto &p = c.p<P>();
  k->lr = p.lr;
  k->wd = p.wd;
  k->re = p.rescale_grad;
  k->clip = p.clip_gradient;
  return p;
}

inline UpdateRule coef_sgd(const OpCall &c, UpdCoef<double> *k) {
  update_common<SGDParam>(c, k);
  return UpdateRule::Sgd;
}
inline UpdateRule coef_sgd_mom(const OpCall &c, UpdCoef<double> *k) {
  k->mom = update_common<SGDMomParam>(c, k).momentum;
  return UpdateRule::SgdMom;
}
inline UpdateRule coef_nag_mom(const OpCall &c, UpdCoef<double> *k) {
  k->mom = update_common<NAGMomParam>(c, k).momentum;
  return UpdateRule::Nag;
}

}  // namespace mx
