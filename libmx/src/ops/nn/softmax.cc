// softmax, log_softmax and softmin along one axis (temperature, optional length masking), with
// fused backward ops _backward_softmax, _backward_log_softmax, _backward_softmin.
#include <cmath>
#include <limits>
#include <optional>

#include "ops/nn/nn_common.h"

namespace mx {
namespace {

struct SoftmaxParam {
  int64_t axis = -1;
  std::optional<double> temperature;
  std::string dtype;
  std::optional<bool> use_length;
  static void describe(ParamDecl<SoftmaxParam> &d) {
    d.field("axis", &SoftmaxParam::axis).def(-1).doc("The axis along which to compute softmax.");
    d.field("temperature", &SoftmaxParam::temperature).def(std::nullopt).doc("Temperature parameter in softmax (default 1).");
    d.field("dtype", &SoftmaxParam::dtype).def("None").choices({"None", "float16", "float32", "float64"})
        .doc("DType of the output in case this can't be inferred. Defaults to the same as input's dtype if not defined (dtype=None).");
    d.field("use_length", &SoftmaxParam::use_length).def(false).doc("Whether to use the length input as a mask over the data input.");
    d.check([](const SoftmaxParam &p, const std::string &op) {
      MX_CHECK(!p.temperature || *p.temperature != 0.0, MX_ERR_INVALID_ARGUMENT, op,
               ": parameter 'temperature' must be non-zero");
    });
  }
};

enum Kind { kSoftmax, kLogSoftmax, kSoftmin };

bool uses_length(const SoftmaxParam &p) { return p.use_length.value_or(false); }

struct Dims { int64_t outer, len, inner; int axis; };
Dims dims_of(const SoftmaxParam &p, const Shape &s, const char *op) {
  MX_CHECK(s.ndim() >= 1, MX_ERR_SHAPE, op, ": data must have at least one dimension");
  Dims d;
  d.axis = normalize_axis(p.axis, s.ndim(), "axis");
  d.outer = s.prod(0, d.axis);
  d.len = s[d.axis];
  d.inner = s.prod(d.axis + 1, s.ndim());
  return d;
}

Shape length_shape(const Shape &data, int axis) {
  std::vector<int64_t> v;
  for (int i = 0; i < data.ndim(); ++i)
    if (i != axis) v.push_back(data[i]);
  return Shape(v);
}

// Valid length of row (o, i) from the length array (any numeric dtype).
int64_t row_length(const NDArray *len, int64_t idx, int64_t full) {
  if (!len) return full;
  double v = 0;
  switch (len->dtype()) {
    case DType::f32: v = len->data<float>()[idx]; break;
    case DType::f64: v = len->data<double>()[idx]; break;
    case DType::i32: v = len->data<int32_t>()[idx]; break;
    case DType::i64: v = static_cast<double>(len->data<int64_t>()[idx]); break;
    case DType::u8: v = len->data<uint8_t>()[idx]; break;
    case DType::i8: v = len->data<int8_t>()[idx]; break;
    default: fail(MX_ERR_TYPE, "softmax: unsupported dtype for 'length'");
  }
  int64_t l = static_cast<int64_t>(v);
  return std::max<int64_t>(0, std::min(l, full));
}

template <typename T, typename O> void softmax_forward(Kind kind, const SoftmaxParam &p, const NDArray &data,
                                                        const NDArray *len, const NDArray &out) {
  Dims d = dims_of(p, data.shape(), "softmax");
  const T *x = data.data<T>();
  O *y = out.data<O>();
  const double invt = 1.0 / p.temperature.value_or(1.0);
  const double sign = kind == kSoftmin ? -1.0 : 1.0;
  const int64_t rows = d.outer * d.inner;
  parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(d.len, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t o = r / d.inner, i = r % d.inner;
      const T *xr = x + o * d.len * d.inner + i;
      O *yr = y + o * d.len * d.inner + i;
      const int64_t st = d.inner;
      const int64_t L = row_length(len, r, d.len);
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t l = 0; l < L; ++l) mx = std::max(mx, sign * invt * static_cast<double>(xr[l * st]));
      double sum = 0;
      for (int64_t l = 0; l < L; ++l) sum += std::exp(sign * invt * static_cast<double>(xr[l * st]) - mx);
      if (kind == kLogSoftmax) {
        double lse = mx + std::log(sum);
        for (int64_t l = 0; l < L; ++l) yr[l * st] = static_cast<O>(invt * static_cast<double>(xr[l * st]) - lse);
      } else {
        for (int64_t l = 0; l < L; ++l)
          yr[l * st] = static_cast<O>(std::exp(sign * invt * static_cast<double>(xr[l * st]) - mx) / sum);
      }
      for (int64_t l = L; l < d.len; ++l) yr[l * st] = O(0);
    }
  });
}

