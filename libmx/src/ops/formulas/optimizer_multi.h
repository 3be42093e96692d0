// Multi-tensor optimizer steps (MXNet's multi_sgd_update, multi_mp_sgd_mom_update,
// preloaded_multi_*, _multi_adamw_update, ...): one call updates up to kMultiMax weights, each
// with its own learning rate and weight decay. The element step is the single-tensor one
// (formulas/optimizer.h: update_element, or mp_update_element for a float32 master copy); this
// header adds the table that names the tensors and the per-tensor coefficients, written once for
// the host loop below and the CUDA kernel (backends/cuda/optimizer_multi.cu: one launch per
// table, blockIdx.y = tensor).
#pragma once
#include <cstdint>
#include <type_traits>

#include "base/error.h"
#include "base/hd.h"
#include "ops/formulas/optimizer.h"

namespace mx {

constexpr int kMultiMax = 32;  // tensors per table (the CUDA kernel takes the table by value)

// W: the weight's and gradient's element type (float, double, or hd_half/hd_bf16 with a master
// copy); S: the states' (and master copy's) type. Arrays of tensor j: w[j], g[j], o[j] (o may be
// w), s0[j], s1[j] (the rule's states, null when it has fewer), w32[j] (the float32 master copy,
// multi-precision only). lr_arr / wd_arr: when set, float32 arrays on the kernel's device with
// one entry per tensor (the preloaded_* ops), else lr[j] / wd[j].
template <typename W, typename S> struct MultiTable {
  int count = 0;
  int64_t size[kMultiMax];
  const W *w[kMultiMax];
  const W *g[kMultiMax];
  W *o[kMultiMax];
  S *s0[kMultiMax];
  S *s1[kMultiMax];
  S *w32[kMultiMax];
  S lr[kMultiMax], wd[kMultiMax], eta[kMultiMax];
  const float *lr_arr = nullptr, *wd_arr = nullptr;
  // The optimizer's aggregated AdamW (optimizer.cc): lr[j] is the rule's rate and c1[j], c2[j]
  // its bias corrections (per index: step counts may differ), instead of the op's (eta, lr).
  bool rule_coefs = false;
  S c1[kMultiMax], c2[kMultiMax];
};

// fn(formula::F{}) for the rules that have multi-tensor ops (the CUDA file instantiates only
// these); others fail naming the op.
template <class Fn> void with_multi_formula(UpdateRule r, const char *op, Fn &&fn) {
  switch (r) {
    case UpdateRule::Sgd: fn(formula::Sgd{}); return;
    case UpdateRule::SgdMom: fn(formula::SgdMom{}); return;
    case UpdateRule::AdamW: fn(formula::AdamW{}); return;
    default: fail(MX_ERR_INTERNAL, op, ": no multi-tensor form of this update rule");
  }
}

// Tensor j's coefficients: the shared ones (momentum, betas, rescale, clip) with its lr / wd.
// AdamW is MXNet's adamw: w -= eta * (lr * m / (sqrt(v) + eps) + wd * w), i.e. the shared AdamW
// formula with k.lr = eta, k.c1 = 1 / lr, k.c2 = 1.
template <class F, typename W, typename S>
MX_HD inline UpdCoef<S> multi_coef(const UpdCoef<S> &base, const MultiTable<W, S> &t, int j) {
  UpdCoef<S> k = base;
  const S lr = t.lr_arr ? S(t.lr_arr[j]) : t.lr[j];
  const S wd = t.wd_arr ? S(t.wd_arr[j]) : t.wd[j];
  if constexpr (std::is_same_v<F, formula::AdamW>) {
    if (t.rule_coefs) {
      k.lr = lr;
      k.c1 = t.c1[j];
      k.c2 = t.c2[j];
    } else {
      k.lr = t.eta[j];
      k.c1 = S(1) / lr;  // lr = 0: c1 = inf, a zero step from the moments (as MXNet's)
      k.c2 = S(1);
    }
  } else {
    k.lr = lr;
  }
  k.wd = wd;
  return k;
}

// Element i of tensor j. MP: the rule steps the master copy (mp_update_element), else the weight.
template <class F, bool MP, typename W, typename S>
MX_HD inline void multi_update_element(const UpdCoef<S> &k, const MultiTable<W, S> &t, int j, int64_t i) {
  if constexpr (MP) {
    formula::mp_update_element<F, W, W>(k, i, t.g[j], t.o[j], t.w32[j], t.s0[j], t.s1[j], nullptr);
  } else {
    formula::update_element<F, S>(k, i, t.w[j], t.g[j], t.o[j], t.s0[j], t.s1[j], nullptr);
  }
}

// The host loop over a table.
template <bool MP, typename W, typename S>
void run_update_multi_host(UpdateRule r, const UpdCoef<double> &kd, const MultiTable<W, S> &t, const char *op) {
  const UpdCoef<S> base = kd.as<S>();
  with_multi_formula(r, op, [&](auto f) {
    using F = decltype(f);
    for (int j = 0; j < t.count; ++j) {
      const UpdCoef<S> k = multi_coef<F>(base, t, j);
      for (int64_t i = 0; i < t.size[j]; ++i) multi_update_element<F, MP>(k, t, j, i);
    }
  });
}

}  // namespace mx
