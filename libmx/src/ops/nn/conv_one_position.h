// Convolutions whose output has a single position (every spatial output size 1), ungrouped: one
// matrix product over the input positions the window meets. ResNet-18's last stage at 32x32 is
// such: 3x3 pad-1 layers on 1x1 maps (only the centre tap meets the input) and its stride-2 entry
// from 2x2 maps. oneDNN's convolutions (even with the dead taps cropped, onednn_conv.cc) spent
// ~2x the time of three GEMMs here, most of it in weight reorders (a new weight every training
// step) and a 1x1 kernel running at ~25 GFLOP/s on 64 rows.
//   forward   y (N x F)   = X (N x C*L) . W (F x C*L)^T + b
//   backward  dW = dy^T . X, dX = dy . W, db = sum_n dy
// where L is the number of taps that meet the input, X gathers those input values, W the
// weight's live taps (both views of the plain arrays when the map is 1x1 and the kernel 1x1).
// The other taps' weight gradient is zero, as are the data gradients of input positions no tap
// reads.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#include "backends/cpu/blas.h"
#include "backends/cpu/parallel.h"
#include "ndarray/ndarray.h"
#include "ops/nn/nn_common.h"

namespace mx {
namespace nn {

struct OnePosition {
  std::vector<int64_t> in_pos;  // per live tap: the flat input position it reads
  std::vector<int64_t> tap;     // per live tap: its flat index in the kernel
};

template <typename T> constexpr DType scratch_dtype() { return std::is_same_v<T, float> ? DType::f32 : DType::f64; }

// MX_CONV_ONE_POSITION=0 in the environment (read once) turns this path off (A/B switch).
inline bool one_position_enabled() {
  static const bool on = [] {
    const char *e = std::getenv("MX_CONV_ONE_POSITION");
    return !(e && e[0] == '0');
  }();
  return on;
}

// True (and the live taps) when g has one output position and G == 1; taps are listed in kernel
// order, so the reads are in the order of a plain im2col column.
inline bool one_position(const Geom &g, int64_t G, OnePosition *op) {
  if (!one_position_enabled() || G != 1 || g.out_size() != 1 || g.nsp == 0) return false;
  op->in_pos.clear();
  op->tap.clear();
  std::vector<int64_t> kk(static_cast<size_t>(g.nsp), 0);
  for (int64_t t = 0; t < g.k_size(); ++t) {
    int64_t rem = t, pos = 0;
    bool inside = true;
    for (int i = g.nsp - 1; i >= 0; --i) {  // unravel t (row-major over the kernel axes)
      kk[static_cast<size_t>(i)] = rem % g.k[i];
      rem /= g.k[i];
    }
    for (int i = 0; i < g.nsp; ++i) {
      const int64_t idx = kk[static_cast<size_t>(i)] * g.d[i] - g.p[i];  // output 0 reads here
      inside = inside && idx >= 0 && idx < g.in[i];
      pos = pos * g.in[i] + idx;
    }
    if (inside) {
      op->in_pos.push_back(pos);
      op->tap.push_back(t);
    }
  }
  return !op->tap.empty();
}

// X (N x C*L): the values the window reads; x itself when it is already that matrix.
template <typename T> const T *one_position_inputs(const T *x, int64_t N, int64_t C, int64_t I, const OnePosition &op,
                                                    NDArray *buf) {
  const int64_t L = static_cast<int64_t>(op.tap.size());
  if (I == 1 && L == 1) return x;
  *buf = NDArray(Shape{N * C * L}, scratch_dtype<T>());
  T *X = buf->data<T>();
  parallel_for(N * C, 64, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      for (int64_t l = 0; l < L; ++l) X[r * L + l] = x[r * I + op.in_pos[static_cast<size_t>(l)]];
  });
  return X;
}

// W (F x C*L): the live taps of the weight; w itself when every tap is live.
template <typename T> const T *one_position_weight(const T *w, int64_t F, int64_t C, int64_t K, const OnePosition &op,
                                                    NDArray *buf) {
  const int64_t L = static_cast<int64_t>(op.tap.size());
  if (L == K) return w;
  *buf = NDArray(Shape{F * C * L}, scratch_dtype<T>());
  T *W = buf->data<T>();
  parallel_for(F * C, 64, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      for (int64_t l = 0; l < L; ++l) W[r * L + l] = w[r * K + op.tap[static_cast<size_t>(l)]];
  });
  return W;
}

// y (N x F) = X . W^T + b.
template <typename T> void conv_forward_one_position(const Geom &g, const OnePosition &op, int64_t N, int64_t F,
                                                     const T *x, const T *w, const T *bias, T *y) {
  const int64_t C = g.channels, L = static_cast<int64_t>(op.tap.size());
  NDArray xb, wb;
  const T *X = one_position_inputs(x, N, C, g.in_size(), op, &xb);
  const T *W = one_position_weight(w, F, C, g.k_size(), op, &wb);
  if (bias)
    for (int64_t n = 0; n < N; ++n) std::copy(bias, bias + F, y + n * F);
  gemm(false, true, N, F, C * L, T(1), X, C * L, W, C * L, bias ? T(1) : T(0), y, F);
}

// dx (may be null), dw, db (may be null) from dy (N x F).
template <typename T> void conv_backward_one_position(const Geom &g, const OnePosition &op, int64_t N, int64_t F,
                                                      const T *x, const T *w, const T *dy, T *dx, T *dw, T *db) {
  const int64_t C = g.channels, L = static_cast<int64_t>(op.tap.size()), K = g.k_size(), I = g.in_size();
  NDArray xb, wb, dwb, dxb;
  const T *X = one_position_inputs(x, N, C, I, op, &xb);
  // dW over the live taps, scattered into dw with the other taps zero.
  T *dW = dw;
  if (L != K) {
    dwb = NDArray(Shape{F * C * L}, scratch_dtype<T>());
    dW = dwb.data<T>();
  }
  gemm(true, false, F, C * L, N, T(1), dy, F, X, C * L, T(0), dW, C * L);
  if (L != K) {
    parallel_for(F * C, 64, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        std::fill(dw + r * K, dw + (r + 1) * K, T(0));
        for (int64_t l = 0; l < L; ++l) dw[r * K + op.tap[static_cast<size_t>(l)]] = dW[r * L + l];
      }
    });
  }
  if (db)  // summed in double over the samples, as the other convolution paths
    for (int64_t f = 0; f < F; ++f) {
      double s = 0;
      for (int64_t n = 0; n < N; ++n) s += static_cast<double>(dy[n * F + f]);
      db[f] = static_cast<T>(s);
    }
  if (!dx) return;
  const T *W = one_position_weight(w, F, C, K, op, &wb);
  if (I == 1 && L == 1) {  // dx is the N x C matrix itself
    gemm(false, false, N, C, F, T(1), dy, F, W, C, T(0), dx, C);
    return;
  }
  dxb = NDArray(Shape{N * C * L}, scratch_dtype<T>());
  T *dX = dxb.data<T>();
  gemm(false, false, N, C * L, F, T(1), dy, F, W, C * L, T(0), dX, C * L);
  // Live taps read distinct input positions (one output position), so the scatter assigns.
  parallel_for(N * C, 64, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      std::fill(dx + r * I, dx + (r + 1) * I, T(0));
      for (int64_t l = 0; l < L; ++l) dx[r * I + op.in_pos[static_cast<size_t>(l)]] = dX[r * L + l];
    }
  });
}

}  // namespace nn
}  // namespace mx
