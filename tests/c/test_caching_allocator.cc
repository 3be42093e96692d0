// Host-side bookkeeping of the GPU caching allocator (backends/cuda/caching_allocator.h) with a
// fake device: the fake hands out address ranges without touching memory, records every
// segment, and can refuse allocations to simulate a full device. Built without CUDA.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

#include "backends/cuda/caching_allocator.h"

using mx::gpu::CachingAllocator;

static int g_fail = 0;
#define EXPECT(cond)                                                      \
  do {                                                                    \
    if (!(cond)) {                                                        \
      std::fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
      ++g_fail;                                                           \
    }                                                                     \
  } while (0)

// Fake device memory: addresses from a counter (never dereferenced), a byte budget.
class FakeDevice : public mx::gpu::RawMemory {
 public:
  explicit FakeDevice(size_t budget) : budget_(budget) {}
  void *allocate(size_t bytes) override {
    if (used_ + bytes > budget_) return nullptr;
    used_ += bytes;
    ++allocs;
    void *p = reinterpret_cast<void *>(next_);
    next_ += bytes + 4096;  // gaps: segments are never adjacent
    live[p] = bytes;
    return p;
  }
  void deallocate(void *p, size_t bytes) override {
    auto it = live.find(p);
    EXPECT(it != live.end() && it->second == bytes);  // only whole segments come back
    if (it != live.end()) live.erase(it);
    used_ -= bytes;
    ++frees;
  }
  std::map<void *, size_t> live;
  int allocs = 0, frees = 0;
  size_t used() const { return used_; }

 private:
  size_t budget_, used_ = 0;
  uintptr_t next_ = 0x10000000;
};

static const size_t MiB = size_t(1) << 20;

static void test_rounding_and_segments() {
  EXPECT(CachingAllocator::round_size(0) == 512);
  EXPECT(CachingAllocator::round_size(1) == 512);
  EXPECT(CachingAllocator::round_size(512) == 512);
  EXPECT(CachingAllocator::round_size(513) == 1024);
  EXPECT(CachingAllocator::segment_size(512) == 2 * MiB);
  EXPECT(CachingAllocator::segment_size(MiB) == 2 * MiB);
  EXPECT(CachingAllocator::segment_size(MiB + 512) == 20 * MiB);
  EXPECT(CachingAllocator::segment_size(30 * MiB + 1) == 32 * MiB);
}

// Small blocks share one 2 MiB segment; freeing and re-allocating the same sizes reuses them
// without any new device allocation (the steady state of a training loop).
static void test_steady_state_reuse() {
  FakeDevice dev(size_t(1) << 34);
  {
    CachingAllocator a(&dev);
    size_t cap = 0;
    void *p1 = a.allocate(1000, &cap);
    EXPECT(p1 && cap == 1024);
    void *p2 = a.allocate(3000, &cap);
    EXPECT(p2 && cap == 3072);
    EXPECT(static_cast<char *>(p2) == static_cast<char *>(p1) + 1024);  // split from one segment
    EXPECT(dev.allocs == 1);
    EXPECT(a.stats().allocated == 1024 + 3072 && a.stats().reserved == 2 * MiB);
    for (int iter = 0; iter < 100; ++iter) {
      EXPECT(a.deallocate(p1));
      EXPECT(a.deallocate(p2));
      p1 = a.allocate(1000, nullptr);
      p2 = a.allocate(3000, nullptr);
      void *big = a.allocate(64 * MiB, nullptr);
      EXPECT(big != nullptr);
      EXPECT(a.deallocate(big));
    }
    EXPECT(dev.allocs == 2);  // the small segment and one 64 MiB segment, nothing more
    EXPECT(dev.frees == 0);
    EXPECT(a.deallocate(p1) && a.deallocate(p2));
    EXPECT(a.stats().allocated == 0);
    EXPECT(!a.deallocate(p1));  // double free is refused, not corrupting
    a.empty_cache();
    EXPECT(dev.frees == 2 && dev.live.empty() && a.stats().reserved == 0 && a.stats().segments == 0);
  }
}

