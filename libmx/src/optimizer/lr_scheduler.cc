#include "optimizer/lr_scheduler.h"

#include <cmath>
#include <set>

#include "base/error.h"

namespace mx {

namespace {

const char *kWhere = "lr_scheduler";

double num_of(const Json &j, const char *key, double def) {
  const Json &v = j[key];
  if (v.is_null()) return def;
  MX_CHECK(v.is_number(), MX_ERR_INVALID_ARGUMENT, kWhere, ": '", key, "' must be a number, got ",
           v.dump());
  double d = v.as_number();
  MX_CHECK(std::isfinite(d), MX_ERR_INVALID_ARGUMENT, kWhere, ": '", key, "' must be finite, got ",
           v.dump());
  return d;
}

int64_t int_of(const Json &j, const char *key, int64_t def) {
  const Json &v = j[key];
  if (v.is_null()) return def;
  MX_CHECK(v.is_number() && std::floor(v.as_number()) == v.as_number(), MX_ERR_INVALID_ARGUMENT,
           kWhere, ": '", key, "' must be an integer, got ", v.dump());
  return v.as_int();
}

}  // namespace

LRScheduler LRScheduler::from_json(const Json &j) {
  MX_CHECK(j.is_object(), MX_ERR_INVALID_ARGUMENT, kWhere, ": expected a JSON object, got ", j.dump());
  LRScheduler s;
  const Json &t = j["type"];
  MX_CHECK(t.is_string(), MX_ERR_INVALID_ARGUMENT, kWhere,
           ": 'type' must be one of factor, multifactor, poly, cosine");
  s.type_ = t.as_string();
  static const std::set<std::string> common = {"type", "base_lr", "warmup_steps", "warmup_begin_lr",
                                               "warmup_final_lr", "warmup_mode"};
  std::set<std::string> allowed;
  if (s.type_ == "factor") {
    allowed = {"step", "factor", "stop_factor_lr", "count"};
  } else if (s.type_ == "multifactor") {
    allowed = {"step", "factor", "count", "cur_step_ind"};
  } else if (s.type_ == "poly") {
    allowed = {"max_update", "pwr", "final_lr", "base_lr_orig"};
  } else if (s.type_ == "cosine") {
    allowed = {"max_update", "final_lr", "base_lr_orig"};
  } else {
    fail(MX_ERR_INVALID_ARGUMENT, kWhere, ": unknown type '", s.type_,
         "' (expected factor, multifactor, poly or cosine)");
  }
  for (const auto &kv : j.members())
    MX_CHECK(common.count(kv.first) || allowed.count(kv.first), MX_ERR_INVALID_ARGUMENT, kWhere,
             ": unknown argument '", kv.first, "' for a ", s.type_, " scheduler");

  s.base_lr_ = num_of(j, "base_lr", 0.01);
  s.warmup_steps_ = int_of(j, "warmup_steps", 0);
  s.warmup_begin_lr_ = num_of(j, "warmup_begin_lr", 0);
  s.warmup_final_lr_ = num_of(j, "warmup_final_lr", s.base_lr_);
  if (!j["warmup_mode"].is_null()) {
    MX_CHECK(j["warmup_mode"].is_string(), MX_ERR_INVALID_ARGUMENT, kWhere,
             ": 'warmup_mode' must be 'linear' or 'constant'");
    s.warmup_mode_ = j["warmup_mode"].as_string();
  }
  MX_CHECK(s.warmup_mode_ == "linear" || s.warmup_mode_ == "constant", MX_ERR_INVALID_ARGUMENT,
           kWhere, ": warmup_mode '", s.warmup_mode_, "' is not supported (linear or constant)");
  MX_CHECK(s.warmup_steps_ >= 0, MX_ERR_INVALID_ARGUMENT, kWhere,
           ": warmup_steps must be >= 0, got ", s.warmup_steps_);
  MX_CHECK(s.warmup_begin_lr_ <= s.warmup_final_lr_, MX_ERR_INVALID_ARGUMENT, kWhere,
           ": warmup_begin_lr (", s.warmup_begin_lr_, ") must not exceed base_lr (",
           s.warmup_final_lr_, ")");

  if (s.type_ == "factor") {
    s.step_ = int_of(j, "step", -1);
    MX_CHECK(!j["step"].is_null(), MX_ERR_INVALID_ARGUMENT, kWhere, ": factor scheduler needs 'step'");
    MX_CHECK(s.step_ >= 1, MX_ERR_INVALID_ARGUMENT, kWhere, ": step must be >= 1, got ", s.step_);
    s.factor_ = num_of(j, "factor", 1.0);
    MX_CHECK(s.factor_ <= 1.0, MX_ERR_INVALID_ARGUMENT, kWhere,
             ": factor must be <= 1 so the rate decreases, got ", s.factor_);
    s.stop_factor_lr_ = num_of(j, "stop_factor_lr", 1e-8);
    s.count_ = int_of(j, "count", 0);
  } else if (s.type_ == "multifactor") {
    const Json &st = j["step"];
    MX_CHECK(st.is_array() && st.size() >= 1, MX_ERR_INVALID_ARGUMENT, kWhere,
             ": multifactor 'step' must be a non-empty list of integers");
    for (const Json &v : st.items()) {
      MX_CHECK(v.is_number() && std::floor(v.as_number()) == v.as_number(), MX_ERR_INVALID_ARGUMENT,
               kWhere, ": multifactor step entries must be integers, got ", v.dump());
      int64_t x = v.as_int();
      MX_CHECK(x >= 1, MX_ERR_INVALID_ARGUMENT, kWhere, ": step entries must be >= 1, got ", x);
      MX_CHECK(s.steps_.empty() || x > s.steps_.back(), MX_ERR_INVALID_ARGUMENT, kWhere,
               ": step must be an increasing list, got ", st.dump());
      s.steps_.push_back(x);
    }
    s.factor_ = num_of(j, "factor", 1.0);
    MX_CHECK(s.factor_ <= 1.0, MX_ERR_INVALID_ARGUMENT, kWhere,
             ": factor must be <= 1 so the rate decreases, got ", s.factor_);
    s.count_ = int_of(j, "count", 0);
    s.cur_step_ind_ = int_of(j, "cur_step_ind", 0);
    MX_CHECK(s.cur_step_ind_ >= 0 && s.cur_step_ind_ <= static_cast<int64_t>(s.steps_.size()),
             MX_ERR_INVALID_ARGUMENT, kWhere, ": cur_step_ind out of range: ", s.cur_step_ind_);
  } else {
    MX_CHECK(!j["max_update"].is_null(), MX_ERR_INVALID_ARGUMENT, kWhere, ": ", s.type_,
             " scheduler needs 'max_update'");
    s.max_update_ = int_of(j, "max_update", 0);
    MX_CHECK(s.max_update_ >= 1, MX_ERR_INVALID_ARGUMENT, kWhere,
             ": max_update must be >= 1, got ", s.max_update_);
    MX_CHECK(s.max_update_ > s.warmup_steps_, MX_ERR_INVALID_ARGUMENT, kWhere, ": max_update (",
             s.max_update_, ") must exceed warmup_steps (", s.warmup_steps_, ")");
    if (s.type_ == "poly") s.pwr_ = num_of(j, "pwr", 2);
    s.final_lr_ = num_of(j, "final_lr", 0);
    s.base_lr_orig_ = num_of(j, "base_lr_orig", s.base_lr_);
  }
  return s;
}

Json LRScheduler::to_json() const {
  Json j = Json::object();
  j.set("type", type_);
  j.set("base_lr", base_lr_);
  j.set("warmup_steps", warmup_steps_);
  j.set("warmup_begin_lr", warmup_begin_lr_);
  j.set("warmup_final_lr", warmup_final_lr_);
  j.set("warmup_mode", warmup_mode_);
  if (type_ == "factor") {
    j.set("step", step_);
    j.set("factor", factor_);
    j.set("stop_factor_lr", stop_factor_lr_);
    j.set("count", count_);
  } else if (type_ == "multifactor") {
    Json st = Json::array();
    for (int64_t s : steps_) st.push(s);
    j.set("step", st);
    j.set("factor", factor_);
    j.set("count", count_);
    j.set("cur_step_ind", cur_step_ind_);
  } else {
    j.set("max_update", max_update_);
    if (type_ == "poly") j.set("pwr", pwr_);
    j.set("final_lr", final_lr_);
    j.set("base_lr_orig", base_lr_orig_);
  }
  return j;
}

double LRScheduler::warmup_lr(int64_t num_update) const {
  if (warmup_mode_ == "constant") return warmup_begin_lr_;
  double increase = (warmup_final_lr_ - warmup_begin_lr_) * static_cast<double>(num_update) /
                    static_cast<double>(warmup_steps_);
  return warmup_begin_lr_ + increase;
}

double LRScheduler::operator()(int64_t num_update) {
  if (num_update < warmup_steps_) return warmup_lr(num_update);
  if (type_ == "factor") {
    while (num_update > count_ + step_) {
      count_ += step_;
      base_lr_ *= factor_;
      if (base_lr_ < stop_factor_lr_) base_lr_ = stop_factor_lr_;
    }
    return base_lr_;
  }
  if (type_ == "multifactor") {
    while (cur_step_ind_ < static_cast<int64_t>(steps_.size())) {
      if (num_update > steps_[static_cast<size_t>(cur_step_ind_)]) {
        count_ = steps_[static_cast<size_t>(cur_step_ind_)];
        ++cur_step_ind_;
        base_lr_ *= factor_;
      } else {
        return base_lr_;
      }
    }
    return base_lr_;
  }
  const double max_steps = static_cast<double>(max_update_ - warmup_steps_);
  if (num_update <= max_update_) {
    double frac = static_cast<double>(num_update - warmup_steps_) / max_steps;
    if (type_ == "poly") {
      base_lr_ = final_lr_ + (base_lr_orig_ - final_lr_) * std::pow(1.0 - frac, pwr_);
    } else {
      base_lr_ = final_lr_ + (base_lr_orig_ - final_lr_) * (1.0 + std::cos(M_PI * frac)) / 2.0;
    }
  }
  return base_lr_;
}

}  // namespace mx
