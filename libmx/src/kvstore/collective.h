// Collective communication between the workers of one job, behind one small interface so the
// KVStore does not care what moves the bytes: a single process (LocalCollective), MPI loaded at
// run time (MpiCollective), and later NCCL for GPU buffers (a NcclCollective implementing the
// same calls on device pointers; not written yet: MX has no CUDA backend).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/dtype.h"

namespace mx {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char *backend() const = 0;  // "local", "mpi"
  // Element-wise sum over all workers, in place. `what` names the data in error messages. May
  // block without a deadline (callers check liveness first with the calls below).
  virtual void allreduce_sum(void *buf, int64_t count, DType dtype, const std::string &what) = 0;
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

}  // namespace mx
