#include "kvstore/mpi_lib.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "base/error.h"

namespace mx {
namespace {

constexpr const char *kDefaultLib = "libmpi.so.40";

void *sym(void *lib, const char *name, const std::string &path) {
  void *p = dlsym(lib, name);
  MX_CHECK(p != nullptr, MX_ERR_UNSUPPORTED, "kvstore: ", path, " has no symbol ", name,
           ": MX needs Open MPI 4.x (Debian package openmpi-bin, library libmpi.so.40)");
  return p;
}

template <typename F> void bind(F *&fn, void *lib, const char *name, const std::string &path) {
  fn = reinterpret_cast<F *>(sym(lib, name, path));
}

MpiLib load() {
  const char *env = std::getenv("MX_MPI_LIBRARY");
  std::string path = env && *env ? env : kDefaultLib;
  void *lib = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!lib) {
    const char *why = dlerror();
    fail(MX_ERR_UNSUPPORTED, "kvstore: distributed kvstore types need MPI, but ", path,
         " could not be loaded (", why ? why : "unknown reason",
         "). Install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev), "
         "or set MX_MPI_LIBRARY to the path of libmpi.so, then start the workers with "
         "`python -m mx.tools.launch -n N ...`. Single-process training needs no MPI: use "
         "kvstore 'local' or 'device'.");
  }
  MpiLib m;
  m.path = path;
  bind(m.Initialized, lib, "MPI_Initialized", path);
  bind(m.Finalized, lib, "MPI_Finalized", path);
  bind(m.Init_thread, lib, "MPI_Init_thread", path);
  bind(m.Finalize, lib, "MPI_Finalize", path);
  bind(m.Comm_rank, lib, "MPI_Comm_rank", path);
  bind(m.Comm_size, lib, "MPI_Comm_size", path);
  bind(m.Comm_set_errhandler, lib, "MPI_Comm_set_errhandler", path);
  bind(m.Iallreduce, lib, "MPI_Iallreduce", path);
  bind(m.Allreduce, lib, "MPI_Allreduce", path);
  bind(m.Allgather, lib, "MPI_Allgather", path);
  bind(m.Ibcast, lib, "MPI_Ibcast", path);
  bind(m.Ibarrier, lib, "MPI_Ibarrier", path);
  bind(m.Test, lib, "MPI_Test", path);
  bind(m.Isend, lib, "MPI_Isend", path);
  bind(m.Irecv, lib, "MPI_Irecv", path);
  bind(m.Error_string, lib, "MPI_Error_string", path);
  m.comm_world = sym(lib, "ompi_mpi_comm_world", path);
  m.errors_return = sym(lib, "ompi_mpi_errors_return", path);
  m.op_sum = sym(lib, "ompi_mpi_op_sum", path);
  m.op_max = sym(lib, "ompi_mpi_op_max", path);
  m.t_byte = sym(lib, "ompi_mpi_byte", path);
  m.t_float = sym(lib, "ompi_mpi_float", path);
  m.t_double = sym(lib, "ompi_mpi_double", path);
  m.t_int8 = sym(lib, "ompi_mpi_int8_t", path);
  m.t_uint8 = sym(lib, "ompi_mpi_uint8_t", path);
  m.t_int32 = sym(lib, "ompi_mpi_int32_t", path);
  m.t_int64 = sym(lib, "ompi_mpi_int64_t", path);
  return m;  // the library stays loaded for the life of the process (MPI cannot be reloaded)
}

}  // namespace

std::string MpiLib::error_text(int code) const {
  char buf[512];
  int len = 0;
  if (Error_string && Error_string(code, buf, &len) == 0 && len > 0)
    return std::string(buf, static_cast<size_t>(len));
  return "MPI error code " + std::to_string(code);
}

const MpiLib &mpi_lib() {
  static std::once_flag once;
  static MpiLib lib;
  static std::string error;
  static mx_status error_status = MX_OK;
  std::call_once(once, [] {
    try {
      lib = load();
    } catch (const Error &e) {
      error = e.what();
      error_status = e.status();
    }
  });
  if (error_status != MX_OK) throw Error(error_status, error);
  return lib;
}

}  // namespace mx
