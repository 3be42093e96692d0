// Vectorisable float math for element-wise kernels: exp, expm1, log, log2, log10, log1p, tanh,
// sigmoid, erf and the normal CDF (GELU). No libm calls and no branches, so loops over them become
// SIMD code (SSE2, and AVX-512 in the builds of backends/cpu/simd.h; the library builds with
// -fno-trapping-math so selects need no branches). glibc's tanhf took about 17 ns an element here,
// erff about 10, expm1f and log1pf about 10. Accuracy against float64 (tests/python/test_fast_math.py,
// test_cpu_isa_dispatch.py): exp 1.1 ulp, log 1 ulp, expm1 / log1p 1.5 ulp, log2 1.7 ulp, log10 2
// ulp (IEEE results at 0, -0, inf, NaN, negatives and subnormals as libm gives them); tanh and
// sigmoid within 3e-7 relative, erf 3.3e-7, the normal CDF 1.1e-6 where it is above 1e-3 (3e-6
// above 1e-10). Other dtypes use libm (the `*_of` dispatchers).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "base/hd.h"

// Always inlined: GCC otherwise left a call to exp_f inside the baseline softrelu loop (which then
// did not vectorise); the formulas are only worth it inlined into their loop.
#if defined(__CUDACC__)
#define MX_FM_INLINE __forceinline__
#elif defined(__GNUC__)
#define MX_FM_INLINE inline __attribute__((always_inline))
#else
#define MX_FM_INLINE inline
#endif

