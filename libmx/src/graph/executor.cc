#include "graph/executor.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "autograd/grad_ready.h"
#include "ndarray/sparse.h"
#include "ops/imperative.h"
#include "ops/sparse/attach.h"
#include "random/philox.h"

namespace mx {

// Builds gradient definitions into the executor's step list instead of running them.
class GraphGradBuilder : public GradBuilder {
 public:
  explicit GraphGradBuilder(Executor &ex) : ex_(ex) {}
  using GradBuilder::emit;
  std::vector<Var> emit(const OpDef *op, std::shared_ptr<const Params> params,
                        const std::vector<Var> &inputs) override {
    return emit_skipping(op, std::move(params), inputs, {});
  }
  std::vector<Var> emit_skipping(const OpDef *op, std::shared_ptr<const Params> params,
                                 const std::vector<Var> &inputs, const std::vector<bool> &skip) override {
    size_t naux = op->aux_names.size();
    MX_CHECK(inputs.size() >= naux, MX_ERR_INTERNAL, "gradient graph: ", op->name, " given too few inputs");
    std::vector<int> in, aux;
    for (size_t i = 0; i < inputs.size(); ++i) {
      MX_CHECK(inputs[i].valid(), MX_ERR_INTERNAL, "gradient graph: ", op->name, " given an undefined value");
      (i < inputs.size() - naux ? in : aux).push_back(inputs[i].id);
    }
    std::vector<Var> out;
    for (int e : ex_.add_step(op, params, in, aux, true, skip)) out.push_back(Var{e});
    return out;
  }
  Shape shape(Var v) override { return ex_.entries_.at(static_cast<size_t>(v.id)).shape; }
  DType dtype(Var v) override { return ex_.entries_.at(static_cast<size_t>(v.id)).dtype; }

