// CUDA kernels of take, Embedding, pick, one_hot and argmax/argmin: the functors of
// ops/formulas/index.h (the CPU kernels' code), one thread per element.
#include "backends/cuda/launch.cuh"
#include "ops/formulas/index.h"
#include "ops/index_gpu.h"
#include "ops/shape_common.h"

namespace mx {
namespace cuda {
namespace {

template <class F> __global__ void each_elem(int64_t n, F f) { MX_GRID_LOOP(i, n) f(i); }

template <class F> void run(int dev, int64_t n, const F &f, const char *op) {
  if (n <= 0) return;
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(dev, op));
  each_elem<F><<<blocks_for(n), kThreads, 0, st>>>(n, f);
  gpu::check_launch(op);
}

void zero(const NDArray &a, const char *op) {
  if (a.size() == 0) return;
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(a.device().id, op));
  cudaMemsetAsync(a.raw(), 0, a.nbytes(), st);
  gpu::check_launch(op);
}

void same_gpu(const NDArray &a, const NDArray &b, const char *op) {
  MX_CHECK(!a.device().is_cpu() && a.device() == b.device(), MX_ERR_INVALID_ARGUMENT, op,
           ": arrays must be on the same GPU");
}

}  // namespace
}  // namespace cuda

void gpu_take_rows(const NDArray &src, const NDArray &idx, const NDArray &out, int64_t, int64_t n, int64_t k,
                   int64_t post, const char *op) {
  cuda::same_gpu(src, out, op);
  if (out.size() == 0) return;
  MX_BYTES_SWITCH(dtype_size(src.dtype()), T, {
    cuda::run(out.device().id, out.size(),
              formula::TakeRows<T>{n, k, post, idx.data<int64_t>(), src.data<T>(), out.data<T>()}, op);
  });
}

void gpu_scatter_add_rows(const NDArray &g, const NDArray &idx, const NDArray &grad, int64_t, int64_t n, int64_t k,
                          int64_t post, const char *op) {
  cuda::same_gpu(g, grad, op);
  cuda::zero(grad, op);
  switch (g.dtype()) {
#define MX_CASE(DT, T)                                                                                      \
  case DT:                                                                                                  \
    cuda::run(grad.device().id, g.size(),                                                                   \
              formula::ScatterAddRows<T>{n, k, post, idx.data<int64_t>(), g.data<T>(), grad.data<T>()}, op); \
    break;
    MX_CASE(DType::f32, float)
    MX_CASE(DType::f64, double)
    MX_CASE(DType::i32, int32_t)
    MX_CASE(DType::i64, int64_t)
#undef MX_CASE
    default:
      fail(MX_ERR_UNSUPPORTED, op, ": the gradient on the GPU supports float32, float64, int32 and int64, not ",
           dtype_name(g.dtype()));
  }
}

void gpu_pick(const NDArray &src, const NDArray &idx, const NDArray &out, int64_t, int64_t n, int64_t post,
              bool backward, const char *op) {
  cuda::same_gpu(src, out, op);
  if (!backward) {
    MX_BYTES_SWITCH(dtype_size(src.dtype()), T, {
      cuda::run(out.device().id, out.size(),
                formula::PickGather<T>{n, post, idx.data<int64_t>(), src.data<T>(), out.data<T>()}, op);
    });
    return;
  }
  cuda::zero(out, op);
  MX_DTYPE_SWITCH_NUMERIC(src.dtype(), T, op, {
    cuda::run(out.device().id, src.size(),
              formula::PickScatter<T>{n, post, idx.data<int64_t>(), src.data<T>(), out.data<T>()}, op);
  });
}

void gpu_one_hot(const NDArray &idx, const NDArray &out, int64_t depth, uint64_t on_bits, uint64_t off_bits,
                 const char *op) {
  cuda::same_gpu(idx, out, op);
  if (out.size() == 0) return;
  MX_BYTES_SWITCH(dtype_size(out.dtype()), U, {
    cuda::run(out.device().id, out.size(),
              formula::OneHotRows<U>{depth, idx.data<int64_t>(), static_cast<U>(on_bits), static_cast<U>(off_bits),
                                     out.data<U>()},
              op);
  });
}

void gpu_arg_extreme(const NDArray &in, const NDArray &out, int64_t M, int64_t Rn, int64_t N, bool is_max,
                     const char *op) {
  cuda::same_gpu(in, out, op);
  auto go = [&](auto tag) {
    using T = decltype(tag);
    if (is_max)
      cuda::run(out.device().id, M * N, formula::ArgExtreme<T, true>{Rn, N, in.data<T>(), out.data<T>()}, op);
    else
      cuda::run(out.device().id, M * N, formula::ArgExtreme<T, false>{Rn, N, in.data<T>(), out.data<T>()}, op);
  };
  switch (in.dtype()) {
    case DType::f32: go(float()); break;
    case DType::f64: go(double()); break;
    case DType::i32: go(int32_t()); break;
    case DType::i64: go(int64_t()); break;
    default: fail(MX_ERR_TYPE, op, ": dtype ", dtype_name(in.dtype()), " is not supported");
  }
}

}  // namespace mx
