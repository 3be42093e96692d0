// CUDA kernels of uniform, normal, exponential and randint: block b of the reserved range gives
// elements 2b and 2b + 1 through the samplers of ops/formulas/random.h (the CPU's code).
#include "backends/cuda/launch.cuh"
#include "ops/formulas/random.h"
#include "ops/random_gpu.h"

namespace mx {
namespace cuda {
namespace {

// Values are computed in double (as on the CPU) and converted to the output dtype.
template <typename S, typename V, typename T>
__global__ void sample_pairs(int64_t n, uint64_t seed, uint64_t base, S sampler, T *__restrict__ out) {
  MX_GRID_LOOP(b, (n + 1) / 2) {
    uint32_t w[4];
    Philox4x32::block(seed, base + static_cast<uint64_t>(b), w);
    V v0, v1;
    sampler.pair(w, &v0, &v1);
    out[2 * b] = static_cast<T>(v0);
    if (2 * b + 1 < n) out[2 * b + 1] = static_cast<T>(v1);
  }
}

template <typename V, typename S> void launch(const OpCall &c, const S &sampler) {
  const NDArray &out = c.outputs[0];
  const int64_t n = out.size();
  if (n == 0) return;
  const char *op = c.params.op->name.c_str();
  cudaStream_t st = stream_of(c);
  uint64_t seed;
  const uint64_t base = c.rng->reserve(static_cast<uint64_t>((n + 1) / 2), &seed);
  const int64_t nb = (n + 1) / 2;
  MX_DTYPE_SWITCH_NUMERIC(out.dtype(), T, op, {
    sample_pairs<S, V, T><<<blocks_for(nb), kThreads, 0, st>>>(n, seed, base, sampler, out.data<T>());
  });
  gpu::check_launch(op);
}

}  // namespace
}  // namespace cuda

void gpu_random_uniform(const OpCall &c, double low, double width) {
  cuda::launch<double>(c, formula::UniformSampler{low, width});
}
void gpu_random_normal(const OpCall &c, double loc, double scale) {
  cuda::launch<double>(c, formula::NormalSampler{loc, scale});
}
void gpu_random_exponential(const OpCall &c, double lam) { cuda::launch<double>(c, formula::ExponentialSampler{lam}); }
void gpu_random_randint(const OpCall &c, int64_t low, uint64_t range) {
  cuda::launch<int64_t>(c, formula::RandintSampler{low, range});
}

}  // namespace mx
