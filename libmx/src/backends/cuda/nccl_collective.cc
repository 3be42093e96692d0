// The NCCL collective for GPU arrays of a distributed kvstore (kvstore/collective.h). One
// communicator per device and process; rank 0's unique id reaches the others over MPI (the host
// collective, whose calls have a deadline). Every data call is enqueued on the device's compute
// stream, so it follows the kernels that wrote the buffers, and is then waited for by polling an
// event: between polls ncclCommGetAsyncError reports failures (a dead peer: ncclRemoteError) and
// the deadline catches a peer that never joins, so a broken job ends with an error, never a hang.
#ifdef MX_HAVE_CUDA
#include <cuda_runtime_api.h>
#include <sched.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

#include "backends/gpu.h"
#include "base/error.h"
#include "kvstore/collective.h"
#include "kvstore/nccl_lib.h"

namespace mx {
namespace {

double env_timeout() {
  const char *s = std::getenv("MX_KVSTORE_TIMEOUT");
  if (s && *s) {
    char *end = nullptr;
    double v = std::strtod(s, &end);
    if (end != s && v > 0) return v;
  }
  return 300.0;
}

int nccl_type(DType t, const std::string &what) {
  switch (t) {
    case DType::f16: return NcclLib::kFloat16;
    case DType::bf16: return NcclLib::kBfloat16;
    case DType::f32: return NcclLib::kFloat32;
    case DType::f64: return NcclLib::kFloat64;
    case DType::i8: return NcclLib::kInt8;
    case DType::u8: return NcclLib::kUint8;
    case DType::i32: return NcclLib::kInt32;
    case DType::i64: return NcclLib::kInt64;
    default:
      fail(MX_ERR_TYPE, "kvstore: ", what, ": dtype ", dtype_name(t),
           " cannot be reduced with NCCL (float16/32/64, bfloat16, int8/32/64 and uint8 can)");
  }
}

class NcclCollective : public Collective {
 public:
  NcclCollective(int dev, std::shared_ptr<Collective> host)
      : n_(nccl_lib()), dev_(dev), host_(std::move(host)), timeout_(env_timeout()) {
    gpu::require_device(dev, "kvstore (NCCL)");
    NcclLib::UniqueId id{};
    const std::string what = "kvstore: NCCL setup on gpu(" + std::to_string(dev) + ")";
    // Rank 0 makes the id; a failure there must reach the others, or they would wait in init.
    int64_t bad[1] = {0};
    if (host_->rank() == 0) {
      int r = n_.GetUniqueId(&id);
      if (r != NcclLib::kSuccess) bad[0] = r;
    }
    host_->allreduce_max_i64(bad, 1, what + " (unique id)");
    MX_CHECK(bad[0] == 0, MX_ERR_IO, what, ": ncclGetUniqueId failed on rank 0: ",
             n_.error_text(static_cast<int>(bad[0])));
    host_->broadcast(&id, sizeof id, 0, what + " (unique id)");
    gpu::compute_stream(dev, "kvstore (NCCL)");  // makes gpu(dev) current for the communicator
    // Blocking, but every worker just answered the broadcast above, so all are here.
    int r = n_.CommInitRank(&comm_, host_->size(), id, host_->rank());
    MX_CHECK(r == NcclLib::kSuccess, MX_ERR_IO, what, ": ncclCommInitRank (rank ", host_->rank(), " of ",
             host_->size(), ") failed: ", n_.error_text(r),
             " (each worker needs its own GPU: one process per device)");
    check_cuda(cudaEventCreateWithFlags(&done_, cudaEventDisableTiming), "event creation");
  }
  // Communicators live as long as the process (nccl_device_collective keeps them): destroying
  // them during static destruction could race the CUDA runtime's own teardown.
  ~NcclCollective() override = default;

  int rank() const override { return host_->rank(); }
  int size() const override { return host_->size(); }
  const char *backend() const override { return "nccl"; }
  void set_timeout(double s) override { timeout_ = s; }
  uint64_t payload_bytes() const override { return payload_; }

  void allreduce_sum(void *buf, int64_t count, DType dtype, const std::string &what) override {
    allreduce_sum_many({Buffer{buf, count, dtype}}, {what});
  }

  void allreduce_sum_many(const std::vector<Buffer> &bufs, const std::vector<std::string> &what) override {
    if (bufs.empty()) return;
    std::lock_guard<std::mutex> lock(mu_);
    const std::string &name = what.front();
    usable(name);
    std::vector<int> types;
    for (size_t i = 0; i < bufs.size(); ++i) types.push_back(nccl_type(bufs[i].dtype, what[i]));
    void *st = gpu::compute_stream(dev_, "kvstore allreduce (NCCL)");
    check(n_.GroupStart(), "ncclGroupStart", name);
    for (size_t i = 0; i < bufs.size(); ++i) {
      payload_ += static_cast<uint64_t>(bufs[i].count) * dtype_size(bufs[i].dtype);
      int r = n_.AllReduce(bufs[i].buf, bufs[i].buf, static_cast<size_t>(bufs[i].count), types[i], NcclLib::kSum,
                           comm_, st);
      if (r != NcclLib::kSuccess) {
        n_.GroupEnd();
        check(r, "ncclAllReduce", what[i]);
      }
    }
    check(n_.GroupEnd(), "ncclGroupEnd", name);
    wait(st, name);
  }

