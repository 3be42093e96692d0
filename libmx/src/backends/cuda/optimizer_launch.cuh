// Shared by the CUDA optimizer kernels (optimizer_update.cu: plain updates, optimizer_mp.cu:
// multi-precision): the checks every array of one step passes, and the kernel launch per
// update rule (formulas/optimizer.h's with_update_formula picks the formula once).
#pragma once
#include <vector>

#include "backends/cuda/launch.cuh"
#include "ops/optimizer_gpu.h"

namespace mx {
namespace cuda {

// a lives on out's GPU, has dtype `want` and out's element count; errors name `what` and the op.
inline void check_update_array(const NDArray &a, const NDArray &out, const char *what, DType want,
                               const char *op) {
  const Device d = out.device();
  MX_CHECK(a.device() == d, MX_ERR_INVALID_ARGUMENT, op, ": ", what, " is on ",
           a.device().is_cpu() ? "the CPU" : "another GPU", " but the weight is on gpu(", d.id, ")");
  MX_CHECK(a.dtype() == want, MX_ERR_TYPE, op, ": ", what, " has dtype ", dtype_name(a.dtype()), ", expected ",
           dtype_name(want));
  MX_CHECK(a.size() == out.size(), MX_ERR_SHAPE, op, ": ", what, " has ", a.size(), " elements, the weight ",
           out.size());
}

// The common checks of a step: out on a GPU, as many states as the rule has, each a `state_dtype`
// array like out.
inline void check_update_states(UpdateRule r, const NDArray &out, const std::vector<NDArray> &states,
                                DType state_dtype, const char *op) {
  MX_CHECK(!out.device().is_cpu(), MX_ERR_INVALID_ARGUMENT, op, ": the GPU update was called with a CPU output");
  MX_CHECK(static_cast<int>(states.size()) == update_num_states(r), MX_ERR_INVALID_ARGUMENT, op, ": expected ",
           update_num_states(r), " state arrays, got ", states.size());
  for (const auto &s : states) check_update_array(s, out, "a state array", state_dtype, op);
}

// The states' data pointers as the kernels take them (unused ones null).
template <typename T> StatePtrs<T> state_ptrs(UpdateRule r, const std::vector<NDArray> &s) {
  T *p[3] = {nullptr, nullptr, nullptr};
  for (size_t i = 0; i < s.size() && i < 3; ++i) p[i] = s[i].data<T>();
  return StatePtrs<T>(r, p);
}

}  // namespace cuda
}  // namespace mx
