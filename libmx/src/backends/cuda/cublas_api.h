// The part of cuBLAS 13's C API that libmx uses (handle, stream, math mode, the float/double
// GEMMs and the mixed-precision GemmEx / GemmStridedBatchedEx), declared here so that libmx
// neither includes nor links cuBLAS: the library (~600 MB of wheels) is opened with dlopen on the
// first GPU matrix product. Every prototype and enum value below was checked against
// nvidia-cublas 13.1's include/cublas_api.h and the CUDA 13 library_types.h;
// `tools/check_api_decls.py cublas` re-checks them against the headers of a cuBLAS wheel.
// Handles and streams are opaque pointers; enums are ints.
#pragma once

namespace mx {
namespace cublas {

using Status = int;     // cublasStatus_t
using Handle = void *;  // cublasHandle_t
using Stream = void *;  // cudaStream_t

// cublasStatus_t
constexpr Status kSuccess = 0, kAllocFailed = 3;
// cublasOperation_t
constexpr int kOpN = 0, kOpT = 1;
// cudaDataType (library_types.h)
constexpr int kR32F = 0, kR64F = 1, kR16F = 2, kR16BF = 14;
// cublasComputeType_t
constexpr int kCompute32F = 68, kCompute32FPedantic = 69, kCompute32FFastTF32 = 77, kCompute64F = 70;
// cublasGemmAlgo_t
constexpr int kGemmDefault = -1;
// cublasMath_t
constexpr int kDefaultMath = 0, kPedanticMath = 2;

// Resolved by name from libcublas.so.13 ("cublas" + the member's name).
struct Api {
  Status (*Create_v2)(Handle *);
  Status (*SetStream_v2)(Handle, Stream);
  Status (*SetMathMode)(Handle, int);
  Status (*Sgemm_v2)(Handle, int, int, int, int, int, const float *, const float *, int, const float *, int,
                     const float *, float *, int);
  Status (*Dgemm_v2)(Handle, int, int, int, int, int, const double *, const double *, int, const double *, int,
                     const double *, double *, int);
  Status (*GemmEx)(Handle, int, int, int, int, int, const void *, const void *, int, int, const void *, int, int,
                   const void *, void *, int, int, int, int);
  Status (*GemmStridedBatchedEx)(Handle, int, int, int, int, int, const void *, const void *, int, int, long long int,
                                 const void *, int, int, long long int, const void *, void *, int, int,
                                 long long int, int, int, int);
  const char *(*GetStatusString)(Status);
};

}  // namespace cublas
}  // namespace mx
