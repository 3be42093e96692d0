// MPI collectives over MPI_COMM_WORLD. Every call is non-blocking (MPI_I*) and completed by
// polling MPI_Test against a deadline, so a dead or stuck worker turns into a clear error after
// the timeout instead of a hang; MPI's error handler is set to return codes (never abort).
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "base/error.h"
#include "kvstore/collective.h"
#include "kvstore/mpi_lib.h"
#include "ndarray/ndarray.h"

namespace mx {
namespace {

constexpr int kThreadSerialized = 2;  // MPI_THREAD_SERIALIZED: calls are serialised by mu_
constexpr double kDefaultTimeout = 300.0;

double env_timeout() {
  const char *s = std::getenv("MX_KVSTORE_TIMEOUT");
  if (s && *s) {
    char *end = nullptr;
    double v = std::strtod(s, &end);
    if (end != s && v > 0) return v;
  }
  return kDefaultTimeout;
}

class MpiCollective : public Collective {
 public:
  MpiCollective() : m_(mpi_lib()), timeout_(env_timeout()) {
    int inited = 0;
    check(m_.Initialized(&inited), "MPI_Initialized", "startup");
    if (!inited) {
      int provided = 0;
      check(m_.Init_thread(nullptr, nullptr, kThreadSerialized, &provided), "MPI_Init_thread",
            "startup");
      we_initialised_ = true;
    }
    check(m_.Comm_set_errhandler(m_.comm_world, m_.errors_return), "MPI_Comm_set_errhandler",
          "startup");
    check(m_.Comm_rank(m_.comm_world, &rank_), "MPI_Comm_rank", "startup");
    check(m_.Comm_size(m_.comm_world, &size_), "MPI_Comm_size", "startup");
  }
  // At process exit: finalise MPI if MX started it and the job is healthy (a failed collective
  // leaves peers in an unknown state; finalising then could block).
  ~MpiCollective() override {
    if (!we_initialised_ || broken_) return;
    int fin = 0;
    if (m_.Finalized(&fin) == 0 && !fin) m_.Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char *backend() const override { return "mpi"; }
  void set_timeout(double s) override { timeout_ = s; }

  void allreduce_sum(void *buf, int64_t count, DType dtype, const std::string &what) override {
    if (size_ == 1 || count == 0) return;
    if (dtype == DType::f16 || dtype == DType::bf16) {
      // MPI has no half type: reduce in float32 and convert back.
      std::vector<float> tmp(static_cast<size_t>(count));
      convert_buffer(buf, dtype, tmp.data(), DType::f32, count);
      allreduce_sum(tmp.data(), count, DType::f32, what);
      convert_buffer(tmp.data(), DType::f32, buf, dtype, count);
      return;
    }
    void *type = mpi_type(dtype, what);
    size_t isz = dtype_size(dtype);
    // Data goes through the blocking MPI_Allreduce: Open MPI's tuned blocking algorithms are
    // several times faster than its non-blocking (libnbc) ones for large buffers. The KVStore
    // runs a non-blocking, deadline-checked consistency check just before, in the same call, so
    // a worker that hangs or runs other code is still caught by the timeout; a worker that dies
    // during the reduction is reported by MPI (errors return) or mpirun ends the job.
    std::lock_guard<std::mutex> lock(mu_);
    MX_CHECK(!broken_, MX_ERR_IO, "kvstore: ", what, ": an earlier collective of this job failed "
             "(a worker died or timed out); the job cannot continue");
    payload_ += static_cast<uint64_t>(count) * isz;
    for (int64_t off = 0; off < count; off += kChunk) {
      int n = static_cast<int>(std::min<int64_t>(kChunk, count - off));
      check(m_.Allreduce(kInPlace, static_cast<char *>(buf) + off * isz, n, type, m_.op_sum,
                         m_.comm_world), "MPI_Allreduce", what);
    }
  }

  void allgather_bytes(const void *send, size_t bytes, void *recv, const std::string &what) override {
    if (size_ == 1) {
      if (bytes) std::memcpy(recv, send, bytes);
      return;
    }
    // One call: MPI counts are int, and the caller sends compressed data far below that.
    MX_CHECK(bytes <= static_cast<size_t>(kChunk), MX_ERR_INTERNAL, "kvstore: ", what, ": ", bytes,
             " bytes per worker are too many for one MPI_Allgather");
    std::lock_guard<std::mutex> lock(mu_);
    MX_CHECK(!broken_, MX_ERR_IO, "kvstore: ", what, ": an earlier collective of this job failed "
             "(a worker died or timed out); the job cannot continue");
    payload_ += bytes;
    check(m_.Allgather(send, static_cast<int>(bytes), m_.t_byte, recv, static_cast<int>(bytes), m_.t_byte,
                       m_.comm_world), "MPI_Allgather", what);
  }

  uint64_t payload_bytes() const override { return payload_; }

  void allreduce_max_i64(int64_t *buf, int64_t count, const std::string &what) override {
    if (size_ == 1 || count == 0) return;
    MX_CHECK(count < kChunk, MX_ERR_INTERNAL, "kvstore: metadata vector too long");
    if (size_ <= kRingMax) {
      ring_max(buf, count, what);
      return;
    }
    run(what, "MPI_Iallreduce", [&](void **req) {
      return m_.Iallreduce(kInPlace, buf, static_cast<int>(count), m_.t_int64, m_.op_max,
                           m_.comm_world, req);
    });
  }

  void broadcast(void *buf, size_t nbytes, int root, const std::string &what) override {
    if (size_ == 1 || nbytes == 0) return;
    for (size_t off = 0; off < nbytes; off += kChunk) {
      int n = static_cast<int>(std::min<size_t>(kChunk, nbytes - off));
      run(what, "MPI_Ibcast", [&](void **req) {
        return m_.Ibcast(static_cast<char *>(buf) + off, n, m_.t_byte, root, m_.comm_world, req);
      });
    }
  }

  void barrier(const std::string &what) override {
    if (size_ == 1) return;
    run(what, "MPI_Ibarrier", [&](void **req) { return m_.Ibarrier(m_.comm_world, req); });
  }

 private:
  static constexpr int64_t kChunk = INT_MAX / 2;  // MPI counts are int
  // The per-call consistency check (a few int64s) of small jobs goes around a ring of
  // point-to-point messages: size-1 hops of ~2 us each in shared memory, where Open MPI's
  // non-blocking MPI_Iallreduce (libnbc: a schedule built per call) took several times that.
  static constexpr int kRingMax = 8;
  static constexpr int kRingTag = 0x6d78;  // only these messages use point-to-point

  // Element-wise max over the workers: each hop sends what this worker knows to the next rank
  // and folds in what the previous one sent; after size-1 hops every worker has seen every value.
  // MPI keeps messages of one (source, tag) in order, so consecutive checks cannot mix.
  void ring_max(int64_t *buf, int64_t count, const std::string &what) {
    std::lock_guard<std::mutex> lock(mu_);
    MX_CHECK(!broken_, MX_ERR_IO, "kvstore: ", what, ": an earlier collective of this job failed "
             "(a worker died or timed out); the job cannot continue");
    const int next = (rank_ + 1) % size_, prev = (rank_ + size_ - 1) % size_;
    // Members, not locals: after a timeout a posted receive may still land (the job is broken,
    // but the memory must stay valid).
    std::vector<int64_t> &send = ring_send_, &recv = ring_recv_;
    send.assign(buf, buf + count);
    recv.assign(static_cast<size_t>(count), 0);
    auto t0 = std::chrono::steady_clock::now();
    for (int hop = 0; hop + 1 < size_; ++hop) {
      void *rq[2] = {nullptr, nullptr};
      check(m_.Irecv(recv.data(), static_cast<int>(count), m_.t_int64, prev, kRingTag, m_.comm_world, &rq[0]),
            "MPI_Irecv", what);
      check(m_.Isend(send.data(), static_cast<int>(count), m_.t_int64, next, kRingTag, m_.comm_world, &rq[1]),
            "MPI_Isend", what);
      wait_all(rq, 2, what, t0);
      for (int64_t i = 0; i < count; ++i) buf[i] = std::max(buf[i], recv[static_cast<size_t>(i)]);
      std::copy(buf, buf + count, send.begin());
    }
  }

  // Polls requests to completion or the deadline (measured from t0), as run() does.
  void wait_all(void **rq, int n, const std::string &what, std::chrono::steady_clock::time_point t0) {
    for (unsigned it = 0;; ++it) {
      bool all = true;
      for (int i = 0; i < n; ++i) {
        int done = 0;
        check(m_.Test(&rq[i], &done, nullptr), "MPI_Test", what);
        all = all && done;
      }
      if (all) return;
      if ((it & 63) == 63) {
        sched_yield();
        double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (waited > timeout_) {
          broken_ = true;
          fail(MX_ERR_IO, "kvstore: ", what, " on rank ", rank_, " of ", size_,
               ": no answer from the other workers after ", timeout_,
               " s (a worker died, hangs, or runs different code; MX_KVSTORE_TIMEOUT sets the limit)");
        }
      }
    }
  }
  void *const kInPlace = reinterpret_cast<void *>(1);  // Open MPI's MPI_IN_PLACE

  void *mpi_type(DType t, const std::string &what) const {
    switch (t) {
      case DType::f32: return m_.t_float;
      case DType::f64: return m_.t_double;
      case DType::i8: return m_.t_int8;
      case DType::u8: return m_.t_uint8;
      case DType::i32: return m_.t_int32;
      case DType::i64: return m_.t_int64;
      default:
        fail(MX_ERR_TYPE, "kvstore: ", what, ": dtype ", dtype_name(t),
             " cannot be reduced over MPI (float16/32/64, bfloat16, int8/32/64 and uint8 can)");
    }
  }

  void check(int rc, const char *call, const std::string &what) {
    if (rc == 0) return;
    broken_ = true;
    fail(MX_ERR_IO, "kvstore: ", call, " failed during ", what, " on rank ", rank_, ": ",
         m_.error_text(rc));
  }

  // Start one non-blocking collective and poll it to completion or the deadline. Polling yields
  // the CPU between tests, so waiting workers do not starve busy ones on shared cores.
  template <typename Start> void run(const std::string &what, const char *call, Start start) {
    std::lock_guard<std::mutex> lock(mu_);
    MX_CHECK(!broken_, MX_ERR_IO, "kvstore: ", what, ": an earlier collective of this job failed "
             "(a worker died or timed out); the job cannot continue");
    void *req = nullptr;
    check(start(&req), call, what);
    auto t0 = std::chrono::steady_clock::now();
    for (unsigned it = 0;; ++it) {
      int done = 0;
      check(m_.Test(&req, &done, nullptr), "MPI_Test", what);
      if (done) return;
      if ((it & 63) == 63) {
        sched_yield();
        double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (waited > timeout_) {
          broken_ = true;
          fail(MX_ERR_IO, "kvstore: ", what, " on rank ", rank_, " of ", size_,
               ": no answer from the other workers after ", timeout_,
               " s (a worker died, hangs, or runs different code; MX_KVSTORE_TIMEOUT sets the "
               "limit)");
        }
      }
    }
  }

  const MpiLib &m_;
  std::mutex mu_;
  int rank_ = 0, size_ = 1;
  double timeout_;
  bool we_initialised_ = false;
  bool broken_ = false;
  uint64_t payload_ = 0;
  std::vector<int64_t> ring_send_, ring_recv_;
};

}  // namespace

std::shared_ptr<Collective> mpi_world_collective() {
  // One per process (MPI_COMM_WORLD), shared by every dist kvstore; destroyed at exit, which
  // finalises MPI.
  static std::mutex mu;
  static std::shared_ptr<Collective> world;
  std::lock_guard<std::mutex> lock(mu);
  if (!world) world = std::make_shared<MpiCollective>();
  return world;
}

}  // namespace mx
