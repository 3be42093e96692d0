// LeakyReLU family: leaky (x>0 ? x : slope*x), prelu (learned per-channel gamma on axis 1, or a
// single value), rrelu (random slope in [lower_bound, upper_bound] per element in training, their
// mean otherwise; the slopes are the second output 'mask'), elu (slope*(exp(x)-1) below 0), selu
// and gelu (erf form). The selu gradient follows MXNet 1.x (see leaky_backward). Fused backward _backward_LeakyReLU (out_grad, data, [gamma | mask]).
#include <cmath>

#include "ops/nn/nn_common.h"
#include "random/philox.h"

namespace mx {
namespace {

constexpr int64_t kGrain = 1 << 14;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluLambda = 1.0507009873554804934193349852946;

struct LeakyParam {
  std::string act_type;
  double slope = 0.25, lower_bound = 0.125, upper_bound = 0.334;
  static void describe(ParamDecl<LeakyParam> &d) {
    d.field("act_type", &LeakyParam::act_type).def("leaky").choices({"elu", "gelu", "leaky", "prelu", "rrelu", "selu"})
        .doc("Activation function to be applied.");
    d.field("slope", &LeakyParam::slope).def(0.25).doc("Init slope for the activation (for leaky and elu).");
    d.field("lower_bound", &LeakyParam::lower_bound).def(0.125).doc("Lower bound of random slope (for rrelu).");
    d.field("upper_bound", &LeakyParam::upper_bound).def(0.334).doc("Upper bound of random slope (for rrelu).");
    d.check([](const LeakyParam &p, const std::string &op) {
      if (p.act_type == "rrelu")
        MX_CHECK(p.lower_bound <= p.upper_bound, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'lower_bound' (",
                 p.lower_bound, ") must not exceed 'upper_bound' (", p.upper_bound, ")");
    });
  }
};

enum Act { kLeaky, kPrelu, kRrelu, kElu, kSelu, kGelu };
Act act_of(const std::string &s) {
  if (s == "leaky") return kLeaky;
  if (s == "prelu") return kPrelu;
  if (s == "rrelu") return kRrelu;
  if (s == "elu") return kElu;
  if (s == "selu") return kSelu;
  if (s == "gelu") return kGelu;
  fail(MX_ERR_INVALID_ARGUMENT, "LeakyReLU: parameter 'act_type' has invalid value '", s, "'");
}

// prelu: gamma (C,) on axis 1, (1,) for all, or (as MXNet) a gamma broadcast over the data's
// leading two axes (see expand_gamma); returns the gamma index of element i.
struct GammaMap {
  int64_t C = 1, inner = 1;
  bool full = false;  // broadcast form
  std::vector<int64_t> dims, gstride;
  int64_t idx(int64_t i) const {
    if (full) {
      int64_t r = 0;
      for (size_t d = dims.size(); d-- > 0;) {
        r += (i % dims[d]) * gstride[d];
        i /= dims[d];
      }
      return r;
    }
    return C == 1 ? 0 : (i / inner) % C;
  }
};
bool gamma_is_channel(const Shape &data, const Shape &gamma) {
  return data.ndim() >= 2 && gamma.ndim() == 1 && gamma[0] == data[1];
}
// MXNet's placement of gamma's axes on the data: from the right, onto data axes 1 and 0 only
// (each equal to the data's or 1), every other axis 1. Empty when gamma does not fit.
std::vector<int64_t> expand_gamma(const Shape &data, const Shape &gamma) {
  std::vector<int64_t> r(static_cast<size_t>(data.ndim()), 1);
  int s = gamma.ndim() - 1;
  for (int i = data.ndim() - 1; i >= 0; --i) {
    if (s >= 0 && i <= 1 && (data[i] == gamma[s] || gamma[s] == 1)) {
      r[static_cast<size_t>(i)] = gamma[s];
      --s;
    }
  }
  if (s != -1) return {};
  return r;
}
bool gamma_broadcasts(const Shape &data, const Shape &gamma) { return !expand_gamma(data, gamma).empty(); }
GammaMap gamma_map(const Shape &data, const Shape &gamma) {
  GammaMap m;
  if (gamma.size() == 1) return m;
  if (gamma_is_channel(data, gamma)) {
    m.C = data[1];
    m.inner = data.prod(2, data.ndim());
    return m;
  }
  const auto g = expand_gamma(data, gamma);
  m.full = true;
  m.dims = data.dims();
  m.gstride.assign(m.dims.size(), 0);
  int64_t st = 1;
  for (size_t d = g.size(); d-- > 0;) {
    if (g[d] != 1) m.gstride[d] = st;
    st *= g[d];
  }
  return m;
}

bool leaky_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  const auto &p = prm.get<LeakyParam>();
  if (!in[0].known()) return false;
  const char *op = "LeakyReLU";
  assign_shape(out[0], in[0], op, "output");
  if (p.act_type == "prelu") {
    if (!in[1].known()) {
      MX_CHECK(in[0].ndim() >= 2, MX_ERR_SHAPE, op, ": prelu data must have at least 2 dimensions, got ", in[0].str());
      assign_shape(in[1], Shape{in[0][1]}, op, "gamma");
    }
    MX_CHECK(in[1].size() == 1 || gamma_is_channel(in[0], in[1]) || gamma_broadcasts(in[0], in[1]), MX_ERR_SHAPE, op,
             ": prelu 'gamma' must have shape (1,), (", in[0].ndim() >= 2 ? in[0][1] : 1,
             ",) or one broadcastable to the data shape ", in[0].str(), ", got ", in[1].str());
  }
  assign_shape(out[1], in[0], op, "mask");
  return true;
}

template <typename T> void leaky_forward(const OpCall &c) {
  const auto &p = c.p<LeakyParam>();
  const Act a = act_of(p.act_type);
  const T *x = c.inputs[0].data<T>();
  T *y = c.outputs[0].data<T>(), *mk = c.outputs[1].data<T>();
  const int64_t n = c.outputs[0].size();
  const T slope = static_cast<T>(p.slope);
  if (a == kRrelu && c.is_train) {
    uint64_t seed = 0;
    const uint64_t base = c.rng->reserve(static_cast<uint64_t>((n + 3) / 4), &seed);
    const double lo = p.lower_bound, span = p.upper_bound - p.lower_bound;
    parallel_for((n + 3) / 4, kGrain / 4, [&](int64_t b, int64_t e) {
      uint32_t w[4];
      for (int64_t blk = b; blk < e; ++blk) {
        Philox4x32::block(seed, base + static_cast<uint64_t>(blk), w);
        for (int j = 0; j < 4; ++j) {
          const int64_t i = blk * 4 + j;
          if (i >= n) break;
          const T s = static_cast<T>(lo + span * static_cast<double>(u32_to_unit_float(w[j])));
          mk[i] = s;
          y[i] = x[i] > T(0) ? x[i] : s * x[i];
        }
      }
    });
    return;
  }
  GammaMap gm;
  const T *gamma = nullptr;
  if (a == kPrelu) {
    gamma = c.inputs[1].data<T>();
    gm = gamma_map(c.inputs[0].shape(), c.inputs[1].shape());
  }
  const T mean_slope = static_cast<T>((p.lower_bound + p.upper_bound) / 2);
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T v = x[i];
      switch (a) {
        case kLeaky: y[i] = v > T(0) ? v : slope * v; break;
        case kPrelu: y[i] = v > T(0) ? v : gamma[gm.idx(i)] * v; break;
        case kRrelu: y[i] = v > T(0) ? v : mean_slope * v; break;
        case kElu: y[i] = v > T(0) ? v : slope * std::expm1(v); break;
        case kSelu: y[i] = static_cast<T>(kSeluLambda) * (v > T(0) ? v : static_cast<T>(kSeluAlpha) * std::expm1(v)); break;
        case kGelu: y[i] = T(0.5) * v * (T(1) + std::erf(v * static_cast<T>(M_SQRT1_2))); break;
      }
      mk[i] = a == kRrelu ? mean_slope : T(0);
    }
  });
}

