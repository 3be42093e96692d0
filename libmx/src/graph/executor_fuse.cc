// The executor's fusion pass, at bind after the backward graph is built. Forward: an op followed
// by Activation(relu) that alone reads its result becomes one step, "_fused_<op>_relu"
// (registered next to the op: Convolution, FullyConnected); on oneDNN the relu is a post-op of
// the convolution. Activation's gradient reads only its output for relu, so training graphs fuse
// too. Inference graphs first fold Convolution + BatchNorm (fold_batchnorms). Backward: relu's
// gradient after a max pooling's gradient becomes _fused_backward_Pooling_relu. Each fusion saves
// a pass over a large activation. CPU only (the fused ops have no GPU kernels); MX_EXEC_FUSION=0 in the environment at bind turns it off.
#include <cstdlib>
#include <cstring>
#include <utility>

#include "graph/executor.h"
#include "ops/nn/fusion_queries.h"
#include "ops/registry.h"

namespace mx {

namespace {
bool fusion_enabled() {
  const char *e = std::getenv("MX_EXEC_FUSION");
  return !(e && (std::strcmp(e, "0") == 0 || std::strcmp(e, "OFF") == 0 || std::strcmp(e, "off") == 0));
}
}  // namespace

// Inference graphs (no backward step): Convolution whose result only a BatchNorm over its
// channels reads becomes one _fused_Convolution_BatchNorm step (ops/nn/conv_bn_fold.cc), which
// folds the BatchNorm into the convolution's weight and bias in predict mode. The graph has no
// backward, so neither the convolution's output nor BatchNorm's saved statistics are needed.
void Executor::fold_batchnorms() {
  for (auto &st : steps_)
    if (st.backward) return;
  const OpDef *fused = Registry::get().find("_fused_Convolution_BatchNorm");
  if (!fused) return;
  const size_t ne = entries_.size();
  std::vector<int> reads(ne, 0), producer(ne, -1);
  for (size_t s = 0; s < steps_.size(); ++s) {
    for (int e : steps_[s].inputs) ++reads[static_cast<size_t>(e)];
    for (int e : steps_[s].aux) ++reads[static_cast<size_t>(e)];
    for (int e : steps_[s].outputs) producer[static_cast<size_t>(e)] = static_cast<int>(s);
  }
  for (int e : out_entries_) ++reads[static_cast<size_t>(e)];
  std::vector<bool> drop(steps_.size(), false);
  for (size_t t = 0; t < steps_.size(); ++t) {
    const Step &bn = steps_[t];
    const BatchNormFold info = batchnorm_fold_info(*bn.params);
    if (!info.is_batchnorm || bn.inputs.size() != 3 || bn.aux.size() != 2 || bn.outputs.size() != 4) continue;
    const int e = bn.inputs[0];
    const int s = producer[static_cast<size_t>(e)];
    if (s < 0 || reads[static_cast<size_t>(e)] != 1) continue;
    Step &conv = steps_[static_cast<size_t>(s)];
    if (conv.op->name != "Convolution" || conv.outputs.size() != 1) continue;
    const Entry &x = entries_[static_cast<size_t>(e)];
    if (!(x.dtype == DType::f32 || x.dtype == DType::f64 || x.dtype == DType::bf16) || x.stype != 0) continue;
    const int64_t axis = info.axis < 0 ? info.axis + static_cast<int64_t>(x.shape.ndim()) : info.axis;
    if (axis != 1) continue;  // BatchNorm over the convolution's filters only
    bool ok = true;
    for (size_t k = 1; k < bn.outputs.size(); ++k) ok = ok && reads[static_cast<size_t>(bn.outputs[k])] == 0;
    // The fused step runs where the convolution ran: gamma, beta and the statistics must be
    // bound arrays (parameters), not values computed later; all share the data's dtype (with
    // bfloat16 data, BatchNorm's parameters may be float32: ops/nn/conv_bn_fold.cc).
    for (const std::vector<int> *ids : {&std::as_const(conv.inputs), &bn.inputs, &bn.aux})
      for (int a : *ids) {
        const Entry &en = entries_[static_cast<size_t>(a)];
        const bool bn_param = ids != &conv.inputs && a != e;
        ok = ok && (en.dtype == x.dtype || (bn_param && x.dtype == DType::bf16 && en.dtype == DType::f32)) &&
             en.stype == 0;
        if (bn_param)  // gamma, beta and the statistics share one dtype
          ok = ok && producer[static_cast<size_t>(a)] < 0 &&
               en.dtype == entries_[static_cast<size_t>(bn.inputs[1])].dtype;
      }
    if (!ok) continue;
    conv.params = conv_bn_fused_params(fused, conv.params, bn.params);
    conv.op = fused;
    conv.inputs.push_back(bn.inputs[1]);
    conv.inputs.push_back(bn.inputs[2]);
    conv.aux = bn.aux;
    conv.outputs = {bn.outputs[0]};
    producer[static_cast<size_t>(bn.outputs[0])] = s;
    drop[t] = true;
  }
  std::vector<Step> kept;
  for (size_t s = 0; s < steps_.size(); ++s)
    if (!drop[s]) kept.push_back(std::move(steps_[s]));
  steps_ = std::move(kept);
}

void Executor::fuse_activations() {
  if (!dev_.is_cpu() || !fusion_enabled()) return;
  fold_batchnorms();
  const size_t ne = entries_.size();
  // How often each value is read: by steps, and (counted as reads) by the user as a graph output
  // or an argument's gradient.
  std::vector<int> reads(ne, 0);
  std::vector<int> producer(ne, -1);
  for (size_t s = 0; s < steps_.size(); ++s) {
    for (int e : steps_[s].inputs) ++reads[static_cast<size_t>(e)];
    for (int e : steps_[s].aux) ++reads[static_cast<size_t>(e)];
    for (int e : steps_[s].outputs) producer[static_cast<size_t>(e)] = static_cast<int>(s);
  }
  for (int e : out_entries_) ++reads[static_cast<size_t>(e)];
  for (int e : arg_grad_entries_)
    if (e >= 0) ++reads[static_cast<size_t>(e)];
  std::vector<bool> drop(steps_.size(), false);
  for (size_t t = 0; t < steps_.size(); ++t) {
    const Step &act = steps_[t];
    if (act.backward || act.op->name != "Activation" || act.inputs.size() != 1 || !activation_is_relu(*act.params))
      continue;
    const int e = act.inputs[0];
    const int s = producer[static_cast<size_t>(e)];
    if (s < 0 || reads[static_cast<size_t>(e)] != 1) continue;
    Step &src = steps_[static_cast<size_t>(s)];
    const bool folded = src.op->name == "_fused_Convolution_BatchNorm";
    if (src.backward || src.outputs.size() != 1 || (!src.aux.empty() && !folded)) continue;
    const OpDef *fused = Registry::get().find(folded ? src.op->name + "_relu" : "_fused_" + src.op->name + "_relu");
    const Entry &mid = entries_[static_cast<size_t>(e)];
    const Entry &out = entries_[static_cast<size_t>(act.outputs[0])];
    if (!fused || mid.dtype != out.dtype || !(mid.shape == out.shape)) continue;
    // The fused step writes the Activation's output; the intermediate value is never made.
    src.op = fused;
    src.outputs = act.outputs;
    producer[static_cast<size_t>(act.outputs[0])] = s;
    drop[t] = true;
  }
  // Backward: relu's gradient right after a max pooling's gradient whose input the relu made
  // (_fused_backward_Pooling_relu, ops/nn/pooling.cc).
  for (size_t t = 0; t < steps_.size(); ++t) {
    const Step &act = steps_[t];
    if (drop[t] || !act.backward || act.op->name != "_backward_Activation" || act.inputs.size() != 3 ||
        !activation_is_relu(*act.params))
      continue;
    const int g = act.inputs[0], y = act.inputs[2];
    const int s = producer[static_cast<size_t>(g)];
    if (s < 0 || reads[static_cast<size_t>(g)] != 1) continue;
    Step &pool = steps_[static_cast<size_t>(s)];
    if (!pool.backward || pool.op->name != "_backward_Pooling" || pool.outputs.size() != 1 ||
        pool.inputs.size() != 4 || pool.inputs[1] != y || !pooling_is_max(*pool.params))
      continue;
    const OpDef *fused = Registry::get().find("_fused_backward_Pooling_relu");
    if (!fused || entries_[static_cast<size_t>(g)].dtype != entries_[static_cast<size_t>(act.outputs[0])].dtype) continue;
    pool.op = fused;
    pool.outputs = act.outputs;
    producer[static_cast<size_t>(act.outputs[0])] = s;
    drop[t] = true;
  }
  std::vector<Step> kept;
  for (size_t s = 0; s < steps_.size(); ++s)
    if (!drop[s]) kept.push_back(std::move(steps_[s]));
  steps_ = std::move(kept);
}

}  // namespace mx
