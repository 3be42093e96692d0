#include "ndarray/storage.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "backends/gpu.h"
#include "base/error.h"

namespace mx {

namespace {
// Size-bucketed free lists for CPU memory. Small requests round up to 64-byte multiples, larger
// ones to powers of two (at most 2x waste, bounded number of buckets). The cache is capped so
// a long run cannot hoard memory.
class CpuPool {
 public:
  static CpuPool &get() {
    static CpuPool *p = new CpuPool();  // never destroyed: storages may be freed at exit
    return *p;
  }
  static size_t bucket(size_t bytes) {
    if (bytes <= 4096) return (bytes + 63) & ~size_t(63);
    size_t b = 4096;
    while (b < bytes) b <<= 1;
    return b;
  }
  void *take(size_t cap) {
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = free_.find(cap);
      if (it != free_.end() && !it->second.empty()) {
        void *p = it->second.back();
        it->second.pop_back();
        cached_ -= cap;
        return p;
      }
    }
    void *p = nullptr;
    // Large buffers: 2 MiB aligned and marked for transparent huge pages (as numpy does for
    // arrays of 4 MiB and more): fewer page faults and TLB misses, and MPI's shared-memory
    // transport moves big gradients ~1.3-2x faster than from 4 KiB pages.
    const bool huge = cap >= kHugeFrom;
    const size_t align = huge ? kHugePage : 64;
    if (posix_memalign(&p, align, cap ? cap : 64) != 0) {
      trim();
      if (posix_memalign(&p, align, cap ? cap : 64) != 0)
        fail(MX_ERR_OUT_OF_MEMORY, "out of memory allocating ", cap, " bytes on cpu");
    }
#ifdef MADV_HUGEPAGE
    if (huge) madvise(p, cap, MADV_HUGEPAGE);  // advice only: failure changes nothing
#endif
    return p;
  }
  void give(void *p, size_t cap) {
    std::lock_guard<std::mutex> g(mu_);
    if (cached_ + cap > kMaxCached) {
      std::free(p);
      return;
    }
    free_[cap].push_back(p);
    cached_ += cap;
  }
  void trim() {
    std::lock_guard<std::mutex> g(mu_);
    for (auto &kv : free_)
      for (void *p : kv.second) std::free(p);
    free_.clear();
    cached_ = 0;
  }

 private:
  static constexpr size_t kMaxCached = size_t(4) << 30;
  static constexpr size_t kHugePage = size_t(2) << 20, kHugeFrom = size_t(4) << 20;
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void *>> free_;
  size_t cached_ = 0;
};
}  // namespace

size_t max_alloc_bytes() {
  static const size_t limit = [] {
    constexpr size_t kCap = size_t(1) << 62;  // keeps the pool's power-of-two bucket finite
    const char *env = std::getenv("MX_MAX_ALLOC_BYTES");
    if (env && *env) {
      char *end = nullptr;
      unsigned long long v = std::strtoull(env, &end, 10);
      if (end && *end == 0 && v > 0) return std::min<size_t>(static_cast<size_t>(v), kCap);
    }
    long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return kCap;
    return std::min<size_t>(static_cast<size_t>(pages) * static_cast<size_t>(page), kCap);
  }();
  return limit;
}

std::shared_ptr<Storage> Storage::alloc(size_t bytes, Device dev) {
  struct Alloc : Storage {};  // lets allocate_shared reach the private constructor
  if (!dev.is_cpu()) {  // the device's caching pool (backends/gpu.h); throws with the reason
    size_t cap = 0;
    void *p = gpu::alloc(dev.id, bytes, &cap);
    std::shared_ptr<Storage> s = std::allocate_shared<Alloc>(std::allocator<Alloc>());
    s->ptr_ = p;
    s->capacity_ = cap;
    s->bytes_ = bytes;
    s->dev_ = dev;
    return s;
  }
  if (bytes > max_alloc_bytes())
    fail(MX_ERR_OUT_OF_MEMORY, "out of memory: cannot allocate ", bytes, " bytes on cpu (the limit is ",
         max_alloc_bytes(), " bytes, the machine's memory or MX_MAX_ALLOC_BYTES)");
  std::shared_ptr<Storage> s = std::allocate_shared<Alloc>(std::allocator<Alloc>());
  s->capacity_ = CpuPool::bucket(bytes);
  s->ptr_ = CpuPool::get().take(s->capacity_);
  s->bytes_ = bytes;
  s->dev_ = dev;
  return s;
}

std::shared_ptr<Storage> Storage::external(void *ptr, size_t bytes, Device dev,
                                           std::function<void()> deleter) {
  std::shared_ptr<Storage> s(new Storage());
  s->ptr_ = ptr;
  s->bytes_ = bytes;
  s->dev_ = dev;
  s->deleter_ = std::move(deleter);
  s->escaped_ = true;  // its owner (numpy, torch, ...) may write to it at any time
  return s;
}

Storage::~Storage() {
  if (deleter_) {
    deleter_();
  } else if (ptr_ && !dev_.is_cpu()) {
    gpu::release(dev_.id, ptr_, capacity_);
  } else if (ptr_) {
    CpuPool::get().give(ptr_, capacity_);
  }
}

void storage_pool_trim() { CpuPool::get().trim(); }

}  // namespace mx
