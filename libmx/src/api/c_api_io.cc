// C API: NDArray files (MXNet's format and safetensors) and DLPack exchange.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "api/api_util.h"
#include "base/file_util.h"
#include "io/dlpack.h"
#include "io/ndarray_file.h"

namespace mx {
namespace {

// The NDArray writers' byte sink over the core's one atomic writer (base/file_util.h): temporary
// file next to the target, renamed over it on commit(); stale temporaries of a killed save are
// cleaned, permission bits kept, symlinks written through, read-only targets refused.
class AtomicFileSink : public io::ByteSink {
 public:
  explicit AtomicFileSink(const std::string &path) : w_(path, "save") {}
  void write(const void *data, size_t n) override { w_.write(data, n); }
  void commit() { w_.commit(); }

 private:
  AtomicWriter w_;
};

bool ends_with(const std::string &s, const char *suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

struct LoadResult {  // thread-local storage behind mx_ndarray_load*'s outputs
  std::vector<mx_ndarray_t> handles;
  std::vector<std::string> names;
  std::vector<const char *> cnames;
};
thread_local LoadResult tl_load;

io::ArrayList load_any(io::ByteSource &src) {
  if (src.size() == 0)
    fail(MX_ERR_FORMAT, src.name(), ": empty file (neither an MXNet NDArray file nor safetensors)");
  if (io::is_mxnet_list(src)) return io::load_mxnet(src);
  if (io::is_safetensors(src)) return io::load_safetensors(src);
  fail(MX_ERR_FORMAT, src.name(), ": not an MXNet NDArray file (no 0x112 magic at byte 0) nor a "
       "safetensors file (no plausible header length followed by '{')");
}

void publish(io::ArrayList &&l, int *out_num, mx_ndarray_t **out_arrays, const char ***out_names) {
  std::vector<mx_ndarray_t> handles;
  handles.reserve(l.arrays.size());
  try {
    for (NDArray &a : l.arrays) handles.push_back(new_handle(std::move(a)));
  } catch (...) {
    for (mx_ndarray_t h : handles) delete h;
    throw;
  }
  LoadResult &r = tl_load;
  r.handles = std::move(handles);
  r.names = std::move(l.names);
  r.cnames.clear();
  for (const std::string &s : r.names) r.cnames.push_back(s.c_str());
  r.cnames.push_back(nullptr);  // NULL-terminated, and never a NULL array for a named file
  *out_num = static_cast<int>(r.handles.size());
  *out_arrays = r.handles.data();
  if (out_names) *out_names = l.named ? r.cnames.data() : nullptr;
}

}  // namespace
}  // namespace mx

extern "C" {

int mx_ndarray_save(const char *path, int num, const mx_ndarray_t *arrays, const char **names, int format) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(path);
  MX_CHECK(num >= 0, MX_ERR_INVALID_ARGUMENT, "num is ", num, " (must be >= 0)");
  MX_CHECK(num == 0 || arrays != nullptr, MX_ERR_INVALID_ARGUMENT, "arrays is NULL for num ", num);
  std::vector<mx::NDArray> list;
  std::vector<std::string> nlist;
  for (int i = 0; i < num; ++i) {
    list.push_back(mx::any_arr_of(arrays[i], "arrays[i]"));  // MXNet's format holds sparse records
    if (names) {
      MX_CHECK(names[i] != nullptr, MX_ERR_INVALID_ARGUMENT, "names[", i, "] is NULL");
      nlist.emplace_back(names[i]);
    }
  }
  std::string p(path);
  MX_CHECK(!p.empty(), MX_ERR_INVALID_ARGUMENT, "path is empty");
  if (format == MX_FORMAT_AUTO) format = mx::ends_with(p, ".safetensors") ? MX_FORMAT_SAFETENSORS : MX_FORMAT_MXNET;
  MX_CHECK(format == MX_FORMAT_MXNET || format == MX_FORMAT_SAFETENSORS, MX_ERR_INVALID_ARGUMENT,
           "format is ", format, " (MX_FORMAT_AUTO 0, MX_FORMAT_MXNET 1 or MX_FORMAT_SAFETENSORS 2)");
  mx::AtomicFileSink sink(p);
  if (format == MX_FORMAT_SAFETENSORS)
    mx::io::save_safetensors(sink, list, nlist, names != nullptr);
  else
    mx::io::save_mxnet(sink, list, nlist);
  sink.commit();
  MX_API_END();
}

int mx_ndarray_load(const char *path, int *out_num, mx_ndarray_t **out_arrays, const char ***out_names) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(path);
  MX_REQUIRE_PTR(out_num);
  MX_REQUIRE_PTR(out_arrays);
  mx::io::FileSource src(path);
  mx::publish(mx::load_any(src), out_num, out_arrays, out_names);
  MX_API_END();
}

int mx_ndarray_load_buffer(const void *data, size_t nbytes, int *out_num, mx_ndarray_t **out_arrays,
                           const char ***out_names) {
  MX_API_BEGIN();
  MX_CHECK(data != nullptr || nbytes == 0, MX_ERR_INVALID_ARGUMENT, "data is NULL for nbytes ", nbytes);
  MX_REQUIRE_PTR(out_num);
  MX_REQUIRE_PTR(out_arrays);
  mx::io::MemorySource src(data, nbytes);
  mx::publish(mx::load_any(src), out_num, out_arrays, out_names);
  MX_API_END();
}

int mx_ndarray_to_dlpack(mx_ndarray_t arr, void **out_dlmanaged) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_dlmanaged);
  *out_dlmanaged = mx::dlpack::to_dlpack(mx::arr_of(arr, "arr"));
  MX_API_END();
}

int mx_ndarray_from_dlpack(void *dlmanaged, mx_ndarray_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(dlmanaged);
  MX_REQUIRE_PTR(out);
  // The handle exists before the import, so nothing can fail once the tensor is owned.
  std::unique_ptr<mx_ndarray_s> h(new mx_ndarray_s{});
  h->arr = mx::dlpack::from_dlpack(static_cast<mx::dlpack::DLManagedTensor *>(dlmanaged));
  *out = h.release();
  MX_API_END();
}

}  // extern "C"
