// Faster R-CNN region proposals (semantics of MXNet 1.9.1): _contrib_Proposal (one image) and
// _contrib_MultiProposal (a batch). Anchors (ratios x scales around a feature_stride cell, shifted
// over the H x W map) are moved by bbox_pred (centre/size deltas, or corner deltas with iou_loss),
// clipped to the image; boxes smaller than rpn_min_size * scale, or on map cells outside the
// image, keep a score of -1; the rpn_pre_nms_top_n best by score go through NMS (threshold), and
// the first rpn_post_nms_top_n kept boxes fill the output, repeated cyclically when fewer survive.
// Output rows [batch_index, x1, y1, x2, y2], plus the scores (visible with output_score). No gradient
// (zeros flow back, as in MXNet). Computed in float32, as MXNet's kernel.
#include <algorithm>
#include <cmath>

#include "ops/registry.h"

namespace mx {
namespace {

struct ProposalParam {
  int64_t rpn_pre_nms_top_n, rpn_post_nms_top_n, rpn_min_size, feature_stride;
  double threshold;
  std::vector<double> scales, ratios;
  bool output_score, iou_loss;
  static void describe(ParamDecl<ProposalParam> &d) {
    d.field("rpn_pre_nms_top_n", &ProposalParam::rpn_pre_nms_top_n).def(6000)
        .doc("Number of top scoring boxes to keep before applying NMS to RPN proposals");
    d.field("rpn_post_nms_top_n", &ProposalParam::rpn_post_nms_top_n).def(300)
        .doc("Number of top scoring boxes to keep after applying NMS to RPN proposals");
    d.field("threshold", &ProposalParam::threshold).def(0.7).doc("NMS value, below which to suppress.");
    d.field("rpn_min_size", &ProposalParam::rpn_min_size).def(16).doc("Minimum height or width in proposal");
    d.field("scales", &ProposalParam::scales).def(std::vector<double>{4, 8, 16, 32})
        .doc("Used to generate anchor windows by enumerating scales");
    d.field("ratios", &ProposalParam::ratios).def(std::vector<double>{0.5, 1, 2})
        .doc("Used to generate anchor windows by enumerating ratios");
    d.field("feature_stride", &ProposalParam::feature_stride).def(16)
        .doc("The size of the receptive field each unit in the convolution layer of the rpn, for example the product "
             "of all stride's prior to this layer.");
    d.field("output_score", &ProposalParam::output_score).def(false).doc("Add score to outputs");
    d.field("iou_loss", &ProposalParam::iou_loss).def(false).doc("Usage of IoU Loss");
  }
};

// Base anchors [x1, y1, x2, y2] of one cell, ratios outer, scales inner (MXNet's order and rounding).
std::vector<float> base_anchors(const ProposalParam &p) {
  std::vector<float> out;
  const float w = static_cast<float>(p.feature_stride), h = w;  // base box (0, 0, stride-1, stride-1)
  const float cx = 0.5f * (w - 1.0f), cy = 0.5f * (h - 1.0f);
  for (double rd : p.ratios)
    for (double sd : p.scales) {
      const float ratio = static_cast<float>(rd), scale = static_cast<float>(sd);
      const float size_ratios = std::floor(w * h / ratio);
      const float nw = std::floor(std::sqrt(size_ratios) + 0.5f) * scale;
      const float nh = std::floor(nw / scale * ratio + 0.5f) * scale;
      out.insert(out.end(), {cx - 0.5f * (nw - 1.0f), cy - 0.5f * (nh - 1.0f), cx + 0.5f * (nw - 1.0f),
                             cy + 0.5f * (nh - 1.0f)});
    }
  return out;
}

bool proposal_shape(const ProposalParam &p, ShapeVec &in, ShapeVec &out, bool multi) {
  const char *op = multi ? "MultiProposal" : "Proposal";
  if (!in[0].known()) return false;
  const Shape &s = in[0];
  MX_CHECK(s.ndim() == 4, MX_ERR_SHAPE, op, ": cls_prob must be (batch, 2 * num_anchors, height, width), got ", s.str());
  MX_CHECK(multi || s[0] == 1, MX_ERR_SHAPE, op, ": takes one image (batch 1; MultiProposal takes batches), got ",
           s.str());
  const int64_t na = static_cast<int64_t>(p.ratios.size() * p.scales.size());
  MX_CHECK(s[1] == 2 * na, MX_ERR_SHAPE, op, ": cls_prob has ", s[1], " channels but 2 * len(ratios) * len(scales) = ",
           2 * na);
  MX_CHECK(p.rpn_post_nms_top_n > 0 && p.feature_stride > 0, MX_ERR_INVALID_ARGUMENT, op,
           ": rpn_post_nms_top_n and feature_stride must be positive, got ", p.rpn_post_nms_top_n, " and ",
           p.feature_stride);
  assign_shape(in[1], Shape({s[0], s[1] * 2, s[2], s[3]}), op, "bbox_pred");
  assign_shape(in[2], Shape({s[0], 3}), op, "im_info");
  assign_shape(out[0], Shape({s[0] * p.rpn_post_nms_top_n, 5}), op, "output");
  assign_shape(out[1], Shape({s[0] * p.rpn_post_nms_top_n, 1}), op, "score");
  return true;
}

void proposal_forward(const ProposalParam &p, const OpCall &c, const char *op) {
  const Shape &s = c.inputs[0].shape();
  const int64_t B = s[0], A = s[1] / 2, H = s[2], W = s[3], count = A * H * W;
  const float *prob = c.inputs[0].data<float>(), *deltas = c.inputs[1].data<float>(), *info = c.inputs[2].data<float>();
  float *out = c.outputs[0].data<float>(), *out_score = c.outputs[1].data<float>();
  const int64_t pre = std::min(p.rpn_pre_nms_top_n > 0 ? p.rpn_pre_nms_top_n : count, count);
  const int64_t post_cap = std::min(p.rpn_post_nms_top_n, pre);
  const float stride = static_cast<float>(p.feature_stride);
  const std::vector<float> base = base_anchors(p);
  std::vector<float> box(static_cast<size_t>(count * 5));
  for (int64_t b = 0; b < B; ++b) {
    const float im_h = info[b * 3], im_w = info[b * 3 + 1], im_scale = info[b * 3 + 2];
    const int64_t real_h = static_cast<int64_t>(im_h / stride), real_w = static_cast<int64_t>(im_w / stride);
    MX_CHECK(real_h <= H && real_w <= W, MX_ERR_INVALID_ARGUMENT, op, ": im_info of image ", b, " (", im_h, " x ", im_w,
             ") covers ", real_h, " x ", real_w, " cells but the feature map has only ", H, " x ", W);
    const float *d = deltas + b * 4 * A * H * W;
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w)
        for (int64_t a = 0; a < A; ++a) {
          float *r = &box[static_cast<size_t>(((h * W + w) * A + a) * 5)];
          const float *ba = &base[static_cast<size_t>(a * 4)];
          const float x1 = ba[0] + static_cast<float>(w) * stride, y1 = ba[1] + static_cast<float>(h) * stride;
          const float x2 = ba[2] + static_cast<float>(w) * stride, y2 = ba[3] + static_cast<float>(h) * stride;
          auto delta = [&](int k) { return d[((a * 4 + k) * H + h) * W + w]; };
          float px1, py1, px2, py2;
          if (p.iou_loss) {
            px1 = x1 + delta(0), py1 = y1 + delta(1), px2 = x2 + delta(2), py2 = y2 + delta(3);
          } else {
            const float bw = x2 - x1 + 1.0f, bh = y2 - y1 + 1.0f;
            const float cx = static_cast<float>(x1 + 0.5 * (bw - 1.0)), cy = static_cast<float>(y1 + 0.5 * (bh - 1.0));
            const float pcx = delta(0) * bw + cx, pcy = delta(1) * bh + cy;
            const float pw = std::exp(delta(2)) * bw, ph = std::exp(delta(3)) * bh;
            px1 = static_cast<float>(pcx - 0.5 * (pw - 1.0)), py1 = static_cast<float>(pcy - 0.5 * (ph - 1.0));
            px2 = static_cast<float>(pcx + 0.5 * (pw - 1.0)), py2 = static_cast<float>(pcy + 0.5 * (ph - 1.0));
          }
          r[0] = std::max(std::min(px1, im_w - 1.0f), 0.0f);
          r[1] = std::max(std::min(py1, im_h - 1.0f), 0.0f);
          r[2] = std::max(std::min(px2, im_w - 1.0f), 0.0f);
          r[3] = std::max(std::min(py2, im_h - 1.0f), 0.0f);
          r[4] = prob[((b * 2 * A + A + a) * H + h) * W + w];  // foreground score
          if (h >= real_h || w >= real_w) r[4] = -1.0f;
          // too small: grown by min_size / 2 on each side and scored -1 (MXNet keeps it as a candidate)
          const float min_size = static_cast<float>(p.rpn_min_size) * im_scale;
          if (r[2] - r[0] + 1.0f < min_size || r[3] - r[1] + 1.0f < min_size) {
            r[0] -= min_size / 2, r[1] -= min_size / 2, r[2] += min_size / 2, r[3] += min_size / 2;
            r[4] = -1.0f;
          }
        }
    std::vector<int64_t> order(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) order[static_cast<size_t>(i)] = i;
    std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
      return box[static_cast<size_t>(x * 5 + 4)] > box[static_cast<size_t>(y * 5 + 4)];
    });
    order.resize(static_cast<size_t>(pre));
    auto at = [&](int64_t i, int k) { return box[static_cast<size_t>(order[static_cast<size_t>(i)] * 5 + k)]; };
    std::vector<float> area(static_cast<size_t>(pre));
    for (int64_t i = 0; i < pre; ++i) area[static_cast<size_t>(i)] = (at(i, 2) - at(i, 0) + 1) * (at(i, 3) - at(i, 1) + 1);
    std::vector<bool> gone(static_cast<size_t>(pre), false);
    std::vector<int64_t> keep;
    const float thr = static_cast<float>(p.threshold);
    for (int64_t i = 0; i < pre && static_cast<int64_t>(keep.size()) < post_cap; ++i) {
      if (gone[static_cast<size_t>(i)]) continue;
      keep.push_back(i);
      for (int64_t j = i + 1; j < pre; ++j) {
        if (gone[static_cast<size_t>(j)]) continue;
        const float ww = std::max(0.0f, std::min(at(i, 2), at(j, 2)) - std::max(at(i, 0), at(j, 0)) + 1.0f);
        const float hh = std::max(0.0f, std::min(at(i, 3), at(j, 3)) - std::max(at(i, 1), at(j, 1)) + 1.0f);
        const float inter = ww * hh;
        if (inter / (area[static_cast<size_t>(i)] + area[static_cast<size_t>(j)] - inter) > thr)
          gone[static_cast<size_t>(j)] = true;
      }
    }
    for (int64_t i = 0; i < p.rpn_post_nms_top_n; ++i) {
      const int64_t k = keep[static_cast<size_t>(i) % keep.size()];  // fewer survivors: repeated cyclically
      float *o = out + (b * p.rpn_post_nms_top_n + i) * 5;
      o[0] = static_cast<float>(b);
      for (int j = 0; j < 4; ++j) o[j + 1] = at(k, j);
      out_score[b * p.rpn_post_nms_top_n + i] = at(k, 4);
    }
  }
}

