// softmax, log_softmax and softmin along one axis (temperature, optional length masking), with
// fused backward ops _backward_softmax, _backward_log_softmax, _backward_softmin.
#include <cmath>
#include <limits>
#include <optional>

#include "backends/cpu/onednn_softmax.h"
#include "ops/nn/nn_common.h"
#include "ops/via_f32.h"
#include "ops/cuda_only.h"
#include "ops/each.h"
#include "ops/nn/softmax_kernels.h"
#include "ops/nn_gpu.h"

namespace mx {
namespace {

using smk::dims_of;
using smk::Dims;
using smk::Kind;
using smk::kLogSoftmax;
using smk::kSoftmax;
using smk::kSoftmin;
using smk::SoftmaxParam;
using smk::uses_length;

Shape length_shape(const Shape &data, int axis) {
  std::vector<int64_t> v;
  for (int i = 0; i < data.ndim(); ++i)
    if (i != axis) v.push_back(data[i]);
  return Shape(v);
}

const std::vector<DType> kTypes = {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::i8};

// oneDNN for softmax and log_softmax of float32 and bfloat16 data, without length masks or a
// temperature, into the data's dtype (measured 1000x1000 float32, one thread: see docs/ONEDNN.md).
bool softmax_onednn(Kind kind, const OpCall &c) {
  const auto &p = c.p<SoftmaxParam>();
  const NDArray &x = c.inputs[0], &y = c.outputs[0];
  if (kind == kSoftmin || uses_length(p) || p.temperature.value_or(1.0) != 1.0 || x.dtype() != y.dtype() ||
      !(x.dtype() == DType::f32 || x.dtype() == DType::bf16))
    return false;
  const Dims d = dims_of(p, x.shape(), "softmax");
  onednn::SoftmaxShape sh;
  sh.outer = d.outer;
  sh.len = d.len;
  sh.inner = d.inner;
  sh.log = kind == kLogSoftmax;
  sh.bf16 = x.dtype() == DType::bf16;
  return onednn::softmax_forward(sh, x.craw(), y.raw());
}

// The gradient on oneDNN in the same cases, inputs (out_grad, output) of one dtype, from 4096
// elements on. Measured (1 thread, CPU time per call): 1000x1000 float32 softmax 0.20 ms against
// MX's loop's 1.39, log_softmax 0.54 against 5.38 (bf16: 0.19 / 0.50 against 2.08 / 6.43 through
// float32 copies); 64x1000 0.018 against 0.091; but a 64x10 loss head 5.9 us against 2.8 (oneDNN's
// call overhead).
bool softmax_backward_onednn(Kind kind, const OpCall &c) {
  const auto &p = c.p<SoftmaxParam>();
  const NDArray &dy = c.inputs[0], &y = c.inputs[1], &dx = c.outputs[0];
  if (y.size() < 4096 || kind == kSoftmin || uses_length(p) || p.temperature.value_or(1.0) != 1.0 ||
      dy.dtype() != y.dtype() || dx.dtype() != dy.dtype() || !(dy.dtype() == DType::f32 || dy.dtype() == DType::bf16))
    return false;
  const Dims d = dims_of(p, y.shape(), "softmax");
  onednn::SoftmaxShape sh;
  sh.outer = d.outer;
  sh.len = d.len;
  sh.inner = d.inner;
  sh.log = kind == kLogSoftmax;
  sh.bf16 = dy.dtype() == DType::bf16;
  return onednn::softmax_backward(sh, y.craw(), dy.craw(), dx.raw());
}

void register_kind(Kind kind, const char *name, const char *bwname, const char *doc, KernelFn gpu_fwd, KernelFn gpu_bwd) {
  OpBuilder::create(name)
      .doc(doc)
      .params<SoftmaxParam>()
      .inputs({"data", "length"})
      .inputs_fn([](const Params &prm) -> std::vector<std::string> {
        if (uses_length(prm.get<SoftmaxParam>())) return {"data", "length"};
        return {"data"};
      })
      .dtypes(kTypes)
      .shape([name](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = prm.get<SoftmaxParam>();
        Dims d = dims_of(p, in[0], name);
        if (uses_length(p)) assign_shape(in[1], length_shape(in[0], d.axis), name, "length");
        assign_shape(out[0], in[0], name, "output");
        return true;
      })
      .type([name](const Params &prm, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[0] < 0) return false;
        const auto &p = prm.get<SoftmaxParam>();
        int t = p.dtype == "None" ? in[0] : static_cast<int>(dtype_from_name(p.dtype));
        if (out[0] >= 0 && out[0] != t)
          fail(MX_ERR_TYPE, name, ": output dtype ", dtype_name(static_cast<DType>(out[0])), " does not match ",
               dtype_name(static_cast<DType>(t)));
        out[0] = t;
        if (uses_length(p) && in[1] < 0) in[1] = static_cast<int>(DType::i32);
        return true;
      })
      .cpu([kind, name](const OpCall &c) {
        if (softmax_onednn(kind, c)) return;
        if (c.inputs[0].dtype() == DType::bf16)  // cpu_dtypes: the cases oneDNN does not take
          return run_via_f32(c, [kind, name](const OpCall &c32) { smk::softmax_forward(kind, c32, name, HostEach()); });
        smk::softmax_forward(kind, c, name, HostEach());
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(gpu_fwd))
      .gpu_dtypes(cuda_half_dtypes())
      .grad([bwname](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        std::vector<Var> in{n.out_grads[0], n.outputs[0]};
        bool ul = uses_length(n.p<SoftmaxParam>());
        if (ul) in.push_back(n.inputs[1]);
        Var g = b.emit(&Registry::get().require(bwname), n.params, in)[0];
        if (ul) return {g, Var::none()};
        return {g};
      });
  OpBuilder::create(bwname)
      .doc("Gradient of a softmax-family op: inputs (out_grad, output[, length]).")
      .params<SoftmaxParam>()
      .inputs({"out_grad", "output", "length"})
      .inputs_fn([](const Params &prm) -> std::vector<std::string> {
        if (uses_length(prm.get<SoftmaxParam>())) return {"out_grad", "output", "length"};
        return {"out_grad", "output"};
      })
      .outputs({"data_grad"})
      .dtypes(kTypes)
      .shape([bwname](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(in[0], in[1], bwname, "out_grad");
        assign_shape(out[0], in[1], bwname, "data_grad");
        return true;
      })
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[0] < 0) return false;
        out[0] = in[0];
        return true;
      })
      .cpu([kind, bwname](const OpCall &c) {
        if (softmax_backward_onednn(kind, c)) return;
        if (c.inputs[0].dtype() == DType::bf16)  // cpu_dtypes: the cases oneDNN does not take
          return run_via_f32(c, [kind, bwname](const OpCall &c32) {
            smk::softmax_backward(kind, c32, bwname, HostEach());
          });
        smk::softmax_backward(kind, c, bwname, HostEach());
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(gpu_bwd))
      .gpu_dtypes(cuda_half_dtypes())
      .no_grad();
}

const int registered = [] {
  register_kind(kSoftmax, "softmax", "_backward_softmax",
                "Applies the softmax function along an axis: exp(x/t) / sum(exp(x/t)). With use_length, only the "
                "first length[i] elements of each row take part; the rest are 0.",
                gpu_softmax, gpu_softmax_backward);
  register_kind(kLogSoftmax, "log_softmax", "_backward_log_softmax",
                "Computes the log of the softmax along an axis: x/t - log(sum(exp(x/t))).",
                gpu_log_softmax, gpu_log_softmax_backward);
  register_kind(kSoftmin, "softmin", "_backward_softmin",
                "Applies the softmin function along an axis: softmax(-x/t).", gpu_softmin,
                gpu_softmin_backward);
  return 0;
}();

}  // namespace
}  // namespace mx
