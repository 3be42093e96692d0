// CPU parallelism: OpenMP for loops large enough to pay for the fork/join.
#pragma once
#include <atomic>
#include <cstdint>
#include <exception>

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
  // An exception must not leave an OpenMP region (that calls std::terminate): keep the first
  // one and rethrow it on the calling thread once the region has ended.
  std::exception_ptr error;
  std::atomic<bool> failed{false};
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    if (failed.load(std::memory_order_relaxed)) continue;
    int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
    try {
      fn(b, e);
    } catch (...) {
#pragma omp critical(mx_parallel_error)
      if (!error) error = std::current_exception();
      failed.store(true, std::memory_order_relaxed);
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace mx
