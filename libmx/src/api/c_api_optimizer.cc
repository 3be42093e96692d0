// C API: learning-rate schedulers and optimizers (optimizer/).
#include <cmath>
#include <cstring>
#include <limits>

#include "api/api_util.h"
#include "api/optimizer_handle.h"
#include "base/json.h"
#include "optimizer/lr_scheduler.h"
#include "ndarray/sparse.h"
#include "optimizer/optimizer.h"

struct mx_lr_scheduler_s {
  mx::LRScheduler s;
  std::string json;
};


namespace {

const char *kStateJsonName = "__optimizer_state_json__";

mx::LRScheduler &sched_of(mx_lr_scheduler_t s) {
  if (!s) mx::fail(MX_ERR_INVALID_ARGUMENT, "NULL lr_scheduler handle");
  return s->s;
}
mx::Optimizer &opt_of(mx_optimizer_t o) {
  if (!o || !o->opt) mx::fail(MX_ERR_INVALID_ARGUMENT, "NULL optimizer handle");
  return *o->opt;
}
mx::Json parse_arg(const char *text, const char *what) {
  if (!text) mx::fail(MX_ERR_INVALID_ARGUMENT, what, " is NULL");
  try {
    return mx::Json::parse(text);
  } catch (const mx::Error &e) {
    mx::fail(MX_ERR_INVALID_ARGUMENT, what, " is not valid JSON: ", e.what());
  }
}
void check_rc(int rc, const char *what) {
  if (rc != MX_OK) mx::fail(static_cast<mx_status>(rc), what, ": ", mx_last_error());
}

}  // namespace

extern "C" {

int mx_lr_scheduler_new(const char *json, mx_lr_scheduler_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  mx::Json j = parse_arg(json, "json");
  auto h = std::make_unique<mx_lr_scheduler_s>();
  h->s = mx::LRScheduler::from_json(j);
  *out = h.release();
  MX_API_END();
}

int mx_lr_scheduler_free(mx_lr_scheduler_t sched) {
  MX_API_BEGIN();
  delete sched;
  MX_API_END();
}

int mx_lr_scheduler_get(mx_lr_scheduler_t sched, int64_t num_update, double *out_lr) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_lr);
  *out_lr = sched_of(sched)(num_update);
  MX_API_END();
}

int mx_lr_scheduler_json(mx_lr_scheduler_t sched, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_json);
  sched->json = sched_of(sched).to_json().dump();
  *out_json = sched->json.c_str();
  MX_API_END();
}

int mx_optimizer_new(const char *name, const char *hparams_json, mx_optimizer_t *out) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out);
  MX_REQUIRE_PTR(name);
  mx::Json hp = (hparams_json && *hparams_json) ? parse_arg(hparams_json, "hparams_json")
                                                : mx::Json::object();
  auto h = std::make_unique<mx_optimizer_s>();
  h->opt = std::make_unique<mx::Optimizer>(name, hp);
  *out = h.release();
  MX_API_END();
}

int mx_optimizer_free(mx_optimizer_t opt) {
  MX_API_BEGIN();
  delete opt;
  MX_API_END();
}

int mx_optimizer_set(mx_optimizer_t opt, const char *key, const char *value_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(key);
  mx::Optimizer &o = opt_of(opt);
  o.set(key, parse_arg(value_json, "value_json"));
  MX_API_END();
}

int mx_optimizer_set_index(mx_optimizer_t opt, int index, const char *name, double lr_mult,
                           double wd_mult) {
  MX_API_BEGIN();
  opt_of(opt).set_index(index, name, lr_mult, wd_mult);
  MX_API_END();
}

int mx_optimizer_update(mx_optimizer_t opt, int num, const int *indices,
                        const mx_ndarray_t *weights, const mx_ndarray_t *grads) {
  MX_API_BEGIN();
  mx::Optimizer &o = opt_of(opt);
  MX_CHECK(num >= 0, MX_ERR_INVALID_ARGUMENT, "num must be >= 0, got ", num);
  if (num == 0) return MX_OK;
  MX_REQUIRE_PTR(indices);
  MX_REQUIRE_PTR(weights);
  MX_REQUIRE_PTR(grads);
  std::vector<int> idx(indices, indices + num);
  std::vector<mx::NDArray> w, g;
  // Sparse weights take the storage fallback (as MXNet's update operators): the rule runs on a
  // dense copy, whose values are then written back into the sparse weight.
  std::vector<std::pair<mx::NDArray, mx::NDArray>> write_back;
  for (int i = 0; i < num; ++i) {
    mx::NDArray wi = mx::any_arr_of(weights[i], "weights[i]");
    if (wi.is_sparse()) {
      // a row_sparse weight selects the sparse kernels' row-wise semantics (ftrl)
      if (mx::stype_of(wi) == mx::SType::row_sparse) o.mark_sparse_weight(idx[static_cast<size_t>(i)]);
      mx::NDArray dense = mx::to_dense(wi);
      write_back.emplace_back(wi, dense);
      wi = dense;
    }
    w.push_back(wi);
    g.push_back(mx::any_arr_of(grads[i], "grads[i]"));  // row_sparse: lazy update (sgd, adam)
  }
  o.update(idx, w, g);
  for (auto &wb : write_back) mx::sparse_assign(wb.first, wb.second);
  MX_API_END();
}

int mx_optimizer_learning_rate(mx_optimizer_t opt, double *out_lr) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_lr);
  *out_lr = opt_of(opt).learning_rate();
  MX_API_END();
}

int mx_optimizer_json(mx_optimizer_t opt, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_json);
  opt->json = opt_of(opt).to_json().dump();
  *out_json = opt->json.c_str();
  MX_API_END();
}

