// Collective communication between the workers of one job, behind one small interface so the
// KVStore does not care what moves the bytes: a single process (LocalCollective), MPI loaded at
// run time (MpiCollective), and NCCL for GPU buffers (NcclCollective, backends/cuda/: the data
// calls on device pointers, the metadata calls through the MPI collective).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/dtype.h"

namespace mx {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char *backend() const = 0;  // "local", "mpi", "nccl"
  // Element-wise sum over all workers, in place. `what` names the data in error messages. May
  // block without a deadline (callers check liveness first with the calls below).
  virtual void allreduce_sum(void *buf, int64_t count, DType dtype, const std::string &what) = 0;
  // Several in-place sums at once (NCCL: one group launch and one wait); `what[i]` names buffer i.
  struct Buffer {
    void *buf;
    int64_t count;
    DType dtype;
  };
  virtual void allreduce_sum_many(const std::vector<Buffer> &bufs, const std::vector<std::string> &what) {
    for (size_t i = 0; i < bufs.size(); ++i) allreduce_sum(bufs[i].buf, bufs[i].count, bufs[i].dtype, what[i]);
  }
  // Element-wise max over all workers of int64 values, in place (metadata checks); this, the
  // broadcast and the barrier fail after the timeout instead of waiting forever.
  virtual void allreduce_max_i64(int64_t *buf, int64_t count, const std::string &what) = 0;
  // Every worker contributes `bytes` bytes; `recv` (size() * bytes) receives them in rank order.
  // Blocks like allreduce_sum.
  virtual void allgather_bytes(const void *send, size_t bytes, void *recv, const std::string &what) = 0;
  // Root's bytes to every worker.
  virtual void broadcast(void *buf, size_t nbytes, int root, const std::string &what) = 0;
  virtual void barrier(const std::string &what) = 0;
  // Payload bytes this worker has handed to data collectives so far (allreduce and allgather
  // inputs): what a transport must move at the least, whatever its algorithm.
  virtual uint64_t payload_bytes() const = 0;
  // Seconds a collective may wait for the other workers before failing (a dead or stuck peer).
  virtual void set_timeout(double seconds) = 0;
};

// One process: every collective is the identity.
std::unique_ptr<Collective> make_local_collective();
// The process's MPI job (MPI_COMM_WORLD), initialised on first use. libmpi is dlopen'ed here
// (MX_MPI_LIBRARY overrides the path); a missing library is MX_ERR_UNSUPPORTED naming it.
std::shared_ptr<Collective> mpi_world_collective();
// The NCCL communicator of gpu(dev) over the workers of `host` (one rank per process, created on
// first use by every worker together: rank 0's unique id goes over `host`), one per device and
// process. Data calls (allreduce_sum, broadcast) take device pointers of gpu(dev), are ordered on
// its compute stream and return when done; a failure (an NCCL error, a dead peer, the timeout) is
// MX_ERR_IO naming `what` and aborts the communicator. Metadata calls go to `host`. Without
// NCCL: MX_ERR_UNSUPPORTED naming it (kvstore/nccl_lib.h); in a build without CUDA the same.
std::shared_ptr<Collective> nccl_device_collective(int dev, std::shared_ptr<Collective> host);

}  // namespace mx
