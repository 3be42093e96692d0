// CUDA kernels of the unary element-wise families and their fused backward ops. The formulas
// are ops/formulas/unary.h, the same code the CPU kernels run. float16/bfloat16 are native:
// loaded to float, computed in float, stored rounded (compute_t, MX_HALF_OR: base/half_hd.h).
#include "base/half_hd.h"
#include "backends/cuda/launch.cuh"
#include "ops/elemwise_gpu.h"
#include "ops/formulas/unary.h"

namespace mx {
namespace cuda {
namespace {

template <typename F, typename T>
__global__ void unary_map(int64_t n, const T *__restrict__ x, T *__restrict__ o) {
  using C = compute_t<T>;
  MX_GRID_LOOP(i, n) o[i] = T(F::template f<C>(C(x[i])));
}

// _backward_<op>(out_grad, data) = out_grad * f'(data); both have the output's shape.
template <typename D, typename T>
__global__ void unary_backward(int64_t n, const T *__restrict__ g, const T *__restrict__ x, T *__restrict__ o) {
  using C = compute_t<T>;
  MX_GRID_LOOP(i, n) o[i] = T(C(g[i]) * D::template d<C>(C(x[i])));
}

template <typename F, typename T> void run_unary(const OpCall &c) {
  const int64_t n = c.outputs[0].size();
  if (n == 0) return;
  unary_map<F, T><<<blocks_for(n), kThreads, 0, stream_of(c)>>>(n, c.inputs[0].data<T>(), c.outputs[0].data<T>());
  gpu::check_launch(c.params.op->name.c_str());
}

template <typename D, typename T> void run_backward(const OpCall &c) {
  const int64_t n = c.outputs[0].size();
  if (n == 0) return;
  unary_backward<D, T><<<blocks_for(n), kThreads, 0, stream_of(c)>>>(n, c.inputs[0].data<T>(),
                                                                     c.inputs[1].data<T>(), c.outputs[0].data<T>());
  gpu::check_launch(c.params.op->name.c_str());
}

#define MX_SWITCH_KIND_N(dt, T, op, ...) MX_DTYPE_SWITCH_NUMERIC(dt, T, op, __VA_ARGS__)
#define MX_SWITCH_KIND_F(dt, T, op, ...) MX_DTYPE_SWITCH_FLOAT(dt, T, op, __VA_ARGS__)

#define MX_UNARY_ENTRY(Fn, kind)                                                          \
  void unary_##Fn(const OpCall &c) {                                                      \
    MX_HALF_OR(c.inputs[0].dtype(), T, (run_unary<formula::Fn, T>(c)),                   \
               MX_SWITCH_KIND_##kind(c.inputs[0].dtype(), T, c.params.op->name, (run_unary<formula::Fn, T>(c)))); \
  }
MX_UNARY_FORMULAS(MX_UNARY_ENTRY)
#undef MX_UNARY_ENTRY

#define MX_GRAD_ENTRY(Dn)                                                                 \
  void grad_##Dn(const OpCall &c) {                                                       \
    MX_HALF_OR(c.inputs[0].dtype(), T, (run_backward<formula::Dn, T>(c)),                 \
               MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, c.params.op->name, (run_backward<formula::Dn, T>(c)))); \
  }
MX_UNARY_GRAD_FORMULAS(MX_GRAD_ENTRY)
#undef MX_GRAD_ENTRY

}  // namespace
}  // namespace cuda

KernelFn gpu_unary_kernel(UnaryOp f) {
  switch (f) {
#define MX_CASE(Fn, kind) \
  case UnaryOp::Fn: return cuda::unary_##Fn;
    MX_UNARY_FORMULAS(MX_CASE)
#undef MX_CASE
  }
  return KernelFn();
}

KernelFn gpu_unary_backward_kernel(UnaryGradOp d) {
  switch (d) {
#define MX_CASE(Dn) \
  case UnaryGradOp::Dn: return cuda::grad_##Dn;
    MX_UNARY_GRAD_FORMULAS(MX_CASE)
#undef MX_CASE
  }
  return KernelFn();
}

}  // namespace mx
