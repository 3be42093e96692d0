// L2Normalization: y = x / sqrt(sum(x^2) + eps) over all axes but the first (instance), over the
// channel axis (channel) or over the spatial axes (spatial). Hidden output: the norms. Fused
// backward _backward_L2Normalization: dx = (dy - y * sum(dy * y)) / norm.
// The kernels (ops/nn/norm_kernels.h) run on both devices (GPU: backends/cuda/norm.cu).
#include "ops/cuda_only.h"
#include "ops/each.h"
#include "ops/nn/nn_common.h"
#include "ops/nn/norm_kernels.h"
#include "ops/norm_gpu.h"

namespace mx {
namespace {

using namespace normk;

const int registered = [] {
  MX_REGISTER_OP(L2Normalization)
      .doc("Normalizes the data by its L2 norm (plus eps under the square root) per instance (all axes but "
           "the first), per channel vector (axis 1) or per spatial map (axes 2...).")
      .params<L2NormParam>()
      .inputs({"data"})
      .outputs({"output", "norm"})
      .num_visible_outputs([](const Params &) { return 1; })
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        Shape ns;
        l2_rows_of(prm.get<L2NormParam>(), in[0], "L2Normalization", &ns);
        assign_shape(out[0], in[0], "L2Normalization", "output");
        assign_shape(out[1], ns, "L2Normalization", "norm");
        return true;
      })
      .cpu([](const OpCall &c) { l2_forward(c, HostEach()); })
      .gpu(cuda_only(gpu_l2_normalization))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_L2Normalization"), n.params,
                       {n.out_grads[0], n.outputs[0], n.outputs[1]})[0]};
      });
  MX_REGISTER_OP(_backward_L2Normalization)
      .doc("Gradient of L2Normalization: inputs (out_grad, output, norm).")
      .params<L2NormParam>()
      .inputs({"out_grad", "output", "norm"})
      .outputs({"data_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_L2Normalization", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) { l2_backward(c, HostEach()); })
      .gpu(cuda_only(gpu_l2_normalization_backward))
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
