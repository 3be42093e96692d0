// CTCLoss: connectionist temporal classification loss of unnormalised activations data (T, N, K)
// against padded labels (N, U), per sample (output (N,)), computed with the forward-backward
// recursions in log space. The gradient w.r.t. data is computed in the forward and kept as the
// hidden output 'grad'; _backward_CTCLoss scales it by the head gradient.
// The kernels (ops/nn/ctc_kernels.h) run on both devices (GPU: backends/cuda/ctc.cu).
#include "ops/cuda_only.h"
#include "ops/each.h"
#include "ops/nn/ctc_kernels.h"
#include "ops/nn/nn_common.h"
#include "ops/norm_gpu.h"

namespace mx {
namespace {

using namespace ctck;

std::vector<std::string> ctc_inputs(const Params &prm) {
  const auto &p = prm.get<CTCParam>();
  std::vector<std::string> v{"data", "label"};
  if (p.use_data_lengths) v.push_back("data_lengths");
  if (p.use_label_lengths) v.push_back("label_lengths");
  return v;
}

const int registered = [] {
  MX_REGISTER_OP(CTCLoss)
      .alias("ctc_loss")
      .alias("_contrib_CTCLoss")
      .alias("_contrib_ctc_loss")
      .doc("Connectionist Temporal Classification loss of activations data (T, N, alphabet) (softmax applied "
           "inside) against label (N, label_length); output (N,).")
      .params<CTCParam>()
      .inputs_fn(ctc_inputs)
      .dtypes({DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::i8})  // labels may be integers
      .inputs({"data", "label", "data_lengths", "label_lengths"})
      .outputs({"output", "grad"})
      .num_visible_outputs([](const Params &) { return 1; })
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const char *op = "CTCLoss";
        if (!in[0].known() || !in[1].known()) return false;
        MX_CHECK(in[0].ndim() == 3, MX_ERR_SHAPE, op, ": data must be (sequence_length, batch, alphabet), got ",
                 in[0].str());
        MX_CHECK(in[1].ndim() == 2 && in[1][0] == in[0][1], MX_ERR_SHAPE, op, ": label must be (batch=", in[0][1],
                 ", label_length), got ", in[1].str());
        for (size_t i = 2; i < in.size(); ++i) assign_shape(in[i], Shape{in[0][1]}, op, "lengths");
        assign_shape(out[0], Shape{in[0][1]}, op, "output");
        assign_shape(out[1], in[0], op, "grad");
        return true;
      })
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        MX_CHECK(in[0] >= 0, MX_ERR_TYPE, "CTCLoss: data dtype unknown");
        MX_CHECK(in[0] == static_cast<int>(DType::f32) || in[0] == static_cast<int>(DType::f64), MX_ERR_TYPE, "CTCLoss: data must be float32 or float64, got dtype ", dtype_name(static_cast<DType>(in[0])));
        out[0] = out[1] = in[0];
        for (size_t i = 1; i < in.size(); ++i)
          if (in[i] < 0) in[i] = in[0];
        return true;
      })
      .cpu([](const OpCall &c) { ctc_forward(c, HostEach()); })
      .gpu(cuda_only(gpu_ctc_loss))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        std::vector<Var> r(n.inputs.size(), Var::none());
        r[0] = b.emit(&Registry::get().require("_backward_CTCLoss"), n.params, {n.out_grads[0], n.outputs[1]})[0];
        return r;
      });
  MX_REGISTER_OP(_backward_CTCLoss)
      .doc("Gradient of CTCLoss: inputs (out_grad, grad saved by the forward).")
      .params<CTCParam>()
      .inputs({"out_grad", "grad"})
      .outputs({"data_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_CTCLoss", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) { ctc_backward(c, HostEach()); })
      .gpu(cuda_only(gpu_ctc_loss_backward))
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
