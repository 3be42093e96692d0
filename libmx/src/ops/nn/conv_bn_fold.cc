// Convolution + BatchNorm folding (the executor's inference pass, graph/executor_fuse.cc): one step
// _fused_Convolution_BatchNorm(_relu) computes BatchNorm(Convolution(x, w, b)) [then relu].
// With the moving statistics (predict mode, or use_global_stats) BatchNorm is an affine map per
// filter, so it folds into the convolution:
//   s[f] = gamma[f] / sqrt(var[f] + eps),  w'[f] = w[f] * s[f],  b'[f] = (b[f] - mean[f]) * s[f] + beta[f]
// and one convolution (with relu as its oneDNN post-op) replaces conv + a pass over the output.
// The folded w' and b' are cached in the step's parameters, keyed by the storage versions of
// w, b, gamma, beta, mean and var (ndarray/storage.h): any write to one of them (set_data,
// load_parameters, an optimizer step, a training-mode forward updating the moving statistics)
// refolds before the next call, and w' gets a new version, so oneDNN's blocked copy of it is
// rebuilt too. In training mode (batch statistics) the step runs the two ops one after the other.
#include <cmath>
#include <mutex>

#include "ops/nn/fusion_queries.h"
#include "ops/nn/nn_common.h"

namespace mx {
namespace {

struct ConvBNParams {
  std::shared_ptr<const Params> conv;         // the Convolution's own parameters
  std::shared_ptr<const Params> conv_biased;  // the same with no_bias=False: runs with the folded bias
  std::shared_ptr<const Params> bn;
  bool conv_has_bias = false;
  BatchNormFold bn_info;
  // The folded weight and bias, and what they were made from (storage, version per source array).
  mutable std::mutex mu;
  mutable std::vector<std::pair<const Storage *, uint64_t>> made_from;
  mutable NDArray w, b;
};

const ConvBNParams &fold_params(const OpCall &c, const char *op) {
  MX_CHECK(c.params.data != nullptr, MX_ERR_INVALID_ARGUMENT, op,
           " is made by the executor's Conv+BatchNorm folding pass and cannot be called directly");
  return c.p<ConvBNParams>();
}

// Inputs: data, weight, [bias], gamma, beta; aux: moving_mean, moving_var.
// T: the convolution's dtype (w, b, w', b'); P: BatchNorm's (bfloat16 convolutions usually have
// float32 BatchNorm parameters, as Gluon's cast leaves them). Computed in double either way.
template <typename T, typename P = T> void fold(const OpCall &c, const ConvBNParams &p) {
  const NDArray &w = c.inputs[1];
  const size_t gi = p.conv_has_bias ? 3 : 2;
  std::vector<const NDArray *> src{&w};
  if (p.conv_has_bias) src.push_back(&c.inputs[2]);
  for (const NDArray *a : {&c.inputs[gi], &c.inputs[gi + 1], &c.aux[0], &c.aux[1]}) src.push_back(a);
  std::vector<std::pair<const Storage *, uint64_t>> now;
  for (const NDArray *a : src) now.emplace_back(a->storage().get(), a->storage()->version());
  if (p.w.defined() && now == p.made_from && p.w.dtype() == w.dtype()) return;
  const int64_t F = w.shape()[0], per = F > 0 ? w.size() / F : 0;
  if (!p.w.defined() || !(p.w.shape() == w.shape()) || p.w.dtype() != w.dtype()) {
    p.w = NDArray(w.shape(), w.dtype());
    p.b = NDArray(Shape{F}, w.dtype());
  }
  const T *wv = w.cdata<T>(), *bv = p.conv_has_bias ? c.inputs[2].cdata<T>() : nullptr;
  const P *gamma = c.inputs[gi].cdata<P>(), *beta = c.inputs[gi + 1].cdata<P>();
  const P *mean = c.aux[0].cdata<P>(), *var = c.aux[1].cdata<P>();
  T *fw = p.w.data<T>(), *fb = p.b.data<T>();  // mutable pointers: new versions for oneDNN's weight cache
  for (int64_t f = 0; f < F; ++f) {
    const double g = p.bn_info.fix_gamma ? 1.0 : static_cast<double>(gamma[f]);
    const double s = g / std::sqrt(static_cast<double>(var[f]) + p.bn_info.eps);
    for (int64_t i = 0; i < per; ++i) fw[f * per + i] = static_cast<T>(static_cast<double>(wv[f * per + i]) * s);
    const double b0 = bv ? static_cast<double>(bv[f]) : 0.0;
    fb[f] = static_cast<T>((b0 - static_cast<double>(mean[f])) * s + static_cast<double>(beta[f]));
  }
  p.made_from = std::move(now);
}

void conv_bn_forward(const OpCall &c, bool relu) {
  const char *name = relu ? "_fused_Convolution_BatchNorm_relu" : "_fused_Convolution_BatchNorm";
  const ConvBNParams &p = fold_params(c, name);
  const size_t nconv = p.conv_has_bias ? 3 : 2;
  MX_CHECK(c.inputs.size() == nconv + 2 && c.aux.size() == 2 && c.outputs.size() == 1, MX_ERR_INTERNAL, name,
           ": wrong number of inputs");
  static const OpDef *conv_op = &Registry::get().require("Convolution");
  static const OpDef *conv_relu_op = &Registry::get().require("_fused_Convolution_relu");
  static const OpDef *bn_op = &Registry::get().require("BatchNorm");
  if (!c.is_train || p.bn_info.use_global_stats) {  // moving statistics: one folded convolution
    std::lock_guard<std::mutex> lock(p.mu);  // the cache is the step's; guard concurrent forwards anyway
    if (c.inputs[0].dtype() != DType::bf16) {
      MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, name, { fold<T>(c, p); });
    } else if (c.aux[0].dtype() == DType::bf16) {
      fold<bf16_t>(c, p);
    } else {
      fold<bf16_t, float>(c, p);
    }
    std::vector<NDArray> in{c.inputs[0], p.w, p.b};
    (relu ? conv_relu_op : conv_op)->forward_cpu(OpCall{*p.conv_biased, in, {}, c.outputs, c.is_train, c.rng, nullptr});
    return;
  }
  // Batch statistics: Convolution into a temporary, then BatchNorm (updating the moving statistics).
  const NDArray &y = c.outputs[0];
  std::vector<NDArray> conv_in(c.inputs.begin(), c.inputs.begin() + static_cast<std::ptrdiff_t>(nconv));
  std::vector<NDArray> conv_out{NDArray(y.shape(), y.dtype(), y.device())};
  conv_op->forward_cpu(OpCall{*p.conv, conv_in, {}, conv_out, c.is_train, c.rng, nullptr});
  const int64_t F = c.inputs[1].shape()[0];
  std::vector<NDArray> bn_in{conv_out[0], c.inputs[nconv], c.inputs[nconv + 1]};
  std::vector<NDArray> bn_out{y};
  // Mean, var and invstd: float32 for bfloat16 data (BatchNorm's type inference).
  const DType stat_t = y.dtype() == DType::bf16 ? DType::f32 : y.dtype();
  for (int i = 0; i < 3; ++i) bn_out.emplace_back(Shape{F}, stat_t, y.device());
  bn_op->forward_cpu(OpCall{*p.bn, bn_in, c.aux, bn_out, c.is_train, c.rng, nullptr});
  if (relu) {
    if (y.dtype() == DType::bf16) nn::relu_in_place(y.data<bf16_t>(), y.size());
    else MX_DTYPE_SWITCH_FLOAT(y.dtype(), T, name, { nn::relu_in_place(y.data<T>(), y.size()); });
  }
}

std::vector<std::string> fold_inputs(const Params &prm) {
  if (prm.data && !prm.get<ConvBNParams>().conv_has_bias) return {"data", "weight", "gamma", "beta"};
  return {"data", "weight", "bias", "gamma", "beta"};
}

// The output has the convolution's shape (BatchNorm keeps it).
bool fold_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  if (!prm.data || in.empty() || !in[0].known()) return false;
  const auto &p = prm.get<ConvBNParams>();
  ShapeVec ci(in.begin(), in.begin() + (p.conv_has_bias ? 3 : 2)), ca, co(1);
  if (!Registry::get().require("Convolution").infer_shape(*p.conv, ci, ca, co)) return false;
  out[0] = co[0];
  return true;
}

