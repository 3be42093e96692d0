// The GPU GEMM arithmetic policy (backends/gemm_math.h): float32 stays exact FP32 unless both
// MX_CUDA_ALLOW_TENSOR_CORE and MX_CUDA_TENSOR_OP_MATH_ALLOW_CONVERSION allow TF32; float16 and
// bfloat16 use tensor cores unless MX_CUDA_ALLOW_TENSOR_CORE=0; float64 is always FP64.
// Host-only: no GPU needed.
#include <cstdio>
#include <cstdlib>

#include "backends/gemm_math.h"

static int g_fail = 0;
#define EXPECT(cond)                                                          \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
      ++g_fail;                                                               \
    }                                                                         \
  } while (0)

using mx::DType;
using mx::GemmCompute;
using mx::gemm_compute;

int main() {
  unsetenv("MX_CUDA_ALLOW_TENSOR_CORE");
  unsetenv("MX_CUDA_TENSOR_OP_MATH_ALLOW_CONVERSION");
  // Defaults: exact float32, tensor cores for the 16-bit types.
  EXPECT(gemm_compute(DType::f32) == GemmCompute::F32);
  EXPECT(gemm_compute(DType::f16) == GemmCompute::F32);
  EXPECT(gemm_compute(DType::bf16) == GemmCompute::F32);
  EXPECT(gemm_compute(DType::f64) == GemmCompute::F64);
  // TF32 only with the conversion switch on.
  setenv("MX_CUDA_TENSOR_OP_MATH_ALLOW_CONVERSION", "1", 1);
  EXPECT(gemm_compute(DType::f32) == GemmCompute::F32FastTF32);
  EXPECT(gemm_compute(DType::f64) == GemmCompute::F64);
  setenv("MX_CUDA_TENSOR_OP_MATH_ALLOW_CONVERSION", "0", 1);
  EXPECT(gemm_compute(DType::f32) == GemmCompute::F32);
  setenv("MX_CUDA_TENSOR_OP_MATH_ALLOW_CONVERSION", "", 1);  // empty = unset
  EXPECT(gemm_compute(DType::f32) == GemmCompute::F32);
  // No tensor cores: pedantic 16-bit GEMMs, and the conversion switch is then ignored.
  setenv("MX_CUDA_TENSOR_OP_MATH_ALLOW_CONVERSION", "true", 1);
  setenv("MX_CUDA_ALLOW_TENSOR_CORE", "0", 1);
  EXPECT(gemm_compute(DType::f32) == GemmCompute::F32);
  EXPECT(gemm_compute(DType::f16) == GemmCompute::F32Pedantic);
  EXPECT(gemm_compute(DType::bf16) == GemmCompute::F32Pedantic);
  setenv("MX_CUDA_ALLOW_TENSOR_CORE", "off", 1);
  EXPECT(gemm_compute(DType::f16) == GemmCompute::F32Pedantic);
  setenv("MX_CUDA_ALLOW_TENSOR_CORE", "1", 1);
  EXPECT(gemm_compute(DType::f16) == GemmCompute::F32);
  EXPECT(gemm_compute(DType::f32) == GemmCompute::F32FastTF32);
  if (g_fail) return 1;
  std::printf("test_gemm_math: ok\n");
  return 0;
}