// Freed neighbours merge back into one block: after freeing all pieces of a segment, the whole
// segment is one free block again (empty_cache can release it) and serves a larger request.
static void test_split_and_merge() {
  FakeDevice dev(size_t(1) << 34);
  CachingAllocator a(&dev);
  std::vector<void *> ps;
  for (int i = 0; i < 8; ++i) ps.push_back(a.allocate(256 * 1024, nullptr));  // 8 x 256 KiB = 2 MiB
  EXPECT(dev.allocs == 1);
  EXPECT(a.stats().blocks_free == 0);  // the segment is used exactly
  // Free in an interleaved order so that merges happen on both sides.
  for (int i : {1, 3, 5, 7, 0, 2, 6, 4}) EXPECT(a.deallocate(ps[static_cast<size_t>(i)]));
  EXPECT(a.stats().blocks_free == 1);
  void *whole = a.allocate(MiB, nullptr);  // fits in the merged segment: no new segment
  EXPECT(whole == ps[0] && dev.allocs == 1);
  EXPECT(a.deallocate(whole));
  a.empty_cache();
  EXPECT(dev.frees == 1 && dev.live.empty());
}

// A partly used segment is not released by empty_cache; large remainders are split off only
// when they are worth keeping (> 1 MiB).
static void test_large_split_rules() {
  FakeDevice dev(size_t(1) << 34);
  CachingAllocator a(&dev);
  size_t cap = 0;
  void *p = a.allocate(2 * MiB, &cap);  // mid-size: a 20 MiB segment, split
  EXPECT(cap == 2 * MiB && a.stats().reserved == 20 * MiB && a.stats().blocks_free == 1);
  void *q = a.allocate(17 * MiB + 512 * 1024, &cap);  // 18 MiB left: fits, rest 0.5 MiB is kept inside
  EXPECT(q == static_cast<char *>(p) + 2 * MiB && cap == 18 * MiB && a.stats().blocks_free == 0);
  a.empty_cache();
  EXPECT(dev.frees == 0);  // in use: nothing released
  EXPECT(a.deallocate(p));
  a.empty_cache();
  EXPECT(dev.frees == 0);  // q still holds the segment
  EXPECT(a.deallocate(q));
  a.empty_cache();
  EXPECT(dev.frees == 1 && a.stats().reserved == 0);
}

// When the device is full, cached free segments are released and the request retried; when
// that is not enough, allocate returns nullptr (the backend then raises out of memory).
static void test_out_of_memory_releases_cache() {
  FakeDevice dev(64 * MiB);
  CachingAllocator a(&dev);
  void *p = a.allocate(40 * MiB, nullptr);
  EXPECT(p != nullptr);
  EXPECT(a.deallocate(p));  // cached, still reserved
  EXPECT(dev.used() == 40 * MiB);
  void *q = a.allocate(50 * MiB, nullptr);  // 40 + 50 > 64: cache released, then it fits
  EXPECT(q != nullptr && dev.frees == 1 && dev.used() == 50 * MiB);
  void *r = a.allocate(30 * MiB, nullptr);  // cannot fit even after releasing the cache
  EXPECT(r == nullptr);
  EXPECT(a.stats().allocated == 50 * MiB);
  EXPECT(a.deallocate(q));
}

// A huge free block is not cut for a much smaller large request (fragmentation guard).
static void test_no_huge_block_for_small_large_request() {
  FakeDevice dev(size_t(1) << 34);
  CachingAllocator a(&dev);
  void *h = a.allocate(512 * MiB, nullptr);
  EXPECT(a.deallocate(h));
  void *s = a.allocate(12 * MiB, nullptr);
  EXPECT(s != h && dev.allocs == 2);
  EXPECT(a.deallocate(s));
  void *again = a.allocate(512 * MiB, nullptr);  // the cached one serves the same size again
  EXPECT(again == h && dev.allocs == 2);
  EXPECT(a.deallocate(again));
}

int main() {
  test_rounding_and_segments();
  test_steady_state_reuse();
  test_split_and_merge();
  test_large_split_rules();
  test_out_of_memory_releases_cache();
  test_no_huge_block_for_small_large_request();
  if (g_fail) {
    std::fprintf(stderr, "%d check(s) failed\n", g_fail);
    return 1;
  }
  std::printf("test_caching_allocator: all checks passed\n");
  return 0;
}
