// BatchNorm over axis 1 (N, C, spatial...) through oneDNN's batch_normalization primitives,
// float32 or bfloat16 data with float32 gamma/beta/statistics. Only the normalization itself runs
// here; ops/nn/batch_norm.cc keeps MX's conventions around it (moving-average update, the saved
// inverse standard deviation, fix_gamma's zero gradient). Takes and gives values the executor
// keeps blocked (onednn.h, StepLayouts). Each entry returns false when oneDNN does not take the
// case; the caller then runs its own kernel (after onednn::materialize_inputs()).
#pragma once
#include <cstdint>
#include <vector>

namespace mx {
namespace onednn {

struct BNShape {
  std::vector<int64_t> dims;  // N, C, spatial... (the channel axis is 1)
  double eps = 1e-3;
  bool fix_gamma = true;  // gamma taken as 1: no scale, no gamma gradient
  bool batch = true;      // batch statistics; false: the given mean/var (use_global_stats / predict)
  bool bf16 = false;      // bf16_t data (x, y, dy, dx) instead of float32
};

// y = (x - mean) / sqrt(var + eps) * gamma + beta. batch: writes the batch mean and the biased
// batch variance to mean/var; otherwise only reads them.
bool bn_forward(const BNShape &sh, const void *x, const float *gamma, const float *beta, float *mean, float *var,
                void *y);
// Gradients given the forward's mean and variance: dx, dgamma (not written with fix_gamma), dbeta.
// batch: the batch-statistics formula; otherwise mean/var are constants (dx = dy * gamma / std).
bool bn_backward(const BNShape &sh, const void *dy, const void *x, const float *gamma, const float *mean,
                 const float *var, void *dx, float *dgamma, float *dbeta);

}  // namespace onednn
}  // namespace mx
