// The softmax family written once for both devices (ops/each.h): softmax / log_softmax / softmin
// (+ backward), SoftmaxActivation (+ backward), SoftmaxOutput (+ backward) and
// softmax_cross_entropy (+ backward). One functor call handles one row (a line along the softmax
// axis, strided by `inner`), computing in double as the CPU kernels always did. The CPU op files
// run the drivers with HostEach, backends/cuda/softmax.cu with DeviceEach.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "base/half_hd.h"
#include "base/hd.h"
#include "ops/registry.h"

namespace mx {
namespace smk {

enum Kind { kSoftmax, kLogSoftmax, kSoftmin };

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

inline bool uses_length(const SoftmaxParam &p) { return p.use_length.value_or(false); }

// (outer, len, inner) view of the data around the softmax axis.
struct Dims {
  int64_t outer, len, inner;
  int axis;
};
inline Dims dims_of(const SoftmaxParam &p, const Shape &s, const char *op) {
  MX_CHECK(s.ndim() >= 1, MX_ERR_SHAPE, op, ": data must have at least one dimension");
  Dims d;
  d.axis = normalize_axis(p.axis, s.ndim(), "axis");
  d.outer = s.prod(0, d.axis);
  d.len = s[d.axis];
  d.inner = s.prod(d.axis + 1, s.ndim());
  return d;
}

inline int64_t row_grain(int64_t len) { return std::max<int64_t>(1, 8192 / std::max<int64_t>(len, 1)); }

// Valid length of row r from the length array (any numeric dtype L; nullptr: the full row).
template <typename L> MX_HD inline int64_t row_length(const L *len, int64_t r, int64_t full) {
  if (!len) return full;
  const int64_t l = static_cast<int64_t>(static_cast<double>(len[r]));
  return l < 0 ? 0 : (l > full ? full : l);
}

// max over l < n of scale * x[l * st] (-inf when n == 0). Four running maxima: one chain was
// latency-bound on the CPU (GCC kept it in integer cmovs, or in memory across the exp calls that
// follow), which made softmax and log_softmax 1.2-1.4x slower than a plain loop.
template <typename T> MX_HD inline double scaled_max(const T *x, int64_t n, int64_t st, double scale) {
  double m[4] = {-std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                 -std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  int64_t l = 0;
  for (; l + 4 <= n; l += 4)
    for (int k = 0; k < 4; ++k) {
      const double v = scale * static_cast<double>(x[(l + k) * st]);
      m[k] = m[k] < v ? v : m[k];
    }
  for (; l < n; ++l) {
    const double v = scale * static_cast<double>(x[l * st]);
    m[0] = m[0] < v ? v : m[0];
  }
  const double a = m[0] < m[1] ? m[1] : m[0], b = m[2] < m[3] ? m[3] : m[2];
  return a < b ? b : a;
}

// Forward of one row: y = exp(s*x/t - max) / sum (softmax, softmin with s = -1) or
// x/t - logsumexp (log_softmax); positions at or past the row's length give 0.
template <typename T, typename O, typename L, Kind kind> struct SoftmaxRows {
  double invt, sign;
  int64_t len, inner;
  const T *x;
  const L *length;
  O *y;
  MX_HD void operator()(int64_t r) const {
    const int64_t o = r / inner, i = r % inner;
    const T *xr = x + o * len * inner + i;
    O *yr = y + o * len * inner + i;
    const int64_t st = inner;
    const int64_t n = row_length(length, r, len);
    const double mx = scaled_max(xr, n, st, sign * invt);
    double sum = 0;
    for (int64_t l = 0; l < n; ++l) sum += std::exp(sign * invt * static_cast<double>(xr[l * st]) - mx);
    if constexpr (kind == kLogSoftmax) {
      const double lse = mx + std::log(sum);
      for (int64_t l = 0; l < n; ++l) yr[l * st] = static_cast<O>(invt * static_cast<double>(xr[l * st]) - lse);
    } else {
      for (int64_t l = 0; l < n; ++l) yr[l * st] = static_cast<O>(std::exp(sign * invt * static_cast<double>(xr[l * st]) - mx) / sum);
    }
    for (int64_t l = n; l < len; ++l) yr[l * st] = O(0);
  }
};

// Backward of one row from (out_grad, output): log_softmax dx = invt (g - exp(y) sum g);
// softmax / softmin dx = k y (g - sum g y) with k = invt (softmin: -invt).
template <typename T, typename L> struct SoftmaxBackwardRows {
  Kind kind;
  double invt;
  int64_t len, inner;
  const T *g, *y;
  const L *length;
  T *dx;
  MX_HD void operator()(int64_t r) const {
    const int64_t o = r / inner, i = r % inner, base = o * len * inner + i, st = inner;
    const int64_t n = row_length(length, r, len);
    double s = 0;
    if (kind == kLogSoftmax) {
      for (int64_t l = 0; l < n; ++l) s += static_cast<double>(g[base + l * st]);
      for (int64_t l = 0; l < n; ++l) {
        const int64_t j = base + l * st;
        dx[j] = static_cast<T>(invt * (static_cast<double>(g[j]) - std::exp(static_cast<double>(y[j])) * s));
      }
    } else {
      for (int64_t l = 0; l < n; ++l) s += static_cast<double>(g[base + l * st]) * static_cast<double>(y[base + l * st]);
      const double k = kind == kSoftmin ? -invt : invt;
      for (int64_t l = 0; l < n; ++l) {
        const int64_t j = base + l * st;
        dx[j] = static_cast<T>(k * static_cast<double>(y[j]) * (static_cast<double>(g[j]) - s));
      }
    }
    for (int64_t l = n; l < len; ++l) dx[base + l * st] = T(0);
  }
};

// Runs fn(L-typed length pointer): nullptr (no length) or the length array's dtype.
template <typename Fn> void with_length(const NDArray *len, const char *op, Fn fn) {
  if (!len) {
    fn(static_cast<const int32_t *>(nullptr));
    return;
  }
  MX_DTYPE_SWITCH_NUMERIC(len->dtype(), L, op, { fn(len->data<L>()); });
}

template <typename T, typename O, class Each>
void softmax_rows(Kind kind, double invt, Dims d, const NDArray &data, const NDArray *len, const NDArray &out,
                  const char *op, const Each &each) {
  const double sign = kind == kSoftmin ? -1.0 : 1.0;
  with_length(len, op, [&](auto *lp) {
    using L = std::remove_const_t<std::remove_pointer_t<decltype(lp)>>;
    auto run = [&](auto k) {
      each(d.outer * d.inner,
           SoftmaxRows<T, O, L, decltype(k)::value>{invt, sign, d.len, d.inner, data.data<T>(), lp, out.data<O>()},
           row_grain(d.len));
    };
    if (kind == kLogSoftmax) run(std::integral_constant<Kind, kLogSoftmax>());
    else run(std::integral_constant<Kind, kSoftmax>());  // softmin: sign -1
  });
}

// softmax / log_softmax / softmin: inputs data[, length]; an output dtype other than the data's
// (the dtype parameter) is computed directly for float32/float64, else through float32.
template <class Each> void softmax_forward(Kind kind, const OpCall &c, const char *name, const Each &each) {
  const auto &p = c.p<SoftmaxParam>();
  const NDArray *len = uses_length(p) ? &c.inputs[1] : nullptr;
  const NDArray &data = c.inputs[0], &out = c.outputs[0];
  const Dims d = dims_of(p, data.shape(), "softmax");
  const double invt = 1.0 / p.temperature.value_or(1.0);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    if (out.dtype() == data.dtype()) {
      softmax_rows<T, T>(kind, invt, d, data, len, out, name, each);
    } else if (out.dtype() == DType::f32) {
      softmax_rows<T, float>(kind, invt, d, data, len, out, name, each);
    } else if (out.dtype() == DType::f64) {
      softmax_rows<T, double>(kind, invt, d, data, len, out, name, each);
    } else {
      NDArray tmp(out.shape(), DType::f32, out.device());
      softmax_rows<T, float>(kind, invt, d, data, len, tmp, name, each);
      out.assign(tmp);
    }
  };
  // float16/bfloat16 data only on the GPU (gpu_dtypes): the rows read it as float, sum in double.
  MX_HALF_OR(data.dtype(), T, run(T{}), MX_DTYPE_SWITCH_FLOAT(data.dtype(), T, name, run(T{})));
}

// inputs: out_grad, output[, length]
template <class Each> void softmax_backward(Kind kind, const OpCall &c, const char *name, const Each &each) {
  const auto &p = c.p<SoftmaxParam>();
  const NDArray *len = uses_length(p) ? &c.inputs[2] : nullptr;
  NDArray y = c.inputs[1].dtype() == c.inputs[0].dtype() ? c.inputs[1] : c.inputs[1].astype(c.inputs[0].dtype());
  const Dims d = dims_of(p, y.shape(), "softmax");
  const double invt = 1.0 / p.temperature.value_or(1.0);
  auto run = [&](auto tag) {
    using T = decltype(tag);
    with_length(len, name, [&](auto *lp) {
      using L = std::remove_const_t<std::remove_pointer_t<decltype(lp)>>;
      each(d.outer * d.inner,
           SoftmaxBackwardRows<T, L>{kind, invt, d.len, d.inner, c.inputs[0].data<T>(), y.data<T>(), lp,
                                     c.outputs[0].data<T>()},
           row_grain(d.len));
    });
  };
  MX_HALF_OR(c.inputs[0].dtype(), T, run(T{}), MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, name, run(T{})));
}

// ---- SoftmaxActivation: softmax over all but the first axis ('instance') or over axis 1 ('channel')
struct SoftmaxActParam {
  std::string mode;
  static void describe(ParamDecl<SoftmaxActParam> &d) {
    d.field("mode", &SoftmaxActParam::mode).def("instance").choices({"channel", "instance"})
        .doc("instance: softmax over all but the first axis; channel: softmax over axis 1 per position.");
  }
};

inline Dims sa_dims(const SoftmaxActParam &p, const Shape &s, const char *op) {
  MX_CHECK(s.ndim() >= 1, MX_ERR_SHAPE, op, ": data must have at least one dimension");
  if (p.mode == "channel") {
    MX_CHECK(s.ndim() >= 2, MX_ERR_SHAPE, op, ": mode 'channel' needs at least 2 dimensions, got shape ", s.str());
    return {s[0], s[1], s.prod(2, s.ndim()), 1};
  }
  return {s[0], s.prod(1, s.ndim()), 1, 1};
}

template <class Each> void softmax_activation_forward(const OpCall &c, const Each &each) {
  const Dims d = sa_dims(c.p<SoftmaxActParam>(), c.inputs[0].shape(), "SoftmaxActivation");
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "SoftmaxActivation", {
    softmax_rows<T, T>(kSoftmax, 1.0, d, c.inputs[0], nullptr, c.outputs[0], "SoftmaxActivation", each);
  });
}

