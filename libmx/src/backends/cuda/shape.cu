// CUDA kernels of the data-movement primitives (gather / scatter through per-axis index maps,
// zeroing, pitched row copies) that the shape-family ops use on both devices
// (ops/shape_common.h), and of clip, where and add_n (formulas: ops/formulas/select.h).
#include "backends/cuda/launch.cuh"
#include "base/half_hd.h"
#include "ops/formulas/index.h"
#include "ops/formulas/select.h"
#include "ops/index_gpu.h"
#include "ops/shape_common.h"
#include "ops/shape_gpu.h"

namespace mx {
namespace cuda {
namespace {

constexpr int kMapDims = 16;

// The per-axis maps flattened on the device: offset(i) = sum_d maps[off[d] + i_d].
struct Maps {
  int nd = 0;
  int64_t dims[kMapDims] = {}, off[kMapDims] = {};
  const int64_t *maps = nullptr;
  __device__ int64_t offset(int64_t i) const {
    int64_t o = 0;
    for (int d = nd - 1; d >= 0; --d) {
      const int64_t idx = i % dims[d];
      i /= dims[d];
      o += maps[off[d] + idx];
    }
    return o;
  }
};

// Host maps (for an array of shape s) -> Maps view; `keep` owns the device copy.
Maps upload(const Shape &s, const std::vector<std::vector<int64_t>> &maps, Device dev, NDArray *keep) {
  MX_CHECK(s.ndim() <= kMapDims, MX_ERR_UNSUPPORTED, "shape ops on the GPU support at most ", kMapDims,
           " dimensions, got ", s.str());
  Maps m;
  m.nd = s.ndim();
  std::vector<int64_t> flat;
  for (int d = 0; d < m.nd; ++d) {
    m.dims[d] = s[d];
    m.off[d] = static_cast<int64_t>(flat.size());
    flat.insert(flat.end(), maps[static_cast<size_t>(d)].begin(), maps[static_cast<size_t>(d)].end());
  }
  if (flat.empty()) flat.push_back(0);
  *keep = indices_on(flat, dev);
  m.maps = keep->data<int64_t>();
  return m;
}

cudaStream_t stream(const NDArray &a, const char *op) {
  return static_cast<cudaStream_t>(gpu::compute_stream(a.device().id, op));
}

template <typename T> __global__ void gather_k(int64_t n, Maps m, const T *src, T *dst) {
  MX_GRID_LOOP(i, n) dst[i] = src[m.offset(i)];
}
template <typename T> __global__ void scatter_k(int64_t n, Maps m, const T *src, T *dst) {
  MX_GRID_LOOP(i, n) dst[m.offset(i)] = src[i];
}
template <typename T> __global__ void scatter_add_k(int64_t n, Maps m, const T *src, T *dst) {
  MX_GRID_LOOP(i, n) formula::add_atomic(&dst[m.offset(i)], src[i]);
}
// Computed in C = compute_t<T> (float for float16/bfloat16, T otherwise: base/half_hd.h).
template <typename T> __global__ void param_unary_k(ParamUnary f, int64_t n, const T *x, T *o, double p0, double p1) {
  using C = compute_t<T>;
  MX_GRID_LOOP(i, n) {
    const C v = C(x[i]);
    switch (f) {
      case ParamUnary::Clip: o[i] = T(formula::clip_value(v, p0, p1)); break;
      case ParamUnary::HardSigmoid: o[i] = T(formula::hard_sigmoid_value(v, static_cast<C>(p0), static_cast<C>(p1))); break;
      case ParamUnary::SmoothL1: o[i] = T(formula::smooth_l1_value(v, static_cast<C>(p0))); break;
    }
  }
}
template <typename T>
__global__ void param_grad_k(ParamUnary f, int64_t n, const T *g, const T *x, T *o, double p0, double p1) {
  using C = compute_t<T>;
  MX_GRID_LOOP(i, n) {
    const C gv = C(g[i]), xv = C(x[i]);
    switch (f) {
      case ParamUnary::Clip: o[i] = T(formula::clip_grad(gv, xv, static_cast<C>(p0), static_cast<C>(p1))); break;
      case ParamUnary::HardSigmoid:
        o[i] = T(formula::hard_sigmoid_grad(gv, xv, static_cast<C>(p0), static_cast<C>(p1)));
        break;
      case ParamUnary::SmoothL1: o[i] = T(formula::smooth_l1_grad(gv, xv, static_cast<C>(p0))); break;
    }
  }
}
// row: elements of x per condition entry (1 when the condition has x's shape)
template <typename C, typename T>
__global__ void where_k(int64_t n, int64_t row, const C *c, const T *x, const T *y, T *o, bool keep) {
  MX_GRID_LOOP(i, n) {
    const bool t = static_cast<double>(c[i / row]) != 0;
    o[i] = y ? (t ? x[i] : y[i]) : (t == keep ? x[i] : T(0));
  }
}
template <typename T> __global__ void add_k(int64_t n, const T *a, const T *b, T *o) {
  MX_GRID_LOOP(i, n) o[i] = formula::add_acc(a[i], b[i]);
}

}  // namespace
}  // namespace cuda

void gpu_gather_maps(const NDArray &src, const NDArray &dst, const std::vector<std::vector<int64_t>> &maps) {
  const int64_t n = dst.size();
  if (n == 0) return;
  NDArray keep;
  cuda::Maps m = cuda::upload(dst.shape(), maps, dst.device(), &keep);
  MX_BYTES_SWITCH(dtype_size(dst.dtype()), T, {
    cuda::gather_k<T><<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream(dst, "gather")>>>(n, m, src.data<T>(),
                                                                                               dst.data<T>());
  });
  gpu::check_launch("gather");
}

void gpu_scatter_maps(const NDArray &src, const NDArray &dst, const std::vector<std::vector<int64_t>> &maps,
                      bool add) {
  const int64_t n = src.size();
  if (n == 0) return;
  NDArray keep;
  cuda::Maps m = cuda::upload(src.shape(), maps, dst.device(), &keep);
  cudaStream_t st = cuda::stream(dst, "scatter");
  if (!add) {
    MX_BYTES_SWITCH(dtype_size(dst.dtype()), T, {
      cuda::scatter_k<T><<<cuda::blocks_for(n), cuda::kThreads, 0, st>>>(n, m, src.data<T>(), dst.data<T>());
    });
  } else {
    switch (dst.dtype()) {
#define MX_CASE(DT, T)                                                                                          \
  case DT: cuda::scatter_add_k<T><<<cuda::blocks_for(n), cuda::kThreads, 0, st>>>(n, m, src.data<T>(), dst.data<T>()); break;
      MX_CASE(DType::f32, float)
      MX_CASE(DType::f64, double)
      MX_CASE(DType::i32, int32_t)
      MX_CASE(DType::i64, int64_t)
#undef MX_CASE
      default:
        fail(MX_ERR_UNSUPPORTED, "scatter-add on the GPU supports float32, float64, int32 and int64, not ",
             dtype_name(dst.dtype()));
    }
  }
  gpu::check_launch("scatter");
}

void gpu_zero(const NDArray &a) {
  if (a.size() == 0) return;
  cudaMemsetAsync(a.raw(), 0, a.nbytes(), cuda::stream(a, "zero"));
  gpu::check_launch("zero");
}

void gpu_copy_rows(int dev, void *dst, int64_t dpitch, const void *src, int64_t spitch, int64_t width, int64_t rows) {
  if (width == 0 || rows == 0) return;
  cudaStream_t st = static_cast<cudaStream_t>(gpu::compute_stream(dev, "copy rows"));
  cudaMemcpy2DAsync(dst, static_cast<size_t>(dpitch), src, static_cast<size_t>(spitch), static_cast<size_t>(width),
                    static_cast<size_t>(rows), cudaMemcpyDeviceToDevice, st);
  gpu::check_launch("copy rows");
}

void gpu_param_unary(ParamUnary f, const NDArray &in, const NDArray &out, double p0, double p1) {
  const int64_t n = out.size();
  if (n == 0) return;
  auto launch = [&](auto tag) {
    using T = decltype(tag);
    cuda::param_unary_k<T><<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream(out, "element op")>>>(
        f, n, in.data<T>(), out.data<T>(), p0, p1);
  };
  if (f == ParamUnary::Clip) {
    MX_HALF_OR(in.dtype(), T, launch(T()), MX_DTYPE_SWITCH_NUMERIC(in.dtype(), T, "clip", launch(T())));
  } else {
    MX_HALF_OR(in.dtype(), T, launch(T()), MX_DTYPE_SWITCH_FLOAT(in.dtype(), T, "element op", launch(T())));
  }
  gpu::check_launch("element op");
}

void gpu_param_unary_backward(ParamUnary f, const NDArray &g, const NDArray &x, const NDArray &out, double p0,
                              double p1) {
  const int64_t n = out.size();
  if (n == 0) return;
  auto launch = [&](auto tag) {
    using T = decltype(tag);
    cuda::param_grad_k<T><<<cuda::blocks_for(n), cuda::kThreads, 0, cuda::stream(out, "element op backward")>>>(
        f, n, g.data<T>(), x.data<T>(), out.data<T>(), p0, p1);
  };
  MX_HALF_OR(g.dtype(), T, launch(T()), MX_DTYPE_SWITCH_FLOAT(g.dtype(), T, "element op backward", launch(T())));
  gpu::check_launch("element op backward");
}

void gpu_where(const NDArray &cond, const NDArray &x, const NDArray *y, const NDArray &out, bool keep_true) {
  const int64_t n = out.size();
  if (n == 0) return;
  const Shape &s = x.shape();
  const int64_t row = cond.shape() == s ? 1 : (s[0] ? s.size() / s[0] : 1);
  const char *op = y ? "where" : "_where_mask";
  cudaStream_t st = cuda::stream(out, op);
  auto launch = [&](auto ctag) {
    using C = decltype(ctag);
    MX_BYTES_SWITCH(dtype_size(x.dtype()), T, {
      cuda::where_k<C, T><<<cuda::blocks_for(n), cuda::kThreads, 0, st>>>(
          n, row, cond.data<C>(), x.data<T>(), y ? y->data<T>() : nullptr, out.data<T>(), keep_true);
    });
  };
  // A float16/bfloat16 condition is read as float (hd_half / hd_bf16).
  MX_HALF_OR(cond.dtype(), C, launch(C()), MX_DTYPE_SWITCH_NUMERIC(cond.dtype(), C, op, launch(C())));
  gpu::check_launch(op);
}

void gpu_add_n(const std::vector<NDArray> &in, const NDArray &out) {
  const int64_t n = out.size();
  if (n == 0) return;
  cudaStream_t st = cuda::stream(out, "add_n");
  auto run = [&](auto tag) {
    using T = decltype(tag);
    if (in.size() == 1) {
      cudaMemcpyAsync(out.raw(), in[0].raw(), out.nbytes(), cudaMemcpyDeviceToDevice, st);
    } else {
      // acc = in0 + in1, then acc + in2, ...: the CPU kernel's order.
      cuda::add_k<T><<<cuda::blocks_for(n), cuda::kThreads, 0, st>>>(n, in[0].data<T>(), in[1].data<T>(), out.data<T>());
      for (size_t k = 2; k < in.size(); ++k)
        cuda::add_k<T><<<cuda::blocks_for(n), cuda::kThreads, 0, st>>>(n, out.data<T>(), in[k].data<T>(), out.data<T>());
    }
  };
  // float16/bfloat16 sums are rounded after every input, as the CPU's add_n does.
  MX_HALF_OR(out.dtype(), T, run(T()), MX_DTYPE_SWITCH_NUMERIC(out.dtype(), T, "add_n", run(T())));
  gpu::check_launch("add_n");
}

}  // namespace mx
