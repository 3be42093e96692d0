// Element formulas of the unary families (and the derivatives their fused backward ops use),
// shared by the CPU kernels (ops/elemwise_unary.cc) and the CUDA kernels
// (backends/cuda/elemwise_unary.cu). `id` names each functor across the two.
#pragma once
#include <cmath>
#include <limits>
#include <type_traits>

#include "backends/cpu/fast_math.h"
#include "base/hd.h"

namespace mx {

// X(Functor, kind): kind N = numeric dtypes (integers too), F = float32/float64 only.
#define MX_UNARY_FORMULAS(X)                                                                      \
  X(Abs, N) X(Sign, N) X(Negative, N) X(Square, N) X(Relu, N) X(LogicalNot, N) X(Round, N)       \
  X(Rint, N) X(Ceil, N) X(Floor, N) X(Trunc, N) X(Fix, N) X(Sqrt, F) X(Rsqrt, F) X(Cbrt, F)      \
  X(Rcbrt, F) X(Exp, F) X(Expm1, F) X(Log, F) X(Log10, F) X(Log2, F) X(Log1p, F) X(Sin, F)       \
  X(Cos, F) X(Tan, F) X(Arcsin, F) X(Arccos, F) X(Arctan, F) X(Sinh, F) X(Cosh, F) X(Tanh, F)    \
  X(Arcsinh, F) X(Arccosh, F) X(Arctanh, F) X(Degrees, F) X(Radians, F) X(Sigmoid, F)           \
  X(Softsign, F) X(Erf, F) X(Erfinv, F) X(Gamma, F) X(Gammaln, F) X(Reciprocal, F)
// Derivatives f'(x) of the fused backward ops (float only).
#define MX_UNARY_GRAD_FORMULAS(X)                                                                 \
  X(DRsqrt) X(DCbrt) X(DRcbrt) X(DLog1p) X(DTan) X(DArcsin) X(DArccos) X(DArctan) X(DArcsinh)    \
  X(DArccosh) X(DArctanh) X(DSoftsign) X(DErf) X(DErfinv) X(DGamma) X(DGammaln)

enum class UnaryOp {
#define MX_ENUM_ENTRY(F, kind) F,
  MX_UNARY_FORMULAS(MX_ENUM_ENTRY)
#undef MX_ENUM_ENTRY
};
enum class UnaryGradOp {
#define MX_ENUM_ENTRY(F) F,
  MX_UNARY_GRAD_FORMULAS(MX_ENUM_ENTRY)
#undef MX_ENUM_ENTRY
};

namespace formula {

template <typename T> constexpr bool is_int_v = std::is_integral<T>::value;

// ---- special functions
MX_HD inline double digamma(double x) {
  if (std::isnan(x)) return x;
  double r = 0;
  if (x <= 0 && std::floor(x) == x) return std::numeric_limits<double>::quiet_NaN();
  if (x < 0) {  // reflection: psi(1-x) - psi(x) = pi cot(pi x)
    return digamma(1 - x) - M_PI / std::tan(M_PI * x);
  }
  while (x < 6) {
    r -= 1 / x;
    x += 1;
  }
  double f = 1 / (x * x);
  double t = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132)))));
  return r + std::log(x) - 0.5 / x + t;
}

MX_HD inline double erfinv_d(double y) {
  if (std::isnan(y) || y < -1 || y > 1) return std::numeric_limits<double>::quiet_NaN();
  if (y == 1) return std::numeric_limits<double>::infinity();
  if (y == -1) return -std::numeric_limits<double>::infinity();
  // Initial guess (Giles' single-precision approximation), then Newton steps on erf.
  double w = -std::log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) {
    w -= 2.5;
    double p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w; p = -3.5233877e-06 + p * w; p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w; p = -0.00125372503 + p * w; p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w; p = 1.50140941 + p * w;
    x = p * y;
  } else {
    w = std::sqrt(w) - 3.0;
    double p = -0.000200214257;
    p = 0.000100950558 + p * w; p = 0.00134934322 + p * w; p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w; p = -0.0076224613 + p * w; p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w; p = 2.83297682 + p * w;
    x = p * y;
  }
  const double k = 2.0 / std::sqrt(M_PI);
  for (int i = 0; i < 3; ++i) {
    double err = std::erf(x) - y;
    double d = k * std::exp(-x * x);
    if (d == 0) break;
    x -= err / d;
  }
  return x;
}

// ---- forward functors: T f(T x). exp, expm1, the logarithms, tanh, sigmoid and erf take
// fastmath's vectorisable formulas for float (within 2 ulp of float64 for exp and the logs; other
// dtypes keep libm), on both devices.
#define FLOAT_FN(Name, expr)                                                         \
  struct Name {                                                                      \
    static constexpr UnaryOp id = UnaryOp::Name;                                     \
    template <typename T> MX_HD static T f(T x) { return static_cast<T>(expr); }     \
  };
