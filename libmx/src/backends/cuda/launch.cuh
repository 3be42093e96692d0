// Launch helpers shared by the CUDA kernel files: grid-stride loops over int64 element counts,
// the device's compute stream, launch-error checks naming the op, and broadcast index maps.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "backends/gpu.h"
#include "base/error.h"
#include "ops/registry.h"

namespace mx {
namespace cuda {

constexpr int kThreads = 256;
constexpr int kMaxDims = 8;  // broadcast kernels; more dims are collapsed or refused

// Blocks for n elements with a grid-stride loop (bounded so huge arrays loop instead).
inline unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(b, int64_t(1) << 16)));
}

#define MX_GRID_LOOP(i, n)                                                                 \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);  \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

// The op's device (its first output's) and that device's compute stream.
inline cudaStream_t stream_of(const OpCall &c) {
  return static_cast<cudaStream_t>(gpu::compute_stream(c.outputs[0].device().id, c.params.op->name.c_str()));
}

// Index map of an operand broadcast to the output: per output dim, the operand's stride (0
// along broadcast axes). Dims are given outermost first.
struct BcastMap {
  int nd = 0;
  int64_t out_dims[kMaxDims];
  int64_t stride[kMaxDims];
  __device__ int64_t offset(int64_t i) const {
    int64_t off = 0;
    for (int d = nd - 1; d >= 0; --d) {
      int64_t idx = i % out_dims[d];
      i /= out_dims[d];
      off += idx * stride[d];
    }
    return off;
  }
};

// Maps for a and b against out: adjacent dims that broadcast the same way in both operands are
// merged first (so most real cases need 1-3 dims). Throws naming the op above kMaxDims.
void make_bcast_maps(const Shape &a, const Shape &b, const Shape &out, const char *op, BcastMap *ma,
                     BcastMap *mb);

}  // namespace cuda
}  // namespace mx
