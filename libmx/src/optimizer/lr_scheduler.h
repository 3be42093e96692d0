// Learning-rate schedulers with MXNet 1.x semantics (mxnet.lr_scheduler): factor, multifactor,
// poly, cosine, each with an optional linear/constant warmup. Factor and multifactor are
// stateful exactly like MXNet's (they lower base_lr as num_update passes their steps), so the
// whole state round-trips through to_json()/from_json().
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "base/json.h"

namespace mx {

class LRScheduler {
 public:
  // Accepts the MXNet constructor arguments plus the state keys written by to_json().
  static LRScheduler from_json(const Json &j);
  Json to_json() const;
  // The learning rate at update count num_update (may change the state, as MXNet's __call__).
  double operator()(int64_t num_update);
  // MXNet's Optimizer overwrites scheduler.base_lr when it is given a different learning_rate.
  double base_lr() const { return base_lr_; }
  void set_base_lr(double lr) { base_lr_ = lr; }
  const std::string &type() const { return type_; }

 private:
  double warmup_lr(int64_t num_update) const;
  std::string type_;  // factor, multifactor, poly, cosine
  double base_lr_ = 0.01;
  int64_t warmup_steps_ = 0;
  double warmup_begin_lr_ = 0;
  double warmup_final_lr_ = 0.01;
  std::string warmup_mode_ = "linear";
  // factor / multifactor
  int64_t step_ = 1;
  std::vector<int64_t> steps_;
  double factor_ = 1;
  double stop_factor_lr_ = 1e-8;
  int64_t count_ = 0;
  int64_t cur_step_ind_ = 0;
  // poly / cosine
  int64_t max_update_ = 0;
  double pwr_ = 2;
  double final_lr_ = 0;
  double base_lr_orig_ = 0.01;
};

}  // namespace mx