// inputs: out_grad, output
template <class Each> void softmax_activation_backward(const OpCall &c, const Each &each) {
  const Dims d = sa_dims(c.p<SoftmaxActParam>(), c.inputs[1].shape(), "_backward_SoftmaxActivation");
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_SoftmaxActivation", {
    each(d.outer * d.inner,
         SoftmaxBackwardRows<T, int32_t>{kSoftmax, 1.0, d.len, d.inner, c.inputs[0].data<T>(), c.inputs[1].data<T>(),
                                         nullptr, c.outputs[0].data<T>()},
         row_grain(d.len));
  });
}

// ---- labels read on the host (validated there; on the GPU a copy comes back first)
inline NDArray on_host(const NDArray &a) {
  if (a.device().is_cpu()) return a;
  NDArray h(a.shape(), a.dtype(), Device());
  h.assign(a);
  return h;
}
inline double label_at(const NDArray &l, int64_t i, const char *op) {
  switch (l.dtype()) {
    case DType::f32: return l.data<float>()[i];
    case DType::f64: return l.data<double>()[i];
    case DType::i32: return l.data<int32_t>()[i];
    case DType::i64: return static_cast<double>(l.data<int64_t>()[i]);
    case DType::u8: return l.data<uint8_t>()[i];
    case DType::i8: return l.data<int8_t>()[i];
    default: fail(MX_ERR_TYPE, op, ": unsupported dtype for 'label'");
  }
}
// The labels as class indices (int64, on `dev`), each checked to lie in [0, K).
inline NDArray checked_labels(const NDArray &label, int64_t K, const char *op, Device dev) {
  NDArray h = on_host(label);
  NDArray idx(label.shape(), DType::i64, Device());
  int64_t *ip = idx.data<int64_t>();
  for (int64_t i = 0; i < h.size(); ++i) {
    const double v = label_at(h, i, op);
    const int64_t k = static_cast<int64_t>(v);
    MX_CHECK(k >= 0 && k < K, MX_ERR_INVALID_ARGUMENT, op, ": 'label' value ", v, " at position ", i,
             " is out of range [0, ", K, ")");
    ip[i] = k;
  }
  if (dev.is_cpu()) return idx;
  NDArray d(idx.shape(), DType::i64, dev);
  d.assign(idx);
  return d;
}

