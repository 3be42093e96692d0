// CUDA kernel of the multi-precision optimizer step (mp_* update ops, Optimizer with
// multi_precision=True on a GPU): one thread per element runs formula::mp_update_element, the
// code the CPU runs (ops/formulas/optimizer.h): float16/bfloat16 gradient and weight read and
// written in place, the float32 master weight and states updated in float32.
#include "backends/cuda/launch.cuh"
#include "ops/optimizer_gpu.h"

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
  float *sp[3] = {nullptr, nullptr, nullptr};
  for (size_t i = 0; i < s.size() && i < 3; ++i) sp[i] = s[i].data<float>();
  const W *gp = hd_ptr(g.data<T>());
  W *op_ = hd_ptr(o.data<T>());
  float *mp = w32.data<float>();
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(o.device().id, op));
  switch (r) {
#define MX_CASE(F)                                                                                              \
  case UpdateRule::F:                                                                                           \
    mp_update_kernel<formula::F, W><<<blocks_for(n), kThreads, 0, st>>>(k, n, gp, op_, mp, sp[0], sp[1], sp[2]); \
    break;
    MX_UPDATE_FORMULAS(MX_CASE)
#undef MX_CASE
  }
  gpu::check_launch(op);
}

}  // namespace
}  // namespace cuda

void gpu_update_mp(UpdateRule r, const UpdCoef<double> &k, const NDArray &grad, const NDArray &out,
                   const NDArray &weight32, const std::vector<NDArray> &states, const char *op) {
  const Device d = out.device();
  MX_CHECK(!d.is_cpu(), MX_ERR_INVALID_ARGUMENT, op, ": gpu_update_mp called with a CPU output");
  MX_CHECK(static_cast<int>(states.size()) == update_num_states(r), MX_ERR_INVALID_ARGUMENT, op, ": expected ",
           update_num_states(r), " state arrays, got ", states.size());
  auto same = [&](const NDArray &a, const char *what, DType want) {
    MX_CHECK(a.device() == d, MX_ERR_INVALID_ARGUMENT, op, ": ", what, " is on ",
             a.device().is_cpu() ? "the CPU" : "another GPU", " but the weight is on gpu(", d.id, ")");
    MX_CHECK(a.dtype() == want, MX_ERR_TYPE, op, ": ", what, " has dtype ", dtype_name(a.dtype()), ", expected ",
             dtype_name(want));
    MX_CHECK(a.size() == out.size(), MX_ERR_SHAPE, op, ": ", what, " has ", a.size(), " elements, the weight ",
             out.size());
  };
  same(grad, "grad", out.dtype());
  same(weight32, "weight32 (the float32 master weight)", DType::f32);
  for (const auto &s : states) same(s, "a state array", DType::f32);
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
