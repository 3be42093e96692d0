// Device memory blocks. CPU blocks come from a size-bucketed caching pool: freshly touched pages
// cost ~2.7 us each on these VMs, so large buffers are reused rather than returned to malloc.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "mx/c_api.h"

namespace mx {

struct Device {
  int type = MX_CPU;  // mx_device_type
  int id = 0;
  bool operator==(const Device &o) const { return type == o.type && id == o.id; }
  bool operator!=(const Device &o) const { return !(*this == o); }
  bool is_cpu() const { return type == MX_CPU || type == MX_CPU_PINNED; }
};

class Storage {
 public:
  // Allocate `bytes` on `dev` (from the pool). Throws MX_ERR_OUT_OF_MEMORY / MX_ERR_UNSUPPORTED.
  static std::shared_ptr<Storage> alloc(size_t bytes, Device dev);
  // Wrap external memory; `deleter` runs when the last reference goes (DLPack import).
  static std::shared_ptr<Storage> external(void *ptr, size_t bytes, Device dev,
                                           std::function<void()> deleter);
  ~Storage();
  Storage(const Storage &) = delete;
  Storage &operator=(const Storage &) = delete;

  // Write access. Handing out a mutable pointer counts as a write: it bumps version(). Every
  // write path (kernels' outputs, in-place ops, optimizer updates, copies, loads, kvstore pulls)
  // gets its pointer here, so none can change the bytes without changing the version.
  void *data() const {
    bump();
    return ptr_;
  }
  // Read-only access: leaves version() alone (kernels that cache data derived from an input).
  const void *cdata() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return dev_; }

  // Content version: changes whenever the bytes may have changed. For storage whose pointer has
  // escaped MX's control (external memory, raw pointers or DLPack tensors given to a front end,
  // which may write at any time) every call returns a new value, so nothing derived from it is
  // ever reused.
  uint64_t version() const {
    if (escaped_.load(std::memory_order_acquire)) return bump();
    return version_.load(std::memory_order_acquire);
  }
  uint64_t bump() const { return version_.fetch_add(1, std::memory_order_acq_rel) + 1; }
  void mark_escaped() const {
    escaped_.store(true, std::memory_order_release);
    bump();
  }
  bool escaped() const { return escaped_.load(std::memory_order_acquire); }

  // Data a kernel library derived from these bytes (oneDNN: a weight reordered into a blocked
  // layout), kept here so it dies with the storage; its owner stores the version it was made
  // from and compares before use (backends/cpu/onednn.cc).
  std::shared_ptr<void> derived() const { return std::atomic_load(&derived_); }
  void set_derived(std::shared_ptr<void> d) const { std::atomic_store(&derived_, std::move(d)); }

 protected:
  Storage() = default;  // only through alloc()/external()

 private:
  void *ptr_ = nullptr;
  size_t bytes_ = 0;
  size_t capacity_ = 0;  // pool bucket size
  Device dev_;
  std::function<void()> deleter_;  // set for external memory
  mutable std::atomic<uint64_t> version_{0};
  mutable std::atomic<bool> escaped_{false};
  mutable std::shared_ptr<void> derived_;
};

// Largest single allocation allowed on the CPU, checked before any memory is touched: the
// machine's physical memory, or MX_MAX_ALLOC_BYTES (bytes) from the environment when set (read
// once; tests lower it to probe the limit without allocating). Never more than 2^62.
size_t max_alloc_bytes();

// Release cached pool blocks back to the system (tests and memory pressure).
void storage_pool_trim();

}  // namespace mx