// ---- softmax_cross_entropy: loss = sum over rows of -log(softmax(row)[label])
template <typename T> struct CERowLoss {
  int64_t K;
  const T *x;
  const int64_t *label;
  double *loss;  // per row
  MX_HD void operator()(int64_t r) const {
    const T *xr = x + r * K;
    double m = -INFINITY;
    for (int64_t j = 0; j < K; ++j) m = static_cast<double>(xr[j]) > m ? static_cast<double>(xr[j]) : m;
    double s = 0;
    for (int64_t j = 0; j < K; ++j) s += std::exp(static_cast<double>(xr[j]) - m);
    const double p = std::exp(static_cast<double>(xr[label[r]]) - m) / s;
    loss[r] = -std::log(p > 1e-300 ? p : 1e-300);
  }
};
// The batch sum, in row order (one call).
template <typename T> struct CESum {
  int64_t N;
  const double *loss;
  T *out;
  MX_HD void operator()(int64_t) const {
    double t = 0;
    for (int64_t i = 0; i < N; ++i) t += loss[i];
    out[0] = static_cast<T>(t);
  }
};
// inputs: out_grad (1,), data, label
template <typename T> struct CEBackwardRows {
  int64_t K;
  const T *g, *x;
  const int64_t *label;
  T *dx;
  MX_HD void operator()(int64_t r) const {
    const T *xr = x + r * K;
    const double gv = static_cast<double>(g[0]);
    double m = -INFINITY;
    for (int64_t j = 0; j < K; ++j) m = static_cast<double>(xr[j]) > m ? static_cast<double>(xr[j]) : m;
    double s = 0;
    for (int64_t j = 0; j < K; ++j) s += std::exp(static_cast<double>(xr[j]) - m);
    for (int64_t j = 0; j < K; ++j) {
      const double p = std::exp(static_cast<double>(xr[j]) - m) / s;
      dx[r * K + j] = static_cast<T>(gv * (p - (j == label[r] ? 1.0 : 0.0)));
    }
  }
};

