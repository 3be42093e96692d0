// Blocked activations between oneDNN steps (docs/ONEDNN.md, "Blocked activations").
//
// A convolution's result in the blocked layout oneDNN computes it in (nChw16c ...) would be
// reordered to MX's plain layout, and the next convolution or pooling would reorder it straight
// back. Instead, a value produced and read by steps that can take it blocked is kept in a side
// buffer of the executor with its oneDNN layout (Entry::layout), and written to its plain array
// only when a step that cannot take it reads it (to_plain, just before that step). Graph outputs,
// argument gradients and bound arrays are never blocked, so everything a user sees is plain.
//
// Which steps take part (Step::blocked, positions in blk_in / blk_out):
// - 1, a oneDNN kernel: Convolution (and the executor's fused convolution steps) data in /
//   result out; _backward_Convolution out_grad and data in, data gradient out; Pooling data in,
//   result out; BatchNorm data in, result out, and its backward out_grad and data in, data
//   gradient out (a conv -> BN -> relu -> conv chain stays blocked in training too). Around the step a onednn::StepLayouts tells the kernel which of its plain
//   pointers hold a blocked value; a kernel that falls back to MX's own code writes them plain
//   first (onednn::materialize_inputs).
// - 2, elementwise with f(0, ...) = 0 (relu, its gradient, add): when all inputs are blocked in
//   one layout the kernel runs over the padded blocked buffers as flat arrays (padding stays 0).
//
// Values are float32 or bfloat16 (bf16 conv -> BN -> relu -> conv stays blocked too: oneDNN's
// bf16 convolution and BatchNorm take the blocked layouts, MX's bf16 relu/add loops run over the
// padded buffers). bfloat16 pooling is not a blocked step: the own 2x2 kernels are float32.
//
// Side buffers follow the memory plan: the values sharing a planned buffer (lifetimes apart, or
// an in-place pair the op allows) share its side buffer, sized for channels padded to 16.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "graph/executor.h"
#include "ops/imperative.h"
#include "random/philox.h"
#include "ops/nn/fusion_queries.h"

