// _contrib_DeformableConvolution (deformable convolution v1, semantics of MXNet 1.9.1's CPU kernel)
// and _contrib_ModulatedDeformableConvolution (v2): a 2-d convolution whose kernel taps are moved
// by learned offsets. offset has 2 * kh * kw * num_deformable_group channels (for each deformable
// group and tap (i, j): the row shift at channel 2 * (i * kw + j), the column shift at the next
// one), one value per output position. v1: a tap at a real-valued position (h, w) reads the input
// bilinearly when 0 <= h < H and 0 <= w < W (rows/columns past the last one repeat it), else 0.
// v2: reads it when -1 < h < H and -1 < w < W with pixels outside the map counting as 0, and
// multiplies it by mask (kh * kw * num_deformable_group channels). Gradients: data (the adjoint of
// that sampling), offset (its derivative), mask, weight and bias, as one fused backward op each.
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

struct ModDeformConvParam {  // DeformConvParam's fields plus im2col_step
  std::vector<int64_t> kernel, stride, dilate, pad;
  int64_t num_filter, num_group, num_deformable_group, workspace, im2col_step;
  bool no_bias;
  std::string layout;
  static void describe(ParamDecl<ModDeformConvParam> &d) {
    d.field("kernel", &ModDeformConvParam::kernel).required().doc("Convolution kernel size: (h, w)");
    d.field("stride", &ModDeformConvParam::stride).def({}).doc("Convolution stride: (h, w). Defaults to 1 for each dimension.");
    d.field("dilate", &ModDeformConvParam::dilate).def({}).doc("Convolution dilate: (h, w). Defaults to 1 for each dimension.");
    d.field("pad", &ModDeformConvParam::pad).def({}).doc("Zero pad for convolution: (h, w). Defaults to no padding.");
    d.field("num_filter", &ModDeformConvParam::num_filter).required().doc("Convolution filter(channel) number");
    d.field("num_group", &ModDeformConvParam::num_group).def(1).doc("Number of group partitions.");
    d.field("num_deformable_group", &ModDeformConvParam::num_deformable_group).def(1)
        .doc("Number of deformable group partitions.");
    d.field("workspace", &ModDeformConvParam::workspace).def(1024).doc("Maximum temporary workspace in MB (ignored).");
    d.field("no_bias", &ModDeformConvParam::no_bias).def(false).doc("Whether to disable bias parameter.");
    d.field("im2col_step", &ModDeformConvParam::im2col_step).def(64)
        .doc("Maximum number of images per im2col computation (accepted; MX unfolds one image at a time).");
    d.field("layout", &ModDeformConvParam::layout).def("None").choices({"None", "NCHW"})
        .doc("Set layout for input, output and weight (NCHW only).");
  }
};

int64_t pick(const std::vector<int64_t> &v, size_t i, int64_t def) { return v.empty() ? def : v[i]; }

