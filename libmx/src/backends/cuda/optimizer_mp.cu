// CUDA kernel of the multi-precision optimizer step (mp_* update ops, Optimizer with
// multi_precision=True on a GPU): one thread per element runs formula::mp_update_element, the
// code the CPU runs (ops/formulas/optimizer.h): float16/bfloat16 gradient and weight read and
// written in place, the float32 master weight and states updated in float32.
#include "backends/cuda/optimizer_launch.cuh"

namespace mx {
namespace cuda {
namespace {

template <class F, typename W>
__global__ void mp_update_kernel(UpdCoef<float> k, int64_t n, const W *g, W *o, float *w32, float *s0, float *s1,
                                 float *s2) {
  MX_GRID_LOOP(i, n) formula::mp_update_element<F, W, W>(k, i, g, o, w32, s0, s1, s2);
}

template <typename T>
void launch_mp(UpdateRule r, const UpdCoef<double> &kd, const NDArray &g, const NDArray &o, const NDArray &w32,
               const std::vector<NDArray> &s, const char *op) {
  const int64_t n = o.size();
  if (n == 0) return;
  using W = hd_elem_t<T>;
  const UpdCoef<float> k = kd.as<float>();
  const StatePtrs<float> sp = state_ptrs<float>(r, s);
  const W *gp = hd_ptr(g.data<T>());
  W *op_ = hd_ptr(o.data<T>());
  float *mp = w32.data<float>();
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(o.device().id, op));
  with_update_formula(r, [&](auto f) {
    mp_update_kernel<decltype(f), W><<<blocks_for(n), kThreads, 0, st>>>(k, n, gp, op_, mp, sp.s0, sp.s1, sp.s2);
  });
  gpu::check_launch(op);
}

}  // namespace
}  // namespace cuda

void gpu_update_mp(UpdateRule r, const UpdCoef<double> &k, const NDArray &grad, const NDArray &out,
                   const NDArray &weight32, const std::vector<NDArray> &states, const char *op) {
  cuda::check_update_states(r, out, states, DType::f32, op);
  cuda::check_update_array(grad, out, "grad", out.dtype(), op);
  cuda::check_update_array(weight32, out, "weight32 (the float32 master weight)", DType::f32, op);
  switch (out.dtype()) {
    case DType::f16: cuda::launch_mp<half_t>(r, k, grad, out, weight32, states, op); break;
    case DType::bf16: cuda::launch_mp<bf16_t>(r, k, grad, out, weight32, states, op); break;
    case DType::f32: cuda::launch_mp<float>(r, k, grad, out, weight32, states, op); break;
    default:
      fail(MX_ERR_TYPE, op, ": the multi-precision update takes a float16, bfloat16 or float32 weight, not ",
           dtype_name(out.dtype()));
  }
}

}  // namespace mx
