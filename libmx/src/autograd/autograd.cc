#include "autograd/autograd.h"

#include <map>
#include <unordered_map>
#include <unordered_set>

#include "autograd/grad_ready.h"

#include "ops/imperative.h"

namespace mx {

namespace {
// Stores the inputs' values and autograd links on `node` and points the outputs at it.
void link_node(const std::shared_ptr<AGNode> &node, const std::vector<NDArray> &inputs,
               std::vector<NDArray> &outputs) {
  for (auto &x : inputs) {
    node->inputs.push_back(x.detach());
    node->in_entries.push_back(x.ag());
  }
  for (auto &x : outputs) node->outputs.push_back(x.detach());
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto info = std::make_shared<AGInfo>();
    info->node = node;
    info->index = static_cast<int>(i);
    outputs[i].ag() = info;
  }
}
}  // namespace

void record_op(const OpDef *op, const std::shared_ptr<const Params> &params,
               const std::vector<NDArray> &inputs, const std::vector<NDArray> &aux,
               std::vector<NDArray> &outputs, bool is_train) {
  auto node = std::make_shared<AGNode>();
  node->op = op;
  node->params = params;
  node->is_train = is_train;
  for (auto &x : aux) node->aux.push_back(x.detach());
  link_node(node, inputs, outputs);
}

void record_taped(std::shared_ptr<TapedBackward> taped, const std::vector<NDArray> &inputs,
                  std::vector<NDArray> &outputs) {
  bool any = false;
  for (auto &x : inputs) any = any || x.ag() != nullptr;
  if (!is_recording() || !any) return;
  auto node = std::make_shared<AGNode>();
  node->taped = std::move(taped);
  node->is_train = is_training();
  link_node(node, inputs, outputs);
}

bool is_tracked(const NDArray &a) { return a.ag() != nullptr; }

void mark_variables(const std::vector<NDArray> &vars, const std::vector<int> &reqs,
                    const std::vector<NDArray> &grads) {
  for (size_t i = 0; i < vars.size(); ++i) {
    int req = reqs[i];
    MX_CHECK(req == MX_GRAD_NULL || req == MX_GRAD_WRITE || req == MX_GRAD_INPLACE || req == MX_GRAD_ADD,
             MX_ERR_INVALID_ARGUMENT, "mark_variables: invalid grad_req ", req,
             " (expected null 0, write 1, inplace 2 or add 3)");
    NDArray g = grads[i];
    if (g.defined()) {
      MX_CHECK(g.shape() == vars[i].shape(), MX_ERR_SHAPE, "mark_variables: gradient buffer shape ",
               g.shape().str(), " does not match variable shape ", vars[i].shape().str());
    } else {
      g = NDArray(vars[i].shape(), vars[i].dtype(), vars[i].device());
      g.fill(0);
    }
    auto info = std::make_shared<AGInfo>();
    info->is_variable = true;
    info->grad_req = req == MX_GRAD_INPLACE ? MX_GRAD_WRITE : req;
    info->grad = g.detach();
    // The caller's arrays are copies sharing storage; the API layer stores `info` on the handles.
    const_cast<NDArray &>(vars[i]).ag() = info;
  }
}