 private:
  Executor &ex_;
};

namespace {
// Storage types of a step's outputs, inferred from its inputs' as invoke_raw's storage dispatch
// decides at run time (ops/sparse/dispatch.cc): the op's sparse kernel when its infer_stype
// accepts the combination on the CPU in a dtype the kernels compute in, else dense (fallback).
std::vector<int> infer_step_stypes(const OpDef *op, const Params &p, const std::vector<int> &in_st,
                                   const std::vector<DType> &in_t, Device dev, int nout) {
  std::vector<int> out(static_cast<size_t>(nout), 0);
  bool any_sparse = op->stype_from_dense;
  for (int s : in_st) any_sparse = any_sparse || s != 0;
  if (!any_sparse || !dev.is_cpu()) return out;
  install_sparse_attachments();
  if (!op->infer_stype || !op->forward_sparse) return out;
  for (DType t : in_t)
    if (!supports_dtype(op, t) || !(t == DType::f32 || t == DType::f64 || t == DType::i32 || t == DType::i64 ||
                                    t == DType::u8 || t == DType::i8))
      return out;
  STypeVec o(static_cast<size_t>(nout), 0);
  if (!op->infer_stype(p, in_st, o)) return out;
  return o;
}
}  // namespace

std::vector<int> Executor::grad_stypes() const {
  std::vector<int> r(args_.size(), -1);
  for (size_t i = 0; i < args_.size() && i < arg_grad_entries_.size(); ++i)
    if (arg_grad_entries_[i] >= 0) r[i] = entries_[static_cast<size_t>(arg_grad_entries_[i])].stype;
  return r;
}

int Executor::add_entry(const Shape &s, DType t) {
  Entry e;
  e.shape = s;
  e.dtype = t;
  entries_.push_back(e);
  entry_step_.push_back(-1);
  return static_cast<int>(entries_.size()) - 1;
}

std::vector<int> Executor::add_step(const OpDef *op, std::shared_ptr<const Params> params,
                                    const std::vector<int> &inputs, const std::vector<int> &aux, bool backward,
                                    const std::vector<bool> &skip) {
  const Params &p = *params;
  int nout = op->num_outputs(p);
  ShapeVec in_s, aux_s, out_s(static_cast<size_t>(nout));
  TypeVec in_t, aux_t, out_t(static_cast<size_t>(nout), -1);
  for (int e : inputs) {
    in_s.push_back(entries_[static_cast<size_t>(e)].shape);
    in_t.push_back(static_cast<int>(entries_[static_cast<size_t>(e)].dtype));
  }
  for (int e : aux) {
    aux_s.push_back(entries_[static_cast<size_t>(e)].shape);
    aux_t.push_back(static_cast<int>(entries_[static_cast<size_t>(e)].dtype));
  }
  MX_CHECK(static_cast<bool>(op->infer_shape), MX_ERR_INTERNAL, op->name, ": no shape inference");
  ShapeVec in_before = in_s;
  bool ok = op->infer_shape(p, in_s, aux_s, out_s);
  for (size_t i = 0; i < in_s.size(); ++i)
    MX_CHECK(in_s[i] == in_before[i], MX_ERR_SHAPE, op->name, ": input ", i, " has shape ", in_before[i].str(),
             " but ", in_s[i].str(), " was expected");
  for (auto &s : out_s) ok = ok && s.known();
  MX_CHECK(ok, MX_ERR_SHAPE, op->name, ": cannot infer the output shapes");
  bool tok = op->infer_type ? op->infer_type(p, in_t, aux_t, out_t) : infer_type_same(p, in_t, aux_t, out_t);
  for (int t : out_t) tok = tok && t >= 0;
  MX_CHECK(tok, MX_ERR_TYPE, op->name, ": cannot infer the output dtypes");
  std::vector<int> in_st;
  std::vector<DType> in_dt;
  for (auto *ids : {&inputs, &aux})
    for (int e : *ids) {
      in_st.push_back(entries_[static_cast<size_t>(e)].stype);
      in_dt.push_back(entries_[static_cast<size_t>(e)].dtype);
    }
  std::vector<int> out_st = infer_step_stypes(op, p, in_st, in_dt, dev_, nout);
  Step st;
  st.op = op;
  st.params = params;
  st.inputs = inputs;
  st.aux = aux;
  st.backward = backward;
  st.skip = skip;
  for (int i = 0; i < nout; ++i) {
    st.outputs.push_back(add_entry(out_s[static_cast<size_t>(i)], static_cast<DType>(out_t[static_cast<size_t>(i)])));
    entries_.back().stype = out_st[static_cast<size_t>(i)];
  }
  steps_.push_back(st);
  for (int e : steps_.back().outputs) entry_step_[static_cast<size_t>(e)] = static_cast<int>(steps_.size()) - 1;
  return steps_.back().outputs;
}

Executor::Executor(const Symbol &sym, Device dev, std::vector<NDArray> args, std::vector<NDArray> grads,
                   std::vector<int> grad_reqs, std::vector<NDArray> aux)
    : sym_(sym), dev_(dev), args_(std::move(args)), grads_(std::move(grads)), aux_(std::move(aux)),
      grad_reqs_(std::move(grad_reqs)) {
  std::vector<std::shared_ptr<GraphNode>> arg_nodes, aux_nodes;
  graph_inputs(sym_, &arg_nodes, &aux_nodes, nullptr);
  MX_CHECK(args_.size() == arg_nodes.size(), MX_ERR_INVALID_ARGUMENT, "bind: the symbol has ", arg_nodes.size(),
           " arguments but ", args_.size(), " arrays were given");
  MX_CHECK(aux_.size() == aux_nodes.size(), MX_ERR_INVALID_ARGUMENT, "bind: the symbol has ", aux_nodes.size(),
           " auxiliary states but ", aux_.size(), " arrays were given");
  grads_.resize(args_.size());
  grad_reqs_.resize(args_.size(), MX_GRAD_NULL);
  std::map<std::pair<const GraphNode *, int>, int> entry_of;
  auto bind_external = [&](const std::shared_ptr<GraphNode> &n, const NDArray &a, const char *what) {
    MX_CHECK(a.defined(), MX_ERR_INVALID_ARGUMENT, "bind: ", what, " '", n->name, "' has no array");
    MX_CHECK(a.device() == dev_, MX_ERR_INVALID_ARGUMENT, "bind: ", what, " '", n->name,
             "' is on another device than the executor");
    int e = add_entry(a.shape(), a.dtype());
    entries_[static_cast<size_t>(e)].array = a;
    entries_[static_cast<size_t>(e)].stype = static_cast<int>(stype_of(a));
    entry_of[{n.get(), 0}] = e;
  };
  for (size_t i = 0; i < arg_nodes.size(); ++i) {
    bind_external(arg_nodes[i], args_[i], "argument");
    int r = grad_reqs_[i];
    MX_CHECK(r == MX_GRAD_NULL || r == MX_GRAD_WRITE || r == MX_GRAD_INPLACE || r == MX_GRAD_ADD,
             MX_ERR_INVALID_ARGUMENT, "bind: invalid grad_req ", r, " for '", arg_nodes[i]->name, "'");
    if (r != MX_GRAD_NULL) {
      MX_CHECK(grads_[i].defined(), MX_ERR_INVALID_ARGUMENT, "bind: argument '", arg_nodes[i]->name,
               "' wants a gradient but has no gradient array");
      MX_CHECK(grads_[i].shape() == args_[i].shape(), MX_ERR_SHAPE, "bind: gradient array of '",
               arg_nodes[i]->name, "' has shape ", grads_[i].shape().str(), " but the argument has ",
               args_[i].shape().str());
      has_backward_ = true;
    }
  }
  for (size_t i = 0; i < aux_nodes.size(); ++i) bind_external(aux_nodes[i], aux_[i], "auxiliary state");
  if (dynamic_shape_node(sym_)) {  // shapes known only while running: no plan (executor_dynamic.cc)
    dynamic_ = true;
    return;
  }

  for (auto &n : sym_.topo_nodes()) {
    if (n->is_variable()) continue;
    std::vector<int> in, aux_in;
    size_t nreg = n->num_regular_inputs();
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      int e = entry_of.at({n->inputs[i].node.get(), n->inputs[i].index});
      (i < nreg ? in : aux_in).push_back(e);
    }
    std::vector<int> outs;
    try {
      outs = add_step(n->op, n->params, in, aux_in, false);
    } catch (const Error &err) {
      fail(err.status(), "bind: node '", n->name, "' (", n->op->name, "): ", err.what());
    }
    for (size_t i = 0; i < outs.size(); ++i) entry_of[{n.get(), static_cast<int>(i)}] = outs[i];
  }
  for (auto &o : sym_.outputs) out_entries_.push_back(entry_of.at({o.node.get(), o.index}));
  arg_grad_entries_.assign(args_.size(), -1);
  if (has_backward_) {
    std::vector<int> arg_entries;
    for (auto &n : arg_nodes) arg_entries.push_back(entry_of.at({n.get(), 0}));
    // Head gradients are external inputs of the backward pass.
    for (int e : out_entries_)
      head_grad_entries_.push_back(add_entry(entries_[static_cast<size_t>(e)].shape, entries_[static_cast<size_t>(e)].dtype));
    std::map<int, int> grad_of;  // entry -> accumulated gradient entry
    GraphGradBuilder b(*this);
    // Gradients known to be zero (zeros_like emitted by a gradient definition, e.g. stop_gradient's):
    // they are not accumulated, so nothing upstream of them is computed (MXNet prunes them too).
    auto is_zero = [&](int e) {
      int k = entry_step_[static_cast<size_t>(e)];
      return k >= static_cast<int>(nforward_) && nforward_ > 0 &&
             steps_[static_cast<size_t>(k)].op->name == "zeros_like";
    };
    auto accumulate = [&](int entry, int g) {
      if (is_zero(g)) return;
      auto it = grad_of.find(entry);
      if (it == grad_of.end()) grad_of[entry] = g;
      else it->second = b.emit1("elemwise_add", {}, {Var{it->second}, Var{g}}).id;
    };
    for (size_t i = 0; i < out_entries_.size(); ++i) accumulate(out_entries_[i], head_grad_entries_[i]);
    // Entries that depend on an argument that wants a gradient.
    std::vector<bool> needs(entries_.size(), false);
    for (size_t i = 0; i < arg_entries.size(); ++i)
      if (grad_reqs_[i] != MX_GRAD_NULL) needs[static_cast<size_t>(arg_entries[i])] = true;
    size_t nforward = steps_.size();
    nforward_ = nforward;
    for (size_t s = 0; s < nforward; ++s) {
      bool any = false;
      for (int e : steps_[s].inputs) any = any || needs[static_cast<size_t>(e)];
      if (any && steps_[s].op->differentiable)
        for (int e : steps_[s].outputs) needs[static_cast<size_t>(e)] = true;
    }
    for (size_t s = nforward; s-- > 0;) {
      Step st = steps_[s];  // copy: add_step grows steps_
      bool wanted = false;
      for (int e : st.inputs) wanted = wanted || needs[static_cast<size_t>(e)];
      int nvis = st.op->num_visible_outputs(*st.params);
      bool has_grad = false;
      for (int i = 0; i < nvis; ++i) has_grad = has_grad || grad_of.count(st.outputs[static_cast<size_t>(i)]);
      if (!wanted || !has_grad || !st.op->differentiable) continue;
      MX_CHECK(static_cast<bool>(st.op->gradient), MX_ERR_UNSUPPORTED, "bind: operator ", st.op->name,
               " has no gradient");
      GradNode gn;
      gn.op = st.op;
      gn.params = st.params;
      for (int e : st.inputs) gn.inputs.push_back(Var{e});
      for (int e : st.aux) gn.aux.push_back(Var{e});
      for (int e : st.outputs) gn.outputs.push_back(Var{e});
      for (int e : st.inputs) gn.needs_grad.push_back(needs[static_cast<size_t>(e)]);
      for (int i = 0; i < nvis; ++i) {
        int oe = st.outputs[static_cast<size_t>(i)];
        auto it = grad_of.find(oe);
        gn.out_grads.push_back(it != grad_of.end() ? Var{it->second} : b.emit1("zeros_like", {}, {Var{oe}}));
      }
      std::vector<Var> ig = st.op->gradient(b, gn);
      MX_CHECK(ig.size() == st.inputs.size(), MX_ERR_INTERNAL, "gradient of ", st.op->name, " returned ",
               ig.size(), " values for ", st.inputs.size(), " inputs");
      for (size_t i = 0; i < ig.size(); ++i)
        if (ig[i].valid() && needs[static_cast<size_t>(st.inputs[i])]) accumulate(st.inputs[i], ig[i].id);
    }
    for (size_t i = 0; i < arg_entries.size(); ++i)
      if (grad_reqs_[i] != MX_GRAD_NULL) {
        auto it = grad_of.find(arg_entries[i]);
        arg_grad_entries_[i] = it == grad_of.end() ? -1 : it->second;
      }
    drop_unused_backward_steps();
  }
  fuse_activations();
  // Head gradients nothing reads (outputs without a gradient path, e.g. shape_array's): MXNet
  // neither checks nor uses them, so backward skips them.
  head_used_.assign(head_grad_entries_.size(), false);
  {
    std::vector<bool> read(entries_.size(), false);
    for (auto &st : steps_)
      if (st.backward)
        for (int e : st.inputs) read[static_cast<size_t>(e)] = true;
    for (int e : arg_grad_entries_)
      if (e >= 0) read[static_cast<size_t>(e)] = true;
    for (size_t i = 0; i < head_grad_entries_.size(); ++i) head_used_[i] = read[static_cast<size_t>(head_grad_entries_[i])];
  }
  bind_gradients_in_place();
  bind_sparse_entries();
  plan_memory();
  plan_blocked();
  prepare_steps(false);
  prepare_steps(true);
}

