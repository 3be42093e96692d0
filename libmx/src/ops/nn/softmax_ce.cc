// softmax_cross_entropy (sum over the batch of -log softmax(data)[label], shape (1,)) and
// SoftmaxActivation (softmax over all but the first axis, 'instance', or over axis 1, 'channel'),
// with fused backward ops.
#include <cmath>

#include "ops/nn/nn_common.h"
#include "ops/cuda_only.h"
#include "ops/each.h"
#include "ops/nn/softmax_kernels.h"
#include "ops/nn_gpu.h"

namespace mx {
namespace {

bool ce_shape(const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  const char *op = "softmax_cross_entropy";
  if (!in[0].known()) return false;
  MX_CHECK(in[0].ndim() == 2, MX_ERR_SHAPE, op, ": data must be 2-D (batch, classes), got shape ", in[0].str());
  assign_shape(in[1], Shape{in[0][0]}, op, "label");
  assign_shape(out[0], Shape{1}, op, "output");
  return true;
}

bool ce_type(const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
  MX_CHECK(in[0] >= 0, MX_ERR_TYPE, "softmax_cross_entropy: data dtype unknown");
        MX_CHECK(in[0] == static_cast<int>(DType::f32) || in[0] == static_cast<int>(DType::f64), MX_ERR_TYPE, "softmax_cross_entropy: data must be float32 or float64, got dtype ", dtype_name(static_cast<DType>(in[0])));
  out[0] = in[0];
  if (in[1] < 0) in[1] = in[0];
  return true;
}

using smk::sa_dims;
using smk::SoftmaxActParam;

const int registered = [] {
  MX_REGISTER_OP(softmax_cross_entropy)
      .doc("Softmax cross-entropy: sum over the batch of -log(softmax(data)[label]); data (batch, classes), "
           "label (batch,); output shape (1,).")
      .params<EmptyParam>()
      .inputs({"data", "label"})
      .dtypes({DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::i8})  // labels may be integers
      .shape(ce_shape)
      .type(ce_type)
      .cpu([](const OpCall &c) { smk::ce_forward(c, HostEach()); })
      .gpu(cuda_only(gpu_softmax_cross_entropy))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_softmax_cross_entropy"), n.params,
                       {n.out_grads[0], n.inputs[0], n.inputs[1]})[0],
                Var::none()};
      });
  MX_REGISTER_OP(_backward_softmax_cross_entropy)
      .doc("Gradient of softmax_cross_entropy: inputs (out_grad, data, label).")
      .params<EmptyParam>()
      .inputs({"out_grad", "data", "label"})
      .outputs({"data_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_softmax_cross_entropy", "data_grad");
        return true;
      })
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        out[0] = in[1];
        return in[1] >= 0;
      })
      .cpu([](const OpCall &c) { smk::ce_backward(c, HostEach()); })
      .gpu(cuda_only(gpu_softmax_cross_entropy_backward))
      .no_grad();
  MX_REGISTER_OP(SoftmaxActivation)
      .doc("Softmax activation: over all but the first axis (mode 'instance') or over axis 1 (mode 'channel').")
      .params<SoftmaxActParam>()
      .inputs({"data"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        sa_dims(prm.get<SoftmaxActParam>(), in[0], "SoftmaxActivation");
        assign_shape(out[0], in[0], "SoftmaxActivation", "output");
        return true;
      })
      .cpu([](const OpCall &c) { smk::softmax_activation_forward(c, HostEach()); })
      .gpu(cuda_only(gpu_softmax_activation))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_SoftmaxActivation"), n.params,
                       {n.out_grads[0], n.outputs[0]})[0]};
      });
  MX_REGISTER_OP(_backward_SoftmaxActivation)
      .doc("Gradient of SoftmaxActivation: inputs (out_grad, output).")
      .params<SoftmaxActParam>()
      .inputs({"out_grad", "output"})
      .outputs({"data_grad"})
      .shape(infer_shape_same)
      .cpu([](const OpCall &c) { smk::softmax_activation_backward(c, HostEach()); })
      .gpu(cuda_only(gpu_softmax_activation_backward))
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
