// DLPack through its official header (Debian libdlpack-dev: dlpack/dlpack.h): the unversioned
// DLManagedTensor exchanged in PyCapsules named "dltensor".
#pragma once
#include <dlpack/dlpack.h>

#include <cstdint>

#include "ndarray/ndarray.h"

namespace mx {
namespace dlpack {

using ::DLDataType;
using ::DLDevice;
using ::DLManagedTensor;
using ::DLTensor;

// Type code of booleans, added in DLPack 0.8 (what PyTorch and NumPy export); Debian's header
// is 0.6 and lacks it. Codes are append-only, so the value is fixed.
#if defined(DLPACK_VERSION) && DLPACK_VERSION >= 80
constexpr uint8_t kBoolCode = kDLBool;
#else
constexpr uint8_t kBoolCode = 6;
#endif

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
