// Element formulas of the optimizer update rules: one step of one weight element and its state
// elements. Written once and shared by the update operators (ops/optimizer_update_ops.cc), the
// optimizer objects' rules (optimizer/rules.cc) and the CUDA kernel
// (backends/cuda/optimizer_update.cu), so the CPU suites test the math the GPU runs.
// Everything that is constant over one step (learning rate, bias corrections, Nadam's schedule)
// is computed on the host into UpdCoef; the formula only sees numbers.
#pragma once
#include <cmath>
#include <cstdint>

#include "base/half_hd.h"
#include "base/hd.h"

namespace mx {

// X(Formula): every element-wise update rule.
#define MX_UPDATE_FORMULAS(X)                                                                    \
  X(Sgd) X(SgdMom) X(Nag) X(Adam) X(AdamW) X(RMSProp) X(RMSPropAlex) X(AdaGrad) X(AdaDelta)     \
  X(Ftrl) X(Ftml) X(SignSgd) X(Signum) X(Adamax) X(Nadam)

enum class UpdateRule {
#define MX_ENUM_ENTRY(F) F,
  MX_UPDATE_FORMULAS(MX_ENUM_ENTRY)
#undef MX_ENUM_ENTRY
};

// The per-step coefficients of every rule (each rule reads the fields it names). clip < 0: no
// gradient clipping; clip_w < 0: no weight clipping.
template <typename T> struct UpdCoef {
  T lr = 0, wd = 0, re = 1, clip = -1;
  T mom = 0, beta1 = 0, beta2 = 0, eps = 0, rho = 0, gamma1 = 0, gamma2 = 0;
  T lamda1 = 0, beta = 0, wd_lh = 0, clip_w = -1;
  T c1 = 1, c2 = 1, c3 = 1, c4 = 0, c5 = 0;  // bias corrections / schedules, per rule
  template <typename U> UpdCoef<U> as() const {
    UpdCoef<U> k;
    k.lr = U(lr); k.wd = U(wd); k.re = U(re); k.clip = U(clip);
    k.mom = U(mom); k.beta1 = U(beta1); k.beta2 = U(beta2); k.eps = U(eps); k.rho = U(rho);
    k.gamma1 = U(gamma1); k.gamma2 = U(gamma2); k.lamda1 = U(lamda1); k.beta = U(beta);
    k.wd_lh = U(wd_lh); k.clip_w = U(clip_w);
    k.c1 = U(c1); k.c2 = U(c2); k.c3 = U(c3); k.c4 = U(c4); k.c5 = U(c5);
    return k;
  }
};

namespace formula {
namespace upd {

template <typename T> MX_HD inline T clipv(T x, T c) { return x > c ? c : (x < -c ? -c : x); }
template <typename T> MX_HD inline T signv(T x) { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)); }
// rescale, then clip (clip >= 0)
template <typename T> MX_HD inline T rg(const UpdCoef<T> &k, T g) {
  const T x = k.re * g;
  return k.clip >= T(0) ? clipv(x, k.clip) : x;
}
// rescale, add weight decay, then clip
template <typename T> MX_HD inline T rgw(const UpdCoef<T> &k, T g, T w) {
  const T x = k.re * g + k.wd * w;
  return k.clip >= T(0) ? clipv(x, k.clip) : x;
}
template <typename T> MX_HD inline T clip_weight(const UpdCoef<T> &k, T w) {
  return k.clip_w >= T(0) ? clipv(w, k.clip_w) : w;
}

}  // namespace upd

// Each formula: states = how many state arrays it updates; step(k, w, g, s0, s1, s2) returns the
// new weight and updates its states in place (unused state references are dummies).
#define MX_UPD_STEP template <typename T> MX_HD static T step(const UpdCoef<T> &k, T w, T g, T &s0, T &s1, T &s2)
#define MX_UPD_UNUSED (void)s0; (void)s1; (void)s2

