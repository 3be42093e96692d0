// LayerNorm / InstanceNorm / GroupNorm and L2Normalization written once for both devices
// (ops/each.h): the op files (layer_norm.cc, l2_normalization.cc) run the drivers with HostEach,
// backends/cuda/norm.cu with DeviceEach. One functor call computes one statistic's row (in
// double, as the CPU kernels always did); the gamma/beta gradients run one call per gamma
// element, summing its rows in the order the CPU's serial loop used, so both devices agree.
#pragma once
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "base/hd.h"
#include "ops/registry.h"

namespace mx {
namespace normk {

struct LayerNormParam {
  int64_t axis = -1;
  double eps = 1e-5;
  bool output_mean_var = false;
  static void describe(ParamDecl<LayerNormParam> &d) {
    d.field("axis", &LayerNormParam::axis).def(-1).doc("The axis to perform layer normalization.");
    d.field("eps", &LayerNormParam::eps).def(1e-5).doc("An epsilon parameter to prevent division by 0.");
    d.field("output_mean_var", &LayerNormParam::output_mean_var).def(false).doc("Output the mean and std as well.");
    d.check([](const LayerNormParam &p, const std::string &op) {
      MX_CHECK(p.eps >= 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'eps' must be non-negative, got ", p.eps);
    });
  }
};
struct InstanceNormParam {
  double eps = 1e-3;
  static void describe(ParamDecl<InstanceNormParam> &d) {
    d.field("eps", &InstanceNormParam::eps).def(1e-3).doc("An epsilon parameter to prevent division by 0.");
    d.check([](const InstanceNormParam &p, const std::string &op) {
      MX_CHECK(p.eps >= 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'eps' must be non-negative, got ", p.eps);
    });
  }
};
struct GroupNormParam {
  int64_t num_groups = 1;
  double eps = 1e-5;
  bool output_mean_var = false;
  static void describe(ParamDecl<GroupNormParam> &d) {
    d.field("num_groups", &GroupNormParam::num_groups).def(1).doc("Total number of groups.");
    d.field("eps", &GroupNormParam::eps).def(1e-5).doc("An epsilon parameter to prevent division by 0.");
    d.field("output_mean_var", &GroupNormParam::output_mean_var).def(false).doc("Output the mean and std as well.");
    d.check([](const GroupNormParam &p, const std::string &op) {
      MX_CHECK(p.num_groups > 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'num_groups' must be positive, got ",
               p.num_groups);
      MX_CHECK(p.eps >= 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'eps' must be non-negative, got ", p.eps);
    });
  }
};

enum Kind { kLayer, kInstance, kGroup };

// Row r, element j lives at (r / post) * M * post + j * post + r % post. Its gamma index:
// LayerNorm j; InstanceNorm / GroupNorm ((r % gmod) * M + j) / gdiv, which is r % gmod (the
// channel, or the group) for every j.
struct Layout {
  int64_t rows = 0, M = 0, post = 1;
  int64_t gmod = 1, gdiv = 1;
  bool layer = false;
  MX_HD int64_t off(int64_t r, int64_t j) const { return (r / post) * M * post + j * post + r % post; }
  MX_HD int64_t gidx(int64_t r, int64_t j) const { return layer ? j : ((r % gmod) * M + j) / gdiv; }
};

struct Info {
  Layout L;
  Shape gamma, stat;
};

inline Info info_of(Kind k, const Params &prm, const Shape &s, const char *op) {
  Info in;
  if (k == kLayer) {
    MX_CHECK(s.ndim() >= 1, MX_ERR_SHAPE, op, ": data must have at least one dimension");
    int ax = normalize_axis(prm.get<LayerNormParam>().axis, s.ndim(), "LayerNorm: axis");
    in.L.layer = true;
    in.L.M = s[ax];
    in.L.post = s.prod(ax + 1, s.ndim());
    in.L.rows = s.prod(0, ax) * in.L.post;
    in.gamma = Shape{s[ax]};
    std::vector<int64_t> st;
    for (int i = 0; i < s.ndim(); ++i) st.push_back(i == ax ? 1 : s[i]);
    in.stat = Shape(st);
    return in;
  }
  MX_CHECK(s.ndim() >= 3 || (k == kGroup && s.ndim() >= 2), MX_ERR_SHAPE, op,
           ": data must have at least ", k == kGroup ? 2 : 3, " dimensions (N, C, ...), got shape ", s.str());
  const int64_t N = s[0], C = s[1], S = s.prod(2, s.ndim());
  int64_t G = C;
  if (k == kGroup) {
    G = prm.get<GroupNormParam>().num_groups;
    MX_CHECK(C % G == 0, MX_ERR_SHAPE, op, ": channels (", C, ") of data shape ", s.str(),
             " must be divisible by parameter 'num_groups' (", G, ")");
  }
  in.L.rows = N * G;
  in.L.M = C / G * S;
  in.L.gmod = G;
  // InstanceNorm: gamma per channel. GroupNorm: per group, as MXNet 1.x (gamma and beta have
  // shape (num_groups,); index ((r % G) * M + j) / M = r % G).
  in.L.gdiv = k == kGroup ? in.L.M : S;
  in.gamma = Shape{k == kGroup ? G : C};
  if (k == kGroup) {
    in.stat = Shape{N, G};
  } else {
    std::vector<int64_t> st{N, C};
    for (int i = 2; i < s.ndim(); ++i) st.push_back(1);
    in.stat = Shape(st);
  }
  return in;
}

inline double eps_of(Kind k, const Params &prm) {
  return k == kLayer ? prm.get<LayerNormParam>().eps
                     : k == kInstance ? prm.get<InstanceNormParam>().eps : prm.get<GroupNormParam>().eps;
}

inline const char *name_of(Kind k) { return k == kLayer ? "LayerNorm" : k == kInstance ? "InstanceNorm" : "GroupNorm"; }
inline const char *backward_name_of(Kind k) {
  return k == kLayer ? "_backward_LayerNorm" : k == kInstance ? "_backward_InstanceNorm" : "_backward_GroupNorm";
}

inline int64_t row_grain(int64_t M) { return std::max<int64_t>(1, 8192 / std::max<int64_t>(M, 1)); }

// One row: mean, biased variance, y = (x - mean) / sqrt(var + eps) * gamma + beta.
template <typename T> struct NormRows {
  Layout L;
  double eps;
  const T *x, *gamma, *beta;
  T *y, *om, *os;
  MX_HD void operator()(int64_t r) const {
    double s = 0;
    for (int64_t j = 0; j < L.M; ++j) s += static_cast<double>(x[L.off(r, j)]);
    const double mean = L.M ? s / static_cast<double>(L.M) : 0.0;
    double sq = 0;
    for (int64_t j = 0; j < L.M; ++j) {
      const double t = static_cast<double>(x[L.off(r, j)]) - mean;
      sq += t * t;
    }
    const double sd = std::sqrt((L.M ? sq / static_cast<double>(L.M) : 0.0) + eps);
    om[r] = static_cast<T>(mean);
    os[r] = static_cast<T>(sd);
    const double inv = 1.0 / sd;
    for (int64_t j = 0; j < L.M; ++j) {
      const int64_t o = L.off(r, j), gi = L.gidx(r, j);
      y[o] = static_cast<T>((static_cast<double>(x[o]) - mean) * inv * static_cast<double>(gamma[gi]) +
                            static_cast<double>(beta[gi]));
    }
  }
};

// The data gradient of one row from (out_grad, data, gamma, mean, std).
template <typename T> struct NormBackwardRows {
  Layout L;
  const T *g, *x, *gamma, *mean, *sd;
  T *dx;
  MX_HD void operator()(int64_t r) const {
    const double mu = static_cast<double>(mean[r]), inv = 1.0 / static_cast<double>(sd[r]);
    double s1 = 0, s2 = 0;
    for (int64_t j = 0; j < L.M; ++j) {
      const int64_t o = L.off(r, j);
      const double dxh = static_cast<double>(g[o]) * static_cast<double>(gamma[L.gidx(r, j)]);
      s1 += dxh;
      s2 += dxh * (static_cast<double>(x[o]) - mu) * inv;
    }
    const double m = L.M ? static_cast<double>(L.M) : 1.0;
    for (int64_t j = 0; j < L.M; ++j) {
      const int64_t o = L.off(r, j);
      const double dxh = static_cast<double>(g[o]) * static_cast<double>(gamma[L.gidx(r, j)]);
      const double xh = (static_cast<double>(x[o]) - mu) * inv;
      dx[o] = static_cast<T>((dxh - s1 / m - xh * s2 / m) * inv);
    }
  }
};

// gamma and beta gradients of gamma element gi: sums of g * xhat and g over its elements, rows
// in increasing order (LayerNorm: element gi of every row; the others: rows gi, gi + gmod, ...).
template <typename T> struct NormGammaGrad {
  Layout L;
  const T *g, *x, *mean, *sd;
  T *dg, *db;
  MX_HD void operator()(int64_t gi) const {
    double sg = 0, sb = 0;
    if (L.layer) {
      for (int64_t r = 0; r < L.rows; ++r) {
        const int64_t o = L.off(r, gi);
        const double mu = static_cast<double>(mean[r]), inv = 1.0 / static_cast<double>(sd[r]);
        const double gv = static_cast<double>(g[o]);
        sg += gv * (static_cast<double>(x[o]) - mu) * inv;
        sb += gv;
      }
    } else {
      for (int64_t r = gi; r < L.rows; r += L.gmod) {
        const double mu = static_cast<double>(mean[r]), inv = 1.0 / static_cast<double>(sd[r]);
        for (int64_t j = 0; j < L.M; ++j) {
          const int64_t o = L.off(r, j);
          const double gv = static_cast<double>(g[o]);
          sg += gv * (static_cast<double>(x[o]) - mu) * inv;
          sb += gv;
        }
      }
    }
    dg[gi] = static_cast<T>(sg);
    db[gi] = static_cast<T>(sb);
  }
};

// LayerNorm's gamma/beta gradients for a block of 64 gamma elements, rows outer: the same sums in
// the same order as NormGammaGrad, reading rows contiguously (the CPU's choice; on the GPU one
// thread per element reads them coalesced instead).
template <typename T> struct LayerGammaGradBlock {
  Layout L;
  const T *g, *x, *mean, *sd;
  T *dg, *db;
  static constexpr int64_t kBlock = 64;
  MX_HD void operator()(int64_t blk) const {
    const int64_t b0 = blk * kBlock, b1 = b0 + kBlock < L.M ? b0 + kBlock : L.M;
    double sg[kBlock] = {0}, sb[kBlock] = {0};
    for (int64_t r = 0; r < L.rows; ++r) {
      const double mu = static_cast<double>(mean[r]), inv = 1.0 / static_cast<double>(sd[r]);
      for (int64_t gi = b0; gi < b1; ++gi) {
        const int64_t o = L.off(r, gi);
        const double gv = static_cast<double>(g[o]);
        sg[gi - b0] += gv * (static_cast<double>(x[o]) - mu) * inv;
        sb[gi - b0] += gv;
      }
    }
    for (int64_t gi = b0; gi < b1; ++gi) {
      dg[gi] = static_cast<T>(sg[gi - b0]);
      db[gi] = static_cast<T>(sb[gi - b0]);
    }
  }
};

// inputs data, gamma, beta; outputs output, mean, std
template <class Each> void norm_forward(Kind k, const OpCall &c, const Each &each) {
  const char *op = name_of(k);
  const Info f = info_of(k, c.params, c.inputs[0].shape(), op);
  const double eps = eps_of(k, c.params);
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, op, {
    each(f.L.rows,
         NormRows<T>{f.L, eps, c.inputs[0].data<T>(), c.inputs[1].data<T>(), c.inputs[2].data<T>(),
                     c.outputs[0].data<T>(), c.outputs[1].data<T>(), c.outputs[2].data<T>()},
         row_grain(f.L.M));
  });
}

// inputs out_grad, data, gamma, mean, std; outputs data, gamma, beta gradients
template <class Each> void norm_backward(Kind k, const OpCall &c, const Each &each) {
  const char *op = backward_name_of(k);
  const Info f = info_of(k, c.params, c.inputs[1].shape(), op);
  const int64_t GN = f.gamma[0];
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, op, {
    const T *g = c.inputs[0].data<T>(), *x = c.inputs[1].data<T>(), *gamma = c.inputs[2].data<T>();
    const T *mean = c.inputs[3].data<T>(), *sd = c.inputs[4].data<T>();
    each(f.L.rows, NormBackwardRows<T>{f.L, g, x, gamma, mean, sd, c.outputs[0].data<T>()}, row_grain(f.L.M));
    T *dg = c.outputs[1].data<T>(), *db = c.outputs[2].data<T>();
    if (f.L.layer && !each.on_gpu()) {
      const int64_t B = LayerGammaGradBlock<T>::kBlock;
      each((GN + B - 1) / B, LayerGammaGradBlock<T>{f.L, g, x, mean, sd, dg, db}, row_grain(f.L.rows * B));
    } else {
      const int64_t per = GN ? f.L.rows * f.L.M / GN : 1;
      each(GN, NormGammaGrad<T>{f.L, g, x, mean, sd, dg, db}, row_grain(per));
    }
  });
}

// ---- L2Normalization: y = x / sqrt(sum(x^2) + eps) per instance, channel vector or spatial map.
struct L2NormParam {
  double eps = 1e-10;
  std::string mode;
  static void describe(ParamDecl<L2NormParam> &d) {
    d.field("eps", &L2NormParam::eps).def(1e-10).doc("A small constant for numerical stability.");
    d.field("mode", &L2NormParam::mode).def("instance").choices({"instance", "channel", "spatial"})
        .doc("Specify the dimension along which to compute L2 norm.");
    d.check([](const L2NormParam &p, const std::string &op) {
      MX_CHECK(p.eps >= 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'eps' must be non-negative, got ", p.eps);
    });
  }
};

// rows of M elements at (r / post) * M * post + j * post + r % post
struct Rows {
  int64_t rows, M, post;
  MX_HD int64_t off(int64_t r, int64_t j) const { return (r / post) * M * post + j * post + r % post; }
};

inline Rows l2_rows_of(const L2NormParam &p, const Shape &s, const char *op, Shape *norm_shape) {
  const bool inst = p.mode == "instance";
  MX_CHECK(s.ndim() >= (inst ? 2 : p.mode == "channel" ? 2 : 3), MX_ERR_SHAPE, op, ": data shape ", s.str(),
           " has too few dimensions for mode '", p.mode, "'");
  const int64_t N = s[0];
  if (inst) {
    if (norm_shape) *norm_shape = Shape{N};
    return {N, s.prod(1, s.ndim()), 1};
  }
  const int64_t C = s[1], S = s.prod(2, s.ndim());
  if (p.mode == "channel") {
    if (norm_shape) {
      std::vector<int64_t> v{N};
      for (int i = 2; i < s.ndim(); ++i) v.push_back(s[i]);
      *norm_shape = Shape(v);
    }
    return {N * S, C, S};
  }
  if (norm_shape) *norm_shape = Shape{N, C};
  return {N * C, S, 1};
}

template <typename T> struct L2Rows {
  Rows R;
  double eps;
  const T *x;
  T *y, *nrm;
  MX_HD void operator()(int64_t r) const {
    double s = 0;
    for (int64_t j = 0; j < R.M; ++j) {
      const double v = static_cast<double>(x[R.off(r, j)]);
      s += v * v;
    }
    const double n = std::sqrt(s + eps);
    nrm[r] = static_cast<T>(n);
    for (int64_t j = 0; j < R.M; ++j) y[R.off(r, j)] = static_cast<T>(static_cast<double>(x[R.off(r, j)]) / n);
  }
};

// dx = (g - y * sum(g * y)) / norm, from (out_grad, output, norm)
template <typename T> struct L2BackwardRows {
  Rows R;
  const T *g, *y, *nrm;
  T *dx;
  MX_HD void operator()(int64_t r) const {
    double s = 0;
    for (int64_t j = 0; j < R.M; ++j) s += static_cast<double>(g[R.off(r, j)]) * static_cast<double>(y[R.off(r, j)]);
    const double inv = 1.0 / static_cast<double>(nrm[r]);
    for (int64_t j = 0; j < R.M; ++j) {
      const int64_t o = R.off(r, j);
      dx[o] = static_cast<T>((static_cast<double>(g[o]) - static_cast<double>(y[o]) * s) * inv);
    }
  }
};

template <class Each> void l2_forward(const OpCall &c, const Each &each) {
  const auto &p = c.p<L2NormParam>();
  const Rows R = l2_rows_of(p, c.inputs[0].shape(), "L2Normalization", nullptr);
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "L2Normalization", {
    each(R.rows, L2Rows<T>{R, p.eps, c.inputs[0].data<T>(), c.outputs[0].data<T>(), c.outputs[1].data<T>()},
         row_grain(R.M));
  });
}

template <class Each> void l2_backward(const OpCall &c, const Each &each) {
  const auto &p = c.p<L2NormParam>();
  const Rows R = l2_rows_of(p, c.inputs[1].shape(), "_backward_L2Normalization", nullptr);
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_L2Normalization", {
    each(R.rows,
         L2BackwardRows<T>{R, c.inputs[0].data<T>(), c.inputs[1].data<T>(), c.inputs[2].data<T>(),
                           c.outputs[0].data<T>()},
         row_grain(R.M));
  });
}

}  // namespace normk
}  // namespace mx
