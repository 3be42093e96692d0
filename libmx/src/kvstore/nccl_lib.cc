#include "kvstore/nccl_lib.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <vector>

#include "base/error.h"

namespace mx {
namespace {

constexpr const char *kLibName = "libnccl.so.2";

std::vector<std::string> candidates() {
  std::vector<std::string> c;
  const char *env = std::getenv("MX_NCCL_LIBRARY");
  if (env && *env) {
    c.push_back(env);  // an explicit choice is the only one tried
    return c;
  }
  c.push_back(kLibName);
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&candidates), &info) && info.dli_fname) {
    std::string self = info.dli_fname;
    std::string dir = self.substr(0, self.find_last_of('/') + 1);
    c.push_back(dir + "../nvidia/nccl/lib/" + kLibName);  // site-packages/mx/libmx.so
  }
  return c;
}

template <typename F> void bind(F *&fn, void *lib, const char *name, const std::string &path) {
  fn = reinterpret_cast<F *>(dlsym(lib, name));
  MX_CHECK(fn != nullptr, MX_ERR_UNSUPPORTED, "kvstore: ", path, " has no symbol ", name,
           ": MX needs NCCL 2.x (pip install nvidia-nccl-cu13)");
}

NcclLib load() {
  void *h = nullptr;
  std::string tried, path;
  for (const std::string &p : candidates()) {
    h = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h) {
      path = p;
      break;
    }
    const char *e = dlerror();
    tried += (tried.empty() ? "" : "; ") + std::string(e ? e : p);
  }
  if (!h)
    fail(MX_ERR_UNSUPPORTED, "kvstore: GPU arrays are reduced with NCCL, but NCCL (",
         kLibName, ") could not be loaded (", tried,
         "). Install it with `pip install nvidia-nccl-cu13` (into the environment mx is installed in), or set "
         "MX_NCCL_LIBRARY to the path of libnccl.so.2; CPU arrays need no NCCL (they go over MPI).");
  NcclLib n;
  n.path = path;
  bind(n.GetVersion, h, "ncclGetVersion", path);
  bind(n.GetUniqueId, h, "ncclGetUniqueId", path);
  bind(n.CommInitRank, h, "ncclCommInitRank", path);
  bind(n.CommDestroy, h, "ncclCommDestroy", path);
  bind(n.CommAbort, h, "ncclCommAbort", path);
  bind(n.CommGetAsyncError, h, "ncclCommGetAsyncError", path);
  bind(n.AllReduce, h, "ncclAllReduce", path);
  bind(n.Broadcast, h, "ncclBroadcast", path);
  bind(n.GroupStart, h, "ncclGroupStart", path);
  bind(n.GroupEnd, h, "ncclGroupEnd", path);
  bind(n.GetErrorString, h, "ncclGetErrorString", path);
  if (n.GetVersion(&n.version) != NcclLib::kSuccess) n.version = 0;
  return n;  // stays loaded for the life of the process
}

}  // namespace

std::string NcclLib::error_text(int result) const {
  const char *s = GetErrorString ? GetErrorString(result) : nullptr;
  return std::string(s ? s : "NCCL error") + " (result " + std::to_string(result) + ")";
}

const NcclLib &nccl_lib() {
  static std::once_flag once;
  static NcclLib lib;
  static std::string error;
  static mx_status status = MX_OK;
  std::call_once(once, [] {
    try {
      lib = load();
    } catch (const Error &e) {
      error = e.what();
      status = e.status();
    }
  });
  if (status != MX_OK) throw Error(status, error);
  return lib;
}

bool nccl_available(std::string *message) {
  try {
    const NcclLib &n = nccl_lib();
    // 2.9 on: major*10000 + minor*100 + patch; before: major*1000 + minor*100 + patch.
    int v = n.version, major = v >= 10000 ? v / 10000 : v / 1000, minor = v >= 10000 ? v / 100 % 100 : v / 100 % 10;
    *message = "NCCL " + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(v % 100) + " (" +
               n.path + ")";
    return true;
  } catch (const Error &e) {
    *message = e.what();
    return false;
  }
}

}  // namespace mx