int mx_optimizer_export_states(mx_optimizer_t opt, int *out_num, const char ***out_names,
                               mx_ndarray_t **out_arrays, const char **out_json) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(out_num);
  MX_REQUIRE_PTR(out_names);
  MX_REQUIRE_PTR(out_arrays);
  mx::Optimizer &o = opt_of(opt);
  std::vector<std::string> names;
  std::vector<mx::NDArray> arrays;
  o.export_states(&names, &arrays);
  std::string js = o.to_json().dump();
  std::vector<mx_ndarray_t> handles;
  try {
    for (auto &a : arrays) handles.push_back(mx::new_handle(a));
  } catch (...) {
    for (auto h : handles) delete h;
    throw;
  }
  opt->names = std::move(names);
  opt->name_ptrs.clear();
  for (const auto &n : opt->names) opt->name_ptrs.push_back(n.c_str());
  opt->handles = std::move(handles);
  opt->json = std::move(js);
  *out_num = static_cast<int>(opt->handles.size());
  *out_names = opt->name_ptrs.data();
  *out_arrays = opt->handles.data();
  if (out_json) *out_json = opt->json.c_str();
  MX_API_END();
}

int mx_optimizer_import_states(mx_optimizer_t opt, int num, const char **names,
                               const mx_ndarray_t *arrays, const char *json) {
  MX_API_BEGIN();
  mx::Optimizer &o = opt_of(opt);
  MX_CHECK(num >= 0, MX_ERR_INVALID_ARGUMENT, "num must be >= 0, got ", num);
  std::vector<std::string> n;
  std::vector<mx::NDArray> a;
  if (num > 0) {
    MX_REQUIRE_PTR(names);
    MX_REQUIRE_PTR(arrays);
  }
  for (int i = 0; i < num; ++i) {
    MX_CHECK(names[i] != nullptr, MX_ERR_INVALID_ARGUMENT, "names[", i, "] is NULL");
    n.emplace_back(names[i]);
    a.push_back(mx::arr_of(arrays[i], "arrays[i]"));
  }
  MX_REQUIRE_PTR(json);
  o.import_states(n, a, mx::Json::parse(json));
  MX_API_END();
}

int mx_optimizer_save_states(mx_optimizer_t opt, const char *path) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(path);
  mx::Optimizer &o = opt_of(opt);
  std::vector<std::string> names;
  std::vector<mx::NDArray> arrays;
  o.export_states(&names, &arrays);
  std::string js = o.to_json().dump();
  mx::NDArray blob(mx::Shape({static_cast<int64_t>(js.size())}), mx::DType::u8, mx::Device());
  if (!js.empty()) std::memcpy(blob.raw(), js.data(), js.size());
  names.push_back(kStateJsonName);
  arrays.push_back(blob);
  std::vector<mx_ndarray_s> hs;
  hs.reserve(arrays.size());
  for (auto &x : arrays) hs.push_back(mx_ndarray_s{x});
  std::vector<mx_ndarray_t> hp;
  std::vector<const char *> np;
  for (size_t i = 0; i < hs.size(); ++i) {
    hp.push_back(&hs[i]);
    np.push_back(names[i].c_str());
  }
  check_rc(mx_ndarray_save(path, static_cast<int>(hp.size()), hp.data(), np.data(),
                           MX_FORMAT_MXNET),
           "mx_optimizer_save_states");
  MX_API_END();
}

int mx_optimizer_load_states(mx_optimizer_t opt, const char *path) {
  MX_API_BEGIN();
  MX_REQUIRE_PTR(path);
  mx::Optimizer &o = opt_of(opt);
  int num = 0;
  mx_ndarray_t *arrs = nullptr;
  const char **cnames = nullptr;
  check_rc(mx_ndarray_load(path, &num, &arrs, &cnames), "mx_optimizer_load_states");
  // Take ownership of the loaded handles at once.
  std::vector<mx::NDArray> arrays;
  std::vector<std::string> names;
  bool named = cnames != nullptr;
  for (int i = 0; i < num; ++i) {
    arrays.push_back(arrs[i] ? arrs[i]->arr : mx::NDArray());
    names.emplace_back(named && cnames[i] ? cnames[i] : "");
    mx_ndarray_free(arrs[i]);
  }
  MX_CHECK(named, MX_ERR_FORMAT, "mx_optimizer_load_states: '", path,
           "' holds an unnamed array list, not optimizer states");
  std::string js;
  std::vector<std::string> sn;
  std::vector<mx::NDArray> sa;
  bool found = false;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == kStateJsonName) {
      const mx::NDArray &b = arrays[i];
      MX_CHECK(b.dtype() == mx::DType::u8 && b.ndim() == 1, MX_ERR_FORMAT,
               "mx_optimizer_load_states: '", kStateJsonName, "' in '", path,
               "' is not a 1-d uint8 array");
      mx::NDArray hb = b.device().is_cpu() ? b : b.to(mx::Device());
      js.assign(static_cast<const char *>(hb.raw()), static_cast<size_t>(hb.size()));
      found = true;
    } else {
      sn.push_back(names[i]);
      sa.push_back(arrays[i]);
    }
  }
  MX_CHECK(found, MX_ERR_FORMAT, "mx_optimizer_load_states: '", path, "' has no '", kStateJsonName,
           "' entry: not an optimizer state file");
  mx::Json j;
  try {
    j = mx::Json::parse(js);
  } catch (const mx::Error &e) {
    mx::fail(MX_ERR_FORMAT, "mx_optimizer_load_states: the state JSON in '", path,
             "' is corrupt: ", e.what());
  }
  o.import_states(sn, sa, j);
  MX_API_END();
}

}  // extern "C"
