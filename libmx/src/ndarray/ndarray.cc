#include "ndarray/ndarray.h"

#include <cstring>

#include "backends/cpu/parallel.h"
#include "backends/gpu.h"
#include "backends/gpu_convert.h"
#include "ndarray/sparse.h"

namespace mx {

// Every fresh array comes through here (ops' outputs, creation functions, loads, copies), so
// this is the one place where element and byte counts are overflow-checked and bounded before
// anything is allocated: a wrapped count would allocate too little and kernels would write
// past the end.
NDArray::NDArray(const Shape &shape, DType dtype, Device dev) : shape_(shape), dtype_(dtype) {
  for (int64_t d : shape.dims())
    MX_CHECK(d >= 0, MX_ERR_SHAPE, "invalid shape ", shape.str(), ": dimensions must be >= 0");
  int64_t n = 0;
  size_t bytes = 0;
  MX_CHECK(checked_size(shape, &n), MX_ERR_SHAPE, "shape ", shape.str(),
           " is too large: its number of elements does not fit in 64 bits");
  MX_CHECK(!__builtin_mul_overflow(static_cast<size_t>(n), dtype_size(dtype), &bytes), MX_ERR_SHAPE,
           "shape ", shape.str(), " is too large: ", n, " elements of ", dtype_name(dtype),
           " need more than 2^64 bytes");
  MX_CHECK(bytes <= max_alloc_bytes(), MX_ERR_OUT_OF_MEMORY, "out of memory: an array of shape ", shape.str(),
           " and dtype ", dtype_name(dtype), " needs ", bytes, " bytes, more than the ", max_alloc_bytes(),
           " bytes allowed (the machine's memory, or MX_MAX_ALLOC_BYTES)");
  storage_ = Storage::alloc(bytes, dev);
}

NDArray::NDArray(std::shared_ptr<Storage> storage, size_t offset, const Shape &shape, DType dtype)
    : storage_(std::move(storage)), offset_(offset), shape_(shape), dtype_(dtype) {}

NDArray NDArray::reshape(const Shape &s) const {
  require_dense(*this, "reshape", "the array");
  MX_CHECK(s.size() == size(), MX_ERR_SHAPE, "reshape: cannot view an array of shape ", shape_.str(),
           " (", size(), " elements) as ", s.str(), " (", s.size(), " elements)");
  return NDArray(storage_, offset_, s, dtype_);
}

NDArray NDArray::slice(int64_t begin, int64_t end) const {
  require_dense(*this, "slice", "the array");  // csr row slices are the slice op's sparse kernel
  MX_CHECK(ndim() >= 1, MX_ERR_SHAPE, "slice: cannot slice a 0-dimensional array");
  int64_t n = shape_[0];
  MX_CHECK(begin >= 0 && begin <= end && end <= n, MX_ERR_INVALID_ARGUMENT, "slice: range [", begin,
           ", ", end, ") is out of bounds for axis 0 of size ", n);
  Shape s = shape_;
  s[0] = end - begin;
  size_t row = static_cast<size_t>(shape_.prod(1, ndim())) * dtype_size(dtype_);
  return NDArray(storage_, offset_ + static_cast<size_t>(begin) * row, s, dtype_);
}

NDArray NDArray::at(int64_t i) const {
  require_dense(*this, "at", "the array");
  MX_CHECK(ndim() >= 1, MX_ERR_SHAPE, "at: cannot index a 0-dimensional array");
  MX_CHECK(i >= 0 && i < shape_[0], MX_ERR_INVALID_ARGUMENT, "index ", i,
           " is out of bounds for axis 0 of size ", shape_[0]);
  std::vector<int64_t> d(shape_.dims().begin() + 1, shape_.dims().end());
  size_t row = static_cast<size_t>(shape_.prod(1, ndim())) * dtype_size(dtype_);
  return NDArray(storage_, offset_ + static_cast<size_t>(i) * row, Shape(d), dtype_);
}

NDArray NDArray::detach() const {
  NDArray r(storage_, offset_, shape_, dtype_);
  r.sparse_ = sparse_;
  return r;
}

NDArray NDArray::copy() const {
  if (sparse_) return sparse_copy(*this, dtype_);
  NDArray out(shape_, dtype_, device());
  out.assign(*this);
  return out;
}

NDArray NDArray::to(Device dev) const {
  if (sparse_) {
    MX_CHECK(dev.is_cpu(), MX_ERR_UNSUPPORTED, "sparse arrays live on the cpu in MX; copy to ", dev.type == MX_GPU ? "gpu" : "device",
             " needs tostype('default') first");
    return sparse_copy_to(*this, dev);
  }
  NDArray out(shape_, dtype_, dev);
  out.assign(*this);
  return out;
}

NDArray NDArray::astype(DType t) const {
  if (sparse_) return sparse_copy(*this, t);
  NDArray out(shape_, t, device());
  out.assign(*this);
  return out;
}

namespace {
template <typename S, typename D> void convert_typed(const S *s, D *d, int64_t n) {
  parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) d[i] = D(static_cast<double>(s[i]));
  });
}
// Conversions through double keep int64 exact up to 2^53; integer to integer is direct.
template <typename S> void convert_from(const S *s, void *dst, DType dt, int64_t n) {
  switch (dt) {
    case DType::i64: {
      auto *d = static_cast<int64_t *>(dst);
      parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          if constexpr (std::is_integral<S>::value) d[i] = static_cast<int64_t>(s[i]);
          else d[i] = static_cast<int64_t>(static_cast<double>(s[i]));
        }
      });
      break;
    }
    default:
      MX_DTYPE_SWITCH_ALL(dt, D, convert_typed(s, static_cast<D *>(dst), n));
  }
}
}  // namespace

