// Open MPI, loaded at run time: libmx does not link MPI, so single-machine users need none
// installed. Only the handful of MPI calls the collectives use are resolved. Open MPI's
// predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are the addresses of exported
// globals (ompi_mpi_comm_world, ...), so they are looked up by dlsym as well.
#pragma once
#include <string>

namespace mx {

struct MpiLib {
  using Handle = void *;  // MPI_Comm, MPI_Datatype, MPI_Op, MPI_Request, MPI_Errhandler
  int (*Initialized)(int *);
  int (*Finalized)(int *);
  int (*Init_thread)(int *, char ***, int, int *);
  int (*Finalize)();
  int (*Comm_rank)(Handle, int *);
  int (*Comm_size)(Handle, int *);
  int (*Comm_set_errhandler)(Handle, Handle);
  int (*Iallreduce)(const void *, void *, int, Handle, Handle, Handle, Handle *);
  int (*Allreduce)(const void *, void *, int, Handle, Handle, Handle);
  int (*Allgather)(const void *, int, Handle, void *, int, Handle, Handle);
  int (*Ibcast)(void *, int, Handle, int, Handle, Handle *);
  int (*Ibarrier)(Handle, Handle *);
  int (*Test)(Handle *, int *, void *);
  int (*Isend)(const void *, int, Handle, int, int, Handle, Handle *);
  int (*Irecv)(void *, int, Handle, int, int, Handle, Handle *);
  int (*Error_string)(int, char *, int *);

  Handle comm_world, errors_return, op_sum, op_max;
  Handle t_byte, t_float, t_double, t_int8, t_uint8, t_int32, t_int64;

  std::string path;  // the library that was opened
  // Message for an MPI error code ("MPI_ERR_...: text").
  std::string error_text(int code) const;
};

// Opens libmpi once (RTLD_GLOBAL: Open MPI's plugins resolve symbols against it). Throws
// MX_ERR_UNSUPPORTED naming the library and the Debian package when it cannot be loaded.
const MpiLib &mpi_lib();

}  // namespace mx
