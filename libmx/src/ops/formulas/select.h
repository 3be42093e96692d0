// Element formulas of clip, hard_sigmoid, smooth_l1 (and their backward), where and add_n, shared by the CPU kernels
// (ops/elemwise_unary.cc, ops/concat_ops.cc) and the CUDA kernels (backends/cuda/shape.cu).
#pragma once
#include <cfloat>
#include <cmath>
#include <type_traits>

#include "base/hd.h"

namespace mx {
namespace formula {

// A clip bound in float: beyond float's range it becomes an infinity (no float lies between).
MX_HD inline float clip_bound_f(double b) {
  return b < -FLT_MAX ? -INFINITY : (b > FLT_MAX ? INFINITY : static_cast<float>(b));
}
// Integers compare in double so bounds outside T's range (a_min=-1 for uint8) behave. float
// compares with its bounds rounded to float, which decides every float x the same way (no float
// lies between a bound and its rounding) and keeps the loop free of conversions: MobileNet's
// relu6 took 10% of its inference time with the comparisons in double.
template <typename T> MX_HD inline T clip_value(T x, double lo, double hi) {
  if constexpr (std::is_same<T, float>::value) {
    const float l = clip_bound_f(lo), h = clip_bound_f(hi);
    return x < l ? l : (x > h ? h : x);
  } else {
    const double v = static_cast<double>(x);
    return v < lo ? static_cast<T>(lo) : (v > hi ? static_cast<T>(hi) : x);
  }
}
// out_grad where lo <= x <= hi (bounds in T), else 0.
template <typename T> MX_HD inline T clip_grad(T g, T x, T lo, T hi) { return (x >= lo && x <= hi) ? g : T(0); }

// hard_sigmoid: max(0, min(1, a x + b)); its gradient g * a inside (0, 1).
template <typename T> MX_HD inline T hard_sigmoid_value(T x, T a, T b) {
  const T v = a * x + b;
  return v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
}
template <typename T> MX_HD inline T hard_sigmoid_grad(T g, T x, T a, T b) {
  const T v = a * x + b;
  return (v > T(0) && v < T(1)) ? g * a : T(0);
}
// smooth_l1 with sig2 = sigma^2: 0.5 (sigma x)^2 where |x| < 1/sigma^2, else |x| - 0.5/sigma^2.
template <typename T> MX_HD inline T smooth_l1_value(T x, T sig2) {
  const T ax = x < T(0) ? -x : x;
  return ax < T(1) / sig2 ? T(0.5) * x * x * sig2 : ax - T(0.5) / sig2;
}
template <typename T> MX_HD inline T smooth_l1_grad(T g, T x, T sig2) {
  const T ax = x < T(0) ? -x : x;
  if (ax < T(1) / sig2) return g * x * sig2;
  return x > T(0) ? g : (x < T(0) ? -g : T(0));
}

// The running sum of add_n, in the element type, input after input.
template <typename T> MX_HD inline T add_acc(T acc, T v) { return static_cast<T>(acc + v); }

}  // namespace formula
}  // namespace mx
