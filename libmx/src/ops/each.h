// One kernel source for both devices: an op's driver (a template taking an `Each` runner) checks
// and prepares on the host, then hands MX_HD functors (f(i) for i in [0, n)) to the runner.
// HostEach runs them with parallel_for; DeviceEach (backends/cuda/each.cuh) launches them as a
// CUDA grid. The CPU suites thus test the functors the GPU runs.
#pragma once
#include <cstdint>

#include "backends/cpu/parallel.h"
#include "backends/cpu/simd.h"

namespace mx {

struct HostEach {
  // grain: indices per parallel chunk (rows of a row functor count more than elements).
  template <class F> void operator()(int64_t n, const F &f, int64_t grain = 1 << 14) const {
    // for_range: the AVX-512 build of the loop where the CPU has it (backends/cpu/simd.h)
    parallel_for(n, grain < 1 ? 1 : grain, [&](int64_t b, int64_t e) { for_range(b, e, f); });
  }
  bool on_gpu() const { return false; }
};

}  // namespace mx