FLOAT_FN(Sqrt, std::sqrt(x))
FLOAT_FN(Rsqrt, T(1) / std::sqrt(x))
FLOAT_FN(Cbrt, std::cbrt(x))
FLOAT_FN(Rcbrt, T(1) / std::cbrt(x))
FLOAT_FN(Exp, fastmath::exp_of(x))
FLOAT_FN(Expm1, fastmath::expm1_of(x))
FLOAT_FN(Log, fastmath::log_of(x))
FLOAT_FN(Log10, fastmath::log10_of(x))
FLOAT_FN(Log2, fastmath::log2_of(x))
FLOAT_FN(Log1p, fastmath::log1p_of(x))
FLOAT_FN(Sin, std::sin(x))
FLOAT_FN(Cos, std::cos(x))
FLOAT_FN(Tan, std::tan(x))
FLOAT_FN(Arcsin, std::asin(x))
FLOAT_FN(Arccos, std::acos(x))
FLOAT_FN(Arctan, std::atan(x))
FLOAT_FN(Sinh, std::sinh(x))
FLOAT_FN(Cosh, std::cosh(x))
FLOAT_FN(Tanh, fastmath::tanh_of(x))
FLOAT_FN(Arcsinh, std::asinh(x))
FLOAT_FN(Arccosh, std::acosh(x))
FLOAT_FN(Arctanh, std::atanh(x))
FLOAT_FN(Degrees, x * T(180.0 / M_PI))
FLOAT_FN(Radians, x * T(M_PI / 180.0))
FLOAT_FN(Sigmoid, fastmath::sigmoid_of(x))
FLOAT_FN(Softsign, x / (T(1) + std::abs(x)))
FLOAT_FN(Erf, fastmath::erf_of(x))
FLOAT_FN(Erfinv, erfinv_d(static_cast<double>(x)))
FLOAT_FN(Gamma, std::tgamma(x))
FLOAT_FN(Gammaln, std::lgamma(x))
FLOAT_FN(Reciprocal, T(1) / x)
#undef FLOAT_FN

// Numeric functors (integers allowed).
struct Abs {
  static constexpr UnaryOp id = UnaryOp::Abs;
  template <typename T> MX_HD static T f(T x) {
    if constexpr (std::is_unsigned<T>::value) return x;
    else return x < T(0) ? T(-x) : x;
  }
};
struct Sign {
  static constexpr UnaryOp id = UnaryOp::Sign;
  template <typename T> MX_HD static T f(T x) {
    if constexpr (!is_int_v<T>) if (std::isnan(x)) return x;
    if constexpr (std::is_unsigned<T>::value) return x > T(0) ? T(1) : T(0);
    else return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
  }
};
struct Negative {
  static constexpr UnaryOp id = UnaryOp::Negative; template <typename T> MX_HD static T f(T x) { return static_cast<T>(-x); } };
struct Square {
  static constexpr UnaryOp id = UnaryOp::Square; template <typename T> MX_HD static T f(T x) { return static_cast<T>(x * x); } };
struct Relu {
  static constexpr UnaryOp id = UnaryOp::Relu;
  template <typename T> MX_HD static T f(T x) {
    if constexpr (!is_int_v<T>) if (std::isnan(x)) return x;
    return x > T(0) ? x : T(0);
  }
};
struct LogicalNot {
  static constexpr UnaryOp id = UnaryOp::LogicalNot; template <typename T> MX_HD static T f(T x) { return x == T(0) ? T(1) : T(0); } };
#define ROUND_FN(Name, expr)                                                          \
  struct Name {                                                                       \
    static constexpr UnaryOp id = UnaryOp::Name;                                      \
    template <typename T> MX_HD static T f(T x) {                                     \
      if constexpr (is_int_v<T>) return x;                                            \
      else return static_cast<T>(expr);                                               \
    }                                                                                 \
  };
ROUND_FN(Round, std::round(x))       // half away from zero
ROUND_FN(Rint, std::nearbyint(x))    // half to even
ROUND_FN(Ceil, std::ceil(x))
ROUND_FN(Floor, std::floor(x))
ROUND_FN(Trunc, std::trunc(x))
ROUND_FN(Fix, std::trunc(x))         // toward zero
#undef ROUND_FN

// ---- derivative functors for fused backward: T d(T x) = f'(x)
#define DERIV(Name, expr)                                                             \
  struct Name {                                                                       \
    static constexpr UnaryGradOp id = UnaryGradOp::Name;                              \
    template <typename T> MX_HD static T d(T x) { return static_cast<T>(expr); }      \
  };
DERIV(DRsqrt, T(-0.5) / (x * std::sqrt(x)))
DERIV(DCbrt, T(1) / (T(3) * std::cbrt(x) * std::cbrt(x)))
DERIV(DRcbrt, T(-1) / (T(3) * x * std::cbrt(x)))
DERIV(DLog1p, T(1) / (T(1) + x))
DERIV(DTan, T(1) + std::tan(x) * std::tan(x))
DERIV(DArcsin, T(1) / std::sqrt(T(1) - x * x))
DERIV(DArccos, T(-1) / std::sqrt(T(1) - x * x))
DERIV(DArctan, T(1) / (T(1) + x * x))
DERIV(DArcsinh, T(1) / std::sqrt(x * x + T(1)))
DERIV(DArccosh, T(1) / std::sqrt(x * x - T(1)))
DERIV(DArctanh, T(1) / (T(1) - x * x))
DERIV(DSoftsign, T(1) / ((T(1) + std::abs(x)) * (T(1) + std::abs(x))))
DERIV(DErf, T(2.0 / std::sqrt(M_PI)) * fastmath::exp_of(-x * x))
DERIV(DErfinv, T(std::sqrt(M_PI) / 2.0) * std::exp(erfinv_d(double(x)) * erfinv_d(double(x))))
DERIV(DGamma, std::tgamma(x) * digamma(double(x)))
DERIV(DGammaln, digamma(double(x)))
#undef DERIV


}  // namespace formula
}  // namespace mx
