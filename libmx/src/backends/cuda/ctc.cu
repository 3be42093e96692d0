// CUDA kernels of CTCLoss and its backward: the driver and functors of ops/nn/ctc_kernels.h (the
// CPU kernel's code) run by DeviceEach, one thread per sample for the recursions.
#include "backends/cuda/each.cuh"
#include "ops/nn/ctc_kernels.h"
#include "ops/norm_gpu.h"

namespace mx {

void gpu_ctc_loss(const OpCall &c) { ctck::ctc_forward(c, cuda::DeviceEach(c)); }
void gpu_ctc_loss_backward(const OpCall &c) { ctck::ctc_backward(c, cuda::DeviceEach(c)); }

}  // namespace mx
