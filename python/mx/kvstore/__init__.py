"""mx.kvstore (also mx.kv): MXNet's KVStore for multi-array and distributed data-parallel
training; the dist types reduce by allreduce over MPI in the core."""
from .kvstore import KVStore, KVStoreBase, create, nccl_status  # noqa: F401
from .teststore import TestStore  # noqa: F401  (registers 'teststore')
from .dist import worker_rank, worker_count, is_rank0, rank0_only  # noqa: F401
