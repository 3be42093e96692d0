// FullyConnected: out = data . weight^T + bias on GEMM, and its fused backward.
#include <type_traits>

#include "backends/cpu/onednn_ip.h"
#include "backends/gemm.h"
#include "ops/cuda_only.h"
#include "ops/nn/nn_common.h"
#include "ops/via_f32.h"

namespace mx {
namespace {

struct FCParam {
  int64_t num_hidden = 0;
  bool no_bias = false, flatten = true;
  static void describe(ParamDecl<FCParam> &d) {
    d.field("num_hidden", &FCParam::num_hidden).required().doc("Number of hidden nodes of the output.");
    d.field("no_bias", &FCParam::no_bias).def(false).doc("Whether to disable bias parameter.");
    d.field("flatten", &FCParam::flatten).def(true).doc("Whether to collapse all but the first axis of the input data tensor.");
    d.check([](const FCParam &p, const std::string &op) {
      MX_CHECK(p.num_hidden > 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'num_hidden' must be positive, got ",
               p.num_hidden);
    });
  }
};

// (rows, K) view of the data.
void fc_dims(const FCParam &p, const Shape &d, int64_t *rows, int64_t *k) {
  MX_CHECK(d.ndim() >= 1, MX_ERR_SHAPE, "FullyConnected: data must have at least one dimension, got shape ", d.str());
  if (p.flatten) {
    *rows = d[0];
    *k = d.prod(1, d.ndim());
  } else {
    *k = d[d.ndim() - 1];
    *rows = d.prod(0, d.ndim() - 1);
  }
}

bool fc_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  const auto &p = prm.get<FCParam>();
  const char *op = "FullyConnected";
  if (!in[0].known()) return false;
  int64_t rows, k;
  fc_dims(p, in[0], &rows, &k);
  // Said in terms of the input: a wrong input width is the usual mistake, not a wrong weight.
  if (in[1].known() && in[1].ndim() == 2 && in[1][1] != k)
    fail(MX_ERR_SHAPE, op, ": input has ", k, " features (data shape ", in[0].str(), p.flatten ? ", flattened" : "",
         ") but the weight ", in[1].str(), " takes ", in[1][1]);
  assign_shape(in[1], Shape{p.num_hidden, k}, op, "weight");
  if (!p.no_bias) assign_shape(in[2], Shape{p.num_hidden}, op, "bias");
  Shape o;
  if (p.flatten) {
    o = Shape{in[0][0], p.num_hidden};
  } else {
    o = in[0];
    o[o.ndim() - 1] = p.num_hidden;
  }
  assign_shape(out[0], o, op, "output");
  return true;
}

// One kernel for both devices: GEMMs go to OpenBLAS or cuBLAS (backends/gemm.h). The bias
// broadcast and the bias gradient are loops on the CPU and rank-1 / ones-vector GEMMs on the GPU
// (no separate kernels needed there).
template <typename T> void fc_forward(const OpCall &c, bool relu = false) {
  const auto &p = c.p<FCParam>();
  int64_t rows, k;
  fc_dims(p, c.inputs[0].shape(), &rows, &k);
  const int64_t M = p.num_hidden;
  const DeviceGemm gemm{c.outputs[0].device(), "FullyConnected"};
  const T *x = c.inputs[0].data<T>(), *w = c.inputs[1].data<T>();
  T *y = c.outputs[0].data<T>();
  if (!p.no_bias) {
    const T *b = c.inputs[2].data<T>();
    if (gemm.dev.is_cpu()) {
      for (int64_t r = 0; r < rows; ++r) std::memcpy(y + r * M, b, sizeof(T) * static_cast<size_t>(M));
    } else if (rows > 0) {  // y = ones(rows, 1) . b(1, M)
      NDArray ones(Shape{rows}, c.outputs[0].dtype(), gemm.dev);
      ones.fill(1);
      gemm(false, false, rows, M, 1, T(1), ones.data<T>(), 1, b, M, T(0), y, M);
    }
  }
  if (k == 0) {
    if (p.no_bias) gemm.zero(y, rows * M);
  } else {
    gemm(false, true, rows, M, k, T(1), x, k, w, k, p.no_bias ? T(0) : T(1), y, M);
  }
  if constexpr (std::is_floating_point_v<T>)
    if (relu) nn::relu_in_place(y, rows * M);  // CPU only: the fused op has no GPU kernel
}

// inputs: out_grad, data, weight; outputs: data grad, weight grad, [bias grad]
template <typename T> void fc_backward(const OpCall &c) {
  const auto &p = c.p<FCParam>();
  int64_t rows, k;
  fc_dims(p, c.inputs[1].shape(), &rows, &k);
  const int64_t M = p.num_hidden;
  const DeviceGemm gemm{c.outputs[0].device(), "_backward_FullyConnected"};
  const T *g = c.inputs[0].data<T>(), *x = c.inputs[1].data<T>(), *w = c.inputs[2].data<T>();
  T *dx = c.outputs[0].data<T>(), *dw = c.outputs[1].data<T>();
  if (k > 0) {
    if (rows > 0 && c.needed(0)) gemm(false, false, rows, k, M, T(1), g, M, w, k, T(0), dx, k);
    if (rows > 0) gemm(true, false, M, k, rows, T(1), g, M, x, k, T(0), dw, k);
    else gemm.zero(dw, M * k);
  }
  if (!p.no_bias) {
    T *db = c.outputs[2].data<T>();
    if (gemm.dev.is_cpu()) {
      if constexpr (std::is_floating_point_v<T>) {  // float16/bfloat16 reach the CPU as float32
        for (int64_t m = 0; m < M; ++m) db[m] = T(0);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t m = 0; m < M; ++m) db[m] += g[r * M + m];
      }
    } else if (rows == 0) {
      gemm.zero(db, M);
    } else {  // db = g^T . ones(rows)
      NDArray ones(Shape{rows}, c.outputs[2].dtype(), gemm.dev);
      ones.fill(1);
      gemm(true, false, M, 1, rows, T(1), g, M, ones.data<T>(), 1, T(0), db, 1);
    }
  }
}

