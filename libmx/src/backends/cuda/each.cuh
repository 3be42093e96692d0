// DeviceEach: the GPU runner of the drivers written for both devices (ops/each.h): f(i) for every
// i in [0, n) as a grid-stride kernel on the op's compute stream.
#pragma once
#include "backends/cuda/launch.cuh"

namespace mx {
namespace cuda {

template <class F> __global__ void each_kernel(int64_t n, F f) { MX_GRID_LOOP(i, n) f(i); }

struct DeviceEach {
  cudaStream_t st;
  const char *op;
  explicit DeviceEach(const OpCall &c) : st(stream_of(c)), op(c.params.op->name.c_str()) {}
  template <class F> void operator()(int64_t n, const F &f, int64_t = 0) const {
    if (n <= 0) return;
    each_kernel<F><<<blocks_for(n), kThreads, 0, st>>>(n, f);
    gpu::check_launch(op);
  }
  bool on_gpu() const { return true; }
};

}  // namespace cuda
}  // namespace mx