void register_fold(OpBuilder &b, bool relu) {
  b.doc(relu ? "Convolution, BatchNorm and relu as one step (made by the executor's inference folding pass)."
             : "Convolution and BatchNorm as one step (made by the executor's inference folding pass).")
      .inputs({"data", "weight", "bias", "gamma", "beta"})
      .inputs_fn(fold_inputs)
      .aux({"moving_mean", "moving_var"})
      .shape(fold_shape)
      .cpu([relu](const OpCall &c) { conv_bn_forward(c, relu); })
      .cpu_dtypes({DType::bf16})  // bfloat16 convolution, BatchNorm parameters float32 or bfloat16
      .no_grad();
}

const int registered = [] {
  register_fold(OpBuilder::create("_fused_Convolution_BatchNorm"), false);
  register_fold(OpBuilder::create("_fused_Convolution_BatchNorm_relu"), true);
  return 0;
}();

}  // namespace

std::shared_ptr<const Params> conv_bn_fused_params(const OpDef *fused, std::shared_ptr<const Params> conv,
                                                   std::shared_ptr<const Params> bn) {
  auto d = std::make_shared<ConvBNParams>();
  Kwargs biased;
  for (auto &kv : conv->given)
    if (kv.first != "no_bias") biased.push_back(kv);
  biased.emplace_back("no_bias", "False");
  d->conv_biased = parse_params(conv->op, biased);
  d->conv_has_bias = conv->op->num_inputs(*conv) == 3;
  d->conv = std::move(conv);
  d->bn_info = batchnorm_fold_info(*bn);
  d->bn = std::move(bn);
  auto p = std::make_shared<Params>();
  p->op = fused;
  p->given = d->conv->given;
  p->data = d;
  return p;
}

}  // namespace mx
