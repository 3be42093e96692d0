// Activation, LeakyReLU and Dropout written once for both devices (ops/each.h): the drivers
// check and prepare on the host and run MX_HD functors through the device's runner. The CPU
// op files (activation.cc, leaky_relu.cc, dropout.cc) run them with HostEach, the CUDA file
// (backends/cuda/activation.cu) with DeviceEach.
#pragma once
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "backends/cpu/fast_math.h"
#include "base/half_hd.h"
#include "base/hd.h"
#include "ops/registry.h"
#include "random/philox.h"

namespace mx {
namespace actk {

constexpr int kMaxDims = 8;

// ---- Activation
struct ActParam {
  std::string act_type;
  static void describe(ParamDecl<ActParam> &d) {
    d.field("act_type", &ActParam::act_type).required()
        .choices({"relu", "sigmoid", "softrelu", "softsign", "tanh"}).doc("Activation function to be applied.");
  }
};

enum Act { kRelu, kSigmoid, kTanh, kSoftrelu, kSoftsign };
inline Act act_of(const std::string &s) {
  if (s == "relu") return kRelu;
  if (s == "sigmoid") return kSigmoid;
  if (s == "tanh") return kTanh;
  if (s == "softrelu") return kSoftrelu;
  if (s == "softsign") return kSoftsign;
  fail(MX_ERR_INVALID_ARGUMENT, "Activation: parameter 'act_type' has invalid value '", s, "'");
}

// The activation is a template parameter: each loop is branch-free (and vectorises on the CPU).
// Computed in C = compute_t<T>: T itself for float/double, float for the GPU's native
// float16/bfloat16 (base/half_hd.h).
template <typename T, Act A> struct ActForward {
  const T *x;
  T *y;
  MX_HD void operator()(int64_t i) const {
    using C = compute_t<T>;
    const C v = C(x[i]);
    if constexpr (A == kRelu) y[i] = T(v > C(0) ? v : C(0));
    else if constexpr (A == kSigmoid) y[i] = T(fastmath::sigmoid_of(v));
    else if constexpr (A == kTanh) y[i] = T(fastmath::tanh_of(v));
    // log(1 + exp(x)), stable; fastmath: vectorised for float
    else if constexpr (A == kSoftrelu) y[i] = T(v > C(20) ? v : fastmath::log1p_of(fastmath::exp_of(v)));
    else y[i] = T(v / (C(1) + std::abs(v)));                                                // softsign
  }
};

// inputs: out_grad, data, output
template <typename T, Act A> struct ActBackward {
  const T *g, *x, *y;
  T *dx;
  MX_HD void operator()(int64_t i) const {
    using C = compute_t<T>;
    const C gi = C(g[i]);
    if constexpr (A == kRelu) {
      // g[i] is loaded unconditionally (gi above): a load inside the select made GCC branch on the
      // sign, which mispredicts on real data (19.7 against 1.1 ms for 4M floats, 1 thread).
      dx[i] = T(C(y[i]) > C(0) ? gi : C(0));
    } else if constexpr (A == kSigmoid) {
      const C yi = C(y[i]);
      dx[i] = T(gi * yi * (C(1) - yi));
    } else if constexpr (A == kTanh) {
      const C yi = C(y[i]);
      dx[i] = T(gi * (C(1) - yi * yi));
    } else if constexpr (A == kSoftrelu) {
      dx[i] = T(gi / (C(1) + fastmath::exp_of(-C(x[i]))));
    } else {  // softsign
      const C d = C(1) + std::abs(C(x[i]));
      dx[i] = T(gi / (d * d));
    }
  }
};

// Calls fn(std::integral_constant<Act, a>) for the runtime value a.
template <typename Fn> void with_act(Act a, Fn fn) {
  switch (a) {
    case kRelu: return fn(std::integral_constant<Act, kRelu>());
    case kSigmoid: return fn(std::integral_constant<Act, kSigmoid>());
    case kTanh: return fn(std::integral_constant<Act, kTanh>());
    case kSoftrelu: return fn(std::integral_constant<Act, kSoftrelu>());
    case kSoftsign: return fn(std::integral_constant<Act, kSoftsign>());
  }
}

// float16/bfloat16 reach these drivers only on the GPU (the op's gpu_dtypes; the CPU runs them
// through float32).
template <class Each> void activation_forward(const OpCall &c, const Each &each) {
  const Act a = act_of(c.p<ActParam>().act_type);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    with_act(a, [&](auto A) {
      each(c.outputs[0].size(), ActForward<T, decltype(A)::value>{c.inputs[0].data<T>(), c.outputs[0].data<T>()});
    });
  };
  MX_HALF_OR(c.inputs[0].dtype(), T, run(T{}), MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "Activation", run(T{})));
}

