// Device memory blocks. CPU blocks come from a size-bucketed caching pool: freshly touched pages
// cost ~2.7 us each on these VMs, so large buffers are reused rather than returned to malloc.
#pragma once
#include <cstddef>
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

  void *data() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return dev_; }

 protected:
  Storage() = default;  // only through alloc()/external()

 private:
  void *ptr_ = nullptr;
  size_t bytes_ = 0;
  size_t capacity_ = 0;  // pool bucket size
  Device dev_;
  std::function<void()> deleter_;  // set for external memory
};

// Largest single allocation allowed on the CPU, checked before any memory is touched: the
// machine's physical memory, or MX_MAX_ALLOC_BYTES (bytes) from the environment when set (read
// once; tests lower it to probe the limit without allocating). Never more than 2^62.
size_t max_alloc_bytes();

// Release cached pool blocks back to the system (tests and memory pressure).
void storage_pool_trim();

}  // namespace mx