template <class Each> void ce_forward(const OpCall &c, const Each &each) {
  const NDArray &d = c.inputs[0];
  const int64_t N = d.shape()[0], K = d.shape()[1];
  NDArray label = checked_labels(c.inputs[1], K, "softmax_cross_entropy", d.device());
  NDArray loss(Shape({N}), DType::f64, d.device());
  MX_DTYPE_SWITCH_FLOAT(d.dtype(), T, "softmax_cross_entropy", {
    each(N, CERowLoss<T>{K, d.data<T>(), label.data<int64_t>(), loss.data<double>()}, row_grain(K));
    each(1, CESum<T>{N, loss.data<double>(), c.outputs[0].data<T>()}, 1);
  });
}

template <class Each> void ce_backward(const OpCall &c, const Each &each) {
  const NDArray &d = c.inputs[1];
  const int64_t N = d.shape()[0], K = d.shape()[1];
  NDArray label = checked_labels(c.inputs[2], K, "_backward_softmax_cross_entropy", d.device());
  MX_DTYPE_SWITCH_FLOAT(d.dtype(), T, "_backward_softmax_cross_entropy", {
    each(N, CEBackwardRows<T>{K, c.inputs[0].data<T>(), d.data<T>(), label.data<int64_t>(), c.outputs[0].data<T>()},
         row_grain(K));
  });
}

// ---- SoftmaxOutput
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
struct SODims {
  int64_t outer, k, inner;
  bool dense_label;
};
inline SODims so_dims(const SoftmaxOutputParam &p, const Shape &d, const Shape *label) {
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

template <class Each> void so_forward(const OpCall &c, const Each &each) {
  const auto &p = c.p<SoftmaxOutputParam>();
  const SODims s = so_dims(p, c.inputs[0].shape(), &c.inputs[1].shape());
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "SoftmaxOutput", {
    softmax_rows<T, T>(kSoftmax, 1.0, Dims{s.outer, s.k, s.inner, 1}, c.inputs[0], nullptr, c.outputs[0],
                       "SoftmaxOutput", each);
  });
}

// Dense labels (same shape as the data): dx = (y - label) * scale [* g].
template <typename T> struct SODenseBackward {
  double scale;
  bool out_grad;
  const T *g, *y, *label;
  T *dx;
  MX_HD void operator()(int64_t i) const {
    double v = (static_cast<double>(y[i]) - static_cast<double>(label[i])) * scale;
    if (out_grad) v *= static_cast<double>(g[i]);
    dx[i] = static_cast<T>(v);
  }
};
// Class labels: dx = (y - target) * scale [* g] per row, target the (smoothed) one-hot row; rows
// with an ignored label get 0.
template <typename T> struct SOBackwardRows {
  double scale, alpha, off;
  int ign;
  bool use_ignore, out_grad;
  int64_t k, inner;
  const T *g, *y, *label;
  T *dx;
  MX_HD void operator()(int64_t r) const {
    const int64_t base = (r / inner) * k * inner + r % inner, st = inner;
    const int lab = static_cast<int>(label[r]);
    const bool ignored = use_ignore && lab == ign;
    for (int64_t l = 0; l < k; ++l) {
      const int64_t j = base + l * st;
      double v = 0;
      if (!ignored) {
        const double target = l == lab ? 1.0 - alpha : off;
        v = (static_cast<double>(y[j]) - target) * scale;
        if (out_grad) v *= static_cast<double>(g[j]);
      }
      dx[j] = static_cast<T>(v);
    }
  }
};

