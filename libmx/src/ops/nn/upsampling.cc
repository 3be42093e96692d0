// UpSampling of NCHW data. nearest: every input is repeated up to the first input's size times
// `scale` (each by its own integer factor), then concatenated along channels (concat) or summed
// (sum). bilinear: one data input and a weight (C, 1, k, k), k = 2*scale - scale%2, applied as a
// depthwise transposed convolution with stride scale and pad ceil((scale-1)/2), as in MXNet.
// Fused backward _backward_UpSampling.
#include <cmath>

#include "ops/nn/nn_common.h"

namespace mx {
namespace {

struct UpParam {
  int64_t scale = 1, num_filter = 0, num_args = 1, workspace = 512;
  std::string sample_type, multi_input_mode;
  static void describe(ParamDecl<UpParam> &d) {
    d.field("scale", &UpParam::scale).required().doc("Up sampling scale.");
    d.field("num_filter", &UpParam::num_filter).def(0).doc("Input filter. Only used by bilinear sample_type.");
    d.field("sample_type", &UpParam::sample_type).required().choices({"bilinear", "nearest"})
        .doc("Upsampling method.");
    d.field("multi_input_mode", &UpParam::multi_input_mode).def("concat").choices({"concat", "sum"})
        .doc("How to handle multiple input: concat along channels or sum.");
    d.field("num_args", &UpParam::num_args).required()
        .doc("Number of inputs to be upsampled. For nearest neighbor upsampling, this can be 1-N; for bilinear "
             "only 1 (data and weight).");
    d.field("workspace", &UpParam::workspace).def(512).doc("Tmp workspace for deconvolution (MB) (ignored).");
    d.check([](const UpParam &p, const std::string &op) {
      MX_CHECK(p.scale >= 1, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'scale' must be at least 1, got ", p.scale);
      MX_CHECK(p.num_args >= 1, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'num_args' must be at least 1, got ", p.num_args);
      if (p.sample_type == "bilinear")
        MX_CHECK(p.num_args == 1 || p.num_args == 2, MX_ERR_INVALID_ARGUMENT, op,
                 ": parameter 'num_args' must be 1 for bilinear upsampling, got ", p.num_args);
    });
  }
};

bool bilinear(const UpParam &p) { return p.sample_type == "bilinear"; }
int64_t bl_kernel(const UpParam &p) { return 2 * p.scale - p.scale % 2; }
int64_t bl_pad(const UpParam &p) { return (p.scale - 1 + 1) / 2; }  // ceil((scale - 1) / 2)

std::vector<std::string> up_inputs(const Params &prm) {
  const auto &p = prm.get<UpParam>();
  if (bilinear(p)) return {"data", "weight"};
  std::vector<std::string> v;
  for (int64_t i = 0; i < p.num_args; ++i) v.push_back("arg" + std::to_string(i));
  return v;
}

bool up_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  const auto &p = prm.get<UpParam>();
  const char *op = "UpSampling";
  if (!in[0].known()) return false;
  MX_CHECK(in[0].ndim() == 4, MX_ERR_SHAPE, op, ": inputs must have 4 dimensions (N, C, H, W), got ", in[0].str());
  const int64_t N = in[0][0], OH = in[0][2] * p.scale, OW = in[0][3] * p.scale;
  if (bilinear(p)) {
    const int64_t k = bl_kernel(p);
    assign_shape(in[1], Shape{in[0][1], 1, k, k}, op, "weight");
    assign_shape(out[0], Shape{N, in[0][1], OH, OW}, op, "output");
    return true;
  }
  int64_t C = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!in[i].known()) return false;
    const Shape &s = in[i];
    MX_CHECK(s.ndim() == 4 && s[0] == N && s[2] > 0 && s[3] > 0 && OH % s[2] == 0 && OW % s[3] == 0 &&
                 OH / s[2] == OW / s[3],
             MX_ERR_SHAPE, op, ": input ", i, " shape ", s.str(), " cannot be upsampled by an integer factor to (", OH,
             ", ", OW, ") (first input ", in[0].str(), " times scale ", p.scale, ")");
    if (p.multi_input_mode == "sum") {
      MX_CHECK(s[1] == in[0][1], MX_ERR_SHAPE, op, ": with multi_input_mode 'sum' every input needs ", in[0][1],
               " channels, input ", i, " has shape ", s.str());
      C = s[1];
    } else {
      C += s[1];
    }
  }
  assign_shape(out[0], Shape{N, C, OH, OW}, op, "output");
  return true;
}

template <typename T> void nearest_forward(const OpCall &c) {
  const auto &p = c.p<UpParam>();
  const Shape &os = c.outputs[0].shape();
  const int64_t N = os[0], C = os[1], OH = os[2], OW = os[3];
  T *y = c.outputs[0].data<T>();
  const bool sum = p.multi_input_mode == "sum";
  if (sum) std::memset(y, 0, sizeof(T) * static_cast<size_t>(c.outputs[0].size()));
  int64_t coff = 0;
  for (const NDArray &a : c.inputs) {
    const Shape &s = a.shape();
    const int64_t Ci = s[1], H = s[2], W = s[3], f = OH / H;
    const T *x = a.data<T>();
    parallel_for(N * Ci, std::max<int64_t>(1, 8192 / (OH * OW)), [&](int64_t b, int64_t e) {
      for (int64_t q = b; q < e; ++q) {
        const int64_t n = q / Ci, ch = q % Ci;
        const T *xs = x + q * H * W;
        T *ys = y + (n * C + coff + ch) * OH * OW;
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            const T v = xs[(oh / f) * W + ow / f];
            if (sum) ys[oh * OW + ow] += v; else ys[oh * OW + ow] = v;
          }
      }
    });
    if (!sum) coff += Ci;
  }
}