// Backward steps whose results no kept step or argument gradient reads (zero gradients that
// were not accumulated, gradient outputs of inputs nobody asked for) are removed, so they
// neither run nor take memory.
void Executor::drop_unused_backward_steps() {
  std::vector<bool> live(entries_.size(), false);
  for (int e : arg_grad_entries_)
    if (e >= 0) live[static_cast<size_t>(e)] = true;
  std::vector<bool> keep(steps_.size(), true);
  for (size_t k = steps_.size(); k-- > nforward_;) {
    bool used = false;
    for (int o : steps_[k].outputs) used = used || live[static_cast<size_t>(o)];
    keep[k] = used;
    if (!used) continue;
    for (int e : steps_[k].inputs) live[static_cast<size_t>(e)] = true;
    for (int e : steps_[k].aux) live[static_cast<size_t>(e)] = true;
  }
  std::vector<Step> kept;
  for (size_t k = 0; k < steps_.size(); ++k)
    if (keep[k]) kept.push_back(std::move(steps_[k]));
  steps_ = std::move(kept);
}

// grad_req 'write': the step producing an argument's gradient writes straight into the user's
// gradient array instead of a planned buffer that backward() would then copy.
void Executor::bind_gradients_in_place() {
  grad_written_in_place_.assign(args_.size(), false);
  std::vector<bool> produced(entries_.size(), false), taken(entries_.size(), false);
  for (auto &st : steps_)
    for (int e : st.outputs) produced[static_cast<size_t>(e)] = true;
  for (size_t i = 0; i < args_.size(); ++i) {
    int r = grad_reqs_[i], e = arg_grad_entries_[i];
    if ((r != MX_GRAD_WRITE && r != MX_GRAD_INPLACE) || e < 0) continue;
    Entry &en = entries_[static_cast<size_t>(e)];
    const NDArray &g = grads_[i];
    if (!produced[static_cast<size_t>(e)] || taken[static_cast<size_t>(e)] || en.array.defined() ||
        static_cast<int>(stype_of(g)) != en.stype || g.dtype() != en.dtype || !(g.shape() == en.shape) || !(g.device() == dev_))
      continue;
    bool aliases_input = false;  // a gradient array sharing memory with an argument or aux state
    for (auto *bound : {&args_, &aux_})
      for (auto &a : *bound)
        aliases_input = aliases_input || (g.is_sparse() || a.is_sparse() ? a.sparse() == g.sparse()
                                                                          : a.storage() == g.storage());
    if (aliases_input) continue;
    en.array = g;
    taken[static_cast<size_t>(e)] = true;
    grad_written_in_place_[i] = true;
  }
}