namespace mx {

namespace {

bool blocked_enabled() {
  const char *e = std::getenv("MX_EXEC_BLOCKED");
  return !(e && (std::strcmp(e, "0") == 0 || std::strcmp(e, "OFF") == 0 || std::strcmp(e, "off") == 0));
}

struct Role {
  int kind = 0;                     // Step::blocked
  std::vector<int> ins, outs;       // positions; ins empty with kind 2: all inputs
};

// dtype: the step's first input's (float32 or bfloat16; others never blocked).
Role role_of(const OpDef *op, const Params &p, size_t ninputs, DType dtype) {
  const std::string &n = op->name;
  Role r;
  const bool pool_ok = dtype == DType::f32;

  if (n == "Convolution" || n == "_fused_Convolution_relu" || n == "_fused_Convolution_BatchNorm" ||
      n == "_fused_Convolution_BatchNorm_relu" || (n == "Pooling" && pool_ok)) {
    r.kind = 1;
    r.ins = {0};
    r.outs = {0};
  } else if ((n == "_backward_Pooling" || n == "_fused_backward_Pooling_relu") && pool_ok) {  // (out_grad, data, output, ws)
    r.kind = 1;
    r.ins = {0, 1, 2};
    r.outs = {0};
  } else if (n == "BatchNorm") {  // data in, result out (mean/var/invstd are vectors, plain)
    r.kind = 1;
    r.ins = {0};
    r.outs = {0};
  } else if (n == "_backward_BatchNorm") {  // (out_grad, data, gamma, mean, saved_invstd)
    r.kind = 1;
    r.ins = {0, 1};
    r.outs = {0};
  } else if (n == "_backward_Convolution") {
    r.kind = 1;
    r.ins = {0, 1};
    r.outs = {0};
  } else if (((n == "Activation" || n == "_backward_Activation") && activation_is_relu(p)) || n == "relu" ||
             n == "elemwise_add" || n == "_plus" || n == "_add" || n == "_Plus" || n == "add_n" ||
             n == "ElementWiseSum") {
    r.kind = 2;
    for (size_t i = 0; i < ninputs; ++i) r.ins.push_back(static_cast<int>(i));
    r.outs = {0};
  }
  return r;
}

// Bytes of a value of this shape with its channels (axis 1) padded to 16, oneDNN's widest block.
size_t padded_bytes(const Shape &s, DType t) {
  int64_t n = s[0] * ((s[1] + 15) / 16 * 16);
  for (int i = 2; i < s.ndim(); ++i) n *= s[i];
  return static_cast<size_t>(n) * dtype_size(t);
}

}  // namespace

void Executor::plan_blocked() {
  side_buffers_.clear();
  for (auto &st : steps_) {
    st.blocked = 0;
    st.blk_in.assign(st.inputs.size(), 0);
    st.blk_out.assign(st.outputs.size(), 0);
  }
  if (!dev_.is_cpu() || !onednn::built() || !blocked_enabled() || dynamic_) return;
  const size_t ne = entries_.size();
  std::vector<bool> user_visible(ne, false);
  for (int e : out_entries_) user_visible[static_cast<size_t>(e)] = true;
  for (int e : arg_grad_entries_)
    if (e >= 0) user_visible[static_cast<size_t>(e)] = true;
  for (int e : head_grad_entries_) user_visible[static_cast<size_t>(e)] = true;
  auto candidate = [&](int e) {
    const Entry &en = entries_[static_cast<size_t>(e)];
    return en.buffer >= 0 && en.stype == 0 && (en.dtype == DType::f32 || en.dtype == DType::bf16) &&
           en.shape.ndim() >= 3 &&
           en.shape.size() > 0 && !user_visible[static_cast<size_t>(e)];
  };
  for (auto &st : steps_) {
    const DType dt = st.inputs.empty() ? DType::f32 : entries_[static_cast<size_t>(st.inputs[0])].dtype;
    Role r = role_of(st.op, *st.params, st.inputs.size(), dt);
    if (!r.kind) continue;
    st.blocked = r.kind;
    for (int i : r.ins)
      if (static_cast<size_t>(i) < st.inputs.size()) st.blk_in[static_cast<size_t>(i)] = 1;
    for (int o : r.outs)
      if (static_cast<size_t>(o) < st.outputs.size()) st.blk_out[static_cast<size_t>(o)] = 1;
  }
  // A value may be blocked when its producer gives it blocked and some step takes it blocked.
  std::vector<bool> produced_blk(ne, false), read_blk(ne, false);
  for (auto &st : steps_) {
    for (size_t o = 0; o < st.outputs.size(); ++o)
      if (st.blk_out[o]) produced_blk[static_cast<size_t>(st.outputs[o])] = true;
    for (size_t i = 0; i < st.inputs.size(); ++i)
      if (st.blk_in[i]) read_blk[static_cast<size_t>(st.inputs[i])] = true;
  }
  std::vector<size_t> side_size(buffers_.size(), 0);
  for (size_t e = 0; e < ne; ++e) {
    entries_[e].side = -1;
    entries_[e].layout.reset();
    if (!produced_blk[e] || !read_blk[e] || !candidate(static_cast<int>(e))) continue;
    const int b = entries_[e].buffer;
    entries_[e].side = b;
    side_size[static_cast<size_t>(b)] = std::max(side_size[static_cast<size_t>(b)], padded_bytes(entries_[e].shape, entries_[e].dtype));
  }
  bool any = false;
  side_buffers_.resize(buffers_.size());
  for (size_t b = 0; b < buffers_.size(); ++b)
    if (side_size[b] > 0) {
      side_buffers_[b] = NDArray(Shape{static_cast<int64_t>(side_size[b])}, DType::u8, dev_);
      planned_bytes_ += static_cast<int64_t>(side_size[b]);
      any = true;
    }
  if (!any) side_buffers_.clear();
}

void Executor::to_plain(int e) {
  Entry &en = entries_[static_cast<size_t>(e)];
  if (!en.layout) return;
  onednn::blocked_to_plain(*en.layout, side_buffers_[static_cast<size_t>(en.side)].craw(),
                           const_cast<void *>(en.array.craw()));
  en.layout.reset();
}

void Executor::run_step_blocked(Step &st, bool is_train) {
  // Inputs this step reads plain (at some position that cannot take them blocked) are written
  // out first; so are all of them when the kernel is not called directly (invoke_raw may copy).
  const size_t ni = st.inputs.size();
  std::vector<bool> take(ni, false);
  bool any_in = false;
  for (size_t i = 0; i < ni; ++i) {
    const int e = st.inputs[i];
    if (!entries_[static_cast<size_t>(e)].layout) continue;
    bool ok = st.direct && st.blk_in[i];
    for (size_t j = 0; j < ni && ok; ++j)
      if (st.inputs[j] == e && !st.blk_in[j]) ok = false;
    take[i] = ok;
    any_in = any_in || ok;
  }
  for (size_t i = 0; i < ni; ++i)
    if (!take[i]) to_plain(st.inputs[i]);
  for (int e : st.aux) to_plain(e);
  if (st.blocked == 2 && !(st.direct && st.outputs.size() == 1 && st.blk_out[0] &&
                           entries_[static_cast<size_t>(st.outputs[0])].side >= 0 && ni > 0)) {
    for (int e : st.inputs) to_plain(e);  // the result is read plain: compute it plain
  } else if (st.blocked == 2) {
    // Elementwise over the padded buffers, when every input is blocked in one layout.
    bool all = true;
    const onednn::LayoutRef &l0 = entries_[static_cast<size_t>(st.inputs[0])].layout;
    for (size_t i = 0; i < ni && all; ++i) {
      const Entry &in = entries_[static_cast<size_t>(st.inputs[i])];
      all = take[i] && in.layout && onednn::same_layout(*in.layout, *l0) &&
            in.shape == entries_[static_cast<size_t>(st.outputs[0])].shape;
    }
    const int oside = entries_[static_cast<size_t>(st.outputs[0])].side;
    if (all && onednn::layout_bytes(*l0) > static_cast<size_t>(side_buffers_[static_cast<size_t>(oside)].size()))
      all = false;
    if (all) {
      const onednn::LayoutRef layout = l0;  // the output's own entry may be one of the inputs
      const DType dt = entries_[static_cast<size_t>(st.outputs[0])].dtype;
      const int64_t n = static_cast<int64_t>(onednn::layout_bytes(*layout) / dtype_size(dt));
      auto flat = [&](int e) {
        return NDArray(side_buffers_[static_cast<size_t>(entries_[static_cast<size_t>(e)].side)].storage(), 0,
                       Shape{n}, dt);
      };
      std::vector<NDArray> in, out{flat(st.outputs[0])};
      for (int e : st.inputs) in.push_back(flat(e));
      RandomState *rng = st.op->needs_rng ? &random_state(dev_.type, dev_.id) : nullptr;
      st.op->forward_cpu(OpCall{*st.params, in, st.aux_arr, out, is_train, rng, nullptr});
      entries_[static_cast<size_t>(st.outputs[0])].layout = layout;
      return;
    }
    for (size_t i = 0; i < ni; ++i) to_plain(st.inputs[i]);
    any_in = false;
  }
  for (int e : st.outputs) entries_[static_cast<size_t>(e)].layout.reset();
  if (st.blocked != 1 || !st.direct) {
    run_step(st, is_train);
    return;
  }
  onednn::StepLayouts ctx;
  std::vector<int> registered;
  if (any_in)
    for (size_t i = 0; i < ni; ++i) {
      if (!take[i] || std::find(registered.begin(), registered.end(), st.inputs[i]) != registered.end()) continue;
      const Entry &en = entries_[static_cast<size_t>(st.inputs[i])];
      ctx.add_input(en.array.craw(), en.layout, side_buffers_[static_cast<size_t>(en.side)].craw());
      registered.push_back(st.inputs[i]);
    }
  std::vector<int> outs;
  for (size_t o = 0; o < st.outputs.size(); ++o) {
    const Entry &en = entries_[static_cast<size_t>(st.outputs[o])];
    if (!st.blk_out[o] || en.side < 0) continue;
    const NDArray &sb = side_buffers_[static_cast<size_t>(en.side)];
    ctx.add_output(const_cast<void *>(en.array.craw()), const_cast<void *>(sb.craw()),
                   static_cast<size_t>(sb.size()));
    outs.push_back(st.outputs[o]);
  }
  run_step(st, is_train);
  for (size_t k = 0; k < registered.size(); ++k) {
    // Every kernel that is handed a blocked input uses it or writes it plain before reading.
    MX_CHECK(ctx.input_handled(k), MX_ERR_INTERNAL, st.op->name,
             ": a blocked input was neither used nor written plain (graph/executor_blocked.cc)");
    (void)k;
  }
  for (size_t k = 0; k < outs.size(); ++k) entries_[static_cast<size_t>(outs[k])].layout = ctx.output_layout(k);
}

}  // namespace mx
