// Optimizers with MXNet 1.x semantics (mxnet.optimizer + the update operators it calls). All
// update math lives here; front ends only pass hyperparameters, indices, weights and gradients.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/json.h"
#include "ndarray/ndarray.h"
#include "ops/formulas/optimizer.h"
#include "optimizer/lr_scheduler.h"

namespace mx {

// Hyperparameters of one optimizer: numbers, booleans (0/1) and "unset" (NaN) values.
struct HParams {
  std::map<std::string, double> v;
  double get(const std::string &k) const;
  bool flag(const std::string &k) const { return get(k) != 0.0; }
  bool is_set(const std::string &k) const;
};

// Per-call values handed to an update rule.
struct StepArgs {
  double lr = 0, wd = 0, rescale = 1, clip = -1;  // clip < 0: no clipping
  int64_t t = 0;                                   // this index's update count (after increment)
};

// Mutable optimizer-wide state shared by all indices (e.g. Nadam's m_schedule).
using GlobalState = std::map<std::string, double>;

class Rule;

class Optimizer {
 public:
  Optimizer(const std::string &name, const Json &hparams);
  ~Optimizer();

  const std::string &name() const { return name_; }
  void set(const std::string &key, const Json &value);
  // name_rule: MXNet's set_wd_mult rule (no weight decay for names ending neither in _weight nor
  // _gamma), which MXNet applies only to the names given at construction (param_idx2name):
  // names assigned later (optimizer.idx2name = ..., a kvstore's string keys) keep wd_mult 1.
  void set_index(int index, const char *name, double lr_mult, double wd_mult, bool name_rule = true);
  // The index registered for a parameter name (idx2name), or -1 (KVStore string keys).
  int index_of_name(const std::string &name) const;
  void update(const std::vector<int> &indices, const std::vector<NDArray> &weights,
              const std::vector<NDArray> &grads);
  // The weight of `index` is row_sparse in MXNet's sense (a row_sparse Parameter kept in a
  // kvstore, stored densely here): rules whose sparse kernel needs that (ftrl) update only the
  // rows of its row_sparse gradients.
  void mark_sparse_weight(int index) { sparse_weights_.insert(index); }
  double learning_rate();
  Json to_json() const;
  // Named state arrays "<index>:<state>" (deep copies) and the JSON of to_json().
  void export_states(std::vector<std::string> *names, std::vector<NDArray> *arrays) const;
  void import_states(const std::vector<std::string> &names, const std::vector<NDArray> &arrays,
                     const Json &j);

 private:
  struct IndexState {
    std::vector<std::string> names;  // state names, "weight32" first under multi-precision
    std::vector<NDArray> arrays;
    bool mp = false;
    Shape shape;
  };
  void apply_hparam(const std::string &key, const Json &value, bool constructing);
  double lr_for(int index) const;
  double wd_for(int index) const;
  double base_lr_now();
  void bump_count(int index);
  IndexState make_state(const NDArray &weight) const;
  StepArgs step_args(int index, double lr) const;
  void step_one(int index, const NDArray &weight, const NDArray &grad, double lr);
  void step_on_device(IndexState &st, const NDArray &weight, const NDArray &grad, DType ct, UpdateRule form,
                      const UpdCoef<double> &coef);
  void place_states(IndexState &st, Device dev, DType ct);
  bool step_chunk_on_device(const std::vector<int> &indices, const std::vector<const NDArray *> &weights,
                            const std::vector<const NDArray *> &grads, double lr);
  bool step_chunk_multi_op(const std::vector<int> &indices, const std::vector<const NDArray *> &weights,
                           const std::vector<const NDArray *> &grads, const std::vector<double> &lrs);
  std::vector<std::string> rule_state_names() const;
  Json mults_json(const std::map<int, double> &by_idx, const std::map<std::string, double> &by_name) const;
  void set_mults(const Json &value, bool is_wd);
  void set_names(const Json &idx2name, bool name_rule);

  std::string name_;
  const Rule *rule_ = nullptr;
  HParams hp_;
  double lr_ = 0.01;
  bool has_scheduler_ = false;
  LRScheduler sched_;
  int64_t begin_num_update_ = 0;
  int64_t num_update_ = 0;
  std::map<int, int64_t> counts_;
  std::map<int, std::string> idx2name_;
  std::map<int, double> lr_mult_idx_, wd_mult_idx_;
  std::map<std::string, double> lr_mult_name_, wd_mult_name_;
  std::map<int, IndexState> states_;
  std::set<int> sparse_weights_;
  // Chunk size of MXNet's aggregated updates (the rule's, or MXNET_OPTIMIZER_AGGREGATION_SIZE;
  // "aggregate_num" sets it; <= 0: index by index).
  int aggregate_ = 0;
  GlobalState global_;
};

}  // namespace mx