void Executor::bind_sparse_entries() {
  for (auto &en : entries_)
    if (en.stype != 0 && !en.array.defined()) en.array = sparse_zeros(static_cast<SType>(en.stype), en.shape, en.dtype, dev_);
}

void Executor::prepare_steps(bool backward) {
  for (auto &st : steps_) {
    if (st.backward != backward) continue;
    st.in_arr.clear();
    st.aux_arr.clear();
    st.out_arr.clear();
    for (int e : st.inputs) st.in_arr.push_back(entries_[static_cast<size_t>(e)].array);
    for (int e : st.aux) st.aux_arr.push_back(entries_[static_cast<size_t>(e)].array);
    for (int e : st.outputs) st.out_arr.push_back(entries_[static_cast<size_t>(e)].array);
    bool direct = dev_.is_cpu() && static_cast<bool>(st.op->forward_cpu);
    // A sparse input (a csr / row_sparse argument) goes through invoke_raw's storage dispatch:
    // the op's sparse kernel when it has one for these storage types, else the dense fallback.
    for (auto *arrs : {&st.in_arr, &st.aux_arr, &st.out_arr})
      for (auto &a : *arrs)
        direct = direct && a.defined() && !a.is_sparse() && supports_dtype_cpu(st.op, a.dtype());
    st.direct = direct;
  }
}

