// softmax_cross_entropy (sum over the batch of -log softmax(data)[label], shape (1,)) and
// SoftmaxActivation (softmax over all but the first axis, 'instance', or over axis 1, 'channel'),
// with fused backward ops.
#include <cmath>

#include "ops/nn/nn_common.h"

namespace mx {
namespace {

double label_at(const NDArray &l, int64_t i) {
  switch (l.dtype()) {
    case DType::f32: return l.data<float>()[i];
    case DType::f64: return l.data<double>()[i];
    case DType::i32: return l.data<int32_t>()[i];
    case DType::i64: return static_cast<double>(l.data<int64_t>()[i]);
    case DType::u8: return l.data<uint8_t>()[i];
    case DType::i8: return l.data<int8_t>()[i];
    default: fail(MX_ERR_TYPE, "softmax_cross_entropy: unsupported dtype for 'label'");
  }
}

int64_t checked_label(const NDArray &l, int64_t i, int64_t K, const char *op) {
  double v = label_at(l, i);
  int64_t k = static_cast<int64_t>(v);
  MX_CHECK(k >= 0 && k < K, MX_ERR_INVALID_ARGUMENT, op, ": 'label' value ", v, " at position ", i,
           " is out of range [0, ", K, ")");
  return k;
}

template <typename T> void row_softmax(const T *x, int64_t len, int64_t stride, double *out) {
  double m = -INFINITY;
  for (int64_t j = 0; j < len; ++j) m = std::max(m, static_cast<double>(x[j * stride]));
  double s = 0;
  for (int64_t j = 0; j < len; ++j) s += (out[j] = std::exp(static_cast<double>(x[j * stride]) - m));
  for (int64_t j = 0; j < len; ++j) out[j] /= s;
}

bool ce_shape(const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  const char *op = "softmax_cross_entropy";
  if (!in[0].known()) return false;
  MX_CHECK(in[0].ndim() == 2, MX_ERR_SHAPE, op, ": data must be 2-D (batch, classes), got shape ", in[0].str());
  assign_shape(in[1], Shape{in[0][0]}, op, "label");
  assign_shape(out[0], Shape{1}, op, "output");
  return true;
}

bool ce_type(const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
  MX_CHECK(in[0] >= 0, MX_ERR_TYPE, "softmax_cross_entropy: data dtype unknown");
        MX_CHECK(in[0] == static_cast<int>(DType::f32) || in[0] == static_cast<int>(DType::f64), MX_ERR_TYPE, "softmax_cross_entropy: data must be float32 or float64, got dtype ", dtype_name(static_cast<DType>(in[0])));
  out[0] = in[0];
  if (in[1] < 0) in[1] = in[0];
  return true;
}

template <typename T> void ce_forward(const OpCall &c) {
  const NDArray &d = c.inputs[0];
  const int64_t N = d.shape()[0], K = d.shape()[1];
  const T *x = d.data<T>();
  std::vector<double> p(static_cast<size_t>(K));
  double loss = 0;
  for (int64_t i = 0; i < N; ++i) {
    const int64_t k = checked_label(c.inputs[1], i, K, "softmax_cross_entropy");
    row_softmax(x + i * K, K, 1, p.data());
    loss -= std::log(std::max(p[static_cast<size_t>(k)], 1e-300));
  }
  c.outputs[0].data<T>()[0] = static_cast<T>(loss);
}

// inputs: out_grad (1,), data, label
template <typename T> void ce_backward(const OpCall &c) {
  const NDArray &d = c.inputs[1];
  const int64_t N = d.shape()[0], K = d.shape()[1];
  const T *x = d.data<T>();
  const double g = static_cast<double>(c.inputs[0].data<T>()[0]);
  T *dx = c.outputs[0].data<T>();
  std::vector<double> p(static_cast<size_t>(K));
  for (int64_t i = 0; i < N; ++i) {
    const int64_t k = checked_label(c.inputs[2], i, K, "_backward_softmax_cross_entropy");
    row_softmax(x + i * K, K, 1, p.data());
    for (int64_t j = 0; j < K; ++j) dx[i * K + j] = static_cast<T>(g * (p[static_cast<size_t>(j)] - (j == k ? 1.0 : 0.0)));
  }
}

struct SoftmaxActParam {
  std::string mode;
  static void describe(ParamDecl<SoftmaxActParam> &d) {
    d.field("mode", &SoftmaxActParam::mode).def("instance").choices({"channel", "instance"})
        .doc("instance: softmax over all but the first axis; channel: softmax over axis 1 per position.");
  }
};

struct Rows { int64_t rows, len, inner; };
Rows sa_rows(const SoftmaxActParam &p, const Shape &s, const char *op) {
  MX_CHECK(s.ndim() >= 1, MX_ERR_SHAPE, op, ": data must have at least one dimension");
  if (p.mode == "channel") {
    MX_CHECK(s.ndim() >= 2, MX_ERR_SHAPE, op, ": mode 'channel' needs at least 2 dimensions, got shape ", s.str());
    const int64_t S = s.prod(2, s.ndim());
    return {s[0] * S, s[1], S};
  }
  return {s[0], s.prod(1, s.ndim()), 1};
}

template <typename T> void sa_forward(const OpCall &c) {
  Rows R = sa_rows(c.p<SoftmaxActParam>(), c.inputs[0].shape(), "SoftmaxActivation");
  const T *x = c.inputs[0].data<T>();
  T *y = c.outputs[0].data<T>();
  parallel_for(R.rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(R.len, 1)), [&](int64_t b, int64_t e) {
    std::vector<double> p(static_cast<size_t>(R.len));
    for (int64_t r = b; r < e; ++r) {
      const int64_t base = (r / R.inner) * R.len * R.inner + r % R.inner;
      row_softmax(x + base, R.len, R.inner, p.data());
      for (int64_t j = 0; j < R.len; ++j) y[base + j * R.inner] = static_cast<T>(p[static_cast<size_t>(j)]);
    }
  });
}

// inputs: out_grad, output
template <typename T> void sa_backward(const OpCall &c) {
  Rows R = sa_rows(c.p<SoftmaxActParam>(), c.inputs[1].shape(), "_backward_SoftmaxActivation");
  const T *g = c.inputs[0].data<T>(), *y = c.inputs[1].data<T>();
  T *dx = c.outputs[0].data<T>();
  parallel_for(R.rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(R.len, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t base = (r / R.inner) * R.len * R.inner + r % R.inner;
      double s = 0;
      for (int64_t j = 0; j < R.len; ++j)
        s += static_cast<double>(g[base + j * R.inner]) * static_cast<double>(y[base + j * R.inner]);
      for (int64_t j = 0; j < R.len; ++j) {
        const int64_t o = base + j * R.inner;
        dx[o] = static_cast<T>(static_cast<double>(y[o]) * (static_cast<double>(g[o]) - s));
      }
    }
  });
}

