// Shared helpers of the neural-network operators: spatial parameter handling (kernel, stride,
// pad, dilate) and N-d im2col/col2im used by Convolution (and its backward).
#pragma once
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "backends/cpu/blas.h"
#include "backends/cudnn.h"
#include "backends/cpu/parallel.h"
#include "ops/registry.h"

namespace mx {
namespace nn {

// Expand an optional per-axis tuple: empty -> `def` repeated; one value -> repeated; else must
// have n entries. Throws MX_ERR_INVALID_ARGUMENT naming op and parameter.
inline std::vector<int64_t> expand_tuple(const std::vector<int64_t> &v, int n, int64_t def, const char *op,
                                         const char *what) {
  if (v.empty()) return std::vector<int64_t>(static_cast<size_t>(n), def);
  if (v.size() == 1 && n > 1) return std::vector<int64_t>(static_cast<size_t>(n), v[0]);
  MX_CHECK(static_cast<int>(v.size()) == n, MX_ERR_INVALID_ARGUMENT, op, ": parameter '", what, "' has ",
           v.size(), " values ", Shape(v).str(), " but the kernel has ", n, " dimensions");
  return v;
}

inline void check_positive(const std::vector<int64_t> &v, const char *op, const char *what) {
  for (int64_t x : v)
    MX_CHECK(x > 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter '", what, "' must be positive, got ",
             Shape(v).str());
}
inline void check_nonneg(const std::vector<int64_t> &v, const char *op, const char *what) {
  for (int64_t x : v)
    MX_CHECK(x >= 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter '", what, "' must be non-negative, got ",
             Shape(v).str());
}

// Geometry of an N-d sliding window over one sample (channels first).
struct Geom {
  int nsp = 0;                       // number of spatial dims
  int64_t channels = 0;
  std::vector<int64_t> in, out, k, s, p, d;
  int64_t in_size() const { return prod(in); }
  int64_t out_size() const { return prod(out); }
  int64_t k_size() const { return prod(k); }
  static int64_t prod(const std::vector<int64_t> &v) {
    int64_t n = 1;
    for (int64_t x : v) n *= x;
    return n;
  }
  bool is_pointwise() const {  // 1x1 kernel, stride 1, no pad: the column matrix is the input
    for (int i = 0; i < nsp; ++i)
      if (k[i] != 1 || s[i] != 1 || p[i] != 0) return false;
    return true;
  }
};

// The cuDNN description of the convolution over `g` (sample count N, C input and F output
// channels, G groups); Deconvolution passes its equivalent convolution's roles.
inline cudnn::ConvSpec cudnn_conv_spec(const Geom &g, int64_t N, int64_t C, int64_t F, int64_t G,
                                       const std::string &tune, int64_t workspace_mb) {
  cudnn::ConvSpec s;
  s.N = N;
  s.C = C;
  s.F = F;
  s.G = G;
  s.in = g.in;
  s.out = g.out;
  s.k = g.k;
  s.s = g.s;
  s.d = g.d;
  s.p = g.p;
  s.tune = tune;
  s.workspace_mb = workspace_mb;
  return s;
}

// col[(c*K + kidx) * O + o] = x[c, o*s - p + kk*d] (0 outside). x: (C, in...), col: (C*K, O).
template <typename T> void im2col(const T *x, const Geom &g, T *col) {
  const int n = g.nsp;
  const int64_t K = g.k_size(), O = g.out_size(), I = g.in_size();
  const int64_t olast = g.out[n - 1], oouter = O / olast, ilast = g.in[n - 1];
  const int64_t sl = g.s[n - 1], pl = g.p[n - 1], dl = g.d[n - 1], kl = g.k[n - 1];
  std::vector<int64_t> kk(static_cast<size_t>(n)), oi(static_cast<size_t>(n));
  for (int64_t c = 0; c < g.channels; ++c) {
    const T *xc = x + c * I;
    for (int64_t kidx = 0; kidx < K; ++kidx) {
      int64_t r = kidx;
      for (int i = n - 1; i >= 0; --i) {
        kk[static_cast<size_t>(i)] = r % g.k[i];
        r /= g.k[i];
      }
      T *row = col + (c * K + kidx) * O;
      const int64_t off_l = kk[static_cast<size_t>(n - 1)] * dl - pl;
      // valid range of ol: 0 <= ol*sl + off_l < ilast
      int64_t lo = off_l >= 0 ? 0 : (-off_l + sl - 1) / sl;
      int64_t hi = ilast - off_l <= 0 ? 0 : (ilast - off_l - 1) / sl + 1;
      lo = std::min(lo, olast);
      hi = std::min(std::max(hi, lo), olast);
      (void)kl;
      for (int64_t oo = 0; oo < oouter; ++oo) {
        T *dst = row + oo * olast;
        int64_t rem = oo, off = 0, stride = ilast;
        bool valid = true;
        for (int i = n - 2; i >= 0; --i) {
          int64_t o = rem % g.out[i];
          rem /= g.out[i];
          int64_t pos = o * g.s[i] - g.p[i] + kk[static_cast<size_t>(i)] * g.d[i];
          if (pos < 0 || pos >= g.in[i]) { valid = false; break; }
          off += pos * stride;
          stride *= g.in[i];
        }
        if (!valid) {
          std::memset(dst, 0, sizeof(T) * static_cast<size_t>(olast));
          continue;
        }
        const T *src = xc + off + off_l;
        for (int64_t ol = 0; ol < lo; ++ol) dst[ol] = T(0);
        if (sl == 1) {
          std::memcpy(dst + lo, src + lo, sizeof(T) * static_cast<size_t>(hi - lo));
        } else {
          for (int64_t ol = lo; ol < hi; ++ol) dst[ol] = src[ol * sl];
        }
        for (int64_t ol = hi; ol < olast; ++ol) dst[ol] = T(0);
      }
    }
  }
}

// Adjoint of im2col: x[c, pos] += col[...] (x must be zeroed by the caller).
template <typename T> void col2im(const T *col, const Geom &g, T *x) {
  const int n = g.nsp;
  const int64_t K = g.k_size(), O = g.out_size(), I = g.in_size();
  const int64_t olast = g.out[n - 1], oouter = O / olast, ilast = g.in[n - 1];
  const int64_t sl = g.s[n - 1], pl = g.p[n - 1], dl = g.d[n - 1];
  std::vector<int64_t> kk(static_cast<size_t>(n));
  for (int64_t c = 0; c < g.channels; ++c) {
    T *xc = x + c * I;
    for (int64_t kidx = 0; kidx < K; ++kidx) {
      int64_t r = kidx;
      for (int i = n - 1; i >= 0; --i) {
        kk[static_cast<size_t>(i)] = r % g.k[i];
        r /= g.k[i];
      }
      const T *row = col + (c * K + kidx) * O;
      const int64_t off_l = kk[static_cast<size_t>(n - 1)] * dl - pl;
      int64_t lo = off_l >= 0 ? 0 : (-off_l + sl - 1) / sl;
      int64_t hi = ilast - off_l <= 0 ? 0 : (ilast - off_l - 1) / sl + 1;
      lo = std::min(lo, olast);
      hi = std::min(std::max(hi, lo), olast);
      for (int64_t oo = 0; oo < oouter; ++oo) {
        const T *src = row + oo * olast;
        int64_t rem = oo, off = 0, stride = ilast;
        bool valid = true;
        for (int i = n - 2; i >= 0; --i) {
          int64_t o = rem % g.out[i];
          rem /= g.out[i];
          int64_t pos = o * g.s[i] - g.p[i] + kk[static_cast<size_t>(i)] * g.d[i];
          if (pos < 0 || pos >= g.in[i]) { valid = false; break; }
          off += pos * stride;
          stride *= g.in[i];
        }
        if (!valid) continue;
        T *dst = xc + off + off_l;
        for (int64_t ol = lo; ol < hi; ++ol) dst[ol * sl] += src[ol];
      }
    }
  }
}

// Number of worker chunks for a loop over `n` independent items.
// out[j] = sum over chunks of parts[ch * n + j]: combines per-thread partial gradients
// (weight and bias gradients of convolution-like ops).
template <typename T> void sum_chunk_partials(const std::vector<T> &parts, int64_t chunks, int64_t n, T *out) {
  for (int64_t j = 0; j < n; ++j) {
    T s = 0;
    for (int64_t ch = 0; ch < chunks; ++ch) s += parts[static_cast<size_t>(ch * n + j)];
    out[j] = s;
  }
}

inline int64_t num_chunks(int64_t n) { return std::max<int64_t>(1, std::min<int64_t>(n, cpu_num_threads())); }

// Run fn(chunk_index, begin, end) over [0, n) split into `chunks` contiguous pieces in parallel.
template <typename F> void parallel_chunks(int64_t n, int64_t chunks, F fn) {
  parallel_for(chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) fn(c, n * c / chunks, n * (c + 1) / chunks);
  });
}

// y = max(y, 0) in place, as Activation(relu) computes it (NaN becomes 0): the own-kernel side of
// the executor's op+relu fusions (_fused_Convolution_relu, _fused_FullyConnected_relu).
template <typename T> void relu_in_place(T *y, int64_t n) {
  parallel_for(n, 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = y[i] > T(0) ? y[i] : T(0);
  });
}

// Kwargs of a params object as the user gave them (to pass the forward's params to a backward op).
inline Kwargs given_kwargs(const GradNode &n) { return n.params->given; }

}  // namespace nn
}  // namespace mx