void Executor::plan_memory() {
  const int n = static_cast<int>(steps_.size());
  const int kForever = n + 1;
  std::vector<int> last_use(entries_.size(), -1);
  for (int s = 0; s < n; ++s) {
    for (int e : steps_[static_cast<size_t>(s)].inputs) last_use[static_cast<size_t>(e)] = s;
    for (int e : steps_[static_cast<size_t>(s)].aux) last_use[static_cast<size_t>(e)] = s;
  }
  for (int e : out_entries_) last_use[static_cast<size_t>(e)] = kForever;
  for (int e : arg_grad_entries_)
    if (e >= 0) last_use[static_cast<size_t>(e)] = kForever;
  // Greedy best-fit over the step sequence: outputs take the smallest free buffer that fits,
  // inputs whose last reader has run give theirs back.
  std::vector<size_t> buf_size;
  std::multimap<size_t, int> free_bufs;
  auto bytes_of = [&](int e) {
    const Entry &en = entries_[static_cast<size_t>(e)];
    size_t b = static_cast<size_t>(en.shape.size()) * dtype_size(en.dtype);
    return (b + 63) & ~size_t(63);
  };
  unplanned_bytes_ = 0;
  std::vector<bool> handed_over(entries_.size(), false);  // input whose buffer an output took in place
  for (int s = 0; s < n; ++s) {
    const Step &st = steps_[static_cast<size_t>(s)];
    std::vector<int> taken_here;
    for (size_t k = 0; k < st.outputs.size(); ++k) {
      int e = st.outputs[k];
      Entry &out = entries_[static_cast<size_t>(e)];
      if (st.op->num_saved_outputs && is_saved_output(st.op, *st.params, k) &&
          (last_use[static_cast<size_t>(e)] < 0 || !supports_dtype_on(st.op, out.dtype, dev_))) {
        // A saved output (RNN's reserve) that no backward step reads, or one the kernel would
        // compute through float32: no memory; the kernel sees an empty array.
        out.array = NDArray(Shape{0}, out.dtype, dev_);
        continue;
      }
      size_t need = bytes_of(e);
      unplanned_bytes_ += static_cast<int64_t>(need);
      if (out.array.defined()) continue;  // bound to a user array (a gradient written in place)
      // In place: the output takes the buffer of an input read for the last time by this step,
      // when the kernel allows it and dtype and element count agree (an elementwise operand of
      // equal size can differ from the output only by leading 1s, so element i maps to i).
      int in_place = -1;
      for (auto &pr : st.op->inplace) {
        if (static_cast<size_t>(pr.second) != k || static_cast<size_t>(pr.first) >= st.inputs.size()) continue;
        int ei = st.inputs[static_cast<size_t>(pr.first)];
        const Entry &in = entries_[static_cast<size_t>(ei)];
        if (in.buffer < 0 || last_use[static_cast<size_t>(ei)] != s || handed_over[static_cast<size_t>(ei)] ||
            in.shape.size() != out.shape.size() || in.dtype != out.dtype ||
            std::find(taken_here.begin(), taken_here.end(), in.buffer) != taken_here.end())
          continue;
        in_place = ei;
        break;
      }
      if (in_place >= 0) {
        handed_over[static_cast<size_t>(in_place)] = true;
        out.buffer = entries_[static_cast<size_t>(in_place)].buffer;
        taken_here.push_back(out.buffer);
        continue;
      }
      // Smallest free buffer that fits; else grow the largest free one (sizes are only fixed
      // after planning); else a new buffer.
      auto it = free_bufs.lower_bound(need);
      int b;
      if (it != free_bufs.end()) {
        b = it->second;
        free_bufs.erase(it);
      } else if (!free_bufs.empty()) {
        auto last = std::prev(free_bufs.end());
        b = last->second;
        free_bufs.erase(last);
        buf_size[static_cast<size_t>(b)] = need;
      } else {
        b = static_cast<int>(buf_size.size());
        buf_size.push_back(need);
      }
      out.buffer = b;
      taken_here.push_back(b);
    }
    auto release = [&](int e) {
      const Entry &en = entries_[static_cast<size_t>(e)];
      if (en.buffer >= 0 && last_use[static_cast<size_t>(e)] <= s && !handed_over[static_cast<size_t>(e)])
        free_bufs.emplace(buf_size[static_cast<size_t>(en.buffer)], en.buffer);
    };
    std::vector<int> seen;
    for (int e : st.inputs)
      if (std::find(seen.begin(), seen.end(), e) == seen.end() && last_use[static_cast<size_t>(e)] == s) {
        seen.push_back(e);
        release(e);
      }
    for (int e : st.outputs)
      if (last_use[static_cast<size_t>(e)] < 0 && entries_[static_cast<size_t>(e)].buffer >= 0)
        release(e);  // written but never read
  }
  planned_bytes_ = 0;
  buffers_.clear();
  for (size_t sz : buf_size) {
    planned_bytes_ += static_cast<int64_t>(sz);
    buffers_.push_back(NDArray(Shape{static_cast<int64_t>(sz)}, DType::u8, dev_));
  }
  for (auto &en : entries_)
    if (en.buffer >= 0)
      en.array = NDArray(buffers_[static_cast<size_t>(en.buffer)].storage(), 0, en.shape, en.dtype);
}