struct Sgd {
  static constexpr int states = 0;
  MX_UPD_STEP { MX_UPD_UNUSED; return (T(1) - k.lr * k.wd) * w - k.lr * upd::rg(k, g); }
};
struct SgdMom {  // s0 = momentum
  static constexpr int states = 1;
  MX_UPD_STEP {
    MX_UPD_UNUSED;
    s0 = k.mom * s0 - k.lr * k.wd * w - k.lr * upd::rg(k, g);
    return w + s0;
  }
};
// MXNet's kernel: it runs in place (out == weight), so the momentum's weight-decay term reads
// the weight just written.
struct Nag {  // s0 = momentum
  static constexpr int states = 1;
  MX_UPD_STEP {
    MX_UPD_UNUSED;
    const T gc = upd::rg(k, g);
    const T m = k.mom * s0;
    const T o = w - m + (k.mom + T(1)) * (m - k.lr * (gc + k.wd * w));
    s0 = m - k.lr * (gc + k.wd * o);
    return o;
  }
};
struct Adam {  // s0 = mean, s1 = var; bias correction folded into lr by the caller
  static constexpr int states = 2;
  MX_UPD_STEP {
    MX_UPD_UNUSED;
    const T gi = upd::rgw(k, g, w);
    s0 = k.beta1 * s0 + (T(1) - k.beta1) * gi;
    s1 = k.beta2 * s1 + (T(1) - k.beta2) * gi * gi;
    return w - k.lr * s0 / (std::sqrt(s1) + k.eps);
  }
};
// Decoupled weight decay; c1, c2: the bias corrections (1 when off).
struct AdamW {
  static constexpr int states = 2;
  MX_UPD_STEP {
    MX_UPD_UNUSED;
    const T gi = upd::rg(k, g);
    s0 = k.beta1 * s0 + (T(1) - k.beta1) * gi;
    s1 = k.beta2 * s1 + (T(1) - k.beta2) * gi * gi;
    const T mh = s0 / k.c1, vh = s1 / k.c2;
    return w - k.lr * (mh / (std::sqrt(vh) + k.eps) + k.wd * w);
  }
};
struct RMSProp {  // s0 = n
  static constexpr int states = 1;
  MX_UPD_STEP {
    MX_UPD_UNUSED;
    const T gi = upd::rgw(k, g, w);
    s0 = (T(1) - k.gamma1) * gi * gi + k.gamma1 * s0;
    return upd::clip_weight(k, w - k.lr * (gi / std::sqrt(s0 + k.eps)));
  }
};
struct RMSPropAlex {  // s0 = n, s1 = g, s2 = delta
  static constexpr int states = 3;
  MX_UPD_STEP {
    const T gi = upd::rgw(k, g, w);
    s0 = (T(1) - k.gamma1) * gi * gi + k.gamma1 * s0;
    s1 = (T(1) - k.gamma1) * gi + k.gamma1 * s1;
    s2 = k.gamma2 * s2 - k.lr * (gi / std::sqrt(s0 - s1 * s1 + k.eps));
    return upd::clip_weight(k, w + s2);
  }
};
struct AdaGrad {  // s0 = history
  static constexpr int states = 1;
  MX_UPD_STEP {
    MX_UPD_UNUSED;
    const T gi = upd::rg(k, g);
    s0 += gi * gi;
    const T div = gi / std::sqrt(s0 + k.eps);
    return w + (div + w * k.wd) * -k.lr;
  }
};
struct AdaDelta {  // s0 = acc_g, s1 = acc_delta
  static constexpr int states = 2;
  MX_UPD_STEP {
    MX_UPD_UNUSED;
    const T gi = upd::rg(k, g);
    s0 = s0 * k.rho + (T(1) - k.rho) * gi * gi;
    const T cur = std::sqrt(s1 + k.eps) / std::sqrt(s0 + k.eps) * gi;
    s1 = s1 * k.rho + (T(1) - k.rho) * cur * cur;
    return w - (cur + k.wd * w);
  }
};
struct Ftrl {  // s0 = z, s1 = n
  static constexpr int states = 2;
  MX_UPD_STEP {
    MX_UPD_UNUSED;
    const T gi = upd::rg(k, g);
    s0 += gi - (std::sqrt(s1 + gi * gi) - std::sqrt(s1)) * w / k.lr;
    s1 += gi * gi;
    return std::abs(s0) > k.lamda1
               ? (upd::signv(s0) * k.lamda1 - s0) / ((k.beta + std::sqrt(s1)) / k.lr + k.wd)
               : T(0);
  }
};
// s0 = d, s1 = v, s2 = z; c3 = t (the bias corrections 1 - beta^t are computed in the element
// type, as MXNet's kernel does: float32 powers differ from double ones in the last bits).
struct Ftml {
  static constexpr int states = 3;
  MX_UPD_STEP {
    const T gi = upd::rgw(k, g, w);
    const T c1 = T(1) - std::pow(k.beta1, k.c3), c2 = T(1) - std::pow(k.beta2, k.c3);
    s1 = k.beta2 * s1 + (T(1) - k.beta2) * gi * gi;
    const T dt = c1 / k.lr * (std::sqrt(s1 / c2) + k.eps);
    s2 = k.beta1 * s2 + (T(1) - k.beta1) * gi - (dt - k.beta1 * s0) * w;
    s0 = dt;
    return -s2 / dt;
  }
};
struct SignSgd {
  static constexpr int states = 0;
  MX_UPD_STEP { MX_UPD_UNUSED; return (T(1) - k.lr * k.wd) * w - k.lr * upd::signv(upd::rg(k, g)); }
};
struct Signum {  // s0 = momentum
  static constexpr int states = 1;
  MX_UPD_STEP {
    MX_UPD_UNUSED;
    s0 = k.mom * s0 - (T(1) - k.mom) * k.wd * w - (T(1) - k.mom) * upd::rg(k, g);
    return (T(1) - k.lr * k.wd_lh) * w + k.lr * upd::signv(s0);
  }
};
struct Adamax {  // s0 = mean, s1 = u; lr already divided by 1 - beta1^t
  static constexpr int states = 2;
  MX_UPD_STEP {
    MX_UPD_UNUSED;
    const T gi = upd::rgw(k, g, w);
    s0 = s0 * k.beta1 + (T(1) - k.beta1) * gi;
    const T a = k.beta2 * s1, b = std::abs(gi);
    s1 = a > b ? a : b;
    return w - k.lr * s0 / s1;
  }
};
// s0 = mean, s1 = var; c1 = 1 - m_schedule, c2 = 1 - m_schedule * mu_{t+1}, c3 = 1 - beta2^t,
// c4 = 1 - mu_t, c5 = mu_{t+1}.
struct Nadam {
  static constexpr int states = 2;
  MX_UPD_STEP {
    MX_UPD_UNUSED;
    const T gi = upd::rgw(k, g, w);
    s0 = s0 * k.beta1 + (T(1) - k.beta1) * gi;
    s1 = s1 * k.beta2 + (T(1) - k.beta2) * gi * gi;
    const T gp = gi / k.c1, mp = s0 / k.c2, vp = s1 / k.c3;
    const T mbar = k.c4 * gp + k.c5 * mp;
    return w - k.lr * mbar / (std::sqrt(vp) + k.eps);
  }
};
#undef MX_UPD_STEP
#undef MX_UPD_UNUSED

