// Element loops built twice: for the x86-64 baseline the library is compiled for (SSE2) and for
// AVX-512 (with AVX2 and FMA), picked at run time by what the CPU has. The loop body, an inlined
// functor over the shared MX_HD formulas, is compiled into both; with AVX-512 the vectoriser uses
// 16 float lanes and FMA (tanh and sigmoid about 10x faster on this project's machines). The two
// may differ in the last bit (FMA contraction). MX_CPU_ISA=baseline in the environment (read once)
// forces the baseline loops.
#pragma once
#include <cstdint>

namespace mx {

bool cpu_has_avx512();  // AVX-512 F/BW/DQ/VL, AVX2 and FMA, enabled by the OS, not turned off

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__CUDACC__)
#define MX_TARGET_AVX512 __attribute__((target("avx2,fma,avx512f,avx512bw,avx512dq,avx512vl")))
#else
#define MX_TARGET_AVX512
#endif

// A distinct function (not the baseline loop with another target) so no instantiation compiled
// for AVX-512 can be picked by the linker for a caller that did not check the CPU.
template <class Body> MX_TARGET_AVX512 void for_range_avx512(int64_t b, int64_t e, const Body &body) {
  const Body g = body;  // a local copy: its fields stay in registers (stores cannot alias them)
  for (int64_t i = b; i < e; ++i) g(i);
}

// body(i) for i in [b, e).
template <class Body> inline void for_range(int64_t b, int64_t e, const Body &body) {
  if (cpu_has_avx512()) {
    for_range_avx512(b, e, body);
    return;
  }
  const Body g = body;
  for (int64_t i = b; i < e; ++i) g(i);
}

}  // namespace mx