onednn::IPShape ip_shape(const FCParam &p, const Shape &data, DType t) {
  onednn::IPShape sh;
  fc_dims(p, data, &sh.rows, &sh.K);
  sh.M = p.num_hidden;
  sh.bf16 = t == DType::bf16;
  return sh;
}

// bfloat16 (cpu_dtypes): oneDNN's bf16 inner product, else the float32 kernel on converted copies.
void fc_forward_bf16(const OpCall &c, bool relu) {
  const auto &p = c.p<FCParam>();
  if (onednn::ip_forward(ip_shape(p, c.inputs[0].shape(), DType::bf16), c.inputs[0].craw(), c.inputs[1],
                         p.no_bias ? nullptr : c.inputs[2].craw(), c.outputs[0].raw(), relu))
    return;
  run_via_f32(c, [relu](const OpCall &c32) { fc_forward<float>(c32, relu); });
}

void fc_backward_bf16(const OpCall &c) {
  const auto &p = c.p<FCParam>();
  const onednn::IPShape sh = ip_shape(p, c.inputs[1].shape(), DType::bf16);
  if (!onednn::ip_backward(sh, c.inputs[1].craw(), c.inputs[2], c.inputs[0].craw(),
                           c.needed(0) ? c.outputs[0].raw() : nullptr, c.outputs[1].raw()))
    return run_via_f32(c, fc_backward<float>);
  if (p.no_bias) return;
  const bf16_t *g = c.inputs[0].cdata<bf16_t>();
  bf16_t *db = c.outputs[2].data<bf16_t>();
  std::vector<double> acc(static_cast<size_t>(sh.M), 0.0);  // summed in double, rounded once
  for (int64_t r = 0; r < sh.rows; ++r)
    for (int64_t m = 0; m < sh.M; ++m) acc[static_cast<size_t>(m)] += static_cast<float>(g[r * sh.M + m]);
  for (int64_t m = 0; m < sh.M; ++m) db[m] = bf16_t(static_cast<float>(acc[static_cast<size_t>(m)]));
}

// float32: oneDNN's inner product where it measured faster than OpenBLAS's sgemm (docs/ONEDNN.md,
// 1 thread): the forward with oneDNN's blocked copy of the weight, 1.12-1.2x for rows*K*M >= 2^20
// (0.67-0.96x below: the 10-way heads), when the weight is reused across calls (is_train false:
// predict / inference). A training forward would reorder the weight after every optimizer step,
// which cost the MLP step its gain (0.95x); with the plain weight layout oneDNN only matched sgemm.
// The backward stayed slower or equal (0.6-1.0x) and keeps sgemm.
bool f32_onednn_forward_pays(const onednn::IPShape &sh, bool is_train) {
  return !is_train && sh.rows * sh.K * sh.M >= (int64_t(1) << 20);
}

