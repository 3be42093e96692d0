// CUDA kernels of the reductions and of broadcast copies. Reducers: ops/formulas/reduce.h. Three
// kernels by layout, all deterministic (fixed combination order, no atomics): a warp per output
// with shuffles when each output's elements are contiguous (reductions over trailing axes), a
// thread per output walking its column when the outputs are contiguous (leading axes), else a
// block per output with a shared-memory tree.
// float16/bfloat16 are native: elements are loaded as float and reduced with the float
// reducer (its accumulator: double), the result is stored rounded.
#include <type_traits>

#include "base/half_hd.h"
#include "backends/cuda/launch.cuh"
#include "ops/reduce_gpu.h"

namespace mx {
namespace cuda {
namespace {

// Kept and reduced dims after merging adjacent dims of the same kind (size-1 dims dropped),
// with their element strides in the contiguous input.
struct ReduceLayout {
  int nk = 0, nr = 0;
  int64_t ksize[kMaxDims], kstride[kMaxDims], rsize[kMaxDims], rstride[kMaxDims];
  int64_t count = 1;  // reduced elements per output
};

ReduceLayout make_layout(const Shape &in, const std::vector<bool> &red, const char *op) {
  std::vector<int64_t> size;
  std::vector<bool> isr;
  for (int i = 0; i < in.ndim(); ++i) {
    if (in[i] == 1) continue;
    bool r = red[static_cast<size_t>(i)];
    if (!size.empty() && isr.back() == r) size.back() *= in[i];
    else {
      size.push_back(in[i]);
      isr.push_back(r);
    }
  }
  ReduceLayout L;
  int64_t stride = 1;
  std::vector<int64_t> strides(size.size());
  for (size_t i = size.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= size[i];
  }
  for (size_t i = 0; i < size.size(); ++i) {
    int &n = isr[i] ? L.nr : L.nk;
    MX_CHECK(n < kMaxDims, MX_ERR_UNSUPPORTED, op, ": the reduced and kept axes alternate too often for the GPU kernel (",
             in.str(), ")");
    if (isr[i]) {
      L.rsize[n] = size[i];
      L.rstride[n] = strides[i];
      L.count *= size[i];
    } else {
      L.ksize[n] = size[i];
      L.kstride[n] = strides[i];
    }
    ++n;
  }
  if (in.size() == 0) {  // an empty input: every output reduces nothing
    L.nr = 0;
    L.count = 0;
  }
  return L;
}

template <typename R, typename T>
__global__ void reduce_blocks(int64_t nout, const T *__restrict__ x, T *__restrict__ y, ReduceLayout L) {
  using A = typename R::A;
  __shared__ A part[kThreads];
  for (int64_t o = blockIdx.x; o < nout; o += gridDim.x) {
    int64_t rem = o, base = 0;
    for (int k = L.nk - 1; k >= 0; --k) {
      base += (rem % L.ksize[k]) * L.kstride[k];
      rem /= L.ksize[k];
    }
    A a = R::init();
    for (int64_t t = threadIdx.x; t < L.count; t += blockDim.x) {
      int64_t r = t, off = base;
      for (int k = L.nr - 1; k >= 0; --k) {
        off += (r % L.rsize[k]) * L.rstride[k];
        r /= L.rsize[k];
      }
      a = R::step(a, static_cast<compute_t<T>>(x[off]));
    }
    part[threadIdx.x] = a;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (static_cast<int>(threadIdx.x) < s) part[threadIdx.x] = R::comb(part[threadIdx.x], part[threadIdx.x + s]);
      __syncthreads();
    }
    if (threadIdx.x == 0) y[o] = T(R::fin(part[0], L.count));
    __syncthreads();
  }
}

// Inner reductions (the reduced elements of an output contiguous: one reduced dim of stride 1):
// a warp per output, lanes striding over the row, partial results combined with shuffles in a
// fixed order (deterministic). Rows of up to kWarpReduceMax elements; longer ones take a block.
constexpr int64_t kWarpReduceMax = 4096;

template <typename A> __device__ A shfl_xor(A v, int o) {
  if constexpr (sizeof(A) == 8 && std::is_integral_v<A>)
    return static_cast<A>(__shfl_xor_sync(0xffffffffu, static_cast<long long>(v), o));
  else
    return __shfl_xor_sync(0xffffffffu, v, o);
}

template <typename R, typename T>
__global__ void reduce_inner_warps(int64_t nout, const T *__restrict__ x, T *__restrict__ y, ReduceLayout L) {
  using A = typename R::A;
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x >> 5);
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5); o < nout; o += warps) {
    int64_t rem = o, base = 0;
    for (int k = L.nk - 1; k >= 0; --k) {
      base += (rem % L.ksize[k]) * L.kstride[k];
      rem /= L.ksize[k];
    }
    A a = R::init();
    for (int64_t t = lane; t < L.count; t += 32) a = R::step(a, static_cast<compute_t<T>>(x[base + t]));
    for (int s = 16; s > 0; s >>= 1) a = R::comb(a, shfl_xor(a, s));
    if (lane == 0) y[o] = T(R::fin(a, L.count));
  }
}

