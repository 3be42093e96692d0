// A build without CUDA has no GPU arrays, so the NCCL collective is never asked for; if it is,
// it says why it is missing. (cmake/cuda.cmake defines MX_HAVE_CUDA here in a CUDA build, which
// then takes backends/cuda/nccl_collective.cc instead.)
#ifndef MX_HAVE_CUDA
#include "backends/gpu.h"
#include "base/error.h"
#include "kvstore/collective.h"

namespace mx {

std::shared_ptr<Collective> nccl_device_collective(int dev, std::shared_ptr<Collective>) {
  fail(MX_ERR_UNSUPPORTED, "kvstore: NCCL reduction on gpu(", dev, ") is not available: ", gpu::unavailable_reason());
}

}  // namespace mx
#endif  // MX_HAVE_CUDA
