// cuda_only(kernel): a GPU kernel that exists only in CUDA builds. Kernels written once for both
// devices (through backends/gemm.h or backends/gpu.h) register with .gpu(cuda_only(k)); in a
// build without CUDA the op then stays CPU-only and the registry says so (has_gpu_kernel).
#pragma once
#include <vector>

#include "backends/gpu.h"
#include "ops/registry.h"

namespace mx {

inline KernelFn cuda_only(KernelFn f) { return gpu::compiled() ? std::move(f) : KernelFn(); }

// .gpu_dtypes(cuda_half_dtypes()): the op's GPU kernel computes float16 and bfloat16 natively
// (float32 accumulation / float registers); nothing in a build without CUDA, where the op has
// no GPU kernel.
inline std::vector<DType> cuda_half_dtypes() {
  return gpu::compiled() ? std::vector<DType>{DType::f16, DType::bf16} : std::vector<DType>{};
}

}  // namespace mx
