// BatchNorm over one channel axis, with moving statistics (aux) updated in place in training, and
// its fused backward _backward_BatchNorm. Outputs: output, mean, var (visible with
// output_mean_var), then the hidden saved_invstd. As in MXNet, the backward uses the batch-statistics
// formula whenever it runs in training mode without use_global_stats, with the saved mean/invstd
// (the moving statistics when the forward ran in predict mode).
#include <algorithm>
#include <cmath>
#include <optional>
#include <type_traits>
#include <vector>

#include "backends/cpu/lane_sums.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/onednn_bn.h"
#include "backends/cudnn.h"
#include "ops/cuda_only.h"
#include "ops/formulas/batch_norm.h"
#include "ops/nn/fusion_queries.h"
#include "ops/nn/nn_common.h"
#include "ops/via_f32.h"

namespace mx {
namespace {

struct BNParam {
  double eps = 1e-3;
  double momentum = 0.9;
  bool fix_gamma = true, use_global_stats = false, output_mean_var = false, cudnn_off = false;
  int64_t axis = 1;
  std::optional<double> min_calib_range, max_calib_range;
  int64_t ndev = 1;  // _contrib_SyncBatchNorm: devices sharing the statistics (only 1 here)
  std::string key;   // _contrib_SyncBatchNorm: the layer's key (one device: unused)
  static void describe(ParamDecl<BNParam> &d) {
    d.field("eps", &BNParam::eps).def(1e-3).doc("Epsilon to prevent div 0.");
    d.field("momentum", &BNParam::momentum).def(0.9).doc("Momentum for moving average.");
    d.field("fix_gamma", &BNParam::fix_gamma).def(true).doc("Fix gamma while training (gamma is taken as 1).");
    d.field("use_global_stats", &BNParam::use_global_stats).def(false)
        .doc("Whether use global moving statistics instead of local batch-norm.");
    d.field("output_mean_var", &BNParam::output_mean_var).def(false).doc("Output the mean and var as well.");
    d.field("axis", &BNParam::axis).def(1).doc("Specify which shape axis the channel is specified.");
    d.field("cudnn_off", &BNParam::cudnn_off).def(false).doc("Do not select CUDNN operator, if available (ignored).");
    d.field("min_calib_range", &BNParam::min_calib_range).def(std::nullopt).doc("Quantization calibration (ignored).");
    d.field("max_calib_range", &BNParam::max_calib_range).def(std::nullopt).doc("Quantization calibration (ignored).");
    d.field("ndev", &BNParam::ndev).def(1)
        .doc("SyncBatchNorm: the number of devices sharing the batch statistics (MX synchronises none: must be 1).");
    d.field("key", &BNParam::key).def(std::string())
        .doc("SyncBatchNorm: hash key for the synchronisation (unused with one device).");
    d.check([](const BNParam &p, const std::string &op) {
      MX_CHECK(p.eps > 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'eps' must be positive, got ", p.eps);
      MX_CHECK(p.ndev == 1, MX_ERR_UNSUPPORTED, op, ": ndev=", p.ndev,
               ": MX does not synchronise batch statistics across devices; use ndev=1 (one device per layer)");
    });
  }
};

struct BNDims { int64_t outer, c, inner; };
BNDims bn_dims(const BNParam &p, const Shape &s, const char *op) {
  MX_CHECK(s.ndim() >= 1, MX_ERR_SHAPE, op, ": data must have at least one dimension");
  int ax = normalize_axis(p.axis, s.ndim(), "BatchNorm: axis");
  return {s.prod(0, ax), s[ax], s.prod(ax + 1, s.ndim())};
}

bool bn_shape(const Params &prm, ShapeVec &in, ShapeVec &aux, ShapeVec &out) {
  if (!in[0].known()) return false;
  const char *op = "BatchNorm";
  BNDims d = bn_dims(prm.get<BNParam>(), in[0], op);
  Shape cs{d.c};
  assign_shape(in[1], cs, op, "gamma");
  assign_shape(in[2], cs, op, "beta");
  if (aux.size() > 0) assign_shape(aux[0], cs, op, "moving_mean");
  if (aux.size() > 1) assign_shape(aux[1], cs, op, "moving_var");
  assign_shape(out[0], in[0], op, "output");
  assign_shape(out[1], cs, op, "mean");
  assign_shape(out[2], cs, op, "var");
  assign_shape(out[3], cs, op, "saved_invstd");
  return true;
}

// Dtypes as MXNet's: float16/bfloat16 data keeps float32 gamma/beta/statistics (Gluon's
// BatchNorm.cast leaves them float32), other data shares its dtype with them. A parameter given
// in the data's own low precision is accepted too (the imperative path always has).
// `data_slots` are the inputs (then the outputs) that carry the data's dtype.
bool bn_types(const char *op, TypeVec &in, TypeVec &aux, TypeVec &out, std::initializer_list<size_t> data_in,
              std::initializer_list<size_t> data_out) {
  int t = -1;
  for (size_t i : data_in) if (in[i] >= 0) { t = in[i]; break; }
  if (t < 0) for (size_t i : data_out) if (out[i] >= 0) { t = out[i]; break; }
  if (t < 0) return false;
  int low = t == static_cast<int>(DType::f16) || t == static_cast<int>(DType::bf16);
  int param = low ? static_cast<int>(DType::f32) : t;
  auto is_in = [](std::initializer_list<size_t> l, size_t i) { return std::find(l.begin(), l.end(), i) != l.end(); };
  auto settle = [&](TypeVec &v, bool data_side, size_t i, const char *what) {
    int want = data_side ? t : param;
    if (v[i] < 0) v[i] = want;
    else if (v[i] != want && !(low && !data_side && v[i] == t))
      fail(MX_ERR_TYPE, op, ": ", what, " ", i, " has dtype ", dtype_name(static_cast<DType>(v[i])), " but ",
           dtype_name(static_cast<DType>(want)), " was expected (data is ",
           dtype_name(static_cast<DType>(t)), ")");
  };
  for (size_t i = 0; i < in.size(); ++i) settle(in, is_in(data_in, i), i, "input");
  for (size_t i = 0; i < aux.size(); ++i) settle(aux, false, i, "aux state");
  for (size_t i = 0; i < out.size(); ++i) settle(out, is_in(data_out, i), i, "output");
  return true;
}

// bfloat16 data runs natively when gamma, beta and the statistics are float32 (Gluon's cast
// leaves them so); other mixtures (all-bf16 nd.BatchNorm) through float32 copies.
bool all_f32(const OpCall &, std::initializer_list<const NDArray *> arrays) {
  for (const NDArray *a : arrays)
    if (a->dtype() != DType::f32) return false;
  return true;
}

// The loops take T data and P gamma/beta/statistics (and the mean/var/invstd outputs): P = T for
// float32 and float64; bfloat16 data (cpu_dtypes) runs with float32 P, every value widened to
// float on load, float scale and shift, so only the result is rounded.
template <typename T> using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <typename T, typename P = T> void bn_forward(const OpCall &c) {
  const auto &p = c.p<BNParam>();
  const NDArray &data = c.inputs[0];
  BNDims d = bn_dims(p, data.shape(), "BatchNorm");
  // Inputs, and the moving statistics when only read, by read-only pointers: a mutable one counts
  // as a write (ndarray/storage.h) and would void caches derived from them (Conv+BN folding).
  const T *x = data.cdata<T>();
  const P *gamma = c.inputs[1].cdata<P>(), *beta = c.inputs[2].cdata<P>();
  const bool batch = c.is_train && !p.use_global_stats;
  P *mm = batch ? c.aux[0].data<P>() : nullptr, *mv = batch ? c.aux[1].data<P>() : nullptr;
  const P *cmm = batch ? mm : c.aux[0].cdata<P>(), *cmv = batch ? mv : c.aux[1].cdata<P>();
  T *y = c.outputs[0].data<T>();
  P *om = c.outputs[1].data<P>(), *ov = c.outputs[2].data<P>(), *oinv = c.outputs[3].data<P>();
  const int64_t m = d.outer * d.inner;
  parallel_for(d.c, std::max<int64_t>(1, 16384 / std::max<int64_t>(m, 1)), [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch) {
      double mean, var;
      if (batch) {
        LaneSums s;
        for (int64_t o = 0; o < d.outer; ++o) {
          const T *row = x + (o * d.c + ch) * d.inner;
          lane_add(s, d.inner, [row](int64_t i) { return static_cast<double>(row[i]); });
        }
        mean = m > 0 ? s.total() / static_cast<double>(m) : 0.0;
        LaneSums sq;
        for (int64_t o = 0; o < d.outer; ++o) {
          const T *row = x + (o * d.c + ch) * d.inner;
          lane_add(sq, d.inner, [row, mean](int64_t i) {
            const double t = static_cast<double>(row[i]) - mean;
            return t * t;
          });
        }
        var = m > 0 ? sq.total() / static_cast<double>(m) : 0.0;
        mm[ch] = static_cast<P>(formula::bn_moving_update(static_cast<double>(mm[ch]), mean, p.momentum));
        mv[ch] = static_cast<P>(formula::bn_moving_update(static_cast<double>(mv[ch]), var, p.momentum));
      } else {
        mean = static_cast<double>(cmm[ch]);
        var = static_cast<double>(cmv[ch]);
      }
      const double invstd = formula::bn_invstd(var, p.eps);
      om[ch] = static_cast<P>(mean);
      ov[ch] = static_cast<P>(var);
      oinv[ch] = static_cast<P>(invstd);
      const double g = p.fix_gamma ? 1.0 : static_cast<double>(gamma[ch]);
      const Acc<T> scale = static_cast<Acc<T>>(g * invstd);
      const Acc<T> shift = static_cast<Acc<T>>(static_cast<double>(beta[ch]) - mean * g * invstd);
      for (int64_t o = 0; o < d.outer; ++o) {
        const T *row = x + (o * d.c + ch) * d.inner;
        T *yr = y + (o * d.c + ch) * d.inner;
        for (int64_t i = 0; i < d.inner; ++i) yr[i] = row[i] * scale + shift;
      }
    }
  });
}

// inputs: out_grad, data, gamma, mean, saved_invstd; outputs: data, gamma, beta grads
template <typename T, typename P = T> void bn_backward(const OpCall &c) {
  const auto &p = c.p<BNParam>();
  const NDArray &data = c.inputs[1];
  BNDims d = bn_dims(p, data.shape(), "_backward_BatchNorm");
  const T *g = c.inputs[0].cdata<T>(), *x = data.cdata<T>();
  const P *gamma = c.inputs[2].cdata<P>(), *mean = c.inputs[3].cdata<P>(), *inv = c.inputs[4].cdata<P>();
  const bool batch = c.is_train && !p.use_global_stats;
  T *dx = c.outputs[0].data<T>();
  P *dg = c.outputs[1].data<P>(), *db = c.outputs[2].data<P>();
  const int64_t m = d.outer * d.inner;
  parallel_for(d.c, std::max<int64_t>(1, 16384 / std::max<int64_t>(m, 1)), [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch) {
      const double mu = static_cast<double>(mean[ch]), is = static_cast<double>(inv[ch]);
      LaneSums lg, lgx;
      for (int64_t o = 0; o < d.outer; ++o) {
        const T *gr = g + (o * d.c + ch) * d.inner, *xr = x + (o * d.c + ch) * d.inner;
        lane_add2(lg, lgx, d.inner, [gr](int64_t i) { return static_cast<double>(gr[i]); },
                  [gr, xr, mu, is](int64_t i) {
                    return static_cast<double>(gr[i]) * (static_cast<double>(xr[i]) - mu) * is;
                  });
      }
      const double sg = lg.total(), sgx = lgx.total();
      const double gm = p.fix_gamma ? 1.0 : static_cast<double>(gamma[ch]);
      db[ch] = static_cast<P>(sg);
      dg[ch] = p.fix_gamma ? P(0) : static_cast<P>(sgx);
      const double k = gm * is;
      // The branch is outside the element loops, so each loop vectorises.
      const bool batch_stats = batch && m > 0;
      const double mean_g = batch_stats ? sg / static_cast<double>(m) : 0.0;
      const double mean_gx = batch_stats ? sgx / static_cast<double>(m) : 0.0;
      for (int64_t o = 0; o < d.outer; ++o) {
        const int64_t base = (o * d.c + ch) * d.inner;
        const T *gr = g + base, *xr = x + base;
        T *dxr = dx + base;
        if (batch_stats) {
          for (int64_t i = 0; i < d.inner; ++i) {
            const double xh = (static_cast<double>(xr[i]) - mu) * is;
            dxr[i] = static_cast<T>(k * (static_cast<double>(gr[i]) - mean_g - xh * mean_gx));
          }
        } else {
          for (int64_t i = 0; i < d.inner; ++i)
            dxr[i] = static_cast<T>(formula::bn_dx_fixed_stats(static_cast<double>(gr[i]), gm, is));
        }
      }
    }
  });
}

// ---- oneDNN (backends/cpu/onednn_bn.h): float32 data, or bfloat16 data with float32 parameters,
// channel axis 1 of 2-5 axes. oneDNN normalizes; MX's conventions stay here: the moving-average
// update and the saved inverse standard deviation from oneDNN's batch mean and biased variance,
// and a zero gamma gradient with fix_gamma. T: float or bf16_t. False: not taken (MX's loops run).
template <typename T> onednn::BNShape onednn_bn_shape(const BNParam &p, const Shape &s, bool is_train) {
  onednn::BNShape sh;
  for (int i = 0; i < s.ndim(); ++i) sh.dims.push_back(s[i]);
  sh.eps = p.eps;
  sh.fix_gamma = p.fix_gamma;
  sh.batch = is_train && !p.use_global_stats;
  sh.bf16 = std::is_same_v<T, bf16_t>;
  return sh;
}

bool onednn_axis_ok(const BNParam &p, const Shape &s) {
  return s.ndim() >= 2 && s.ndim() <= 5 && normalize_axis(p.axis, s.ndim(), "BatchNorm: axis") == 1;
}

template <typename T> bool bn_forward_onednn(const OpCall &c) {
  const auto &p = c.p<BNParam>();
  const NDArray &data = c.inputs[0];
  if (!onednn::enabled() || !onednn_axis_ok(p, data.shape())) return false;
  const onednn::BNShape sh = onednn_bn_shape<T>(p, data.shape(), c.is_train);
  const int64_t C = data.shape()[1];
  float *om = c.outputs[1].data<float>(), *ov = c.outputs[2].data<float>(), *oinv = c.outputs[3].data<float>();
  // With the moving statistics oneDNN only reads them (read-only pointers: see bn_forward).
  float *mean = sh.batch ? om : const_cast<float *>(c.aux[0].cdata<float>());
  float *var = sh.batch ? ov : const_cast<float *>(c.aux[1].cdata<float>());
  if (!onednn::bn_forward(sh, data.craw(), c.inputs[1].cdata<float>(), c.inputs[2].cdata<float>(), mean, var,
                          c.outputs[0].raw()))
    return false;
  if (sh.batch) {
    float *mm = c.aux[0].data<float>(), *mv = c.aux[1].data<float>();
    for (int64_t ch = 0; ch < C; ++ch) {
      mm[ch] = static_cast<float>(formula::bn_moving_update(mm[ch], om[ch], p.momentum));
      mv[ch] = static_cast<float>(formula::bn_moving_update(mv[ch], ov[ch], p.momentum));
    }
  } else {
    std::copy(mean, mean + C, om);
    std::copy(var, var + C, ov);
  }
  for (int64_t ch = 0; ch < C; ++ch) oinv[ch] = static_cast<float>(formula::bn_invstd(ov[ch], p.eps));
  return true;
}

// inputs: out_grad, data, gamma, mean, saved_invstd. oneDNN takes the variance: recovered from
// the saved inverse standard deviation (formula::bn_var_from_invstd).
template <typename T> bool bn_backward_onednn(const OpCall &c) {
  const auto &p = c.p<BNParam>();
  const NDArray &data = c.inputs[1];
  if (!onednn::enabled() || !onednn_axis_ok(p, data.shape())) return false;
  const onednn::BNShape sh = onednn_bn_shape<T>(p, data.shape(), c.is_train);
  const int64_t C = data.shape()[1];
  const float *inv = c.inputs[4].cdata<float>();
  std::vector<float> var(static_cast<size_t>(C));
  for (int64_t ch = 0; ch < C; ++ch) var[ch] = static_cast<float>(formula::bn_var_from_invstd(inv[ch], p.eps));
  float *dg = c.outputs[1].data<float>();
  if (!onednn::bn_backward(sh, c.inputs[0].craw(), data.craw(), c.inputs[2].cdata<float>(),
                           c.inputs[3].cdata<float>(), var.data(), c.outputs[0].raw(), dg,
                           c.outputs[2].data<float>()))
    return false;
  if (p.fix_gamma) std::fill(dg, dg + C, 0.f);
  return true;
}

// GPU kernels: cuDNN (backends/cuda/cudnn_batch_norm.cc) on data viewed as (outer, C, inner).
cudnn::BatchNormSpec cudnn_spec(const OpCall &c, const Shape &data, const char *op) {
  const auto &p = c.p<BNParam>();
  const BNDims d = bn_dims(p, data, op);
  cudnn::BatchNormSpec s;
  s.outer = d.outer;
  s.C = d.c;
  s.inner = d.inner;
  s.eps = p.eps;
  s.momentum = p.momentum;
  s.fix_gamma = p.fix_gamma;
  s.batch_stats = c.is_train && !p.use_global_stats;
  return s;
}

void bn_forward_gpu(const OpCall &c) {
  cudnn::batch_norm_forward("BatchNorm", cudnn_spec(c, c.inputs[0].shape(), "BatchNorm"), c.inputs[0], c.inputs[1],
                            c.inputs[2], c.aux[0], c.aux[1], c.outputs[0], c.outputs[1], c.outputs[2], c.outputs[3]);
}

void bn_backward_gpu(const OpCall &c) {
  const char *op = "_backward_BatchNorm";
  cudnn::batch_norm_backward(op, cudnn_spec(c, c.inputs[1].shape(), op), c.inputs[0], c.inputs[1], c.inputs[2],
                             c.inputs[3], c.inputs[4], c.outputs[0], c.outputs[1], c.outputs[2]);
}

// float32: oneDNN first; MX's loops read plain arrays, so values the executor kept blocked are
// written out first (graph/executor_blocked.cc).
void bn_forward_f32(const OpCall &c) {
  if (bn_forward_onednn<float>(c)) return;
  onednn::materialize_inputs();
  bn_forward<float>(c);
}

void bn_backward_f32(const OpCall &c) {
  if (bn_backward_onednn<float>(c)) return;
  onednn::materialize_inputs();
  bn_backward<float>(c);
}

const int registered = [] {
  MX_REGISTER_OP(BatchNorm)
      .alias("BatchNorm_v1")  // MXNet 1.x's older BatchNorm: the same parameters minus axis (channel axis 1)
      .alias("_contrib_SyncBatchNorm")  // cross-device BatchNorm; with ndev=1 it is BatchNorm
      .doc("Batch normalization: normalizes the data per channel (axis) with the batch statistics in training "
           "(updating moving_mean/moving_var in place) or the moving statistics otherwise, then scales by gamma "
           "and shifts by beta.")
      .params<BNParam>()
      .inputs({"data", "gamma", "beta"})
      .aux({"moving_mean", "moving_var"})
      .outputs({"output", "mean", "var", "saved_invstd"})
      .num_visible_outputs([](const Params &prm) { return prm.get<BNParam>().output_mean_var ? 3 : 1; })
      .shape(bn_shape)
      .type([](const Params &, TypeVec &in, TypeVec &aux, TypeVec &out) {
        return bn_types("BatchNorm", in, aux, out, {0}, {0});
      })
      .cpu([](const OpCall &c) {
        if (c.inputs[0].dtype() == DType::bf16) {  // cpu_dtypes
          if (all_f32(c, {&c.inputs[1], &c.inputs[2], &c.aux[0], &c.aux[1], &c.outputs[1], &c.outputs[2],
                          &c.outputs[3]})) {
            if (bn_forward_onednn<bf16_t>(c)) return;
            onednn::materialize_inputs();  // MX's loops read plain arrays (executor_blocked.cc)
            return bn_forward<bf16_t, float>(c);
          }
          return run_via_f32(c, bn_forward_f32);
        }
        if (c.inputs[0].dtype() == DType::f32) return bn_forward_f32(c);
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "BatchNorm", { bn_forward<T>(c); });
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(bn_forward_gpu))
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto gs = b.emit(&Registry::get().require("_backward_BatchNorm"), n.params,
                         {n.out_grads[0], n.inputs[0], n.inputs[1], n.outputs[1], n.outputs[3]});
        return {gs[0], gs[1], gs[2]};
      });
  MX_REGISTER_OP(_backward_BatchNorm)
      .doc("Gradient of BatchNorm: inputs (out_grad, data, gamma, mean, saved_invstd).")
      .params<BNParam>()
      .inputs({"out_grad", "data", "gamma", "mean", "saved_invstd"})
      .outputs({"data_grad", "gamma_grad", "beta_grad"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        const char *op = "_backward_BatchNorm";
        BNDims d = bn_dims(prm.get<BNParam>(), in[1], op);
        Shape cs{d.c};
        assign_shape(in[0], in[1], op, "out_grad");
        assign_shape(in[2], cs, op, "gamma");
        assign_shape(in[3], cs, op, "mean");
        assign_shape(in[4], cs, op, "saved_invstd");
        assign_shape(out[0], in[1], op, "data_grad");
        assign_shape(out[1], cs, op, "gamma_grad");
        assign_shape(out[2], cs, op, "beta_grad");
        return true;
      })
      .type([](const Params &, TypeVec &in, TypeVec &aux, TypeVec &out) {
        return bn_types("_backward_BatchNorm", in, aux, out, {0, 1}, {0});
      })
      .cpu([](const OpCall &c) {
        if (c.inputs[0].dtype() == DType::bf16) {  // cpu_dtypes
          if (c.inputs[1].dtype() == DType::bf16 &&
              all_f32(c, {&c.inputs[2], &c.inputs[3], &c.inputs[4], &c.outputs[1], &c.outputs[2]})) {
            if (bn_backward_onednn<bf16_t>(c)) return;
            onednn::materialize_inputs();
            return bn_backward<bf16_t, float>(c);
          }
          return run_via_f32(c, bn_backward_f32);
        }
        if (c.inputs[0].dtype() == DType::f32) return bn_backward_f32(c);
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_BatchNorm", { bn_backward<T>(c); });
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(bn_backward_gpu))
      .no_grad();
  return 0;
}();

}  // namespace

BatchNormFold batchnorm_fold_info(const Params &prm) {
  BatchNormFold f;
  if (prm.op != Registry::get().find("BatchNorm")) return f;
  const auto &p = prm.get<BNParam>();
  f.is_batchnorm = true;
  f.eps = p.eps;
  f.fix_gamma = p.fix_gamma;
  f.use_global_stats = p.use_global_stats;
  f.axis = p.axis;
  return f;
}

}  // namespace mx
