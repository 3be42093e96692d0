// Per-element sampling formulas of the fixed-cost random ops (uniform, normal, randint,
// exponential), shared by the CPU kernels (ops/random_ops.cc) and the CUDA kernels
// (backends/cuda/random.cu). Element i of an op's output uses Philox block base + i / 2: the
// 64-bit word (i % 2) of it, or the whole block for a normal pair, so the GPU gives the CPU's
// numbers for the same seed and call sequence.
#pragma once
#include <cmath>
#include <cstdint>

#include "base/hd.h"
#include "random/philox.h"

namespace mx {
namespace formula {

MX_HD inline uint64_t join(uint32_t hi, uint32_t lo) { return (static_cast<uint64_t>(hi) << 32) | lo; }
constexpr double kTwoPow53Inv = 1.0 / 9007199254740992.0;
MX_HD inline double unit_open(uint64_t x) {  // (0, 1)
  return (static_cast<double>(x >> 11) + 0.5) * kTwoPow53Inv;
}

// Each sampler maps one block to the two doubles of elements 2b and 2b + 1.
struct UniformSampler {
  double lo, w;
  MX_HD double one(uint64_t x) const {
    double v = lo + w * (static_cast<double>(x >> 11) * kTwoPow53Inv);
    return v < lo + w || w == 0 ? v : lo;  // stay below high after rounding
  }
  MX_HD void pair(const uint32_t w4[4], double *a, double *b) const {
    *a = one(join(w4[0], w4[1]));
    *b = one(join(w4[2], w4[3]));
  }
};
struct ExponentialSampler {
  double lam;
  MX_HD void pair(const uint32_t w4[4], double *a, double *b) const {
    *a = -std::log(unit_open(join(w4[0], w4[1]))) / lam;
    *b = -std::log(unit_open(join(w4[2], w4[3]))) / lam;
  }
};
struct NormalSampler {  // Box-Muller on the block's two 64-bit words
  double loc, scale;
  MX_HD void pair(const uint32_t w4[4], double *a, double *b) const {
    double u1 = unit_open(join(w4[0], w4[1])), u2 = unit_open(join(w4[2], w4[3]));
    double r = std::sqrt(-2.0 * std::log(u1)), t = 2.0 * M_PI * u2;
    *a = loc + scale * r * std::cos(t);
    *b = loc + scale * r * std::sin(t);
  }
};
struct RandintSampler {  // integers in [lo, lo + range)
  int64_t lo;
  uint64_t range;
  MX_HD void pair(const uint32_t w4[4], int64_t *a, int64_t *b) const {
    *a = lo + static_cast<int64_t>(join(w4[0], w4[1]) % range);
    *b = lo + static_cast<int64_t>(join(w4[2], w4[3]) % range);
  }
};

}  // namespace formula
}  // namespace mx
