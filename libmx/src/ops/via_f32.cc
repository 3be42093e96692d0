#include "ops/via_f32.h"

#include "backends/cpu/onednn.h"

namespace mx {

namespace {
bool low(const NDArray &a) { return a.defined() && (a.dtype() == DType::bf16 || a.dtype() == DType::f16); }
}  // namespace

void run_via_f32(const OpCall &c, const KernelFn &f32_kernel) {
  onednn::materialize_inputs();  // the copies are made from the plain arrays (graph/executor_blocked.cc)
  std::vector<NDArray> in, aux, out;
  for (const auto &x : c.inputs) in.push_back(low(x) ? x.astype(DType::f32) : x);
  for (const auto &x : c.aux) aux.push_back(low(x) ? x.astype(DType::f32) : x);
  for (const auto &x : c.outputs) out.push_back(low(x) ? NDArray(x.shape(), DType::f32, x.device()) : x);
  f32_kernel(OpCall{c.params, in, aux, out, c.is_train, c.rng, c.skip});
  for (size_t i = 0; i < out.size(); ++i)
    if (low(c.outputs[i]) && c.needed(i)) c.outputs[i].assign(out[i]);
  if (c.is_train)  // only a training forward moves aux states; a write would bump their versions
    for (size_t i = 0; i < aux.size(); ++i)
      if (low(c.aux[i])) c.aux[i].assign(aux[i]);
}

}  // namespace mx
