// GPU kernels of the normalization ops and CTCLoss (ops/nn/norm_kernels.h, ctc_kernels.h drivers
// run by DeviceEach), defined in backends/cuda/norm.cu and ctc.cu; the op files register them with
// .gpu(cuda_only(...)). A build without CUDA gets stubs from backends/gpu_none.cc.
#pragma once
#include "ops/registry.h"

namespace mx {

#define MX_NORM_GPU_KERNELS(X)                                                                    \
  X(layer_norm) X(layer_norm_backward) X(instance_norm) X(instance_norm_backward) X(group_norm)   \
  X(group_norm_backward) X(l2_normalization) X(l2_normalization_backward) X(ctc_loss) X(ctc_loss_backward)

#define MX_DECLARE_NORM_GPU_KERNEL(name) void gpu_##name(const OpCall &c);
MX_NORM_GPU_KERNELS(MX_DECLARE_NORM_GPU_KERNEL)
#undef MX_DECLARE_NORM_GPU_KERNEL

}  // namespace mx
