// Spatial resizing of NCHW batches: _contrib_BilinearResize2D (MXNet's sizing modes and pixel
// mapping, coordinates computed in float as MXNet does) and _contrib_AdaptiveAvgPooling2D.
#include <cmath>

#include "backends/cpu/parallel.h"
#include "ops/registry.h"

namespace mx {
namespace {

struct ResizeParam {
  int64_t height = 1, width = 1;
  std::optional<double> scale_height, scale_width;
  std::string mode = "size";
  bool align_corners = true;
  static void describe(ParamDecl<ResizeParam> &d) {
    d.field("height", &ResizeParam::height).def(1).doc("Output height (mode 'size', unless scale_height is given).");
    d.field("width", &ResizeParam::width).def(1).doc("Output width (mode 'size', unless scale_width is given).");
    d.field("scale_height", &ResizeParam::scale_height).def(std::optional<double>())
        .doc("Height scale (modes 'size' and 'odd_scale').");
    d.field("scale_width", &ResizeParam::scale_width).def(std::optional<double>())
        .doc("Width scale (modes 'size' and 'odd_scale').");
    d.field("mode", &ResizeParam::mode).def(std::string("size"))
        .choices({"size", "odd_scale", "like", "to_even_down", "to_even_up", "to_odd_down", "to_odd_up"})
        .doc("How the output size is chosen: 'size' (height/width or the scales), 'odd_scale', 'like' (the second "
             "input's height and width), or the nearest even/odd size down/up.");
    d.field("align_corners", &ResizeParam::align_corners).def(true)
        .doc("Map the corner pixels' centres onto each other (otherwise scale the whole pixel range).");
  }
};

std::vector<std::string> resize_inputs(const Params &p) {
  if (p.get<ResizeParam>().mode == "like") return {"data", "like"};
  return {"data"};
}

void check_nchw(const Shape &s, const char *op, const char *what) {
  MX_CHECK(s.ndim() == 4, MX_ERR_SHAPE, op, ": ", what, " must be 4-D (batch, channel, height, width), got ", s.str());
}

Shape resized_shape(const ResizeParam &p, const Shape &in, const Shape *like) {
  const char *op = "BilinearResize2D";
  int64_t h = in[2], w = in[3];
  auto need = [&](const std::optional<double> &s, const char *name) {
    MX_CHECK(s.has_value(), MX_ERR_INVALID_ARGUMENT, op, ": mode '", p.mode, "' needs parameter '", name, "'");
    return *s;
  };
  if (p.mode == "size") {
    // As MXNet: the scales are used only when scale_height is given.
    h = p.scale_height ? static_cast<int64_t>(*p.scale_height * static_cast<double>(in[2])) : p.height;
    w = p.scale_height ? static_cast<int64_t>(need(p.scale_width, "scale_width") * static_cast<double>(in[3])) : p.width;
  } else if (p.mode == "odd_scale") {
    const double sh = need(p.scale_height, "scale_height"), sw = need(p.scale_width, "scale_width");
    h = in[2] % 2 == 0 ? static_cast<int64_t>(static_cast<double>(in[2]) * sh) : static_cast<int64_t>(static_cast<double>(in[2] - 1) * sh) + 1;
    w = in[3] % 2 == 0 ? static_cast<int64_t>(static_cast<double>(in[3]) * sw) : static_cast<int64_t>(static_cast<double>(in[3] - 1) * sw) + 1;
  } else if (p.mode == "like") {
    check_nchw(*like, op, "like");
    h = (*like)[2];
    w = (*like)[3];
  } else {
    const bool even = p.mode.find("even") != std::string::npos, up = p.mode.find("_up") != std::string::npos;
    auto fix = [&](int64_t n) { return (n % 2 == 0) == even ? n : (up ? n + 1 : n - 1); };
    h = fix(in[2]);
    w = fix(in[3]);
  }
  MX_CHECK(h > 0 && w > 0, MX_ERR_INVALID_ARGUMENT, op, ": output size (", h, ", ", w, ") must be positive");
  return Shape({in[0], in[1], h, w});
}

// Source coordinate of output index `dst` along one axis (MXNet's float arithmetic).
struct Axis {
  float scale;
  bool align;
  int64_t in_size;
  Axis(int64_t in, int64_t out, bool align_corners) : align(align_corners), in_size(in) {
    scale = out > 1 ? (align ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : static_cast<float>(in) / static_cast<float>(out))
                    : 0.f;
  }
  void source(int64_t dst, int64_t &i0, int64_t &step, float &frac) const {
    // MXNet's expression: the unaligned form is evaluated in double, then stored as float.
    float r = align ? scale * static_cast<float>(dst)
                    : static_cast<float>(static_cast<double>(scale) * (static_cast<double>(dst) + 0.5) - 0.5);
    if (r < 0) r = 0;
    i0 = static_cast<int64_t>(r);
    step = i0 < in_size - 1 ? 1 : 0;
    frac = r - static_cast<float>(i0);
  }
};

template <typename T> void resize(const NDArray &x, const NDArray &y, bool align, bool backward) {
  const Shape &is = x.shape(), &os = y.shape();
  const int64_t planes = is[0] * is[1], H = is[2], W = is[3], OH = os[2], OW = os[3];
  const Axis ah(H, OH, align), aw(W, OW, align);
  T *px = x.data<T>(), *py = y.data<T>();
  if (backward)
    for (int64_t i = 0; i < x.size(); ++i) px[i] = T(0);
  parallel_for(planes, 1, [&](int64_t s, int64_t e) {
    for (int64_t p = s; p < e; ++p) {
      T *xp = px + p * H * W, *yp = py + p * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        int64_t h0, hs, w0, ws;
        float hf, wf;
        if (H == OH) {
          h0 = oh, hs = 0, hf = 0.f;
        } else {
          ah.source(oh, h0, hs, hf);
        }
        const T h1l = static_cast<T>(hf), h0l = T(1) - h1l;
        for (int64_t ow = 0; ow < OW; ++ow) {
          if (W == OW && H == OH) {
            w0 = ow, ws = 0, wf = 0.f;
          } else {
            aw.source(ow, w0, ws, wf);
          }
          const T w1l = static_cast<T>(wf), w0l = T(1) - w1l;
          T *a = xp + h0 * W + w0;
          if (!backward) {
            yp[oh * OW + ow] = h0l * (w0l * a[0] + w1l * a[ws]) + h1l * (w0l * a[hs * W] + w1l * a[hs * W + ws]);
          } else {
            const T g = yp[oh * OW + ow];
            a[0] += h0l * w0l * g;
            a[ws] += h0l * w1l * g;
            a[hs * W] += h1l * w0l * g;
            a[hs * W + ws] += h1l * w1l * g;
          }
        }
      }
    }
  });
}

struct AdaptiveParam {
  std::vector<int64_t> output_size;
  static void describe(ParamDecl<AdaptiveParam> &d) {
    d.field("output_size", &AdaptiveParam::output_size).def(std::vector<int64_t>{})
        .doc("Output (height, width), one int for both, or empty for (1, 1).");
  }
};

void adaptive_size(const AdaptiveParam &p, int64_t &oh, int64_t &ow) {
  const auto &s = p.output_size;
  MX_CHECK(s.size() <= 2, MX_ERR_INVALID_ARGUMENT, "AdaptiveAvgPooling2D: output_size must have 1 or 2 entries");
  oh = s.empty() ? 1 : s[0];
  ow = s.empty() ? 1 : s.size() == 1 ? s[0] : s[1];
  MX_CHECK(oh > 0 && ow > 0, MX_ERR_INVALID_ARGUMENT, "AdaptiveAvgPooling2D: output_size must be positive");
}

// Bin [start, end) of output index o (MXNet: floor(o*in/out), ceil((o+1)*in/out) in float).
inline int64_t bin_start(int64_t o, int64_t out, int64_t in) {
  return static_cast<int64_t>(std::floor(static_cast<float>(o * in) / static_cast<float>(out)));
}
inline int64_t bin_end(int64_t o, int64_t out, int64_t in) {
  return static_cast<int64_t>(std::ceil(static_cast<float>((o + 1) * in) / static_cast<float>(out)));
}

template <typename T> void adaptive_pool(const NDArray &x, const NDArray &y, bool backward) {
  const Shape &is = x.shape(), &os = y.shape();
  const int64_t planes = is[0] * is[1], H = is[2], W = is[3], OH = os[2], OW = os[3];
  T *px = x.data<T>(), *py = y.data<T>();
  if (backward)
    for (int64_t i = 0; i < x.size(); ++i) px[i] = T(0);
  parallel_for(planes, 1, [&](int64_t s, int64_t e) {
    for (int64_t p = s; p < e; ++p)
      for (int64_t oh = 0; oh < OH; ++oh) {
        const int64_t h0 = bin_start(oh, OH, H), h1 = bin_end(oh, OH, H);
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t w0 = bin_start(ow, OW, W), w1 = bin_end(ow, OW, W);
          const T inv = T(1) / static_cast<T>((h1 - h0) * (w1 - w0));
          T *xp = px + p * H * W;
          T &out = py[p * OH * OW + oh * OW + ow];
          if (!backward) {
            T sum = 0;
            for (int64_t h = h0; h < h1; ++h)
              for (int64_t w = w0; w < w1; ++w) sum += xp[h * W + w];
            out = sum * inv;
          } else {
            for (int64_t h = h0; h < h1; ++h)
              for (int64_t w = w0; w < w1; ++w) xp[h * W + w] += out * inv;
          }
        }
      }
  });
}