namespace mx {
namespace fastmath {

// Bit casts (memcpy: defined behaviour, and free after optimisation on both devices).
MX_HD MX_FM_INLINE int32_t bits_of(float x) {
  int32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
MX_HD MX_FM_INLINE float float_of(uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// x = n ln2 + r with |r| <= ln2/2 (Cody-Waite: ln2 in two parts, the first exact times any n
// here); n is returned as the integer in the low bits of `t`.
MX_HD MX_FM_INLINE float reduce_ln2(float x, int32_t *n) {
  const float shifter = 12582912.0f;  // 1.5 * 2^23: t's low mantissa bits hold round(x / ln2)
  const float t = x * 1.44269504088896341f + shifter;
  const float nf = t - shifter;
  *n = bits_of(t) - 0x4B400000;
  const float r = x - nf * 0.693145751953125f;
  return r - nf * 1.428606820309417e-6f;
}

// (e^r - 1 - r) / r^2 for |r| <= ln2/2 by the Taylor series: to r^7 for e^r (truncation below
// 6e-9 relative), to r^8 for e^r - 1 (below 6e-9 relative to e^r - 1, which is near r).
MX_HD MX_FM_INLINE float exp_tail(float r) {
  float q = 1.0f / 5040.0f;
  q = q * r + 1.0f / 720.0f;
  q = q * r + 1.0f / 120.0f;
  q = q * r + 1.0f / 24.0f;
  q = q * r + 1.0f / 6.0f;
  return q * r + 0.5f;
}
MX_HD MX_FM_INLINE float expm1_tail(float r) {
  float q = 1.0f / 40320.0f;
  q = q * r + 1.0f / 5040.0f;
  q = q * r + 1.0f / 720.0f;
  q = q * r + 1.0f / 120.0f;
  q = q * r + 1.0f / 24.0f;
  q = q * r + 1.0f / 6.0f;
  return q * r + 0.5f;
}

// 2^k for -126 <= k <= 127 (unsigned arithmetic: for a NaN input k is meaningless, but must not
// overflow a signed shift; the result is NaN anyway).
MX_HD MX_FM_INLINE float pow2i(int32_t k) { return float_of(static_cast<uint32_t>(k + 127) << 23); }

// e^x for float: e^r (r as in reduce_ln2) times 2^n, applied as two factors 2^(n/2) so results
// in the subnormal range (x down to -103.97) and up to FLT_MAX (x to 88.72) come out as expf
// gives them, with one rounding; beyond, 0 and +inf fall out of the arithmetic. NaN stays NaN.
// Written without libm calls or branches so loops over it vectorise (SSE2 and up).
MX_HD MX_FM_INLINE float exp_f(float x) {
  x = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x);  // keeps NaN
  int32_t n;
  const float r = reduce_ln2(x, &n);
  const float p = 1.0f + (r + r * r * exp_tail(r));
  const int32_t n1 = n >> 1;  // floor(n / 2): both factors normal for -150 <= n <= 128
  return p * pow2i(n1) * pow2i(n - n1);
}

// e^x for formulas that do not need results below FLT_MIN (tanh, sigmoid, erfc): one 2^n factor,
// those results flushed to 0, +inf from x = 88.38 on (where 2^n would overflow). Cheaper than
// exp_f by the second factor: sigmoid, erf and gelu were 4-9% slower on exp_f than before it.
MX_HD MX_FM_INLINE float exp_ftz_f(float x) {
  const float lo = -87.33654f, hi = 88.37626f;  // keep 2^n a normal float
  const float xc = x < lo ? lo : (x > hi ? hi : x);
  int32_t n;
  const float r = reduce_ln2(xc, &n);
  const float p = 1.0f + (r + r * r * exp_tail(r));
  return x < lo ? 0.0f : (x > hi ? INFINITY : p * pow2i(n));
}

// e^x - 1, accurate near 0: with e^r - 1 = m (small, by the series), e^x - 1 = 2^n m + (2^n - 1),
// where 2^n - 1 is exact for |n| <= 24. Beyond |x| = 25 the result is e^x, or -1 to float
// precision. |x| below 2^-25 returns x (exact there, and keeps -0).
MX_HD MX_FM_INLINE float expm1_f(float x) {
  const float xc = x < -30.0f ? -30.0f : (x > 30.0f ? 30.0f : x);  // keeps NaN
  int32_t n;
  const float r = reduce_ln2(xc, &n);
  const float m = r + r * r * expm1_tail(r);
  const float s = pow2i(n);
  const float mid = s * m + (s - 1.0f);
  const float a = x < 0 ? -x : x;
  return a < 2.98023224e-8f ? x : (x > 25.0f ? exp_f(x) : mid);
}

// ln(1 + f) for f = m - 1, m in [sqrt(1/2), sqrt 2): with s = f / (2 + f), ln(1 + f) =
// 2 atanh(s) = 2s + s R(s^2), R = 2s^2/3 + 2s^4/5 + ..., to s^8 (truncation below 2e-9 relative,
// |s| <= 0.1716); written as f - s (f - R) since 2s = f - s f, so the large term f is exact.
MX_HD MX_FM_INLINE float log1p_reduced(float f) {
  const float s = f / (2.0f + f);
  const float z = s * s;
  float R = 2.0f / 9.0f;
  R = R * z + 2.0f / 7.0f;
  R = R * z + 2.0f / 5.0f;
  R = R * z + 2.0f / 3.0f;
  R = R * z;
  return f - s * (f - R);
}

// x = 2^k m with m in [sqrt(1/2), sqrt 2), for a positive normal x; returns m - 1 (exact).
MX_HD MX_FM_INLINE float split_log(float x, float *k) {
  const int32_t ix = bits_of(x);
  const int32_t e = (ix - 0x3F3504F3) >> 23;  // 0x3F3504F3: sqrt(1/2)
  *k = static_cast<float>(e);
  return float_of(static_cast<uint32_t>(ix) - (static_cast<uint32_t>(e) << 23)) - 1.0f;
}

// The IEEE results of the logarithms outside (0, inf): -inf at +-0, NaN below 0 and for NaN,
// +inf at +inf; `r` elsewhere.
MX_HD MX_FM_INLINE float log_specials(float x, float r) {
  r = x == INFINITY ? INFINITY : r;
  r = x == 0.0f ? -INFINITY : r;
  return x < 0.0f || x != x ? NAN : r;
}

// ln x = k ln2 + ln(1 + f) (split_log), k ln2 in two parts (the first exact). Subnormal x are
// scaled by 2^23 first.
MX_HD MX_FM_INLINE float log_f(float x) {
  const bool sub = x < 1.17549435e-38f;
  float k;
  const float f = split_log(sub ? x * 8388608.0f : x, &k);
  k = sub ? k - 23.0f : k;
  const float r = k * 0.693145751953125f + (k * 1.428606820309417e-6f + log1p_reduced(f));
  return log_specials(x, r);
}

// log2 x = k + ln(1 + f) log2(e): exact at powers of two.
MX_HD MX_FM_INLINE float log2_f(float x) {
  const bool sub = x < 1.17549435e-38f;
  float k;
  const float f = split_log(sub ? x * 8388608.0f : x, &k);
  k = sub ? k - 23.0f : k;
  const float l = log1p_reduced(f);
  const float r = k + (l * 1.44269502162933349609375f + l * 1.925963033500011079e-8f);  // log2(e) in two parts
  return log_specials(x, r);
}

// log10 x = k log10(2) + ln(1 + f) log10(e), log10(2) in two parts (the first exact times k).
MX_HD MX_FM_INLINE float log10_f(float x) {
  const bool sub = x < 1.17549435e-38f;
  float k;
  const float f = split_log(sub ? x * 8388608.0f : x, &k);
  k = sub ? k - 23.0f : k;
  const float l = log1p_reduced(f);
  const float r = k * 0.30102539062500000f + (k * 4.6050389811952137e-6f + l * 0.43429448190325182f);
  return log_specials(x, r);
}

// ln(1 + x), accurate near 0: u = 1 + x rounded, ln u by log_f's reduction, plus the rounding
// error of u divided by u, c = (x - (u - 1)) / u (u - 1 is exact wherever c matters). |x| below
// 2^-24 returns x (exact there, keeps -0); -1 gives -inf, below -1 NaN, +inf +inf.
MX_HD MX_FM_INLINE float log1p_f(float x) {
  const float u = 1.0f + x;  // 0 <= u or NaN wherever the result is not a special value
  const float c = (x - (u - 1.0f)) / u;
  float k;
  const float f = split_log(u, &k);
  const float r = k * 0.693145751953125f + (k * 1.428606820309417e-6f + (log1p_reduced(f) + c));
  const float a = x < 0 ? -x : x;
  return a < 5.96046448e-8f ? x : log_specials(u, r);
}

// tanh: an odd series below 0.4 (next term under 4e-9 relative), 1 - 2 / (e^2|x| + 1) above.
MX_HD MX_FM_INLINE float tanh_f(float x) {
  const float a = x < 0 ? -x : x;
  const float s = x * x;
  float q = 21844.0f / 6081075.0f;
  q = q * s - 1382.0f / 155925.0f;
  q = q * s + 62.0f / 2835.0f;
  q = q * s - 17.0f / 315.0f;
  q = q * s + 2.0f / 15.0f;
  q = q * s - 1.0f / 3.0f;
  const float small = x * (1.0f + s * q);  // keeps the sign of -0
  const float big = 1.0f - 2.0f / (exp_ftz_f(2.0f * a) + 1.0f);
  const float sbig = x < 0 ? -big : big;
  return a < 0.4f ? small : (x != x ? x : sbig);
}

// Dispatch on the element type: float takes the fast path, others libm. The CUDA kernels use
// the same code (MX_HD), so CPU and GPU give the same float results.
template <typename T> MX_HD MX_FM_INLINE T tanh_of(T x) {
  if constexpr (std::is_same<T, float>::value) return tanh_f(x);
  else return static_cast<T>(std::tanh(x));
}

// erfc(z) for z >= 0: t e^(P(t) - z^2) with t = 1 / (1 + z/2) and P the degree-9 Chebyshev fit
// of Numerical Recipes' erfcc (fractional error below 1.2e-7 in exact arithmetic). z^2 is split
// as zh^2 + (z - zh)(z + zh) with zh = z to 12 bits, so zh^2 is exact and e^(-zh^2) is taken on
// its own: a rounded z^2 near 80 would cost ~4e-6 relative. Branch-free.
MX_HD MX_FM_INLINE float erfc_pos_f(float z) {
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  uint32_t zb;
  std::memcpy(&zb, &z, sizeof zb);
  zb &= 0xFFFFF000u;
  float zh;
  std::memcpy(&zh, &zb, sizeof zh);
  const float r = t * exp_ftz_f(-(zh * zh)) * exp_ftz_f(p - (z - zh) * (z + zh));
  return z > 10.0f ? 0.0f : r;  // erfc(10) < 3e-45 (below float's range); keeps erfc(inf) = 0, not NaN
}

// erf: the odd Taylor series below 0.5 (next term under 2e-8 relative), 1 - erfc above.
MX_HD MX_FM_INLINE float erf_f(float x) {
  const float a = x < 0 ? -x : x;
  const float s = x * x;
  float q = -1.0f / 1320.0f;
  q = q * s + 1.0f / 216.0f;
  q = q * s - 1.0f / 42.0f;
  q = q * s + 1.0f / 10.0f;
  q = q * s - 1.0f / 3.0f;
  const float small = 1.1283791670955126f * x * (1.0f + s * q);
  const float big = 1.0f - erfc_pos_f(a);
  return a < 0.5f ? small : (x < 0 ? -big : big);
}

// The Gaussian CDF 0.5 (1 + erf(x / sqrt 2)) without cancellation for negative x (0.5 erfc(-x/sqrt 2)).
MX_HD MX_FM_INLINE float normal_cdf_f(float x) {
  const float z = x * -0.70710678118654752f;  // -x / sqrt 2
  const float tail = 0.5f * erfc_pos_f(z < 0 ? -z : z);
  return z > 0 ? tail : 1.0f - tail;
}

template <typename T> MX_HD MX_FM_INLINE T exp_of(T x) {
  if constexpr (std::is_same<T, float>::value) return exp_f(x);
  else return static_cast<T>(std::exp(x));
}
template <typename T> MX_HD MX_FM_INLINE T expm1_of(T x) {
  if constexpr (std::is_same<T, float>::value) return expm1_f(x);
  else return static_cast<T>(std::expm1(x));
}
template <typename T> MX_HD MX_FM_INLINE T log_of(T x) {
  if constexpr (std::is_same<T, float>::value) return log_f(x);
  else return static_cast<T>(std::log(x));
}
template <typename T> MX_HD MX_FM_INLINE T log2_of(T x) {
  if constexpr (std::is_same<T, float>::value) return log2_f(x);
  else return static_cast<T>(std::log2(x));
}
template <typename T> MX_HD MX_FM_INLINE T log10_of(T x) {
  if constexpr (std::is_same<T, float>::value) return log10_f(x);
  else return static_cast<T>(std::log10(x));
}
template <typename T> MX_HD MX_FM_INLINE T log1p_of(T x) {
  if constexpr (std::is_same<T, float>::value) return log1p_f(x);
  else return static_cast<T>(std::log1p(x));
}
template <typename T> MX_HD MX_FM_INLINE T erf_of(T x) {
  if constexpr (std::is_same<T, float>::value) return erf_f(x);
  else return static_cast<T>(std::erf(x));
}
template <typename T> MX_HD MX_FM_INLINE T normal_cdf_of(T x) {
  if constexpr (std::is_same<T, float>::value) return normal_cdf_f(x);
  else return T(0.5) * (T(1) + std::erf(x * static_cast<T>(0.70710678118654752440)));
}

// Logistic sigmoid 1 / (1 + e^-x): float through exp_f, so loops over it vectorise (libm's expf
// is a call per element); within 3e-7 relative. Other dtypes use libm.
template <typename T> MX_HD MX_FM_INLINE T sigmoid_of(T x) {
  if constexpr (std::is_same<T, float>::value) return 1.0f / (1.0f + exp_ftz_f(-x));
  else return T(1) / (T(1) + std::exp(-x));
}

}  // namespace fastmath
}  // namespace mx
