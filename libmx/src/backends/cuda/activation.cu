// CUDA kernels of Activation, LeakyReLU and Dropout: the drivers and functors of
// ops/nn/activation_kernels.h (the CPU kernels' code) run by DeviceEach.
#include "backends/cuda/each.cuh"
#include "ops/nn/activation_kernels.h"
#include "ops/nn_gpu.h"

namespace mx {

void gpu_activation(const OpCall &c) { actk::activation_forward(c, cuda::DeviceEach(c)); }
void gpu_activation_backward(const OpCall &c) { actk::activation_backward(c, cuda::DeviceEach(c)); }
void gpu_leaky_relu(const OpCall &c) { actk::leaky_forward(c, cuda::DeviceEach(c)); }
void gpu_leaky_relu_backward(const OpCall &c) { actk::leaky_backward(c, cuda::DeviceEach(c)); }
void gpu_dropout(const OpCall &c) { actk::dropout_forward(c, cuda::DeviceEach(c)); }

}  // namespace mx
