// CPU parallelism: OpenMP for loops large enough to pay for the fork/join.
#pragma once
#include <cstdint>

namespace mx {

int cpu_num_threads();
void set_cpu_num_threads(int n);

// Calls fn(begin, end) over [0, n) in chunks; serial when n < grain or one thread.
template <typename F> void parallel_for(int64_t n, int64_t grain, F fn) {
  int nt = cpu_num_threads();
  if (n <= 0) return;
  if (nt <= 1 || n < grain * 2) {
    fn(int64_t(0), n);
    return;
  }
  int64_t chunks = (n + grain - 1) / grain;
  if (chunks > nt) chunks = nt;
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
    fn(b, e);
  }
}

}  // namespace mx
