// CUDA kernels of the reductions and of broadcasting (backends/cuda/reduce.cu). The reducers are
// ops/formulas/reduce.h, the CPU's code; backends/gpu_none.cc stubs them in builds without CUDA
// (where no op registers them: cuda_only).
#pragma once
#include <vector>

#include "ndarray/ndarray.h"
#include "ops/formulas/reduce.h"

namespace mx {

// out = reduction of `in` over the axes marked in `red` (one flag per dim of `in`); `out` holds
// the kept dims in order (any shape with that element count).
void gpu_reduce(ReduceOp r, const NDArray &in, const NDArray &out, const std::vector<bool> &red, const char *op);
// out = `in` broadcast (numpy rules) to out's shape; any dtype.
void gpu_broadcast_copy(const NDArray &in, const NDArray &out, const char *op);

}  // namespace mx
