// LRN: local response normalization across channels (axis 1),
//   y = x * (knorm + alpha/nsize * sum_{|c'-c| <= nsize/2} x[c']^2)^(-beta),
// with the hidden output tmp_norm (the bracket) and fused backward _backward_LRN.
#include <cmath>

#include "ops/nn/nn_common.h"

namespace mx {
namespace {

struct LRNParam {
  double alpha = 1e-4, beta = 0.75, knorm = 2.0;
  int64_t nsize = 0;
  static void describe(ParamDecl<LRNParam> &d) {
    d.field("alpha", &LRNParam::alpha).def(1e-4).doc("The variance scaling parameter alpha.");
    d.field("beta", &LRNParam::beta).def(0.75).doc("The power parameter beta.");
    d.field("knorm", &LRNParam::knorm).def(2.0).doc("The parameter k.");
    d.field("nsize", &LRNParam::nsize).required().doc("Normalization window width in elements (odd).");
    d.check([](const LRNParam &p, const std::string &op) {
      MX_CHECK(p.nsize > 0 && p.nsize % 2 == 1, MX_ERR_INVALID_ARGUMENT, op,
               ": parameter 'nsize' must be a positive odd number, got ", p.nsize);
    });
  }
};

struct Dims { int64_t N, C, S; };
Dims dims_of(const Shape &s, const char *op) {
  MX_CHECK(s.ndim() >= 3, MX_ERR_SHAPE, op, ": data must have at least 3 dimensions (N, C, ...), got shape ", s.str());
  return {s[0], s[1], s.prod(2, s.ndim())};
}

template <typename T> void lrn_forward(const OpCall &c) {
  const auto &p = c.p<LRNParam>();
  Dims d = dims_of(c.inputs[0].shape(), "LRN");
  const T *x = c.inputs[0].data<T>();
  T *y = c.outputs[0].data<T>(), *nm = c.outputs[1].data<T>();
  const int64_t h = p.nsize / 2;
  const double sc = p.alpha / static_cast<double>(p.nsize);
  parallel_for(d.N * d.S, 1024, [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) {
      const int64_t n = q / d.S, sp = q % d.S;
      const int64_t base = n * d.C * d.S + sp;
      for (int64_t ch = 0; ch < d.C; ++ch) {
        double s = 0;
        for (int64_t k = std::max<int64_t>(0, ch - h); k <= std::min(d.C - 1, ch + h); ++k) {
          double v = static_cast<double>(x[base + k * d.S]);
          s += v * v;
        }
        const double t = p.knorm + sc * s;
        nm[base + ch * d.S] = static_cast<T>(t);
        y[base + ch * d.S] = static_cast<T>(static_cast<double>(x[base + ch * d.S]) * std::pow(t, -p.beta));
      }
    }
  });
}

// inputs: out_grad, data, tmp_norm
template <typename T> void lrn_backward(const OpCall &c) {
  const auto &p = c.p<LRNParam>();
  Dims d = dims_of(c.inputs[1].shape(), "_backward_LRN");
  const T *g = c.inputs[0].data<T>(), *x = c.inputs[1].data<T>(), *nm = c.inputs[2].data<T>();
  T *dx = c.outputs[0].data<T>();
  const int64_t h = p.nsize / 2;
  const double sc = p.alpha / static_cast<double>(p.nsize);
  parallel_for(d.N * d.S, 1024, [&](int64_t b, int64_t e) {
    std::vector<double> t(static_cast<size_t>(d.C));
    for (int64_t q = b; q < e; ++q) {
      const int64_t n = q / d.S, sp = q % d.S;
      const int64_t base = n * d.C * d.S + sp;
      // t[j] = g_j x_j n_j^(-beta-1)
      for (int64_t j = 0; j < d.C; ++j) {
        const int64_t o = base + j * d.S;
        t[static_cast<size_t>(j)] = static_cast<double>(g[o]) * static_cast<double>(x[o]) *
                                    std::pow(static_cast<double>(nm[o]), -p.beta - 1.0);
      }
      for (int64_t ch = 0; ch < d.C; ++ch) {
        const int64_t o = base + ch * d.S;
        double s = 0;
        for (int64_t k = std::max<int64_t>(0, ch - h); k <= std::min(d.C - 1, ch + h); ++k) s += t[static_cast<size_t>(k)];
        dx[o] = static_cast<T>(static_cast<double>(g[o]) * std::pow(static_cast<double>(nm[o]), -p.beta) -
                               2.0 * sc * p.beta * static_cast<double>(x[o]) * s);
      }
    }
  });
}

const int registered = [] {
  MX_REGISTER_OP(LRN)
      .doc("Local response normalization across channels: x * (knorm + alpha/nsize * window sum of x^2)^-beta.")
      .params<LRNParam>()
      .inputs({"data"})
      .outputs({"output", "tmp_norm"})
      .num_visible_outputs([](const Params &) { return 1; })
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        dims_of(in[0], "LRN");
        assign_shape(out[0], in[0], "LRN", "output");
        assign_shape(out[1], in[0], "LRN", "tmp_norm");
        return true;
      })
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "LRN", { lrn_forward<T>(c); }); })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_LRN"), n.params,
                       {n.out_grads[0], n.inputs[0], n.outputs[1]})[0]};
      });
  MX_REGISTER_OP(_backward_LRN)
      .doc("Gradient of LRN: inputs (out_grad, data, tmp_norm).")
      .params<LRNParam>()
      .inputs({"out_grad", "data", "tmp_norm"})
      .outputs({"data_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_LRN", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_LRN", { lrn_backward<T>(c); }); })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
