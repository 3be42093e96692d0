// CUDA kernel of the optimizer update rules: one thread per element runs the shared formula
// (ops/formulas/optimizer.h) that the CPU rules and update operators run.
#include "backends/cuda/optimizer_launch.cuh"

namespace mx {
namespace cuda {
namespace {

template <class F, typename T>
__global__ void update_kernel(UpdCoef<T> k, int64_t n, const T *w, const T *g, T *o, T *s0, T *s1, T *s2) {
  MX_GRID_LOOP(i, n) formula::update_element<F, T>(k, i, w, g, o, s0, s1, s2);
}

template <typename T>
void launch(UpdateRule r, const UpdCoef<double> &kd, const NDArray &w, const NDArray &g, const NDArray &o,
            const std::vector<NDArray> &s, const char *op) {
  const int64_t n = o.size();
  if (n == 0) return;
  const UpdCoef<T> k = kd.as<T>();
  const StatePtrs<T> sp = state_ptrs<T>(r, s);
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(o.device().id, op));
  with_update_formula(r, [&](auto f) {
    update_kernel<decltype(f), T>
        <<<blocks_for(n), kThreads, 0, st>>>(k, n, w.data<T>(), g.data<T>(), o.data<T>(), sp.s0, sp.s1, sp.s2);
  });
  gpu::check_launch(op);
}

}  // namespace
}  // namespace cuda

void gpu_update(UpdateRule r, const UpdCoef<double> &k, const NDArray &weight, const NDArray &grad,
                const NDArray &out, const std::vector<NDArray> &states, const char *op) {
  cuda::check_update_states(r, out, states, out.dtype(), op);
  cuda::check_update_array(weight, out, "weight", out.dtype(), op);
  cuda::check_update_array(grad, out, "grad", out.dtype(), op);
  MX_DTYPE_SWITCH_FLOAT(out.dtype(), T, op, (cuda::launch<T>(r, k, weight, grad, out, states, op)));
}

}  // namespace mx
