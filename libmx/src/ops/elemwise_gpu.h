// CUDA kernels of the element-wise families, by formula id (ops/formulas/). The op files register
// them with .gpu(...); in a build without CUDA these return empty kernels, so the ops stay
// CPU-only and the registry says so (has_gpu_kernel false).
#pragma once
#include "ops/formulas/binary.h"
#include "ops/formulas/unary.h"
#include "ops/registry.h"

namespace mx {

// Defined in backends/cuda/elemwise_{binary,unary}.cu; backends/gpu_none.cc returns empty ones.
KernelFn gpu_binary_kernel(BinaryOp f);                 // elemwise_* and broadcast_* forms
KernelFn gpu_scalar_kernel(BinaryOp f, bool reverse);   // _<op>_scalar / _r<op>_scalar
KernelFn gpu_binary_backward_kernel(BinaryOp f);        // _backward_broadcast_<op>
KernelFn gpu_unary_kernel(UnaryOp f);
KernelFn gpu_unary_backward_kernel(UnaryGradOp d);      // _backward_<op>(out_grad, data)

// What these CUDA kernels compute natively beyond the CPU's dtypes: float16 and bfloat16 (loaded
// as float, computed in float, stored rounded); nothing when the op has no GPU kernel. The CPU
// runs the 16-bit types through float32 (invoke_raw), i.e. the same formula in float.
inline std::vector<DType> gpu_half_dtypes(const KernelFn &gpu) {
  return gpu ? std::vector<DType>{DType::f16, DType::bf16} : std::vector<DType>{};
}

}  // namespace mx
