// Storage-type dispatch for imperative calls: ops with sparse inputs (or outputs) come here
// before anything reads dense memory. The op's sparse kernel runs when its stype inference
// accepts the combination; otherwise sparse inputs are densified and the dense kernel runs
// (MXNet's storage fallback), so every op accepts sparse arrays.
#pragma once
#include <vector>

#include "ops/registry.h"

namespace mx {

bool stype_dispatch_active();  // true while the fallback runs the dense kernel (no re-dispatch)

inline bool needs_stype_dispatch(const OpDef *op, const std::vector<NDArray> &inputs,
                                 const std::vector<NDArray> &aux, const std::vector<NDArray> *out) {
  if (op->stype_from_dense) return !stype_dispatch_active();
  for (auto &x : inputs)
    if (x.is_sparse()) return true;
  for (auto &x : aux)
    if (x.is_sparse()) return true;
  if (out)
    for (auto &x : *out)
      if (x.is_sparse()) return true;
  return false;
}

std::vector<NDArray> invoke_stype(const OpDef *op, const Params &params, const std::vector<NDArray> &inputs,
                                  const std::vector<NDArray> &aux, bool is_train,
                                  const std::vector<NDArray> *out, const std::vector<bool> *skip);

}  // namespace mx
