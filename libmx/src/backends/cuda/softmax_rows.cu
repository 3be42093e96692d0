// Warp-per-row and block-per-row softmax family kernels (softmax_rows.cuh). Same formulas as the
// row functors of ops/nn/softmax_kernels.h: y = exp(s x / t - max) / sum (s = -1: softmin),
// log_softmax y = x / t - (max + log sum); backward log_softmax dx = (g - exp(y) sum g) / t,
// softmax / softmin dx = k y (g - sum g y), k = 1/t (softmin -1/t). Accumulated in float for
// float32 / float16 / bfloat16 data (the CPU driver uses double: equal within float rounding),
// in double for float64.
#include <cfloat>
#include <cmath>
#include <type_traits>

#include "backends/cuda/launch.cuh"
#include "backends/cuda/softmax_rows.cuh"
#include "base/half_hd.h"

namespace mx {
namespace cuda {
namespace {

template <typename T> using acc_of = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <typename A> __device__ A warp_max(A v) {
  for (int o = 16; o > 0; o >>= 1) {
    const A w = __shfl_xor_sync(0xffffffffu, v, o);
    v = w > v ? w : v;
  }
  return v;
}
template <typename A> __device__ A warp_sum(A v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <typename A> __device__ A neg_inf() { return -static_cast<A>(INFINITY); }

// Reduction over the threads of a row group: a warp (blockDim.x == 32) or the whole block
// (blockDim.x a multiple of 32, one row per block): warps reduce, then warp 0 reduces their
// results; every thread gets the total. `shm` holds 32 values.
template <typename A, bool Max> __device__ A group_reduce(A v, A *shm) {
  v = Max ? warp_max(v) : warp_sum(v);
  if (blockDim.x == 32) return v;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
  __syncthreads();  // shm may still be read from the previous reduction
  if (lane == 0) shm[warp] = v;
  __syncthreads();
  A r = lane < nw ? shm[lane] : (Max ? neg_inf<A>() : A(0));
  r = Max ? warp_max(r) : warp_sum(r);
  return r;
}

// Rows r = blockIdx.x * blockDim.y + threadIdx.y (+ grid stride), threads threadIdx.x across the row.
template <typename T, smk::Kind K>
__global__ void rows_forward(int64_t rows, int64_t n, acc_of<T> scale, acc_of<T> invt, const T *__restrict__ x,
                             T *__restrict__ y) {
  using A = acc_of<T>;
  __shared__ A shm[32];
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; r < rows;
       r += static_cast<int64_t>(gridDim.x) * blockDim.y) {
    const T *xr = x + r * n;
    T *yr = y + r * n;
    A m = neg_inf<A>();
    for (int64_t l = threadIdx.x; l < n; l += blockDim.x) {
      const A v = scale * static_cast<A>(xr[l]);
      m = v > m ? v : m;
    }
    m = group_reduce<A, true>(m, shm);
    A s = 0;
    for (int64_t l = threadIdx.x; l < n; l += blockDim.x) s += std::exp(scale * static_cast<A>(xr[l]) - m);
    s = group_reduce<A, false>(s, shm);
    if constexpr (K == smk::kLogSoftmax) {
      const A lse = m + std::log(s);
      for (int64_t l = threadIdx.x; l < n; l += blockDim.x) yr[l] = T(invt * static_cast<A>(xr[l]) - lse);
    } else {
      for (int64_t l = threadIdx.x; l < n; l += blockDim.x) yr[l] = T(std::exp(scale * static_cast<A>(xr[l]) - m) / s);
    }
  }
}

template <typename T, smk::Kind K>
__global__ void rows_backward(int64_t rows, int64_t n, acc_of<T> k, const T *__restrict__ g, const T *__restrict__ y,
                              T *__restrict__ dx) {
  using A = acc_of<T>;
  __shared__ A shm[32];
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.y + threadIdx.y; r < rows;
       r += static_cast<int64_t>(gridDim.x) * blockDim.y) {
    const int64_t b = r * n;
    A s = 0;
    for (int64_t l = threadIdx.x; l < n; l += blockDim.x) {
      if constexpr (K == smk::kLogSoftmax) s += static_cast<A>(g[b + l]);
      else s += static_cast<A>(g[b + l]) * static_cast<A>(y[b + l]);
    }
    s = group_reduce<A, false>(s, shm);
    for (int64_t l = threadIdx.x; l < n; l += blockDim.x) {
      const A gv = static_cast<A>(g[b + l]), yv = static_cast<A>(y[b + l]);
      if constexpr (K == smk::kLogSoftmax) dx[b + l] = T(k * (gv - std::exp(yv) * s));
      else dx[b + l] = T(k * yv * (gv - s));
    }
  }
}

// Launch shape: a warp per row, 8 rows per block, for short rows; a 256-thread block per row
// for long ones.
struct RowLaunch {
  dim3 grid, block;
};
RowLaunch row_launch(int64_t rows, int64_t n) {
  RowLaunch L;
  if (n <= kWarpRowMax) {
    L.block = dim3(32, 8);
    L.grid = dim3(static_cast<unsigned>(std::min<int64_t>((rows + 7) / 8, int64_t(1) << 16)));
  } else {
    L.block = dim3(256, 1);
    L.grid = dim3(static_cast<unsigned>(std::min<int64_t>(rows, int64_t(1) << 16)));
  }
  return L;
}

bool fast_layout(const smk::SoftmaxParam &p, const Shape &s, const char *op, smk::Dims *d) {
  if (smk::uses_length(p) || s.ndim() < 1) return false;
  *d = smk::dims_of(p, s, op);
  return d->inner == 1 && d->len > 0;
}

template <typename F> bool with_float_type(DType dt, F f) {
  switch (dt) {
    case DType::f32: f(float()); return true;
    case DType::f64: f(double()); return true;
    case DType::f16: f(hd_half()); return true;
    case DType::bf16: f(hd_bf16()); return true;
    default: return false;
  }
}

}  // namespace

bool softmax_rows_forward(smk::Kind kind, const OpCall &c, const char *op) {
  const auto &p = c.p<smk::SoftmaxParam>();
  const NDArray &x = c.inputs[0], &y = c.outputs[0];
  smk::Dims d;
  if (x.dtype() != y.dtype() || !fast_layout(p, x.shape(), op, &d)) return false;
  const int64_t rows = d.outer;
  if (rows == 0) return true;
  const double invt = 1.0 / p.temperature.value_or(1.0), scale = kind == smk::kSoftmin ? -invt : invt;
  const RowLaunch L = row_launch(rows, d.len);
  cudaStream_t st = stream_of(c);
  const bool ok = with_float_type(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = acc_of<T>;
    if (kind == smk::kLogSoftmax)
      rows_forward<T, smk::kLogSoftmax><<<L.grid, L.block, 0, st>>>(rows, d.len, A(scale), A(invt), x.data<T>(),
                                                                     y.data<T>());
    else
      rows_forward<T, smk::kSoftmax><<<L.grid, L.block, 0, st>>>(rows, d.len, A(scale), A(invt), x.data<T>(),
                                                                  y.data<T>());
  });
  if (ok) gpu::check_launch(op);
  return ok;
}