std::vector<Var> zero_grads(GradBuilder &b, const GradNode &n) {
  std::vector<Var> g;
  for (auto &x : n.inputs) g.push_back(b.emit1("zeros_like", {}, {x}));
  return g;
}

void register_proposal(const char *name, bool multi) {
  OpBuilder::create(name)
      .doc(multi ? "Region proposals (RPN) for a batch of images: output (batch * rpn_post_nms_top_n, 5) rows "
                   "[batch_index, x1, y1, x2, y2] and scores (batch * rpn_post_nms_top_n, 1)."
                 : "Region proposals (RPN) for one image: output (rpn_post_nms_top_n, 5) rows [0, x1, y1, x2, y2] and "
                   "scores (rpn_post_nms_top_n, 1).")
      .params<ProposalParam>()
      .inputs({"cls_prob", "bbox_pred", "im_info"})
      .outputs({"output", "score"})
      .num_visible_outputs([](const Params &p) { return p.get<ProposalParam>().output_score ? 2 : 1; })
      .dtypes({DType::f32})
      .shape([multi](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        return proposal_shape(p.get<ProposalParam>(), in, out, multi);
      })
      .cpu([multi](const OpCall &c) { proposal_forward(c.p<ProposalParam>(), c, multi ? "MultiProposal" : "Proposal"); })
      .grad(zero_grads);
}

const int registered = [] {
  register_proposal("_contrib_Proposal", false);
  register_proposal("_contrib_MultiProposal", true);
  return 0;
}();

}  // namespace
}  // namespace mx
