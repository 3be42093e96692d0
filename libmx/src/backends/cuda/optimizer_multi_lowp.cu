// CUDA kernel of the plain multi-tensor updates with float16/bfloat16 weights (multi_sgd_update,
// multi_sgd_mom_update, preloaded_multi_sgd(_mom)_update, _multi_adamw_update without a master
// copy): one launch per table of up to kMultiMax tensors (blockIdx.y = tensor, grid-stride over
// its elements), each element stepped by formulas/optimizer_multi_lowp.h, the code the host loop
// runs, so both devices round every operation the same way (MXNet's half_t arithmetic).
#include "backends/cuda/launch.cuh"
#include "ops/optimizer_gpu.h"

namespace mx {
namespace cuda {
namespace {

static_assert(sizeof(MultiTable<hd_half, hd_half>) < 4000, "the table must fit a kernel's argument space");

template <typename R> __global__ void multi_lowp_kernel(UpdateRule r, UpdCoef<float> k, MultiTable<R, R> t) {
  const int j = static_cast<int>(blockIdx.y);
  MX_GRID_LOOP(i, t.size[j]) lowp::multi_element<R>(r, k, t, j, i);
}

}  // namespace
}  // namespace cuda

template <typename R>
void gpu_update_multi_lowp(UpdateRule r, const UpdCoef<double> &kd, const MultiTable<R, R> &t, int device,
                           const char *op) {
  MX_CHECK(t.count >= 1 && t.count <= kMultiMax, MX_ERR_INTERNAL, op, ": multi-tensor table of ", t.count,
           " tensors");
  int64_t most = 0;
  for (int j = 0; j < t.count; ++j) most = std::max(most, t.size[j]);
  if (most == 0) return;
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(device, op));
  const dim3 grid(cuda::blocks_for(most), static_cast<unsigned>(t.count));
  cuda::multi_lowp_kernel<R><<<grid, cuda::kThreads, 0, st>>>(r, kd.as<float>(), t);
  gpu::check_launch(op);
}

MX_GPU_UPDATE_MULTI_LOWP_INSTANCE(hd_half)
MX_GPU_UPDATE_MULTI_LOWP_INSTANCE(hd_bf16)

}  // namespace mx
