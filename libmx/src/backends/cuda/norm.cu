// CUDA kernels of LayerNorm, InstanceNorm, GroupNorm and L2Normalization (+ backward): the
// drivers and row functors of ops/nn/norm_kernels.h (the CPU kernels' code) run by DeviceEach,
// one thread per normalised row (and per gamma element for the gamma/beta gradients).
#include "backends/cuda/each.cuh"
#include "ops/nn/norm_kernels.h"
#include "ops/norm_gpu.h"

namespace mx {

using cuda::DeviceEach;

void gpu_layer_norm(const OpCall &c) { normk::norm_forward(normk::kLayer, c, DeviceEach(c)); }
void gpu_layer_norm_backward(const OpCall &c) { normk::norm_backward(normk::kLayer, c, DeviceEach(c)); }
void gpu_instance_norm(const OpCall &c) { normk::norm_forward(normk::kInstance, c, DeviceEach(c)); }
void gpu_instance_norm_backward(const OpCall &c) { normk::norm_backward(normk::kInstance, c, DeviceEach(c)); }
void gpu_group_norm(const OpCall &c) { normk::norm_forward(normk::kGroup, c, DeviceEach(c)); }
void gpu_group_norm_backward(const OpCall &c) { normk::norm_backward(normk::kGroup, c, DeviceEach(c)); }
void gpu_l2_normalization(const OpCall &c) { normk::l2_forward(c, DeviceEach(c)); }
void gpu_l2_normalization_backward(const OpCall &c) { normk::l2_backward(c, DeviceEach(c)); }

}  // namespace mx
