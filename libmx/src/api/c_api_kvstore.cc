// C API: KVStore (kvstore/).
#include <mutex>
#include <string>
#include <vector>

#include "api/api_util.h"
#include "api/optimizer_handle.h"
#include "base/json.h"
#include "kvstore/kvstore.h"
#include "kvstore/nccl_lib.h"
#include "ndarray/sparse.h"
#include "ops/imperative.h"

struct mx_kvstore_s {
  std::unique_ptr<mx::KVStore> kv;
  std::string json;
};

namespace {

mx::KVStore &kv_of(mx_kvstore_t h) {
  if (!h || !h->kv) mx::fail(MX_ERR_INVALID_ARGUMENT, "NULL kvstore handle");
  return *h->kv;
}

void read_lists(int num, const char **keys, const mx_ndarray_t *arrays, const char *what,
                std::vector<std::string> *out_keys, std::vector<mx::NDArray> *out_arrays) {
  MX_CHECK(num >= 0, MX_ERR_INVALID_ARGUMENT, what, ": negative count ", num);
  if (num == 0) return;
  MX_CHECK(keys && arrays, MX_ERR_INVALID_ARGUMENT, what, ": keys or arrays is NULL");
  for (int i = 0; i < num; ++i) {
    MX_CHECK(keys[i] != nullptr, MX_ERR_INVALID_ARGUMENT, what, ": key ", i, " is NULL");
    out_keys->emplace_back(keys[i]);
    out_arrays->push_back(mx::any_arr_of(arrays[i], what));  // row_sparse values are reduced as such
  }
}

using Keys = std::vector<std::string>;
using Arrays = std::vector<mx::NDArray>;

// Reads one (keys, arrays) list, or two (the values and the outputs), from the C arguments and
// calls the store's method with them.
void with_list(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *arrays,
               const char *what, void (mx::KVStore::*method)(const Keys &, const Arrays &)) {
  mx::KVStore &k = kv_of(kv);
  Keys ks;
  Arrays vs;
  read_lists(num, keys, arrays, what, &ks, &vs);
  (k.*method)(ks, vs);
}

void with_two_lists(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *values,
                    int num_out, const char **out_keys, const mx_ndarray_t *outs, const char *what,
                    void (mx::KVStore::*method)(const Keys &, const Arrays &, const Keys &,
                                                const Arrays &)) {
  mx::KVStore &k = kv_of(kv);
  Keys ks, oks;
  Arrays vs, os;
  read_lists(num, keys, values, what, &ks, &vs);
  read_lists(num_out, out_keys, outs, what, &oks, &os);
  (k.*method)(ks, vs, oks, os);
}

}  // namespace

extern "C" {

int mx_kvstore_new(const char *type, mx_kvstore_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(type);
  MX_REQUIRE_PTR(out);
  auto h = std::make_unique<mx_kvstore_s>();
  h->kv = std::make_unique<mx::KVStore>(type);
  *out = h.release();
  MX_API_END();
}

int mx_kvstore_free(mx_kvstore_t kv) {
  MX_API_BEGIN();
  delete kv;
  MX_API_END();
}

int mx_kvstore_type(mx_kvstore_t kv, const char **out_type) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_type);
  *out_type = kv_of(kv).type().c_str();
  MX_API_END();
}

int mx_kvstore_rank(mx_kvstore_t kv, int *out_rank) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_rank);
  *out_rank = kv_of(kv).rank();
  MX_API_END();
}

int mx_kvstore_num_workers(mx_kvstore_t kv, int *out_num) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_num);
  *out_num = kv_of(kv).num_workers();
  MX_API_END();
}

int mx_kvstore_init(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *values) {
  MX_API_BEGIN();
  with_list(kv, num, keys, values, "kvstore.init", &mx::KVStore::init);
  MX_API_END();
}

int mx_kvstore_push(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *values,
                    int priority) {
  MX_API_BEGIN();
  with_list(kv, num, keys, values, "kvstore.push", &mx::KVStore::push);
  MX_API_END();
}

int mx_kvstore_pull(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *outs,
                    int priority) {
  MX_API_BEGIN();
  with_list(kv, num, keys, outs, "kvstore.pull", &mx::KVStore::pull);
  MX_API_END();
}

int mx_kvstore_pushpull(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *values,
                        int num_out, const char **out_keys, const mx_ndarray_t *outs,
                        int priority) {
  MX_API_BEGIN();
  with_two_lists(kv, num, keys, values, num_out, out_keys, outs, "kvstore.pushpull",
                 &mx::KVStore::pushpull);
  MX_API_END();
}

int mx_kvstore_allreduce(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *values,
                         int priority) {
  MX_API_BEGIN();
  with_list(kv, num, keys, values, "kvstore.allreduce", &mx::KVStore::allreduce);
  MX_API_END();
}

int mx_kvstore_allreduce_grads(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *values,
                               int priority) {
  MX_API_BEGIN();
  with_list(kv, num, keys, values, "kvstore.allreduce", &mx::KVStore::allreduce_grads);
  MX_API_END();
}

int mx_kvstore_pushpull_grads(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *values,
                              int num_out, const char **out_keys, const mx_ndarray_t *outs,
                              int priority) {
  MX_API_BEGIN();
  with_two_lists(kv, num, keys, values, num_out, out_keys, outs, "kvstore.pushpull",
                 &mx::KVStore::pushpull_grads);
  MX_API_END();
}