const int registered = [] {
  MX_REGISTER_OP(softmax_cross_entropy)
      .doc("Softmax cross-entropy: sum over the batch of -log(softmax(data)[label]); data (batch, classes), "
           "label (batch,); output shape (1,).")
      .params<EmptyParam>()
      .inputs({"data", "label"})
      .dtypes({DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::i8})  // labels may be integers
      .shape(ce_shape)
      .type(ce_type)
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "softmax_cross_entropy", { ce_forward<T>(c); });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_softmax_cross_entropy"), n.params,
                       {n.out_grads[0], n.inputs[0], n.inputs[1]})[0],
                Var::none()};
      });
  MX_REGISTER_OP(_backward_softmax_cross_entropy)
      .doc("Gradient of softmax_cross_entropy: inputs (out_grad, data, label).")
      .params<EmptyParam>()
      .inputs({"out_grad", "data", "label"})
      .outputs({"data_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_softmax_cross_entropy", "data_grad");
        return true;
      })
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        out[0] = in[1];
        return in[1] >= 0;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[1].dtype(), T, "_backward_softmax_cross_entropy", { ce_backward<T>(c); });
      })
      .no_grad();
  MX_REGISTER_OP(SoftmaxActivation)
      .doc("Softmax activation: over all but the first axis (mode 'instance') or over axis 1 (mode 'channel').")
      .params<SoftmaxActParam>()
      .inputs({"data"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        sa_rows(prm.get<SoftmaxActParam>(), in[0], "SoftmaxActivation");
        assign_shape(out[0], in[0], "SoftmaxActivation", "output");
        return true;
      })
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "SoftmaxActivation", { sa_forward<T>(c); }); })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_SoftmaxActivation"), n.params,
                       {n.out_grads[0], n.outputs[0]})[0]};
      });
  MX_REGISTER_OP(_backward_SoftmaxActivation)
      .doc("Gradient of SoftmaxActivation: inputs (out_grad, output).")
      .params<SoftmaxActParam>()
      .inputs({"out_grad", "output"})
      .outputs({"data_grad"})
      .shape(infer_shape_same)
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_SoftmaxActivation", { sa_backward<T>(c); });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
