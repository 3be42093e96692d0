// Activation (relu, sigmoid, tanh, softrelu, softsign) and its fused backward.
#include <cmath>

#include "backends/cpu/fast_math.h"
#include "ops/nn/fusion_queries.h"
#include "ops/nn/nn_common.h"

namespace mx {
namespace {

constexpr int64_t kGrain = 1 << 14;

struct ActParam {
  std::string act_type;
  static void describe(ParamDecl<ActParam> &d) {
    d.field("act_type", &ActParam::act_type).required()
        .choices({"relu", "sigmoid", "softrelu", "softsign", "tanh"}).doc("Activation function to be applied.");
  }
};

enum Act { kRelu, kSigmoid, kTanh, kSoftrelu, kSoftsign };
Act act_of(const std::string &s) {
  if (s == "relu") return kRelu;
  if (s == "sigmoid") return kSigmoid;
  if (s == "tanh") return kTanh;
  if (s == "softrelu") return kSoftrelu;
  if (s == "softsign") return kSoftsign;
  fail(MX_ERR_INVALID_ARGUMENT, "Activation: parameter 'act_type' has invalid value '", s, "'");
}

template <typename T> void act_forward(const OpCall &c) {
  const T *x = c.inputs[0].data<T>();
  T *y = c.outputs[0].data<T>();
  Act a = act_of(c.p<ActParam>().act_type);
  parallel_for(c.outputs[0].size(), kGrain, [&](int64_t b, int64_t e) {
    switch (a) {
      case kRelu: for (int64_t i = b; i < e; ++i) y[i] = x[i] > T(0) ? x[i] : T(0); break;
      case kSigmoid: for (int64_t i = b; i < e; ++i) y[i] = T(1) / (T(1) + std::exp(-x[i])); break;
      case kTanh: for (int64_t i = b; i < e; ++i) y[i] = fastmath::tanh_of(x[i]); break;
      case kSoftrelu:  // log(1 + exp(x)), stable
        for (int64_t i = b; i < e; ++i) y[i] = x[i] > T(20) ? x[i] : std::log1p(std::exp(x[i]));
        break;
      case kSoftsign: for (int64_t i = b; i < e; ++i) y[i] = x[i] / (T(1) + std::abs(x[i])); break;
    }
  });
}

// inputs: out_grad, data, output
template <typename T> void act_backward(const OpCall &c) {
  const T *g = c.inputs[0].data<T>(), *x = c.inputs[1].data<T>(), *y = c.inputs[2].data<T>();
  T *dx = c.outputs[0].data<T>();
  Act a = act_of(c.p<ActParam>().act_type);
  parallel_for(c.outputs[0].size(), kGrain, [&](int64_t b, int64_t e) {
    switch (a) {
      case kRelu: for (int64_t i = b; i < e; ++i) dx[i] = y[i] > T(0) ? g[i] : T(0); break;
      case kSigmoid: for (int64_t i = b; i < e; ++i) dx[i] = g[i] * y[i] * (T(1) - y[i]); break;
      case kTanh: for (int64_t i = b; i < e; ++i) dx[i] = g[i] * (T(1) - y[i] * y[i]); break;
      case kSoftrelu: for (int64_t i = b; i < e; ++i) dx[i] = g[i] / (T(1) + std::exp(-x[i])); break;
      case kSoftsign:
        for (int64_t i = b; i < e; ++i) {
          T d = T(1) + std::abs(x[i]);
          dx[i] = g[i] / (d * d);
        }
        break;
    }
  });
}

const int registered = [] {
  MX_REGISTER_OP(Activation)
      .doc("Applies an activation function element-wise: relu, sigmoid, tanh, softrelu (log(1+exp(x))) or "
           "softsign (x/(1+|x|)).")
      .params<ActParam>()
      .inputs({"data"})
      .shape(infer_shape_same)
      .inplace({{0, 0}})
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "Activation", { act_forward<T>(c); }); })
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
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_Activation", { act_backward<T>(c); });
      })
      .no_grad();
  return 0;
}();

}  // namespace

bool activation_is_relu(const Params &p) {
  return p.op == Registry::get().find("Activation") && act_of(p.get<ActParam>().act_type) == kRelu;
}

}  // namespace mx