bool softmax_rows_backward(smk::Kind kind, const OpCall &c, const char *op) {
  const auto &p = c.p<smk::SoftmaxParam>();
  const NDArray &g = c.inputs[0], &y = c.inputs[1], &dx = c.outputs[0];
  smk::Dims d;
  if (g.dtype() != y.dtype() || g.dtype() != dx.dtype() || !fast_layout(p, y.shape(), op, &d)) return false;
  const int64_t rows = d.outer;
  if (rows == 0) return true;
  const double invt = 1.0 / p.temperature.value_or(1.0), k = kind == smk::kSoftmin ? -invt : invt;
  const RowLaunch L = row_launch(rows, d.len);
  cudaStream_t st = stream_of(c);
  const bool ok = with_float_type(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = acc_of<T>;
    if (kind == smk::kLogSoftmax)
      rows_backward<T, smk::kLogSoftmax><<<L.grid, L.block, 0, st>>>(rows, d.len, A(k), g.data<T>(), y.data<T>(),
                                                                      dx.data<T>());
    else
      rows_backward<T, smk::kSoftmax><<<L.grid, L.block, 0, st>>>(rows, d.len, A(k), g.data<T>(), y.data<T>(),
                                                                   dx.data<T>());
  });
  if (ok) gpu::check_launch(op);
  return ok;
}

}  // namespace cuda
}  // namespace mx
