// Pure C++ (no CUDA): compiled into libmx by the CUDA build and into the allocator's C++ test.
#include "backends/cuda/caching_allocator.h"

#include <vector>

namespace mx {
namespace gpu {

size_t CachingAllocator::round_size(size_t bytes) {
  if (bytes == 0) return kRound;
  return (bytes + kRound - 1) / kRound * kRound;
}

size_t CachingAllocator::segment_size(size_t rounded) {
  if (rounded <= kSmallRequest) return kSmallSegment;
  if (rounded < kMidRequest) return kMidSegment;
  return (rounded + kLargeRound - 1) / kLargeRound * kLargeRound;
}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> g(mu_);
  release_free_segments();
}

CachingAllocator::Block *CachingAllocator::take_free(size_t rounded, bool small) {
  FreeSet &fs = pool(small);
  Block key{nullptr, rounded, small};
  auto it = fs.lower_bound(&key);
  if (it == fs.end()) return nullptr;
  // A huge cached block is not cut down for a much smaller large request: that would pin the
  // segment (fragmentation); the request gets a segment of its own instead.
  if (!small && (*it)->size >= kMidRequest && (*it)->size > 2 * rounded + kMidSegment) return nullptr;
  Block *b = *it;
  fs.erase(it);
  --stats_.blocks_free;
  return b;
}

CachingAllocator::Block *CachingAllocator::new_segment(size_t rounded, bool small) {
  size_t seg = segment_size(rounded);
  void *p = raw_->allocate(seg);
  if (!p) {
    release_free_segments();
    p = raw_->allocate(seg);
    if (!p) return nullptr;
  }
  ++stats_.raw_allocs;
  ++stats_.segments;
  stats_.reserved += seg;
  return new Block{static_cast<char *>(p), seg, small};
}

void *CachingAllocator::allocate(size_t bytes, size_t *capacity) {
  if (bytes > (~size_t(0) >> 1)) return nullptr;  // rounding would overflow
  const size_t rounded = round_size(bytes);
  const bool small = rounded <= kSmallRequest;
  std::lock_guard<std::mutex> g(mu_);
  Block *b = take_free(rounded, small);
  if (!b) b = new_segment(rounded, small);
  if (!b) return nullptr;
  // Split off the rest when it is worth keeping.
  const size_t rest = b->size - rounded;
  if (small ? rest >= kRound : rest > kLargeSplitMin) {
    Block *r = new Block{b->ptr + rounded, rest, small};
    r->prev = b;
    r->next = b->next;
    if (b->next) b->next->prev = r;
    b->next = r;
    b->size = rounded;
    pool(small).insert(r);
    ++stats_.blocks_free;
  }
  b->allocated = true;
  live_[b->ptr] = b;
  stats_.allocated += b->size;
  if (capacity) *capacity = b->size;
  return b->ptr;
}

bool CachingAllocator::deallocate(void *ptr) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = live_.find(ptr);
  if (it == live_.end()) return false;
  Block *b = it->second;
  live_.erase(it);
  b->allocated = false;
  stats_.allocated -= b->size;
  FreeSet &fs = pool(b->small);
  // Merge with free neighbours (they are in the same pool: segments never mix pools).
  if (b->prev && !b->prev->allocated) {
    Block *p = b->prev;
    fs.erase(p);
    --stats_.blocks_free;
    p->size += b->size;
    p->next = b->next;
    if (b->next) b->next->prev = p;
    delete b;
    b = p;
  }
  if (b->next && !b->next->allocated) {
    Block *n = b->next;
    fs.erase(n);
    --stats_.blocks_free;
    b->size += n->size;
    b->next = n->next;
    if (n->next) n->next->prev = b;
    delete n;
  }
  fs.insert(b);
  ++stats_.blocks_free;
  return true;
}

void CachingAllocator::release_free_segments() {
  for (FreeSet *fs : {&small_free_, &large_free_}) {
    std::vector<Block *> whole;
    for (Block *b : *fs)
      if (!b->prev && !b->next) whole.push_back(b);  // the segment is one free block
    for (Block *b : whole) {
      fs->erase(b);
      --stats_.blocks_free;
      raw_->deallocate(b->ptr, b->size);
      ++stats_.raw_frees;
      --stats_.segments;
      stats_.reserved -= b->size;
      delete b;
    }
  }
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> g(mu_);
  release_free_segments();
}

PoolStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> g(mu_);
  return stats_;
}

}  // namespace gpu
}  // namespace mx