// inputs: out_grad, data, [gamma (prelu) | mask (rrelu)]; outputs: data grad, [gamma grad]
template <typename T> void leaky_backward(const OpCall &c) {
  const auto &p = c.p<LeakyParam>();
  const Act a = act_of(p.act_type);
  const T *g = c.inputs[0].data<T>(), *x = c.inputs[1].data<T>();
  const T *aux = c.inputs.size() > 2 ? c.inputs[2].data<T>() : nullptr;
  T *dx = c.outputs[0].data<T>();
  const int64_t n = c.outputs[0].size();
  const T slope = static_cast<T>(p.slope);
  GammaMap gm;
  if (a == kPrelu) gm = gamma_map(c.inputs[1].shape(), c.inputs[2].shape());
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T v = x[i];
      T d;
      switch (a) {
        case kLeaky: d = v > T(0) ? T(1) : slope; break;
        case kPrelu: d = v > T(0) ? T(1) : aux[gm.idx(i)]; break;
        case kRrelu: d = v > T(0) ? T(1) : aux[i]; break;
        case kElu: d = v > T(0) ? T(1) : slope * std::exp(v); break;
        case kSelu: {
          // MXNet 1.x's selu gradient, lambda * (y + alpha) below 0 (y the output), which is not the
          // derivative lambda*alpha*exp(x); kept for compatibility with its recorded results.
          const T y = static_cast<T>(kSeluLambda * kSeluAlpha) * std::expm1(v);
          d = v > T(0) ? static_cast<T>(kSeluLambda) : static_cast<T>(kSeluLambda) * (y + static_cast<T>(kSeluAlpha));
          break;
        }
        default: {  // gelu
          const T cdf = T(0.5) * (T(1) + std::erf(v * static_cast<T>(M_SQRT1_2)));
          const T pdf = std::exp(T(-0.5) * v * v) * static_cast<T>(0.3989422804014327);
          d = cdf + v * pdf;
        }
      }
      dx[i] = g[i] * d;
    }
  });
  if (a == kPrelu) {
    T *dg = c.outputs[1].data<T>();
    const int64_t G = c.inputs[2].size();
    std::vector<double> s(static_cast<size_t>(G), 0.0);
    for (int64_t i = 0; i < n; ++i)
      if (!(x[i] > T(0))) s[static_cast<size_t>(gm.idx(i))] += static_cast<double>(g[i]) * static_cast<double>(x[i]);
    for (int64_t j = 0; j < G; ++j) dg[j] = static_cast<T>(s[static_cast<size_t>(j)]);
  }
}

