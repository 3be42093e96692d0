// LeakyReLU family: leaky (x>0 ? x : slope*x), prelu (learned per-channel gamma on axis 1, or a
// single value), rrelu (random slope in [lower_bound, upper_bound] per element in training, their
// mean otherwise; the slopes are the second output 'mask'), elu (slope*(exp(x)-1) below 0), selu
// and gelu (erf form). The selu gradient follows MXNet 1.x (see leaky_backward). Fused backward _backward_LeakyReLU (out_grad, data, [gamma | mask]).
#include <cmath>

#include "ops/nn/nn_common.h"
#include "ops/cuda_only.h"
#include "ops/each.h"
#include "ops/nn/activation_kernels.h"
#include "ops/nn_gpu.h"

namespace mx {
namespace {

using actk::gamma_broadcasts;
using actk::gamma_is_channel;
using actk::LeakyParam;

bool leaky_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  const auto &p = prm.get<LeakyParam>();
  if (!in[0].known()) return false;
  const char *op = "LeakyReLU";
  assign_shape(out[0], in[0], op, "output");
  if (p.act_type == "prelu") {
    if (!in[1].known()) {
      MX_CHECK(in[0].ndim() >= 2, MX_ERR_SHAPE, op, ": prelu data must have at least 2 dimensions, got ", in[0].str());
      assign_shape(in[1], Shape{in[0][1]}, op, "gamma");
    }
    MX_CHECK(in[1].size() == 1 || gamma_is_channel(in[0], in[1]) || gamma_broadcasts(in[0], in[1]), MX_ERR_SHAPE, op,
             ": prelu 'gamma' must have shape (1,), (", in[0].ndim() >= 2 ? in[0][1] : 1,
             ",) or one broadcastable to the data shape ", in[0].str(), ", got ", in[1].str());
  }
  assign_shape(out[1], in[0], op, "mask");
  return true;
}

const int registered = [] {
  MX_REGISTER_OP(LeakyReLU)
      .doc("Leaky rectified linear units and relatives: leaky, prelu (learned gamma), rrelu (random slope in "
           "training, mean slope otherwise; also outputs the slopes), elu, selu and gelu.")
      .params<LeakyParam>()
      .inputs({"data", "gamma"})
      .inputs_fn([](const Params &prm) -> std::vector<std::string> {
        if (prm.get<LeakyParam>().act_type == "prelu") return {"data", "gamma"};
        return {"data"};
      })
      .outputs({"output", "mask"})
      .num_visible_outputs([](const Params &prm) { return prm.get<LeakyParam>().act_type == "rrelu" ? 2 : 1; })
      .shape(leaky_shape)
      .cpu([](const OpCall &c) { actk::leaky_forward(c, HostEach()); })
      .gpu(cuda_only(gpu_leaky_relu))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &p = n.p<LeakyParam>();
        const OpDef *bw = &Registry::get().require("_backward_LeakyReLU");
        if (p.act_type == "prelu") {
          auto gs = b.emit(bw, n.params, {n.out_grads[0], n.inputs[0], n.inputs[1]});
          return {gs[0], gs[1]};
        }
        if (p.act_type == "rrelu") return {b.emit(bw, n.params, {n.out_grads[0], n.inputs[0], n.outputs[1]})[0]};
        return {b.emit(bw, n.params, {n.out_grads[0], n.inputs[0]})[0]};
      })
      .rng();
  MX_REGISTER_OP(_backward_LeakyReLU)
      .doc("Gradient of LeakyReLU: inputs (out_grad, data, [gamma for prelu | mask for rrelu]).")
      .params<LeakyParam>()
      .inputs_fn([](const Params &prm) -> std::vector<std::string> {
        const auto &t = prm.get<LeakyParam>().act_type;
        if (t == "prelu") return {"out_grad", "data", "gamma"};
        if (t == "rrelu") return {"out_grad", "data", "mask"};
        return {"out_grad", "data"};
      })
      .outputs({"data_grad", "gamma_grad"})
      .num_outputs([](const Params &prm) { return prm.get<LeakyParam>().act_type == "prelu" ? 2 : 1; })
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_LeakyReLU", "data_grad");
        if (prm.get<LeakyParam>().act_type == "prelu") {
          if (!in[2].known()) return false;
          assign_shape(out[1], in[2], "_backward_LeakyReLU", "gamma_grad");
        }
        return true;
      })
      .cpu([](const OpCall &c) { actk::leaky_backward(c, HostEach()); })
      .gpu(cuda_only(gpu_leaky_relu_backward))
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
