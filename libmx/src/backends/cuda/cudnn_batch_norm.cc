// BatchNorm on the GPU: cuDNN's spatial batch normalization over data viewed as (outer, C,
// inner, 1), which covers every channel axis. Training with batch statistics:
// cudnnBatchNormalizationForwardTraining gives y, the batch mean and the inverse standard
// deviation; the moving statistics are updated by MX's own kernel with the biased variance (as
// the CPU kernel and MXNet's CPU operator do; cuDNN's own update would use the unbiased one).
// Fixed statistics: cudnnBatchNormalizationForwardInference. Backward: cudnnBatchNormalizationBackward
// with the forward's mean and invstd; with fixed statistics MX's kernel (cuDNN has none).
// fix_gamma: cuDNN gets a scale of ones, and the gamma gradient is 0.
#ifdef MX_HAVE_CUDA
#include "backends/cuda/batch_norm_kernels.h"
#include "backends/cuda/cudnn_common.h"
#include "backends/cudnn.h"
#include "backends/gpu.h"
#include "base/error.h"

namespace mx {
namespace cudnn {
namespace {

void check_spec(const char *op, const BatchNormSpec &s) {
  MX_CHECK(s.outer * s.inner > 0 || s.C == 0, MX_ERR_UNSUPPORTED, op,
           ": batch normalization of an empty batch is not supported on the GPU");
}

// gamma, or a buffer of ones with fix_gamma.
NDArray scale_of(const BatchNormSpec &s, const NDArray &gamma) {
  if (!s.fix_gamma) return gamma;
  NDArray ones(gamma.shape(), gamma.dtype(), gamma.device());
  if (gamma.dtype() == DType::f64) {
    const double one = 1;
    gpu::fill(gamma.device().id, ones.raw(), &one, sizeof one, static_cast<size_t>(ones.size()));
  } else {
    const float one = 1;
    gpu::fill(gamma.device().id, ones.raw(), &one, sizeof one, static_cast<size_t>(ones.size()));
  }
  return ones;
}

}  // namespace

void batch_norm_forward(const char *op, const BatchNormSpec &s, const NDArray &x, const NDArray &gamma,
                        const NDArray &beta, const NDArray &moving_mean, const NDArray &moving_var, const NDArray &y,
                        const NDArray &mean, const NDArray &var, const NDArray &invstd) {
  if (s.C == 0) return;
  check_spec(op, s);
  const int dev = x.device().id;
  const DType t = x.dtype();
  HandleLease h = handle_for(dev, op);
  Tensor xd(op, t, {s.outer, s.C, s.inner, 1}), cd(op, t, {1, s.C, 1, 1});
  const NDArray scale = scale_of(s, gamma);
  Scalars one(t, 1, 0);
  const Api &a = api(op);
  if (s.batch_stats) {
    // exponentialAverageFactor 0 and no running buffers: cuDNN leaves the moving statistics alone.
    check(a.BatchNormalizationForwardTraining(h.handle, kBatchNormSpatial, one.alpha(), one.beta(), xd.get(),
                                              in_ptr(x), xd.get(), out_ptr(y), cd.get(), in_ptr(scale),
                                              in_ptr(beta), 0.0, nullptr, nullptr, s.eps, out_ptr(mean),
                                              out_ptr(invstd)),
          op, "cudnnBatchNormalizationForwardTraining");
    cuda::bn_finish_batch_stats(dev, op, t, s.C, in_ptr(mean), in_ptr(invstd), out_ptr(var), out_ptr(moving_mean),
                                out_ptr(moving_var), s.eps, s.momentum);
  } else {
    cuda::bn_fixed_stats(dev, op, t, s.C, in_ptr(moving_mean), in_ptr(moving_var), out_ptr(mean), out_ptr(var),
                         out_ptr(invstd), s.eps);
    check(a.BatchNormalizationForwardInference(h.handle, kBatchNormSpatial, one.alpha(), one.beta(), xd.get(),
                                               in_ptr(x), xd.get(), out_ptr(y), cd.get(), in_ptr(scale),
                                               in_ptr(beta), in_ptr(moving_mean), in_ptr(moving_var), s.eps),
          op, "cudnnBatchNormalizationForwardInference");
  }
}

void batch_norm_backward(const char *op, const BatchNormSpec &s, const NDArray &dy, const NDArray &x,
                         const NDArray &gamma, const NDArray &mean, const NDArray &invstd, const NDArray &dx,
                         const NDArray &dgamma, const NDArray &dbeta) {
  if (s.C == 0) return;
  check_spec(op, s);
  const int dev = x.device().id;
  const DType t = x.dtype();
  if (!s.batch_stats) {
    cuda::bn_backward_fixed_stats(dev, op, t, s.outer, s.C, s.inner, in_ptr(dy), in_ptr(x), in_ptr(gamma),
                                  in_ptr(mean), in_ptr(invstd), s.fix_gamma, out_ptr(dx), out_ptr(dgamma),
                                  out_ptr(dbeta));
    return;
  }
  HandleLease h = handle_for(dev, op);
  Tensor xd(op, t, {s.outer, s.C, s.inner, 1}), cd(op, t, {1, s.C, 1, 1});
  const NDArray scale = scale_of(s, gamma);
  Scalars one(t, 1, 0);
  check(api(op).BatchNormalizationBackward(h.handle, kBatchNormSpatial, one.alpha(), one.beta(), one.alpha(),
                                           one.beta(), xd.get(), in_ptr(x), xd.get(), in_ptr(dy), xd.get(),
                                           out_ptr(dx), cd.get(), in_ptr(scale), out_ptr(dgamma), out_ptr(dbeta),
                                           s.eps, in_ptr(mean), in_ptr(invstd)),
        op, "cudnnBatchNormalizationBackward");
  if (s.fix_gamma) {  // gamma is not trained
    if (t == DType::f64) {
      const double z = 0;
      gpu::fill(dev, dgamma.raw(), &z, sizeof z, static_cast<size_t>(dgamma.size()));
    } else {
      const float z = 0;
      gpu::fill(dev, dgamma.raw(), &z, sizeof z, static_cast<size_t>(dgamma.size()));
    }
  }
}

}  // namespace cudnn
}  // namespace mx
#endif  // MX_HAVE_CUDA