const int registered = [] {
  MX_REGISTER_OP(LeakyReLU)
      .doc("Leaky rectified linear units and relatives: leaky, prelu (learned gamma), rrelu (random slope in "
           "training, mean slope otherwise; also outputs the slopes), elu, selu and gelu.")
      .params<LeakyParam>()
      .inputs({"data", "gamma"})
      .inputs_fn([](const Params &prm) -> std::vector<std::string> {
        if (prm.get<LeakyParam>().act_type == "prelu") return {"data", "gamma"};
        return {"data"};
      })
      .outputs({"output", "mask"})
      .num_visible_outputs([](const Params &prm) { return prm.get<LeakyParam>().act_type == "rrelu" ? 2 : 1; })
      .shape(leaky_shape)
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "LeakyReLU", { leaky_forward<T>(c); }); })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &p = n.p<LeakyParam>();
        const OpDef *bw = &Registry::get().require("_backward_LeakyReLU");
        if (p.act_type == "prelu") {
          auto gs = b.emit(bw, n.params, {n.out_grads[0], n.inputs[0], n.inputs[1]});
          return {gs[0], gs[1]};
        }
        if (p.act_type == "rrelu") return {b.emit(bw, n.params, {n.out_grads[0], n.inputs[0], n.outputs[1]})[0]};
        return {b.emit(bw, n.params, {n.out_grads[0], n.inputs[0]})[0]};
      })
      .rng();
  MX_REGISTER_OP(_backward_LeakyReLU)
      .doc("Gradient of LeakyReLU: inputs (out_grad, data, [gamma for prelu | mask for rrelu]).")
      .params<LeakyParam>()
      .inputs_fn([](const Params &prm) -> std::vector<std::string> {
        const auto &t = prm.get<LeakyParam>().act_type;
        if (t == "prelu") return {"out_grad", "data", "gamma"};
        if (t == "rrelu") return {"out_grad", "data", "mask"};
        return {"out_grad", "data"};
      })
      .outputs({"data_grad", "gamma_grad"})
      .num_outputs([](const Params &prm) { return prm.get<LeakyParam>().act_type == "prelu" ? 2 : 1; })
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_LeakyReLU", "data_grad");
        if (prm.get<LeakyParam>().act_type == "prelu") {
          if (!in[2].known()) return false;
          assign_shape(out[1], in[2], "_backward_LeakyReLU", "gamma_grad");
        }
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_LeakyReLU", { leaky_backward<T>(c); });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
