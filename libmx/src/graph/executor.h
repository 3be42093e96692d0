// The graph executor: binds a Symbol to arrays, builds the backward graph from the same per-op
// gradient definitions autograd uses (a graph-building GradBuilder), plans memory (buffers
// shared across non-overlapping lifetimes) and runs nodes in topological order.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/onednn.h"
#include "graph/symbol.h"

namespace mx {

class Executor {
 public:
  // args/aux follow list_arguments()/list_auxiliary_states(); grads may hold undefined arrays
  // (no gradient wanted), grad_reqs are MX_GRAD_* per argument.
  Executor(const Symbol &sym, Device dev, std::vector<NDArray> args, std::vector<NDArray> grads,
           std::vector<int> grad_reqs, std::vector<NDArray> aux);
  void forward(bool is_train);
  // The first node whose op has data-dependent output shapes (shape_from_values), else null.
  static std::shared_ptr<GraphNode> dynamic_shape_node(const Symbol &sym);
  // out_grads: one per output (undefined entries mean ones; loss ops ignore them anyway).
  // Each argument's gradient array is written as soon as the last step producing it has run;
  // then grad-ready listeners (autograd/grad_ready.h) and `on_arg_ready` (argument index) hear
  // of it, while the remaining steps still run.
  void backward(const std::vector<NDArray> &out_grads, bool is_train,
                const std::function<void(size_t arg)> &on_arg_ready = nullptr);
  const std::vector<NDArray> &outputs() const { return outputs_; }
  const std::vector<NDArray> &args() const { return args_; }
  const std::vector<NDArray> &grads() const { return grads_; }
  const std::vector<NDArray> &aux() const { return aux_; }
  const std::vector<int> &grad_reqs() const { return grad_reqs_; }
  const Symbol &symbol() const { return sym_; }
  Device device() const { return dev_; }
  int64_t planned_bytes() const { return planned_bytes_; }
  // Busy while a taped forward (graph/executor_tape.h) waits for its backward: a non-zero token.
  // Any forward invalidates the token of an earlier taped call.
  uint64_t busy_token() const { return busy_token_; }
  uint64_t acquire() { return busy_token_ = ++last_token_; }
  void release(uint64_t token) {
    if (busy_token_ == token) busy_token_ = 0;
  }
  int64_t unplanned_bytes() const { return unplanned_bytes_; }
  // Per argument: the storage type inferred for its gradient (0 default, 1 row_sparse, 2 csr;
  // -1 where no gradient is computed), e.g. row_sparse for w in dot(csr, w) as in MXNet.
  std::vector<int> grad_stypes() const;
  // (op name, is a backward step) per step, in run order: what the graph passes made.
  std::vector<std::pair<std::string, bool>> step_ops() const {
    std::vector<std::pair<std::string, bool>> r;
    for (auto &st : steps_) r.emplace_back(st.op->name, st.backward);
    return r;
  }

 private:
  struct Entry {  // one value in the graph
    Shape shape;
    DType dtype = DType::f32;
    int stype = 0;     // storage type (ops/sparse): sparse values are not planned, kernels allocate them
    NDArray array;     // bound storage (external or a view into a planned buffer)
    int buffer = -1;   // planned buffer index (-1: external)
    // Blocked activations (graph/executor_blocked.cc): the side buffer this value may be kept in
    // (-1: always plain), and, at run time, the layout it is held in now (null: plain, in array).
    int side = -1;
    onednn::LayoutRef layout;
  };
  struct Step {
    const OpDef *op = nullptr;
    std::shared_ptr<const Params> params;
    std::vector<int> inputs, aux, outputs;  // entry ids
    bool backward = false;
    std::vector<bool> skip;  // outputs nobody reads
    // Prepared at bind (shapes are fixed): the bound arrays, and whether the kernel can be
    // called directly; otherwise (float16 through float32, no kernel) invoke_raw runs it.
    std::vector<NDArray> in_arr, aux_arr, out_arr;
    bool direct = false;
    // Positions that take / give a blocked value (executor_blocked.cc); blocked: 0 none,
    // 1 a oneDNN kernel, 2 an elementwise kernel run over the padded blocked buffers.
    std::vector<char> blk_in, blk_out;
    int blocked = 0;
  };
  friend class GraphGradBuilder;
  int add_entry(const Shape &s, DType t);
  std::vector<int> add_step(const OpDef *op, std::shared_ptr<const Params> params, const std::vector<int> &inputs,
                            const std::vector<int> &aux, bool backward, const std::vector<bool> &skip = {});
  void build_backward();
  void fuse_activations();  // graph/executor_fuse.cc
  void fold_batchnorms();   // inference graphs: Convolution + BatchNorm as one step (executor_fuse.cc)
  void drop_unused_backward_steps();
  void bind_gradients_in_place();
  void plan_memory();
  void plan_blocked();  // executor_blocked.cc: which values may stay in oneDNN's blocked layout
  void run_step(Step &st, bool is_train);
  void run_step_blocked(Step &st, bool is_train);
  void to_plain(int entry);  // a blocked value written out to its plain array
  void bind_sparse_entries();  // placeholders for sparse values (their parts are replaced at each run)
  void prepare_steps(bool backward);
  // Graphs with data-dependent output shapes (dynamic_shape_node(), e.g. boolean_mask)
  // cannot be planned at bind: they run node by node through invoke_raw, recorded on a private
  // autograd tape when gradients are wanted (graph/executor_dynamic.cc; MXNet's CachedOp falls
  // back the same way).
  void forward_dynamic(bool is_train);
  void backward_dynamic(const std::vector<NDArray> &out_grads, bool is_train);
  // after_step(i) runs after step i (backward steps only).
  void run(bool backward, bool is_train, const std::function<void(size_t step)> &after_step = nullptr);
  void finish_arg_grad(size_t arg, bool is_train);  // grads_[arg] from its entry (copy or add)

  Symbol sym_;
  Device dev_;
  std::vector<NDArray> args_, grads_, aux_, outputs_;
  std::vector<int> grad_reqs_;
  std::vector<Entry> entries_;
  std::vector<Step> steps_;
  std::vector<int> out_entries_;       // symbol outputs
  std::vector<int> head_grad_entries_;  // backward inputs, one per output
  std::vector<int> arg_grad_entries_;   // per argument, -1 if none
  std::vector<bool> grad_written_in_place_;  // per argument: its step writes grads_[i] directly
  std::vector<NDArray> head_ones_;      // default head gradients, made once
  // Per step: the arguments whose gradient is final after it (built on the first backward).
  std::vector<std::vector<size_t>> args_final_after_;
  std::vector<size_t> args_final_at_end_;  // no backward step produces them (zeros or nothing)
  bool final_map_built_ = false;
  std::vector<bool> head_used_;         // per output: does a backward step read its head gradient?
  std::vector<NDArray> buffers_;
  std::vector<NDArray> side_buffers_;  // per planned buffer (undefined: none), executor_blocked.cc
  size_t nforward_ = 0;  // steps_[0, nforward_) are the forward pass
  std::vector<int> entry_step_;  // per entry: the step producing it (-1: bound array), while building
  bool has_backward_ = false;
  bool dynamic_ = false;                // run node by node (dynamic_shape_node)
  std::vector<NDArray> dyn_vars_;       // per argument: a handle marked for gradients (or undefined)
  std::vector<NDArray> dyn_heads_;      // the outputs of the last forward, linked to the private tape
  bool forward_done_ = false;
  uint64_t busy_token_ = 0, last_token_ = 0;
  int64_t planned_bytes_ = 0, unplanned_bytes_ = 0;
};

}  // namespace mx
