// CUDA kernels of the LAMB update operators (ops/optimizer_lamb_ops.cc): one thread per element
// runs formulas/lamb.h's step, the code the host loops run; phase 2 reads the norms r1 and r2
// from device memory (each thread forms the same trust-scaled learning rate; no host sync).
#include "backends/cuda/launch.cuh"
#include "ops/optimizer_gpu.h"

namespace mx {
namespace cuda {
namespace {

template <typename T, typename G>
__global__ void lamb_phase1_kernel(LambCoef<T> k, int64_t n, const T *w, const G *g, T *m, T *v, T *out) {
  MX_GRID_LOOP(i, n) lamb_phase1_element<T, G>(k, i, w, g, m, v, out);
}

template <typename T, typename O>
__global__ void lamb_phase2_kernel(T lr, T lower, T upper, bool ratio_first, int64_t n, const T *r1, const T *r2,
                                   const T *w, const T *g, O *out) {
  const T rate = lamb_trust_lr(lr, r1[0], r2[0], lower, upper, ratio_first);
  MX_GRID_LOOP(i, n) lamb_phase2_element<T, O>(rate, i, w, g, out);
}

}  // namespace
}  // namespace cuda

template <typename T, typename G>
void gpu_lamb_phase1(const LambCoef<T> &k, int64_t n, const T *w, const G *g, T *m, T *v, T *out, int device,
                     const char *op) {
  if (n == 0) return;
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(device, op));
  cuda::lamb_phase1_kernel<T, G><<<cuda::blocks_for(n), cuda::kThreads, 0, st>>>(k, n, w, g, m, v, out);
  gpu::check_launch(op);
}

template <typename T, typename O>
void gpu_lamb_phase2(T lr, T lower, T upper, bool ratio_first, int64_t n, const T *r1, const T *r2, const T *w,
                     const T *g, O *out, int device, const char *op) {
  if (n == 0) return;
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(device, op));
  cuda::lamb_phase2_kernel<T, O>
      <<<cuda::blocks_for(n), cuda::kThreads, 0, st>>>(lr, lower, upper, ratio_first, n, r1, r2, w, g, out);
  gpu::check_launch(op);
}

MX_GPU_LAMB_TYPES(MX_GPU_LAMB_INSTANCE)

}  // namespace mx
