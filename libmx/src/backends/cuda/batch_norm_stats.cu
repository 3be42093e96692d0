// Per-channel CUDA kernels around cuDNN's batch normalization (batch_norm_kernels.h). The
// formulas are ops/formulas/batch_norm.h, shared with the CPU kernel.
#include "backends/cuda/batch_norm_kernels.h"
#include "backends/cuda/launch.cuh"
#include "ops/formulas/batch_norm.h"

namespace mx {
namespace cuda {
namespace {

template <typename T>
__global__ void finish_batch_stats(int64_t C, const T *mean, const T *invstd, T *var, T *mm, T *mv, double eps,
                                   double momentum) {
  MX_GRID_LOOP(c, C) {
    const double v = formula::bn_var_from_invstd(static_cast<double>(invstd[c]), eps);
    var[c] = static_cast<T>(v);
    mm[c] = static_cast<T>(formula::bn_moving_update(static_cast<double>(mm[c]), static_cast<double>(mean[c]), momentum));
    mv[c] = static_cast<T>(formula::bn_moving_update(static_cast<double>(mv[c]), v, momentum));
  }
}

template <typename T>
__global__ void fixed_stats(int64_t C, const T *mm, const T *mv, T *mean, T *var, T *invstd, double eps) {
  MX_GRID_LOOP(c, C) {
    mean[c] = mm[c];
    var[c] = mv[c];
    invstd[c] = static_cast<T>(formula::bn_invstd(static_cast<double>(mv[c]), eps));
  }
}

// One block per channel: dx element-wise, the two sums by a shared-memory tree.
template <typename T>
__global__ void backward_fixed_stats(int64_t outer, int64_t C, int64_t inner, const T *dy, const T *x, const T *gamma,
                                     const T *mean, const T *invstd, bool fix_gamma, T *dx, T *dgamma, T *dbeta) {
  __shared__ double s_g[kThreads], s_gx[kThreads];
  const int64_t c = blockIdx.x;
  const double mu = static_cast<double>(mean[c]), is = static_cast<double>(invstd[c]);
  const double gm = fix_gamma ? 1.0 : static_cast<double>(gamma[c]);
  double sg = 0, sgx = 0;
  const int64_t m = outer * inner;
  for (int64_t j = threadIdx.x; j < m; j += blockDim.x) {
    const int64_t i = (j / inner * C + c) * inner + j % inner;
    const double gv = static_cast<double>(dy[i]);
    sg += gv;
    sgx += gv * (static_cast<double>(x[i]) - mu) * is;
    dx[i] = static_cast<T>(formula::bn_dx_fixed_stats(gv, gm, is));
  }
  s_g[threadIdx.x] = sg;
  s_gx[threadIdx.x] = sgx;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) {
      s_g[threadIdx.x] += s_g[threadIdx.x + w];
      s_gx[threadIdx.x] += s_gx[threadIdx.x + w];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    dbeta[c] = static_cast<T>(s_g[0]);
    dgamma[c] = fix_gamma ? T(0) : static_cast<T>(s_gx[0]);
  }
}

cudaStream_t stream(int dev, const char *op) { return static_cast<cudaStream_t>(gpu::compute_stream(dev, op)); }

}  // namespace

#define MX_BN_DISPATCH(t, op, T, ...)                                                              \
  do {                                                                                             \
    if ((t) == DType::f64) {                                                                       \
      using T = double;                                                                            \
      __VA_ARGS__;                                                                                 \
    } else if ((t) == DType::f32) {                                                                \
      using T = float;                                                                             \
      __VA_ARGS__;                                                                                 \
    } else {                                                                                       \
      fail(MX_ERR_TYPE, op, ": the GPU BatchNorm kernels take float32 or float64, got ", dtype_name(t)); \
    }                                                                                              \
  } while (0)

void bn_finish_batch_stats(int dev, const char *op, DType t, int64_t C, const void *mean, const void *invstd,
                           void *var, void *moving_mean, void *moving_var, double eps, double momentum) {
  if (C == 0) return;
  cudaStream_t st = stream(dev, op);
  MX_BN_DISPATCH(t, op, T, {
    finish_batch_stats<T><<<blocks_for(C), kThreads, 0, st>>>(C, static_cast<const T *>(mean),
                                                             static_cast<const T *>(invstd), static_cast<T *>(var),
                                                             static_cast<T *>(moving_mean),
                                                             static_cast<T *>(moving_var), eps, momentum);
  });
  gpu::check_launch(op);
}

void bn_fixed_stats(int dev, const char *op, DType t, int64_t C, const void *moving_mean, const void *moving_var,
                    void *mean, void *var, void *invstd, double eps) {
  if (C == 0) return;
  cudaStream_t st = stream(dev, op);
  MX_BN_DISPATCH(t, op, T, {
    fixed_stats<T><<<blocks_for(C), kThreads, 0, st>>>(C, static_cast<const T *>(moving_mean),
                                                      static_cast<const T *>(moving_var), static_cast<T *>(mean),
                                                      static_cast<T *>(var), static_cast<T *>(invstd), eps);
  });
  gpu::check_launch(op);
}

void bn_backward_fixed_stats(int dev, const char *op, DType t, int64_t outer, int64_t C, int64_t inner,
                             const void *dy, const void *x, const void *gamma, const void *mean, const void *invstd,
                             bool fix_gamma, void *dx, void *dgamma, void *dbeta) {
  if (C == 0) return;
  MX_CHECK(C <= INT32_MAX, MX_ERR_UNSUPPORTED, op, ": too many channels (", C, ") for the GPU kernel");
  cudaStream_t st = stream(dev, op);
  MX_BN_DISPATCH(t, op, T, {
    backward_fixed_stats<T><<<static_cast<unsigned>(C), kThreads, 0, st>>>(
        outer, C, inner, static_cast<const T *>(dy), static_cast<const T *>(x), static_cast<const T *>(gamma),
        static_cast<const T *>(mean), static_cast<const T *>(invstd), fix_gamma, static_cast<T *>(dx),
        static_cast<T *>(dgamma), static_cast<T *>(dbeta));
  });
  gpu::check_launch(op);
}

}  // namespace cuda
}  // namespace mx
