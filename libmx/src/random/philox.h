// Philox4x32-10 counter-based generator (Salmon et al., SC'11). One stream per device: a 64-bit
// key (the seed) and a 64-bit block counter. Each op reserves the blocks it needs, so results
// depend only on the seed and the sequence of calls, never on threading or the front end.
#pragma once
#include <cstdint>
#include <mutex>

#include "base/hd.h"

namespace mx {

struct Philox4x32 {
  MX_HD static inline void round(uint32_t ctr[4], const uint32_t key[2]) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * ctr[0];
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * ctr[2];
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    uint32_t out[4] = {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
    ctr[0] = out[0]; ctr[1] = out[1]; ctr[2] = out[2]; ctr[3] = out[3];
  }
  // Four 32-bit random words for (key, counter). MX_HD: the CUDA kernels use the same code.
  MX_HD static inline void block(uint64_t seed, uint64_t counter, uint32_t out[4]) {
    uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
    uint32_t ctr[4] = {static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0, 0};
    for (int r = 0; r < 10; ++r) {
      round(ctr, key);
      key[0] += 0x9E3779B9u;
      key[1] += 0xBB67AE85u;
    }
    out[0] = ctr[0]; out[1] = ctr[1]; out[2] = ctr[2]; out[3] = ctr[3];
  }
};

// float in [0, 1) from 24 random bits; double from 53 bits.
MX_HD inline float u32_to_unit_float(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }
MX_HD inline double u64_to_unit_double(uint64_t x) {
  return static_cast<double>(x >> 11) * (1.0 / 9007199254740992.0);
}

class RandomState {
 public:
  explicit RandomState(uint64_t seed = 0) : seed_(seed) {}
  void seed(uint64_t s) {
    std::lock_guard<std::mutex> g(mu_);
    seed_ = s;
    counter_ = 0;
  }
  // Reserve n blocks of 4 words; returns the first counter. Element i of a kernel uses block
  // base + i / 4, word i % 4 (or its own scheme, as long as it is a function of i alone).
  uint64_t reserve(uint64_t nblocks, uint64_t *out_seed) {
    std::lock_guard<std::mutex> g(mu_);
    uint64_t base = counter_;
    counter_ += nblocks;
    *out_seed = seed_;
    return base;
  }

 private:
  std::mutex mu_;
  uint64_t seed_;
  uint64_t counter_ = 0;
};

RandomState &random_state(int dev_type, int dev_id);
void random_seed_all(uint64_t seed, int dev_type);

}  // namespace mx
