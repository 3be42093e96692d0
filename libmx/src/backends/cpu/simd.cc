#include "backends/cpu/simd.h"

#include <cstdlib>
#include <cstring>

namespace mx {

bool cpu_has_avx512() {
  static const bool has = [] {
    const char *isa = std::getenv("MX_CPU_ISA");
    if (isa && std::strcmp(isa, "baseline") == 0) return false;
#if defined(__GNUC__) && defined(__x86_64__)
    // libgcc's checks include the OS's XSAVE support for the AVX-512 state.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
  }();
  return has;
}

}  // namespace mx