namespace {

using Key = std::pair<const void *, int>;  // (node, output index) or (variable info, -1)

Key key_of(const std::shared_ptr<AGInfo> &info) {
  if (info->node) return {info->node.get(), info->index};
  return {info.get(), -1};
}

// Runs gradient definitions eagerly. With create_graph the emitted ops are taped too.
class ImperativeBuilder : public GradBuilder {
 public:
  ImperativeBuilder(bool record, bool train) : record_(record), train_(train) {}
  Var add(const NDArray &a) {
    vals_.push_back(a);
    return Var{static_cast<int>(vals_.size()) - 1};
  }
  const NDArray &val(Var v) const { return vals_.at(static_cast<size_t>(v.id)); }
  Shape shape(Var v) override { return val(v).shape(); }
  DType dtype(Var v) override { return val(v).dtype(); }
  using GradBuilder::emit;
  std::vector<Var> emit(const OpDef *op, std::shared_ptr<const Params> params,
                        const std::vector<Var> &inputs) override {
    return run(op, std::move(params), inputs, nullptr);
  }
  std::vector<Var> emit_skipping(const OpDef *op, std::shared_ptr<const Params> params,
                                 const std::vector<Var> &inputs, const std::vector<bool> &skip) override {
    // Under create_graph every output may feed a higher-order gradient: compute them all.
    return run(op, std::move(params), inputs, record_ ? nullptr : &skip);
  }
  std::vector<Var> run(const OpDef *op, std::shared_ptr<const Params> params, const std::vector<Var> &inputs,
                       const std::vector<bool> *skip) {
    size_t naux = op->aux_names.size();
    MX_CHECK(inputs.size() >= naux, MX_ERR_INTERNAL, "gradient of ", op->name, ": too few inputs");
    std::vector<NDArray> in, aux;
    for (size_t i = 0; i < inputs.size(); ++i) {
      MX_CHECK(inputs[i].valid(), MX_ERR_INTERNAL, "gradient: ", op->name, " given an undefined value");
      (i < inputs.size() - naux ? in : aux).push_back(val(inputs[i]));
    }
    std::vector<NDArray> outs = invoke_raw(op, *params, in, aux, train_, nullptr, skip);
    if (record_ && op->differentiable) {
      bool any = false;
      for (auto &x : in) any = any || x.ag() != nullptr;
      if (any) record_op(op, params, in, aux, outs, train_);
    }
    std::vector<Var> vs;
    for (auto &o : outs) vs.push_back(add(o));
    return vs;
  }
  NDArray sum(const NDArray &a, const NDArray &b) {
    return val(emit1("elemwise_add", {}, {add(a), add(b)}));
  }

 private:
  bool record_, train_;
  std::vector<NDArray> vals_;
};

NDArray zeros_like(const NDArray &a) {
  NDArray z(a.shape(), a.dtype(), a.device());
  z.fill(0);
  return z;
}

}  // namespace

