// Loss layers: SoftmaxOutput and Linear/Logistic/MAE RegressionOutput. Their gradients ignore the
// head gradient (MXNet semantics): grad = (prediction - target) * scale.
#include <cmath>
#include <limits>

#include "ops/nn/nn_common.h"
#include "ops/cuda_only.h"
#include "ops/each.h"
#include "ops/nn/softmax_kernels.h"
#include "ops/nn_gpu.h"

namespace mx {
namespace {

using smk::so_dims;
using smk::SoftmaxOutputParam;

Shape so_label_shape(const SoftmaxOutputParam &p, const Shape &d) {
  std::vector<int64_t> v;
  if (p.multi_output) {
    v.push_back(d[0]);
    for (int i = 2; i < d.ndim(); ++i) v.push_back(d[i]);
  } else if (p.preserve_shape) {
    for (int i = 0; i + 1 < d.ndim(); ++i) v.push_back(d[i]);
  } else {
    v.push_back(d[0]);
  }
  return Shape(v);
}

bool so_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  if (!in[0].known()) return false;
  const auto &p = prm.get<SoftmaxOutputParam>();
  so_dims(p, in[0], nullptr);
  Shape ls = so_label_shape(p, in[0]);
  if (!(in[1].known() && !p.multi_output && !p.preserve_shape && in[1] == in[0]))
    assign_shape(in[1], ls, "SoftmaxOutput", "label");
  assign_shape(out[0], in[0], "SoftmaxOutput", "output");
  return true;
}

// ---- regression outputs
using smk::kLinear;
using smk::kLogistic;
using smk::kMAE;
using smk::RegKind;
using smk::RegParam;

bool reg_shape(const char *op, ShapeVec &in, ShapeVec &out) {
  if (!in[0].known()) return false;
  const Shape &d = in[0];
  if (in[1].known()) {
    const Shape &l = in[1];
    MX_CHECK(l.size() == d.size() && l.ndim() >= 1 && d.ndim() >= 1 && l[0] == d[0], MX_ERR_SHAPE, op,
             ": label has shape ", l.str(), " but data has shape ", d.str(), " (they must hold the same elements)");
  } else {
    in[1] = d;
  }
  assign_shape(out[0], d, op, "output");
  return true;
}

void register_reg(RegKind kind, const char *name, const char *bwname, const char *doc, KernelFn gpu_fwd,
                  KernelFn gpu_bwd) {
  OpBuilder::create(name)
      .doc(doc)
      .params<RegParam>()
      .inputs({"data", "label"})
      .shape([name](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return reg_shape(name, in, out); })
      .cpu([kind, name](const OpCall &c) { smk::reg_forward(kind, c, name, HostEach()); })
      .gpu(cuda_only(gpu_fwd))
      .grad([bwname](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require(bwname), n.params, {n.outputs[0], n.inputs[1]})[0], Var::none()};
      });
  OpBuilder::create(bwname)
      .doc("Gradient of a regression output layer: inputs (output, label).")
      .params<RegParam>()
      .inputs({"output", "label"})
      .outputs({"data_grad"})
      .shape([bwname](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return reg_shape(bwname, in, out); })
      .cpu([kind, bwname](const OpCall &c) { smk::reg_backward(kind, c, bwname, HostEach()); })
      .gpu(cuda_only(gpu_bwd))
      .no_grad();
}

const int registered = [] {
  MX_REGISTER_OP(SoftmaxOutput)
      .alias("Softmax")
      .doc("Computes the softmax of the input in the forward pass; the backward pass gives the gradient of the "
           "cross-entropy loss with respect to the input, (softmax - onehot(label)) * scale, ignoring the head gradient.")
      .params<SoftmaxOutputParam>()
      .inputs({"data", "label"})
      .shape(so_shape)
      .cpu([](const OpCall &c) { smk::so_forward(c, HostEach()); })
      .gpu(cuda_only(gpu_softmax_output))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_SoftmaxOutput"), n.params,
                       {n.out_grads[0], n.outputs[0], n.inputs[1]})[0],
                Var::none()};
      });
  MX_REGISTER_OP(_backward_SoftmaxOutput)
      .doc("Gradient of SoftmaxOutput: inputs (out_grad, output, label).")
      .params<SoftmaxOutputParam>()
      .inputs({"out_grad", "output", "label"})
      .outputs({"data_grad"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &aux, ShapeVec &out) {
        if (!in[1].known()) return false;
        ShapeVec fi{in[1], in[2]}, fo{Shape()};
        so_shape(prm, fi, aux, fo);
        assign_shape(in[2], fi[1], "_backward_SoftmaxOutput", "label");
        assign_shape(in[0], in[1], "_backward_SoftmaxOutput", "out_grad");
        assign_shape(out[0], in[1], "_backward_SoftmaxOutput", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) { smk::so_backward(c, HostEach()); })
      .gpu(cuda_only(gpu_softmax_output_backward))
      .no_grad();
  register_reg(kLinear, "LinearRegressionOutput", "_backward_LinearRegressionOutput",
               "Identity in the forward pass; least-squares loss gradient (out - label) * grad_scale / num_output backward.",
               gpu_linear_regression_output, gpu_linear_regression_output_backward);
  register_reg(kLogistic, "LogisticRegressionOutput", "_backward_LogisticRegressionOutput",
               "Sigmoid in the forward pass; logistic loss gradient (out - label) * grad_scale / num_output backward.",
               gpu_logistic_regression_output, gpu_logistic_regression_output_backward);
  register_reg(kMAE, "MAERegressionOutput", "_backward_MAERegressionOutput",
               "Identity in the forward pass; mean-absolute-error gradient sign(out - label) * grad_scale / num_output backward.",
               gpu_mae_regression_output, gpu_mae_regression_output_backward);
  return 0;
}();

}  // namespace
}  // namespace mx
