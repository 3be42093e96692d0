// Which arithmetic a GPU GEMM uses (the switches MXNet 1.x calls MXNET_CUDA_ALLOW_TENSOR_CORE and
// MXNET_CUDA_TENSOR_OP_MATH_ALLOW_CONVERSION, under MX names):
//   MX_CUDA_ALLOW_TENSOR_CORE (default 1): float16/bfloat16 GEMMs use tensor cores (float32
//     accumulation either way); 0 asks cuBLAS for pedantic float32 compute.
//   MX_CUDA_TENSOR_OP_MATH_ALLOW_CONVERSION (default 0): 1 (with tensor cores allowed) lets
//     float32 GEMMs round their inputs to TF32 on tensor cores. By default float32 stays exact
//     FP32, so GPU and CPU results agree to float32 rounding.
// Host-only and free of CUDA types, so the policy is unit-tested without a GPU
// (tests/c/test_gemm_math.cc); backends/cuda/cublas.cc maps it to cuBLAS compute types.
#pragma once
#include <cstdlib>
#include <cstring>

#include "base/dtype.h"

namespace mx {

enum class GemmCompute { F64, F32, F32Pedantic, F32FastTF32 };

// An on/off environment switch: unset or empty -> `def`; "0", "false", "off", "no" -> false.
inline bool env_switch(const char *name, bool def) {
  const char *v = std::getenv(name);
  if (!v || !*v) return def;
  for (const char *off : {"0", "false", "False", "FALSE", "off", "no"})
    if (std::strcmp(v, off) == 0) return false;
  return true;
}

// Read on every call (a getenv), so a process may change it between products.
inline GemmCompute gemm_compute(DType dt) {
  if (dt == DType::f64) return GemmCompute::F64;
  const bool tensor_core = env_switch("MX_CUDA_ALLOW_TENSOR_CORE", true);
  if (dt == DType::f32)
    return tensor_core && env_switch("MX_CUDA_TENSOR_OP_MATH_ALLOW_CONVERSION", false) ? GemmCompute::F32FastTF32
                                                                                       : GemmCompute::F32;
  return tensor_core ? GemmCompute::F32 : GemmCompute::F32Pedantic;  // float16 / bfloat16
}

}  // namespace mx
