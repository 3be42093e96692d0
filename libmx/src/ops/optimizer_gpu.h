// The CUDA kernel of the optimizer update formulas (ops/formulas/optimizer.h), used by the
// update operators and by the optimizer objects when the weight lives on a GPU. Defined in
// backends/cuda/optimizer_update.cu; backends/gpu_none.cc's version fails naming the op.
#pragma once
#include <vector>

#include "ndarray/ndarray.h"
#include "ops/formulas/lamb.h"
#include "ops/formulas/optimizer.h"
#include "ops/formulas/optimizer_multi.h"
#include "ops/formulas/optimizer_multi_lowp.h"

namespace mx {

// out = step(weight, grad) element-wise, states updated in place; every array on the same GPU,
// same size, float32 or float64 (one dtype). out may be weight. `op` names the caller in errors.
void gpu_update(UpdateRule r, const UpdCoef<double> &k, const NDArray &weight, const NDArray &grad,
                const NDArray &out, const std::vector<NDArray> &states, const char *op);

// Multi-precision step (backends/cuda/optimizer_mp.cu): weight32 (float32 master) and the float32
// states updated in place from grad; out (the float16/bfloat16/float32 weight, grad's dtype) gets
// the rounded master. One kernel: the 16-bit arrays are read and written as they are.
void gpu_update_mp(UpdateRule r, const UpdCoef<double> &k, const NDArray &grad, const NDArray &out,
                   const NDArray &weight32, const std::vector<NDArray> &states, const char *op);

// Multi-tensor step (backends/cuda/optimizer_multi.cu): one launch for the table's tensors, all
// on GPU `device` (the table holds device pointers). Instantiated for the types below: plain
// float32/float64, and a float32 master copy for float16 and bfloat16 weights.
template <bool MP, typename W, typename S>
void gpu_update_multi(UpdateRule r, const UpdCoef<double> &k, const MultiTable<W, S> &t, int device,
                      const char *op);
#define MX_GPU_UPDATE_MULTI_TYPES(X) \
  X(false, float, float) X(false, double, double) X(true, hd_half, float) X(true, hd_bf16, float)
#define MX_GPU_UPDATE_MULTI_INSTANCE(MP, W, S)                                                       \
  template void gpu_update_multi<MP, W, S>(UpdateRule, const UpdCoef<double> &, const MultiTable<W, S> &, int, \
                                           const char *);

// The plain multi-tensor forms with float16/bfloat16 weights and states (backends/cuda/
// optimizer_multi_lowp.cu): one launch per table, MXNet's half_t arithmetic
// (formulas/optimizer_multi_lowp.h). R: hd_half or hd_bf16.
template <typename R>
void gpu_update_multi_lowp(UpdateRule r, const UpdCoef<double> &k, const MultiTable<R, R> &t, int device,
                           const char *op);
#define MX_GPU_UPDATE_MULTI_LOWP_INSTANCE(R) \
  template void gpu_update_multi_lowp<R>(UpdateRule, const UpdCoef<double> &, const MultiTable<R, R> &, int, const char *);
// LAMB's phases (backends/cuda/optimizer_lamb.cu) on n elements of GPU `device` (device
// pointers): phase 1 steps m, v and writes the direction to out; phase 2 writes
// out = w - lamb_trust_lr(lr, r1[0], r2[0], lower, upper, ratio_first) * g, reading the norms on the device.
// Instantiated for <T, G/O> = <float, float>, <double, double>, <float, hd_half>, <float, hd_bf16>.
template <typename T, typename G>
void gpu_lamb_phase1(const LambCoef<T> &k, int64_t n, const T *w, const G *g, T *m, T *v, T *out, int device,
                     const char *op);
template <typename T, typename O>
void gpu_lamb_phase2(T lr, T lower, T upper, bool ratio_first, int64_t n, const T *r1, const T *r2, const T *w,
                     const T *g, O *out, int device, const char *op);
#define MX_GPU_LAMB_TYPES(X) X(float, float) X(double, double) X(float, hd_half) X(float, hd_bf16)
#define MX_GPU_LAMB_INSTANCE(T, U)                                                                              \
  template void gpu_lamb_phase1<T, U>(const LambCoef<T> &, int64_t, const T *, const U *, T *, T *, T *, int,   \
                                      const char *);                                                            \
  template void gpu_lamb_phase2<T, U>(T, T, T, bool, int64_t, const T *, const T *, const T *, const T *, U *, int, \
                                      const char *);

}  // namespace mx