// inputs: out_grad, then the forward inputs (for their shapes); outputs one grad per input
template <typename T> void nearest_backward(const OpCall &c) {
  const auto &p = c.p<UpParam>();
  const Shape &os = c.inputs[0].shape();
  const int64_t N = os[0], C = os[1], OH = os[2], OW = os[3];
  const T *g = c.inputs[0].data<T>();
  const bool sum = p.multi_input_mode == "sum";
  int64_t coff = 0;
  for (size_t k = 0; k < c.outputs.size(); ++k) {
    const Shape &s = c.outputs[k].shape();
    const int64_t Ci = s[1], H = s[2], W = s[3], f = OH / H;
    T *dx = c.outputs[k].data<T>();
    parallel_for(N * Ci, std::max<int64_t>(1, 8192 / (OH * OW)), [&](int64_t b, int64_t e) {
      for (int64_t q = b; q < e; ++q) {
        const int64_t n = q / Ci, ch = q % Ci;
        T *d = dx + q * H * W;
        const T *gs = g + (n * C + coff + ch) * OH * OW;
        for (int64_t i = 0; i < H * W; ++i) d[i] = T(0);
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) d[(oh / f) * W + ow / f] += gs[oh * OW + ow];
      }
    });
    if (!sum) coff += Ci;
  }
}

template <typename T> void bilinear_forward(const OpCall &c) {
  const auto &p = c.p<UpParam>();
  const Shape &s = c.inputs[0].shape();
  const int64_t N = s[0], C = s[1], H = s[2], W = s[3], OH = H * p.scale, OW = W * p.scale;
  const int64_t k = bl_kernel(p), pad = bl_pad(p), st = p.scale;
  const T *x = c.inputs[0].data<T>(), *w = c.inputs[1].data<T>();
  T *y = c.outputs[0].data<T>();
  parallel_for(N * C, 1, [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) {
      const T *xs = x + q * H * W, *wc = w + (q % C) * k * k;
      T *ys = y + q * OH * OW;
      for (int64_t i = 0; i < OH * OW; ++i) ys[i] = T(0);
      for (int64_t ih = 0; ih < H; ++ih)
        for (int64_t iw = 0; iw < W; ++iw) {
          const T v = xs[ih * W + iw];
          for (int64_t kh = 0; kh < k; ++kh) {
            const int64_t oh = ih * st - pad + kh;
            if (oh < 0 || oh >= OH) continue;
            for (int64_t kw = 0; kw < k; ++kw) {
              const int64_t ow = iw * st - pad + kw;
              if (ow < 0 || ow >= OW) continue;
              ys[oh * OW + ow] += v * wc[kh * k + kw];
            }
          }
        }
    }
  });
}

