// BatchNorm's per-channel formulas, shared by the CPU kernel (ops/nn/batch_norm.cc) and the GPU
// side (backends/cuda/batch_norm_stats.cu, around cuDNN): the moving-average update, the inverse
// standard deviation, and the variance recovered from it (cuDNN returns only the inverse). In
// double, as the CPU kernel accumulates.
#pragma once
#include <cmath>

#include "base/hd.h"

namespace mx {
namespace formula {

// moving = momentum * moving + (1 - momentum) * batch statistic
MX_HD inline double bn_moving_update(double moving, double batch, double momentum) {
  return momentum * moving + (1.0 - momentum) * batch;
}
MX_HD inline double bn_invstd(double var, double eps) { return 1.0 / sqrt(var + eps); }
// The biased batch variance from cuDNN's saved inverse standard deviation (never below 0).
MX_HD inline double bn_var_from_invstd(double invstd, double eps) {
  const double v = 1.0 / (invstd * invstd) - eps;
  return v > 0.0 ? v : 0.0;
}
// Data gradient when the statistics are constants (use_global_stats or not training).
MX_HD inline double bn_dx_fixed_stats(double out_grad, double gamma, double invstd) {
  return gamma * invstd * out_grad;
}

}  // namespace formula
}  // namespace mx
