// Version, errors, logging, devices.
#include <string>

#include "api/api_util.h"
#include "backends/cpu/blas.h"
#include "backends/gpu.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/parallel.h"
#include "base/json.h"
#include "random/philox.h"

#ifndef MX_VERSION_MAJOR
#define MX_VERSION_MAJOR 0
#define MX_VERSION_MINOR 1
#define MX_VERSION_PATCH 0
#endif

namespace mx {
void set_log_callback(mx_log_fn fn, void *user);

namespace {
thread_local std::string t_last_error;
}
// The user's terms first (op or layer, argument, expected vs got); the C function that reported
// it last, for bug reports: "FullyConnected: input has 30 features ... [mx_op_invoke]".
int set_last_error(int status, const char *func, const std::string &msg) {
  t_last_error = msg + " [" + func + "]";
  return status;
}
void clear_last_error() { t_last_error.clear(); }
const char *last_error_cstr() { return t_last_error.c_str(); }
}  // namespace mx

using namespace mx;

extern "C" {

int mx_abi_version(void) { return MX_ABI_VERSION; }

void mx_version(int *major, int *minor, int *patch) {
  if (major) *major = MX_VERSION_MAJOR;
  if (minor) *minor = MX_VERSION_MINOR;
  if (patch) *patch = MX_VERSION_PATCH;
}

const char *mx_last_error(void) { return mx::last_error_cstr(); }

int mx_set_log_callback(mx_log_fn fn, void *user_data) {
  MX_API_BEGIN();
  set_log_callback(fn, user_data);
  MX_API_END();
}

int mx_features(const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_json);
  static const std::string json = [] {
    Json o = Json::object();
    o.set("cuda", gpu::compiled());
    o.set("blas", blas_name());
#ifdef _OPENMP
    o.set("openmp", true);
#else
    o.set("openmp", false);
#endif
    o.set("dnnl", onednn::built());
    return o.dump();
  }();
  *out_json = json.c_str();
  MX_API_END();
}

int mx_device_count(int dev_type, int *out_count) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_count);
  if (dev_type == MX_CPU || dev_type == MX_CPU_PINNED) *out_count = 1;
  else if (dev_type == MX_GPU) *out_count = gpu::device_count();
  else fail(MX_ERR_INVALID_ARGUMENT, "unknown device type ", dev_type, " (cpu 1, gpu 2, cpu_pinned 3)");
  MX_API_END();
}

int mx_set_num_threads(int num_threads) {
  MX_API_BEGIN();
  MX_CHECK(num_threads >= 0, MX_ERR_INVALID_ARGUMENT, "num_threads must be >= 0 (0: default), got ", num_threads);
  set_cpu_num_threads(num_threads);
  MX_API_END();
}

int mx_get_num_threads(int *out_num_threads) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_num_threads);
  *out_num_threads = cpu_num_threads();
  MX_API_END();
}

int mx_onednn_status(int *out_built, int *out_enabled, int64_t *out_calls) {
  MX_API_BEGIN();
  if (out_calls) *out_calls = onednn::calls();
  if (out_built) *out_built = onednn::built() ? 1 : 0;
  if (out_enabled) *out_enabled = onednn::enabled() ? 1 : 0;
  MX_API_END();
}

int mx_onednn_weight_cache_stats(int64_t *out_hits, int64_t *out_misses) {
  MX_API_BEGIN();
  onednn::weight_cache_stats(out_hits, out_misses);
  MX_API_END();
}

int mx_onednn_set_enabled(int enabled) {
  MX_API_BEGIN();
  onednn::set_enabled(enabled != 0);
  MX_API_END();
}

int mx_random_seed(uint64_t seed, int dev_type) {
  MX_API_BEGIN();
  MX_CHECK(dev_type == -1 || dev_type == MX_CPU || dev_type == MX_GPU || dev_type == MX_CPU_PINNED,
           MX_ERR_INVALID_ARGUMENT, "unknown device type ", dev_type);
  random_seed_all(seed, dev_type);
  MX_API_END();
}

int mx_gpu_status(int *out_compiled, int *out_count, const char **out_reason) {
  MX_API_BEGIN();
  if (out_compiled) *out_compiled = gpu::compiled() ? 1 : 0;
  if (out_count) *out_count = gpu::device_count();
  if (out_reason) *out_reason = gpu::unavailable_reason().c_str();
  MX_API_END();
}

int mx_gpu_memory_info(int dev_id, uint64_t *out_free, uint64_t *out_total) {
  MX_API_BEGIN();
  size_t fr = 0, tot = 0;
  gpu::memory_info(dev_id, &fr, &tot);
  if (out_free) *out_free = fr;
  if (out_total) *out_total = tot;
  MX_API_END();
}

int mx_gpu_pool_stats(int dev_id, uint64_t *out_in_use, uint64_t *out_reserved) {
  MX_API_BEGIN();
  size_t used = 0, res = 0;
  gpu::pool_stats(dev_id, &used, &res);
  if (out_in_use) *out_in_use = used;
  if (out_reserved) *out_reserved = res;
  MX_API_END();
}

int mx_gpu_empty_cache(int dev_id) {
  MX_API_BEGIN();
  gpu::empty_cache(dev_id);
  MX_API_END();
}

}  // extern "C"
