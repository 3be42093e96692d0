// CUDA kernel of the optimizer update rules: one thread per element runs the shared formula
// (ops/formulas/optimizer.h) that the CPU rules and update operators run.
#include "backends/cuda/launch.cuh"
#include "ops/optimizer_gpu.h"

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
  T *sp[3] = {nullptr, nullptr, nullptr};
  for (size_t i = 0; i < s.size() && i < 3; ++i) sp[i] = s[i].data<T>();
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(o.device().id, op));
  switch (r) {
#define MX_CASE(F)                                                                                      \
  case UpdateRule::F:                                                                                   \
    update_kernel<formula::F, T><<<blocks_for(n), kThreads, 0, st>>>(k, n, w.data<T>(), g.data<T>(),    \
                                                                     o.data<T>(), sp[0], sp[1], sp[2]); \
    break;
    MX_UPDATE_FORMULAS(MX_CASE)
#undef MX_CASE
  }
  gpu::check_launch(op);
}

}  // namespace
}  // namespace cuda

void gpu_update(UpdateRule r, const UpdCoef<double> &k, const NDArray &weight, const NDArray &grad,
                const NDArray &out, const std::vector<NDArray> &states, const char *op) {
  const Device d = out.device();
  MX_CHECK(!d.is_cpu(), MX_ERR_INVALID_ARGUMENT, op, ": gpu_update called with a CPU output");
  MX_CHECK(static_cast<int>(states.size()) == update_num_states(r), MX_ERR_INVALID_ARGUMENT, op, ": expected ",
           update_num_states(r), " state arrays, got ", states.size());
  auto same = [&](const NDArray &a, const char *what) {
    MX_CHECK(a.device() == d, MX_ERR_INVALID_ARGUMENT, op, ": ", what, " is on ",
             a.device().is_cpu() ? "the CPU" : "another GPU", " but the output is on gpu(", d.id, ")");
    MX_CHECK(a.dtype() == out.dtype(), MX_ERR_TYPE, op, ": ", what, " has dtype ", dtype_name(a.dtype()),
             " but the output has ", dtype_name(out.dtype()));
    MX_CHECK(a.size() == out.size(), MX_ERR_SHAPE, op, ": ", what, " has ", a.size(), " elements, the output ",
             out.size());
  };
  same(weight, "weight");
  same(grad, "grad");
  for (const auto &s : states) same(s, "a state array");
  MX_DTYPE_SWITCH_FLOAT(out.dtype(), T, op, (cuda::launch<T>(r, k, weight, grad, out, states, op)));
}

}  // namespace mx
