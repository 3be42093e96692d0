// cuda_only(kernel): a GPU kernel that exists only in CUDA builds. Kernels written once for both
// devices (through backends/gemm.h or backends/gpu.h) register with .gpu(cuda_only(k)); in a
// build without CUDA the op then stays CPU-only and the registry says so (has_gpu_kernel).
#pragma once
#include "backends/gpu.h"
#include "ops/registry.h"

namespace mx {

inline KernelFn cuda_only(KernelFn f) { return gpu::compiled() ? std::move(f) : KernelFn(); }

}  // namespace mx