void convert_buffer(const void *src, DType st, void *dst, DType dt, int64_t n) {
  if (st == dt) {
    std::memcpy(dst, src, static_cast<size_t>(n) * dtype_size(st));
    return;
  }
  if (st == DType::i64) {
    const auto *s = static_cast<const int64_t *>(src);
    if (dt == DType::i32) {
      auto *d = static_cast<int32_t *>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = static_cast<int32_t>(s[i]);
      return;
    }
  }
  MX_DTYPE_SWITCH_ALL(st, S, convert_from(static_cast<const S *>(src), dst, dt, n));
}

void NDArray::assign(const NDArray &src) const {
  if (sparse_ || src.sparse_) {
    sparse_assign(*this, src);
    return;
  }
  MX_CHECK(src.shape() == shape_, MX_ERR_SHAPE, "copy: source shape ", src.shape().str(),
           " does not match destination shape ", shape_.str());
  if (same_data(src) && src.dtype() == dtype_) return;
  if (!device().is_cpu() || !src.device().is_cpu()) {
    if (src.dtype() == dtype_) {
      gpu::copy(raw(), device(), src.craw(), src.device(), nbytes());
      return;
    }
    // A dtype change into a GPU array: the conversion kernel (backends/cuda/cast.cu) on that
    // GPU, after a same-dtype copy there when the source lives elsewhere. Into a CPU array: the
    // host converts after the copy.
    if (!device().is_cpu()) {
      NDArray s = src;
      if (src.device() != device()) {
        s = NDArray(src.shape(), src.dtype(), device());
        s.assign(src);
      }
      gpu::convert(device().id, "copy", s.craw(), s.dtype(), raw(), dtype_, size());
      return;
    }
    assign(src.to(Device()));
    return;
  }
  if (src.dtype() == dtype_) {
    std::memmove(raw(), src.craw(), nbytes());  // src is only read: its version stays
  } else {
    convert_buffer(src.craw(), src.dtype(), raw(), dtype_, size());
  }
}

void NDArray::fill(double value) const {
  if (sparse_) {
    MX_CHECK(value == 0.0, MX_ERR_UNSUPPORTED, "fill: a ", stype_name(sparse_->stype),
             " array can only be filled with 0, got ", value);
    *sparse_ = *sparse_zeros(sparse_->stype, shape_, dtype_, device()).sparse();
    return;
  }
  int64_t n = size();
  MX_DTYPE_SWITCH_ALL(dtype_, T, {
    T v = T(value);
    if (!device().is_cpu()) {
      gpu::fill(device().id, raw(), &v, sizeof(T), static_cast<size_t>(n));
      return;
    }
    T *d = data<T>();
    parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) d[i] = v;
    });
  });
}

}  // namespace mx
