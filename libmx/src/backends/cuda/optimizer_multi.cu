// CUDA kernel of the multi-tensor optimizer ops (ops/optimizer_multi_ops.cc): one launch per
// table of up to kMultiMax tensors (the table travels by value as the kernel's argument),
// blockIdx.y picks the tensor, a grid-stride loop over its elements runs the element step the
// host loop runs (formulas/optimizer_multi.h -> formulas/optimizer.h). The preloaded ops'
// learning rates / weight decays are read from their device arrays here (no host round trip).
#include "backends/cuda/launch.cuh"
#include "ops/optimizer_gpu.h"

namespace mx {
namespace cuda {
namespace {

static_assert(sizeof(MultiTable<double, double>) < 4000, "the table must fit a kernel's argument space");

template <class F, bool MP, typename W, typename S>
__global__ void multi_update_kernel(UpdCoef<S> base, MultiTable<W, S> t) {
  const int j = static_cast<int>(blockIdx.y);
  const UpdCoef<S> k = multi_coef<F>(base, t, j);
  MX_GRID_LOOP(i, t.size[j]) multi_update_element<F, MP>(k, t, j, i);
}

}  // namespace
}  // namespace cuda

template <bool MP, typename W, typename S>
void gpu_update_multi(UpdateRule r, const UpdCoef<double> &kd, const MultiTable<W, S> &t, int device,
                      const char *op) {
  MX_CHECK(t.count >= 1 && t.count <= kMultiMax, MX_ERR_INTERNAL, op, ": multi-tensor table of ", t.count,
           " tensors");
  int64_t most = 0;
  for (int j = 0; j < t.count; ++j) most = std::max(most, t.size[j]);
  if (most == 0) return;
  const UpdCoef<S> k = kd.as<S>();
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(device, op));
  const dim3 grid(cuda::blocks_for(most), static_cast<unsigned>(t.count));
  with_multi_formula(r, op, [&](auto f) {
    cuda::multi_update_kernel<decltype(f), MP, W, S><<<grid, cuda::kThreads, 0, st>>>(k, t);
  });
  gpu::check_launch(op);
}

MX_GPU_UPDATE_MULTI_TYPES(MX_GPU_UPDATE_MULTI_INSTANCE)

}  // namespace mx
