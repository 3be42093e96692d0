// Caching allocator for device memory: host-side bookkeeping only, so it is unit-tested on the
// CPU with a fake device (tests/c/test_caching_allocator.cc). The CUDA backend gives it
// cudaMalloc/cudaFree; in steady state no cudaFree happens (freed blocks go back to the pool).
//
// Requests round up to 512 bytes. Requests up to 1 MiB come from 2 MiB segments (the small
// pool); larger ones from segments of 20 MiB (requests under 10 MiB) or their own size rounded
// to 2 MiB (the large pool). A block bigger than the request is split when the rest is worth
// keeping (512 bytes small, 1 MiB large), and a freed block merges with free neighbours of its
// segment. Best fit: the smallest free block that holds the request. Reuse is safe without
// events because every kernel and copy that touches a block is ordered on the device's one
// compute stream (the copy stream is fenced against it; backends/cuda/cuda_device.cc).
#pragma once
#include <cstddef>
#include <mutex>
#include <set>
#include <unordered_map>

namespace mx {
namespace gpu {

// Where segments come from: cudaMalloc on a GPU, a fake in the tests.
class RawMemory {
 public:
  virtual ~RawMemory() = default;
  virtual void *allocate(size_t bytes) = 0;  // nullptr when the device is out of memory
  virtual void deallocate(void *ptr, size_t bytes) = 0;
};

struct PoolStats {
  size_t allocated = 0;      // bytes in blocks handed out (rounded sizes)
  size_t reserved = 0;       // bytes in segments taken from RawMemory
  size_t segments = 0;       // live segments
  size_t raw_allocs = 0;     // RawMemory::allocate calls that succeeded, ever
  size_t raw_frees = 0;      // RawMemory::deallocate calls, ever
  size_t blocks_free = 0;    // free blocks in the pools
};

class CachingAllocator {
 public:
  static constexpr size_t kRound = 512;
  static constexpr size_t kSmallRequest = size_t(1) << 20;   // <= this: small pool
  static constexpr size_t kSmallSegment = size_t(2) << 20;
  static constexpr size_t kMidRequest = size_t(10) << 20;    // < this: one 20 MiB segment
  static constexpr size_t kMidSegment = size_t(20) << 20;
  static constexpr size_t kLargeRound = size_t(2) << 20;
  static constexpr size_t kLargeSplitMin = size_t(1) << 20;  // keep a large remainder only if > this

  explicit CachingAllocator(RawMemory *raw) : raw_(raw) {}
  ~CachingAllocator();  // returns free segments; blocks still handed out are leaked on purpose
  CachingAllocator(const CachingAllocator &) = delete;
  CachingAllocator &operator=(const CachingAllocator &) = delete;

  // A block of at least `bytes` (its usable size in *capacity). When the device is out of
  // memory the cache is released and the request retried once; then nullptr.
  void *allocate(size_t bytes, size_t *capacity);
  // Return a block from allocate(); unknown pointers are ignored and reported false.
  bool deallocate(void *ptr);
  // Give every entirely free segment back to RawMemory.
  void empty_cache();
  PoolStats stats() const;

  static size_t round_size(size_t bytes);
  static size_t segment_size(size_t rounded);

 private:
  struct Block {
    char *ptr;
    size_t size;
    bool small;
    bool allocated = false;
    Block *prev = nullptr;  // neighbours inside the same segment
    Block *next = nullptr;
  };
  struct BySize {
    bool operator()(const Block *a, const Block *b) const {
      return a->size != b->size ? a->size < b->size : a->ptr < b->ptr;
    }
  };
  using FreeSet = std::set<Block *, BySize>;

  FreeSet &pool(bool small) { return small ? small_free_ : large_free_; }
  Block *take_free(size_t rounded, bool small);
  Block *new_segment(size_t rounded, bool small);
  void release_free_segments();  // mu_ held

  RawMemory *raw_;
  mutable std::mutex mu_;
  FreeSet small_free_, large_free_;
  std::unordered_map<void *, Block *> live_;  // allocated blocks by pointer
  PoolStats stats_;
};

}  // namespace gpu
}  // namespace mx
