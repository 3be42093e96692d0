"""Where this process stands in a distributed job, without starting MPI: the rank and size that
mx.tools.launch (MX_RANK / MX_NUM_WORKERS) or mpirun (OMPI_COMM_WORLD_*, PMI_*) set, and helpers
so only rank 0 writes checkpoints and prints progress."""
import functools
import os

__all__ = ["worker_rank", "worker_count", "is_rank0", "rank0_only"]

_RANK_VARS = ("MX_RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")
_SIZE_VARS = ("MX_NUM_WORKERS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")


def _env_int(names, default):
    for n in names:
        v = os.environ.get(n)
        if v not in (None, ""):
            try:
                return int(v)
            except ValueError:
                raise ValueError("environment variable %s=%r is not an integer" % (n, v)) from None
    return default


def worker_rank():
    """This worker's rank (0 outside a distributed job)."""
    return _env_int(_RANK_VARS, 0)


def worker_count():
    """Number of workers in the job (1 outside a distributed job)."""
    return _env_int(_SIZE_VARS, 1)


def is_rank0():
    """True on the worker that should save checkpoints and print progress."""
    return worker_rank() == 0


def rank0_only(fn):
    """Wrap a callback (epoch_end_callback, batch_end_callback, a save function) so it runs on
    rank 0 only and returns None elsewhere."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if is_rank0():
            return fn(*args, **kwargs)
        return None
    return wrapper
