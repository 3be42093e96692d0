// Loss layers: SoftmaxOutput and Linear/Logistic/MAE RegressionOutput. Their gradients ignore the
// head gradient (MXNet semantics): grad = (prediction - target) * scale.
#include <cmath>
#include <limits>

#include "ops/nn/nn_common.h"

namespace mx {
namespace {

struct SoftmaxOutputParam {
  double grad_scale = 1, ignore_label = -1, smooth_alpha = 0;
  bool multi_output = false, use_ignore = false, preserve_shape = false, out_grad = false;
  std::string normalization;
  static void describe(ParamDecl<SoftmaxOutputParam> &d) {
    d.field("grad_scale", &SoftmaxOutputParam::grad_scale).def(1.0).doc("Scales the gradient by a float factor.");
    d.field("ignore_label", &SoftmaxOutputParam::ignore_label).def(-1.0)
        .doc("The instances whose labels == ignore_label will be ignored during backward, if use_ignore is set to true).");
    d.field("multi_output", &SoftmaxOutputParam::multi_output).def(false)
        .doc("If set to true, the softmax function will be computed along axis 1 (data of shape (n, k, ...), label (n, ...)).");
    d.field("use_ignore", &SoftmaxOutputParam::use_ignore).def(false)
        .doc("If set to true, the ignore_label value will not contribute to the backward gradient.");
    d.field("preserve_shape", &SoftmaxOutputParam::preserve_shape).def(false)
        .doc("If set to true, the softmax function will be computed along the last axis (-1).");
    d.field("normalization", &SoftmaxOutputParam::normalization).def("null").choices({"batch", "null", "valid"})
        .doc("Normalizes the gradient: null (none), batch (divide by batch size) or valid (by the number of non-ignored labels).");
    d.field("out_grad", &SoftmaxOutputParam::out_grad).def(false).doc("Multiplies gradient with output gradient element-wise.");
    d.field("smooth_alpha", &SoftmaxOutputParam::smooth_alpha).def(0.0)
        .doc("Label smoothing: subtracted from the one-hot target and spread uniformly over the other classes.");
  }
};

// (outer, classes, inner) view; labels indexed by outer*inner + i.
struct SODims { int64_t outer, k, inner; bool dense_label; };

SODims so_dims(const SoftmaxOutputParam &p, const Shape &d, const Shape *label) {
  const char *op = "SoftmaxOutput";
  MX_CHECK(d.ndim() >= 1, MX_ERR_SHAPE, op, ": data must have at least one dimension");
  SODims r{1, 1, 1, false};
  if (p.multi_output) {
    MX_CHECK(d.ndim() >= 2, MX_ERR_SHAPE, op, ": data must have at least 2 dimensions with multi_output, got ", d.str());
    r.outer = d[0];
    r.k = d[1];
    r.inner = d.prod(2, d.ndim());
  } else if (p.preserve_shape) {
    r.outer = d.prod(0, d.ndim() - 1);
    r.k = d[d.ndim() - 1];
  } else {
    r.outer = d[0];
    r.k = d.prod(1, d.ndim());
    r.dense_label = label && label->known() && *label == d && d.ndim() >= 2;
  }
  return r;
}

Shape so_label_shape(const SoftmaxOutputParam &p, const Shape &d) {
  std::vector<int64_t> v;
  if (p.multi_output) {
    v.push_back(d[0]);
    for (int i = 2; i < d.ndim(); ++i) v.push_back(d[i]);
  } else if (p.preserve_shape) {
    for (int i = 0; i + 1 < d.ndim(); ++i) v.push_back(d[i]);
  } else {
    v.push_back(d[0]);
  }
  return Shape(v);
}

bool so_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  if (!in[0].known()) return false;
  const auto &p = prm.get<SoftmaxOutputParam>();
  so_dims(p, in[0], nullptr);
  Shape ls = so_label_shape(p, in[0]);
  if (!(in[1].known() && !p.multi_output && !p.preserve_shape && in[1] == in[0]))
    assign_shape(in[1], ls, "SoftmaxOutput", "label");
  assign_shape(out[0], in[0], "SoftmaxOutput", "output");
  return true;
}

template <typename T> void so_forward(const OpCall &c) {
  const auto &p = c.p<SoftmaxOutputParam>();
  SODims d = so_dims(p, c.inputs[0].shape(), &c.inputs[1].shape());
  const T *x = c.inputs[0].data<T>();
  T *y = c.outputs[0].data<T>();
  parallel_for(d.outer * d.inner, std::max<int64_t>(1, 8192 / std::max<int64_t>(d.k, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t base = (r / d.inner) * d.k * d.inner + r % d.inner, st = d.inner;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t l = 0; l < d.k; ++l) mx = std::max(mx, static_cast<double>(x[base + l * st]));
      double sum = 0;
      for (int64_t l = 0; l < d.k; ++l) sum += std::exp(static_cast<double>(x[base + l * st]) - mx);
      for (int64_t l = 0; l < d.k; ++l) y[base + l * st] = static_cast<T>(std::exp(static_cast<double>(x[base + l * st]) - mx) / sum);
    }
  });
}

