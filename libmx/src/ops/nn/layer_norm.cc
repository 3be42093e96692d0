// LayerNorm (one axis), InstanceNorm (per sample and channel) and GroupNorm (per sample and group
// of channels), sharing one kernel: the data is split into "rows" (one per statistic) of M
// elements each, normalised with the biased variance, then scaled/shifted by gamma/beta indexed
// per element. Fused backward ops _backward_<Op> take (out_grad, data, gamma, mean, std).
// The kernels (ops/nn/norm_kernels.h) run on both devices (GPU: backends/cuda/norm.cu).
#include "ops/cuda_only.h"
#include "ops/each.h"
#include "ops/nn/nn_common.h"
#include "ops/nn/norm_kernels.h"
#include "ops/norm_gpu.h"

namespace mx {
namespace {

using namespace normk;

template <Kind K> bool norm_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  if (!in[0].known()) return false;
  const char *op = name_of(K);
  Info f = info_of(K, prm, in[0], op);
  assign_shape(in[1], f.gamma, op, "gamma");
  assign_shape(in[2], f.gamma, op, "beta");
  assign_shape(out[0], in[0], op, "output");
  assign_shape(out[1], f.stat, op, "mean");
  assign_shape(out[2], f.stat, op, "std");
  return true;
}

template <Kind K, typename P> void register_norm(const char *name, const char *bwd, const char *doc,
                                                 std::function<int(const Params &)> visible) {
  OpBuilder::create(name)
      .doc(doc)
      .params<P>()
      .inputs({"data", "gamma", "beta"})
      .outputs({"output", "mean", "std"})
      .num_visible_outputs(visible)
      .shape(norm_shape<K>)
      .cpu([](const OpCall &c) { norm_forward(K, c, HostEach()); })
      .gpu(cuda_only(K == kLayer ? gpu_layer_norm : K == kInstance ? gpu_instance_norm : gpu_group_norm))
      .grad([bwd](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto gs = b.emit(&Registry::get().require(bwd), n.params,
                         {n.out_grads[0], n.inputs[0], n.inputs[1], n.outputs[1], n.outputs[2]});
        return {gs[0], gs[1], gs[2]};
      });
  OpBuilder::create(bwd)
      .doc("Gradient of a normalization op: inputs (out_grad, data, gamma, mean, std).")
      .params<P>()
      .inputs({"out_grad", "data", "gamma", "mean", "std"})
      .outputs({"data_grad", "gamma_grad", "beta_grad"})
      .shape([bwd](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        Info f = info_of(K, prm, in[1], bwd);
        assign_shape(in[0], in[1], bwd, "out_grad");
        assign_shape(in[2], f.gamma, bwd, "gamma");
        assign_shape(in[3], f.stat, bwd, "mean");
        assign_shape(in[4], f.stat, bwd, "std");
        assign_shape(out[0], in[1], bwd, "data_grad");
        assign_shape(out[1], f.gamma, bwd, "gamma_grad");
        assign_shape(out[2], f.gamma, bwd, "beta_grad");
        return true;
      })
      .cpu([](const OpCall &c) { norm_backward(K, c, HostEach()); })
      .gpu(cuda_only(K == kLayer ? gpu_layer_norm_backward
                     : K == kInstance ? gpu_instance_norm_backward : gpu_group_norm_backward))
      .hidden()
      .no_grad();
}

const int registered = [] {
  register_norm<kLayer, LayerNormParam>(
      "LayerNorm", "_backward_LayerNorm",
      "Layer normalization along one axis: (x - mean) / sqrt(var + eps) * gamma + beta, gamma/beta of the "
      "axis' length. Outputs output (and mean, std with output_mean_var).",
      [](const Params &p) { return p.get<LayerNormParam>().output_mean_var ? 3 : 1; });
  register_norm<kInstance, InstanceNormParam>(
      "InstanceNorm", "_backward_InstanceNorm",
      "Instance normalization: normalizes each (sample, channel) over the spatial axes, then scales by "
      "gamma and shifts by beta (per channel).",
      [](const Params &) { return 1; });
  register_norm<kGroup, GroupNormParam>(
      "GroupNorm", "_backward_GroupNorm",
      "Group normalization: splits the channels into num_groups groups, normalizes each sample over each "
      "group (with the spatial axes), then scales by gamma and shifts by beta (per group: shape "
      "(num_groups,), as MXNet 1.x).",
      [](const Params &p) { return p.get<GroupNormParam>().output_mean_var ? 3 : 1; });
  return 0;
}();

}  // namespace
}  // namespace mx
