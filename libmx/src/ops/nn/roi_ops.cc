// Region-of-interest pooling for detection networks (MXNet 1.x): ROIPooling (max pooling over
// each ROI's grid of bins, Fast R-CNN) and _contrib_ROIAlign (average of bilinear samples per
// bin, Mask R-CNN; no quantisation of the ROI). data is (N, C, H, W); rois is (R, 5) rows of
// [batch_index, x1, y1, x2, y2] in image coordinates, scaled by spatial_scale. Output
// (R, C, PH, PW) (ROIAlign position_sensitive: (R, C / (PH*PW), PH, PW), bin (ph, pw) of output
// channel c reading input channel (c*PH + ph)*PW + pw). Gradients flow to data only; rois get
// zeros, as in MXNet.
#include <cmath>
#include <limits>

#include "ops/nn/nn_common.h"

namespace mx {
namespace {

struct ROIPoolingParam {
  std::vector<int64_t> pooled_size;
  double spatial_scale = 1;
  static void describe(ParamDecl<ROIPoolingParam> &d) {
    d.field("pooled_size", &ROIPoolingParam::pooled_size).required().doc("ROI pooling output shape (h,w)");
    d.field("spatial_scale", &ROIPoolingParam::spatial_scale).required()
        .doc("Ratio of input feature map height (or w) to raw image height (or w). Equals the reciprocal of total "
             "stride in convolutional layers");
    d.check([](const ROIPoolingParam &p, const std::string &op) {
      MX_CHECK(p.pooled_size.size() == 2 && p.pooled_size[0] >= 1 && p.pooled_size[1] >= 1, MX_ERR_INVALID_ARGUMENT,
               op, ": pooled_size must be two positive integers (h, w), got ", print_value(p.pooled_size));
      MX_CHECK(p.spatial_scale > 0 && std::isfinite(p.spatial_scale), MX_ERR_INVALID_ARGUMENT, op,
               ": spatial_scale must be positive, got ", p.spatial_scale);
    });
  }
};

struct ROIAlignParam {
  std::vector<int64_t> pooled_size;
  double spatial_scale = 1;
  int64_t sample_ratio = -1;
  bool position_sensitive = false, aligned = false;
  static void describe(ParamDecl<ROIAlignParam> &d) {
    d.field("pooled_size", &ROIAlignParam::pooled_size).required().doc("ROI Align output roi feature map height and width: (h, w)");
    d.field("spatial_scale", &ROIAlignParam::spatial_scale).required()
        .doc("Ratio of input feature map height (or w) to raw image height (or w). Equals the reciprocal of total "
             "stride in convolutional layers");
    d.field("sample_ratio", &ROIAlignParam::sample_ratio).def(-1)
        .doc("Optional sampling ratio of ROI align, using adaptive size by default.");
    d.field("position_sensitive", &ROIAlignParam::position_sensitive).def(false)
        .doc("Whether to perform position-sensitive RoI pooling. PSRoIPooling is first proposaled by R-FCN and it "
             "can reduce model size and improve performance.");
    d.field("aligned", &ROIAlignParam::aligned).def(false)
        .doc("Center-aligned ROIAlign introduced in Detectron2. To enable, set aligned to True.");
    d.check([](const ROIAlignParam &p, const std::string &op) {
      MX_CHECK(p.pooled_size.size() == 2 && p.pooled_size[0] >= 1 && p.pooled_size[1] >= 1, MX_ERR_INVALID_ARGUMENT,
               op, ": pooled_size must be two positive integers (h, w), got ", print_value(p.pooled_size));
      MX_CHECK(p.spatial_scale > 0 && std::isfinite(p.spatial_scale), MX_ERR_INVALID_ARGUMENT, op,
               ": spatial_scale must be positive, got ", p.spatial_scale);
    });
  }
};

// Common shape checks; returns false while data or rois are unknown.
bool roi_shapes(const char *op, ShapeVec &in, int64_t ph, int64_t pw, int64_t channel_div, Shape *out) {
  if (!in[0].known() || !in[1].known()) return false;
  MX_CHECK(in[0].ndim() == 4, MX_ERR_SHAPE, op, ": data must be 4-d (N, C, H, W), got ", in[0].str());
  MX_CHECK(in[1].ndim() == 2 && in[1][1] == 5, MX_ERR_SHAPE, op,
           ": rois must have shape (R, 5) rows of [batch_index, x1, y1, x2, y2], got ", in[1].str());
  MX_CHECK(in[0][1] % channel_div == 0, MX_ERR_SHAPE, op, ": position_sensitive needs the channel count ", in[0][1],
           " to be a multiple of pooled h*w = ", channel_div);
  *out = Shape{in[1][0], in[0][1] / channel_div, ph, pw};
  return true;
}

// The batch index is truncated to an integer, as MXNet does (so -1e-5 is image 0).
int64_t roi_batch(double v, int64_t n, const char *op, int64_t r) {
  MX_CHECK(std::isfinite(v) && std::trunc(v) >= 0 && std::trunc(v) < static_cast<double>(n), MX_ERR_INVALID_ARGUMENT,
           op, ": roi ", r, " has batch index ", v, " but data has ", n, " images");
  return static_cast<int64_t>(v);
}

// ---- ROIPooling
template <typename T> void roipool_forward(const OpCall &c) {
  const auto &p = c.p<ROIPoolingParam>();
  const NDArray &x = c.inputs[0], &rois = c.inputs[1];
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t R = rois.shape()[0], PH = p.pooled_size[0], PW = p.pooled_size[1];
  const T *xp = x.data<T>(), *rp = rois.data<T>();
  T *o = c.outputs[0].data<T>();
  int64_t *arg = c.outputs[1].data<int64_t>();
  const double sc = p.spatial_scale;
  for (int64_t r = 0; r < R; ++r) {
    const T *roi = rp + r * 5;
    const int64_t b = roi_batch(static_cast<double>(roi[0]), N, "ROIPooling", r);
    const int64_t sw = static_cast<int64_t>(std::round(static_cast<double>(roi[1]) * sc));
    const int64_t sh = static_cast<int64_t>(std::round(static_cast<double>(roi[2]) * sc));
    const int64_t ew = static_cast<int64_t>(std::round(static_cast<double>(roi[3]) * sc));
    const int64_t eh = static_cast<int64_t>(std::round(static_cast<double>(roi[4]) * sc));
    const int64_t rh = std::max<int64_t>(eh - sh + 1, 1), rw = std::max<int64_t>(ew - sw + 1, 1);
    const double bh = static_cast<double>(rh) / static_cast<double>(PH);
    const double bw = static_cast<double>(rw) / static_cast<double>(PW);
    parallel_for(C, 1, [&](int64_t c0, int64_t c1) {
      for (int64_t ch = c0; ch < c1; ++ch) {
        const int64_t plane = (b * C + ch) * H * W;
        for (int64_t ph = 0; ph < PH; ++ph) {
          for (int64_t pw = 0; pw < PW; ++pw) {
            int64_t hs = static_cast<int64_t>(std::floor(static_cast<double>(ph) * bh)) + sh;
            int64_t he = static_cast<int64_t>(std::ceil(static_cast<double>(ph + 1) * bh)) + sh;
            int64_t ws = static_cast<int64_t>(std::floor(static_cast<double>(pw) * bw)) + sw;
            int64_t we = static_cast<int64_t>(std::ceil(static_cast<double>(pw + 1) * bw)) + sw;
            hs = std::min(std::max<int64_t>(hs, 0), H);
            he = std::min(std::max<int64_t>(he, 0), H);
            ws = std::min(std::max<int64_t>(ws, 0), W);
            we = std::min(std::max<int64_t>(we, 0), W);
            const int64_t oi = ((r * C + ch) * PH + ph) * PW + pw;
            T best = T(0);
            int64_t bi = -1;
            for (int64_t h = hs; h < he; ++h)
              for (int64_t w = ws; w < we; ++w) {
                const int64_t idx = plane + h * W + w;
                if (bi < 0 || xp[idx] > best) {
                  best = xp[idx];
                  bi = idx;
                }
              }
            o[oi] = best;  // empty bins give 0
            arg[oi] = bi;
          }
        }
      }
    });
  }
}

// ---- ROIAlign: visit each bin's bilinear sample points, calling f(out_index, data_index, weight)
// for every contributing pixel (weights already divided by the sample count).
template <typename T, typename F> void roialign_visit(const ROIAlignParam &p, const Shape &xs, const T *rp, int64_t R, F f) {
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const int64_t PH = p.pooled_size[0], PW = p.pooled_size[1];
  const int64_t Cout = p.position_sensitive ? C / (PH * PW) : C;
  const double off = p.aligned ? 0.5 : 0.0;
  for (int64_t r = 0; r < R; ++r) {
    const T *roi = rp + r * 5;
    const int64_t b = roi_batch(static_cast<double>(roi[0]), N, "ROIAlign", r);
    const double sw = static_cast<double>(roi[1]) * p.spatial_scale - off;
    const double sh = static_cast<double>(roi[2]) * p.spatial_scale - off;
    double rw = static_cast<double>(roi[3]) * p.spatial_scale - off - sw;
    double rh = static_cast<double>(roi[4]) * p.spatial_scale - off - sh;
    if (!p.aligned) {  // malformed ROIs are forced to at least 1x1
      rw = std::max(rw, 1.0);
      rh = std::max(rh, 1.0);
    }
    const double bh = rh / static_cast<double>(PH), bw = rw / static_cast<double>(PW);
    const int64_t gh = p.sample_ratio > 0 ? p.sample_ratio : static_cast<int64_t>(std::ceil(rh / static_cast<double>(PH)));
    const int64_t gw = p.sample_ratio > 0 ? p.sample_ratio : static_cast<int64_t>(std::ceil(rw / static_cast<double>(PW)));
    const double count = static_cast<double>(std::max<int64_t>(gh * gw, 1));
    for (int64_t ch = 0; ch < Cout; ++ch)
      for (int64_t ph = 0; ph < PH; ++ph)
        for (int64_t pw = 0; pw < PW; ++pw) {
          const int64_t cin = p.position_sensitive ? (ch * PH + ph) * PW + pw : ch;
          const int64_t plane = (b * C + cin) * H * W;
          const int64_t oi = ((r * Cout + ch) * PH + ph) * PW + pw;
          for (int64_t iy = 0; iy < gh; ++iy) {
            double y = sh + static_cast<double>(ph) * bh + (static_cast<double>(iy) + 0.5) * bh / static_cast<double>(gh);
            for (int64_t ix = 0; ix < gw; ++ix) {
              double xx = sw + static_cast<double>(pw) * bw + (static_cast<double>(ix) + 0.5) * bw / static_cast<double>(gw);
              if (y < -1.0 || y > static_cast<double>(H) || xx < -1.0 || xx > static_cast<double>(W)) continue;
              double yy = std::max(y, 0.0), xv = std::max(xx, 0.0);
              int64_t yl = static_cast<int64_t>(yy), xl = static_cast<int64_t>(xv), yh, xh;
              if (yl >= H - 1) { yl = yh = H - 1; yy = static_cast<double>(yl); } else { yh = yl + 1; }
              if (xl >= W - 1) { xl = xh = W - 1; xv = static_cast<double>(xl); } else { xh = xl + 1; }
              const double ly = yy - static_cast<double>(yl), lx = xv - static_cast<double>(xl);
              const double hy = 1.0 - ly, hx = 1.0 - lx;
              f(oi, plane + yl * W + xl, hy * hx / count);
              f(oi, plane + yl * W + xh, hy * lx / count);
              f(oi, plane + yh * W + xl, ly * hx / count);
              f(oi, plane + yh * W + xh, ly * lx / count);
            }
          }
        }
  }
}

bool roialign_shape(const Params &pr, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  const auto &p = pr.get<ROIAlignParam>();
  Shape o;
  const int64_t div = p.position_sensitive ? p.pooled_size[0] * p.pooled_size[1] : 1;
  if (!roi_shapes("ROIAlign", in, p.pooled_size[0], p.pooled_size[1], div, &o)) return false;
  assign_shape(out[0], o, "ROIAlign", "output");
  return true;
}

const int registered = [] {
  MX_REGISTER_OP(ROIPooling)
      .doc("Performs region of interest (ROI) max pooling on the input: each ROI [batch_index, x1, y1, x2, y2] "
           "(scaled by spatial_scale and rounded) is divided into pooled_size bins and each bin is max-pooled. "
           "Empty bins give 0.")
      .params<ROIPoolingParam>()
      .inputs({"data", "rois"})
      .outputs({"output", "maxidx"})
      .num_visible_outputs([](const Params &) { return 1; })
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        int t = in[0] >= 0 ? in[0] : in[1];
        if (t < 0) return false;
        for (auto &v : in) if (v < 0) v = t;
        out[0] = t;
        out[1] = static_cast<int>(DType::i64);
        return true;
      })
      .shape([](const Params &pr, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = pr.get<ROIPoolingParam>();
        Shape o;
        if (!roi_shapes("ROIPooling", in, p.pooled_size[0], p.pooled_size[1], 1, &o)) return false;
        assign_shape(out[0], o, "ROIPooling", "output");
        assign_shape(out[1], o, "ROIPooling", "maxidx");
        return true;
      })
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "ROIPooling", { roipool_forward<T>(c); }); })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_ROIPooling"), n.params,
                       {n.out_grads[0], n.outputs[1], n.inputs[0]})[0],
                b.emit1("zeros_like", {}, {n.inputs[1]})};
      });
  MX_REGISTER_OP(_backward_ROIPooling)
      .doc("Gradient of ROIPooling: inputs (out_grad, maxidx, data); each output gradient goes to its max.")
      .params<ROIPoolingParam>()
      .inputs({"out_grad", "maxidx", "data"})
      .no_grad()
      .dtypes({DType::f32, DType::f64, DType::i64})  // maxidx is int64
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[2] < 0) return false;
        out[0] = in[2];
        return true;
      })
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[2].known()) return false;
        assign_shape(out[0], in[2], "_backward_ROIPooling", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.outputs[0].dtype(), T, "_backward_ROIPooling", {
          const T *g = c.inputs[0].data<T>();
          const int64_t *arg = c.inputs[1].data<int64_t>();
          T *dx = c.outputs[0].data<T>();
          const int64_t nd = c.outputs[0].size();
          std::fill(dx, dx + nd, T(0));
          for (int64_t i = 0; i < c.inputs[0].size(); ++i)
            if (arg[i] >= 0 && arg[i] < nd) dx[arg[i]] += g[i];
        });
      });

  MX_REGISTER_OP(_contrib_ROIAlign)
      .doc("ROI Align (Mask R-CNN): each ROI bin is the average of bilinearly interpolated samples (sample_ratio "
           "per axis, or ceil(bin size) when <= 0), without quantising the ROI. position_sensitive gives "
           "PSRoIAlign; aligned shifts ROIs by half a pixel (Detectron2).")
      .params<ROIAlignParam>()
      .inputs({"data", "rois"})
      .shape(roialign_shape)
      .cpu([](const OpCall &c) {
        const auto &p = c.p<ROIAlignParam>();
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "ROIAlign", {
          const T *xp = c.inputs[0].data<T>();
          T *o = c.outputs[0].data<T>();
          std::vector<double> acc(static_cast<size_t>(c.outputs[0].size()), 0.0);
          roialign_visit<T>(p, c.inputs[0].shape(), c.inputs[1].data<T>(), c.inputs[1].shape()[0],
                            [&](int64_t oi, int64_t xi, double w) { acc[static_cast<size_t>(oi)] += w * static_cast<double>(xp[xi]); });
          for (size_t i = 0; i < acc.size(); ++i) o[i] = static_cast<T>(acc[i]);
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_ROIAlign"), n.params,
                       {n.out_grads[0], n.inputs[1], n.inputs[0]})[0],
                b.emit1("zeros_like", {}, {n.inputs[1]})};
      });
  MX_REGISTER_OP(_backward_ROIAlign)
      .doc("Gradient of ROIAlign with respect to data: inputs (out_grad, rois, data).")
      .params<ROIAlignParam>()
      .inputs({"out_grad", "rois", "data"})
      .no_grad()
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[2].known()) return false;
        assign_shape(out[0], in[2], "_backward_ROIAlign", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<ROIAlignParam>();
        MX_DTYPE_SWITCH_FLOAT(c.outputs[0].dtype(), T, "_backward_ROIAlign", {
          const T *g = c.inputs[0].data<T>();
          std::vector<double> acc(static_cast<size_t>(c.outputs[0].size()), 0.0);
          roialign_visit<T>(p, c.outputs[0].shape(), c.inputs[1].data<T>(), c.inputs[1].shape()[0],
                            [&](int64_t oi, int64_t xi, double w) { acc[static_cast<size_t>(xi)] += w * static_cast<double>(g[oi]); });
          T *dx = c.outputs[0].data<T>();
          for (size_t i = 0; i < acc.size(); ++i) dx[i] = static_cast<T>(acc[i]);
        });
      });
  return 0;
}();

}  // namespace
}  // namespace mx
