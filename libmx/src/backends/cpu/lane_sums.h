// Long sums on the CPU in double with kSumLanes independent partial sums: acc[j] takes the terms
// j, j + kSumLanes, ... One chain of dependent double adds runs at one add per ~4 cycles; 32
// independent ones fill the vector pipeline. The order of additions is fixed (it does not depend
// on the instruction set a caller is compiled for), so every build gives the same bits.
#pragma once
#include <cstdint>

namespace mx {

constexpr int kSumLanes = 32;

struct LaneSums {
  double acc[kSumLanes] = {};
  // Pairwise: 16 sums of 2, 8 of 4, ... (also fixed order).
  double total() {
    for (int w = kSumLanes / 2; w >= 1; w /= 2)
      for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
    return acc[0];
  }
};

// acc += term(i) for i in [0, n); the lane of term i is i % kSumLanes when n is a multiple of
// kSumLanes (rows of other lengths start again at lane 0 for their tail).
template <typename Term> inline void lane_add(LaneSums &s, int64_t n, Term term) {
  int64_t i = 0;
  for (; i + kSumLanes <= n; i += kSumLanes)
    for (int j = 0; j < kSumLanes; ++j) s.acc[j] += term(i + j);
  for (int j = 0; i < n; ++i, ++j) s.acc[j] += term(i);
}

// Two sums over the same terms' inputs in one pass (a and b share the loop).
template <typename TermA, typename TermB>
inline void lane_add2(LaneSums &a, LaneSums &b, int64_t n, TermA ta, TermB tb) {
  int64_t i = 0;
  for (; i + kSumLanes <= n; i += kSumLanes)
    for (int j = 0; j < kSumLanes; ++j) {
      a.acc[j] += ta(i + j);
      b.acc[j] += tb(i + j);
    }
  for (int j = 0; i < n; ++i, ++j) {
    a.acc[j] += ta(i);
    b.acc[j] += tb(i);
  }
}

}  // namespace mx
