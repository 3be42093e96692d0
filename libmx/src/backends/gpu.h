// The GPU backend as the rest of the core sees it: device probing, memory, copies and
// synchronisation. The CUDA build implements it in backends/cuda/; a build without CUDA in
// gpu_none.cc (no devices, a clear reason). Nothing here exposes CUDA types, so every file of the
// core can include it whether or not the toolkit was found.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/dtype.h"
#include "ndarray/storage.h"

namespace mx {
namespace gpu {

// Whether libmx was built with the CUDA backend (MX_CUDA in CMake).
bool compiled();
// Usable GPUs (0 without CUDA build, driver or device). Probed once; never throws.
int device_count();
// Why device_count() is 0 (empty when it is not): names the missing piece (no CUDA build, no
// driver, driver too old, no device).
const std::string &unavailable_reason();
// Throws MX_ERR_UNSUPPORTED naming `what`, the device and the reason when gpu(id) is unusable.
void require_device(int id, const char *what);

// Device memory from the device's caching pool (stream-ordered on its compute stream).
// alloc throws MX_ERR_OUT_OF_MEMORY naming the size and the pool's state.
void *alloc(int dev, size_t bytes, size_t *out_capacity);
void release(int dev, void *ptr, size_t capacity);
// Pool statistics and cache release (mx.context.gpu_memory_info, Context.empty_cache).
void memory_info(int dev, size_t *free_bytes, size_t *total_bytes);
void pool_stats(int dev, size_t *allocated, size_t *reserved);
void empty_cache(int dev);

// Copies of `bytes` between any two devices (at least one a GPU). Copies to host memory return
// when the data is there (they wait for the kernels that produce it); others are ordered on the
// device streams and return at once.
void copy(void *dst, Device dst_dev, const void *src, Device src_dev, size_t bytes);
// Set n elements of `bytes_per_elem` each to the pattern at `value` (fill on a GPU array).
void fill(int dev, void *dst, const void *value, size_t bytes_per_elem, size_t n);
// Wait for the device's streams (dev -1: every device). A kernel error that happened since the
// last check is thrown here as MX_ERR_INTERNAL naming the op that was launched.
void synchronize(int dev);

// Row-major GEMM on gpu(dev) through cuBLAS (loaded on first use; MX_ERR_UNSUPPORTED naming `op`
// and the library when it cannot be): C = alpha * op(A) op(B) + beta * C, as backends/cpu/blas.h.
void gemm(int dev, const char *op, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
void gemm(int dev, const char *op, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double *a, int64_t lda, const double *b, int64_t ldb, double beta, double *c, int64_t ldc);

// Batched, mixed-precision GEMM on gpu(dev) (cublasGemmStridedBatchedEx; cublasGemmEx when batch
// is 1): for i < batch, C_i = alpha * op(A_i) op(B_i) + beta * C_i, row-major, the matrices of each
// operand stride_* elements apart, all of dtype `dt` (float16, bfloat16, float32, float64).
// float16/bfloat16 multiply on tensor cores and accumulate in float32; whether float32 may use
// TF32 is backends/gemm_math.h's switch (default: exact FP32).
void gemm_ex(int dev, const char *op, DType dt, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
             double alpha, const void *a, int64_t lda, int64_t stride_a, const void *b, int64_t ldb, int64_t stride_b,
             double beta, void *c, int64_t ldc, int64_t stride_c, int64_t batch);

// The compute stream of `dev` (a cudaStream_t), for kernels; records `op` as the last op launched
// so asynchronous errors can name it.
void *compute_stream(int dev, const char *op);
// Throws naming `op` when the last launch failed (bad configuration, no kernel image, ...).
void check_launch(const char *op);

}  // namespace gpu
}  // namespace mx
