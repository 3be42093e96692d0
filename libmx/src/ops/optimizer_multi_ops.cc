// MXNet 1.x's multi-tensor update operators: multi_sgd_update, multi_sgd_mom_update,
// multi_mp_sgd_update, multi_mp_sgd_mom_update, their preloaded_* forms (learning rates and
// weight decays in float32 arrays instead of parameters), _multi_adamw_update,
// _multi_mp_adamw_update, _multi_lamb_update and _multi_mp_lamb_update. One call steps
// num_weights weights; the inputs interleave per weight (weight_i, grad_i, states_i...,
// weight32_i) then the op's extra arrays (lrs, wds for preloaded, rescale_grad for adamw). The states and the master copies are MXNet's mutable inputs: updated
// in place (these ops run eagerly; the arrays stay inputs, in MXNet's order, rather than aux
// states, which could not be interleaved). The element step is the single-tensor update's
// (ops/formulas/optimizer.h) through formulas/optimizer_multi.h's table: the host loop here, one
// CUDA launch per table of up to kMultiMax weights on the GPU (backends/cuda/optimizer_multi.cu).
#include <cmath>
#include <string>

#include "base/half_hd.h"
#include "ops/cuda_only.h"
#include "ops/formulas/optimizer_multi.h"
#include "ops/formulas/optimizer_multi_lowp.h"
#include "ops/imperative.h"
#include "ops/index_gpu.h"
#include "ops/optimizer_gpu.h"
#include "ops/registry.h"