template <class Each> void activation_backward(const OpCall &c, const Each &each) {
  const Act a = act_of(c.p<ActParam>().act_type);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    with_act(a, [&](auto A) {
      each(c.outputs[0].size(), ActBackward<T, decltype(A)::value>{c.inputs[0].data<T>(), c.inputs[1].data<T>(),
                                                                   c.inputs[2].data<T>(), c.outputs[0].data<T>()});
    });
  };
  MX_HALF_OR(c.inputs[0].dtype(), T, run(T{}),
             MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_Activation", run(T{})));
}

// ---- LeakyReLU
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

enum Leaky { kLeaky, kPrelu, kRrelu, kElu, kSelu, kGelu };
inline Leaky leaky_of(const std::string &s) {
  if (s == "leaky") return kLeaky;
  if (s == "prelu") return kPrelu;
  if (s == "rrelu") return kRrelu;
  if (s == "elu") return kElu;
  if (s == "selu") return kSelu;
  if (s == "gelu") return kGelu;
  fail(MX_ERR_INVALID_ARGUMENT, "LeakyReLU: parameter 'act_type' has invalid value '", s, "'");
}

// prelu: gamma (C,) on axis 1, (1,) for all, or (as MXNet) a gamma broadcast over the data's
// leading two axes (see expand_gamma); idx(i) is the gamma index of data element i.
struct GammaMap {
  int64_t C = 1, inner = 1;
  bool full = false;  // broadcast form
  int nd = 0;
  int64_t dims[kMaxDims] = {}, gstride[kMaxDims] = {};
  MX_HD int64_t idx(int64_t i) const {
    if (full) {
      int64_t r = 0;
      for (int d = nd - 1; d >= 0; --d) {
        r += (i % dims[d]) * gstride[d];
        i /= dims[d];
      }
      return r;
    }
    return C == 1 ? 0 : (i / inner) % C;
  }
};
inline bool gamma_is_channel(const Shape &data, const Shape &gamma) {
  return data.ndim() >= 2 && gamma.ndim() == 1 && gamma[0] == data[1];
}
// MXNet's placement of gamma's axes on the data: from the right, onto data axes 1 and 0 only
// (each equal to the data's or 1), every other axis 1. Empty when gamma does not fit.
inline std::vector<int64_t> expand_gamma(const Shape &data, const Shape &gamma) {
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
inline bool gamma_broadcasts(const Shape &data, const Shape &gamma) { return !expand_gamma(data, gamma).empty(); }
inline GammaMap gamma_map(const Shape &data, const Shape &gamma) {
  GammaMap m;
  if (gamma.size() == 1) return m;
  if (gamma_is_channel(data, gamma)) {
    m.C = data[1];
    m.inner = data.prod(2, data.ndim());
    return m;
  }
  const auto g = expand_gamma(data, gamma);
  MX_CHECK(data.ndim() <= kMaxDims, MX_ERR_UNSUPPORTED, "LeakyReLU: prelu with a broadcast gamma supports at most ",
           kMaxDims, " data dimensions, got ", data.str());
  m.full = true;
  m.nd = data.ndim();
  int64_t st = 1;
  for (int d = m.nd - 1; d >= 0; --d) {
    m.dims[d] = data[d];
    m.gstride[d] = g[static_cast<size_t>(d)] != 1 ? st : 0;
    st *= g[static_cast<size_t>(d)];
  }
  return m;
}

// The activation is a template parameter: branch-free loops (as ActForward).
template <typename T, Leaky A> struct LeakyForward {
  T slope, mean_slope;
  const T *x, *gamma;
  GammaMap gm;
  T *y, *mk;
  MX_HD void operator()(int64_t i) const {
    const T v = x[i];
    if constexpr (A == kLeaky) y[i] = v > T(0) ? v : slope * v;
    else if constexpr (A == kPrelu) y[i] = v > T(0) ? v : gamma[gm.idx(i)] * v;
    else if constexpr (A == kRrelu) y[i] = v > T(0) ? v : mean_slope * v;
    else if constexpr (A == kElu) y[i] = v > T(0) ? v : slope * fastmath::expm1_of(v);
    else if constexpr (A == kSelu)
      y[i] = static_cast<T>(kSeluLambda) * (v > T(0) ? v : static_cast<T>(kSeluAlpha) * fastmath::expm1_of(v));
    else y[i] = v * fastmath::normal_cdf_of(v);  // gelu: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))
    mk[i] = A == kRrelu ? mean_slope : T(0);
  }
};

template <typename Fn> void with_leaky(Leaky a, Fn fn) {
  switch (a) {
    case kLeaky: return fn(std::integral_constant<Leaky, kLeaky>());
    case kPrelu: return fn(std::integral_constant<Leaky, kPrelu>());
    case kRrelu: return fn(std::integral_constant<Leaky, kRrelu>());
    case kElu: return fn(std::integral_constant<Leaky, kElu>());
    case kSelu: return fn(std::integral_constant<Leaky, kSelu>());
    case kGelu: return fn(std::integral_constant<Leaky, kGelu>());
  }
}

// rrelu in training: block b of the reserved Philox range gives the slopes of elements 4b..4b+3.
template <typename T> struct RreluTrain {
  uint64_t seed, base;
  int64_t n;
  double lo, span;
  const T *x;
  T *y, *mk;
  MX_HD void operator()(int64_t blk) const {
    uint32_t w[4];
    Philox4x32::block(seed, base + static_cast<uint64_t>(blk), w);
    for (int j = 0; j < 4; ++j) {
      const int64_t i = blk * 4 + j;
      if (i >= n) break;
      const T s = static_cast<T>(lo + span * static_cast<double>(u32_to_unit_float(w[j])));
      mk[i] = s;
      y[i] = x[i] > T(0) ? x[i] : s * x[i];
    }
  }
};

// inputs: out_grad, data, [gamma (prelu) | mask (rrelu)]. The activation is a template parameter
// (as LeakyForward): a switch inside the loop kept it from vectorising.
template <typename T, Leaky A> struct LeakyBackward {
  T slope;
  const T *g, *x, *aux;
  GammaMap gm;
  T *dx;
  MX_HD void operator()(int64_t i) const {
    const T v = x[i];
    T d;
    if constexpr (A == kLeaky) d = v > T(0) ? T(1) : slope;
    else if constexpr (A == kPrelu) d = v > T(0) ? T(1) : aux[gm.idx(i)];
    else if constexpr (A == kRrelu) d = v > T(0) ? T(1) : aux[i];
    else if constexpr (A == kElu) d = v > T(0) ? T(1) : slope * fastmath::exp_of(v);
    else if constexpr (A == kSelu) {
      // MXNet 1.x's selu gradient, lambda * (y + alpha) below 0 (y the output), which is not the
      // derivative lambda*alpha*exp(x); kept for compatibility with its recorded results.
      const T y = static_cast<T>(kSeluLambda * kSeluAlpha) * fastmath::expm1_of(v);
      d = v > T(0) ? static_cast<T>(kSeluLambda) : static_cast<T>(kSeluLambda) * (y + static_cast<T>(kSeluAlpha));
    } else {  // gelu
      const T cdf = fastmath::normal_cdf_of(v);
      const T pdf = fastmath::exp_of(T(-0.5) * v * v) * static_cast<T>(0.3989422804014327);
      d = cdf + v * pdf;
    }
    dx[i] = g[i] * d;
  }
};

// prelu's gamma gradient: gamma element j sums g*x over the data elements mapped to it where
// x <= 0, in increasing element order (in double), one index j per call.
template <typename T> struct PreluGammaGrad {
  const T *g, *x;
  GammaMap gm;
  int64_t n;
  T *dg;
  MX_HD void operator()(int64_t j) const {
    double s = 0;
    if (gm.full || gm.C == 1) {
      for (int64_t i = 0; i < n; ++i)
        if (gm.idx(i) == j && !(x[i] > T(0))) s += static_cast<double>(g[i]) * static_cast<double>(x[i]);
    } else {
      const int64_t outer = n / (gm.C * gm.inner);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < gm.inner; ++k) {
          const int64_t i = (o * gm.C + j) * gm.inner + k;
          if (!(x[i] > T(0))) s += static_cast<double>(g[i]) * static_cast<double>(x[i]);
        }
    }
    dg[j] = static_cast<T>(s);
  }
};

