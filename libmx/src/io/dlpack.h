// DLPack v0.8 ABI (https://dmlc.github.io/dlpack/latest/c_api.html), written out from the public
// specification: the unversioned DLManagedTensor exchanged in PyCapsules named "dltensor".
// Kept in namespace mx::dlpack so it never clashes with another copy of dlpack.h.
#pragma once
#include <cstdint>

#include "ndarray/ndarray.h"

namespace mx {
namespace dlpack {

enum DLDeviceType : int32_t {
  kDLCPU = 1,
  kDLCUDA = 2,
  kDLCUDAHost = 3,
  kDLOpenCL = 4,
  kDLVulkan = 7,
  kDLMetal = 8,
  kDLVPI = 9,
  kDLROCM = 10,
  kDLROCMHost = 11,
  kDLExtDev = 12,
  kDLCUDAManaged = 13,
  kDLOneAPI = 14,
  kDLWebGPU = 15,
  kDLHexagon = 16,
};

struct DLDevice {
  DLDeviceType device_type;
  int32_t device_id;
};

enum DLDataTypeCode : uint8_t {
  kDLInt = 0,
  kDLUInt = 1,
  kDLFloat = 2,
  kDLOpaqueHandle = 3,
  kDLBfloat = 4,
  kDLComplex = 5,
  kDLBool = 6,
};

struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};

struct DLTensor {
  void *data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t *shape;
  int64_t *strides;  // in elements; NULL means compact row-major
  uint64_t byte_offset;
};

struct DLManagedTensor {
  DLTensor dl_tensor;
  void *manager_ctx;
  void (*deleter)(DLManagedTensor *self);
};

static_assert(sizeof(DLTensor) == 48, "DLTensor layout");
static_assert(sizeof(DLManagedTensor) == 64, "DLManagedTensor layout");

// A new DLManagedTensor viewing `arr` (compact strides given explicitly). Its manager_ctx holds
// a reference to the storage; its deleter (callable from any thread, once) releases it.
DLManagedTensor *to_dlpack(const NDArray &arr);
// Wraps the tensor without copying. On success MX owns `t` and calls its deleter when the last
// array viewing the memory is released; on failure (throws) ownership stays with the caller,
// whose deleter is NOT called.
NDArray from_dlpack(DLManagedTensor *t);

}  // namespace dlpack
}  // namespace mx
