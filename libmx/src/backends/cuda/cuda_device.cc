// The CUDA backend's host side: probing, per-device streams and pools, copies, synchronisation.
// Compiled by the host compiler against the CUDA runtime headers; the runtime is linked
// statically (libcudart_static), which opens the driver (libcuda.so.1) at run time, so libmx
// loads on machines without a driver and reports why no GPU is usable.
#ifdef MX_HAVE_CUDA
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "backends/cuda/caching_allocator.h"
#include "backends/gpu.h"
#include "base/error.h"

namespace mx {
namespace gpu {

namespace {

std::string version_str(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }
std::string err_str(cudaError_t e) { return std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")"; }

struct Probe {
  int count = 0;
  std::string reason;
};

const Probe &probe() {
  static const Probe p = [] {
    Probe r;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaSuccess && n > 0) {
      r.count = n;
      return r;
    }
    cudaGetLastError();  // the runtime keeps the last error; clear it
    int rt = 0;
    cudaRuntimeGetVersion(&rt);
    if (e == cudaErrorInsufficientDriver) {
      void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
      if (!h) {
        r.reason = "no NVIDIA driver: libcuda.so.1 could not be loaded (MX was built with CUDA " +
                   version_str(rt) + "; install the NVIDIA driver to use a GPU)";
      } else {
        int dv = 0;
        cudaDriverGetVersion(&dv);
        dlclose(h);
        r.reason = "the NVIDIA driver supports CUDA " + version_str(dv) + " but MX was built with CUDA " +
                   version_str(rt) + " (update the driver)";
      }
    } else if (e == cudaErrorNoDevice || e == cudaSuccess) {
      r.reason = "no CUDA-capable GPU is present (the NVIDIA driver is loaded; check CUDA_VISIBLE_DEVICES)";
    } else {
      r.reason = "the CUDA runtime could not initialise: " + err_str(e);
    }
    return r;
  }();
  return p;
}

// cudaMalloc/cudaFree for one device's pool.
class CudaMemory : public RawMemory {
 public:
  explicit CudaMemory(int dev) : dev_(dev) {}
  void *allocate(size_t bytes) override {
    cudaSetDevice(dev_);
    void *p = nullptr;
    if (cudaMalloc(&p, bytes) != cudaSuccess) {
      cudaGetLastError();  // out of memory is not sticky; clear it
      return nullptr;
    }
    return p;
  }
  void deallocate(void *p, size_t) override {
    cudaSetDevice(dev_);
    cudaFree(p);
  }