template <typename P> Geo geometry(const P &p, const Shape &data, bool mod = false) {
  const char *op = mod ? "ModulatedDeformableConvolution" : "DeformableConvolution";
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

// Bilinear taps of position (h, w): corners (low row/col, low/high, high/low, high/high) with
// their weights, fractions lh, lw, and idx -1 for corners that read 0. n = 0: the tap reads 0.
template <typename T> struct Taps {
  int n = 0;
  int64_t idx[4];
  T wt[4], lh, lw;
  T value(const T *plane) const {
    T v = 0;
    for (int k = 0; k < n; ++k)
      if (idx[k] >= 0) v += wt[k] * plane[idx[k]];
    return v;
  }
  T at(const T *plane, int k) const { return idx[k] >= 0 ? plane[idx[k]] : T(0); }
};
template <typename T> Taps<T> taps(T h, T w, int64_t H, int64_t W, bool mod) {
  Taps<T> t;
  const T Hf = static_cast<T>(H), Wf = static_cast<T>(W);
  int64_t hl = static_cast<int64_t>(std::floor(h)), wl = static_cast<int64_t>(std::floor(w)), hh = hl + 1, wh = wl + 1;
  if (mod) {  // v2: (-1, H) x (-1, W), pixels outside the map read 0
    if (!(h > -1 && w > -1 && h < Hf && w < Wf)) return t;
  } else {  // v1: [0, H) x [0, W), the last row/column repeats
    if (!(h >= 0 && w >= 0 && h < Hf && w < Wf)) return t;
    if (hl >= H - 1) hh = hl = H - 1, h = static_cast<T>(hl);
    if (wl >= W - 1) wh = wl = W - 1, w = static_cast<T>(wl);
  }
  t.lh = h - static_cast<T>(hl), t.lw = w - static_cast<T>(wl);
  const int64_t rows[4] = {hl, hl, hh, hh}, cols[4] = {wl, wh, wl, wh};
  for (int k = 0; k < 4; ++k)
    t.idx[k] = rows[k] >= 0 && rows[k] < H && cols[k] >= 0 && cols[k] < W ? rows[k] * W + cols[k] : -1;
  t.wt[0] = (1 - t.lh) * (1 - t.lw), t.wt[1] = (1 - t.lh) * t.lw, t.wt[2] = t.lh * (1 - t.lw), t.wt[3] = t.lh * t.lw;
  t.n = 4;
  return t;
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

// Index of the mask entry of column entry (c, row, pos): (deformable group, tap, position).
int64_t mask_index(const Geo &g, int64_t c, int64_t row, int64_t pos) {
  return ((c / (g.C / g.DG)) * g.K() + row % g.K()) * g.Ho * g.Wo + pos;
}

// mask_b: null for v1.
template <typename T> void im2col(const Geo &g, const T *data_b, const T *offset_b, const T *mask_b, T *col) {
  const int64_t HW = g.Ho * g.Wo;
  for_taps<T>(g, offset_b, [&](int64_t c, int64_t row, int64_t pos, T h, T w, int64_t, int64_t) {
    const T v = taps(h, w, g.H, g.W, mask_b != nullptr).value(data_b + c * g.H * g.W);
    col[row * HW + pos] = mask_b ? v * mask_b[mask_index(g, c, row, pos)] : v;
  });
}

template <typename T, typename P> void forward(const P &p, const OpCall &c, bool mod) {
  const Geo g = geometry(p, c.inputs[0].shape(), mod);
  const size_t m = mod ? 1 : 0;  // v2 has the mask as input 2
  const T *x = c.inputs[0].data<T>(), *off = c.inputs[1].data<T>(), *wgt = c.inputs[2 + m].data<T>();
  const T *mask = mod ? c.inputs[2].data<T>() : nullptr;
  const T *bias = p.no_bias ? nullptr : c.inputs[3 + m].data<T>();
  T *y = c.outputs[0].data<T>();
  const int64_t HW = g.Ho * g.Wo, rows = g.C * g.K(), Fg = g.F / g.G, Rg = rows / g.G;
  std::vector<T> col(static_cast<size_t>(rows * HW));
  for (int64_t b = 0; b < g.B; ++b) {
    im2col<T>(g, x + b * g.C * g.H * g.W, off + b * 2 * g.K() * g.DG * HW, mask ? mask + b * g.K() * g.DG * HW : nullptr,
              col.data());
    T *yb = y + b * g.F * HW;
    for (int64_t gi = 0; gi < g.G; ++gi)
      gemm(false, false, Fg, HW, Rg, T(1), wgt + gi * Fg * Rg, Rg, col.data() + gi * Rg * HW, HW, T(0),
           yb + gi * Fg * HW, HW);
    if (bias)
      for (int64_t f = 0; f < g.F; ++f)
        for (int64_t k = 0; k < HW; ++k) yb[f * HW + k] += bias[f];
  }
}

// inputs (out_grad, data, offset, [mask,] weight); outputs (data, offset, [mask,] weight, [bias]) grads
template <typename T, typename P> void backward(const P &p, const OpCall &c, bool mod) {
  const Geo g = geometry(p, c.inputs[1].shape(), mod);
  const size_t m = mod ? 1 : 0;
  const T *gy = c.inputs[0].data<T>(), *x = c.inputs[1].data<T>(), *off = c.inputs[2].data<T>(),
          *wgt = c.inputs[3 + m].data<T>();
  const T *mask = mod ? c.inputs[3].data<T>() : nullptr;
  T *gx = c.outputs[0].data<T>(), *goff = c.outputs[1].data<T>(), *gw = c.outputs[2 + m].data<T>();
  T *gmask = mod ? c.outputs[2].data<T>() : nullptr;
  T *gb = p.no_bias ? nullptr : c.outputs[3 + m].data<T>();
  const int64_t HW = g.Ho * g.Wo, rows = g.C * g.K(), Fg = g.F / g.G, Rg = rows / g.G;
  std::fill(gx, gx + c.outputs[0].size(), T(0));
  std::fill(goff, goff + c.outputs[1].size(), T(0));
  std::fill(gw, gw + c.outputs[2 + m].size(), T(0));
  if (gmask) std::fill(gmask, gmask + c.outputs[2].size(), T(0));
  if (gb) std::fill(gb, gb + g.F, T(0));
  std::vector<T> col(static_cast<size_t>(rows * HW)), gcol(static_cast<size_t>(rows * HW));
  for (int64_t b = 0; b < g.B; ++b) {
    const T *xb = x + b * g.C * g.H * g.W, *ob = off + b * 2 * g.K() * g.DG * HW, *gyb = gy + b * g.F * HW;
    const T *mb = mask ? mask + b * g.K() * g.DG * HW : nullptr;
    T *gmb = gmask ? gmask + b * g.K() * g.DG * HW : nullptr;
    im2col<T>(g, xb, ob, mb, col.data());
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
      const Taps<T> t = taps(h, w, g.H, g.W, mod);
      if (t.n == 0) return;
      T gc = gcol[static_cast<size_t>(row * HW + pos)];
      const T *plane = xb + ch * g.H * g.W;
      if (mb) {  // col = value * mask
        const int64_t mi = mask_index(g, ch, row, pos);
        gmb[mi] += t.value(plane) * gc;
        gc *= mb[mi];
      }
      T *gplane = gxb + ch * g.H * g.W;
      for (int k = 0; k < 4; ++k)
        if (t.idx[k] >= 0) gplane[t.idx[k]] += t.wt[k] * gc;
      // d/dh and d/dw of the bilinear value (zero along v1's repeated last row/column)
      const T dvdh = (1 - t.lw) * (t.at(plane, 2) - t.at(plane, 0)) + t.lw * (t.at(plane, 3) - t.at(plane, 1));
      const T dvdw = (1 - t.lh) * (t.at(plane, 1) - t.at(plane, 0)) + t.lh * (t.at(plane, 3) - t.at(plane, 2));
      gob[oh] += dvdh * gc;
      gob[ow] += dvdw * gc;
    });
  }
}

