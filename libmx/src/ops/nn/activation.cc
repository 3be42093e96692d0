// Activation (relu, sigmoid, tanh, softrelu, softsign) and its fused backward.
#include <cmath>

#include "backends/cpu/bf16_loops.h"

#include "ops/cuda_only.h"
#include "ops/each.h"
#include "ops/nn/activation_kernels.h"
#include "ops/nn_gpu.h"
#include "ops/nn/fusion_queries.h"
#include "ops/nn/nn_common.h"

namespace mx {
namespace {

using actk::act_of;
using actk::ActParam;
using actk::kRelu;
using actk::kSigmoid;
using actk::kTanh;
using actk::Act;

// bfloat16 (cpu_dtypes): relu and its gradient are exact selections on the bf16 bits
// (backends/cpu/bf16_loops.h); the others widen each element, compute in float with the float32
// kernel's formula and round once (activation_kernels.h's half types): no float32 copies.
void activation_bf16(const OpCall &c) {
  if (act_of(c.p<ActParam>().act_type) != kRelu) return actk::activation_forward(c, HostEach());
  bf16::relu(c.inputs[0].cdata<bf16_t>(), c.outputs[0].data<bf16_t>(), c.outputs[0].size());
}

void activation_backward_bf16(const OpCall &c) {
  if (act_of(c.p<ActParam>().act_type) != kRelu) return actk::activation_backward(c, HostEach());
  bf16::relu_backward(c.inputs[0].cdata<bf16_t>(), c.inputs[2].cdata<bf16_t>(), c.outputs[0].data<bf16_t>(),
                      c.outputs[0].size());
}

const int registered = [] {
  MX_REGISTER_OP(Activation)
      .doc("Applies an activation function element-wise: relu, sigmoid, tanh, softrelu (log(1+exp(x))) or "
           "softsign (x/(1+|x|)).")
      .params<ActParam>()
      .inputs({"data"})
      .shape(infer_shape_same)
      .inplace({{0, 0}})
      .cpu([](const OpCall &c) {
        if (c.inputs[0].dtype() == DType::bf16) return activation_bf16(c);
        actk::activation_forward(c, HostEach());
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(gpu_activation))
      .gpu_dtypes(cuda_half_dtypes())
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        // relu, sigmoid and tanh gradients read only the output: passing it for `data` too leaves
        // the input unread after the forward, so the executor may run this Activation in place
        // or fuse it into the op before it (graph/executor_fuse.cc).
        Act a = act_of(n.p<ActParam>().act_type);
        Var data = a == kRelu || a == kSigmoid || a == kTanh ? n.outputs[0] : n.inputs[0];
        return {b.emit(&Registry::get().require("_backward_Activation"), n.params,
                       {n.out_grads[0], data, n.outputs[0]})[0]};
      });
  MX_REGISTER_OP(_backward_Activation)
      .doc("Gradient of Activation: inputs (out_grad, data, output).")
      .params<ActParam>()
      .inputs({"out_grad", "data", "output"})
      .outputs({"data_grad"})
      .shape(infer_shape_same)
      .inplace({{0, 0}, {1, 0}, {2, 0}})
      .cpu([](const OpCall &c) {
        if (c.inputs[0].dtype() == DType::bf16) return activation_backward_bf16(c);
        actk::activation_backward(c, HostEach());
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(gpu_activation_backward))
      .gpu_dtypes(cuda_half_dtypes())
      .no_grad();
  return 0;
}();

}  // namespace

bool activation_is_relu(const Params &p) {
  return p.op == Registry::get().find("Activation") && act_of(p.get<ActParam>().act_type) == kRelu;
}

}  // namespace mx
