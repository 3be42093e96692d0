// L2Normalization: y = x / sqrt(sum(x^2) + eps) over all axes but the first (instance), over the
// channel axis (channel) or over the spatial axes (spatial). Hidden output: the norms. Fused
// backward _backward_L2Normalization: dx = (dy - y * sum(dy * y)) / norm.
#include <cmath>

#include "ops/nn/nn_common.h"

namespace mx {
namespace {

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
  int64_t off(int64_t r, int64_t j) const { return (r / post) * M * post + j * post + r % post; }
};

Rows rows_of(const L2NormParam &p, const Shape &s, const char *op, Shape *norm_shape) {
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

template <typename T> void l2_forward(const OpCall &c) {
  const auto &p = c.p<L2NormParam>();
  Rows R = rows_of(p, c.inputs[0].shape(), "L2Normalization", nullptr);
  const T *x = c.inputs[0].data<T>();
  T *y = c.outputs[0].data<T>(), *nrm = c.outputs[1].data<T>();
  parallel_for(R.rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(R.M, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      double s = 0;
      for (int64_t j = 0; j < R.M; ++j) {
        double v = static_cast<double>(x[R.off(r, j)]);
        s += v * v;
      }
      const double n = std::sqrt(s + p.eps);
      nrm[r] = static_cast<T>(n);
      for (int64_t j = 0; j < R.M; ++j) y[R.off(r, j)] = static_cast<T>(static_cast<double>(x[R.off(r, j)]) / n);
    }
  });
}

// inputs: out_grad, output, norm
template <typename T> void l2_backward(const OpCall &c) {
  const auto &p = c.p<L2NormParam>();
  Rows R = rows_of(p, c.inputs[1].shape(), "_backward_L2Normalization", nullptr);
  const T *g = c.inputs[0].data<T>(), *y = c.inputs[1].data<T>(), *nrm = c.inputs[2].data<T>();
  T *dx = c.outputs[0].data<T>();
  parallel_for(R.rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(R.M, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      double s = 0;
      for (int64_t j = 0; j < R.M; ++j) s += static_cast<double>(g[R.off(r, j)]) * static_cast<double>(y[R.off(r, j)]);
      const double inv = 1.0 / static_cast<double>(nrm[r]);
      for (int64_t j = 0; j < R.M; ++j) {
        const int64_t o = R.off(r, j);
        dx[o] = static_cast<T>((static_cast<double>(g[o]) - static_cast<double>(y[o]) * s) * inv);
      }
    }
  });
}

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
        rows_of(prm.get<L2NormParam>(), in[0], "L2Normalization", &ns);
        assign_shape(out[0], in[0], "L2Normalization", "output");
        assign_shape(out[1], ns, "L2Normalization", "norm");
        return true;
      })
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "L2Normalization", { l2_forward<T>(c); }); })
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
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_L2Normalization", { l2_backward<T>(c); });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