 private:
  int dev_;
};

struct DeviceState {
  explicit DeviceState(int d) : dev(d), raw(d), pool(&raw) {}
  int dev;
  CudaMemory raw;
  CachingAllocator pool;
  cudaStream_t compute = nullptr, copy = nullptr;
  cudaEvent_t compute_done = nullptr, copy_done = nullptr;
  std::mutex fence_mu;                  // the event fences between the two streams
  std::atomic<const char *> last_op{""};  // op names are static strings of the registry
};

constexpr int kMaxDevices = 64;
std::array<std::atomic<DeviceState *>, kMaxDevices> g_devices{};
std::mutex g_init_mu;

void check(cudaError_t e, int dev, const char *what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();
  DeviceState *s = dev >= 0 && dev < kMaxDevices ? g_devices[static_cast<size_t>(dev)].load() : nullptr;
  const char *op = s ? s->last_op.load() : "";
  fail(e == cudaErrorMemoryAllocation ? MX_ERR_OUT_OF_MEMORY : MX_ERR_INTERNAL, what, " on gpu(", dev,
       ") failed: ", err_str(e),
       (op && *op) ? std::string("; the last op launched there was '") + op + "'" : std::string());
}

// The device's state, created on first use (streams are non-blocking: they never wait for the
// legacy default stream, which MX does not use).
DeviceState &state(int dev, const char *what) {
  require_device(dev, what);
  DeviceState *s = g_devices[static_cast<size_t>(dev)].load(std::memory_order_acquire);
  if (s) return *s;
  std::lock_guard<std::mutex> g(g_init_mu);
  s = g_devices[static_cast<size_t>(dev)].load();
  if (s) return *s;
  check(cudaSetDevice(dev), dev, what);
  auto *ns = new DeviceState(dev);  // never destroyed: storages may be freed at exit
  check(cudaStreamCreateWithFlags(&ns->compute, cudaStreamNonBlocking), dev, "creating the compute stream");
  check(cudaStreamCreateWithFlags(&ns->copy, cudaStreamNonBlocking), dev, "creating the copy stream");
  check(cudaEventCreateWithFlags(&ns->compute_done, cudaEventDisableTiming), dev, "creating an event");
  check(cudaEventCreateWithFlags(&ns->copy_done, cudaEventDisableTiming), dev, "creating an event");
  g_devices[static_cast<size_t>(dev)].store(ns, std::memory_order_release);
  return *ns;
}

// Runs `issue` on the copy stream after everything queued on the compute stream, and makes the
// compute stream wait for it: memory reused by the pool is never touched out of order.
template <typename F> void on_copy_stream(DeviceState &s, const char *what, F issue) {
  std::lock_guard<std::mutex> g(s.fence_mu);
  check(cudaSetDevice(s.dev), s.dev, what);
  check(cudaEventRecord(s.compute_done, s.compute), s.dev, what);
  check(cudaStreamWaitEvent(s.copy, s.compute_done, 0), s.dev, what);
  check(issue(s.copy), s.dev, what);
  check(cudaEventRecord(s.copy_done, s.copy), s.dev, what);
  check(cudaStreamWaitEvent(s.compute, s.copy_done, 0), s.dev, what);
}

void sync_one(DeviceState &s) {
  check(cudaSetDevice(s.dev), s.dev, "synchronising");
  check(cudaStreamSynchronize(s.compute), s.dev, "a GPU kernel");
  check(cudaStreamSynchronize(s.copy), s.dev, "a GPU copy");
}

}  // namespace

bool compiled() { return true; }
int device_count() { return probe().count; }
const std::string &unavailable_reason() { return probe().reason; }

void require_device(int id, const char *what) {
  const Probe &p = probe();
  if (p.count == 0) fail(MX_ERR_UNSUPPORTED, what, ": gpu(", id, ") is not available: ", p.reason);
  MX_CHECK(id >= 0 && id < p.count && id < kMaxDevices, MX_ERR_UNSUPPORTED, what, ": gpu(", id,
           ") does not exist (", p.count, " usable GPU", p.count == 1 ? "" : "s", ": ids 0..", p.count - 1, ")");
}

void *alloc(int dev, size_t bytes, size_t *out_capacity) {
  DeviceState &s = state(dev, "allocating GPU memory");
  void *p = s.pool.allocate(bytes, out_capacity);
  if (!p) {
    PoolStats st = s.pool.stats();
    size_t fr = 0, tot = 0;
    cudaSetDevice(dev);
    cudaMemGetInfo(&fr, &tot);
    fail(MX_ERR_OUT_OF_MEMORY, "out of memory: cannot allocate ", bytes, " bytes on gpu(", dev, ") (",
         st.allocated, " bytes in use by MX arrays, ", st.reserved, " reserved by its pool; the device has ",
         fr, " of ", tot, " bytes free)");
  }
  return p;
}

void release(int dev, void *ptr, size_t) {
  DeviceState *s = dev >= 0 && dev < kMaxDevices ? g_devices[static_cast<size_t>(dev)].load() : nullptr;
  if (s) s->pool.deallocate(ptr);
}

void memory_info(int dev, size_t *free_bytes, size_t *total_bytes) {
  state(dev, "gpu_memory_info");
  check(cudaSetDevice(dev), dev, "gpu_memory_info");
  check(cudaMemGetInfo(free_bytes, total_bytes), dev, "gpu_memory_info");
}

void pool_stats(int dev, size_t *allocated, size_t *reserved) {
  PoolStats st = state(dev, "gpu memory pool statistics").pool.stats();
  *allocated = st.allocated;
  *reserved = st.reserved;
}

void empty_cache(int dev) {
  DeviceState &s = state(dev, "empty_cache");
  sync_one(s);
  s.pool.empty_cache();
}

void copy(void *dst, Device dd, const void *src, Device sd, size_t bytes) {
  if (bytes == 0) return;
  const bool dg = !dd.is_cpu(), sg = !sd.is_cpu();
  if (dg && !sg) {  // host to device: the pageable source is staged before the call returns
    DeviceState &s = state(dd.id, "copy to gpu");
    on_copy_stream(s, "copy to gpu", [&](cudaStream_t st) {
      return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, st);
    });
  } else if (sg && !dg) {  // device to host: waits for the producing kernels, then the copy
    DeviceState &s = state(sd.id, "copy from gpu");
    on_copy_stream(s, "copy from gpu", [&](cudaStream_t st) {
      return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, st);
    });
    check(cudaStreamSynchronize(s.copy), sd.id, "copy from gpu (or a kernel before it)");
  } else if (dd.id == sd.id) {
    DeviceState &s = state(dd.id, "copy on gpu");
    check(cudaSetDevice(dd.id), dd.id, "copy on gpu");
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s.compute), dd.id, "copy on gpu");
  } else {  // between GPUs: both sides settled, then a peer copy (through the host if need be)
    DeviceState &a = state(sd.id, "copy between gpus"), &b = state(dd.id, "copy between gpus");
    sync_one(a);
    sync_one(b);
    check(cudaMemcpyPeer(dst, dd.id, src, sd.id, bytes), dd.id, "copy between gpus");
  }
}

void fill(int dev, void *dst, const void *value, size_t elem, size_t n) {
  if (n == 0) return;
  DeviceState &s = state(dev, "fill");
  check(cudaSetDevice(dev), dev, "fill");
  bool zero = true;
  for (size_t i = 0; i < elem; ++i) zero = zero && static_cast<const unsigned char *>(value)[i] == 0;
  if (zero) {
    check(cudaMemsetAsync(dst, 0, elem * n, s.compute), dev, "fill");
    return;
  }
  // Other patterns: built on the host and copied (creation ops are not on hot paths).
  std::vector<unsigned char> host(elem * n);
  for (size_t i = 0; i < n; ++i) std::memcpy(host.data() + i * elem, value, elem);
  copy(dst, Device{MX_GPU, dev}, host.data(), Device{MX_CPU, 0}, host.size());
}

void synchronize(int dev) {
  if (dev >= 0) {
    DeviceState *s = dev < kMaxDevices ? g_devices[static_cast<size_t>(dev)].load() : nullptr;
    if (s) sync_one(*s);
    return;
  }
  for (auto &p : g_devices)
    if (DeviceState *s = p.load()) sync_one(*s);
}

void *compute_stream(int dev, const char *op) {
  DeviceState &s = state(dev, op);
  check(cudaSetDevice(dev), dev, op);
  s.last_op.store(op);
  return s.compute;
}

void check_launch(const char *op) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) fail(MX_ERR_INTERNAL, op, ": launching its GPU kernel failed: ", err_str(e));
}

}  // namespace gpu
}  // namespace mx
#endif  // MX_HAVE_CUDA
