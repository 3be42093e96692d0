// Dtype conversion of a buffer on one GPU, by a kernel (backends/cuda/cast.cu): Cast, amp_cast and
// NDArray::assign / astype between dtypes on a GPU use it instead of a round trip through the
// host. Same element rules as the CPU's convert_buffer (ndarray.cc): through double, integer to
// int64 directly, bool as 0/1, float16/bfloat16 rounded to nearest even. Without CUDA it fails.
#pragma once
#include <cstdint>

#include "base/dtype.h"

namespace mx {
namespace gpu {

// n elements of dtype st at src -> dtype dt at dst, on gpu(dev)'s compute stream. `op` names the
// caller in errors.
void convert(int dev, const char *op, const void *src, DType st, void *dst, DType dt, int64_t n);

}  // namespace gpu
}  // namespace mx