bool fc_forward_f32_onednn(const OpCall &c, bool relu) {
  const auto &p = c.p<FCParam>();
  if (c.inputs[0].dtype() != DType::f32) return false;
  const onednn::IPShape sh = ip_shape(p, c.inputs[0].shape(), DType::f32);
  return f32_onednn_forward_pays(sh, c.is_train) &&
         onednn::ip_forward(sh, c.inputs[0].craw(), c.inputs[1], p.no_bias ? nullptr : c.inputs[2].craw(),
                            c.outputs[0].raw(), relu);
}

void fc_forward_kernel(const OpCall &c) {
  MX_DTYPE_SWITCH_GEMM(c.inputs[0].dtype(), T, "FullyConnected", { fc_forward<T>(c); });
}
void fc_relu_kernel(const OpCall &c) {
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_fused_FullyConnected_relu", { fc_forward<T>(c, true); });
}
void fc_backward_kernel(const OpCall &c) {
  MX_DTYPE_SWITCH_GEMM(c.inputs[0].dtype(), T, "_backward_FullyConnected", { fc_backward<T>(c); });
}

const int registered = [] {
  MX_REGISTER_OP(FullyConnected)
      .doc("Applies a linear transformation: out = data . weight^T + bias. With flatten (default) the data is "
           "reshaped to (batch, -1); otherwise the transformation applies to the last axis.")
      .params<FCParam>()
      .inputs({"data", "weight", "bias"})
      .inputs_fn([](const Params &prm) -> std::vector<std::string> {
        if (prm.get<FCParam>().no_bias) return {"data", "weight"};
        return {"data", "weight", "bias"};
      })
      .shape(fc_shape)
      .cpu([](const OpCall &c) {
        if (c.inputs[0].dtype() == DType::bf16) return fc_forward_bf16(c, false);
        if (fc_forward_f32_onednn(c, false)) return;
        fc_forward_kernel(c);
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(fc_forward_kernel))
      .gpu_dtypes(cuda_half_dtypes())  // cuBLAS GemmEx: tensor cores, float32 accumulation
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        // The data gradient of a first layer is often unused: let the kernel skip that GEMM.
        auto gs = b.emit_skipping(&Registry::get().require("_backward_FullyConnected"), n.params,
                                  {n.out_grads[0], n.inputs[0], n.inputs[1]}, {!n.needs(0), false, false});
        std::vector<Var> r{gs[0], gs[1]};
        if (!n.p<FCParam>().no_bias) r.push_back(gs[2]);
        return r;
      });
  // The executor's FullyConnected + Activation(relu) fusion (graph/executor_fuse.cc): the relu
  // runs on the GEMM's result while it is still in cache.
  MX_REGISTER_OP(_fused_FullyConnected_relu)
      .doc("FullyConnected followed by relu, as one step (made by the executor's fusion pass).")
      .params<FCParam>()
      .inputs({"data", "weight", "bias"})
      .inputs_fn([](const Params &prm) -> std::vector<std::string> {
        if (prm.get<FCParam>().no_bias) return {"data", "weight"};
        return {"data", "weight", "bias"};
      })
      .shape(fc_shape)
      .cpu([](const OpCall &c) {
        if (c.inputs[0].dtype() == DType::bf16) return fc_forward_bf16(c, true);
        if (fc_forward_f32_onednn(c, true)) return;
        fc_relu_kernel(c);
      })
      .cpu_dtypes({DType::bf16})
      .no_grad();
  MX_REGISTER_OP(_backward_FullyConnected)
      .doc("Gradients of FullyConnected: inputs (out_grad, data, weight); outputs data, weight, bias gradients.")
      .params<FCParam>()
      .inputs({"out_grad", "data", "weight"})
      .outputs({"data_grad", "weight_grad", "bias_grad"})
      .num_outputs([](const Params &prm) { return prm.get<FCParam>().no_bias ? 2 : 3; })
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = prm.get<FCParam>();
        if (!in[1].known()) return false;
        ShapeVec fi{in[1], in[2], Shape()}, fa, fo{in[0]};
        if (p.no_bias) fi.pop_back();
        fc_shape(prm, fi, fa, fo);
        assign_shape(in[2], fi[1], "_backward_FullyConnected", "weight");
        assign_shape(in[0], fo[0], "_backward_FullyConnected", "out_grad");
        assign_shape(out[0], in[1], "_backward_FullyConnected", "data_grad");
        assign_shape(out[1], fi[1], "_backward_FullyConnected", "weight_grad");
        if (!p.no_bias) assign_shape(out[2], Shape{p.num_hidden}, "_backward_FullyConnected", "bias_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        if (c.inputs[0].dtype() == DType::bf16) return fc_backward_bf16(c);
        fc_backward_kernel(c);
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(fc_backward_kernel))
      .gpu_dtypes(cuda_half_dtypes())
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