// One element: o[i] from w[i], g[i] and the states' element i (o may be w: w[i] is read first).
template <class F, typename T>
MX_HD inline void update_element(const UpdCoef<T> &k, int64_t i, const T *w, const T *g, T *o, T *s0, T *s1,
                                 T *s2) {
  T d0 = 0, d1 = 0, d2 = 0;
  T &a = F::states > 0 ? s0[i] : d0;
  T &b = F::states > 1 ? s1[i] : d1;
  T &c = F::states > 2 ? s2[i] : d2;
  o[i] = F::step(k, w[i], g[i], a, b, c);
}

// Multi-precision element (MXNet's mp_* updates): the rule steps the float32 master weight w32
// with float32 states and the gradient read as float (g may be float16/bfloat16: W, G are
// base/half_hd.h element types); the low-precision weight o is the master's rounded copy. The
// low-precision weight's old value is never read (the master is the weight).
template <class F, typename W, typename G>
MX_HD inline void mp_update_element(const UpdCoef<float> &k, int64_t i, const G *g, W *o, float *w32, float *s0,
                                    float *s1, float *s2) {
  float d0 = 0, d1 = 0, d2 = 0;
  float &a = F::states > 0 ? s0[i] : d0;
  float &b = F::states > 1 ? s1[i] : d1;
  float &c = F::states > 2 ? s2[i] : d2;
  const float w = F::step(k, w32[i], static_cast<float>(g[i]), a, b, c);
  w32[i] = w;
  o[i] = W(w);
}

}  // namespace formula

// The number of state arrays of a rule.
inline int update_num_states(UpdateRule r) {
  switch (r) {
#define MX_CASE(F) \
  case UpdateRule::F: return formula::F::states;
    MX_UPDATE_FORMULAS(MX_CASE)
#undef MX_CASE
  }
  return 0;
}

