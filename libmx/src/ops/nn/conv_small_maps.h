// Convolution over small output maps (a LeNet's 8x8, a ResNet's 4x4..1x1 on 32x32 images).
// Per-sample im2col + GEMM is wasteful there twice over: the GEMMs are thin, and padding fills
// most of the column matrix with zeros (a padded 3x3 over a 2x2 map reads padding for 5 of 9
// taps per position, over a 1x1 map for 8 of 9). Instead, output positions are grouped by the
// set of kernel taps that read inside the input (per dimension a contiguous range, so a 2-D map
// has at most 3x3 groups: corners, edges, interior); each group gathers only its valid taps for
// several samples at once and runs one GEMM with that subset of the weight's columns.
#pragma once
#include <cstring>
#include <vector>

#include "backends/cpu/blas.h"
#include "ops/nn/nn_common.h"

namespace mx {
namespace nn {

struct PositionGroup {
  std::vector<int64_t> positions;  // flat output positions
  std::vector<int64_t> taps;       // flat kernel positions valid for all of them
  std::vector<int64_t> offsets;    // flat input position of (tap v, position q) at v * P + q
  bool all_taps = false;
};

inline std::vector<PositionGroup> position_groups(const Geom &g) {
  const int n = g.nsp;
  // Per dim: the valid kernel index range [lo, hi) of every output coordinate.
  std::vector<std::vector<std::pair<int64_t, int64_t>>> range(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const size_t u = static_cast<size_t>(i);
    for (int64_t o = 0; o < g.out[u]; ++o) {
      int64_t lo = g.k[u], hi = 0;
      for (int64_t k = 0; k < g.k[u]; ++k) {
        int64_t pos = o * g.s[u] - g.p[u] + k * g.d[u];
        if (pos >= 0 && pos < g.in[u]) {
          lo = std::min(lo, k);
          hi = std::max(hi, k + 1);
        }
      }
      range[u].push_back({lo, std::max(lo, hi)});
    }
  }
  std::vector<PositionGroup> groups;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> keys;
  const int64_t O = g.out_size(), K = g.k_size();
  std::vector<int64_t> oc(static_cast<size_t>(n)), kc(static_cast<size_t>(n));
  for (int64_t o = 0; o < O; ++o) {
    int64_t r = o;
    for (int i = n - 1; i >= 0; --i) { oc[static_cast<size_t>(i)] = r % g.out[static_cast<size_t>(i)]; r /= g.out[static_cast<size_t>(i)]; }
    std::vector<std::pair<int64_t, int64_t>> key;
    for (int i = 0; i < n; ++i) key.push_back(range[static_cast<size_t>(i)][static_cast<size_t>(oc[static_cast<size_t>(i)])]);
    size_t gi = 0;
    while (gi < keys.size() && keys[gi] != key) ++gi;
    if (gi == keys.size()) {
      keys.push_back(key);
      groups.emplace_back();
      for (int64_t kidx = 0; kidx < K; ++kidx) {
        int64_t rk = kidx;
        bool valid = true;
        for (int i = n - 1; i >= 0; --i) {
          int64_t kk = rk % g.k[static_cast<size_t>(i)];
          rk /= g.k[static_cast<size_t>(i)];
          valid = valid && kk >= key[static_cast<size_t>(i)].first && kk < key[static_cast<size_t>(i)].second;
        }
        if (valid) groups.back().taps.push_back(kidx);
      }
      groups.back().all_taps = static_cast<int64_t>(groups.back().taps.size()) == K;
    }
    groups[gi].positions.push_back(o);
  }
  for (auto &grp : groups) {
    const size_t P = grp.positions.size();
    grp.offsets.resize(grp.taps.size() * P);
    for (size_t q = 0; q < P; ++q) {
      int64_t r = grp.positions[q];
      for (int i = n - 1; i >= 0; --i) { oc[static_cast<size_t>(i)] = r % g.out[static_cast<size_t>(i)]; r /= g.out[static_cast<size_t>(i)]; }
      for (size_t v = 0; v < grp.taps.size(); ++v) {
        int64_t rk = grp.taps[v];
        for (int i = n - 1; i >= 0; --i) { kc[static_cast<size_t>(i)] = rk % g.k[static_cast<size_t>(i)]; rk /= g.k[static_cast<size_t>(i)]; }
        int64_t flat = 0;
        for (int i = 0; i < n; ++i) {
          const size_t u = static_cast<size_t>(i);
          flat = flat * g.in[u] + (oc[u] * g.s[u] - g.p[u] + kc[u] * g.d[u]);
        }
        grp.offsets[v * P + q] = flat;
      }
    }
  }
  return groups;
}

// Weight columns of a group's taps: (F, Cg*K) -> (F, Cg*Kt), or the weight itself.
template <typename T>
const T *group_weight(const PositionGroup &grp, const T *w, int64_t F, int64_t Cg, int64_t K, std::vector<T> *buf) {
  if (grp.all_taps) return w;
  const int64_t Kt = static_cast<int64_t>(grp.taps.size());
  buf->resize(static_cast<size_t>(F * Cg * Kt));
  T *dst = buf->data();
  parallel_for(F * Cg, 256, [&](int64_t b, int64_t e) {
    for (int64_t fc = b; fc < e; ++fc)
      for (int64_t v = 0; v < Kt; ++v) dst[fc * Kt + v] = w[fc * K + grp.taps[static_cast<size_t>(v)]];
  });
  return dst;
}

// Calls fn(column index, input index) for every entry of a group's column matrix for nb
// samples: (C*Kt, nb*P), row c*Kt+v, column j*P+q <-> input [sample j, c, offsets[v*P+q]].
template <typename Fn>
void for_each_column_entry(const PositionGroup &grp, int64_t nb, int64_t C, int64_t I, Fn fn) {
  const int64_t Kt = static_cast<int64_t>(grp.taps.size()), P = static_cast<int64_t>(grp.positions.size());
  const int64_t ld = nb * P;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t v = 0; v < Kt; ++v) {
      const int64_t row = (c * Kt + v) * ld;
      const int64_t *off = grp.offsets.data() + v * P;
      for (int64_t j = 0; j < nb; ++j) {
        const int64_t base = j * C * I + c * I;
        for (int64_t q = 0; q < P; ++q) fn(row + j * P + q, base + off[q]);
      }
    }
}

template <typename T>
void gather_columns(const PositionGroup &grp, const T *x, int64_t nb, int64_t C, int64_t I, T *col) {
  for_each_column_entry(grp, nb, C, I, [&](int64_t ci, int64_t xi) { col[ci] = x[xi]; });
}

// Adjoint of gather_columns: dx[input index] += dcol[column index].
template <typename T>
void scatter_columns(const PositionGroup &grp, const T *dcol, int64_t nb, int64_t C, int64_t I, T *dx) {
  for_each_column_entry(grp, nb, C, I, [&](int64_t ci, int64_t xi) { dx[xi] += dcol[ci]; });
}

}  // namespace nn
}  // namespace mx