  void broadcast(void *buf, size_t nbytes, int root, const std::string &what) override {
    if (nbytes == 0) return;
    std::lock_guard<std::mutex> lock(mu_);
    usable(what);
    void *st = gpu::compute_stream(dev_, "kvstore broadcast (NCCL)");
    check(n_.Broadcast(buf, buf, nbytes, NcclLib::kUint8, root, comm_, st), "ncclBroadcast", what);
    wait(st, what);
  }

  // Metadata lives in host memory: the host (MPI) collective carries it.
  void allreduce_max_i64(int64_t *buf, int64_t count, const std::string &what) override {
    host_->allreduce_max_i64(buf, count, what);
  }
  void allgather_bytes(const void *send, size_t bytes, void *recv, const std::string &what) override {
    host_->allgather_bytes(send, bytes, recv, what);
  }
  void barrier(const std::string &what) override { host_->barrier(what); }

 private:
  void usable(const std::string &what) const {
    MX_CHECK(!broken_, MX_ERR_IO, "kvstore: ", what, ": an earlier NCCL collective on gpu(", dev_,
             ") failed (a worker died or timed out); the job cannot continue");
  }
  void check_cuda(cudaError_t e, const char *what) {
    if (e != cudaSuccess)
      fail(MX_ERR_INTERNAL, "kvstore (NCCL) on gpu(", dev_, "): ", what, " failed: ", cudaGetErrorString(e));
  }
  [[noreturn]] void broken(const std::string &msg) {
    broken_ = true;
    n_.CommAbort(comm_);  // frees the peers' and our kernels waiting on this communicator
    fail(MX_ERR_IO, msg);
  }
  void check(int r, const char *call, const std::string &what) {
    if (r == NcclLib::kSuccess || r == NcclLib::kInProgress) return;
    broken("kvstore: " + std::string(call) + " failed during " + what + " on rank " + std::to_string(rank()) +
           " (gpu(" + std::to_string(dev_) + ")): " + n_.error_text(r));
  }
  // Until the enqueued work is done: poll the event, the communicator's asynchronous error, and
  // the deadline (a peer that died or never called).
  void wait(void *stream, const std::string &what) {
    check_cuda(cudaEventRecord(done_, static_cast<cudaStream_t>(stream)), "event record");
    auto t0 = std::chrono::steady_clock::now();
    for (unsigned it = 0;; ++it) {
      cudaError_t e = cudaEventQuery(done_);
      if (e == cudaSuccess) return;
      if (e != cudaErrorNotReady)
        broken("kvstore: " + what + " on rank " + std::to_string(rank()) + ": the GPU reported " +
               cudaGetErrorString(e) + " while NCCL ran");
      int async = NcclLib::kSuccess;
      n_.CommGetAsyncError(comm_, &async);
      if (async != NcclLib::kSuccess && async != NcclLib::kInProgress)
        broken("kvstore: " + what + " on rank " + std::to_string(rank()) + " of " + std::to_string(size()) +
               ": NCCL failed: " + n_.error_text(async) + " (a worker died or lost its connection)");
      if ((it & 63) == 63) {
        double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (waited > timeout_)
          broken("kvstore: " + what + " on rank " + std::to_string(rank()) + " of " + std::to_string(size()) +
                 ": no answer from the other workers after " + std::to_string(timeout_) +
                 " s (a worker died, hangs, or runs different code; MX_KVSTORE_TIMEOUT sets the limit)");
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      } else {
        sched_yield();
      }
    }
  }

  const NcclLib &n_;
  int dev_;
  std::shared_ptr<Collective> host_;
  double timeout_;
  NcclLib::Comm comm_ = nullptr;
  cudaEvent_t done_ = nullptr;
  std::mutex mu_;
  bool broken_ = false;
  uint64_t payload_ = 0;
};

}  // namespace

std::shared_ptr<Collective> nccl_device_collective(int dev, std::shared_ptr<Collective> host) {
  static std::mutex mu;
  // Per device, for the process's life (never destroyed: see ~NcclCollective).
  static auto *comms = new std::map<int, std::shared_ptr<Collective>>();
  std::lock_guard<std::mutex> lock(mu);
  auto it = comms->find(dev);
  if (it != comms->end()) return it->second;
  auto c = std::make_shared<NcclCollective>(dev, std::move(host));
  (*comms)[dev] = c;
  return c;
}

}  // namespace mx
#endif  // MX_HAVE_CUDA