// fn(formula::F{}) for the rule's formula F: the one switch over the rules, used by the host
// loops below and the CUDA launchers (backends/cuda/optimizer_launch.cuh).
template <class Fn> void with_update_formula(UpdateRule r, Fn &&fn) {
  switch (r) {
#define MX_CASE(F) \
  case UpdateRule::F: fn(formula::F{}); return;
    MX_UPDATE_FORMULAS(MX_CASE)
#undef MX_CASE
  }
}

// The first update_num_states(r) of s (the rest null): the state pointers a loop or kernel takes.
template <typename T> struct StatePtrs {
  T *s0 = nullptr, *s1 = nullptr, *s2 = nullptr;
  StatePtrs(UpdateRule r, T *const *s) {
    const int ns = update_num_states(r);
    if (ns > 0) s0 = s[0];
    if (ns > 1) s1 = s[1];
    if (ns > 2) s2 = s[2];
  }
};

// The host loops over restrict pointers and the coefficients by value: the coefficients stay in
// registers and the loop vectorises. Through the closure's references the stores could alias
// them, so GCC had kept Adam scalar, reloading every coefficient (~10 cycles an element). Vector
// sqrt / div / mul / add round like the scalar ones (no FMA in the baseline ISA): same bits.
template <class F, typename T>
void update_loop(const UpdCoef<T> k, int64_t n, const T *__restrict w, const T *__restrict g, T *__restrict o,
                 T *__restrict s0, T *__restrict s1, T *__restrict s2) {
  for (int64_t i = 0; i < n; ++i) formula::update_element<F, T>(k, i, w, g, o, s0, s1, s2);
}
// In place (o == w, the optimizer objects' case).
template <class F, typename T>
void update_loop_inplace(const UpdCoef<T> k, int64_t n, T *__restrict w, const T *__restrict g, T *__restrict s0,
                         T *__restrict s1, T *__restrict s2) {
  for (int64_t i = 0; i < n; ++i) formula::update_element<F, T>(k, i, w, g, w, s0, s1, s2);
}

// Whether the arrays of n elements at these addresses (null: absent) are pairwise disjoint, except
// o == w: the restrict loops need it (views of one buffer may overlap partially).
template <typename T> bool update_arrays_disjoint(int64_t n, const T *w, const T *g, const T *o, const T *s0,
                                                  const T *s1, const T *s2) {
  const uintptr_t a[6] = {uintptr_t(w), uintptr_t(g), uintptr_t(o), uintptr_t(s0), uintptr_t(s1), uintptr_t(s2)};
  const uintptr_t bytes = uintptr_t(n) * sizeof(T);
  for (int i = 0; i < 6; ++i)
    for (int j = i + 1; j < 6; ++j) {
      if (!a[i] || !a[j] || (i == 0 && j == 2 && w == o)) continue;
      if (a[i] < a[j] + bytes && a[j] < a[i] + bytes) return false;
    }
  return true;
}

// The host loop: n elements of o = step(w, g), states s[0..] updated in place.
template <typename T>
void run_update_host(UpdateRule r, const UpdCoef<double> &kd, int64_t n, const T *w, const T *g, T *o,
                     T *const *s) {
  const UpdCoef<T> k = kd.as<T>();
  const StatePtrs<T> p(r, s);
  const bool fast = update_arrays_disjoint<T>(n, w, g, o, p.s0, p.s1, p.s2);
  with_update_formula(r, [&](auto f) {
    using F = decltype(f);
    if (fast && o == w) update_loop_inplace<F, T>(k, n, o, g, p.s0, p.s1, p.s2);
    else if (fast) update_loop<F, T>(k, n, w, g, o, p.s0, p.s1, p.s2);
    else for (int64_t i = 0; i < n; ++i) formula::update_element<F, T>(k, i, w, g, o, p.s0, p.s1, p.s2);
  });
}

// The multi-precision host loop: n elements; W is the low-precision weight's (and the
// gradient's) element type, float16, bfloat16 or float32.
template <typename W>
void run_update_mp_host(UpdateRule r, const UpdCoef<double> &kd, int64_t n, const W *g, W *o, float *w32,
                        float *const *s) {
  const UpdCoef<float> k = kd.as<float>();
  const StatePtrs<float> p(r, s);
  with_update_formula(r, [&](auto f) {
    using F = decltype(f);
    for (int64_t i = 0; i < n; ++i) formula::mp_update_element<F, W, W>(k, i, g, o, w32, p.s0, p.s1, p.s2);
  });
}

}  // namespace mx