// Outer reductions (the kept elements contiguous: one kept dim of stride 1, the reduced
// elements `rstride` apart, e.g. a sum over axis 0 of (N, C)): a thread per output walks its
// column in order, so neighbouring threads read neighbouring elements (coalesced) and every
// output is summed in the same order each run. Used when there are enough outputs to fill the GPU.
constexpr int64_t kColumnMinOutputs = 2048;

template <typename R, typename T>
__global__ void reduce_columns(int64_t nout, const T *__restrict__ x, T *__restrict__ y, int64_t count,
                               int64_t stride) {
  using A = typename R::A;
  MX_GRID_LOOP(o, nout) {
    A a = R::init();
    for (int64_t t = 0; t < count; ++t) a = R::step(a, static_cast<compute_t<T>>(x[o + t * stride]));
    y[o] = T(R::fin(a, count));
  }
}

template <template <typename> class RT, typename T>
void run_reduce(const NDArray &in, const NDArray &out, const ReduceLayout &L, const char *op) {
  const int64_t nout = out.size();
  if (nout == 0) return;
  using R = RT<compute_t<T>>;
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(out.device().id, op));
  if (L.nr == 1 && L.rstride[0] == 1 && L.count <= kWarpReduceMax && nout > 1) {
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>((nout + 7) / 8, int64_t(1) << 16));
    reduce_inner_warps<R, T><<<blocks, kThreads, 0, st>>>(nout, in.data<T>(), out.data<T>(), L);
  } else if (L.nr == 1 && L.nk == 1 && L.kstride[0] == 1 && nout >= kColumnMinOutputs) {
    reduce_columns<R, T><<<blocks_for(nout), kThreads, 0, st>>>(nout, in.data<T>(), out.data<T>(), L.count,
                                                                  L.rstride[0]);
  } else {
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(nout, int64_t(1) << 16));
    reduce_blocks<R, T><<<blocks, kThreads, 0, st>>>(nout, in.data<T>(), out.data<T>(), L);
  }
  gpu::check_launch(op);
}

template <template <typename> class RT>
void dispatch(const NDArray &in, const NDArray &out, const ReduceLayout &L, const char *op) {
  MX_HALF_OR(in.dtype(), T, (run_reduce<RT, T>(in, out, L, op)),
             MX_DTYPE_SWITCH_NUMERIC(in.dtype(), T, op, (run_reduce<RT, T>(in, out, L, op))));
}

// Broadcast copy by element size (any dtype).
template <typename W>
__global__ void bcast_copy(int64_t n, const W *__restrict__ in, W *__restrict__ out, BcastMap m) {
  MX_GRID_LOOP(i, n) out[i] = in[m.offset(i)];
}

}  // namespace
}  // namespace cuda

void gpu_reduce(ReduceOp r, const NDArray &in, const NDArray &out, const std::vector<bool> &red, const char *op) {
  using namespace formula;
  const cuda::ReduceLayout L = cuda::make_layout(in.shape(), red, op);
  switch (r) {
    case ReduceOp::Sum: cuda::dispatch<SumR>(in, out, L, op); break;
    case ReduceOp::Mean: cuda::dispatch<MeanR>(in, out, L, op); break;
    case ReduceOp::Prod: cuda::dispatch<ProdR>(in, out, L, op); break;
    case ReduceOp::NanSum: cuda::dispatch<NanSumR>(in, out, L, op); break;
    case ReduceOp::NanProd: cuda::dispatch<NanProdR>(in, out, L, op); break;
    case ReduceOp::Max: cuda::dispatch<MaxR>(in, out, L, op); break;
    case ReduceOp::Min: cuda::dispatch<MinR>(in, out, L, op); break;
    case ReduceOp::L1: cuda::dispatch<L1R>(in, out, L, op); break;
    case ReduceOp::L2: cuda::dispatch<L2R>(in, out, L, op); break;
  }
}

void gpu_broadcast_copy(const NDArray &in, const NDArray &out, const char *op) {
  const int64_t n = out.size();
  if (n == 0) return;
  cuda::BcastMap m, unused;
  cuda::make_bcast_maps(in.shape(), out.shape(), out.shape(), op, &m, &unused);
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(out.device().id, op));
  const unsigned blocks = cuda::blocks_for(n);
  switch (dtype_size(in.dtype())) {
    case 1: cuda::bcast_copy<uint8_t><<<blocks, cuda::kThreads, 0, st>>>(n, static_cast<const uint8_t *>(in.raw()), static_cast<uint8_t *>(out.raw()), m); break;
    case 2: cuda::bcast_copy<uint16_t><<<blocks, cuda::kThreads, 0, st>>>(n, static_cast<const uint16_t *>(in.raw()), static_cast<uint16_t *>(out.raw()), m); break;
    case 4: cuda::bcast_copy<uint32_t><<<blocks, cuda::kThreads, 0, st>>>(n, static_cast<const uint32_t *>(in.raw()), static_cast<uint32_t *>(out.raw()), m); break;
    case 8: cuda::bcast_copy<uint64_t><<<blocks, cuda::kThreads, 0, st>>>(n, static_cast<const uint64_t *>(in.raw()), static_cast<uint64_t *>(out.raw()), m); break;
    default: fail(MX_ERR_TYPE, op, ": unsupported element size");
  }
  gpu::check_launch(op);
}

}  // namespace mx
