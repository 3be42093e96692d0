// GPU kernels of ops written once for both devices (ops/each.h drivers run by DeviceEach),
// defined in backends/cuda/*.cu; the op files register them with .gpu(cuda_only(gpu_<name>)).
// A build without CUDA gets stubs from backends/gpu_none.cc (never registered there).
#pragma once
#include "ops/registry.h"

namespace mx {

#define MX_EACH_GPU_KERNELS(X)                                                                     \
  /* activation.cu */                                                                              \
  X(activation) X(activation_backward) X(leaky_relu) X(leaky_relu_backward) X(dropout)               \
  /* softmax.cu */                                                                                 \
  X(softmax) X(softmax_backward) X(log_softmax) X(log_softmax_backward) X(softmin)                 \
  X(softmin_backward) X(softmax_activation) X(softmax_activation_backward) X(softmax_output)       \
  X(softmax_output_backward) X(softmax_cross_entropy) X(softmax_cross_entropy_backward)           \
  X(linear_regression_output) X(linear_regression_output_backward) X(logistic_regression_output)    \
  X(logistic_regression_output_backward) X(mae_regression_output) X(mae_regression_output_backward)

#define MX_DECLARE_GPU_KERNEL(name) void gpu_##name(const OpCall &c);
MX_EACH_GPU_KERNELS(MX_DECLARE_GPU_KERNEL)
#undef MX_DECLARE_GPU_KERNEL

}  // namespace mx
