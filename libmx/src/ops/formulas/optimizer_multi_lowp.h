// The plain multi-tensor updates (multi_sgd_update, multi_sgd_mom_update, preloaded_multi_sgd
// (_mom)_update, _multi_adamw_update) with float16/bfloat16 weights and NO master copy, computed
// as MXNet 1.9.1 computes them: its kernels (MultiSGDKernel, PreloadedMultiSGDKernel,
// MultiMPAdamWKernel) run with MPDType = the weight's type, i.e. in mshadow's half_t, whose every
// +, -, *, / is done in float32 and rounded back to float16; the scalars (lrs, wds, etas,
// momentum, rescale_grad, clip_gradient, betas, epsilon) are held as float16 too, except the
// preloaded forms' lrs/wds arrays, which are float32 (and lr * wd then stays float32). Each
// rounding below is one of those half_t operations, in MXNet's order (tests/data/multi_update/
// multi_update_half.npz: bit-identical). bfloat16 (which MXNet 1.9.1 refuses in these ops) takes
// the same steps with bfloat16 rounding. Written once for the host loop and the CUDA kernel
// (backends/cuda/optimizer_multi_lowp.cu); `R` is hd_half or hd_bf16 (base/half_hd.h).
#pragma once
#include <cmath>

#include "base/half_hd.h"
#include "ops/formulas/optimizer_multi.h"

namespace mx {
namespace lowp {

// float -> R -> float: one half_t operation's result.
template <typename R> MX_HD inline float rnd(float x) { return static_cast<float>(R(x)); }
template <typename R> MX_HD inline float clip_r(float x, float c) { return x > c ? c : (x < -c ? -c : x); }

// MXNet's (Preloaded)MultiSGDKernel: mom = momentum*mom - lr*wd*w - lr*clip(rescale*g) (or, without
// clipping, - (lr*rescale)*g); w += mom. Mom: the momentum form (mom state in s0, in R).
template <bool Mom, typename R>
MX_HD inline void sgd_element(const UpdCoef<float> &k, const MultiTable<R, R> &t, int j, int64_t i) {
  const bool pre = t.lr_arr != nullptr;
  const float lr = pre ? t.lr_arr[j] : static_cast<float>(t.lr[j]);
  const float wd = pre ? t.wd_arr[j] : static_cast<float>(t.wd[j]);
  const float hmom = rnd<R>(k.mom), hre = rnd<R>(k.re), hclip = rnd<R>(k.clip);
  const float w = static_cast<float>(t.w[j][i]);
  const float g = static_cast<float>(t.g[j][i]);
  const float m0 = Mom ? static_cast<float>(t.s0[j][i]) : 0.f;
  const float lrwd = pre ? lr * wd : rnd<R>(lr * wd);  // float * float stays float32 (preloaded)
  float m = rnd<R>(rnd<R>(hmom * m0) - rnd<R>(lrwd * w));
  const float step = hclip >= 0.f ? rnd<R>(lr * clip_r<R>(rnd<R>(hre * g), hclip)) : rnd<R>(rnd<R>(lr * hre) * g);
  m = rnd<R>(m - step);
  if constexpr (Mom) t.s0[j][i] = R(m);
  t.o[j][i] = R(w + m);
}

// MXNet's MultiMPAdamWKernel with MPDType = R: g = clip(rescale*g); mean = beta1*(mean - g) + g;
// var = beta2*(var - g*g) + g*g; w = w - eta*(lr*mean/(sqrt(var) + eps) + wd*w). `re` is the
// rescale_grad array's value. (MXNet 1.9.1 itself fills its float16 lrs/wds/etas by memcpy from
// the float32 lists, so its float16 weights move by garbage amounts; MX uses the values given,
// rounded to R: docs/GPU.md.)
template <typename R>
MX_HD inline void adamw_element(const UpdCoef<float> &k, const MultiTable<R, R> &t, int j, int64_t i) {
  const float hre = rnd<R>(k.re), hclip = rnd<R>(k.clip), b1 = rnd<R>(k.beta1), b2 = rnd<R>(k.beta2);
  const float eps = rnd<R>(k.eps);
  const float lr = static_cast<float>(t.lr[j]), wd = static_cast<float>(t.wd[j]), eta = static_cast<float>(t.eta[j]);
  float sg = rnd<R>(hre * static_cast<float>(t.g[j][i]));
  if (hclip >= 0.f) sg = clip_r<R>(sg, hclip);
  const float mean = rnd<R>(rnd<R>(b1 * rnd<R>(static_cast<float>(t.s0[j][i]) - sg)) + sg);
  const float adj = rnd<R>(sg * sg);
  const float var = rnd<R>(rnd<R>(b2 * rnd<R>(static_cast<float>(t.s1[j][i]) - adj)) + adj);
  const float w = static_cast<float>(t.w[j][i]);
  t.s0[j][i] = R(mean);
  t.s1[j][i] = R(var);
  const float den = rnd<R>(rnd<R>(std::sqrt(var)) + eps);
  const float upd = rnd<R>(rnd<R>(rnd<R>(lr * mean) / den) + rnd<R>(wd * w));
  t.o[j][i] = R(w - rnd<R>(eta * upd));
}

template <typename R>
MX_HD inline void multi_element(UpdateRule r, const UpdCoef<float> &k, const MultiTable<R, R> &t, int j, int64_t i) {
  if (r == UpdateRule::SgdMom) sgd_element<true, R>(k, t, j, i);
  else if (r == UpdateRule::AdamW) adamw_element<R>(k, t, j, i);
  else sgd_element<false, R>(k, t, j, i);
}

}  // namespace lowp

// The host loop over a table (R: hd_half / hd_bf16).
template <typename R> void run_update_multi_lowp_host(UpdateRule r, const UpdCoef<double> &kd, const MultiTable<R, R> &t) {
  const UpdCoef<float> k = kd.as<float>();
  for (int j = 0; j < t.count; ++j)
    for (int64_t i = 0; i < t.size[j]; ++i) lowp::multi_element<R>(r, k, t, j, i);
}

}  // namespace mx
