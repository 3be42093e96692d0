// _contrib_DeformableConvolution (deformable convolution v1, semantics of MXNet 1.9.1's CPU kernel):
// a 2-d convolution whose kernel taps are moved by learned offsets. offset has
// 2 * kh * kw * num_deformable_group channels (for each deformable group and tap (i, j): the row
// shift at channel 2 * (i * kw + j), the column shift at the next one), one value per output
// position. A tap at a real-valued position (h, w) reads the input bilinearly when 0 <= h < H and
// 0 <= w < W (rows/columns past the last one repeat it), else 0. Gradients: data (the adjoint of
// that sampling), offset (its derivative), weight and bias, as a fused backward op.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/blas.h"
#include "ops/registry.h"

namespace mx {
namespace {

struct DeformConvParam {
  std::vector<int64_t> kernel, stride, dilate, pad;
  int64_t num_filter, num_group, num_deformable_group, workspace;
  bool no_bias;
  std::string layout;
  static void describe(ParamDecl<DeformConvParam> &d) {
    d.field("kernel", &DeformConvParam::kernel).required().doc("Convolution kernel size: (h, w)");
    d.field("stride", &DeformConvParam::stride).def({}).doc("Convolution stride: (h, w). Defaults to 1 for each dimension.");
    d.field("dilate", &DeformConvParam::dilate).def({}).doc("Convolution dilate: (h, w). Defaults to 1 for each dimension.");
    d.field("pad", &DeformConvParam::pad).def({}).doc("Zero pad for convolution: (h, w). Defaults to no padding.");
    d.field("num_filter", &DeformConvParam::num_filter).required().doc("Convolution filter(channel) number");
    d.field("num_group", &DeformConvParam::num_group).def(1).doc("Number of group partitions.");
    d.field("num_deformable_group", &DeformConvParam::num_deformable_group).def(1)
        .doc("Number of deformable group partitions.");
    d.field("workspace", &DeformConvParam::workspace).def(1024).doc("Maximum temporary workspace in MB (ignored).");
    d.field("no_bias", &DeformConvParam::no_bias).def(false).doc("Whether to disable bias parameter.");
    d.field("layout", &DeformConvParam::layout).def("None").choices({"None", "NCHW"})
        .doc("Set layout for input, output and weight (NCHW only).");
  }
};

// Geometry of one call, checked.
struct Geo {
  int64_t B, C, H, W, F, Ho, Wo, kh, kw, sh, sw, dh, dw, ph, pw, G, DG;
  int64_t K() const { return kh * kw; }
};

int64_t pick(const std::vector<int64_t> &v, size_t i, int64_t def) { return v.empty() ? def : v[i]; }

Geo geometry(const DeformConvParam &p, const Shape &data) {
  const char *op = "DeformableConvolution";
  MX_CHECK(p.kernel.size() == 2, MX_ERR_INVALID_ARGUMENT, op, ": kernel must be 2-d (h, w), got ", Shape(p.kernel).str());
  for (auto *v : {&p.stride, &p.dilate, &p.pad})
    MX_CHECK(v->empty() || v->size() == 2, MX_ERR_INVALID_ARGUMENT, op, ": stride, dilate and pad must be 2-d, got ",
             Shape(*v).str());
  MX_CHECK(data.ndim() == 4, MX_ERR_SHAPE, op, ": data must be 4-d (batch, channel, height, width), got ", data.str());
  Geo g{data[0], data[1], data[2], data[3], p.num_filter, 0, 0, p.kernel[0], p.kernel[1], pick(p.stride, 0, 1),
        pick(p.stride, 1, 1), pick(p.dilate, 0, 1), pick(p.dilate, 1, 1), pick(p.pad, 0, 0), pick(p.pad, 1, 0),
        p.num_group, p.num_deformable_group};
  MX_CHECK(g.kh > 0 && g.kw > 0 && g.sh > 0 && g.sw > 0 && g.dh > 0 && g.dw > 0 && g.ph >= 0 && g.pw >= 0,
           MX_ERR_INVALID_ARGUMENT, op, ": kernel, stride and dilate must be positive and pad non-negative");
  MX_CHECK(g.F > 0 && g.G > 0 && g.DG > 0, MX_ERR_INVALID_ARGUMENT, op,
           ": num_filter, num_group and num_deformable_group must be positive");
  MX_CHECK(g.C % g.G == 0 && g.F % g.G == 0, MX_ERR_INVALID_ARGUMENT, op, ": num_group ", g.G,
           " must divide the input channels (", g.C, ") and num_filter (", g.F, ")");
  MX_CHECK(g.C % g.DG == 0, MX_ERR_INVALID_ARGUMENT, op, ": num_deformable_group ", g.DG,
           " must divide the input channels (", g.C, ")");
  const int64_t eh = g.dh * (g.kh - 1) + 1, ew = g.dw * (g.kw - 1) + 1;
  MX_CHECK(g.H + 2 * g.ph >= eh && g.W + 2 * g.pw >= ew, MX_ERR_SHAPE, op, ": the dilated kernel (", eh, ", ", ew,
           ") is larger than the padded input ", data.str());
  g.Ho = (g.H + 2 * g.ph - eh) / g.sh + 1;
  g.Wo = (g.W + 2 * g.pw - ew) / g.sw + 1;
  return g;
}

// Bilinear taps of position (h, w): up to 4 (pixel offset, weight) pairs; none outside the map.
template <typename T> int taps(T h, T w, int64_t H, int64_t W, int64_t idx[4], T wt[4]) {
  if (!(h >= 0 && w >= 0 && h < static_cast<T>(H) && w < static_cast<T>(W))) return 0;
  int64_t hl = static_cast<int64_t>(std::floor(h)), wl = static_cast<int64_t>(std::floor(w)), hh, wh;
  if (hl >= H - 1) hh = hl = H - 1, h = static_cast<T>(hl);
  else hh = hl + 1;
  if (wl >= W - 1) wh = wl = W - 1, w = static_cast<T>(wl);
  else wh = wl + 1;
  const T lh = h - static_cast<T>(hl), lw = w - static_cast<T>(wl);
  idx[0] = hl * W + wl, idx[1] = hl * W + wh, idx[2] = hh * W + wl, idx[3] = hh * W + wh;
  wt[0] = (1 - lh) * (1 - lw), wt[1] = (1 - lh) * lw, wt[2] = lh * (1 - lw), wt[3] = lh * lw;
  return 4;
}

// Calls f(c, i, j, ho, wo, col_row, h, w, oh_index, ow_index) for every column entry of image b:
// col_row = c * K + i * kw + j; (h, w) the sampling position; o*_index the offset entries used.
template <typename T, typename F> void for_taps(const Geo &g, const T *offset_b, F f) {
  const int64_t cpg = g.C / g.DG, HW = g.Ho * g.Wo;
  for (int64_t c = 0; c < g.C; ++c) {
    const T *off = offset_b + (c / cpg) * 2 * g.K() * HW;
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t tap = i * g.kw + j;
        for (int64_t ho = 0; ho < g.Ho; ++ho)
          for (int64_t wo = 0; wo < g.Wo; ++wo) {
            const int64_t oh = (2 * tap * g.Ho + ho) * g.Wo + wo, ow = oh + HW;
            const T h = static_cast<T>(ho * g.sh - g.ph + i * g.dh) + off[oh];
            const T w = static_cast<T>(wo * g.sw - g.pw + j * g.dw) + off[ow];
            f(c, c * g.K() + tap, ho * g.Wo + wo, h, w, (c / cpg) * 2 * g.K() * HW + oh,
              (c / cpg) * 2 * g.K() * HW + ow);
          }
      }
  }
}

template <typename T> void im2col(const Geo &g, const T *data_b, const T *offset_b, T *col) {
  const int64_t HW = g.Ho * g.Wo;
  for_taps<T>(g, offset_b, [&](int64_t c, int64_t row, int64_t pos, T h, T w, int64_t, int64_t) {
    int64_t idx[4];
    T wt[4];
    const int n = taps(h, w, g.H, g.W, idx, wt);
    const T *plane = data_b + c * g.H * g.W;
    T v = 0;
    for (int k = 0; k < n; ++k) v += wt[k] * plane[idx[k]];
    col[row * HW + pos] = v;
  });
}

template <typename T> void forward(const DeformConvParam &p, const OpCall &c) {
  const Geo g = geometry(p, c.inputs[0].shape());
  const T *x = c.inputs[0].data<T>(), *off = c.inputs[1].data<T>(), *wgt = c.inputs[2].data<T>();
  const T *bias = p.no_bias ? nullptr : c.inputs[3].data<T>();
  T *y = c.outputs[0].data<T>();
  const int64_t HW = g.Ho * g.Wo, rows = g.C * g.K(), Fg = g.F / g.G, Rg = rows / g.G;
  std::vector<T> col(static_cast<size_t>(rows * HW));
  for (int64_t b = 0; b < g.B; ++b) {
    im2col<T>(g, x + b * g.C * g.H * g.W, off + b * 2 * g.K() * g.DG * HW, col.data());
    T *yb = y + b * g.F * HW;
    for (int64_t gi = 0; gi < g.G; ++gi)
      gemm(false, false, Fg, HW, Rg, T(1), wgt + gi * Fg * Rg, Rg, col.data() + gi * Rg * HW, HW, T(0),
           yb + gi * Fg * HW, HW);
    if (bias)
      for (int64_t f = 0; f < g.F; ++f)
        for (int64_t k = 0; k < HW; ++k) yb[f * HW + k] += bias[f];
  }
}

template <typename T> void backward(const DeformConvParam &p, const OpCall &c) {
  const Geo g = geometry(p, c.inputs[1].shape());
  const T *gy = c.inputs[0].data<T>(), *x = c.inputs[1].data<T>(), *off = c.inputs[2].data<T>(),
          *wgt = c.inputs[3].data<T>();
  T *gx = c.outputs[0].data<T>(), *goff = c.outputs[1].data<T>(), *gw = c.outputs[2].data<T>();
  T *gb = p.no_bias ? nullptr : c.outputs[3].data<T>();
  const int64_t HW = g.Ho * g.Wo, rows = g.C * g.K(), Fg = g.F / g.G, Rg = rows / g.G;
  std::fill(gx, gx + c.outputs[0].size(), T(0));
  std::fill(goff, goff + c.outputs[1].size(), T(0));
  std::fill(gw, gw + c.outputs[2].size(), T(0));
  if (gb) std::fill(gb, gb + g.F, T(0));
  std::vector<T> col(static_cast<size_t>(rows * HW)), gcol(static_cast<size_t>(rows * HW));
  for (int64_t b = 0; b < g.B; ++b) {
    const T *xb = x + b * g.C * g.H * g.W, *ob = off + b * 2 * g.K() * g.DG * HW, *gyb = gy + b * g.F * HW;
    im2col<T>(g, xb, ob, col.data());
    for (int64_t gi = 0; gi < g.G; ++gi) {
      // weight gradient: out_grad_g (Fg x HW) . col_g^T (HW x Rg); column gradient: W_g^T . out_grad_g
      gemm(false, true, Fg, Rg, HW, T(1), gyb + gi * Fg * HW, HW, col.data() + gi * Rg * HW, HW, T(1),
           gw + gi * Fg * Rg, Rg);
      gemm(true, false, Rg, HW, Fg, T(1), wgt + gi * Fg * Rg, Rg, gyb + gi * Fg * HW, HW, T(0),
           gcol.data() + gi * Rg * HW, HW);
    }
    if (gb)
      for (int64_t f = 0; f < g.F; ++f)
        for (int64_t k = 0; k < HW; ++k) gb[f] += gyb[f * HW + k];
    T *gxb = gx + b * g.C * g.H * g.W, *gob = goff + b * 2 * g.K() * g.DG * HW;
    for_taps<T>(g, ob, [&](int64_t ch, int64_t row, int64_t pos, T h, T w, int64_t oh, int64_t ow) {
      int64_t idx[4];
      T wt[4];
      if (taps(h, w, g.H, g.W, idx, wt) == 0) return;
      const T gc = gcol[static_cast<size_t>(row * HW + pos)];
      const T *plane = xb + ch * g.H * g.W;
      T *gplane = gxb + ch * g.H * g.W;
      for (int k = 0; k < 4; ++k) gplane[idx[k]] += wt[k] * gc;
      // d/dh and d/dw of the bilinear value (zero along a repeated last row/column)
      const T lw = wt[1] + wt[3], lh = wt[2] + wt[3];
      const T dvdh = (1 - lw) * (plane[idx[2]] - plane[idx[0]]) + lw * (plane[idx[3]] - plane[idx[1]]);
      const T dvdw = (1 - lh) * (plane[idx[1]] - plane[idx[0]]) + lh * (plane[idx[3]] - plane[idx[2]]);
      gob[oh] += dvdh * gc;
      gob[ow] += dvdw * gc;
    });
  }
}

std::vector<std::string> input_names(const Params &p) {
  if (p.get<DeformConvParam>().no_bias) return {"data", "offset", "weight"};
  return {"data", "offset", "weight", "bias"};
}

const std::vector<DType> kFloat{DType::f32, DType::f64};

const int registered = [] {
  MX_REGISTER_OP(_contrib_DeformableConvolution)
      .doc("Deformable convolution (2-d, NCHW): each kernel tap reads the input at its position moved by the "
           "matching offset channels (bilinear sampling). offset: (batch, 2 * kh * kw * num_deformable_group, "
           "out_height, out_width).")
      .params<DeformConvParam>()
      .inputs_fn(input_names)
      .dtypes(kFloat)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = pp.get<DeformConvParam>();
        if (!in[0].known()) return false;
        const Geo g = geometry(p, in[0]);
        const char *op = "DeformableConvolution";
        assign_shape(in[1], Shape({g.B, 2 * g.K() * g.DG, g.Ho, g.Wo}), op, "offset");
        assign_shape(in[2], Shape({g.F, g.C / g.G, g.kh, g.kw}), op, "weight");
        if (!p.no_bias) assign_shape(in[3], Shape({g.F}), op, "bias");
        assign_shape(out[0], Shape({g.B, g.F, g.Ho, g.Wo}), op, "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "DeformableConvolution", forward<T>(c.p<DeformConvParam>(), c));
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto g = b.emit(&Registry::get().require("_backward_contrib_DeformableConvolution"), n.params,
                        {n.out_grads[0], n.inputs[0], n.inputs[1], n.inputs[2]});
        g.resize(n.inputs.size());
        return g;
      });

  MX_REGISTER_OP(_backward_contrib_DeformableConvolution)
      .doc("Gradient of DeformableConvolution: inputs (out_grad, data, offset, weight); outputs the gradients of "
           "data, offset, weight and (unless no_bias) bias.")
      .params<DeformConvParam>()
      .inputs({"out_grad", "data", "offset", "weight"})
      .num_outputs([](const Params &p) { return p.get<DeformConvParam>().no_bias ? 3 : 4; })
      .outputs({"data_grad", "offset_grad", "weight_grad", "bias_grad"})
      .dtypes(kFloat)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known() || !in[2].known() || !in[3].known()) return false;
        const char *op = "_backward_contrib_DeformableConvolution";
        assign_shape(out[0], in[1], op, "data_grad");
        assign_shape(out[1], in[2], op, "offset_grad");
        assign_shape(out[2], in[3], op, "weight_grad");
        if (!pp.get<DeformConvParam>().no_bias) assign_shape(out[3], Shape({in[3][0]}), op, "bias_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "DeformableConvolution backward",
                              backward<T>(c.p<DeformConvParam>(), c));
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
