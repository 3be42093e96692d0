// The small per-channel CUDA kernels around cuDNN's batch normalization
// (backends/cuda/batch_norm_stats.cu): cuDNN keeps no biased variance and updates the moving
// variance with the unbiased one, so MX finishes the statistics itself, as the CPU kernel
// computes them (ops/formulas/batch_norm.h). Arrays are float32 or float64 (t), on gpu(dev).
#pragma once
#include <cstdint>

#include "base/dtype.h"

namespace mx {
namespace cuda {

// var = variance from invstd; moving_mean/var updated with mean and var.
void bn_finish_batch_stats(int dev, const char *op, DType t, int64_t C, const void *mean, const void *invstd,
                           void *var, void *moving_mean, void *moving_var, double eps, double momentum);
// mean/var = the moving statistics, invstd from them (normalising with fixed statistics).
void bn_fixed_stats(int dev, const char *op, DType t, int64_t C, const void *moving_mean, const void *moving_var,
                    void *mean, void *var, void *invstd, double eps);
// Gradients with fixed statistics: dx = gamma * invstd * dy, dgamma = sum dy * (x - mean) * invstd
// (0 with fix_gamma), dbeta = sum dy; data (outer, C, inner).
void bn_backward_fixed_stats(int dev, const char *op, DType t, int64_t outer, int64_t C, int64_t inner,
                             const void *dy, const void *x, const void *gamma, const void *mean, const void *invstd,
                             bool fix_gamma, void *dx, void *dgamma, void *dbeta);

}  // namespace cuda
}  // namespace mx
