// DLPack export/import: zero-copy views between MX arrays and any DLPack producer/consumer.
#include "io/dlpack.h"

#include <new>
#include <vector>

#include "base/error.h"
#include "io/ndarray_file.h"  // io::kMaxNdim

namespace mx {
namespace dlpack {

namespace {

struct Export {
  DLManagedTensor managed;
  std::shared_ptr<Storage> storage;
  int64_t dims[io::kMaxNdim + 1];
  int64_t strides[io::kMaxNdim + 1];
};

void export_deleter(DLManagedTensor *self) {
  if (self) delete static_cast<Export *>(self->manager_ctx);
}

DLDataType dl_type(DType t) {
  switch (t) {
    case DType::f32: return {kDLFloat, 32, 1};
    case DType::f64: return {kDLFloat, 64, 1};
    case DType::f16: return {kDLFloat, 16, 1};
    case DType::bf16: return {kDLBfloat, 16, 1};
    case DType::u8: return {kDLUInt, 8, 1};
    case DType::i8: return {kDLInt, 8, 1};
    case DType::i32: return {kDLInt, 32, 1};
    case DType::i64: return {kDLInt, 64, 1};
    case DType::boolean: return {kBoolCode, 8, 1};
  }
  fail(MX_ERR_TYPE, "dtype code ", static_cast<int>(t), " has no DLPack type");
}

bool mx_type(DLDataType t, DType *out) {
  if (t.lanes != 1) return false;
  switch (t.code) {
    case kDLFloat:
      if (t.bits == 32) { *out = DType::f32; return true; }
      if (t.bits == 64) { *out = DType::f64; return true; }
      if (t.bits == 16) { *out = DType::f16; return true; }
      return false;
    case kDLBfloat:
      if (t.bits == 16) { *out = DType::bf16; return true; }
      return false;
    case kDLInt:
      if (t.bits == 8) { *out = DType::i8; return true; }
      if (t.bits == 32) { *out = DType::i32; return true; }
      if (t.bits == 64) { *out = DType::i64; return true; }
      return false;
    case kDLUInt:
      if (t.bits == 8) { *out = DType::u8; return true; }
      return false;
    case kBoolCode:
      if (t.bits == 8) { *out = DType::boolean; return true; }
      return false;
    default:
      return false;
  }
}

}  // namespace

DLManagedTensor *to_dlpack(const NDArray &arr) {
  MX_CHECK(arr.defined(), MX_ERR_INVALID_ARGUMENT, "the array is undefined");
  MX_CHECK(arr.ndim() <= io::kMaxNdim, MX_ERR_SHAPE, "", arr.ndim(), " dimensions (at most ", io::kMaxNdim, ")");
  DLDataType type = dl_type(arr.dtype());
  Device dev = arr.device();
  DLDevice dl_dev;
  if (dev.type == MX_CPU) dl_dev = {kDLCPU, 0};
  else if (dev.type == MX_GPU) dl_dev = {kDLCUDA, dev.id};
  else if (dev.type == MX_CPU_PINNED) dl_dev = {kDLCUDAHost, 0};
  else fail(MX_ERR_UNSUPPORTED, "device type ", dev.type, " has no DLPack device");

  auto *e = new Export();
  e->storage = arr.storage();
  int nd = arr.ndim();
  int64_t stride = 1;
  for (int k = nd - 1; k >= 0; --k) {
    e->dims[k] = arr.shape()[k];
    e->strides[k] = stride;
    stride *= arr.shape()[k] > 0 ? arr.shape()[k] : 1;
  }
  DLTensor &t = e->managed.dl_tensor;
  t.data = arr.raw();
  // The consumer may write through the tensor whenever it likes: nothing derived from this
  // storage's bytes (oneDNN's cached blocked weights) may be trusted from now on.
  arr.storage()->mark_escaped();
  t.device = dl_dev;
  t.ndim = nd;
  t.dtype = type;
  t.shape = e->dims;
  t.strides = e->strides;
  t.byte_offset = 0;
  e->managed.manager_ctx = e;
  e->managed.deleter = export_deleter;
  return &e->managed;
}

NDArray from_dlpack(DLManagedTensor *m) {
  MX_CHECK(m != nullptr, MX_ERR_INVALID_ARGUMENT, "the DLManagedTensor is NULL");
  const DLTensor &t = m->dl_tensor;
  if (t.device.device_type != kDLCPU)
    fail(MX_ERR_UNSUPPORTED, "tensor on DLPack device type ", static_cast<int>(t.device.device_type),
         " (id ", t.device.device_id, "); MX imports CPU tensors (device type 1) only");
  DType dtype;
  if (!mx_type(t.dtype, &dtype))
    fail(MX_ERR_TYPE, "unsupported DLPack dtype (code ", int(t.dtype.code), ", bits ", int(t.dtype.bits),
         ", lanes ", t.dtype.lanes, "); MX takes float16/32/64, bfloat16, int8/32/64, uint8 and bool with lanes 1");
  MX_CHECK(t.ndim >= 0 && t.ndim <= io::kMaxNdim, MX_ERR_SHAPE, "ndim ", t.ndim, " (must be 0..", io::kMaxNdim, ")");
  MX_CHECK(t.ndim == 0 || t.shape != nullptr, MX_ERR_INVALID_ARGUMENT, "shape is NULL for ndim ", t.ndim);
  std::vector<int64_t> dims(t.shape, t.shape + t.ndim);
  uint64_t numel = 1;
  bool zero = false;
  for (int k = 0; k < t.ndim; ++k) {
    MX_CHECK(dims[k] >= 0, MX_ERR_SHAPE, "dimension ", k, " is ", dims[k]);
    if (dims[k] == 0) {
      zero = true;
      continue;
    }
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dims[k]), &numel) || numel > uint64_t(INT64_MAX))
      fail(MX_ERR_SHAPE, "shape has more elements than fit in 64 bits");
  }
  if (zero) numel = 0;
  // Compact row-major only; strides of size-1 dims do not matter, nor any stride of an empty tensor.
  if (t.strides && numel > 0) {
    int64_t expect = 1;
    for (int k = t.ndim - 1; k >= 0; --k) {
      if (dims[k] != 1 && t.strides[k] != expect) {
        std::string s = "(";
        for (int j = 0; j < t.ndim; ++j) s += (j ? ", " : "") + std::to_string(t.strides[j]);
        fail(MX_ERR_INVALID_ARGUMENT, "strides ", s, ") for shape ", Shape(dims).str(),
             " are not compact row-major; make the tensor contiguous first");
      }
      expect *= dims[k];
    }
  }
  size_t item = dtype_size(dtype);
  uint64_t nbytes;
  if (__builtin_mul_overflow(numel, uint64_t(item), &nbytes))
    fail(MX_ERR_SHAPE, "tensor is larger than 2^64 bytes");
  MX_CHECK(t.data != nullptr || nbytes == 0, MX_ERR_INVALID_ARGUMENT, "data is NULL for a non-empty tensor");
  void *ptr = t.data ? static_cast<char *>(t.data) + t.byte_offset : nullptr;
  // Ownership passes only on success: if building the array fails after the storage exists,
  // the storage is disarmed so the producer's deleter does not run.
  Shape shape(std::move(dims));
  auto armed = std::make_shared<bool>(true);
  auto storage = Storage::external(ptr, static_cast<size_t>(nbytes), Device{MX_CPU, 0}, [m, armed]() {
    if (*armed && m->deleter) m->deleter(m);
  });
  try {
    return NDArray(storage, 0, shape, dtype);
  } catch (...) {
    *armed = false;
    throw;
  }
}

}  // namespace dlpack
}  // namespace mx
