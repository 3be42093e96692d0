#include "backends/cpu/parallel.h"

#include <atomic>
#include <cstdlib>
#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mx {

namespace {
int default_threads() {
  if (const char *env = std::getenv("MX_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  if (const char *env = std::getenv("OMP_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? static_cast<int>(hc) : 1;
}
std::atomic<int> g_threads{0};
}  // namespace

int cpu_num_threads() {
#ifdef _OPENMP
  int n = g_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    n = default_threads();
    g_threads.store(n);
  }
  return n;
#else
  return 1;
#endif
}

void set_cpu_num_threads(int n) { g_threads.store(n > 0 ? n : default_threads()); }

}  // namespace mx
