// Index formulas shared by the CPU kernels (ops/index_ops.cc, ops/reduce.cc) and the CUDA kernels
// (backends/cuda/indexing.cu): one functor call per output (or source) element. Indices arrive
// already normalised (clipped / wrapped / checked on the host) as int64.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "base/hd.h"

namespace mx {
namespace formula {

// *p += v; on the GPU atomically (float, double, int32, int64). Host callers run it serially.
template <typename T> MX_HD inline void add_atomic(T *p, T v) {
#if defined(__CUDA_ARCH__)
  if constexpr (std::is_same<T, int64_t>::value)
    atomicAdd(reinterpret_cast<unsigned long long *>(p), static_cast<unsigned long long>(v));
  else
    atomicAdd(p, v);
#else
  *p = static_cast<T>(*p + v);
#endif
}

// take / Embedding: out (pre, k, post)[p, j, q] = src (pre, n, post)[p, idx[j], q]; T any type of
// the element's size (the values are moved, not converted).
template <typename T> struct TakeRows {
  int64_t n, k, post;
  const int64_t *idx;
  const T *src;
  T *out;
  MX_HD void operator()(int64_t i) const {
    const int64_t q = i % post, r = i / post, j = r % k, p = r / k;
    out[i] = src[(p * n + idx[j]) * post + q];
  }
};

// Their adjoint: grad (pre, n, post)[p, idx[j], q] += g (pre, k, post)[p, j, q], per element of g.
template <typename T> struct ScatterAddRows {
  int64_t n, k, post;
  const int64_t *idx;
  const T *g;
  T *grad;
  MX_HD void operator()(int64_t i) const {
    const int64_t q = i % post, r = i / post, j = r % k, p = r / k;
    add_atomic(&grad[(p * n + idx[j]) * post + q], g[i]);
  }
};

// pick: out (pre, post)[p, q] = src (pre, n, post)[p, idx[p, q], q].
template <typename T> struct PickGather {
  int64_t n, post;
  const int64_t *idx;
  const T *src;
  T *out;
  MX_HD void operator()(int64_t i) const {
    const int64_t q = i % post, p = i / post;
    out[i] = src[(p * n + idx[i]) * post + q];
  }
};
// Its adjoint (grad zeroed first; every line receives one value, so no two calls collide).
template <typename T> struct PickScatter {
  int64_t n, post;
  const int64_t *idx;
  const T *g;
  T *grad;
  MX_HD void operator()(int64_t i) const {
    const int64_t q = i % post, p = i / post;
    T &d = grad[(p * n + idx[i]) * post + q];
    d = static_cast<T>(d + g[i]);
  }
};

// one_hot: row r of depth values is `on` at idx[r] (when in range), `off` elsewhere; U: an
// unsigned type of the output element's size holding the values' bits.
template <typename U> struct OneHotRows {
  int64_t depth;
  const int64_t *idx;
  U on, off;
  U *out;
  MX_HD void operator()(int64_t i) const { out[i] = idx[i / depth] == i % depth ? on : off; }
};

// argmax / argmin along the middle axis of (M, Rn, N): the first extreme element's index (a NaN
// counts as the extreme, as numpy), written in the input's dtype.
template <typename T, bool IsMax> struct ArgExtreme {
  int64_t Rn, N;
  const T *x;
  T *y;
  MX_HD void operator()(int64_t t) const {
    const int64_t m = t / N, j = t % N;
    const T *p = x + m * Rn * N + j;
    int64_t best = 0;
    T bv = p[0];
    for (int64_t r = 1; r < Rn; ++r) {
      const T v = p[r * N];
      bool better = IsMax ? v > bv : v < bv;
      if constexpr (!std::is_integral<T>::value) better = better || (std::isnan(v) && !std::isnan(bv));
      if (better) {
        bv = v;
        best = r;
      }
    }
    y[t] = static_cast<T>(best);
  }
};

}  // namespace formula
}  // namespace mx