// Shapes and dtypes were inferred and checked at bind and the arrays never change, so prepared
// steps call their kernels directly; the rest go through invoke_raw.
void Executor::run(bool backward, bool is_train, const std::function<void(size_t step)> &after_step) {
  for (size_t si = 0; si < steps_.size(); ++si) {
    Step &st = steps_[si];
    if (st.backward != backward) continue;
    if (!side_buffers_.empty()) run_step_blocked(st, is_train);
    else run_step(st, is_train);
    if (after_step) after_step(si);
  }
}

void Executor::run_step(Step &st, bool is_train) {
  const std::vector<bool> *skip = st.skip.empty() ? nullptr : &st.skip;
  if (st.direct) {
    RandomState *rng = st.op->needs_rng ? &random_state(dev_.type, dev_.id) : nullptr;
    OpCall call{*st.params, st.in_arr, st.aux_arr, st.out_arr, is_train, rng, skip};
    st.op->forward_cpu(call);
  } else {
    invoke_raw(st.op, *st.params, st.in_arr, st.aux_arr, is_train, &st.out_arr, skip);
  }
}

void Executor::forward(bool is_train) {
  busy_token_ = 0;  // a recorded call's saved values are overwritten now
  if (dynamic_) return forward_dynamic(is_train);
  run(false, is_train);
  outputs_.clear();
  for (int e : out_entries_) outputs_.push_back(entries_[static_cast<size_t>(e)].array);
  forward_done_ = true;
}

