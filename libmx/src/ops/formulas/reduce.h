// Reducers of the reduction ops (sum, mean, prod, nansum, nanprod, max, min, norm's L1/L2),
// shared by the CPU kernels (ops/reduce.cc) and the CUDA kernels (backends/cuda/reduce.cu):
// init / step (add one element) / comb (merge two partial results) / fin (the output value
// from the accumulator and the element count).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "base/hd.h"

namespace mx {

enum class ReduceOp { Sum, Mean, Prod, NanSum, NanProd, Max, Min, L1, L2 };

namespace formula {

template <typename T> using acc_t = typename std::conditional<std::is_integral<T>::value, int64_t, double>::type;

template <typename T> struct SumR {
  using A = acc_t<T>;
  MX_HD static A init() { return A(0); }
  MX_HD static A step(A a, T x) { return a + static_cast<A>(x); }
  MX_HD static A comb(A a, A b) { return a + b; }
  MX_HD static T fin(A a, int64_t) { return static_cast<T>(a); }
};
template <typename T> struct MeanR : SumR<T> {
  using A = acc_t<T>;
  MX_HD static T fin(A a, int64_t n) { return static_cast<T>(n ? a / static_cast<A>(n) : a); }
};
template <typename T> struct ProdR {
  using A = acc_t<T>;
  MX_HD static A init() { return A(1); }
  MX_HD static A step(A a, T x) { return a * static_cast<A>(x); }
  MX_HD static A comb(A a, A b) { return a * b; }
  MX_HD static T fin(A a, int64_t) { return static_cast<T>(a); }
};
template <typename T> struct NanSumR : SumR<T> {
  using A = acc_t<T>;
  MX_HD static A step(A a, T x) {
    if constexpr (!std::is_integral<T>::value) if (std::isnan(x)) return a;
    return a + static_cast<A>(x);
  }
};
template <typename T> struct NanProdR : ProdR<T> {
  using A = acc_t<T>;
  MX_HD static A step(A a, T x) {
    if constexpr (!std::is_integral<T>::value) if (std::isnan(x)) return a;
    return a * static_cast<A>(x);
  }
};
template <typename T> struct MaxR {  // NaN propagates
  using A = T;
  MX_HD static A init() {
    if constexpr (std::is_integral<T>::value) return std::numeric_limits<T>::lowest();
    else return -std::numeric_limits<T>::infinity();
  }
  MX_HD static A step(A a, T x) {
    if constexpr (!std::is_integral<T>::value) if (std::isnan(x) || std::isnan(a)) return std::isnan(a) ? a : x;
    return x > a ? x : a;
  }
  MX_HD static A comb(A a, A b) { return step(a, b); }
  MX_HD static T fin(A a, int64_t) { return a; }
};
template <typename T> struct MinR {
  using A = T;
  MX_HD static A init() {
    if constexpr (std::is_integral<T>::value) return std::numeric_limits<T>::max();
    else return std::numeric_limits<T>::infinity();
  }
  MX_HD static A step(A a, T x) {
    if constexpr (!std::is_integral<T>::value) if (std::isnan(x) || std::isnan(a)) return std::isnan(a) ? a : x;
    return x < a ? x : a;
  }
  MX_HD static A comb(A a, A b) { return step(a, b); }
  MX_HD static T fin(A a, int64_t) { return a; }
};
template <typename T> struct L1R : SumR<T> {
  using A = acc_t<T>;
  MX_HD static A step(A a, T x) { return a + std::abs(static_cast<A>(x)); }
};
template <typename T> struct L2R : SumR<T> {
  using A = double;
  MX_HD static A init() { return 0; }
  MX_HD static A step(A a, T x) { return a + static_cast<double>(x) * static_cast<double>(x); }
  MX_HD static A comb(A a, A b) { return a + b; }
  MX_HD static T fin(A a, int64_t) { return static_cast<T>(std::sqrt(a)); }
};

}  // namespace formula
}  // namespace mx
