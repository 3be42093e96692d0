// Vectorisable float tanh for elementwise kernels. glibc's tanhf takes about 17 ns an element
// here (its expf is fast, so sigmoid keeps libm). This has no libm calls or branches, so loops
// over it become SIMD code on any x86-64 (SSE2; the library builds with -fno-trapping-math so
// selects need no branches); within 2e-7 relative of tanh. Other dtypes use libm (`tanh_of`).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "base/hd.h"

namespace mx {
namespace fastmath {

// e^x for float: x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor series to r^7 (truncation
// below 6e-9 relative), 2^n put straight into the exponent bits. Results below FLT_MIN flush to
// zero. Written without libm calls or branches so loops over it vectorise (SSE2 and up).
MX_HD inline float exp_f(float x) {
  const float lo = -87.33654f, hi = 88.37626f;  // keep 2^n a normal float
  const bool under = x < lo;
  x = x < lo ? lo : (x > hi ? hi : x);
  const float shifter = 12582912.0f;  // 1.5 * 2^23: t's low mantissa bits hold round(x / ln2)
  const float t = x * 1.44269504088896341f + shifter;
  const float n = t - shifter;
  float r = x - n * 0.693145751953125f;  // ln2 in two parts (Cody-Waite)
  r = r - n * 1.428606820309417e-6f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t tb;
  std::memcpy(&tb, &t, sizeof tb);
  // 2^n; shifted unsigned: for a NaN x the bits are meaningless (p is NaN anyway) but must not
  // overflow a signed shift
  const uint32_t eb = static_cast<uint32_t>(tb - 0x4B400000 + 127) << 23;
  float scale;
  std::memcpy(&scale, &eb, sizeof scale);
  return under ? 0.0f : p * scale;
}

// tanh: an odd series below 0.4 (next term under 4e-9 relative), 1 - 2 / (e^2|x| + 1) above.
MX_HD inline float tanh_f(float x) {
  const float a = x < 0 ? -x : x;
  const float s = x * x;
  float q = 21844.0f / 6081075.0f;
  q = q * s - 1382.0f / 155925.0f;
  q = q * s + 62.0f / 2835.0f;
  q = q * s - 17.0f / 315.0f;
  q = q * s + 2.0f / 15.0f;
  q = q * s - 1.0f / 3.0f;
  const float small = x * (1.0f + s * q);  // keeps the sign of -0
  const float big = 1.0f - 2.0f / (exp_f(2.0f * a) + 1.0f);
  const float sbig = x < 0 ? -big : big;
  return a < 0.4f ? small : (x != x ? x : sbig);
}

// Dispatch on the element type: float takes the fast path, others libm. The CUDA kernels use
// the same code (MX_HD), so CPU and GPU give the same float results.
template <typename T> MX_HD inline T tanh_of(T x) {
  if constexpr (std::is_same<T, float>::value) return tanh_f(x);
  else return static_cast<T>(std::tanh(x));
}

// Logistic sigmoid 1 / (1 + e^-x): float through exp_f, so loops over it vectorise (libm's expf
// is a call per element); within 3e-7 relative. Other dtypes use libm.
template <typename T> MX_HD inline T sigmoid_of(T x) {
  if constexpr (std::is_same<T, float>::value) return 1.0f / (1.0f + exp_f(-x));
  else return T(1) / (T(1) + std::exp(-x));
}

}  // namespace fastmath
}  // namespace mx