void Executor::finish_arg_grad(size_t i, bool is_train) {
  int r = grad_reqs_[i];
  if (r == MX_GRAD_NULL || grad_written_in_place_[i]) return;
  int e = arg_grad_entries_[i];
  if (e < 0) {
    if (r != MX_GRAD_ADD) grads_[i].fill(0);
    return;
  }
  const NDArray &g = entries_[static_cast<size_t>(e)].array;
  if (r == MX_GRAD_ADD) {
    std::vector<NDArray> o{grads_[i]};
    invoke_raw(&Registry::get().require("elemwise_add"), *parse_params(&Registry::get().require("elemwise_add"), {}),
               {grads_[i], g}, {}, is_train, &o);
  } else {
    grads_[i].assign(g);
  }
}

void Executor::backward(const std::vector<NDArray> &out_grads, bool is_train,
                        const std::function<void(size_t arg)> &on_arg_ready) {
  const size_t nout = sym_.outputs.size();
  MX_CHECK(out_grads.empty() || out_grads.size() == nout, MX_ERR_INVALID_ARGUMENT,
           "backward: ", out_grads.size(), " head gradients given for ", nout, " outputs");
  // MXNet semantics: with every grad_req 'null' there is nothing to compute, so backward is a
  // no-op; backward before any forward is allowed too, and MX runs the forward pass first so the
  // backward steps never read intermediates that were never written.
  if (!has_backward_) return;
  if (!forward_done_) forward(is_train);
  if (dynamic_) {  // node by node: gradients are announced at the end
    BackwardEndNotice end_notice{true};
    notify_backward_begin();
    backward_dynamic(out_grads, is_train);
    for (size_t i = 0; i < args_.size(); ++i)
      if (grad_reqs_[i] != MX_GRAD_NULL) {
        notify_grad_ready(grads_[i]);
        if (on_arg_ready) on_arg_ready(i);
      }
    return;
  }
  head_ones_.resize(head_grad_entries_.size());
  bool rebound = false;  // a head gradient array changed: re-prepare the backward steps
  for (size_t i = 0; i < head_grad_entries_.size(); ++i) {
    Entry &en = entries_[static_cast<size_t>(head_grad_entries_[i])];
    if (!head_used_[i]) continue;
    NDArray head;
    if (i < out_grads.size() && out_grads[i].defined()) {
      MX_CHECK(out_grads[i].shape() == en.shape, MX_ERR_SHAPE, "backward: head gradient ", i, " has shape ",
               out_grads[i].shape().str(), " but output ", i, " has shape ", en.shape.str());
      MX_CHECK(out_grads[i].device() == dev_, MX_ERR_INVALID_ARGUMENT, "backward: head gradient ", i,
               " is on another device than the executor");
      head = out_grads[i].dtype() == en.dtype ? out_grads[i] : out_grads[i].astype(en.dtype);
      // A head gradient sharing memory with a gradient array written in place would be
      // overwritten while backward still reads it: use a copy.
      for (size_t a = 0; a < grads_.size(); ++a)
        if (grad_written_in_place_[a] && grads_[a].storage() == head.storage()) head = head.copy();
    } else {
      if (!head_ones_[i].defined()) {
        head_ones_[i] = NDArray(en.shape, en.dtype, dev_);
        head_ones_[i].fill(1);
      }
      head = head_ones_[i];
    }
    if (!en.array.defined() || en.array.storage() != head.storage() || en.array.offset() != head.offset()) {
      en.array = head;
      rebound = true;
    }
  }
  if (rebound) prepare_steps(true);
  if (!final_map_built_) {
    // An argument's gradient entry is written once, by its producing step (the entry stays
    // allocated to the end of backward): after that step its value is final.
    std::vector<int> producer(entries_.size(), -1);
    for (size_t si = 0; si < steps_.size(); ++si)
      if (steps_[si].backward)
        for (int e : steps_[si].outputs) producer[static_cast<size_t>(e)] = static_cast<int>(si);
    args_final_after_.assign(steps_.size(), {});
    args_final_at_end_.clear();
    for (size_t i = 0; i < args_.size(); ++i) {
      if (grad_reqs_[i] == MX_GRAD_NULL) continue;
      int e = arg_grad_entries_[i];
      int p = e >= 0 ? producer[static_cast<size_t>(e)] : -1;
      if (p >= 0) args_final_after_[static_cast<size_t>(p)].push_back(i);
      else args_final_at_end_.push_back(i);
    }
    final_map_built_ = true;
  }
  BackwardEndNotice end_notice{true};
  notify_backward_begin();  // reductions of these gradient arrays from a previous pass finish first
  auto ready = [&](size_t i) {
    finish_arg_grad(i, is_train);
    notify_grad_ready(grads_[i]);
    if (on_arg_ready) on_arg_ready(i);
  };
  run(true, is_train, [&](size_t si) {
    for (size_t i : args_final_after_[si]) ready(i);
  });
  for (size_t i : args_final_at_end_) ready(i);
}

}  // namespace mx
