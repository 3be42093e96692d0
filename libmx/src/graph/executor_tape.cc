#include "graph/executor_tape.h"

#include "autograd/autograd.h"
#include "ops/imperative.h"

namespace mx {

namespace {

class TapedExecutor : public TapedBackward {
 public:
  TapedExecutor(std::shared_ptr<Executor> ex, std::vector<int> arg_index, uint64_t token, int nout)
      : ex_(std::move(ex)), arg_index_(std::move(arg_index)), token_(token), nout_(nout) {}
  ~TapedExecutor() override { release(); }
  std::string name() const override { return "a hybridized graph"; }
  int num_outputs() const override { return nout_; }
  void release() override { ex_->release(token_); }
  std::vector<NDArray> backward(const std::vector<NDArray> &out_grads, bool is_train,
                                const InputReady &on_input_ready) override {
    MX_CHECK(ex_->busy_token() == token_, MX_ERR_INVALID_ARGUMENT,
             "backward: the hybridized graph ran again before the backward of this recorded call");
    std::function<void(size_t)> on_arg;
    if (on_input_ready)
      on_arg = [&](size_t a) {  // an executor argument's gradient is final: tell its inputs
        for (size_t j = 0; j < arg_index_.size(); ++j)
          if (static_cast<size_t>(arg_index_[j]) == a) on_input_ready(j, ex_->grads()[a]);
      };
    ex_->backward(out_grads, is_train, on_arg);
    // The executor's gradient arrays, not copies: autograd consumes them within this backward
    // (and copies what it hands back to the caller).
    std::vector<NDArray> g;
    for (int a : arg_index_) g.push_back(ex_->grad_reqs()[static_cast<size_t>(a)] == MX_GRAD_NULL
                                             ? NDArray() : ex_->grads()[static_cast<size_t>(a)]);
    return g;
  }

 private:
  std::shared_ptr<Executor> ex_;
  std::vector<int> arg_index_;
  uint64_t token_;
  int nout_;
};

}  // namespace

std::vector<NDArray> forward_taped(const std::shared_ptr<Executor> &ex, bool is_train,
                                   const std::vector<NDArray> &inputs, const std::vector<int> &arg_index) {
  MX_CHECK(inputs.size() == arg_index.size(), MX_ERR_INVALID_ARGUMENT, "forward_taped: ", inputs.size(),
           " inputs but ", arg_index.size(), " argument indices");
  MX_CHECK(ex->busy_token() == 0, MX_ERR_INVALID_ARGUMENT,
           "forward_taped: the executor still holds a recorded call waiting for its backward");
  const auto &args = ex->args();
  for (size_t i = 0; i < inputs.size(); ++i) {
    int a = arg_index[i];
    MX_CHECK(a >= 0 && static_cast<size_t>(a) < args.size(), MX_ERR_INVALID_ARGUMENT, "forward_taped: argument index ",
             a, " out of range (", args.size(), " arguments)");
    const NDArray &x = inputs[i];
    MX_CHECK(x.defined(), MX_ERR_INVALID_ARGUMENT, "forward_taped: input ", i, " is an empty handle");
    MX_CHECK(x.shape() == args[static_cast<size_t>(a)].shape(), MX_ERR_SHAPE, "forward_taped: input ", i, " has shape ",
             x.shape().str(), " but the graph was bound for ", args[static_cast<size_t>(a)].shape().str());
    if (!x.same_data(args[static_cast<size_t>(a)])) args[static_cast<size_t>(a)].assign(x);
  }
  ex->forward(is_train);
  std::vector<NDArray> outs;
  for (auto &o : ex->outputs()) outs.push_back(o.copy());
  bool tracked = false;
  for (auto &x : inputs) tracked = tracked || is_tracked(x);
  if (is_recording() && tracked) {
    uint64_t token = ex->acquire();
    auto taped = std::make_shared<TapedExecutor>(ex, arg_index, token, static_cast<int>(outs.size()));
    record_taped(taped, inputs, outs);
  }
  return outs;
}

}  // namespace mx
