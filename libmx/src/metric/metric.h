// Evaluation metrics with Apache MXNet 1.x semantics (mx.metric): each keeps local statistics
// (sum_metric, num_inst; cleared by reset_local) and global ones (cleared only by reset), and
// its value is sum_metric / num_inst (NaN before any update) unless the metric says otherwise.
#pragma once
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "ndarray/ndarray.h"

namespace mx {

class Metric {
 public:
  virtual ~Metric() = default;
  // labels may be empty for metrics that ignore them (loss).
  virtual void update(const std::vector<NDArray> &labels, const std::vector<NDArray> &preds) = 0;
  // An independent copy with the same arguments and statistics (MXNet metrics deep-copy).
  virtual std::unique_ptr<Metric> clone() const = 0;
  virtual void reset() {
    sum_ = gsum_ = 0;
    num_ = gnum_ = 0;
  }
  virtual void reset_local() {
    sum_ = 0;
    num_ = 0;
  }
  virtual double value(bool global) const {
    const int64_t n = global ? gnum_ : num_;
    if (n == 0) return std::nan("");
    return (global ? gsum_ : sum_) / static_cast<double>(n);
  }
  double sum_metric(bool global) const { return global ? gsum_ : sum_; }
  int64_t num_inst(bool global) const { return global ? gnum_ : num_; }

  std::string kind;  // registered name: accuracy, top_k_accuracy, f1, ...
  std::string name;  // display name: accuracy, top_k_accuracy_5, cross-entropy, ...
  Json args = Json::object();

 protected:
  void add(double s, int64_t n) {
    sum_ += s;
    gsum_ += s;
    num_ += n;
    gnum_ += n;
  }
  double sum_ = 0, gsum_ = 0;
  int64_t num_ = 0, gnum_ = 0;
};

// By MXNet name or alias (acc, accuracy, top_k_accuracy, top_k_acc, f1, mcc, mae, mse, rmse,
// ce, cross-entropy, nll_loss, nll-loss, perplexity, loss, pearsonr, pcc). args: JSON object
// (may be Null). Throws MX_ERR_INVALID_ARGUMENT.
std::unique_ptr<Metric> make_metric(const std::string &name, const Json &args);

}  // namespace mx
