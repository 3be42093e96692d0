#include "optimizer/optimizer.h"
#include "ndarray/sparse.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <set>
#include <type_traits>

#include "base/error.h"
#include "base/half_hd.h"
#include "ops/imperative.h"
#include "ops/optimizer_gpu.h"
#include "ops/params.h"
#include "optimizer/rules.h"

namespace mx {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const std::set<std::string> kBoolKeys = {"lazy_update", "centered", "correct_bias",
                                         "bias_correction", "multi_precision"};
const std::set<std::string> kNullableKeys = {"clip_gradient", "clip_weights", "lower_bound",
                                             "upper_bound"};

bool ends_with(const std::string &s, const std::string &suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

std::string join(const std::vector<std::string> &v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out + "]";
}

int64_t json_int(const Json &v, const char *what) {
  MX_CHECK(v.is_number() && std::floor(v.as_number()) == v.as_number(), MX_ERR_INVALID_ARGUMENT,
           "optimizer: '", what, "' must be an integer, got ", v.dump());
  return v.as_int();
}

int parse_index(const std::string &s, const char *what) {
  char *end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  MX_CHECK(!s.empty() && end && *end == '\0', MX_ERR_INVALID_ARGUMENT, "optimizer: ", what,
           ": '", s, "' is not an integer index");
  return static_cast<int>(v);
}

// A working copy on the CPU in dtype t (or the array itself when it already is one).
NDArray working(const NDArray &a, DType t, bool *copied) {
  if (a.device().is_cpu() && a.dtype() == t) {
    *copied = false;
    return a;
  }
  NDArray out(a.shape(), t, Device());
  out.assign(a);
  *copied = true;
  return out;
}

// The rule over the weight rows listed in `rows` only (lazy update): gathered into contiguous
// buffers, run once, scattered back.
template <typename T>
void run_rows(const Rule &rule, const HParams &hp, GlobalState &gs, const StepArgs &a, const NDArray &w,
              const NDArray &g, const std::vector<NDArray> &states, const NDArray &rows) {
  int64_t nr = rows.size(), width = w.shape().ndim() ? w.size() / std::max<int64_t>(w.shape()[0], 1) : 1;
  size_t n = static_cast<size_t>(nr * width);
  const int64_t *r = rows.data<int64_t>();
  std::vector<T> wb(n);
  std::vector<std::vector<T>> sb(states.size(), std::vector<T>(n));
  auto each_row = [&](auto fn) {
    for (int64_t i = 0; i < nr; ++i) fn(static_cast<size_t>(i * width), static_cast<size_t>(r[i] * width));
  };
  each_row([&](size_t at, size_t src) {
    std::copy_n(w.data<T>() + src, width, wb.data() + at);
    for (size_t k = 0; k < states.size(); ++k) std::copy_n(states[k].data<T>() + src, width, sb[k].data() + at);
  });
  std::vector<T *> sp;
  for (auto &x : sb) sp.push_back(x.data());
  rule.run(hp, gs, a, wb.data(), g.data<T>(), sp.data(), static_cast<int64_t>(n));
  each_row([&](size_t at, size_t dst) {
    std::copy_n(wb.data() + at, width, w.data<T>() + dst);
    for (size_t k = 0; k < states.size(); ++k) std::copy_n(sb[k].data() + at, width, states[k].data<T>() + dst);
  });
}

// Rules with one state value per weight row (Rule::row_states): the rule runs once per row.
// rows: the rows to update (a row_sparse gradient's, whose values g holds compactly), or all rows.
template <typename T>
void run_per_row(const Rule &rule, const HParams &hp, GlobalState &gs, const StepArgs &a, const NDArray &w,
                 const NDArray &g, const std::vector<NDArray> &states, const NDArray *rows) {
  int64_t nrows = w.shape()[0], width = w.size() / std::max<int64_t>(nrows, 1);
  int64_t nr = rows ? rows->size() : nrows;
  const int64_t *r = rows ? rows->data<int64_t>() : nullptr;
  std::vector<T *> sp(states.size());
  for (int64_t i = 0; i < nr; ++i) {
    int64_t row = r ? r[i] : i;
    for (size_t k = 0; k < states.size(); ++k) sp[k] = states[k].data<T>() + row;
    rule.run(hp, gs, a, w.data<T>() + row * width, g.data<T>() + (r ? i : row) * width, sp.data(), width);
  }
}

}  // namespace

double HParams::get(const std::string &k) const {
  auto it = v.find(k);
  return it == v.end() ? kNaN : it->second;
}
bool HParams::is_set(const std::string &k) const { return !std::isnan(get(k)); }

Optimizer::~Optimizer() = default;

Optimizer::Optimizer(const std::string &name, const Json &hparams) {
  rule_ = find_rule(name);
  MX_CHECK(rule_ != nullptr, MX_ERR_INVALID_ARGUMENT, "optimizer: unknown optimizer '", name,
           "' (known: ", join(rule_names()), ")");
  name_ = rule_->name;
  MX_CHECK(hparams.is_object() || hparams.is_null(), MX_ERR_INVALID_ARGUMENT,
           "optimizer ", name_, ": hyperparameters must be a JSON object, got ", hparams.dump());
  hp_.v = {{"wd", 0.0}, {"rescale_grad", 1.0}, {"clip_gradient", kNaN}, {"multi_precision", 0.0}};
  for (const auto &kv : rule_->defaults) hp_.v[kv.first] = kv.second;

  Json lr_json, sched_json;
  if (hparams.is_object()) {
    for (const auto &kv : hparams.members()) {
      const std::string &k = kv.first;
      if (k == "learning_rate") {
        lr_json = kv.second;
      } else if (k == "lr_scheduler") {
        sched_json = kv.second;
      } else if (k == "param_idx2name" || k == "idx2name") {
        set_names(kv.second, true);
      } else if (k == "begin_num_update") {
        begin_num_update_ = json_int(kv.second, "begin_num_update");
      } else {
        apply_hparam(k, kv.second, true);
      }
    }
  }
  if (!sched_json.is_null()) {
    sched_ = LRScheduler::from_json(sched_json);
    has_scheduler_ = true;
  }
  double lr = kNaN;
  if (!lr_json.is_null()) {
    MX_CHECK(lr_json.is_number(), MX_ERR_INVALID_ARGUMENT, "optimizer ", name_,
             ": learning_rate must be a number, got ", lr_json.dump());
    lr = lr_json.as_number();
  } else if (rule_->lr_in_signature) {
    lr = rule_->default_lr;
  }
  if (!std::isnan(lr)) {
    MX_CHECK(std::isfinite(lr) && lr >= 0, MX_ERR_INVALID_ARGUMENT, "optimizer ", name_,
             ": learning_rate must be a finite number >= 0, got ", lr);
    lr_ = lr;
    // MXNet: a learning_rate that differs from the scheduler's base_lr overwrites it.
    if (has_scheduler_ && sched_.base_lr() != lr) sched_.set_base_lr(lr);
  } else {
    lr_ = has_scheduler_ ? sched_.base_lr() : rule_->default_lr;
  }
  num_update_ = begin_num_update_;
  global_["m_schedule"] = 1.0;
  // MXNet's SGD reads MXNET_OPTIMIZER_AGGREGATION_SIZE (default 4) when it is created.
  aggregate_ = rule_->aggregate;
  const char *env = std::getenv("MXNET_OPTIMIZER_AGGREGATION_SIZE");
  if (aggregate_ > 0 && env && *env) {
    char *end = nullptr;
    const long v = std::strtol(env, &end, 10);
    MX_CHECK(end && *end == '\0', MX_ERR_INVALID_ARGUMENT, "optimizer ", name_,
             ": MXNET_OPTIMIZER_AGGREGATION_SIZE must be an integer, got '", env, "'");
    aggregate_ = rule_->aggregate_max > 0 ? static_cast<int>(std::max(1L, std::min(v, long{rule_->aggregate_max})))
                                          : static_cast<int>(std::max(-1L, std::min(v, 1L << 20)));
  }
}

void Optimizer::apply_hparam(const std::string &key, const Json &value, bool constructing) {
  auto it = hp_.v.find(key);
  if (it == hp_.v.end()) {
    std::vector<std::string> known = {"learning_rate", "lr_scheduler", "param_idx2name",
                                      "begin_num_update"};
    for (const auto &kv : hp_.v) known.push_back(kv.first);
    fail(MX_ERR_INVALID_ARGUMENT, "optimizer ", name_, ": unknown hyperparameter '", key,
         "' (accepted: ", join(known), ")");
  }
  double v;
  if (value.is_null()) {
    MX_CHECK(kNullableKeys.count(key), MX_ERR_INVALID_ARGUMENT, "optimizer ", name_, ": '", key,
             "' cannot be null");
    v = kNaN;
  } else if (value.is_bool()) {
    v = value.as_bool() ? 1.0 : 0.0;
  } else {
    MX_CHECK(value.is_number(), MX_ERR_INVALID_ARGUMENT, "optimizer ", name_, ": '", key,
             "' must be a number, got ", value.dump());
    v = value.as_number();
    MX_CHECK(std::isfinite(v), MX_ERR_INVALID_ARGUMENT, "optimizer ", name_, ": '", key,
             "' must be finite, got ", value.dump());
  }
  if (!constructing && !states_.empty()) {
    bool layout = key == "multi_precision" ||
                  std::find(rule_->layout_keys.begin(), rule_->layout_keys.end(), key) !=
                      rule_->layout_keys.end();
    if (layout) {
      HParams next = hp_;
      next.v[key] = v;
      MX_CHECK(rule_->states(next) == rule_->states(hp_) &&
                   (key != "multi_precision" || (v != 0) == hp_.flag("multi_precision")),
               MX_ERR_INVALID_ARGUMENT, "optimizer ", name_, ": cannot change '", key,
               "' to ", value.dump(), " after states were created (it changes the state layout)");
    }
  }
  it->second = v;
}

void Optimizer::set(const std::string &key, const Json &value) {
  if (key == "learning_rate") {
    MX_CHECK(!has_scheduler_, MX_ERR_INVALID_ARGUMENT, "optimizer ", name_,
             ": an LRScheduler is defined; set_learning_rate can only change the rate of an "
             "optimizer without one");
    MX_CHECK(value.is_number() && std::isfinite(value.as_number()) && value.as_number() >= 0,
             MX_ERR_INVALID_ARGUMENT, "optimizer ", name_,
             ": learning_rate must be a finite number >= 0, got ", value.dump());
    lr_ = value.as_number();
  } else if (key == "lr_scheduler") {
    if (value.is_null()) {
      has_scheduler_ = false;
    } else {
      sched_ = LRScheduler::from_json(value);
      has_scheduler_ = true;
    }
  } else if (key == "lr_mult") {
    set_mults(value, false);
  } else if (key == "wd_mult") {
    set_mults(value, true);
  } else if (key == "idx2name" || key == "param_idx2name") {
    set_names(value, false);  // assigned after construction: MXNet's wd_mult stays as it was
  } else if (key == "num_update") {
    num_update_ = json_int(value, "num_update");
  } else if (key == "begin_num_update") {
    begin_num_update_ = json_int(value, "begin_num_update");
  } else if (key == "aggregate_num") {
    aggregate_ = static_cast<int>(std::max<int64_t>(-1, std::min<int64_t>(json_int(value, "aggregate_num"), 1 << 20)));
  } else {
    apply_hparam(key, value, false);
  }
}

void Optimizer::set_names(const Json &value, bool name_rule) {
  MX_CHECK(value.is_object(), MX_ERR_INVALID_ARGUMENT, "optimizer ", name_,
           ": idx2name must be a JSON object {\"index\": \"name\"}, got ", value.dump());
  for (const auto &kv : value.members()) {
    MX_CHECK(kv.second.is_string(), MX_ERR_INVALID_ARGUMENT, "optimizer ", name_,
             ": idx2name values must be strings, got ", kv.second.dump());
    set_index(parse_index(kv.first, "idx2name"), kv.second.as_string().c_str(), kNaN, kNaN, name_rule);
  }
}

void Optimizer::set_index(int index, const char *name, double lr_mult, double wd_mult, bool name_rule) {
  if (name && *name) {
    std::string n(name);
    idx2name_[index] = n;
    // MXNet's set_wd_mult: parameters whose names end neither in _weight nor _gamma (biases,
    // BatchNorm beta, ...) get no weight decay unless a wd_mult is given for them.
    if (name_rule && !(ends_with(n, "_weight") || ends_with(n, "_gamma")) && !wd_mult_name_.count(n))
      wd_mult_name_[n] = 0.0;
  }
  if (!std::isnan(lr_mult)) lr_mult_idx_[index] = lr_mult;
  if (!std::isnan(wd_mult)) wd_mult_idx_[index] = wd_mult;
}

int Optimizer::index_of_name(const std::string &name) const {
  for (const auto &kv : idx2name_)
    if (kv.second == name) return kv.first;
  return -1;
}

void Optimizer::set_mults(const Json &value, bool is_wd) {
  const char *what = is_wd ? "wd_mult" : "lr_mult";
  MX_CHECK(value.is_array() || value.is_object(), MX_ERR_INVALID_ARGUMENT, "optimizer ", name_,
           ": ", what, " must be a list of [index_or_name, mult] pairs or an object {name: mult}");
  std::map<int, double> by_idx;
  std::map<std::string, double> by_name;
  if (is_wd) {  // MXNet's set_wd_mult starts from the name rule
    for (const auto &kv : idx2name_)
      if (!(ends_with(kv.second, "_weight") || ends_with(kv.second, "_gamma")))
        by_name[kv.second] = 0.0;
  }
  auto add = [&](const Json &k, const Json &v) {
    MX_CHECK(v.is_number(), MX_ERR_INVALID_ARGUMENT, "optimizer ", name_, ": ", what,
             " values must be numbers, got ", v.dump());
    if (k.is_number()) {
      by_idx[static_cast<int>(json_int(k, what))] = v.as_number();
    } else {
      MX_CHECK(k.is_string(), MX_ERR_INVALID_ARGUMENT, "optimizer ", name_, ": ", what,
               " keys must be indices or names, got ", k.dump());
      by_name[k.as_string()] = v.as_number();
    }
  };
  if (value.is_object()) {
    for (const auto &kv : value.members()) add(Json(kv.first), kv.second);
  } else {
    for (const Json &p : value.items()) {
      MX_CHECK(p.is_array() && p.size() == 2, MX_ERR_INVALID_ARGUMENT, "optimizer ", name_, ": ",
               what, " entries must be [index_or_name, mult] pairs, got ", p.dump());
      add(p.items()[0], p.items()[1]);
    }
  }
  if (is_wd) {
    wd_mult_idx_ = by_idx;
    wd_mult_name_ = by_name;
  } else {
    lr_mult_idx_ = by_idx;
    lr_mult_name_ = by_name;
  }
}

double Optimizer::base_lr_now() { return has_scheduler_ ? sched_(num_update_) : lr_; }

double Optimizer::lr_for(int index) const {
  auto it = lr_mult_idx_.find(index);
  if (it != lr_mult_idx_.end()) return it->second;
  auto nt = idx2name_.find(index);
  if (nt != idx2name_.end()) {
    auto m = lr_mult_name_.find(nt->second);
    if (m != lr_mult_name_.end()) return m->second;
  }
  return 1.0;
}

double Optimizer::wd_for(int index) const {
  auto it = wd_mult_idx_.find(index);
  if (it != wd_mult_idx_.end()) return it->second;
  auto nt = idx2name_.find(index);
  if (nt != idx2name_.end()) {
    auto m = wd_mult_name_.find(nt->second);
    if (m != wd_mult_name_.end()) return m->second;
  }
  return 1.0;
}

double Optimizer::learning_rate() { return base_lr_now(); }

void Optimizer::bump_count(int index) {
  auto it = counts_.find(index);
  if (it == counts_.end()) it = counts_.emplace(index, begin_num_update_).first;
  ++it->second;
  num_update_ = std::max(num_update_, it->second);
}

std::vector<std::string> Optimizer::rule_state_names() const { return rule_->states(hp_); }

Optimizer::IndexState Optimizer::make_state(const NDArray &weight) const {
  IndexState st;
  st.shape = weight.shape();
  DType wt = weight.dtype();
  st.mp = hp_.flag("multi_precision") && (wt == DType::f16 || wt == DType::bf16);
  DType sdt = st.mp ? DType::f32 : wt;
  if (st.mp) {
    NDArray master(weight.shape(), DType::f32, Device());
    master.assign(weight);
    st.names.push_back("weight32");
    st.arrays.push_back(master);
  }
  if (rule_->row_states)
    MX_CHECK(weight.ndim() == 2, MX_ERR_SHAPE, "optimizer ", name_, ": the weight must be 2-d (one ",
             "state value per row), got shape ", weight.shape().str());
  if (rule_->row_states) st.shape = Shape({weight.shape()[0], 1});  // as a loaded state file has it
  for (const auto &n : rule_state_names()) {
    NDArray a(rule_->row_states ? Shape({weight.shape()[0], 1}) : weight.shape(), sdt, Device());
    a.fill(0.0);
    st.names.push_back(n);
    st.arrays.push_back(a);
  }
  return st;
}

StepArgs Optimizer::step_args(int index, double lr) const {
  StepArgs a;
  a.lr = lr * lr_for(index);
  a.wd = hp_.get("wd") * wd_for(index);
  a.rescale = hp_.get("rescale_grad");
  double c = hp_.get("clip_gradient");
  if (std::isnan(c)) c = -1;
  else if (c == 0 && !rule_->python_clip) c = -1;  // MXNet passes clip_gradient only if truthy
  a.clip = c;
  auto it = counts_.find(index);
  a.t = it == counts_.end() ? 0 : it->second;
  return a;
}

void Optimizer::step_one(int index, const NDArray &weight, const NDArray &grad, double lr) {
  auto it = states_.find(index);
  if (it == states_.end()) it = states_.emplace(index, make_state(weight)).first;
  IndexState &st = it->second;
  StepArgs a = step_args(index, lr);

  const DType ct = (!st.mp && weight.dtype() == DType::f64) ? DType::f64 : DType::f32;
  size_t first = st.mp ? 1 : 0;
  // A weight on a GPU with an element-wise rule: the same formula runs there (ops/formulas/
  // optimizer.h); formula() is asked last since it advances optimizer-wide state.
  UpdateRule form;
  UpdCoef<double> coef;
  if (!weight.device().is_cpu() && !rule_->row_states && !grad.is_sparse() &&
      rule_->formula(hp_, global_, a, &form, &coef)) {
    step_on_device(st, weight, grad, ct, form, coef);
    return;
  }
  bool wcopy = false, gcopy = false;
  NDArray w = st.mp ? st.arrays[0] : working(weight, ct, &wcopy);
  // A row_sparse gradient: with lazy_update (sgd, adam), always (adagrad) or for row_sparse
  // weights (ftrl), only its rows of the weight and states change, as MXNet's sparse update kernels; otherwise it is the
  // dense gradient with zero rows.
  const bool lazy = grad.is_sparse() && stype_of(grad) == SType::row_sparse &&
                    (rule_->sparse_rows == Rule::kRowsAlways ||
                     (rule_->sparse_rows == Rule::kRowsIfLazy && hp_.flag("lazy_update")) ||
                     (rule_->sparse_rows == Rule::kRowsIfSparseWeight && sparse_weights_.count(index)));
  // (wd was checked in update.) MXNet's sparse kernel gets clip_gradient only if truthy.
  if (lazy && rule_->sparse_rows_no_wd && a.clip == 0) a.clip = -1;
  NDArray g = lazy ? working(grad.sparse()->data, ct, &gcopy) : working(to_dense(grad), ct, &gcopy);
  std::vector<NDArray> s;
  std::vector<bool> scopy;
  for (size_t i = first; i < st.arrays.size(); ++i) {
    bool cp = false;
    s.push_back(working(st.arrays[i], ct, &cp));
    scopy.push_back(cp);
  }
  const int64_t n = w.size();
  if (rule_->row_states) {
    const NDArray *rows = lazy ? &grad.sparse()->indices : nullptr;
    if (ct == DType::f32) run_per_row<float>(*rule_, hp_, global_, a, w, g, s, rows);
    else run_per_row<double>(*rule_, hp_, global_, a, w, g, s, rows);
  } else if (lazy) {
    const NDArray &rows = grad.sparse()->indices;
    if (ct == DType::f32) run_rows<float>(*rule_, hp_, global_, a, w, g, s, rows);
    else run_rows<double>(*rule_, hp_, global_, a, w, g, s, rows);
  } else if (ct == DType::f32) {
    std::vector<float *> sp;
    for (auto &x : s) sp.push_back(x.data<float>());
    rule_->run(hp_, global_, a, w.data<float>(), g.data<float>(), sp.data(), n);
  } else {
    std::vector<double *> sp;
    for (auto &x : s) sp.push_back(x.data<double>());
    rule_->run(hp_, global_, a, w.data<double>(), g.data<double>(), sp.data(), n);
  }
  for (size_t i = 0; i < s.size(); ++i)
    if (scopy[i]) st.arrays[first + i].assign(s[i]);
  if (st.mp || wcopy) weight.assign(w);
}

// States (and the float32 master weight) live on the weight's device from the first GPU step
// on: created or loaded on the CPU, they move once.
void Optimizer::place_states(IndexState &st, Device dev, DType ct) {
  for (size_t i = 0; i < st.arrays.size(); ++i) {
    const DType want = st.mp ? DType::f32 : ct;
    if (st.arrays[i].device() != dev || st.arrays[i].dtype() != want) {
      NDArray moved(st.arrays[i].shape(), want, dev);
      moved.assign(st.arrays[i]);
      st.arrays[i] = moved;
    }
  }
}

namespace {

// One multi-tensor launch per table of kMultiMax weights (formulas/optimizer_multi.h): weights,
// gradients and states already on the GPU; W the weight's element type, S the states'.
template <bool MP, typename T> struct ChunkTable {
  using W = hd_elem_t<T>;
  using S = std::conditional_t<MP, float, T>;
  static void run(UpdateRule form, const std::vector<UpdCoef<double>> &coefs, const std::vector<const NDArray *> &w,
                  const std::vector<const NDArray *> &g, const std::vector<std::vector<NDArray> *> &states,
                  int device, const char *what) {
    const int n = static_cast<int>(w.size());
    for (int first = 0; first < n; first += kMultiMax) {
      MultiTable<W, S> t;
      t.count = std::min(kMultiMax, n - first);
      t.rule_coefs = true;  // the rule's own lr and bias corrections (AdamW)
      for (int j = 0; j < t.count; ++j) {
        const size_t i = static_cast<size_t>(first + j);
        const std::vector<NDArray> &st = *states[i];
        const size_t s0 = MP ? 1 : 0;  // (weight32, states...) under multi-precision
        t.size[j] = w[i]->size();
        t.w[j] = hd_ptr(w[i]->template cdata<T>());
        t.g[j] = hd_ptr(g[i]->template cdata<T>());
        t.o[j] = hd_ptr(w[i]->template data<T>());
        t.s0[j] = st.size() > s0 ? st[s0].data<S>() : nullptr;
        t.s1[j] = st.size() > s0 + 1 ? st[s0 + 1].data<S>() : nullptr;  // (AdamW: mean, var)
        t.w32[j] = MP ? st[0].data<S>() : nullptr;
        t.lr[j] = S(coefs[i].lr);
        t.wd[j] = S(coefs[i].wd);
        t.eta[j] = S(0);
        t.c1[j] = S(coefs[i].c1);
        t.c2[j] = S(coefs[i].c2);
      }
      gpu_update_multi<MP, W, S>(form, coefs[static_cast<size_t>(first)], t, device, what);
    }
  }
};

}  // namespace

// An aggregated chunk on one GPU (MXNet's multi_sgd_* path): one launch per table instead of one
// per weight. false (nothing done) where the chunk does not qualify: the caller steps index by
// index. Same formula and coefficients as step_on_device, so the results are the same.
bool Optimizer::step_chunk_on_device(const std::vector<int> &indices, const std::vector<const NDArray *> &weights,
                                     const std::vector<const NDArray *> &grads, double lr) {
  const size_t n = indices.size();
  if (n < 2 || rule_->row_states) return false;
  const Device dev = weights[0]->device();
  const DType wt = weights[0]->dtype();
  if (dev.is_cpu()) return false;
  for (size_t i = 0; i < n; ++i)
    if (weights[i]->device() != dev || weights[i]->dtype() != wt || grads[i]->is_sparse() ||
        grads[i]->device() != dev || grads[i]->dtype() != wt)
      return false;
  const bool mp = hp_.flag("multi_precision") && (wt == DType::f16 || wt == DType::bf16);
  if (!mp && wt != DType::f32 && wt != DType::f64) return false;
  std::vector<UpdCoef<double>> coefs(n);
  UpdateRule form = UpdateRule::Sgd;
  for (size_t i = 0; i < n; ++i) {
    UpdateRule f;
    if (!rule_->formula(hp_, global_, step_args(indices[i], lr), &f, &coefs[i])) return false;
    if ((f != UpdateRule::Sgd && f != UpdateRule::SgdMom && f != UpdateRule::AdamW) || (i > 0 && f != form))
      return false;
    form = f;
  }
  std::vector<std::vector<NDArray> *> states(n);
  for (size_t i = 0; i < n; ++i) {
    auto it = states_.find(indices[i]);
    if (it == states_.end()) it = states_.emplace(indices[i], make_state(*weights[i])).first;
    place_states(it->second, dev, wt);
    states[i] = &it->second.arrays;
  }
  const std::string what = "optimizer " + name_;
  if (mp && wt == DType::f16) ChunkTable<true, half_t>::run(form, coefs, weights, grads, states, dev.id, what.c_str());
  else if (mp) ChunkTable<true, bf16_t>::run(form, coefs, weights, grads, states, dev.id, what.c_str());
  else if (wt == DType::f64) ChunkTable<false, double>::run(form, coefs, weights, grads, states, dev.id, what.c_str());
  else ChunkTable<false, float>::run(form, coefs, weights, grads, states, dev.id, what.c_str());
  return true;
}

// MXNet's aggregated LAMB: one _multi_lamb_update / _multi_mp_lamb_update call for a chunk whose
// dense weights and gradients share one device and dtype (float32/float64, or float16/bfloat16
// with multi_precision), on that device (CPU or GPU); lrs[k]: the rate read after index k's count.
// As MXNet's operator, the mp form's trust ratio uses the norm of the 16-bit weight (the single
// path: the master's), so aggregated and one-by-one steps agree to rounding, not bit for bit.
// false (nothing done) where the chunk does not qualify: the caller steps index by index.
bool Optimizer::step_chunk_multi_op(const std::vector<int> &indices, const std::vector<const NDArray *> &weights,
                                    const std::vector<const NDArray *> &grads, const std::vector<double> &lrs) {
  const size_t n = indices.size();
  if (n == 0) return false;
  const Device dev = weights[0]->device();
  const DType wt = weights[0]->dtype();
  for (size_t i = 0; i < n; ++i)
    if (weights[i]->is_sparse() || grads[i]->is_sparse() || weights[i]->device() != dev ||
        weights[i]->dtype() != wt || grads[i]->device() != dev || grads[i]->dtype() != wt)
      return false;
  const bool mp = hp_.flag("multi_precision") && (wt == DType::f16 || wt == DType::bf16);
  if (!mp && wt != DType::f32 && wt != DType::f64) return false;
  auto num = [](double x) {
    char b[40];
    std::snprintf(b, sizeof b, "%.17g", x);
    return std::string(b);
  };
  std::string lr_list = "(", wd_list = "(", steps = "(";
  std::vector<NDArray> inputs, outs;
  StepArgs a;
  for (size_t i = 0; i < n; ++i) {
    auto it = states_.find(indices[i]);
    if (it == states_.end()) it = states_.emplace(indices[i], make_state(*weights[i])).first;
    place_states(it->second, dev, wt == DType::f64 ? DType::f64 : DType::f32);
    const std::vector<NDArray> &st = it->second.arrays;  // (weight32,) mean, var
    const size_t s0 = mp ? 1 : 0;
    inputs.push_back(*weights[i]);
    inputs.push_back(*grads[i]);
    inputs.push_back(st[s0]);
    inputs.push_back(st[s0 + 1]);
    if (mp) inputs.push_back(st[0]);
    outs.push_back(*weights[i]);
    a = step_args(indices[i], lrs[i]);
    lr_list += num(a.lr) + ",";
    wd_list += num(a.wd) + ",";
    steps += std::to_string(a.t) + ",";
  }
  Kwargs kw = {{"num_tensors", std::to_string(n)},
               {"learning_rates", lr_list + ")"},
               {"wds", wd_list + ")"},
               {"step_count", steps + ")"},
               {"beta1", num(hp_.get("beta1"))},
               {"beta2", num(hp_.get("beta2"))},
               {"epsilon", num(hp_.get("epsilon"))},
               {"bias_correction", hp_.flag("bias_correction") ? "True" : "False"},
               {"rescale_grad", num(a.rescale)},
               {"clip_gradient", num(a.clip)}};
  // MXNet passes the bounds only when truthy (unset or 0: no bound)
  for (const char *b : {"lower_bound", "upper_bound"})
    if (hp_.is_set(b) && hp_.get(b) != 0) kw.push_back({b, num(hp_.get(b))});
  const OpDef &def = Registry::get().require(mp ? "_multi_mp_lamb_update" : "_multi_lamb_update");
  invoke(&def, parse_params(&def, kw), inputs, &outs);
  return true;
}

void Optimizer::step_on_device(IndexState &st, const NDArray &weight, const NDArray &grad, DType ct,
                               UpdateRule form, const UpdCoef<double> &coef) {
  const Device dev = weight.device();
  place_states(st, dev, ct);
  auto on_device = [&](const NDArray &a, bool *copied) {
    *copied = a.device() != dev || a.dtype() != ct;
    if (!*copied) return a;
    NDArray c(a.shape(), ct, dev);
    c.assign(a);
    return c;
  };
  bool wcopy = false, gcopy = false;
  std::vector<NDArray> s(st.arrays.begin() + (st.mp ? 1 : 0), st.arrays.end());
  const std::string what = "optimizer " + name_;
  if (st.mp) {
    // One kernel reads the float16/bfloat16 gradient, steps the float32 master and states and
    // writes the rounded weight in place (no float32 copies of the weight or gradient).
    NDArray g = grad;
    if (g.device() != dev || g.dtype() != weight.dtype()) {
      g = NDArray(grad.shape(), weight.dtype(), dev);
      g.assign(grad);
    }
    gpu_update_mp(form, coef, g, weight, st.arrays[0], s, what.c_str());
    return;
  }
  NDArray w = on_device(weight, &wcopy);
  NDArray g = on_device(grad, &gcopy);
  gpu_update(form, coef, w, g, w, s, what.c_str());
  if (wcopy) weight.assign(w);
}

void Optimizer::update(const std::vector<int> &indices, const std::vector<NDArray> &weights,
                       const std::vector<NDArray> &grads) {
  const size_t num = indices.size();
  // Validate everything first, so a bad call changes nothing.
  for (size_t i = 0; i < num; ++i) {
    const NDArray &w = weights[i], &g = grads[i];
    int idx = indices[i];
    MX_CHECK(dtype_is_float(w.dtype()), MX_ERR_TYPE, "optimizer ", name_, ": index ", idx,
             ": weight dtype ", dtype_name(w.dtype()), " is not a floating-point type");
    MX_CHECK(dtype_is_float(g.dtype()), MX_ERR_TYPE, "optimizer ", name_, ": index ", idx,
             ": gradient dtype ", dtype_name(g.dtype()), " is not a floating-point type");
    MX_CHECK(w.shape() == g.shape(), MX_ERR_SHAPE, "optimizer ", name_, ": index ", idx,
             ": weight shape ", w.shape().str(), " and gradient shape ", g.shape().str(),
             " differ");
    if (rule_->no_wd) {
      double wd = hp_.get("wd") * wd_for(idx);
      MX_CHECK(wd == 0, MX_ERR_INVALID_ARGUMENT, "optimizer ", name_, ": index ", idx,
               ": weight decay is not supported (MXNet 1.9.1 refuses it too); got wd=", wd);
    }
    if (rule_->sparse_rows_no_wd && g.is_sparse() && stype_of(g) == SType::row_sparse) {
      double wd = hp_.get("wd") * wd_for(idx);
      MX_CHECK(wd == 0, MX_ERR_INVALID_ARGUMENT, "optimizer ", name_, ": index ", idx,
               ": a row_sparse gradient is applied by the sparse ", name_, " update, which does "
               "not support weight decay (MXNet 1.9.1 refuses it too); got wd=", wd,
               " (set wd=0 or wd_mult=0 for this parameter, or use a dense gradient)");
    }
    auto it = states_.find(idx);
    if (it != states_.end()) {
      // (row_states rules keep (rows, 1) states: compare what this weight's states would be)
      const Shape want = rule_->row_states && w.ndim() == 2 ? Shape({w.shape()[0], 1}) : w.shape();
      MX_CHECK(it->second.shape == want, MX_ERR_SHAPE, "optimizer ", name_, ": index ", idx,
               ": weight shape ", w.shape().str(), " differs from the shape ",
               it->second.shape.str(), " of its optimizer state");
      bool mp = hp_.flag("multi_precision") && (w.dtype() == DType::f16 || w.dtype() == DType::bf16);
      MX_CHECK(mp == it->second.mp, MX_ERR_INVALID_ARGUMENT, "optimizer ", name_, ": index ", idx,
               ": the state ", it->second.mp ? "has" : "has no", " float32 master weight but the ",
               dtype_name(w.dtype()), " weight with multi_precision=",
               hp_.flag("multi_precision") ? "true" : "false", mp ? " needs one" : " needs none");
    }
  }
  if (aggregate_ > 0) {
    // MXNet's aggregated SGD: indices grouped by weight dtype (first-seen order), chunks of
    // `aggregate`; each chunk counts all its indices, then reads the rate once.
    std::vector<DType> order;
    for (const auto &w : weights)
      if (std::find(order.begin(), order.end(), w.dtype()) == order.end()) order.push_back(w.dtype());
    for (DType dt : order) {
      std::vector<size_t> sel;
      for (size_t i = 0; i < num; ++i)
        if (weights[i].dtype() == dt) sel.push_back(i);
      for (size_t b = 0; b < sel.size(); b += static_cast<size_t>(aggregate_)) {
        size_t e = std::min(sel.size(), b + static_cast<size_t>(aggregate_));
        std::vector<int> ci;
        std::vector<const NDArray *> cw, cg;
        for (size_t k = b; k < e; ++k) {
          ci.push_back(indices[sel[k]]);
          cw.push_back(&weights[sel[k]]);
          cg.push_back(&grads[sel[k]]);
        }
        if (rule_->multi_tensor_op) {
          // MXNet's LAMB: each index counted, then its rate read; a call with several weights runs
          // the multi-tensor operator per chunk (aggregate_num 1: one by one, its single path)
          std::vector<double> lrs;
          for (size_t k = b; k < e; ++k) {
            bump_count(indices[sel[k]]);
            lrs.push_back(base_lr_now());
          }
          if (aggregate_ > 1 && num > 1 && step_chunk_multi_op(ci, cw, cg, lrs)) continue;
          for (size_t k = b; k < e; ++k) step_one(indices[sel[k]], weights[sel[k]], grads[sel[k]], lrs[k - b]);
          continue;
        }
        for (size_t k = b; k < e; ++k) bump_count(indices[sel[k]]);
        double lr = base_lr_now();
        if (step_chunk_on_device(ci, cw, cg, lr)) continue;
        for (size_t k = b; k < e; ++k) step_one(indices[sel[k]], weights[sel[k]], grads[sel[k]], lr);
      }
    }
  } else {
    for (size_t i = 0; i < num; ++i) {
      bump_count(indices[i]);
      double lr = base_lr_now();
      step_one(indices[i], weights[i], grads[i], lr);
    }
  }
}

Json Optimizer::mults_json(const std::map<int, double> &by_idx,
                           const std::map<std::string, double> &by_name) const {
  Json out = Json::array();
  for (const auto &kv : by_idx) {
    Json p = Json::array();
    p.push(kv.first);
    p.push(kv.second);
    out.push(p);
  }
  for (const auto &kv : by_name) {
    Json p = Json::array();
    p.push(kv.first);
    p.push(kv.second);
    out.push(p);
  }
  return out;
}

Json Optimizer::to_json() const {
  Json j = Json::object();
  j.set("format", "mx.optimizer_state");
  j.set("version", 1);
  j.set("name", name_);
  Json hp = Json::object();
  hp.set("learning_rate", lr_);
  for (const auto &kv : hp_.v) {
    if (std::isnan(kv.second)) hp.set(kv.first, Json());
    else if (kBoolKeys.count(kv.first)) hp.set(kv.first, kv.second != 0.0);
    else hp.set(kv.first, kv.second);
  }
  j.set("hparams", hp);
  j.set("lr_scheduler", has_scheduler_ ? sched_.to_json() : Json());
  j.set("begin_num_update", begin_num_update_);
  j.set("num_update", num_update_);
  j.set("aggregate_num", aggregate_);
  Json counts = Json::object();
  for (const auto &kv : counts_) counts.set(std::to_string(kv.first), kv.second);
  j.set("index_update_count", counts);
  Json names = Json::object();
  for (const auto &kv : idx2name_) names.set(std::to_string(kv.first), kv.second);
  j.set("idx2name", names);
  j.set("lr_mult", mults_json(lr_mult_idx_, lr_mult_name_));
  j.set("wd_mult", mults_json(wd_mult_idx_, wd_mult_name_));
  Json g = Json::object();
  for (const auto &kv : global_) g.set(kv.first, kv.second);
  j.set("global_state", g);
  Json sn = Json::object();
  for (const auto &kv : states_) {
    Json a = Json::array();
    for (const auto &n : kv.second.names) a.push(n);
    sn.set(std::to_string(kv.first), a);
  }
  j.set("state_names", sn);
  return j;
}

void Optimizer::export_states(std::vector<std::string> *names, std::vector<NDArray> *arrays) const {
  for (const auto &kv : states_) {
    for (size_t i = 0; i < kv.second.names.size(); ++i) {
      names->push_back(std::to_string(kv.first) + ":" + kv.second.names[i]);
      // Saved states are host arrays whatever device the updates ran on.
      const NDArray &a = kv.second.arrays[i];
      NDArray c(a.shape(), a.dtype(), Device());
      c.assign(a);
      arrays->push_back(c);
    }
  }
}

void Optimizer::import_states(const std::vector<std::string> &names,
                              const std::vector<NDArray> &arrays, const Json &j) {
  const char *F = "optimizer import_states";
  MX_CHECK(j.is_object() && j["name"].is_string(), MX_ERR_FORMAT, F,
           ": the state JSON has no optimizer name (not an MX optimizer state?)");
  MX_CHECK(j["name"].as_string() == name_, MX_ERR_INVALID_ARGUMENT, F, ": the states belong to "
           "optimizer '", j["name"].as_string(), "' but this optimizer is '", name_, "'");
  // Group arrays by index.
  std::map<int, std::vector<std::pair<std::string, NDArray>>> by_idx;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string &n = names[i];
    size_t colon = n.find(':');
    MX_CHECK(colon != std::string::npos, MX_ERR_FORMAT, F, ": array name '", n,
             "' is not of the form <index>:<state>");
    int idx = parse_index(n.substr(0, colon), F);
    MX_CHECK(arrays[i].defined(), MX_ERR_INVALID_ARGUMENT, F, ": array '", n, "' is NULL");
    by_idx[idx].emplace_back(n.substr(colon + 1), arrays[i]);
  }
  const Json &sn = j["state_names"];
  std::map<int, IndexState> next;
  const std::vector<std::string> expected = rule_state_names();
  std::set<int> all;
  for (const auto &kv : by_idx) all.insert(kv.first);
  if (sn.is_object())
    for (const auto &kv : sn.members()) all.insert(parse_index(kv.first, F));
  for (int idx : all) {
    IndexState st;
    const auto &entries = by_idx[idx];
    bool mp = !entries.empty() && entries[0].first == "weight32";
    std::vector<std::string> got;
    for (size_t k = mp ? 1 : 0; k < entries.size(); ++k) got.push_back(entries[k].first);
    MX_CHECK(!mp || hp_.flag("multi_precision"), MX_ERR_INVALID_ARGUMENT, F, ": index ", idx,
             " has a float32 master weight (saved with multi_precision=true) but this optimizer "
             "has multi_precision=false");
    MX_CHECK(got == expected, MX_ERR_INVALID_ARGUMENT, F, ": index ", idx, ": the file has states ",
             join(got), " but optimizer '", name_, "' with these hyperparameters uses ",
             join(expected));
    for (const auto &e : entries) {
      if (!st.shape.known()) st.shape = e.second.shape();
      MX_CHECK(e.second.shape() == st.shape, MX_ERR_INVALID_ARGUMENT, F, ": index ", idx,
               ": state '", e.first, "' has shape ", e.second.shape().str(), " but '",
               entries[0].first, "' has ", st.shape.str());
      MX_CHECK(dtype_is_float(e.second.dtype()), MX_ERR_INVALID_ARGUMENT, F, ": index ", idx,
               ": state '", e.first, "' has dtype ", dtype_name(e.second.dtype()));
      NDArray c(e.second.shape(), e.first == "weight32" ? DType::f32 : e.second.dtype(), Device());
      c.assign(e.second);
      st.names.push_back(e.first);
      st.arrays.push_back(c);
    }
    if (entries.empty()) st.shape = Shape::unknown();
    st.mp = mp;
    auto cur = states_.find(idx);
    if (cur != states_.end() && st.shape.known()) {
      MX_CHECK(cur->second.shape == st.shape, MX_ERR_INVALID_ARGUMENT, F, ": index ", idx,
               ": the saved state has shape ", st.shape.str(), " but this optimizer's parameter ",
               idx, " has shape ", cur->second.shape.str());
    }
    if (st.shape.known()) next[idx] = st;
  }
  // Counters, per-index settings, scheduler and shared state.
  std::map<int, int64_t> counts;
  const Json &jc = j["index_update_count"];
  if (jc.is_object())
    for (const auto &kv : jc.members())
      counts[parse_index(kv.first, F)] = json_int(kv.second, "index_update_count");
  bool sched = false;
  LRScheduler s;
  if (j["lr_scheduler"].is_object()) {
    s = LRScheduler::from_json(j["lr_scheduler"]);
    sched = true;
  }
  GlobalState g = global_;
  if (j["global_state"].is_object())
    for (const auto &kv : j["global_state"].members())
      if (kv.second.is_number()) g[kv.first] = kv.second.as_number();
  // Commit (MXNet's set_states replaces the whole state dict).
  states_ = next;
  counts_ = counts;
  if (j["num_update"].is_number()) num_update_ = json_int(j["num_update"], "num_update");
  if (j["begin_num_update"].is_number())
    begin_num_update_ = json_int(j["begin_num_update"], "begin_num_update");
  if (sched) {
    sched_ = s;
    has_scheduler_ = true;
  }
  global_ = g;
  if (j["idx2name"].is_object()) set("idx2name", j["idx2name"]);
  if (j["lr_mult"].is_array()) set_mults(j["lr_mult"], false);
  if (j["wd_mult"].is_array()) {
    // Restore exactly what was saved (the name rule is already folded in).
    std::map<int, double> bi;
    std::map<std::string, double> bn;
    for (const Json &p : j["wd_mult"].items()) {
      if (!p.is_array() || p.size() != 2 || !p.items()[1].is_number()) continue;
      if (p.items()[0].is_number()) bi[static_cast<int>(p.items()[0].as_int())] = p.items()[1].as_number();
      else if (p.items()[0].is_string()) bn[p.items()[0].as_string()] = p.items()[1].as_number();
    }
    wd_mult_idx_ = bi;
    wd_mult_name_ = bn;
  }
}

}  // namespace mx