// inputs: out_grad, output, label; output: data grad
template <typename T> void so_backward(const OpCall &c) {
  const auto &p = c.p<SoftmaxOutputParam>();
  const NDArray &g = c.inputs[0], &y = c.inputs[1], &label = c.inputs[2];
  SODims d = so_dims(p, y.shape(), &label.shape());
  const T *gp = g.data<T>(), *yp = y.data<T>(), *lp = label.data<T>();
  T *dx = c.outputs[0].data<T>();
  const int64_t n = y.size();
  if (d.dense_label) {
    double scale = p.grad_scale;
    if (p.normalization == "batch") scale /= static_cast<double>(y.shape()[0]);
    for (int64_t i = 0; i < n; ++i) {
      double v = (static_cast<double>(yp[i]) - static_cast<double>(lp[i])) * scale;
      if (p.out_grad) v *= static_cast<double>(gp[i]);
      dx[i] = static_cast<T>(v);
    }
    return;
  }
  const int64_t rows = d.outer * d.inner;
  const int ign = static_cast<int>(p.ignore_label);
  double scale = p.grad_scale;
  if (p.normalization == "batch") {
    scale /= static_cast<double>(p.multi_output ? d.outer : rows);
  } else if (p.normalization == "valid") {
    int64_t valid = 0;
    for (int64_t r = 0; r < rows; ++r) valid += static_cast<int>(lp[r]) != ign ? 1 : 0;
    scale /= static_cast<double>(std::max<int64_t>(valid, 1));
  }
  // multi_output divides by the number of positions per sample unless normalization is 'valid'.
  if (p.multi_output && p.normalization != "valid") scale /= static_cast<double>(std::max<int64_t>(d.inner, 1));
  const double alpha = p.smooth_alpha;
  const double off = d.k > 1 ? alpha / static_cast<double>(d.k - 1) : 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = (r / d.inner) * d.k * d.inner + r % d.inner, st = d.inner;
    const int lab = static_cast<int>(lp[r]);
    const bool ignored = p.use_ignore && lab == ign;
    for (int64_t l = 0; l < d.k; ++l) {
      const int64_t j = base + l * st;
      double v = 0;
      if (!ignored) {
        double target = l == lab ? 1.0 - alpha : off;
        v = (static_cast<double>(yp[j]) - target) * scale;
        if (p.out_grad) v *= static_cast<double>(gp[j]);
      }
      dx[j] = static_cast<T>(v);
    }
  }
}

// ---- regression outputs
struct RegParam {
  double grad_scale = 1;
  static void describe(ParamDecl<RegParam> &d) {
    d.field("grad_scale", &RegParam::grad_scale).def(1.0).doc("Scale the gradient by a float factor.");
  }
};

enum RegKind { kLinear, kLogistic, kMAE };

bool reg_shape(const char *op, ShapeVec &in, ShapeVec &out) {
  if (!in[0].known()) return false;
  const Shape &d = in[0];
  if (in[1].known()) {
    const Shape &l = in[1];
    MX_CHECK(l.size() == d.size() && l.ndim() >= 1 && d.ndim() >= 1 && l[0] == d[0], MX_ERR_SHAPE, op,
             ": label has shape ", l.str(), " but data has shape ", d.str(), " (they must hold the same elements)");
  } else {
    in[1] = d;
  }
  assign_shape(out[0], d, op, "output");
  return true;
}

