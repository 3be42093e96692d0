// CUDA kernels of the binary element-wise families: elemwise_/broadcast_<op>, the scalar forms
// and the fused backward ops. The formulas are ops/formulas/binary.h, the same code the CPU
// kernels run. float16/bfloat16 are native: loaded to float, computed in float, stored rounded
// (compute_t, MX_HALF_OR: base/half_hd.h); a scalar operand stays float as on the CPU's float32 path.
#include "base/half_hd.h"
#include "backends/cuda/launch.cuh"
#include "ops/elemwise_common.h"
#include "ops/elemwise_gpu.h"
#include "ops/formulas/binary.h"

namespace mx {
namespace cuda {
namespace {

template <typename F, typename T>
__global__ void binary_same(int64_t n, const T *__restrict__ a, const T *__restrict__ b, T *__restrict__ o) {
  using C = compute_t<T>;
  MX_GRID_LOOP(i, n) o[i] = T(F::template f<C>(C(a[i]), C(b[i])));
}

template <typename F, typename T>
__global__ void binary_bcast(int64_t n, const T *__restrict__ a, const T *__restrict__ b, T *__restrict__ o,
                             BcastMap ma, BcastMap mb) {
  using C = compute_t<T>;
  MX_GRID_LOOP(i, n) o[i] = T(F::template f<C>(C(a[ma.offset(i)]), C(b[mb.offset(i)])));
}

template <typename F, bool Reverse, typename T>
__global__ void binary_scalar(int64_t n, const T *__restrict__ a, compute_t<T> s, T *__restrict__ o) {
  using C = compute_t<T>;
  MX_GRID_LOOP(i, n) o[i] = T(Reverse ? F::template f<C>(s, C(a[i])) : F::template f<C>(C(a[i]), s));
}

// _backward_broadcast_<op>(g, a, b) -> (g * dF/da, g * dF/db), at the output's shape.
template <typename F, typename D, typename T>
__global__ void binary_backward(int64_t n, const T *__restrict__ g, const T *__restrict__ a,
                                const T *__restrict__ b, T *__restrict__ ga, T *__restrict__ gb, BcastMap ma,
                                BcastMap mb) {
  using C = compute_t<T>;
  MX_GRID_LOOP(i, n) {
    const C x = C(a[ma.offset(i)]), y = C(b[mb.offset(i)]);
    const C out = F::template f<C>(x, y);
    const C gi = C(g[i]);
    ga[i] = T(gi * D::template da<C>(x, y, out));
    gb[i] = T(gi * D::template db<C>(x, y, out));
  }
}

template <typename F, typename T> void run_binary(const OpCall &c) {
  const NDArray &a = c.inputs[0], &b = c.inputs[1], &o = c.outputs[0];
  const int64_t n = o.size();
  if (n == 0) return;
  cudaStream_t st = stream_of(c);
  const char *op = c.params.op->name.c_str();
  if (a.shape() == o.shape() && b.shape() == o.shape()) {
    binary_same<F, T><<<blocks_for(n), kThreads, 0, st>>>(n, a.data<T>(), b.data<T>(), o.data<T>());
  } else {
    BcastMap ma, mb;
    make_bcast_maps(a.shape(), b.shape(), o.shape(), op, &ma, &mb);
    binary_bcast<F, T><<<blocks_for(n), kThreads, 0, st>>>(n, a.data<T>(), b.data<T>(), o.data<T>(), ma, mb);
  }
  gpu::check_launch(op);
}

template <typename F, bool Reverse, typename T> void run_scalar(const OpCall &c) {
  const NDArray &a = c.inputs[0], &o = c.outputs[0];
  const int64_t n = o.size();
  if (n == 0) return;
  const compute_t<T> s = static_cast<compute_t<T>>(c.p<ScalarParam>().scalar);
  binary_scalar<F, Reverse, T><<<blocks_for(n), kThreads, 0, stream_of(c)>>>(n, a.data<T>(), s, o.data<T>());
  gpu::check_launch(c.params.op->name.c_str());
}

template <typename F, typename D, typename T> void run_backward(const OpCall &c) {
  const NDArray &o = c.outputs[0];
  const int64_t n = o.size();
  if (n == 0) return;
  const char *op = c.params.op->name.c_str();
  BcastMap ma, mb;
  make_bcast_maps(c.inputs[1].shape(), c.inputs[2].shape(), o.shape(), op, &ma, &mb);
  binary_backward<F, D, T><<<blocks_for(n), kThreads, 0, stream_of(c)>>>(
      n, c.inputs[0].data<T>(), c.inputs[1].data<T>(), c.inputs[2].data<T>(), o.data<T>(),
      c.outputs[1].data<T>(), ma, mb);
  gpu::check_launch(op);
}

// Dtype dispatch by the formula's kind: N numeric, F float only.
#define MX_SWITCH_KIND_N(dt, T, op, ...) MX_DTYPE_SWITCH_NUMERIC(dt, T, op, __VA_ARGS__)
#define MX_SWITCH_KIND_F(dt, T, op, ...) MX_DTYPE_SWITCH_FLOAT(dt, T, op, __VA_ARGS__)

template <typename F> struct Kind;
#define MX_KIND_ENTRY(Fn, kind)                                                                   \
  template <> struct Kind<formula::Fn> {                                                          \
    static void binary(const OpCall &c) {                                                         \
      MX_HALF_OR(c.inputs[0].dtype(), T, (run_binary<formula::Fn, T>(c)),                          \
                 MX_SWITCH_KIND_##kind(c.inputs[0].dtype(), T, c.params.op->name, run_binary<formula::Fn, T>(c))); \
    }                                                                                             \
    template <bool R> static void scalar(const OpCall &c) {                                       \
      MX_HALF_OR(c.inputs[0].dtype(), T, (run_scalar<formula::Fn, R, T>(c)),                      \
                 MX_SWITCH_KIND_##kind(c.inputs[0].dtype(), T, c.params.op->name, (run_scalar<formula::Fn, R, T>(c)))); \
    }                                                                                             \
  };
MX_BINARY_FORMULAS(MX_KIND_ENTRY)
#undef MX_KIND_ENTRY

template <typename F, typename D> void backward(const OpCall &c) {
  MX_HALF_OR(c.inputs[0].dtype(), T, (run_backward<F, D, T>(c)),
             MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, c.params.op->name, (run_backward<F, D, T>(c))));
}

}  // namespace
}  // namespace cuda

KernelFn gpu_binary_kernel(BinaryOp f) {
  switch (f) {
#define MX_CASE(Fn, kind) \
  case BinaryOp::Fn: return cuda::Kind<formula::Fn>::binary;
    MX_BINARY_FORMULAS(MX_CASE)
#undef MX_CASE
  }
  return KernelFn();
}

KernelFn gpu_scalar_kernel(BinaryOp f, bool reverse) {
  switch (f) {
#define MX_CASE(Fn, kind) \
  case BinaryOp::Fn: return reverse ? KernelFn(cuda::Kind<formula::Fn>::scalar<true>) : KernelFn(cuda::Kind<formula::Fn>::scalar<false>);
    MX_BINARY_FORMULAS(MX_CASE)
#undef MX_CASE
  }
  return KernelFn();
}

KernelFn gpu_binary_backward_kernel(BinaryOp f) {
  using namespace formula;
  switch (f) {
    case BinaryOp::Mod: return cuda::backward<Mod, DMod>;
    case BinaryOp::Power: return cuda::backward<Power, DPower>;
    case BinaryOp::Maximum: return cuda::backward<Maximum, DMaximum>;
    case BinaryOp::Minimum: return cuda::backward<Minimum, DMinimum>;
    case BinaryOp::Hypot: return cuda::backward<Hypot, DHypot>;
    default: return KernelFn();  // the other families have no fused backward op
  }
}

}  // namespace mx
