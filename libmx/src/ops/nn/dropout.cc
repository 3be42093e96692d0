// Dropout: in training (or mode='always') zeroes elements with probability p and scales the rest
// by 1/(1-p); identity in predict mode. The scaled mask is a hidden output reused by the gradient.
#include <optional>

#include "ops/nn/nn_common.h"
#include "ops/cuda_only.h"
#include "ops/each.h"
#include "ops/nn/activation_kernels.h"
#include "ops/nn_gpu.h"

namespace mx {
namespace {

using actk::DropoutParam;

const int registered = [] {
  MX_REGISTER_OP(Dropout)
      .doc("Applies dropout: during training each element is zeroed with probability p and the others are scaled "
           "by 1/(1-p); identity at inference unless mode='always'.")
      .params<DropoutParam>()
      .inputs({"data"})
      .outputs({"output", "mask"})
      .num_visible_outputs([](const Params &) { return 1; })
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        for (int64_t a : prm.get<DropoutParam>().axes) normalize_axis(a, in[0].ndim(), "Dropout: axes");
        assign_shape(out[0], in[0], "Dropout", "output");
        assign_shape(out[1], in[0], "Dropout", "mask");
        return true;
      })
      .cpu([](const OpCall &c) { actk::dropout_forward(c, HostEach()); })
      .gpu(cuda_only(gpu_dropout))
      .gpu_dtypes(cuda_half_dtypes())
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit1("elemwise_mul", {}, {n.out_grads[0], n.outputs[1]})};
      })
      .rng();
  return 0;
}();

}  // namespace
}  // namespace mx