const int registered = [] {
  MX_REGISTER_OP(_contrib_BilinearResize2D)
      .doc("Bilinear resize of NCHW images to a size chosen by 'mode' (MXNet's pixel mapping; see align_corners).")
      .params<ResizeParam>()
      .inputs_fn(resize_inputs)
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = prm.get<ResizeParam>();
        if (!in[0].known() || (p.mode == "like" && !in[1].known())) return false;
        check_nchw(in[0], "BilinearResize2D", "data");
        assign_shape(out[0], resized_shape(p, in[0], p.mode == "like" ? &in[1] : nullptr), "BilinearResize2D", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "BilinearResize2D",
                              { resize<T>(c.inputs[0], c.outputs[0], c.p<ResizeParam>().align_corners, false); });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        Var g = b.emit(&Registry::get().require("_backward_contrib_BilinearResize2D"), n.params,
                       {n.out_grads[0], n.inputs[0]})[0];
        if (n.inputs.size() == 2) return {g, b.emit1("zeros_like", {}, {n.inputs[1]})};
        return {g};
      });
  MX_REGISTER_OP(_backward_contrib_BilinearResize2D)
      .doc("Gradient of BilinearResize2D: inputs (out_grad, data).")
      .params<ResizeParam>()
      .inputs({"out_grad", "data"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_contrib_BilinearResize2D", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "BilinearResize2D",
                              { resize<T>(c.outputs[0], c.inputs[0], c.p<ResizeParam>().align_corners, true); });
      })
      .no_grad();

  MX_REGISTER_OP(_contrib_AdaptiveAvgPooling2D)
      .doc("Adaptive average pooling of NCHW input to a fixed output (height, width): output cell (i, j) averages "
           "input rows floor(i*H/h)..ceil((i+1)*H/h) and the matching columns.")
      .params<AdaptiveParam>()
      .inputs({"data"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        check_nchw(in[0], "AdaptiveAvgPooling2D", "data");
        int64_t oh, ow;
        adaptive_size(prm.get<AdaptiveParam>(), oh, ow);
        assign_shape(out[0], Shape({in[0][0], in[0][1], oh, ow}), "AdaptiveAvgPooling2D", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "AdaptiveAvgPooling2D", { adaptive_pool<T>(c.inputs[0], c.outputs[0], false); });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_contrib_AdaptiveAvgPooling2D"), n.params,
                       {n.out_grads[0], n.inputs[0]})[0]};
      });
  MX_REGISTER_OP(_backward_contrib_AdaptiveAvgPooling2D)
      .doc("Gradient of AdaptiveAvgPooling2D: inputs (out_grad, data).")
      .params<AdaptiveParam>()
      .inputs({"out_grad", "data"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_contrib_AdaptiveAvgPooling2D", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "AdaptiveAvgPooling2D", { adaptive_pool<T>(c.outputs[0], c.inputs[0], true); });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