std::vector<NDArray> backward(const std::vector<NDArray> &heads, const std::vector<NDArray> &head_grads,
                              const std::vector<NDArray> *wrt, bool retain_graph, bool create_graph,
                              bool is_train) {
  MX_CHECK(!heads.empty(), MX_ERR_INVALID_ARGUMENT, "backward: no heads given");
  std::map<Key, NDArray> grads;
  std::unordered_set<const Storage *> borrowed;  // gradients that are a taped executor's arrays
  ImperativeBuilder b(create_graph, is_train);
  bool prev_rec = set_recording(create_graph);
  bool prev_train = set_training(is_train);
  struct Restore {
    bool r, t;
    ~Restore() { set_recording(r); set_training(t); }
  } restore{prev_rec, prev_train};

  // Seed head gradients.
  for (size_t i = 0; i < heads.size(); ++i) {
    const NDArray &h = heads[i];
    MX_CHECK(h.ag() != nullptr, MX_ERR_INVALID_ARGUMENT, "backward: head ", i,
             " is not part of a recorded graph (compute it inside autograd.record() from arrays "
             "with attach_grad())");
    NDArray g;
    if (i < head_grads.size() && head_grads[i].defined()) {
      g = head_grads[i];
      MX_CHECK(g.shape() == h.shape(), MX_ERR_SHAPE, "backward: head gradient ", i, " has shape ",
               g.shape().str(), " but the head has shape ", h.shape().str());
      if (g.dtype() != h.dtype()) g = g.astype(h.dtype());
    } else {
      g = NDArray(h.shape(), h.dtype(), h.device());
      g.fill(1);
    }
    Key k = key_of(h.ag());
    auto it = grads.find(k);
    if (it == grads.end()) grads[k] = g;
    else it->second = b.sum(it->second, g);
  }

  // Topological order of the nodes reachable from the heads (iterative DFS, post-order).
  std::vector<std::shared_ptr<AGNode>> order;
  std::vector<std::shared_ptr<AGInfo>> variables;
  {
    std::unordered_set<const void *> seen;
    std::vector<std::pair<std::shared_ptr<AGNode>, size_t>> stack;
    auto visit_info = [&](const std::shared_ptr<AGInfo> &info) {
      if (!info) return;
      if (!info->node) {
        if (info->is_variable && seen.insert(info.get()).second) variables.push_back(info);
        return;
      }
      if (seen.insert(info->node.get()).second) stack.emplace_back(info->node, 0);
    };
    for (auto &h : heads) {
      visit_info(h.ag());
      while (!stack.empty()) {
        auto &top = stack.back();
        std::shared_ptr<AGNode> n = top.first;
        if (top.second < n->in_entries.size()) {
          std::shared_ptr<AGInfo> e = n->in_entries[top.second++];
          visit_info(e);  // may grow `stack`: `top` is not used after this
        } else {
          order.push_back(n);
          stack.pop_back();
        }
      }
    }
  }

  // Writing variables' gradient buffers: each one as soon as the last node contributing to it
  // has run (not all at the end), and listeners told (autograd/grad_ready.h), so a kvstore can
  // reduce it while backward goes on. pending: contributing input slots not yet processed.
  std::unordered_map<const AGInfo *, int> pending;
  std::unordered_set<const AGInfo *> written;
  auto write_grad = [&](const std::shared_ptr<AGInfo> &info) {
    if (!written.insert(info.get()).second || info->grad_req == MX_GRAD_NULL) return;
    auto g = grads.find(key_of(info));
    if (g == grads.end()) return;
    info->fresh_grad = true;
    if (info->grad_req == MX_GRAD_ADD) {
      NDArray s = b.sum(info->grad, g->second);
      if (create_graph) info->grad = s;
      else info->grad.assign(s);
    } else if (create_graph) {
      info->grad = g->second;
    } else {
      info->grad.assign(g->second);
    }
    grads.erase(g);  // nothing reads it any more
    notify_grad_ready(info->grad);
  };
  auto is_var = [](const std::shared_ptr<AGInfo> &e) { return e && !e->node && e->is_variable; };
  BackwardEndNotice end_notice{!wrt};  // when this function returns or throws
  if (!wrt) {
    notify_backward_begin();
    for (auto &n : order)
      for (auto &e : n->in_entries)
        if (is_var(e)) ++pending[e.get()];
  }
  auto node_done = [&](AGNode *n) {
    if (wrt) return;
    for (auto &e : n->in_entries)
      if (is_var(e) && --pending[e.get()] == 0) write_grad(e);
  };

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    AGNode *n = it->get();
    const std::string node_name = n->taped ? n->taped->name() : n->op->name;
    int nvis = n->taped ? n->taped->num_outputs() : n->op->num_visible_outputs(*n->params);
    bool any = false;
    for (int i = 0; i < nvis; ++i) any = any || grads.count({n, i});
    if (!any) {
      node_done(n);
      continue;
    }
    MX_CHECK(!n->freed, MX_ERR_INVALID_ARGUMENT, "backward: the graph through ", node_name,
             " was already freed by an earlier backward; pass retain_graph=True to the first one");
    if (n->taped) {
      MX_CHECK(!create_graph, MX_ERR_UNSUPPORTED, "backward: create_graph (higher-order gradients) cannot go through ",
               node_name, "; call it without hybridize()");
      std::vector<NDArray> ograds;
      for (int i = 0; i < nvis; ++i) {
        auto g = grads.find({n, i});
        ograds.push_back(g != grads.end() ? g->second : zeros_like(n->outputs[static_cast<size_t>(i)]));
      }
      // A variable fed only through this input is final once the graph has its gradient:
      // written (and announced) from inside the graph's backward.
      std::vector<bool> early(n->in_entries.size(), false);
      TapedBackward::InputReady on_ready = [&](size_t i, const NDArray &g) {
        if (wrt || i >= n->in_entries.size() || !g.defined()) return;
        const auto &e = n->in_entries[i];
        if (!is_var(e) || pending[e.get()] != 1 || written.count(e.get())) return;
        Key k = key_of(e);
        auto gi = grads.find(k);
        if (gi == grads.end()) grads[k] = g;
        else gi->second = b.sum(gi->second, g);
        early[i] = true;
        write_grad(e);  // copies g out of the graph's array
      };
      std::vector<NDArray> in_grads = n->taped->backward(ograds, is_train, on_ready);
      MX_CHECK(in_grads.size() == n->inputs.size(), MX_ERR_INTERNAL, node_name, " returned ", in_grads.size(),
               " gradients for ", n->inputs.size(), " inputs");
      for (size_t i = 0; i < in_grads.size(); ++i) {
        const auto &e = n->in_entries[i];
        if (!e || !in_grads[i].defined() || early[i]) continue;
        borrowed.insert(in_grads[i].storage().get());
        Key k = key_of(e);
        auto gi = grads.find(k);
        if (gi == grads.end()) grads[k] = in_grads[i];
        else gi->second = b.sum(gi->second, in_grads[i]);
      }
      for (int i = 0; i < nvis; ++i) grads.erase({n, i});
      if (!retain_graph) {
        n->inputs.clear();
        n->outputs.clear();
        n->taped->release();  // the executor may run the next call
        n->freed = true;
      }
      node_done(n);
      continue;
    }
    MX_CHECK(static_cast<bool>(n->op->gradient), MX_ERR_UNSUPPORTED, "backward: operator ",
             n->op->name, " has no gradient");
    GradNode gn;
    gn.op = n->op;
    gn.params = n->params;
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      NDArray v = n->inputs[i];
      if (create_graph) v.ag() = n->in_entries[i];
      gn.inputs.push_back(b.add(v));
    }
    for (auto &a : n->aux) gn.aux.push_back(b.add(a));
    for (auto &e : n->in_entries) gn.needs_grad.push_back(e != nullptr);
    for (size_t i = 0; i < n->outputs.size(); ++i) {
      NDArray v = n->outputs[i];
      if (create_graph) {  // re-link to the producer so higher-order gradients flow through it
        auto info = std::make_shared<AGInfo>();
        info->node = *it;
        info->index = static_cast<int>(i);
        v.ag() = info;
      }
      gn.outputs.push_back(b.add(v));
    }
    for (int i = 0; i < nvis; ++i) {
      auto g = grads.find({n, i});
      gn.out_grads.push_back(b.add(g != grads.end() ? g->second : zeros_like(n->outputs[static_cast<size_t>(i)])));
    }
    std::vector<Var> in_grads = n->op->gradient(b, gn);
    MX_CHECK(in_grads.size() == n->inputs.size(), MX_ERR_INTERNAL, "gradient of ", n->op->name,
             " returned ", in_grads.size(), " values for ", n->inputs.size(), " inputs");
    for (size_t i = 0; i < in_grads.size(); ++i) {
      const auto &e = n->in_entries[i];
      if (!e || !in_grads[i].valid()) continue;
      NDArray g = b.val(in_grads[i]);
      MX_CHECK(g.shape() == n->inputs[i].shape(), MX_ERR_INTERNAL, "gradient of ", n->op->name,
               " for input ", i, " has shape ", g.shape().str(), " instead of ", n->inputs[i].shape().str());
      Key k = key_of(e);
      auto gi = grads.find(k);
      if (gi == grads.end()) grads[k] = g;
      else gi->second = b.sum(gi->second, g);
    }
    // Drop this node's out-gradients now that they are consumed.
    for (int i = 0; i < nvis; ++i) grads.erase({n, i});
    if (!retain_graph) {
      n->inputs.clear();
      n->aux.clear();
      n->outputs.clear();
      n->freed = true;
    }
    node_done(n);
  }

  std::vector<NDArray> result;
  if (wrt) {
    for (size_t i = 0; i < wrt->size(); ++i) {
      const NDArray &v = (*wrt)[i];
      MX_CHECK(v.ag() != nullptr, MX_ERR_INVALID_ARGUMENT, "grad: variable ", i,
               " is not marked for gradients (call attach_grad() before recording)");
      auto g = grads.find(key_of(v.ag()));
      if (g == grads.end()) result.push_back(zeros_like(v));
      else result.push_back(borrowed.count(g->second.storage().get()) ? g->second.copy() : g->second);
    }
    return result;
  }
  for (auto &info : variables) write_grad(info);  // heads that are variables themselves
  return result;
}

}  // namespace mx
