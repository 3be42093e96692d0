// Handles, status checks and descriptors shared by the cuDNN kernels (cudnn_common.h).
#ifdef MX_HAVE_CUDA
#include "backends/cuda/cudnn_common.h"

#include <cuda_runtime_api.h>

#include <climits>
#include <memory>

#include "backends/gpu.h"
#include "base/error.h"

namespace mx {
namespace cudnn {

const Api &api(const char *op) {
  const Library &lib = library();
  if (!lib.error.empty()) fail(MX_ERR_UNSUPPORTED, op, " on the GPU needs cuDNN: ", lib.error);
  return lib.api;
}

void check(Status st, const char *op, const char *call) {
  if (st == kSuccess) return;
  const Library &lib = library();
  const char *msg = lib.error.empty() && lib.api.GetErrorString ? lib.api.GetErrorString(st) : "";
  const bool oom = st == kHostAllocFailed || st == kDeviceAllocFailed;
  fail(oom ? MX_ERR_OUT_OF_MEMORY : st == kNotSupported ? MX_ERR_UNSUPPORTED : MX_ERR_INTERNAL, op, ": cuDNN ", call,
       " failed: ", msg, " (status ", st, ")");
}

namespace {
struct DeviceHandle {
  std::mutex mu;
  Handle h = nullptr;
};
std::mutex g_mu;
std::vector<std::unique_ptr<DeviceHandle>> g_handles;  // per device, never destroyed (process lifetime)
}  // namespace

HandleLease handle_for(int dev, const char *op) {
  const Api &a = api(op);
  void *stream = gpu::compute_stream(dev, op);  // also selects the device
  DeviceHandle *dh;
  {
    std::lock_guard<std::mutex> g(g_mu);
    if (g_handles.size() <= static_cast<size_t>(dev)) g_handles.resize(static_cast<size_t>(dev) + 1);
    if (!g_handles[static_cast<size_t>(dev)]) g_handles[static_cast<size_t>(dev)] = std::make_unique<DeviceHandle>();
    dh = g_handles[static_cast<size_t>(dev)].get();
  }
  std::unique_lock<std::mutex> lock(dh->mu);
  if (!dh->h) check(a.Create(&dh->h), op, "cudnnCreate");
  check(a.SetStream(dh->h, stream), op, "cudnnSetStream");
  return HandleLease{dh->h, std::move(lock)};
}

int data_type(DType t, const char *op) {
  switch (t) {
    case DType::f32: return kFloat;
    case DType::f64: return kDouble;
    case DType::f16: return kHalf;
    case DType::bf16: return kBfloat16;  // (require_dtype checks the device first)
    default: fail(MX_ERR_TYPE, op, ": cuDNN has no kernel for dtype ", dtype_name(t));
  }
}

void require_dtype(DType t, int dev, const char *op) {
  if (t != DType::bf16) return;
  int major = 0, minor = 0;
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev);
  MX_CHECK(major >= 8, MX_ERR_UNSUPPORTED, op, ": bfloat16 on cuDNN needs a GPU of compute capability 8.0 or newer "
           "(sm_80+); gpu(", dev, ") is sm_", major, minor, ": cast the data to float16 or float32");
  const size_t v = api(op).GetVersion();
  MX_CHECK(v >= 8100, MX_ERR_UNSUPPORTED, op, ": bfloat16 needs cuDNN 8.1 or newer; the loaded cuDNN is version ", v,
           ": cast the data to float16 or float32");
}

std::vector<int> to_int(const std::vector<int64_t> &v, const char *op) {
  std::vector<int> r;
  for (int64_t x : v) {
    MX_CHECK(x >= 0 && x <= INT_MAX, MX_ERR_UNSUPPORTED, op, ": dimension ", x, " is too large for cuDNN (at most ",
             INT_MAX, ")");
    r.push_back(static_cast<int>(x));
  }
  return r;
}

Tensor::Tensor(const char *op, DType t, const std::vector<int64_t> &dims) {
  const Api &a = api(op);
  std::vector<int> d = to_int(dims, op), st(d.size());
  int64_t stride = 1;
  for (size_t i = d.size(); i-- > 0;) {
    MX_CHECK(stride <= INT_MAX, MX_ERR_UNSUPPORTED, op, ": a tensor of shape ", Shape(dims).str(),
             " is too large for cuDNN's descriptors (strides up to ", INT_MAX, ")");
    st[i] = static_cast<int>(stride);
    stride *= std::max<int64_t>(dims[i], 1);
  }
  const int dt = data_type(t, op);
  check(a.CreateTensorDescriptor(&d_), op, "cudnnCreateTensorDescriptor");
  const Status set = a.SetTensorNdDescriptor(d_, dt, static_cast<int>(d.size()), d.data(), st.data());
  if (set != kSuccess) {  // the constructor throws: no destructor runs
    a.DestroyTensorDescriptor(d_);
    check(set, op, "cudnnSetTensorNdDescriptor");
  }
}
Tensor::~Tensor() {
  if (d_) library().api.DestroyTensorDescriptor(d_);
}

Filter::Filter(const char *op, DType t, const std::vector<int64_t> &dims) {
  const Api &a = api(op);
  std::vector<int> d = to_int(dims, op);
  const int dt = data_type(t, op);
  check(a.CreateFilterDescriptor(&d_), op, "cudnnCreateFilterDescriptor");
  const Status set = a.SetFilterNdDescriptor(d_, dt, kNCHW, static_cast<int>(d.size()), d.data());
  if (set != kSuccess) {
    a.DestroyFilterDescriptor(d_);
    check(set, op, "cudnnSetFilterNdDescriptor");
  }
}
Filter::~Filter() {
  if (d_) library().api.DestroyFilterDescriptor(d_);
}

}  // namespace cudnn
}  // namespace mx
#endif  // MX_HAVE_CUDA