template <class Each> void leaky_forward(const OpCall &c, const Each &each) {
  const auto &p = c.p<LeakyParam>();
  const Leaky a = leaky_of(p.act_type);
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "LeakyReLU", {
    const T *x = c.inputs[0].data<T>();
    T *y = c.outputs[0].data<T>(), *mk = c.outputs[1].data<T>();
    const int64_t n = c.outputs[0].size();
    if (a == kRrelu && c.is_train) {
      uint64_t seed = 0;
      const uint64_t base = c.rng->reserve(static_cast<uint64_t>((n + 3) / 4), &seed);
      each((n + 3) / 4, RreluTrain<T>{seed, base, n, p.lower_bound, p.upper_bound - p.lower_bound, x, y, mk}, 1 << 12);
      return;
    }
    const T *gamma = nullptr;
    GammaMap gm;
    if (a == kPrelu) {
      gamma = c.inputs[1].data<T>();
      gm = gamma_map(c.inputs[0].shape(), c.inputs[1].shape());
    }
    with_leaky(a, [&](auto A) {
      each(n, LeakyForward<T, decltype(A)::value>{static_cast<T>(p.slope),
                                                  static_cast<T>((p.lower_bound + p.upper_bound) / 2), x, gamma, gm,
                                                  y, mk});
    });
  });
}

