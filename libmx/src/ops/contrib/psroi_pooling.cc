// _contrib_PSROIPooling (R-FCN's position-sensitive ROI pooling, semantics of MXNet 1.9.1): output
// (num_rois, output_dim, pooled_size, pooled_size); bin (ph, pw) of output channel k averages
// input channel (k * group_size + gh) * group_size + gw over the bin's pixels, where (gh, gw) is the
// bin's cell in a group_size x group_size grid. ROIs are [batch_index, x1, y1, x2, y2] in image
// coordinates (rounded, scaled by spatial_scale). The data gradient spreads each output gradient
// evenly over its bin's pixels; the ROIs get none.
#include <algorithm>
#include <cmath>

#include "ops/registry.h"

namespace mx {
namespace {

struct PSROIParam {
  double spatial_scale;
  int64_t output_dim, pooled_size, group_size;
  static void describe(ParamDecl<PSROIParam> &d) {
    d.field("spatial_scale", &PSROIParam::spatial_scale).required()
        .doc("Ratio of input feature map height (or w) to raw image height (or w). Equals the reciprocal of total "
             "stride in convolutional layers");
    d.field("output_dim", &PSROIParam::output_dim).required().doc("fix output dim");
    d.field("pooled_size", &PSROIParam::pooled_size).required().doc("fix pooled size");
    d.field("group_size", &PSROIParam::group_size).def(0).doc("fix group size (0: pooled_size)");
  }
  int64_t group() const { return group_size == 0 ? pooled_size : group_size; }
};

void check_psroi(const PSROIParam &p, const Shape &data, const Shape &rois) {
  const char *op = "PSROIPooling";
  MX_CHECK(p.spatial_scale > 0 && p.spatial_scale <= 1, MX_ERR_INVALID_ARGUMENT, op,
           ": spatial_scale must lie in (0, 1], got ", p.spatial_scale);
  MX_CHECK(p.output_dim > 0 && p.pooled_size > 0 && p.group_size >= 0, MX_ERR_INVALID_ARGUMENT, op,
           ": output_dim and pooled_size must be positive and group_size >= 0, got ", p.output_dim, ", ", p.pooled_size,
           ", ", p.group_size);
  MX_CHECK(data.ndim() == 4, MX_ERR_SHAPE, op, ": data must be 4-d (batch, channel, height, width), got ", data.str());
  MX_CHECK(rois.ndim() == 2 && rois[1] == 5, MX_ERR_SHAPE, op, ": rois must be (num_rois, 5), got ", rois.str());
  const int64_t need = p.output_dim * p.group() * p.group();
  MX_CHECK(data[1] >= need, MX_ERR_SHAPE, op, ": data has ", data[1], " channels but output_dim * group_size^2 = ",
           need, " are read");
}

// Visits every (roi, output channel, bin): f(out_index, input channel plane offset, h0, h1, w0, w1).
template <typename T, typename F> void for_bins(const PSROIParam &p, const Shape &data, const T *rois, int64_t nroi, F f) {
  const int64_t C = data[1], H = data[2], W = data[3], P = p.pooled_size, G = p.group();
  const T scale = static_cast<T>(static_cast<float>(p.spatial_scale));
  for (int64_t n = 0; n < nroi; ++n) {
    const T *r = rois + n * 5;
    const int64_t b = static_cast<int64_t>(r[0]);
    MX_CHECK(b >= 0 && b < data[0], MX_ERR_INVALID_ARGUMENT, "PSROIPooling: roi ", n, " has batch index ", r[0],
             " but data has ", data[0], " images");
    const T x0 = static_cast<T>(std::round(r[1])) * scale, y0 = static_cast<T>(std::round(r[2])) * scale;
    const T x1 = static_cast<T>(std::round(r[3]) + 1.) * scale, y1 = static_cast<T>(std::round(r[4]) + 1.) * scale;
    const T rw = std::max(x1 - x0, T(0.1)), rh = std::max(y1 - y0, T(0.1));
    const T bh = rh / static_cast<T>(P), bw = rw / static_cast<T>(P);
    for (int64_t k = 0; k < p.output_dim; ++k)
      for (int64_t ph = 0; ph < P; ++ph)
        for (int64_t pw = 0; pw < P; ++pw) {
          auto clampi = [](int64_t v, int64_t hi) { return std::min(std::max(v, int64_t(0)), hi); };
          const int64_t h0 = clampi(static_cast<int64_t>(std::floor(static_cast<T>(ph) * bh + y0)), H);
          const int64_t h1 = clampi(static_cast<int64_t>(std::ceil(static_cast<T>(ph + 1) * bh + y0)), H);
          const int64_t w0 = clampi(static_cast<int64_t>(std::floor(static_cast<T>(pw) * bw + x0)), W);
          const int64_t w1 = clampi(static_cast<int64_t>(std::ceil(static_cast<T>(pw + 1) * bw + x0)), W);
          const int64_t gw = std::min(std::max(static_cast<int64_t>(std::floor(static_cast<T>(pw) * G / P)), int64_t(0)), G - 1);
          const int64_t gh = std::min(std::max(static_cast<int64_t>(std::floor(static_cast<T>(ph) * G / P)), int64_t(0)), G - 1);
          const int64_t c = (k * G + gh) * G + gw;
          f(((n * p.output_dim + k) * P + ph) * P + pw, (b * C + c) * H * W, h0, h1, w0, w1);
        }
  }
}

const std::vector<DType> kFloat{DType::f32, DType::f64};

const int registered = [] {
  MX_REGISTER_OP(_contrib_PSROIPooling)
      .doc("Position-sensitive ROI pooling (R-FCN): average pooling of each ROI bin over its own channel group. "
           "rois are [batch_index, x1, y1, x2, y2]; output (num_rois, output_dim, pooled_size, pooled_size).")
      .params<PSROIParam>()
      .inputs({"data", "rois"})
      .dtypes(kFloat)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        const auto &p = pp.get<PSROIParam>();
        check_psroi(p, in[0], in[1]);
        assign_shape(out[0], Shape({in[1][0], p.output_dim, p.pooled_size, p.pooled_size}), "PSROIPooling", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<PSROIParam>();
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "PSROIPooling", {
          const T *x = c.inputs[0].data<T>();
          T *o = c.outputs[0].data<T>();
          for_bins<T>(p, c.inputs[0].shape(), c.inputs[1].data<T>(), c.inputs[1].shape()[0],
                      [&](int64_t oi, int64_t plane, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
                        if (h1 <= h0 || w1 <= w0) {
                          o[oi] = T(0);
                          return;
                        }
                        const int64_t W = c.inputs[0].shape()[3];
                        T sum = 0;
                        for (int64_t h = h0; h < h1; ++h)
                          for (int64_t w = w0; w < w1; ++w) sum += x[plane + h * W + w];
                        o[oi] = sum / static_cast<T>((h1 - h0) * (w1 - w0));
                      });
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_contrib_PSROIPooling"), n.params,
                       {n.out_grads[0], n.inputs[0], n.inputs[1]})[0],
                b.emit1("zeros_like", {}, {n.inputs[1]})};
      });

  MX_REGISTER_OP(_backward_contrib_PSROIPooling)
      .doc("Gradient of PSROIPooling with respect to data: inputs (out_grad, data, rois).")
      .params<PSROIParam>()
      .inputs({"out_grad", "data", "rois"})
      .dtypes(kFloat)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_contrib_PSROIPooling", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<PSROIParam>();
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "PSROIPooling backward", {
          const T *g = c.inputs[0].data<T>();
          T *dx = c.outputs[0].data<T>();
          std::fill(dx, dx + c.outputs[0].size(), T(0));
          const int64_t W = c.inputs[1].shape()[3];
          for_bins<T>(p, c.inputs[1].shape(), c.inputs[2].data<T>(), c.inputs[2].shape()[0],
                      [&](int64_t oi, int64_t plane, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
                        if (h1 <= h0 || w1 <= w0) return;
                        const T share = g[oi] / static_cast<T>((h1 - h0) * (w1 - w0));
                        for (int64_t h = h0; h < h1; ++h)
                          for (int64_t w = w0; w < w1; ++w) dx[plane + h * W + w] += share;
                      });
        });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
