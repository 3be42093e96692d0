// Element formulas of the binary arithmetic, comparison and logic families, shared by the CPU
// kernels (ops/elemwise_binary.cc) and the CUDA kernels (backends/cuda/elemwise_binary.cu).
// Each functor computes in the element type; `id` names it across the two (BinaryOp).
#pragma once
#include <cmath>
#include <type_traits>

#include "base/hd.h"

namespace mx {

// X(Functor, kind): kind N = numeric dtypes (integers too), F = float32/float64 only.
#define MX_BINARY_FORMULAS(X)                                                                   \
  X(Add, N) X(Sub, N) X(Mul, N) X(Div, N) X(Mod, N) X(Power, F) X(Maximum, N) X(Minimum, N)   \
  X(Hypot, F) X(Equal, N) X(NotEqual, N) X(Greater, N) X(GreaterEqual, N) X(Lesser, N)        \
  X(LesserEqual, N) X(LogicalAnd, N) X(LogicalOr, N) X(LogicalXor, N)

enum class BinaryOp {
#define MX_ENUM_ENTRY(F, kind) F,
  MX_BINARY_FORMULAS(MX_ENUM_ENTRY)
#undef MX_ENUM_ENTRY
};

namespace formula {

template <typename T> constexpr bool is_signed_int() { return std::is_integral<T>::value && std::is_signed<T>::value; }
template <typename T> MX_HD T wrapping_neg(T a) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(U(0) - static_cast<U>(a));
}

// Integer division and modulo by zero give 0. Signed division by -1 is negation (computed
// unsigned, so INT_MIN / -1 wraps to INT_MIN as numpy gives) and modulo by -1 is 0: the
// hardware traps (SIGFPE) on INT_MIN / -1 and INT_MIN % -1.
struct Add { static constexpr BinaryOp id = BinaryOp::Add; template <typename T> MX_HD static T f(T a, T b) { return a + b; } };
struct Sub { static constexpr BinaryOp id = BinaryOp::Sub; template <typename T> MX_HD static T f(T a, T b) { return a - b; } };
struct Mul { static constexpr BinaryOp id = BinaryOp::Mul; template <typename T> MX_HD static T f(T a, T b) { return a * b; } };
struct Div {
  static constexpr BinaryOp id = BinaryOp::Div;
  template <typename T> MX_HD static T f(T a, T b) {
    if constexpr (is_signed_int<T>()) {
      if (b == 0) return T(0);
      if (b == T(-1)) return wrapping_neg(a);
      return T(a / b);
    } else if constexpr (std::is_integral<T>::value) {
      return b == 0 ? T(0) : T(a / b);
    } else {
      return a / b;
    }
  }
};
struct Mod {  // sign follows the divisor, as numpy's and MXNet's mod
  static constexpr BinaryOp id = BinaryOp::Mod;
  template <typename T> MX_HD static T f(T a, T b) {
    if constexpr (std::is_integral<T>::value) {
      if (b == 0) return T(0);
      if constexpr (is_signed_int<T>()) {
        if (b == T(-1)) return T(0);
      }
      T r = T(a % b);
      if constexpr (std::is_signed<T>::value) {
        if (r != 0 && ((r < 0) != (b < 0))) r = T(r + b);
      }
      return r;
    } else {
      if (b == 0) return T(NAN);
      T r = std::fmod(a, b);
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r;
    }
  }
};
struct Power { static constexpr BinaryOp id = BinaryOp::Power; template <typename T> MX_HD static T f(T a, T b) { return static_cast<T>(std::pow(a, b)); } };
struct Maximum { static constexpr BinaryOp id = BinaryOp::Maximum; template <typename T> MX_HD static T f(T a, T b) { return a > b ? a : b; } };
struct Minimum { static constexpr BinaryOp id = BinaryOp::Minimum; template <typename T> MX_HD static T f(T a, T b) { return a < b ? a : b; } };
struct Hypot { static constexpr BinaryOp id = BinaryOp::Hypot; template <typename T> MX_HD static T f(T a, T b) { return static_cast<T>(std::hypot(a, b)); } };
struct Equal { static constexpr BinaryOp id = BinaryOp::Equal; template <typename T> MX_HD static T f(T a, T b) { return a == b ? T(1) : T(0); } };
struct NotEqual { static constexpr BinaryOp id = BinaryOp::NotEqual; template <typename T> MX_HD static T f(T a, T b) { return a != b ? T(1) : T(0); } };
struct Greater { static constexpr BinaryOp id = BinaryOp::Greater; template <typename T> MX_HD static T f(T a, T b) { return a > b ? T(1) : T(0); } };
struct GreaterEqual { static constexpr BinaryOp id = BinaryOp::GreaterEqual; template <typename T> MX_HD static T f(T a, T b) { return a >= b ? T(1) : T(0); } };
struct Lesser { static constexpr BinaryOp id = BinaryOp::Lesser; template <typename T> MX_HD static T f(T a, T b) { return a < b ? T(1) : T(0); } };
struct LesserEqual { static constexpr BinaryOp id = BinaryOp::LesserEqual; template <typename T> MX_HD static T f(T a, T b) { return a <= b ? T(1) : T(0); } };
struct LogicalAnd { static constexpr BinaryOp id = BinaryOp::LogicalAnd; template <typename T> MX_HD static T f(T a, T b) { return (a != T(0) && b != T(0)) ? T(1) : T(0); } };
struct LogicalOr { static constexpr BinaryOp id = BinaryOp::LogicalOr; template <typename T> MX_HD static T f(T a, T b) { return (a != T(0) || b != T(0)) ? T(1) : T(0); } };
struct LogicalXor { static constexpr BinaryOp id = BinaryOp::LogicalXor; template <typename T> MX_HD static T f(T a, T b) { return ((a != T(0)) != (b != T(0))) ? T(1) : T(0); } };

// Partial derivatives for the fused backward ops _backward_broadcast_<name>(g, a, b):
// da/db take (a, b, out = F(a, b)).
struct DMod {
  template <typename T> MX_HD static T da(T, T, T) { return T(1); }
  template <typename T> MX_HD static T db(T a, T b, T) { return b == T(0) ? T(0) : -std::floor(a / b); }
};
struct DPower {
  template <typename T> MX_HD static T da(T a, T b, T) { return b * std::pow(a, b - 1); }
  template <typename T> MX_HD static T db(T a, T, T out) { return a > 0 ? out * std::log(a) : T(0); }
};
struct DMaximum {
  template <typename T> MX_HD static T da(T a, T b, T) { return a >= b ? T(1) : T(0); }
  template <typename T> MX_HD static T db(T a, T b, T) { return a >= b ? T(0) : T(1); }
};
struct DMinimum {
  template <typename T> MX_HD static T da(T a, T b, T) { return a <= b ? T(1) : T(0); }
  template <typename T> MX_HD static T db(T a, T b, T) { return a <= b ? T(0) : T(1); }
};
struct DHypot {
  template <typename T> MX_HD static T da(T a, T, T out) { return out == T(0) ? T(0) : a / out; }
  template <typename T> MX_HD static T db(T, T b, T out) { return out == T(0) ? T(0) : b / out; }
};

}  // namespace formula
}  // namespace mx
