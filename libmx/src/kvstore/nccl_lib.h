// NCCL, loaded at run time like MPI (kvstore/mpi_lib.h): libmx does not link it, so CPU users and
// GPU users without distributed training need none installed. Only the calls the device
// collective uses are resolved; their declarations are NCCL's public C API (nccl.h of NCCL 2.x,
// checked against nvidia-nccl-cu13 2.32), with the opaque types as void pointers and the enums
// as ints. No CUDA header is needed here (cudaStream_t is a pointer).
#pragma once
#include <string>

namespace mx {

struct NcclLib {
  static constexpr int kUniqueIdBytes = 128;  // NCCL_UNIQUE_ID_BYTES
  struct UniqueId {
    char internal[kUniqueIdBytes];
  };
  using Comm = void *;    // ncclComm_t
  using Stream = void *;  // cudaStream_t
  // ncclResult_t values
  static constexpr int kSuccess = 0, kInProgress = 7;
  // ncclDataType_t values
  static constexpr int kInt8 = 0, kUint8 = 1, kInt32 = 2, kInt64 = 4, kFloat16 = 6, kFloat32 = 7, kFloat64 = 8,
                       kBfloat16 = 9;
  static constexpr int kSum = 0;  // ncclRedOp_t

  int (*GetVersion)(int *);
  int (*GetUniqueId)(UniqueId *);
  int (*CommInitRank)(Comm *, int nranks, UniqueId id, int rank);
  int (*CommDestroy)(Comm);
  int (*CommAbort)(Comm);
  int (*CommGetAsyncError)(Comm, int *);
  int (*AllReduce)(const void *, void *, size_t, int dtype, int op, Comm, Stream);
  int (*Broadcast)(const void *, void *, size_t, int dtype, int root, Comm, Stream);
  int (*GroupStart)();
  int (*GroupEnd)();
  const char *(*GetErrorString)(int);

  std::string path;  // the library that was opened
  int version = 0;   // ncclGetVersion: major*10000 + minor*100 + patch (2.9 on)
  std::string error_text(int result) const;  // "ncclRemoteError: text (result 6)"
};

// Opens libnccl.so.2 once: MX_NCCL_LIBRARY, the loader's search path, then beside an installed mx
// package (site-packages/nvidia/nccl/lib, where `pip install nvidia-nccl-cu13` puts it). Throws
// MX_ERR_UNSUPPORTED naming NCCL, what was tried and how to provide it.
const NcclLib &nccl_lib();
// Whether NCCL can be loaded, never throws: *message is "NCCL <version> (<path>)" or the reason.
bool nccl_available(std::string *message);

}  // namespace mx
