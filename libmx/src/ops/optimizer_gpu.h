// The CUDA kernel of the optimizer update formulas (ops/formulas/optimizer.h), used by the
// update operators and by the optimizer objects when the weight lives on a GPU. Defined in
// backends/cuda/optimizer_update.cu; backends/gpu_none.cc's version fails naming the op.
#pragma once
#include <vector>

#include "ndarray/ndarray.h"
#include "ops/formulas/optimizer.h"

namespace mx {

// out = step(weight, grad) element-wise, states updated in place; every array on the same GPU,
// same size, float32 or float64 (one dtype). out may be weight. `op` names the caller in errors.
void gpu_update(UpdateRule r, const UpdCoef<double> &k, const NDArray &weight, const NDArray &grad,
                const NDArray &out, const std::vector<NDArray> &states, const char *op);

// Multi-precision step (backends/cuda/optimizer_mp.cu): weight32 (float32 master) and the float32
// states updated in place from grad; out (the float16/bfloat16/float32 weight, grad's dtype) gets
// the rounded master. One kernel: the 16-bit arrays are read and written as they are.
void gpu_update_mp(UpdateRule r, const UpdCoef<double> &k, const NDArray &grad, const NDArray &out,
                   const NDArray &weight32, const std::vector<NDArray> &states, const char *op);

}  // namespace mx
