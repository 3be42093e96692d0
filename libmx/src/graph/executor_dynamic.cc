// Executors over graphs with data-dependent output shapes (an op declaring shape_from_values):
// nothing can be planned at bind, so forward runs the nodes in topological order through
// invoke_raw (which asks the op for its output shapes from the input values), and, when some
// argument wants a gradient, records them on a private autograd tape whose variables are
// handles of the bound arguments; backward back-propagates that tape into the gradient arrays.
#include <map>

#include "autograd/autograd.h"
#include "graph/executor.h"
#include "ops/imperative.h"

namespace mx {

namespace {
// Restores the thread's autograd switches however the run ends.
struct AutogradModeGuard {
  bool rec, train;
  AutogradModeGuard(bool recording, bool training) : rec(set_recording(recording)), train(set_training(training)) {}
  ~AutogradModeGuard() {
    set_recording(rec);
    set_training(train);
  }
};
}  // namespace

std::shared_ptr<GraphNode> Executor::dynamic_shape_node(const Symbol &sym) {
  for (auto &n : sym.topo_nodes())
    if (!n->is_variable() && n->op->shape_from_values) return n;
  return nullptr;
}

void Executor::forward_dynamic(bool is_train) {
  std::vector<std::shared_ptr<GraphNode>> arg_nodes, aux_nodes;
  graph_inputs(sym_, &arg_nodes, &aux_nodes, nullptr);
  std::map<std::pair<const GraphNode *, int>, NDArray> value;
  // Fresh variables every forward: the previous run's tape is dropped with them.
  dyn_vars_.assign(args_.size(), NDArray());
  for (size_t i = 0; i < args_.size(); ++i) {
    NDArray v = args_[i].detach();
    if (grad_reqs_[i] != MX_GRAD_NULL) {
      std::vector<NDArray> marked{v};  // mark_variables links the handles in this vector
      mark_variables(marked, {MX_GRAD_WRITE}, {NDArray()});
      v = marked[0];
      dyn_vars_[i] = v;
    }
    value[{arg_nodes[i].get(), 0}] = v;
  }
  for (size_t i = 0; i < aux_nodes.size(); ++i) value[{aux_nodes[i].get(), 0}] = aux_[i];
  AutogradModeGuard mode(has_backward_, is_train);
  for (auto &n : sym_.topo_nodes()) {
    if (n->is_variable()) continue;
    std::vector<NDArray> in, aux;
    size_t nreg = n->num_regular_inputs();
    for (size_t i = 0; i < n->inputs.size(); ++i)
      (i < nreg ? in : aux).push_back(value.at({n->inputs[i].node.get(), n->inputs[i].index}));
    std::vector<NDArray> outs;
    try {
      outs = invoke_raw(n->op, *n->params, in, aux, is_train);
    } catch (const Error &err) {
      fail(err.status(), "forward: node '", n->name, "' (", n->op->name, "): ", err.what());
    }
    if (has_backward_ && n->op->differentiable) {
      bool tracked = false;
      for (auto &x : in) tracked = tracked || is_tracked(x);
      if (tracked) record_op(n->op, n->params, in, aux, outs, is_train);
    }
    for (size_t i = 0; i < outs.size(); ++i) value[{n.get(), static_cast<int>(i)}] = outs[i];
  }
  dyn_heads_.clear();
  outputs_.clear();
  for (auto &o : sym_.outputs) {
    const NDArray &v = value.at({o.node.get(), o.index});
    dyn_heads_.push_back(v);
    outputs_.push_back(v.detach());  // the caller's view carries no link to the private tape
  }
  forward_done_ = true;
}

void Executor::backward_dynamic(const std::vector<NDArray> &out_grads, bool is_train) {
  std::vector<NDArray> heads, head_grads, wrt;
  for (size_t i = 0; i < dyn_heads_.size(); ++i) {
    const NDArray &h = dyn_heads_[i];
    if (!is_tracked(h)) continue;  // computed from arguments without gradients only: nothing reads its head
    NDArray g;
    if (i < out_grads.size() && out_grads[i].defined()) {
      MX_CHECK(out_grads[i].shape() == h.shape(), MX_ERR_SHAPE, "backward: head gradient ", i, " has shape ",
               out_grads[i].shape().str(), " but output ", i, " has shape ", h.shape().str());
      g = out_grads[i].dtype() == h.dtype() ? out_grads[i] : out_grads[i].astype(h.dtype());
    }
    if (!g.defined()) {
      g = NDArray(h.shape(), h.dtype(), h.device());
      g.fill(1);
    }
    heads.push_back(h);
    head_grads.push_back(g);
  }
  std::vector<size_t> which;
  for (size_t i = 0; i < dyn_vars_.size(); ++i)
    if (dyn_vars_[i].defined()) {
      wrt.push_back(dyn_vars_[i]);
      which.push_back(i);
    }
  std::vector<NDArray> grads;
  if (!heads.empty()) grads = mx::backward(heads, head_grads, &wrt, /*retain_graph=*/true, false, is_train);
  for (size_t k = 0; k < which.size(); ++k) {
    size_t i = which[k];
    if (grads.empty()) {
      if (grad_reqs_[i] != MX_GRAD_ADD) grads_[i].fill(0);
      continue;
    }
    const NDArray &g = grads[k];
    if (grad_reqs_[i] == MX_GRAD_ADD) {
      std::vector<NDArray> o{grads_[i]};
      const OpDef &add = Registry::get().require("elemwise_add");
      invoke_raw(&add, *parse_params(&add, {}), {grads_[i], g}, {}, is_train, &o);
    } else {
      grads_[i].assign(g);
    }
  }
}

}  // namespace mx
