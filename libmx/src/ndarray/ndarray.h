// NDArray: a compact row-major view (shape, dtype, byte offset) into shared Storage, plus the
// autograd entry that links it to the tape. Copies are shallow and cheap.
#pragma once
#include <memory>

#include "base/dtype.h"
#include "ndarray/shape.h"
#include "ndarray/storage.h"

namespace mx {

struct AGInfo;       // autograd/autograd.h
struct SparseParts;  // ndarray/sparse.h

class NDArray {
 public:
  NDArray() = default;
  // Fresh uninitialised array.
  NDArray(const Shape &shape, DType dtype, Device dev = Device());
  NDArray(std::shared_ptr<Storage> storage, size_t offset, const Shape &shape, DType dtype);

  bool defined() const { return storage_ != nullptr || sparse_ != nullptr; }
  const Shape &shape() const { return shape_; }
  int ndim() const { return shape_.ndim(); }
  int64_t size() const { return shape_.size(); }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device() : sparse_ ? sparse_device() : Device(); }
  size_t nbytes() const { return static_cast<size_t>(size()) * dtype_size(dtype_); }
  // Mutable pointer: counts as a write (bumps the storage's version, ndarray/storage.h).
  void *raw() const { return static_cast<char *>(storage_->data()) + offset_; }
  template <typename T> T *data() const { return static_cast<T *>(raw()); }
  // Read-only pointer: leaves the version alone. Only for code that never writes through it.
  const void *craw() const { return static_cast<const char *>(storage_->cdata()) + offset_; }
  template <typename T> const T *cdata() const { return static_cast<const T *>(craw()); }
  const std::shared_ptr<Storage> &storage() const { return storage_; }
  size_t offset() const { return offset_; }

  // Views (share storage; autograd entry not carried over).
  NDArray reshape(const Shape &s) const;
  NDArray slice(int64_t begin, int64_t end) const;  // along axis 0
  NDArray at(int64_t i) const;                       // drops axis 0
  // The same data without autograd history.
  NDArray detach() const;

  // Deep copies.
  NDArray copy() const;
  NDArray to(Device dev) const;
  NDArray astype(DType t) const;
  // Copy values from src (same shape; dtype converted).
  void assign(const NDArray &src) const;
  void fill(double value) const;
  bool same_data(const NDArray &o) const {
    return storage_ == o.storage_ && offset_ == o.offset_ && sparse_ == o.sparse_;
  }

  // Sparse storage (csr / row_sparse, ndarray/sparse.h): when set, shape() is the logical shape,
  // the dense fields are empty and raw()/data() must not be called (op dispatch checks first).
  // Shared among shallow copies, so replacing the parts updates every handle (in-place ops).
  const std::shared_ptr<SparseParts> &sparse() const { return sparse_; }
  bool is_sparse() const { return sparse_ != nullptr; }
  NDArray(std::shared_ptr<SparseParts> parts, const Shape &shape, DType dtype);

  // Autograd link (shared among shallow copies of the same array).
  std::shared_ptr<AGInfo> &ag() { return ag_; }
  const std::shared_ptr<AGInfo> &ag() const { return ag_; }

 private:
  std::shared_ptr<Storage> storage_;
  size_t offset_ = 0;
  Shape shape_;
  DType dtype_ = DType::f32;
  std::shared_ptr<AGInfo> ag_;
  std::shared_ptr<SparseParts> sparse_;  // optional: null for dense arrays
  Device sparse_device() const;          // ndarray/sparse.cc
};

// Element-wise dtype conversion of n elements between raw buffers (CPU).
void convert_buffer(const void *src, DType src_t, void *dst, DType dst_t, int64_t n);

}  // namespace mx
