// What the cuDNN-backed kernels (cudnn_conv.cc, cudnn_pool.cc, cudnn_batch_norm.cc) share: the
// device's handle bound to its compute stream (created on first use, one per device, used under
// a lock), status checks that name the op, owned descriptors, and packed NCHW-style tensor
// descriptors from MX shapes.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "backends/cuda/cudnn_api.h"
#include "ndarray/ndarray.h"

namespace mx {
namespace cudnn {

// Throws naming op and the cuDNN call when st is not success (out of memory -> MX_ERR_OUT_OF_MEMORY).
void check(Status st, const char *op, const char *call);
// The loaded library's API; throws MX_ERR_UNSUPPORTED naming op and what was tried when cuDNN
// cannot be loaded.
const Api &api(const char *op);

// The handle of gpu(dev) on its compute stream; hold `lock` while using it.
struct HandleLease {
  Handle handle;
  std::unique_lock<std::mutex> lock;
};
HandleLease handle_for(int dev, const char *op);

// cuDNN's data type for an MX dtype (float32, float64, float16, bfloat16); throws MX_ERR_TYPE naming op otherwise.
int data_type(DType t, const char *op);
// bfloat16 needs an sm_80+ GPU and cuDNN >= 8.1: else MX_ERR_UNSUPPORTED (MXNotSupportedError)
// naming op and the device. Other dtypes pass.
void require_dtype(DType t, int dev, const char *op);
// The scaling factors' type: double for float64 data, else float.
struct Scalars {
  float f[2];
  double d[2];
  bool dbl;
  Scalars(DType t, double alpha, double beta)
      : f{static_cast<float>(alpha), static_cast<float>(beta)}, d{alpha, beta}, dbl(t == DType::f64) {}
  const void *alpha() const { return dbl ? static_cast<const void *>(&d[0]) : &f[0]; }
  const void *beta() const { return dbl ? static_cast<const void *>(&d[1]) : &f[1]; }
};

// Dims as cuDNN's ints; throws MX_ERR_UNSUPPORTED naming op when one exceeds INT_MAX.
std::vector<int> to_int(const std::vector<int64_t> &v, const char *op);

// Owned descriptors (destroyed at scope end).
class Tensor {
 public:
  // A packed tensor of these dims (at least 4: callers pad 1-D problems to 2-D).
  Tensor(const char *op, DType t, const std::vector<int64_t> &dims);
  ~Tensor();
  Tensor(const Tensor &) = delete;
  Tensor &operator=(const Tensor &) = delete;
  TensorDesc get() const { return d_; }

 private:
  TensorDesc d_ = nullptr;
};

class Filter {
 public:
  Filter(const char *op, DType t, const std::vector<int64_t> &dims);
  ~Filter();
  Filter(const Filter &) = delete;
  Filter &operator=(const Filter &) = delete;
  FilterDesc get() const { return d_; }

 private:
  FilterDesc d_ = nullptr;
};

// Device scratch memory from the caching pool (stream-ordered: released at scope end, reusable
// by the next op on the same stream).
class Workspace {
 public:
  Workspace(size_t bytes, Device dev) {
    if (bytes) buf_ = NDArray(Shape{static_cast<int64_t>(bytes)}, DType::u8, dev);
  }
  void *ptr() const { return buf_.size() ? buf_.raw() : nullptr; }

 private:
  NDArray buf_;
};

// Raw pointers of arrays: inputs read-only (no version bump), outputs writable.
inline const void *in_ptr(const NDArray &a) { return a.craw(); }
inline void *out_ptr(const NDArray &a) { return a.raw(); }

}  // namespace cudnn
}  // namespace mx