// inputs: out_grad, output, [length]
template <typename T> void softmax_backward(Kind kind, const SoftmaxParam &p, const NDArray &g, const NDArray &y,
                                            const NDArray *len, const NDArray &dx) {
  Dims d = dims_of(p, y.shape(), "softmax");
  const T *gp = g.data<T>(), *yp = y.data<T>();
  T *dp = dx.data<T>();
  const double invt = 1.0 / p.temperature.value_or(1.0);
  const int64_t rows = d.outer * d.inner;
  parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(d.len, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t o = r / d.inner, i = r % d.inner, base = o * d.len * d.inner + i, st = d.inner;
      const int64_t L = row_length(len, r, d.len);
      double s = 0;
      if (kind == kLogSoftmax) {
        for (int64_t l = 0; l < L; ++l) s += static_cast<double>(gp[base + l * st]);
        for (int64_t l = 0; l < L; ++l) {
          int64_t j = base + l * st;
          dp[j] = static_cast<T>(invt * (static_cast<double>(gp[j]) - std::exp(static_cast<double>(yp[j])) * s));
        }
      } else {
        for (int64_t l = 0; l < L; ++l) s += static_cast<double>(gp[base + l * st]) * static_cast<double>(yp[base + l * st]);
        const double k = kind == kSoftmin ? -invt : invt;
        for (int64_t l = 0; l < L; ++l) {
          int64_t j = base + l * st;
          dp[j] = static_cast<T>(k * static_cast<double>(yp[j]) * (static_cast<double>(gp[j]) - s));
        }
      }
      for (int64_t l = L; l < d.len; ++l) dp[base + l * st] = T(0);
    }
  });
}

const std::vector<DType> kTypes = {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::i8};

void register_kind(Kind kind, const char *name, const char *bwname, const char *doc) {
  OpBuilder::create(name)
      .doc(doc)
      .params<SoftmaxParam>()
      .inputs({"data", "length"})
      .inputs_fn([](const Params &prm) -> std::vector<std::string> {
        if (uses_length(prm.get<SoftmaxParam>())) return {"data", "length"};
        return {"data"};
      })
      .dtypes(kTypes)
      .shape([name](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = prm.get<SoftmaxParam>();
        Dims d = dims_of(p, in[0], name);
        if (uses_length(p)) assign_shape(in[1], length_shape(in[0], d.axis), name, "length");
        assign_shape(out[0], in[0], name, "output");
        return true;
      })
      .type([name](const Params &prm, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[0] < 0) return false;
        const auto &p = prm.get<SoftmaxParam>();
        int t = p.dtype == "None" ? in[0] : static_cast<int>(dtype_from_name(p.dtype));
        if (out[0] >= 0 && out[0] != t)
          fail(MX_ERR_TYPE, name, ": output dtype ", dtype_name(static_cast<DType>(out[0])), " does not match ",
               dtype_name(static_cast<DType>(t)));
        out[0] = t;
        if (uses_length(p) && in[1] < 0) in[1] = static_cast<int>(DType::i32);
        return true;
      })
      .cpu([kind, name](const OpCall &c) {
        const auto &p = c.p<SoftmaxParam>();
        const NDArray *len = uses_length(p) ? &c.inputs[1] : nullptr;
        const NDArray &data = c.inputs[0], &out = c.outputs[0];
        MX_DTYPE_SWITCH_FLOAT(data.dtype(), T, name, {
          if (out.dtype() == data.dtype()) {
            softmax_forward<T, T>(kind, p, data, len, out);
          } else if (out.dtype() == DType::f32) {
            softmax_forward<T, float>(kind, p, data, len, out);
          } else if (out.dtype() == DType::f64) {
            softmax_forward<T, double>(kind, p, data, len, out);
          } else {
            NDArray tmp(out.shape(), DType::f32, out.device());
            softmax_forward<T, float>(kind, p, data, len, tmp);
            out.assign(tmp);
          }
        });
      })
      .grad([bwname](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        std::vector<Var> in{n.out_grads[0], n.outputs[0]};
        bool ul = uses_length(n.p<SoftmaxParam>());
        if (ul) in.push_back(n.inputs[1]);
        Var g = b.emit(&Registry::get().require(bwname), n.params, in)[0];
        if (ul) return {g, Var::none()};
        return {g};
      });
  OpBuilder::create(bwname)
      .doc("Gradient of a softmax-family op: inputs (out_grad, output[, length]).")
      .params<SoftmaxParam>()
      .inputs({"out_grad", "output", "length"})
      .inputs_fn([](const Params &prm) -> std::vector<std::string> {
        if (uses_length(prm.get<SoftmaxParam>())) return {"out_grad", "output", "length"};
        return {"out_grad", "output"};
      })
      .outputs({"data_grad"})
      .dtypes(kTypes)
      .shape([bwname](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(in[0], in[1], bwname, "out_grad");
        assign_shape(out[0], in[1], bwname, "data_grad");
        return true;
      })
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[0] < 0) return false;
        out[0] = in[0];
        return true;
      })
      .cpu([kind, bwname](const OpCall &c) {
        const auto &p = c.p<SoftmaxParam>();
        const NDArray *len = uses_length(p) ? &c.inputs[2] : nullptr;
        NDArray y = c.inputs[1].dtype() == c.inputs[0].dtype() ? c.inputs[1] : c.inputs[1].astype(c.inputs[0].dtype());
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, bwname,
                              { softmax_backward<T>(kind, p, c.inputs[0], y, len, c.outputs[0]); });
      })
      .no_grad();
}

const int registered = [] {
  register_kind(kSoftmax, "softmax", "_backward_softmax",
                "Applies the softmax function along an axis: exp(x/t) / sum(exp(x/t)). With use_length, only the "
                "first length[i] elements of each row take part; the rest are 0.");
  register_kind(kLogSoftmax, "log_softmax", "_backward_log_softmax",
                "Computes the log of the softmax along an axis: x/t - log(sum(exp(x/t))).");
  register_kind(kSoftmin, "softmin", "_backward_softmin",
                "Applies the softmin function along an axis: softmax(-x/t).");
  return 0;
}();

}  // namespace
}  // namespace mx