int mx_kvstore_nccl_status(int *out_available, const char **out_message) {
  MX_API_BEGIN();
  static std::once_flag once;
  static std::string message;
  static int available = 0;
  std::call_once(once, [] { available = mx::nccl_available(&message) ? 1 : 0; });
  if (out_available) *out_available = available;
  if (out_message) *out_message = message.c_str();
  MX_API_END();
}

int mx_kvstore_overlap_sync(mx_kvstore_t kv) {
  MX_API_BEGIN();
  kv_of(kv).overlap_sync();
  MX_API_END();
}

int mx_kvstore_broadcast(mx_kvstore_t kv, int num, const char **keys, const mx_ndarray_t *values,
                         int num_out, const char **out_keys, const mx_ndarray_t *outs,
                         int priority) {
  MX_API_BEGIN();
  with_two_lists(kv, num, keys, values, num_out, out_keys, outs, "kvstore.broadcast",
                 &mx::KVStore::broadcast);
  MX_API_END();
}

int mx_kvstore_row_sparse_pull(mx_kvstore_t kv, int num, const char **keys,
                               const mx_ndarray_t *outs, const mx_ndarray_t *row_ids,
                               int priority) {
  MX_API_BEGIN();
  mx::KVStore &k = kv_of(kv);
  MX_CHECK(num >= 0, MX_ERR_INVALID_ARGUMENT, "kvstore.row_sparse_pull: negative count ", num);
  MX_CHECK(num == 0 || (keys && outs && row_ids), MX_ERR_INVALID_ARGUMENT,
           "kvstore.row_sparse_pull: keys, outs or row_ids is NULL");
  (void)priority;
  // The stored (dense) value's rows listed in row_ids, the others zero: pulled into a dense
  // copy, kept by _sparse_retain, converted into `out` (row_sparse, or dense).
  for (int i = 0; i < num; ++i) {
    MX_CHECK(keys[i] != nullptr, MX_ERR_INVALID_ARGUMENT, "kvstore.row_sparse_pull: key ", i, " is NULL");
    const mx::NDArray &out = mx::any_arr_of(outs[i], "kvstore.row_sparse_pull: out");
    const mx::NDArray &ids = mx::arr_of(row_ids[i], "kvstore.row_sparse_pull: row_ids");
    mx::NDArray full(out.shape(), out.dtype());
    k.pull({keys[i]}, {full});
    out.assign(mx::invoke("_sparse_retain", {}, {mx::cast_storage(full, mx::SType::row_sparse), ids})[0]);
  }
  MX_API_END();
}

int mx_kvstore_set_optimizer(mx_kvstore_t kv, mx_optimizer_t opt) {
  MX_API_BEGIN();
  mx::KVStore &k = kv_of(kv);
  MX_CHECK(opt && opt->opt, MX_ERR_INVALID_ARGUMENT, "kvstore.set_optimizer: NULL optimizer");
  k.set_optimizer(opt->opt);
  MX_API_END();
}

int mx_kvstore_save_optimizer_states(mx_kvstore_t kv, const char *path) {
  MX_API_BEGIN();
  mx::KVStore &k = kv_of(kv);
  MX_CHECK(k.optimizer() != nullptr, MX_ERR_INVALID_ARGUMENT,
           "kvstore.save_optimizer_states: no optimizer is set on this kvstore");
  mx_optimizer_s tmp;
  tmp.opt = k.optimizer();
  int rc = mx_optimizer_save_states(&tmp, path);
  if (rc != MX_OK) mx::fail(static_cast<mx_status>(rc), mx_last_error());
  MX_API_END();
}

int mx_kvstore_load_optimizer_states(mx_kvstore_t kv, const char *path) {
  MX_API_BEGIN();
  mx::KVStore &k = kv_of(kv);
  MX_CHECK(k.optimizer() != nullptr, MX_ERR_INVALID_ARGUMENT,
           "kvstore.load_optimizer_states: no optimizer is set on this kvstore");
  mx_optimizer_s tmp;
  tmp.opt = k.optimizer();
  int rc = mx_optimizer_load_states(&tmp, path);
  if (rc != MX_OK) mx::fail(static_cast<mx_status>(rc), mx_last_error());
  MX_API_END();
}

int mx_kvstore_barrier(mx_kvstore_t kv) {
  MX_API_BEGIN();
  kv_of(kv).barrier();
  MX_API_END();
}

int mx_kvstore_set_gradient_compression(mx_kvstore_t kv, const char *params_json) {
  MX_API_BEGIN();
  mx::KVStore &k = kv_of(kv);
  MX_REQUIRE_PTR(params_json);
  mx::Json j;
  try {
    j = mx::Json::parse(params_json);
  } catch (const mx::Error &e) {
    mx::fail(MX_ERR_INVALID_ARGUMENT, "set_gradient_compression: params_json is not valid JSON: ",
             e.what());
  }
  k.set_gradient_compression(j);
  MX_API_END();
}

int mx_kvstore_set_config(mx_kvstore_t kv, const char *key, const char *value_json) {
  MX_API_BEGIN();
  mx::KVStore &k = kv_of(kv);
  MX_REQUIRE_PTR(key);
  MX_REQUIRE_PTR(value_json);
  mx::Json j;
  try {
    j = mx::Json::parse(value_json);
  } catch (const mx::Error &e) {
    mx::fail(MX_ERR_INVALID_ARGUMENT, "kvstore.set_config: value of '", key,
             "' is not valid JSON: ", e.what());
  }
  k.set_config(key, j);
  MX_API_END();
}

int mx_kvstore_config(mx_kvstore_t kv, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_json);
  mx::KVStore &k = kv_of(kv);
  kv->json = k.config().dump();
  *out_json = kv->json.c_str();
  MX_API_END();
}

}  // extern "C"
