// LayerNorm (one axis), InstanceNorm (per sample and channel) and GroupNorm (per sample and group
// of channels), sharing one kernel: the data is split into "rows" (one per statistic) of M
// elements each, normalised with the biased variance, then scaled/shifted by gamma/beta indexed
// per element. Fused backward ops _backward_<Op> take (out_grad, data, gamma, mean, std).
#include <cmath>

#include "ops/nn/nn_common.h"

namespace mx {
namespace {

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

// Row r, element j lives at (r / post) * M * post + j * post + r % post; its gamma index is
// (r % gmod) * M / gdiv + j / gdiv... expressed generally by gidx().
struct Layout {
  int64_t rows = 0, M = 0, post = 1;
  int64_t gmod = 1, gdiv = 1;  // gamma index = ((r % gmod) * M + j) / gdiv (instance/group); layer: j
  bool layer = false;
  int64_t off(int64_t r, int64_t j) const { return (r / post) * M * post + j * post + r % post; }
  int64_t gidx(int64_t r, int64_t j) const { return layer ? j : ((r % gmod) * M + j) / gdiv; }
};

struct Info {
  Layout L;
  Shape gamma, stat;
};

Info info_of(Kind k, const Params &prm, const Shape &s, const char *op) {
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

double eps_of(Kind k, const Params &prm) {
  return k == kLayer ? prm.get<LayerNormParam>().eps
                     : k == kInstance ? prm.get<InstanceNormParam>().eps : prm.get<GroupNormParam>().eps;
}

const char *name_of(Kind k) { return k == kLayer ? "LayerNorm" : k == kInstance ? "InstanceNorm" : "GroupNorm"; }

template <Kind K> bool norm_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  if (!in[0].known()) return false;
  const char *op = name_of(K);
  Info f = info_of(K, prm, in[0], op);
  assign_shape(in[1], f.gamma, op, "gamma");
  assign_shape(in[2], f.gamma, op, "beta");
  assign_shape(out[0], in[0], op, "output");
  assign_shape(out[1], f.stat, op, "mean");
  assign_shape(out[2], f.stat, op, "std");
  return true;
}

template <typename T> void norm_forward(Kind k, const OpCall &c) {
  Info f = info_of(k, c.params, c.inputs[0].shape(), name_of(k));
  const Layout &L = f.L;
  const double eps = eps_of(k, c.params);
  const T *x = c.inputs[0].data<T>(), *gamma = c.inputs[1].data<T>(), *beta = c.inputs[2].data<T>();
  T *y = c.outputs[0].data<T>(), *om = c.outputs[1].data<T>(), *os = c.outputs[2].data<T>();
  parallel_for(L.rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(L.M, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      double s = 0;
      for (int64_t j = 0; j < L.M; ++j) s += static_cast<double>(x[L.off(r, j)]);
      const double mean = L.M ? s / static_cast<double>(L.M) : 0.0;
      double sq = 0;
      for (int64_t j = 0; j < L.M; ++j) {
        double t = static_cast<double>(x[L.off(r, j)]) - mean;
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
  });
}

// inputs: out_grad, data, gamma, mean, std; outputs: data, gamma, beta grads
template <typename T> void norm_backward(Kind k, const OpCall &c) {
  Info f = info_of(k, c.params, c.inputs[1].shape(), name_of(k));
  const Layout &L = f.L;
  const T *g = c.inputs[0].data<T>(), *x = c.inputs[1].data<T>(), *gamma = c.inputs[2].data<T>();
  const T *mean = c.inputs[3].data<T>(), *sd = c.inputs[4].data<T>();
  T *dx = c.outputs[0].data<T>(), *dg = c.outputs[1].data<T>(), *db = c.outputs[2].data<T>();
  const int64_t GN = f.gamma[0];
  parallel_for(L.rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(L.M, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
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
  });
  std::vector<double> sg(static_cast<size_t>(GN), 0.0), sb(static_cast<size_t>(GN), 0.0);
  for (int64_t r = 0; r < L.rows; ++r) {
    const double mu = static_cast<double>(mean[r]), inv = 1.0 / static_cast<double>(sd[r]);
    for (int64_t j = 0; j < L.M; ++j) {
      const int64_t o = L.off(r, j), gi = L.gidx(r, j);
      const double gv = static_cast<double>(g[o]);
      sg[static_cast<size_t>(gi)] += gv * (static_cast<double>(x[o]) - mu) * inv;
      sb[static_cast<size_t>(gi)] += gv;
    }
  }
  for (int64_t i = 0; i < GN; ++i) {
    dg[i] = static_cast<T>(sg[static_cast<size_t>(i)]);
    db[i] = static_cast<T>(sb[static_cast<size_t>(i)]);
  }
}

template <Kind K, typename P> void register_norm(const char *name, const char *bwd, const char *doc,
                                                 std::function<int(const Params &)> visible) {
  OpBuilder::create(name)
      .doc(doc)
      .params<P>()
      .inputs({"data", "gamma", "beta"})
      .outputs({"output", "mean", "std"})
      .num_visible_outputs(visible)
      .shape(norm_shape<K>)
      .cpu([name](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, name, { norm_forward<T>(K, c); }); })
      .grad([bwd](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto gs = b.emit(&Registry::get().require(bwd), n.params,
                         {n.out_grads[0], n.inputs[0], n.inputs[1], n.outputs[1], n.outputs[2]});
        return {gs[0], gs[1], gs[2]};
      });
  OpBuilder::create(bwd)
      .doc("Gradient of a normalization op: inputs (out_grad, data, gamma, mean, std).")
      .params<P>()
      .inputs({"out_grad", "data", "gamma", "mean", "std"})
      .outputs({"data_grad", "gamma_grad", "beta_grad"})
      .shape([bwd](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        Info f = info_of(K, prm, in[1], bwd);
        assign_shape(in[0], in[1], bwd, "out_grad");
        assign_shape(in[2], f.gamma, bwd, "gamma");
        assign_shape(in[3], f.stat, bwd, "mean");
        assign_shape(in[4], f.stat, bwd, "std");
        assign_shape(out[0], in[1], bwd, "data_grad");
        assign_shape(out[1], f.gamma, bwd, "gamma_grad");
        assign_shape(out[2], f.gamma, bwd, "beta_grad");
        return true;
      })
      .cpu([bwd](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, bwd, { norm_backward<T>(K, c); }); })
      .hidden()
      .no_grad();
}

const int registered = [] {
  register_norm<kLayer, LayerNormParam>(
      "LayerNorm", "_backward_LayerNorm",
      "Layer normalization along one axis: (x - mean) / sqrt(var + eps) * gamma + beta, gamma/beta of the "
      "axis' length. Outputs output (and mean, std with output_mean_var).",
      [](const Params &p) { return p.get<LayerNormParam>().output_mean_var ? 3 : 1; });
  register_norm<kInstance, InstanceNormParam>(
      "InstanceNorm", "_backward_InstanceNorm",
      "Instance normalization: normalizes each (sample, channel) over the spatial axes, then scales by "
      "gamma and shifts by beta (per channel).",
      [](const Params &) { return 1; });
  register_norm<kGroup, GroupNormParam>(
      "GroupNorm", "_backward_GroupNorm",
      "Group normalization: splits the channels into num_groups groups, normalizes each sample over each "
      "group (with the spatial axes), then scales by gamma and shifts by beta (per group: shape "
      "(num_groups,), as MXNet 1.x).",
      [](const Params &p) { return p.get<GroupNormParam>().output_mean_var ? 3 : 1; });
  return 0;
}();

}  // namespace
}  // namespace mx