template <class Each> void leaky_backward(const OpCall &c, const Each &each) {
  const auto &p = c.p<LeakyParam>();
  const Leaky a = leaky_of(p.act_type);
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_LeakyReLU", {
    const T *g = c.inputs[0].data<T>(), *x = c.inputs[1].data<T>();
    const T *aux = c.inputs.size() > 2 ? c.inputs[2].data<T>() : nullptr;
    GammaMap gm;
    if (a == kPrelu) gm = gamma_map(c.inputs[1].shape(), c.inputs[2].shape());
    const int64_t n = c.outputs[0].size();
    with_leaky(a, [&](auto A) {
      each(n, LeakyBackward<T, decltype(A)::value>{static_cast<T>(p.slope), g, x, aux, gm, c.outputs[0].data<T>()});
    });
    if (a == kPrelu) each(c.inputs[2].size(), PreluGammaGrad<T>{g, x, gm, n, c.outputs[1].data<T>()}, 1);
  });
}

// ---- Dropout
struct DropoutParam {
  double p = 0.5;
  std::string mode;
  std::vector<int64_t> axes;
  std::optional<bool> cudnn_off;
  static void describe(ParamDecl<DropoutParam> &d) {
    d.field("p", &DropoutParam::p).def(0.5).doc("Fraction of the input that gets dropped out during training time.");
    d.field("mode", &DropoutParam::mode).def("training").choices({"always", "training"})
        .doc("Whether to only turn on dropout during training or to also turn on for inference.");
    d.field("axes", &DropoutParam::axes).def({}).doc("Axes for variational dropout kernel (the mask is shared along them).");
    d.field("cudnn_off", &DropoutParam::cudnn_off).def(false).doc("Whether to turn off cudnn in dropout operator (ignored).");
    d.check([](const DropoutParam &p, const std::string &op) {
      MX_CHECK(p.p >= 0 && p.p <= 1, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'p' must be in [0, 1], got ", p.p);
    });
  }
};

template <typename T> struct DropoutIdentity {
  const T *x;
  T *y, *m;
  MX_HD void operator()(int64_t i) const {
    y[i] = x[i];
    m[i] = T(1);
  }
};

// Mask element k of the (reduced) mask shape is word k%4 of Philox block base + k/4: the same
// numbers on every device for the same seed. Without shared axes block b gives elements 4b..4b+3.
template <typename T> struct DropoutBlocks {
  uint64_t seed, base;
  int64_t n;
  float thresh;
  T keep_scale;
  const T *x;
  T *y, *m;
  MX_HD void operator()(int64_t blk) const {
    uint32_t w[4];
    Philox4x32::block(seed, base + static_cast<uint64_t>(blk), w);
    for (int j = 0; j < 4; ++j) {
      const int64_t i = blk * 4 + j;
      if (i >= n) break;
      m[i] = u32_to_unit_float(w[j]) >= thresh ? keep_scale : T(0);
      y[i] = x[i] * m[i];
    }
  }
};

// With shared axes: element i reads the mask element at its index with those axes set to 0.
template <typename T> struct DropoutShared {
  uint64_t seed, base;
  float thresh;
  T keep_scale;
  int nd;
  int64_t dims[kMaxDims], mstride[kMaxDims];
  const T *x;
  T *y, *m;
  MX_HD void operator()(int64_t i) const {
    int64_t rem = i, off = 0;
    for (int d = nd - 1; d >= 0; --d) {
      off += (rem % dims[d]) * mstride[d];
      rem /= dims[d];
    }
    uint32_t w[4];
    Philox4x32::block(seed, base + static_cast<uint64_t>(off / 4), w);
    m[i] = u32_to_unit_float(w[off % 4]) >= thresh ? keep_scale : T(0);
    y[i] = x[i] * m[i];
  }
};

template <class Each> void dropout_forward(const OpCall &c, const Each &each) {
  const auto &p = c.p<DropoutParam>();
  // float16/bfloat16 only on the GPU (gpu_dtypes): x * mask in float, the mask the rounded scale.
  auto run = [&](auto tag) {
    using T = decltype(tag);
    const NDArray &data = c.inputs[0];
    const T *x = data.data<T>();
    T *y = c.outputs[0].data<T>(), *m = c.outputs[1].data<T>();
    const int64_t n = data.size();
    const bool active = (c.is_train || p.mode == "always") && p.p > 0;
    if (!active) {
      each(n, DropoutIdentity<T>{x, y, m}, 1 << 15);
      return;
    }
    const Shape &s = data.shape();
    // Mask shape: the data's with the `axes` set to 1.
    std::vector<int64_t> ms = s.dims();
    for (int64_t a : p.axes) ms[static_cast<size_t>(normalize_axis(a, s.ndim(), "Dropout: axes"))] = 1;
    const int64_t mn = Shape(ms).size();
    const T keep_scale = p.p >= 1 ? T(0) : static_cast<T>(1.0 / (1.0 - p.p));
    const float thresh = static_cast<float>(p.p);
    uint64_t seed = 0;
    const uint64_t base = c.rng->reserve(static_cast<uint64_t>((mn + 3) / 4), &seed);
    if (mn == n) {
      each((mn + 3) / 4, DropoutBlocks<T>{seed, base, n, thresh, keep_scale, x, y, m}, 4096);
      return;
    }
    MX_CHECK(s.ndim() <= kMaxDims, MX_ERR_UNSUPPORTED, "Dropout: 'axes' supports at most ", kMaxDims,
             " data dimensions, got ", s.str());
    DropoutShared<T> f{seed, base, thresh, keep_scale, s.ndim(), {}, {}, x, y, m};
    int64_t acc = 1;
    for (int d = s.ndim() - 1; d >= 0; --d) {
      f.dims[d] = s[d];
      f.mstride[d] = ms[static_cast<size_t>(d)] == 1 ? 0 : acc;
      acc *= ms[static_cast<size_t>(d)];
    }
    each(n, f, 4096);
  };
  MX_HALF_OR(c.inputs[0].dtype(), T, run(T{}), MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "Dropout", run(T{})));
}

}  // namespace actk
}  // namespace mx