void register_reg(RegKind kind, const char *name, const char *bwname, const char *doc) {
  OpBuilder::create(name)
      .doc(doc)
      .params<RegParam>()
      .inputs({"data", "label"})
      .shape([name](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return reg_shape(name, in, out); })
      .cpu([kind, name](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, name, {
          const T *x = c.inputs[0].data<T>();
          T *y = c.outputs[0].data<T>();
          const int64_t n = c.outputs[0].size();
          if (kind == kLogistic) for (int64_t i = 0; i < n; ++i) y[i] = T(1) / (T(1) + std::exp(-x[i]));
          else std::memcpy(y, x, sizeof(T) * static_cast<size_t>(n));
        });
      })
      .grad([bwname](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require(bwname), n.params, {n.outputs[0], n.inputs[1]})[0], Var::none()};
      });
  OpBuilder::create(bwname)
      .doc("Gradient of a regression output layer: inputs (output, label).")
      .params<RegParam>()
      .inputs({"output", "label"})
      .outputs({"data_grad"})
      .shape([bwname](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) { return reg_shape(bwname, in, out); })
      .cpu([kind, bwname](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, bwname, {
          const NDArray &lab = c.inputs[1];
          const T *y = c.inputs[0].data<T>(), *l = lab.data<T>();
          T *dx = c.outputs[0].data<T>();
          const int64_t n = c.outputs[0].size();
          const int64_t per = lab.shape()[0] > 0 ? lab.size() / lab.shape()[0] : 1;
          const T scale = static_cast<T>(c.p<RegParam>().grad_scale / static_cast<double>(std::max<int64_t>(per, 1)));
          for (int64_t i = 0; i < n; ++i) {
            T diff = y[i] - l[i];
            if (kind == kMAE) diff = diff > T(0) ? T(1) : diff < T(0) ? T(-1) : T(0);
            dx[i] = scale * diff;
          }
        });
      })
      .no_grad();
}

const int registered = [] {
  MX_REGISTER_OP(SoftmaxOutput)
      .alias("Softmax")
      .doc("Computes the softmax of the input in the forward pass; the backward pass gives the gradient of the "
           "cross-entropy loss with respect to the input, (softmax - onehot(label)) * scale, ignoring the head gradient.")
      .params<SoftmaxOutputParam>()
      .inputs({"data", "label"})
      .shape(so_shape)
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "SoftmaxOutput", { so_forward<T>(c); });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_SoftmaxOutput"), n.params,
                       {n.out_grads[0], n.outputs[0], n.inputs[1]})[0],
                Var::none()};
      });
  MX_REGISTER_OP(_backward_SoftmaxOutput)
      .doc("Gradient of SoftmaxOutput: inputs (out_grad, output, label).")
      .params<SoftmaxOutputParam>()
      .inputs({"out_grad", "output", "label"})
      .outputs({"data_grad"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &aux, ShapeVec &out) {
        if (!in[1].known()) return false;
        ShapeVec fi{in[1], in[2]}, fo{Shape()};
        so_shape(prm, fi, aux, fo);
        assign_shape(in[2], fi[1], "_backward_SoftmaxOutput", "label");
        assign_shape(in[0], in[1], "_backward_SoftmaxOutput", "out_grad");
        assign_shape(out[0], in[1], "_backward_SoftmaxOutput", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_SoftmaxOutput", { so_backward<T>(c); });
      })
      .no_grad();
  register_reg(kLinear, "LinearRegressionOutput", "_backward_LinearRegressionOutput",
               "Identity in the forward pass; least-squares loss gradient (out - label) * grad_scale / num_output backward.");
  register_reg(kLogistic, "LogisticRegressionOutput", "_backward_LogisticRegressionOutput",
               "Sigmoid in the forward pass; logistic loss gradient (out - label) * grad_scale / num_output backward.");
  register_reg(kMAE, "MAERegressionOutput", "_backward_MAERegressionOutput",
               "Identity in the forward pass; mean-absolute-error gradient sign(out - label) * grad_scale / num_output backward.");
  return 0;
}();

}  // namespace
}  // namespace mx