// inputs: out_grad, output, label; output: data grad
template <class Each> void so_backward(const OpCall &c, const Each &each) {
  const auto &p = c.p<SoftmaxOutputParam>();
  const NDArray &g = c.inputs[0], &y = c.inputs[1], &label = c.inputs[2];
  const SODims d = so_dims(p, y.shape(), &label.shape());
  MX_DTYPE_SWITCH_FLOAT(g.dtype(), T, "_backward_SoftmaxOutput", {
    if (d.dense_label) {
      double scale = p.grad_scale;
      if (p.normalization == "batch") scale /= static_cast<double>(y.shape()[0]);
      each(y.size(), SODenseBackward<T>{scale, p.out_grad, g.data<T>(), y.data<T>(), label.data<T>(), c.outputs[0].data<T>()});
      return;
    }
    const int64_t rows = d.outer * d.inner;
    const int ign = static_cast<int>(p.ignore_label);
    double scale = p.grad_scale;
    if (p.normalization == "batch") {
      scale /= static_cast<double>(p.multi_output ? d.outer : rows);
    } else if (p.normalization == "valid") {
      // The scale depends on the labels: counted on the host (a copy comes back from a GPU).
      NDArray h = on_host(label);
      const T *lp = h.data<T>();
      int64_t valid = 0;
      for (int64_t r = 0; r < rows; ++r) valid += static_cast<int>(lp[r]) != ign ? 1 : 0;
      scale /= static_cast<double>(std::max<int64_t>(valid, 1));
    }
    // multi_output divides by the number of positions per sample unless normalization is 'valid'.
    if (p.multi_output && p.normalization != "valid") scale /= static_cast<double>(std::max<int64_t>(d.inner, 1));
    const double alpha = p.smooth_alpha;
    const double off = d.k > 1 ? alpha / static_cast<double>(d.k - 1) : 0.0;
    each(rows,
         SOBackwardRows<T>{scale, alpha, off, ign, p.use_ignore, p.out_grad, d.k, d.inner, g.data<T>(), y.data<T>(),
                           label.data<T>(), c.outputs[0].data<T>()},
         row_grain(d.k));
  });
}

// ---- regression outputs: forward identity (Linear, MAE) or sigmoid (Logistic); backward
// (output - label) * grad_scale / num_output (MAE: the sign of the difference)
enum RegKind { kLinear, kLogistic, kMAE };

struct RegParam {
  double grad_scale = 1;
  static void describe(ParamDecl<RegParam> &d) {
    d.field("grad_scale", &RegParam::grad_scale).def(1.0).doc("Scale the gradient by a float factor.");
  }
};

template <typename T> struct RegForward {
  RegKind kind;
  const T *x;
  T *y;
  MX_HD void operator()(int64_t i) const { y[i] = kind == kLogistic ? T(1) / (T(1) + std::exp(-x[i])) : x[i]; }
};
template <typename T> struct RegBackward {
  RegKind kind;
  T scale;
  const T *y, *label;
  T *dx;
  MX_HD void operator()(int64_t i) const {
    T diff = y[i] - label[i];
    if (kind == kMAE) diff = diff > T(0) ? T(1) : diff < T(0) ? T(-1) : T(0);
    dx[i] = scale * diff;
  }
};

template <class Each> void reg_forward(RegKind kind, const OpCall &c, const char *name, const Each &each) {
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, name, {
    each(c.outputs[0].size(), RegForward<T>{kind, c.inputs[0].data<T>(), c.outputs[0].data<T>()});
  });
}
// inputs: output, label
template <class Each> void reg_backward(RegKind kind, const OpCall &c, const char *name, const Each &each) {
  MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, name, {
    const NDArray &lab = c.inputs[1];
    const int64_t per = lab.shape()[0] > 0 ? lab.size() / lab.shape()[0] : 1;
    const T scale = static_cast<T>(c.p<RegParam>().grad_scale / static_cast<double>(std::max<int64_t>(per, 1)));
    each(c.outputs[0].size(), RegBackward<T>{kind, scale, c.inputs[0].data<T>(), lab.data<T>(), c.outputs[0].data<T>()});
  });
}

}  // namespace smk
}  // namespace mx
