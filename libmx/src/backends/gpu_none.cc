// The GPU backend of a build without CUDA: no devices, and every request says why.
#ifndef MX_HAVE_CUDA
#include "backends/gpu.h"
#include "backends/gpu_convert.h"

#include "backends/cudnn.h"
#include "backends/cudnn_rnn.h"
#include "base/error.h"
#include "ops/elemwise_gpu.h"
#include "ops/index_gpu.h"
#include "ops/nn_gpu.h"
#include "ops/norm_gpu.h"
#include "ops/optimizer_gpu.h"
#include "ops/shape_gpu.h"
#include "ops/sort_kernels.h"
#include "ops/random_gpu.h"
#include "ops/reduce_gpu.h"

namespace mx {
namespace gpu {

namespace {
[[noreturn]] void no_cuda(const char *what, int dev) {
  fail(MX_ERR_UNSUPPORTED, what, ": gpu(", dev, ") is not available: ", unavailable_reason());
}
}  // namespace

bool compiled() { return false; }
int device_count() { return 0; }
const std::string &unavailable_reason() {
  static const std::string r =
      "this build of MX has no CUDA backend (it was built with MX_CUDA=OFF or without nvcc; "
      "`make deps` installs the CUDA toolchain and `make build` then compiles it)";
  return r;
}
void require_device(int id, const char *what) { no_cuda(what, id); }
void *alloc(int dev, size_t, size_t *) { no_cuda("allocating memory", dev); }
void release(int, void *, size_t) {}
void memory_info(int dev, size_t *, size_t *) { no_cuda("gpu_memory_info", dev); }
void pool_stats(int dev, size_t *, size_t *) { no_cuda("gpu memory pool statistics", dev); }
void empty_cache(int dev) { no_cuda("empty_cache", dev); }
void copy(void *, Device d, const void *, Device s, size_t) { no_cuda("copy", d.is_cpu() ? s.id : d.id); }
void fill(int dev, void *, const void *, size_t, size_t) { no_cuda("fill", dev); }
void synchronize(int) {}
void gemm(int dev, const char *op, bool, bool, int64_t, int64_t, int64_t, float, const float *, int64_t,
          const float *, int64_t, float, float *, int64_t) { no_cuda(op, dev); }
void gemm(int dev, const char *op, bool, bool, int64_t, int64_t, int64_t, double, const double *, int64_t,
          const double *, int64_t, double, double *, int64_t) { no_cuda(op, dev); }
void gemm_ex(int dev, const char *op, DType, bool, bool, int64_t, int64_t, int64_t, double, const void *, int64_t,
             int64_t, const void *, int64_t, int64_t, double, void *, int64_t, int64_t, int64_t) { no_cuda(op, dev); }
void convert(int dev, const char *op, const void *, DType, void *, DType, int64_t) { no_cuda(op, dev); }
void *compute_stream(int dev, const char *op) { no_cuda(op, dev); }
void check_launch(const char *) {}

}  // namespace gpu

namespace {
[[noreturn]] void no_cuda_kernel(const OpCall &c) {
  fail(MX_ERR_UNSUPPORTED, c.params.op->name, ": no GPU kernel: ", gpu::unavailable_reason());
}
}  // namespace

// No CUDA kernels: the element-wise ops stay CPU-only (ops/elemwise_gpu.h).
KernelFn gpu_binary_kernel(BinaryOp) { return KernelFn(); }
KernelFn gpu_scalar_kernel(BinaryOp, bool) { return KernelFn(); }
KernelFn gpu_binary_backward_kernel(BinaryOp) { return KernelFn(); }
KernelFn gpu_unary_kernel(UnaryOp) { return KernelFn(); }
KernelFn gpu_unary_backward_kernel(UnaryGradOp) { return KernelFn(); }
// Never registered without CUDA (cuda_only); defined for the linker.
void gpu_random_uniform(const OpCall &c, double, double) { no_cuda_kernel(c); }
void gpu_random_normal(const OpCall &c, double, double) { no_cuda_kernel(c); }
void gpu_random_exponential(const OpCall &c, double) { no_cuda_kernel(c); }
void gpu_random_randint(const OpCall &c, int64_t, uint64_t) { no_cuda_kernel(c); }
void gpu_reduce(ReduceOp, const NDArray &in, const NDArray &, const std::vector<bool> &, const char *op) {
  gpu::no_cuda(op, in.device().id);
}
void gpu_broadcast_copy(const NDArray &in, const NDArray &, const char *op) { gpu::no_cuda(op, in.device().id); }
#define MX_NO_GPU_KERNEL(name) \
  void gpu_##name(const OpCall &c) { no_cuda_kernel(c); }
MX_EACH_GPU_KERNELS(MX_NO_GPU_KERNEL)
MX_NORM_GPU_KERNELS(MX_NO_GPU_KERNEL)
#undef MX_NO_GPU_KERNEL
// sort / topk / Sequence* device kernels (ops/sort_kernels.h)
NDArray gpu_sort_positions(const OpCall &c, const NDArray &, sortk::LineGeom, int64_t, bool) { no_cuda_kernel(c); }
void gpu_gather_along(const OpCall &c, const NDArray &, const NDArray &, const NDArray &, sortk::LineGeom, int64_t) {
  no_cuda_kernel(c);
}
bool gpu_write_indices(const OpCall &c, const NDArray &, const NDArray &) { no_cuda_kernel(c); }
void gpu_scatter_along(const OpCall &c, const NDArray &, const NDArray &, const NDArray &, sortk::LineGeom, int64_t,
                       bool) {
  no_cuda_kernel(c);
}
void gpu_sequence(const OpCall &c, sortk::SeqKind, sortk::SeqGeom, const int64_t *, const NDArray &, const NDArray &,
                  const void *) {
  no_cuda_kernel(c);
}
void gpu_take_rows(const NDArray &, const NDArray &, const NDArray &out, int64_t, int64_t, int64_t, int64_t,
                   const char *op) {
  gpu::no_cuda(op, out.device().id);
}
void gpu_scatter_add_rows(const NDArray &, const NDArray &, const NDArray &grad, int64_t, int64_t, int64_t, int64_t,
                          const char *op) {
  gpu::no_cuda(op, grad.device().id);
}
void gpu_pick(const NDArray &, const NDArray &, const NDArray &out, int64_t, int64_t, int64_t, bool, const char *op) {
  gpu::no_cuda(op, out.device().id);
}
void gpu_one_hot(const NDArray &, const NDArray &out, int64_t, uint64_t, uint64_t, const char *op) {
  gpu::no_cuda(op, out.device().id);
}
void gpu_arg_extreme(const NDArray &, const NDArray &out, int64_t, int64_t, int64_t, bool, const char *op) {
  gpu::no_cuda(op, out.device().id);
}
void gpu_gather_maps(const NDArray &, const NDArray &dst, const std::vector<std::vector<int64_t>> &) {
  gpu::no_cuda("gather", dst.device().id);
}
void gpu_scatter_maps(const NDArray &, const NDArray &dst, const std::vector<std::vector<int64_t>> &, bool) {
  gpu::no_cuda("scatter", dst.device().id);
}
void gpu_zero(const NDArray &a) { gpu::no_cuda("zero", a.device().id); }
void gpu_copy_rows(int dev, void *, int64_t, const void *, int64_t, int64_t, int64_t) { gpu::no_cuda("copy rows", dev); }
void gpu_param_unary(ParamUnary, const NDArray &, const NDArray &out, double, double) {
  gpu::no_cuda("element op", out.device().id);
}
void gpu_param_unary_backward(ParamUnary, const NDArray &, const NDArray &, const NDArray &out, double, double) {
  gpu::no_cuda("element op backward", out.device().id);
}
void gpu_where(const NDArray &, const NDArray &, const NDArray *, const NDArray &out, bool) {
  gpu::no_cuda("where", out.device().id);
}
void gpu_add_n(const std::vector<NDArray> &, const NDArray &out) { gpu::no_cuda("add_n", out.device().id); }
void gpu_update(UpdateRule, const UpdCoef<double> &, const NDArray &, const NDArray &, const NDArray &out,
                const std::vector<NDArray> &, const char *op) {
  gpu::no_cuda(op, out.device().id);
}
void gpu_update_mp(UpdateRule, const UpdCoef<double> &, const NDArray &, const NDArray &out, const NDArray &,
                   const std::vector<NDArray> &, const char *op) {
  gpu::no_cuda(op, out.device().id);
}
template <bool MP, typename W, typename S>
void gpu_update_multi(UpdateRule, const UpdCoef<double> &, const MultiTable<W, S> &, int device, const char *op) {
  gpu::no_cuda(op, device);
}
MX_GPU_UPDATE_MULTI_TYPES(MX_GPU_UPDATE_MULTI_INSTANCE)
template <typename R>
void gpu_update_multi_lowp(UpdateRule, const UpdCoef<double> &, const MultiTable<R, R> &, int device, const char *op) {
  gpu::no_cuda(op, device);
}
MX_GPU_UPDATE_MULTI_LOWP_INSTANCE(hd_half)
MX_GPU_UPDATE_MULTI_LOWP_INSTANCE(hd_bf16)
template <typename T, typename G>
void gpu_lamb_phase1(const LambCoef<T> &, int64_t, const T *, const G *, T *, T *, T *, int device, const char *op) {
  gpu::no_cuda(op, device);
}
template <typename T, typename O>
void gpu_lamb_phase2(T, T, T, bool, int64_t, const T *, const T *, const T *, const T *, O *, int device, const char *op) {
  gpu::no_cuda(op, device);
}
MX_GPU_LAMB_TYPES(MX_GPU_LAMB_INSTANCE)
// cuDNN kernels (backends/cudnn.h): never registered without CUDA; defined for the linker.
namespace cudnn {
void conv_forward(const char *op, const ConvSpec &, const NDArray &x, const NDArray &, const NDArray *,
                  const NDArray &) { gpu::no_cuda(op, x.device().id); }
void conv_backward(const char *op, const ConvSpec &, const NDArray &, const NDArray &x, const NDArray &,
                   const NDArray *, const NDArray &, const NDArray *) { gpu::no_cuda(op, x.device().id); }
void deconv_forward(const char *op, const ConvSpec &, const NDArray &x, const NDArray &, const NDArray *,
                    const NDArray &) { gpu::no_cuda(op, x.device().id); }
void deconv_backward(const char *op, const ConvSpec &, const NDArray &, const NDArray &x, const NDArray &,
                     const NDArray *, const NDArray &, const NDArray *) { gpu::no_cuda(op, x.device().id); }
bool pool_supported(const PoolSpec &, std::string *why) {
  *why = gpu::unavailable_reason();
  return false;
}
void pool_forward(const char *op, const PoolSpec &, const NDArray &x, const NDArray &) { gpu::no_cuda(op, x.device().id); }
void pool_backward(const char *op, const PoolSpec &, const NDArray &, const NDArray &x, const NDArray &,
                   const NDArray &) { gpu::no_cuda(op, x.device().id); }
void batch_norm_forward(const char *op, const BatchNormSpec &, const NDArray &x, const NDArray &, const NDArray &,
                        const NDArray &, const NDArray &, const NDArray &, const NDArray &, const NDArray &,
                        const NDArray &) { gpu::no_cuda(op, x.device().id); }
void batch_norm_backward(const char *op, const BatchNormSpec &, const NDArray &, const NDArray &x, const NDArray &,
                         const NDArray &, const NDArray &, const NDArray &, const NDArray &, const NDArray &) {
  gpu::no_cuda(op, x.device().id);
}
// cuDNN RNN (backends/cudnn_rnn.h)
void rnn_forward(const char *op, const RNNSpec &, const NDArray &x, const NDArray &, const NDArray &, const NDArray *,
                 const NDArray &, const NDArray &, const NDArray *, const NDArray &) {
  gpu::no_cuda(op, x.device().id);
}
void rnn_backward(const char *op, const RNNSpec &, const NDArray &x, const NDArray &, const NDArray &,
                  const NDArray *, const NDArray &, const NDArray *, const NDArray *, const NDArray &,
                  const NDArray &, const NDArray &, const NDArray *, const NDArray &, const NDArray &) {
  gpu::no_cuda(op, x.device().id);
}
}  // namespace cudnn
}  // namespace mx
#endif  // MX_HAVE_CUDA
