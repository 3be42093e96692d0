// The executor's fusion pass, at bind after the backward graph is built. Forward: an op followed
// by Activation(relu) that alone reads its result becomes one step, "_fused_<op>_relu"
// (registered next to the op: Convolution, FullyConnected); on oneDNN the relu is a post-op of
// the convolution. Activation's gradient reads only its output for relu, so training graphs fuse
// too. Backward: relu's gradient after a max pooling's gradient becomes
// _fused_backward_Pooling_relu. Each fusion saves a pass over a large activation. CPU only (the
// fused ops have no GPU kernels); MX_EXEC_FUSION=0 in the environment at bind turns it off.
#include <cstdlib>
#include <cstring>

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

void Executor::fuse_activations() {
  if (!dev_.is_cpu() || !fusion_enabled()) return;
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
    if (src.backward || src.outputs.size() != 1 || !src.aux.empty()) continue;
    const OpDef *fused = Registry::get().find("_fused_" + src.op->name + "_relu");
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
        pool.inputs.size() != 3 || pool.inputs[1] != y || !pooling_is_max(*pool.params))
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
