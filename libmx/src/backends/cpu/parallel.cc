#include "backends/cpu/parallel.h"

#include <pthread.h>
#include <sched.h>

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
  // The CPUs this process may run on (taskset, cgroup cpusets, a container's share), not all the
  // machine's: more threads than CPUs only time-slice against each other.
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? static_cast<int>(hc) : 1;
}
std::atomic<int> g_threads{0};

// libgomp's thread pool does not survive fork(): a child that enters a parallel region after the
// parent used one can hang. Forked children (DataLoader workers, multiprocessing) therefore run
// kernels on one thread; they are parallel across processes already.
void run_serial_after_fork() { g_threads.store(1); }
const int g_atfork_registered = pthread_atfork(nullptr, nullptr, run_serial_after_fork);
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