template <typename P> std::vector<std::string> input_names(const Params &p, bool mod) {
  std::vector<std::string> v{"data", "offset"};
  if (mod) v.push_back("mask");
  v.push_back("weight");
  if (!p.get<P>().no_bias) v.push_back("bias");
  return v;
}

const std::vector<DType> kFloat{DType::f32, DType::f64};

template <typename P> void register_deformable(const char *name, const char *bwd, bool mod) {
  const char *op = mod ? "ModulatedDeformableConvolution" : "DeformableConvolution";
  const size_t m = mod ? 1 : 0;  // v2 has the mask as input 2
  OpBuilder::create(name)
      .doc(mod ? "Modulated deformable convolution (DCNv2; 2-d, NCHW): each kernel tap reads the input at its "
                 "position moved by the matching offset channels (bilinear, zero outside) times its mask value. "
                 "offset: (batch, 2 * kh * kw * num_deformable_group, out_h, out_w); mask: (batch, kh * kw * "
                 "num_deformable_group, out_h, out_w)."
               : "Deformable convolution (2-d, NCHW): each kernel tap reads the input at its position moved by the "
                 "matching offset channels (bilinear sampling). offset: (batch, 2 * kh * kw * "
                 "num_deformable_group, out_height, out_width).")
      .template params<P>()
      .inputs_fn([mod](const Params &p) { return input_names<P>(p, mod); })
      .dtypes(kFloat)
      .shape([mod, m, op](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = pp.get<P>();
        if (!in[0].known()) return false;
        const Geo g = geometry(p, in[0], mod);
        assign_shape(in[1], Shape({g.B, 2 * g.K() * g.DG, g.Ho, g.Wo}), op, "offset");
        if (mod) assign_shape(in[2], Shape({g.B, g.K() * g.DG, g.Ho, g.Wo}), op, "mask");
        assign_shape(in[2 + m], Shape({g.F, g.C / g.G, g.kh, g.kw}), op, "weight");
        if (!p.no_bias) assign_shape(in[3 + m], Shape({g.F}), op, "bias");
        assign_shape(out[0], Shape({g.B, g.F, g.Ho, g.Wo}), op, "output");
        return true;
      })
      .cpu([mod, op](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, op, forward<T>(c.p<P>(), c, mod)); })
      .grad([bwd, m](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        // backward inputs: out_grad, data, offset, [mask,] weight; outputs one gradient per input
        std::vector<Var> in{n.out_grads[0]};
        for (size_t i = 0; i < 3 + m; ++i) in.push_back(n.inputs[i]);
        auto g = b.emit(&Registry::get().require(bwd), n.params, in);
        g.resize(n.inputs.size());
        return g;
      });

  OpBuilder::create(bwd)
      .doc(mod ? "Gradient of ModulatedDeformableConvolution: inputs (out_grad, data, offset, mask, weight); outputs "
                 "the gradients of data, offset, mask, weight and (unless no_bias) bias."
               : "Gradient of DeformableConvolution: inputs (out_grad, data, offset, weight); outputs the gradients of "
                 "data, offset, weight and (unless no_bias) bias.")
      .template params<P>()
      .inputs(mod ? std::vector<std::string>{"out_grad", "data", "offset", "mask", "weight"}
                  : std::vector<std::string>{"out_grad", "data", "offset", "weight"})
      .num_outputs([m](const Params &p) { return static_cast<int>(3 + m + (p.get<P>().no_bias ? 0 : 1)); })
      .outputs(mod ? std::vector<std::string>{"data_grad", "offset_grad", "mask_grad", "weight_grad", "bias_grad"}
                   : std::vector<std::string>{"data_grad", "offset_grad", "weight_grad", "bias_grad"})
      .dtypes(kFloat)
      .shape([m, bwd](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        for (size_t i = 1; i < 4 + m; ++i)
          if (!in[i].known()) return false;
        for (size_t i = 0; i < 3 + m; ++i) assign_shape(out[i], in[i + 1], bwd, "input gradient");
        if (!pp.get<P>().no_bias) assign_shape(out[3 + m], Shape({in[3 + m][0]}), bwd, "bias_grad");
        return true;
      })
      .cpu([mod, op](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, op, backward<T>(c.p<P>(), c, mod)); })
      .no_grad();
}

const int registered = [] {
  register_deformable<DeformConvParam>("_contrib_DeformableConvolution", "_backward_contrib_DeformableConvolution",
                                       false);
  register_deformable<ModDeformConvParam>("_contrib_ModulatedDeformableConvolution",
                                          "_backward_contrib_ModulatedDeformableConvolution", true);
  return 0;
}();

}  // namespace
}  // namespace mx