// inputs: out_grad, data, weight; outputs: data grad, weight grad
template <typename T> void bilinear_backward(const OpCall &c) {
  const auto &p = c.p<UpParam>();
  const Shape &s = c.inputs[1].shape();
  const int64_t N = s[0], C = s[1], H = s[2], W = s[3], OH = H * p.scale, OW = W * p.scale;
  const int64_t k = bl_kernel(p), pad = bl_pad(p), st = p.scale;
  const T *g = c.inputs[0].data<T>(), *x = c.inputs[1].data<T>(), *w = c.inputs[2].data<T>();
  T *dx = c.outputs[0].data<T>(), *dw = c.outputs[1].data<T>();
  std::vector<double> acc(static_cast<size_t>(N * C * k * k), 0.0);
  parallel_for(N * C, 1, [&](int64_t b, int64_t e) {
    for (int64_t q = b; q < e; ++q) {
      const T *xs = x + q * H * W, *wc = w + (q % C) * k * k, *gs = g + q * OH * OW;
      double *a = acc.data() + q * k * k;
      for (int64_t ih = 0; ih < H; ++ih)
        for (int64_t iw = 0; iw < W; ++iw) {
          double sdx = 0;
          const double v = static_cast<double>(xs[ih * W + iw]);
          for (int64_t kh = 0; kh < k; ++kh) {
            const int64_t oh = ih * st - pad + kh;
            if (oh < 0 || oh >= OH) continue;
            for (int64_t kw = 0; kw < k; ++kw) {
              const int64_t ow = iw * st - pad + kw;
              if (ow < 0 || ow >= OW) continue;
              const double gv = static_cast<double>(gs[oh * OW + ow]);
              sdx += gv * static_cast<double>(wc[kh * k + kw]);
              a[kh * k + kw] += gv * v;
            }
          }
          dx[q * H * W + ih * W + iw] = static_cast<T>(sdx);
        }
    }
  });
  for (int64_t ch = 0; ch < C; ++ch)
    for (int64_t j = 0; j < k * k; ++j) {
      double t = 0;
      for (int64_t n = 0; n < N; ++n) t += acc[static_cast<size_t>((n * C + ch) * k * k + j)];
      dw[ch * k * k + j] = static_cast<T>(t);
    }
}

const int registered = [] {
  MX_REGISTER_OP(UpSampling)
      .doc("Upsamples the given inputs (NCHW) by 'scale': nearest neighbour (several inputs, concatenated or "
           "summed) or bilinear (a depthwise transposed convolution with the given weight).")
      .params<UpParam>()
      .inputs_fn(up_inputs)
      .shape(up_shape)
      .cpu([](const OpCall &c) {
        const auto &p = c.p<UpParam>();
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "UpSampling", {
          if (bilinear(p)) bilinear_forward<T>(c); else nearest_forward<T>(c);
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        std::vector<Var> in{n.out_grads[0]};
        for (Var v : n.inputs) in.push_back(v);
        auto gs = b.emit(&Registry::get().require("_backward_UpSampling"), n.params, in);
        gs.resize(n.inputs.size());
        return gs;
      });
  MX_REGISTER_OP(_backward_UpSampling)
      .doc("Gradient of UpSampling: inputs (out_grad, forward inputs...); one gradient per forward input.")
      .params<UpParam>()
      .inputs_fn([](const Params &prm) {
        auto v = up_inputs(prm);
        v.insert(v.begin(), "out_grad");
        return v;
      })
      .outputs({"grad"})
      .num_outputs([](const Params &prm) { return static_cast<int>(up_inputs(prm).size()); })
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        for (size_t i = 1; i < in.size(); ++i) {
          if (!in[i].known()) return false;
          assign_shape(out[i - 1], in[i], "_backward_UpSampling", "input gradient");
        }
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<UpParam>();
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_UpSampling", {
          if (bilinear(p)) bilinear_backward<T>(c); else nearest_backward<T>(c);
        });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
