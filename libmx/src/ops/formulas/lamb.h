// LAMB's two element steps (MXNet's lamb_update_phase1/2 and mp_lamb_update_phase1/2), written
// once for the update operators' host loops (ops/optimizer_lamb_ops.cc), their CUDA kernels
// (backends/cuda/optimizer_lamb.cu) and the LAMB optimizer rule (optimizer/rules.cc).
// Phase 1 steps the moments and returns the update direction g; the caller takes the norms
// r1 = ||weight||, r2 = ||g||; phase 2 applies weight - lr * (r1 / r2) * g (r1 clamped to the
// bounds; a zero norm keeps the plain lr).
#pragma once
#include <cmath>
#include <cstdint>

#include "base/hd.h"

namespace mx {

// c1 = 1 - beta1^t, c2 = 1 - beta2^t (used when bc); clip < 0: no clipping.
template <typename T> struct LambCoef {
  T beta1 = 0.9, beta2 = 0.999, eps = 1e-6, wd = 0, re = 1, clip = -1, c1 = 1, c2 = 1;
  bool bc = true;
};

// Phase 1, element i: the moments m, v step with clip(re * g); out = m' / (sqrt(v') + eps) +
// wd * w (m', v' bias-corrected when bc). w is the weight (or the float32 master copy), G the
// gradient's element type (float16/bfloat16 read as T).
template <typename T, typename G>
MX_HD inline void lamb_phase1_element(const LambCoef<T> &k, int64_t i, const T *w, const G *g, T *m, T *v,
                                      T *out) {
  T gr = k.re * static_cast<T>(g[i]);
  if (k.clip >= T(0)) gr = gr > k.clip ? k.clip : (gr < -k.clip ? -k.clip : gr);
  m[i] = k.beta1 * m[i] + (T(1) - k.beta1) * gr;
  v[i] = k.beta2 * v[i] + (T(1) - k.beta2) * gr * gr;
  const T d = k.bc ? (m[i] / k.c1) / (std::sqrt(v[i] / k.c2) + k.eps) : m[i] / (std::sqrt(v[i]) + k.eps);
  out[i] = d + k.wd * w[i];
}

// Phase 2's learning rate from the norms: lr * r1 / r2, r1 clamped to [lower, upper] (a bound < 0
// is off); lr itself when either norm is 0. ratio_first: lr * (r1 / r2), the rounding order of
// MXNet's multi-tensor kernel (MultiLAMBKernelStep2); else (lr * r1) / r2 as its lamb_update_phase2.
template <typename T> MX_HD inline T lamb_trust_lr(T lr, T r1, T r2, T lower, T upper, bool ratio_first = false) {
  if (lower >= T(0)) r1 = r1 > lower ? r1 : lower;
  if (upper >= T(0)) r1 = r1 < upper ? r1 : upper;
  if (r1 == T(0) || r2 == T(0)) return lr;
  return ratio_first ? lr * (r1 / r2) : lr * r1 / r2;
}

// Phase 2, element i: out = w - lr * g (w the weight or master copy; O the output's type).
template <typename T, typename O>
MX_HD inline void lamb_phase2_element(T lr, int64_t i, const T *w, const T *g, O *out) {
  out[i] = O(w[i] - lr * g[i]);
}

}  // namespace mx