namespace mx {
namespace {

// ---- parameters (MXNet's MultiSGDParam, MultiSGDMomParam, PreloadedMultiSGD(Mom)Param,
// MultiAdamWParam: same names, defaults and meaning)

#define MX_MULTI_TAIL_FIELDS(S)                                                                     \
  d.field("rescale_grad", &S::rescale_grad).def(1.0).doc("Rescale gradient to grad = rescale_grad*grad."); \
  d.field("clip_gradient", &S::clip_gradient).def(-1.0)                                             \
      .doc("Clip gradient to the range of [-clip_gradient, clip_gradient] If clip_gradient <= 0, "  \
           "gradient clipping is turned off. grad = max(min(grad, clip_gradient), -clip_gradient).");\
  d.field("num_weights", &S::num_weights).def(1).doc("Number of updated weights.")

#define MX_MULTI_LRS_WDS(S)                                                                       \
  d.field("lrs", &S::lrs).required().doc("Learning rates.");                                      \
  d.field("wds", &S::wds).required().doc("Weight decay augments the objective function with a "  \
                                          "regularization term that penalizes large weights. The " \
                                          "penalty scales with the square of the magnitude of each weight.")

struct MultiSGDParam {
  std::vector<double> lrs, wds;
  double rescale_grad = 1, clip_gradient = -1, momentum = 0;
  int num_weights = 1;
  static void describe(ParamDecl<MultiSGDParam> &d) {
    MX_MULTI_LRS_WDS(MultiSGDParam);
    MX_MULTI_TAIL_FIELDS(MultiSGDParam);
  }
};
struct MultiSGDMomParam {
  std::vector<double> lrs, wds;
  double rescale_grad = 1, clip_gradient = -1, momentum = 0;
  int num_weights = 1;
  static void describe(ParamDecl<MultiSGDMomParam> &d) {
    MX_MULTI_LRS_WDS(MultiSGDMomParam);
    d.field("momentum", &MultiSGDMomParam::momentum).def(0.0).doc("The decay rate of momentum estimates at each epoch.");
    MX_MULTI_TAIL_FIELDS(MultiSGDMomParam);
  }
};
struct PreloadedMultiSGDParam {
  std::vector<double> lrs, wds;  // unused: the preloaded ops read them from arrays
  double rescale_grad = 1, clip_gradient = -1, momentum = 0;
  int num_weights = 1;
  static void describe(ParamDecl<PreloadedMultiSGDParam> &d) { MX_MULTI_TAIL_FIELDS(PreloadedMultiSGDParam); }
};
struct PreloadedMultiSGDMomParam {
  std::vector<double> lrs, wds;
  double rescale_grad = 1, clip_gradient = -1, momentum = 0;
  int num_weights = 1;
  static void describe(ParamDecl<PreloadedMultiSGDMomParam> &d) {
    d.field("momentum", &PreloadedMultiSGDMomParam::momentum).def(0.0)
        .doc("The decay rate of momentum estimates at each epoch.");
    MX_MULTI_TAIL_FIELDS(PreloadedMultiSGDMomParam);
  }
};
struct MultiAdamWParam {
  std::vector<double> lrs, wds, etas;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, clip_gradient = -1;
  int num_weights = 1;
  static void describe(ParamDecl<MultiAdamWParam> &d) {
    d.field("lrs", &MultiAdamWParam::lrs).required().doc("Learning rates");
    d.field("beta1", &MultiAdamWParam::beta1).def(0.9).doc("The decay rate for the 1st moment estimates.");
    d.field("beta2", &MultiAdamWParam::beta2).def(0.999).doc("The decay rate for the 2nd moment estimates.");
    d.field("epsilon", &MultiAdamWParam::epsilon).def(1e-8).doc("A small constant for numerical stability.");
    d.field("wds", &MultiAdamWParam::wds).required().doc("Weight decay augments the objective function with a "
                                                          "regularization term that penalizes large weights.");
    d.field("etas", &MultiAdamWParam::etas).required().doc("Learning rates schedule multiplier");
    d.field("clip_gradient", &MultiAdamWParam::clip_gradient).def(-1.0)
        .doc("Clip gradient to the range of [-clip_gradient, clip_gradient] If clip_gradient <= 0, gradient "
             "clipping is turned off. grad = max(min(grad, clip_gradient), -clip_gradient).");
    d.field("num_weights", &MultiAdamWParam::num_weights).def(1).doc("Number of updated weights.");
  }
};

// ---- what distinguishes the ops

enum class Extra { None, Preloaded, Rescale };  // trailing arrays: -, (lrs, wds), (rescale_grad)

struct MultiSpec {
  UpdateRule rule;
  bool mp;                          // a float32 master copy (weight32_i) after the states
  Extra extra;
  std::vector<std::string> states;  // per-weight state names, in input order
  bool lowp = false;                // plain form that also takes float16/bfloat16 weights (MXNet's half_t math)
  int stride() const { return 2 + static_cast<int>(states.size()) + (mp ? 1 : 0); }
  int n_extra() const { return extra == Extra::Preloaded ? 2 : extra == Extra::Rescale ? 1 : 0; }
};

// The parameters every form shares, read from whichever struct the op has.
struct MultiArgs {
  int n = 0;
  const char *count_name = "num_weights";  // the parameter n comes from
  const std::vector<double> *lrs = nullptr, *wds = nullptr, *etas = nullptr;
  const std::vector<int64_t> *steps = nullptr;  // LAMB's per-tensor step counts
  UpdCoef<double> k;
};

template <class P> MultiArgs sgd_args(const Params &prm) {
  const auto &p = prm.get<P>();
  MultiArgs a;
  a.n = p.num_weights;
  a.lrs = &p.lrs;
  a.wds = &p.wds;
  a.k.re = p.rescale_grad;
  a.k.clip = p.clip_gradient;
  a.k.mom = p.momentum;
  return a;
}
MultiArgs adamw_args(const Params &prm) {
  const auto &p = prm.get<MultiAdamWParam>();
  MultiArgs a;
  a.n = p.num_weights;
  a.lrs = &p.lrs;
  a.wds = &p.wds;
  a.etas = &p.etas;
  a.k.beta1 = p.beta1;
  a.k.beta2 = p.beta2;
  a.k.eps = p.epsilon;
  a.k.clip = p.clip_gradient;
  return a;
}
using ArgsFn = MultiArgs (*)(const Params &);

// Input count, per-weight lists and num_weights agree (else a clear error naming the op).
void check_counts(const MultiSpec &s, const MultiArgs &a, size_t n_inputs, const char *op) {
  MX_CHECK(a.n >= 1, MX_ERR_INVALID_ARGUMENT, op, ": ", a.count_name, " must be >= 1, got ", a.n);
  const size_t want = static_cast<size_t>(a.n) * static_cast<size_t>(s.stride()) + static_cast<size_t>(s.n_extra());
  MX_CHECK(n_inputs == want, MX_ERR_INVALID_ARGUMENT, op, ": ", a.count_name, "=", a.n, " needs ", want, " inputs (",
           s.stride(), " per weight", s.n_extra() ? " plus the trailing arrays" : "", "), got ", n_inputs);
  if (s.extra == Extra::Preloaded) return;
  auto list = [&](const auto *v, const char *what) {
    if (!v) return;
    MX_CHECK(v->size() == static_cast<size_t>(a.n), MX_ERR_INVALID_ARGUMENT, op, ": ", what, " has ", v->size(),
             " entries but ", a.count_name, " is ", a.n);
  };
  list(a.steps, "step_count");
  list(a.lrs, a.steps ? "learning_rates" : "lrs");
  list(a.wds, "wds");
  list(a.etas, "etas");
}

std::vector<std::string> input_names(const MultiSpec &s, int n) {
  std::vector<std::string> r;
  for (int i = 0; i < n; ++i) {
    const std::string idx = std::to_string(i);
    r.push_back("weight_" + idx);
    r.push_back("grad_" + idx);
    for (const auto &st : s.states) r.push_back(st + "_" + idx);
    if (s.mp) r.push_back("weight32_" + idx);
  }
  if (s.extra == Extra::Preloaded) {
    r.push_back("lrs");
    r.push_back("wds");
  } else if (s.extra == Extra::Rescale) {
    r.push_back("rescale_grad");
  }
  return r;
}

// ---- shape and dtype rules

// What both rules start from: the op's name, its parameters (counts checked) and input names.
struct MultiView {
  const char *op;
  MultiArgs a;
  std::vector<std::string> names;
  size_t base(int i, const MultiSpec &s) const { return static_cast<size_t>(i) * static_cast<size_t>(s.stride()); }
};
MultiView multi_view(const MultiSpec &s, ArgsFn args, const Params &p, size_t n_inputs) {
  MultiView v{p.op ? p.op->name.c_str() : "multi update", args(p), {}};
  check_counts(s, v.a, n_inputs, v.op);
  v.names = input_names(s, v.a.n);
  return v;
}

bool multi_shape(const MultiSpec &s, ArgsFn args, const Params &p, ShapeVec &in, ShapeVec &out) {
  const MultiView v = multi_view(s, args, p, in.size());
  bool known = true;
  for (int i = 0; i < v.a.n; ++i) {
    const size_t b = v.base(i, s);
    Shape sh;
    for (int j = 0; j < s.stride() && !sh.known(); ++j)
      if (in[b + static_cast<size_t>(j)].known()) sh = in[b + static_cast<size_t>(j)];
    if (!sh.known() && out[static_cast<size_t>(i)].known()) sh = out[static_cast<size_t>(i)];
    if (!sh.known()) {
      known = false;
      continue;
    }
    for (int j = 0; j < s.stride(); ++j)
      assign_shape(in[b + static_cast<size_t>(j)], sh, v.op, v.names[b + static_cast<size_t>(j)]);
    assign_shape(out[static_cast<size_t>(i)], sh, v.op, "output " + std::to_string(i));
  }
  const size_t e = static_cast<size_t>(v.a.n) * static_cast<size_t>(s.stride());
  if (s.extra == Extra::Preloaded) {
    assign_shape(in[e], Shape{v.a.n}, v.op, "lrs (one learning rate per weight)");
    assign_shape(in[e + 1], Shape{v.a.n}, v.op, "wds (one weight decay per weight)");
  } else if (s.extra == Extra::Rescale) {
    assign_shape(in[e], Shape{1}, v.op, "rescale_grad (a one-element array)");
  }
  return known;
}

// Weight, grad and output: one dtype per weight (float32/float64 for the plain ops; float16,
// bfloat16 or float32 with a master copy); states and masters: the weight's dtype (plain) or
// float32 (mp); lrs, wds, rescale_grad: float32.
bool multi_type(const MultiSpec &s, ArgsFn args, const Params &p, TypeVec &in, TypeVec &out) {
  const MultiView v = multi_view(s, args, p, in.size());
  const int f32 = static_cast<int>(DType::f32);
  auto want = [&](int &slot, int w, const std::string &what) {
    if (slot < 0) slot = w;
    MX_CHECK(slot == w, MX_ERR_TYPE, v.op, ": ", what, " has dtype ", dtype_name(static_cast<DType>(slot)),
             ", expected ", dtype_name(static_cast<DType>(w)));
  };
  bool known = true;
  for (int i = 0; i < v.a.n; ++i) {
    const size_t b = v.base(i, s);
    int t = in[b] >= 0 ? in[b] : in[b + 1] >= 0 ? in[b + 1] : out[static_cast<size_t>(i)];
    if (t < 0) {
      known = false;
      continue;
    }
    const DType dt = static_cast<DType>(t);
    if (s.mp) {
      MX_CHECK(dt == DType::f16 || dt == DType::bf16 || dt == DType::f32, MX_ERR_TYPE, v.op, ": ", v.names[b],
               " must be float16, bfloat16 or float32, got ", dtype_name(dt));
    } else if (s.lowp) {
      MX_CHECK(dt == DType::f32 || dt == DType::f64 || dt == DType::f16 || dt == DType::bf16, MX_ERR_TYPE, v.op,
               ": ", v.names[b], " must be float16, bfloat16, float32 or float64, got ", dtype_name(dt));
    } else {
      MX_CHECK(dt == DType::f32 || dt == DType::f64, MX_ERR_TYPE, v.op, ": ", v.names[b],
               " must be float32 or float64, got ", dtype_name(dt),
               dtype_is_float(dt) ? " (float16/bfloat16 weights take the multi_mp_* form with a float32 master copy)"
                                  : "");
    }
    want(in[b], t, v.names[b]);
    want(in[b + 1], t, v.names[b + 1]);
    for (int j = 2; j < s.stride(); ++j)
      want(in[b + static_cast<size_t>(j)], s.mp ? f32 : t, v.names[b + static_cast<size_t>(j)]);
    want(out[static_cast<size_t>(i)], t, "output " + std::to_string(i));
  }
  for (size_t e = static_cast<size_t>(v.a.n) * static_cast<size_t>(s.stride()); e < in.size(); ++e) {
    // rescale_grad: float32, or the weights' dtype as MXNet's plain forms want (one dtype for all inputs)
    if (s.extra == Extra::Rescale && !s.mp && in[e] >= 0 && in[e] != f32 && v.a.n >= 1 && in[0] >= 0 &&
        in[e] == in[0])
      continue;
    want(in[e], f32, v.names[e]);
  }
  return known;
}

// ---- the kernel

// The table of weights first .. first + count - 1 of a call (count <= kMultiMax): weights,
// gradients and outputs (T), states and master copies (MX's element type SA, seen as S), and the
// per-weight rates converted by rate (double -> S).
template <typename T, typename S, typename SA, typename Rate>
MultiTable<hd_elem_t<T>, S> table_of(const MultiSpec &s, const MultiArgs &a, const OpCall &c, int first, bool mp,
                                     const float *lr_arr, const float *wd_arr, Rate rate) {
  MultiTable<hd_elem_t<T>, S> t;
  const int ns = static_cast<int>(s.states.size());
  auto state = [&](size_t k) { return reinterpret_cast<S *>(c.inputs[k].data<SA>()); };
  t.count = std::min(kMultiMax, a.n - first);
  t.lr_arr = lr_arr ? lr_arr + first : nullptr;
  t.wd_arr = wd_arr ? wd_arr + first : nullptr;
  for (int j = 0; j < t.count; ++j) {
    const size_t i = static_cast<size_t>(first + j);
    const size_t b = i * static_cast<size_t>(s.stride());
    const NDArray &o = c.outputs[i];
    t.size[j] = o.size();
    t.w[j] = hd_ptr(c.inputs[b].cdata<T>());
    t.g[j] = hd_ptr(c.inputs[b + 1].cdata<T>());
    t.o[j] = hd_ptr(o.data<T>());
    t.s0[j] = ns > 0 ? state(b + 2) : nullptr;
    t.s1[j] = ns > 1 ? state(b + 3) : nullptr;
    t.w32[j] = mp ? state(b + 2 + static_cast<size_t>(ns)) : nullptr;
    t.lr[j] = rate(a.lrs && !lr_arr ? (*a.lrs)[i] : 0.0);
    t.wd[j] = rate(a.wds && !wd_arr ? (*a.wds)[i] : 0.0);
    t.eta[j] = rate(a.etas ? (*a.etas)[i] : 0.0);
  }
  return t;
}

// Runs the tables of a call, each on the op's device.
template <bool MP, typename T> struct Runner {
  using W = hd_elem_t<T>;
  using S = std::conditional_t<MP, float, T>;
  static void run(const MultiSpec &s, const MultiArgs &a, const OpCall &c, const float *lr_arr,
                  const float *wd_arr) {
    const char *op = c.params.op->name.c_str();
    const bool gpu = !c.outputs[0].device().is_cpu();
    for (int first = 0; first < a.n; first += kMultiMax) {
      const MultiTable<W, S> t =
          table_of<T, S, S>(s, a, c, first, MP, lr_arr, wd_arr, [](double v) { return S(v); });
      if (gpu) gpu_update_multi<MP, W, S>(s.rule, a.k, t, c.outputs[0].device().id, op);
      else run_update_multi_host<MP, W, S>(s.rule, a.k, t, op);
    }
  }
};

// The plain forms with float16/bfloat16 weights: states in the weight's dtype, every step
// rounded as MXNet's half_t kernel (formulas/optimizer_multi_lowp.h).
template <typename T> struct LowpRunner {
  using R = hd_elem_t<T>;
  static void run(const MultiSpec &s, const MultiArgs &a, const OpCall &c, const float *lr_arr, const float *wd_arr) {
    const bool gpu = !c.outputs[0].device().is_cpu();
    for (int first = 0; first < a.n; first += kMultiMax) {
      // (the rates are float32 in MXNet: double -> float -> 16 bits, as its half_t(float))
      const MultiTable<R, R> t = table_of<T, R, T>(s, a, c, first, false, lr_arr, wd_arr,
                                                   [](double v) { return R(static_cast<float>(v)); });
      if (gpu) gpu_update_multi_lowp<R>(s.rule, a.k, t, c.outputs[0].device().id, c.params.op->name.c_str());
      else run_update_multi_lowp_host<R>(s.rule, a.k, t);
    }
  }
};

void multi_kernel(const MultiSpec &s, ArgsFn args, const OpCall &c) {
  const char *op = c.params.op->name.c_str();
  MultiArgs a = args(c.params);
  check_counts(s, a, c.inputs.size(), op);
  const size_t e = static_cast<size_t>(a.n) * static_cast<size_t>(s.stride());
  const Device dev = c.outputs[0].device();
  for (int i = 0; i < a.n; ++i)  // every array on the op's device (the states are written here)
    for (int j = 0; j < s.stride(); ++j)
      MX_CHECK(c.inputs[static_cast<size_t>(i * s.stride() + j)].device() == dev, MX_ERR_INVALID_ARGUMENT, op,
               ": every array must be on the weights' device");
  const float *lr_arr = nullptr, *wd_arr = nullptr;
  if (s.extra == Extra::Preloaded) {  // read on the op's device (no host round trip on a GPU)
    lr_arr = c.inputs[e].cdata<float>();
    wd_arr = c.inputs[e + 1].cdata<float>();
  } else if (s.extra == Extra::Rescale) {
    // MXNet passes the loss scaler's value as an array; read here. NaN, inf or 0: skip the step
    // (the outputs keep the weights).
    NDArray rs = host_copy(c.inputs[e]);
    if (rs.dtype() != DType::f32) rs = rs.astype(DType::f32);
    a.k.re = static_cast<double>(rs.data<float>()[0]);
    if (!std::isfinite(a.k.re) || a.k.re == 0) {
      for (int i = 0; i < a.n; ++i) {
        const NDArray &w = c.inputs[static_cast<size_t>(i * s.stride())], &o = c.outputs[static_cast<size_t>(i)];
        if (!o.same_data(w)) o.assign(w);
      }
      return;
    }
  }
  const DType dt = c.outputs[0].dtype();
  for (const auto &o : c.outputs)
    MX_CHECK(o.dtype() == dt, MX_ERR_TYPE, op, ": every weight must have one dtype (", dtype_name(dt), " and ",
             dtype_name(o.dtype()), " given)");
  // As MXNet 1.9.1: a float32 weight is its own master (the multi_mp_ forms then step the weight
  // and leave weight32 alone).
  if (!s.mp && (dt == DType::f16 || dt == DType::bf16)) {  // plain form, 16-bit weights: MXNet's half_t math
    if (dt == DType::f16) return LowpRunner<half_t>::run(s, a, c, lr_arr, wd_arr);
    return LowpRunner<bf16_t>::run(s, a, c, lr_arr, wd_arr);
  }
  if (s.mp && dt == DType::f16) return Runner<true, half_t>::run(s, a, c, lr_arr, wd_arr);
  if (s.mp && dt == DType::bf16) return Runner<true, bf16_t>::run(s, a, c, lr_arr, wd_arr);
  if (dt == DType::f64) Runner<false, double>::run(s, a, c, lr_arr, wd_arr);
  else Runner<false, float>::run(s, a, c, lr_arr, wd_arr);
}

// ---- _multi_lamb_update / _multi_mp_lamb_update: per tensor, LAMB's phase 1 into a direction
// array, the norms of the (master) weight and of the direction (the norm op, on the op's device),
// phase 2 (formulas/lamb.h; gpu_lamb_phase1/2 on a GPU: a few launches per tensor, not one per
// table). As MXNet's multi_lamb, the float32 master copy is updated (unlike mp_lamb_update_phase2).

struct MultiLambParam {
  std::vector<double> learning_rates, wds;
  std::vector<int64_t> step_count;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-6, rescale_grad = 1, lower_bound = -1, upper_bound = -1,
         clip_gradient = -1;
  bool bias_correction = true;
  int num_tensors = 1;
  static void describe(ParamDecl<MultiLambParam> &d) {
    d.field("learning_rates", &MultiLambParam::learning_rates).required().doc("List of learning rates");
    d.field("beta1", &MultiLambParam::beta1).def(0.9).doc("Exponential decay rate for the first moment estimates.");
    d.field("beta2", &MultiLambParam::beta2).def(0.999).doc("Exponential decay rate for the second moment estimates.");
    d.field("epsilon", &MultiLambParam::epsilon).def(1e-6).doc("Small value to avoid division by 0.");
    d.field("wds", &MultiLambParam::wds).required().doc("List of Weight decays.");
    d.field("rescale_grad", &MultiLambParam::rescale_grad).def(1.0).doc("Gradient rescaling factor");
    d.field("lower_bound", &MultiLambParam::lower_bound).def(-1.0)
        .doc("Lower limit of norm of weight. If lower_bound <= 0, Lower limit is not set");
    d.field("upper_bound", &MultiLambParam::upper_bound).def(-1.0)
        .doc("Upper limit of norm of weight. If upper_bound <= 0, Upper limit is not set");
    d.field("clip_gradient", &MultiLambParam::clip_gradient).def(-1.0)
        .doc("Clip gradient to the range of [-clip_gradient, clip_gradient] If clip_gradient <= 0, gradient "
             "clipping is turned off.");
    d.field("bias_correction", &MultiLambParam::bias_correction).def(true).doc("Whether to use bias correction.");
    d.field("step_count", &MultiLambParam::step_count).required().doc("Step count for each tensor");
    d.field("num_tensors", &MultiLambParam::num_tensors).def(1).doc("Number of tensors");
  }
};

MultiArgs lamb_args(const Params &prm) {
  const auto &p = prm.get<MultiLambParam>();
  MultiArgs a;
  a.n = p.num_tensors;
  a.count_name = "num_tensors";
  a.lrs = &p.learning_rates;
  a.wds = &p.wds;
  a.steps = &p.step_count;
  return a;
}

// One tensor: T computes (float, or double for float64 weights), G is the gradient's element type.
// r1 is the norm of `normed`: the weight as given, also when a float32 master is stepped (MXNet's
// multi_lamb sums the squares of the float16/bfloat16 weights, in float32).
template <typename T, typename G>
void lamb_tensor(const MultiLambParam &p, int i, const NDArray &master, const G *g, const NDArray &mean,
                 const NDArray &var, const NDArray &target, const NDArray &normed, const char *op) {
  const Device dev = master.device();
  const int64_t n = master.size();
  const double step = static_cast<double>(p.step_count[static_cast<size_t>(i)]);
  const LambCoef<T> k{T(p.beta1), T(p.beta2), T(p.epsilon), T(p.wds[static_cast<size_t>(i)]), T(p.rescale_grad),
                      T(p.clip_gradient), T(1.0 - std::pow(p.beta1, step)), T(1.0 - std::pow(p.beta2, step)),
                      p.bias_correction};
  NDArray d(master.shape(), master.dtype(), dev);
  const T *w = master.cdata<T>();
  T *m = mean.data<T>(), *v = var.data<T>(), *dp = d.data<T>();
  if (dev.is_cpu()) {
    for (int64_t j = 0; j < n; ++j) lamb_phase1_element<T, G>(k, j, w, g, m, v, dp);
  } else {
    gpu_lamb_phase1<T, G>(k, n, w, g, m, v, dp, dev.id, op);
  }
  const NDArray r1 = invoke("norm", {}, {normed.dtype() == master.dtype() ? normed : normed.astype(master.dtype())})[0];
  const NDArray r2 = invoke("norm", {}, {d})[0];
  const T lr = T(p.learning_rates[static_cast<size_t>(i)]), lb = T(p.lower_bound), ub = T(p.upper_bound);
  T *out = target.data<T>();
  if (dev.is_cpu()) {
    const T rate = lamb_trust_lr(lr, r1.cdata<T>()[0], r2.cdata<T>()[0], lb, ub, true);  // MXNet's multi order
    for (int64_t j = 0; j < n; ++j) lamb_phase2_element<T, T>(rate, j, w, dp, out);
  } else {
    gpu_lamb_phase2<T, T>(lr, lb, ub, true, n, r1.cdata<T>(), r2.cdata<T>(), w, dp, out, dev.id, op);
  }
}

void multi_lamb_kernel(const MultiSpec &s, const OpCall &c) {
  const char *op = c.params.op->name.c_str();
  const auto &p = c.p<MultiLambParam>();
  check_counts(s, lamb_args(c.params), c.inputs.size(), op);
  const DType dt = c.outputs[0].dtype();
  const bool mp = s.mp && (dt == DType::f16 || dt == DType::bf16);  // a float32 weight is its own master
  for (int i = 0; i < p.num_tensors; ++i) {
    const size_t b = static_cast<size_t>(i) * static_cast<size_t>(s.stride());
    const NDArray &w = c.inputs[b], &g = c.inputs[b + 1], &m = c.inputs[b + 2], &v = c.inputs[b + 3];
    const NDArray &o = c.outputs[static_cast<size_t>(i)];
    MX_CHECK(w.device() == o.device() && g.device() == o.device() && m.device() == o.device() &&
                 v.device() == o.device(), MX_ERR_INVALID_ARGUMENT, op, ": every array must be on the weights' device");
    if (mp) {
      const NDArray &w32 = c.inputs[b + 4];
      if (dt == DType::f16) lamb_tensor<float>(p, i, w32, hd_ptr(g.cdata<half_t>()), m, v, w32, w, op);
      else lamb_tensor<float>(p, i, w32, hd_ptr(g.cdata<bf16_t>()), m, v, w32, w, op);
      o.assign(w32);  // the output: the master rounded to the weight's dtype
    } else if (dt == DType::f64) {
      lamb_tensor<double>(p, i, w, g.cdata<double>(), m, v, o, w, op);
    } else {
      lamb_tensor<float>(p, i, w, g.cdata<float>(), m, v, o, w, op);
    }
  }
}

void register_multi(const char *doc, const MultiSpec &s, ArgsFn args, OpBuilder &b, KernelFn k = {}) {
  if (!k) k = [s, args](const OpCall &c) { multi_kernel(s, args, c); };
  b.doc(doc)
      .variadic()
      .inputs_fn([s, args](const Params &p) { return input_names(s, args(p).n); })
      .num_outputs([args](const Params &p) { return std::max(1, args(p).n); })
      .no_grad()  // an optimizer step, not a differentiable function
      .dtypes({DType::f16, DType::bf16, DType::f32, DType::f64})
      .shape([s, args](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        return multi_shape(s, args, p, in, out);
      })
      .type([s, args](const Params &p, TypeVec &in, TypeVec &, TypeVec &out) { return multi_type(s, args, p, in, out); })
      .cpu(k)
      .gpu(cuda_only(k));
}

#define MX_MULTI_OP(NAME, DOC, SPEC, ARGS, P) \
  register_multi(DOC, SPEC, ARGS, OpBuilder::create(NAME).params<P>())

const int registered = [] {
  const MultiSpec sgd{UpdateRule::Sgd, false, Extra::None, {}, true};
  const MultiSpec sgd_mom{UpdateRule::SgdMom, false, Extra::None, {"mom"}, true};
  const MultiSpec mp_sgd{UpdateRule::Sgd, true, Extra::None, {}};
  const MultiSpec mp_sgd_mom{UpdateRule::SgdMom, true, Extra::None, {"mom"}};
  auto pre = [](MultiSpec s) {
    s.extra = Extra::Preloaded;
    return s;
  };
  MX_MULTI_OP("multi_sgd_update",
              "SGD update of num_weights weights at once (inputs weight_i, grad_i per weight): weight_i = (1 - lrs[i] * "
              "wds[i]) * weight_i - lrs[i] * clip(rescale_grad * grad_i, clip_gradient). float32/float64; float16/bfloat16 weights are "
              "computed in 16 bits as MXNet's kernel does (every operation rounded).",
              sgd, sgd_args<MultiSGDParam>, MultiSGDParam);
  MX_MULTI_OP("multi_sgd_mom_update",
              "SGD momentum update of num_weights weights (inputs weight_i, grad_i, mom_i per weight): mom_i = "
              "momentum * mom_i - lrs[i] * wds[i] * weight_i - lrs[i] * clip(rescale_grad * grad_i); weight_i += mom_i. "
              "mom_i is updated in place. float32/float64; float16/bfloat16 (mom_i in the weight's dtype) computed in "
              "16 bits as MXNet's kernel does.",
              sgd_mom, sgd_args<MultiSGDMomParam>, MultiSGDMomParam);
  MX_MULTI_OP("multi_mp_sgd_update",
              "Multi-precision SGD update of num_weights weights (inputs weight_i, grad_i, weight32_i): the float32 "
              "master weight32_i takes multi_sgd_update's step and is updated in place; output i is weight32_i cast "
              "to weight_i's dtype (float16, bfloat16 or float32).",
              mp_sgd, sgd_args<MultiSGDParam>, MultiSGDParam);
  MX_MULTI_OP("multi_mp_sgd_mom_update",
              "Multi-precision SGD momentum update of num_weights weights (inputs weight_i, grad_i, mom_i, weight32_i): "
              "the float32 master weight32_i and momentum mom_i take multi_sgd_mom_update's step in place; output i "
              "is weight32_i cast to weight_i's dtype.",
              mp_sgd_mom, sgd_args<MultiSGDMomParam>, MultiSGDMomParam);
  MX_MULTI_OP("preloaded_multi_sgd_update",
              "multi_sgd_update with the learning rates and weight decays in two float32 arrays of num_weights "
              "entries (the last two inputs, lrs and wds, read on the weights' device).",
              pre(sgd), sgd_args<PreloadedMultiSGDParam>, PreloadedMultiSGDParam);
  MX_MULTI_OP("preloaded_multi_sgd_mom_update",
              "multi_sgd_mom_update with the learning rates and weight decays in two float32 arrays (the last two "
              "inputs, lrs and wds).",
              pre(sgd_mom), sgd_args<PreloadedMultiSGDMomParam>, PreloadedMultiSGDMomParam);
  MX_MULTI_OP("preloaded_multi_mp_sgd_update",
              "multi_mp_sgd_update with the learning rates and weight decays in two float32 arrays (the last two "
              "inputs, lrs and wds).",
              pre(mp_sgd), sgd_args<PreloadedMultiSGDParam>, PreloadedMultiSGDParam);
  MX_MULTI_OP("preloaded_multi_mp_sgd_mom_update",
              "multi_mp_sgd_mom_update with the learning rates and weight decays in two float32 arrays (the last two "
              "inputs, lrs and wds).",
              pre(mp_sgd_mom), sgd_args<PreloadedMultiSGDMomParam>, PreloadedMultiSGDMomParam);
  MX_MULTI_OP("_multi_adamw_update",
              "AdamW update of num_weights weights (inputs weight_i, grad_i, mean_i, var_i per weight, then a "
              "one-element float32 rescale_grad): g = clip(rescale_grad * grad_i); mean_i = beta1 * mean_i + (1 - "
              "beta1) * g; var_i = beta2 * var_i + (1 - beta2) * g^2; weight_i -= etas[i] * (lrs[i] * mean_i / "
              "(sqrt(var_i) + epsilon) + wds[i] * weight_i). If rescale_grad is NaN, infinite or 0 the step is "
              "skipped. mean_i and var_i are updated in place. float32/float64; float16/bfloat16 (states and "
              "rescale_grad in the weight's dtype or float32) computed in 16 bits as MXNet's kernel intends.",
              (MultiSpec{UpdateRule::AdamW, false, Extra::Rescale, {"mean", "var"}, true}), adamw_args, MultiAdamWParam);
  MX_MULTI_OP("_multi_mp_adamw_update",
              "Multi-precision _multi_adamw_update (inputs weight_i, grad_i, mean_i, var_i, weight32_i, then "
              "rescale_grad): the float32 master weight32_i and states take the step in place; output i is "
              "weight32_i cast to weight_i's dtype (float16, bfloat16 or float32).",
              (MultiSpec{UpdateRule::AdamW, true, Extra::Rescale, {"mean", "var"}}), adamw_args, MultiAdamWParam);
  const MultiSpec lamb{UpdateRule::Sgd, false, Extra::None, {"mean", "var"}};  // (rule unused)
  const MultiSpec mp_lamb{UpdateRule::Sgd, true, Extra::None, {"mean", "var"}};
  register_multi("LAMB update of num_tensors weights (inputs weight_i, grad_i, mean_i, var_i per tensor): per "
                 "tensor lamb_update_phase1 with t = step_count[i] and wd = wds[i], then weight_i -= "
                 "learning_rates[i] * r1 / r2 * g with r1 = ||weight_i|| (clamped to the bounds) and r2 = ||g||. "
                 "mean_i and var_i are updated in place. float32/float64.",
                 lamb, lamb_args, OpBuilder::create("_multi_lamb_update").params<MultiLambParam>(),
                 [lamb](const OpCall &c) { multi_lamb_kernel(lamb, c); });
  register_multi("Multi-precision _multi_lamb_update (inputs weight_i, grad_i, mean_i, var_i, weight32_i): the "
                 "float32 master weight32_i and states take the step in place; output i is weight32_i cast to "
                 "weight_i's dtype (a float32 weight is its own master).",
                 mp_lamb, lamb_args, OpBuilder::create("_multi_mp_lamb_update").params<MultiLambParam>(),
                 [mp_lamb](const OpCall &c) { multi_lamb_kernel(mp_lamb, c); });
  return 0;
}();

}  // namespace
}  // namespace mx
