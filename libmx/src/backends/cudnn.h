// GPU convolution, deconvolution, pooling and batch normalization through cuDNN (loaded on first
// use), as the operator files (ops/nn/*.cc) call them. The op files work out the geometry with
// the same code as their CPU kernels and pass it here; backends/cuda/cudnn_*.cc run it. In a
// build without CUDA the ops do not register these (cuda_only), and gpu_none.cc defines them to
// fail. Nothing here exposes CUDA or cuDNN types.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ndarray/ndarray.h"

namespace mx {
namespace cudnn {

// A convolution (channels first) from data (N, C, in...) to output (N, F, out...) with weight
// (F, C/G, k...). Deconvolution uses the same description of its equivalent convolution (whose
// data is the deconvolution's output).
struct ConvSpec {
  int64_t N = 0, C = 0, F = 0, G = 1;
  std::vector<int64_t> in, out, k, s, d, p;  // one entry per spatial dim (1 to 3)
  std::string tune;                          // cudnn_tune: "None", "off", "limited_workspace", "fastest"
  int64_t workspace_mb = 1024;               // limit on the workspace of the algorithm chosen
};

// y = conv(x, w) (+ bias per output channel).
void conv_forward(const char *op, const ConvSpec &s, const NDArray &x, const NDArray &w, const NDArray *bias,
                  const NDArray &y);
// dx (when given), dw and db (when given) from dy, x and w.
void conv_backward(const char *op, const ConvSpec &s, const NDArray &dy, const NDArray &x, const NDArray &w,
                   const NDArray *dx, const NDArray &dw, const NDArray *db);
// Deconvolution (transposed convolution) of x (N, C=spec.F, out...) to y (N, spec.C, in...):
// the data gradient of the spec's convolution; weight (spec.F, spec.C/G, k...); bias over spec.C.
void deconv_forward(const char *op, const ConvSpec &s, const NDArray &x, const NDArray &w, const NDArray *bias,
                    const NDArray &y);
void deconv_backward(const char *op, const ConvSpec &s, const NDArray &dy, const NDArray &x, const NDArray &w,
                     const NDArray *dx, const NDArray &dw, const NDArray *db);

// Pooling windows: symmetric padding p, every window of `padded` size k inside the padded input.
enum class PoolMode { kMax, kAvgIncludePad, kAvgExcludePad, kSum };
struct PoolSpec {
  std::vector<int64_t> in, out, k, s, p;
  PoolMode mode = PoolMode::kMax;
};
// Whether cuDNN computes this pooling exactly as MX defines it (else the op reports it).
bool pool_supported(const PoolSpec &s, std::string *why);
void pool_forward(const char *op, const PoolSpec &s, const NDArray &x, const NDArray &y);
void pool_backward(const char *op, const PoolSpec &s, const NDArray &dy, const NDArray &x, const NDArray &y,
                   const NDArray &dx);

// BatchNorm over the channel axis of data viewed as (outer, C, inner).
struct BatchNormSpec {
  int64_t outer = 0, C = 0, inner = 0;
  double eps = 1e-3, momentum = 0.9;
  bool fix_gamma = true;
  bool batch_stats = true;  // training without use_global_stats: normalise with the batch's statistics
};
// outputs: y, mean, var, invstd; moving_mean/moving_var updated in place when batch_stats.
void batch_norm_forward(const char *op, const BatchNormSpec &s, const NDArray &x, const NDArray &gamma,
                        const NDArray &beta, const NDArray &moving_mean, const NDArray &moving_var, const NDArray &y,
                        const NDArray &mean, const NDArray &var, const NDArray &invstd);
// dx, dgamma (0 with fix_gamma), dbeta from dy, x, gamma and the forward's mean and invstd.
void batch_norm_backward(const char *op, const BatchNormSpec &s, const NDArray &dy, const NDArray &x,
                         const NDArray &gamma, const NDArray &mean, const NDArray &invstd, const NDArray &dx,
                         const NDArray &dgamma, const NDArray &dbeta);

}  // namespace cudnn
}  // namespace mx
