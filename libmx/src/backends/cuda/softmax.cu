// CUDA kernels of the softmax family (softmax, log_softmax, softmin, SoftmaxActivation,
// SoftmaxOutput, softmax_cross_entropy, the regression outputs, with their backward ops): the drivers and row functors
// of ops/nn/softmax_kernels.h (the CPU kernels' code) run by DeviceEach, one thread per row.
// softmax / log_softmax / softmin over a contiguous last axis take the warp/block-per-row
// kernels of softmax_rows.cu first.
#include "backends/cuda/each.cuh"
#include "backends/cuda/softmax_rows.cuh"
#include "ops/nn/softmax_kernels.h"
#include "ops/nn_gpu.h"

namespace mx {

using cuda::DeviceEach;

void gpu_softmax(const OpCall &c) {
  if (!cuda::softmax_rows_forward(smk::kSoftmax, c, "softmax"))
    smk::softmax_forward(smk::kSoftmax, c, "softmax", DeviceEach(c));
}
void gpu_softmax_backward(const OpCall &c) {
  if (!cuda::softmax_rows_backward(smk::kSoftmax, c, "_backward_softmax"))
    smk::softmax_backward(smk::kSoftmax, c, "_backward_softmax", DeviceEach(c));
}
void gpu_log_softmax(const OpCall &c) {
  if (!cuda::softmax_rows_forward(smk::kLogSoftmax, c, "log_softmax"))
    smk::softmax_forward(smk::kLogSoftmax, c, "log_softmax", DeviceEach(c));
}
void gpu_log_softmax_backward(const OpCall &c) {
  if (!cuda::softmax_rows_backward(smk::kLogSoftmax, c, "_backward_log_softmax"))
    smk::softmax_backward(smk::kLogSoftmax, c, "_backward_log_softmax", DeviceEach(c));
}
void gpu_softmin(const OpCall &c) {
  if (!cuda::softmax_rows_forward(smk::kSoftmin, c, "softmin"))
    smk::softmax_forward(smk::kSoftmin, c, "softmin", DeviceEach(c));
}
void gpu_softmin_backward(const OpCall &c) {
  if (!cuda::softmax_rows_backward(smk::kSoftmin, c, "_backward_softmin"))
    smk::softmax_backward(smk::kSoftmin, c, "_backward_softmin", DeviceEach(c));
}
void gpu_softmax_activation(const OpCall &c) { smk::softmax_activation_forward(c, DeviceEach(c)); }
void gpu_softmax_activation_backward(const OpCall &c) { smk::softmax_activation_backward(c, DeviceEach(c)); }
void gpu_softmax_output(const OpCall &c) { smk::so_forward(c, DeviceEach(c)); }
void gpu_softmax_output_backward(const OpCall &c) { smk::so_backward(c, DeviceEach(c)); }
void gpu_softmax_cross_entropy(const OpCall &c) { smk::ce_forward(c, DeviceEach(c)); }
void gpu_softmax_cross_entropy_backward(const OpCall &c) { smk::ce_backward(c, DeviceEach(c)); }
void gpu_linear_regression_output(const OpCall &c) {
  smk::reg_forward(smk::kLinear, c, "LinearRegressionOutput", DeviceEach(c));
}
void gpu_linear_regression_output_backward(const OpCall &c) {
  smk::reg_backward(smk::kLinear, c, "_backward_LinearRegressionOutput", DeviceEach(c));
}
void gpu_logistic_regression_output(const OpCall &c) {
  smk::reg_forward(smk::kLogistic, c, "LogisticRegressionOutput", DeviceEach(c));
}
void gpu_logistic_regression_output_backward(const OpCall &c) {
  smk::reg_backward(smk::kLogistic, c, "_backward_LogisticRegressionOutput", DeviceEach(c));
}
void gpu_mae_regression_output(const OpCall &c) { smk::reg_forward(smk::kMAE, c, "MAERegressionOutput", DeviceEach(c)); }
void gpu_mae_regression_output_backward(const OpCall &c) {
  smk::reg_backward(smk::kMAE, c, "_backward_MAERegressionOutput", DeviceEach(c));
}

}  // namespace mx
