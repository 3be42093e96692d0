// MX_HD marks functions that run on both sides: __host__ __device__ under nvcc, nothing for the
// host compiler. Element formulas (ops/formulas/) are written once with it, so the CPU kernels
// and the CUDA kernels compute with the same code and the CPU test suites check the GPU's math.
#pragma once
#if defined(__CUDACC__)
#define MX_HD __host__ __device__
#else
#define MX_HD
#endif
