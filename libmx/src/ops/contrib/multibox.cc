// The SSD detection ops of MXNet's contrib namespace (semantics of MXNet 1.9.1):
// _contrib_MultiBoxPrior (anchor boxes per feature-map cell), _contrib_MultiBoxTarget (training
// targets: anchor-to-ground-truth matching, optional hard negative mining, encoded offsets) and
// _contrib_MultiBoxDetection (decoding, thresholding and per-class NMS). None has a gradient in
// MXNet (zeros flow back), so neither here.
#include <algorithm>
#include <cmath>

#include "ops/registry.h"

namespace mx {
namespace {

std::vector<Var> zero_grads(GradBuilder &b, const GradNode &n) {
  std::vector<Var> g;
  for (auto &x : n.inputs) g.push_back(b.emit1("zeros_like", {}, {x}));
  return g;
}
const std::vector<DType> kFloat{DType::f32, DType::f64};

// ---------------------------------------------------------------- MultiBoxPrior
struct PriorParam {
  std::vector<double> sizes, ratios, steps, offsets;
  bool clip;
  static void describe(ParamDecl<PriorParam> &d) {
    d.field("sizes", &PriorParam::sizes).def(std::vector<double>{1.0}).doc("List of sizes of generated MultiBoxPriores.");
    d.field("ratios", &PriorParam::ratios).def(std::vector<double>{1.0})
        .doc("List of aspect ratios of generated MultiBoxPriores.");
    d.field("clip", &PriorParam::clip).def(false).doc("Whether to clip out-of-boundary boxes.");
    d.field("steps", &PriorParam::steps).def(std::vector<double>{-1.0, -1.0})
        .doc("Priorbox step across y and x, -1 for auto calculation.");
    d.field("offsets", &PriorParam::offsets).def(std::vector<double>{0.5, 0.5})
        .doc("Priorbox center offsets, y and x respectively");
  }
};

void check_prior(const PriorParam &p) {
  const char *op = "MultiBoxPrior";
  MX_CHECK(!p.sizes.empty() && !p.ratios.empty(), MX_ERR_INVALID_ARGUMENT, op, ": sizes and ratios must not be empty");
  MX_CHECK(p.steps.size() == 2, MX_ERR_INVALID_ARGUMENT, op, ": steps must be (step_y, step_x), got ", p.steps.size(),
           " values");
  MX_CHECK(p.offsets.size() == 2, MX_ERR_INVALID_ARGUMENT, op, ": offsets must be (offset_y, offset_x), got ",
           p.offsets.size(), " values");
  for (double o : p.offsets)
    MX_CHECK(o >= 0 && o <= 1, MX_ERR_INVALID_ARGUMENT, op, ": offsets must lie in [0, 1], got ", o);
  MX_CHECK(p.steps[0] * p.steps[1] >= 0, MX_ERR_INVALID_ARGUMENT, op,
           ": give both step_y and step_x, or neither (-1), got (", p.steps[0], ", ", p.steps[1], ")");
}

// ---------------------------------------------------------------- MultiBoxTarget
struct TargetParam {
  double overlap_threshold, ignore_label, negative_mining_ratio, negative_mining_thresh;
  int64_t minimum_negative_samples;
  std::vector<double> variances;
  static void describe(ParamDecl<TargetParam> &d) {
    d.field("overlap_threshold", &TargetParam::overlap_threshold).def(0.5).doc("Anchor-GT overlap threshold to be regarded as a positive match.");
    d.field("ignore_label", &TargetParam::ignore_label).def(-1.0).doc("Label for ignored anchors.");
    d.field("negative_mining_ratio", &TargetParam::negative_mining_ratio).def(-1.0)
        .doc("Max negative to positive samples ratio, use -1 to disable mining");
    d.field("negative_mining_thresh", &TargetParam::negative_mining_thresh).def(0.5)
        .doc("Threshold used for negative mining.");
    d.field("minimum_negative_samples", &TargetParam::minimum_negative_samples).def(0)
        .doc("Minimum number of negative samples (accepted; MXNet 1.9.1 does not use it).");
    d.field("variances", &TargetParam::variances).def(std::vector<double>{0.1, 0.1, 0.2, 0.2})
        .doc("Variances to be encoded in box regression target.");
  }
};

template <typename T>
void multibox_target(const TargetParam &p, const NDArray &anchor, const NDArray &label, const NDArray &cls_pred,
                     const NDArray &loc_t, const NDArray &loc_m, const NDArray &cls_t) {
  const char *op = "MultiBoxTarget";
  MX_CHECK(p.variances.size() == 4, MX_ERR_INVALID_ARGUMENT, op, ": variances must have 4 values, got ",
           p.variances.size());
  const int64_t A = anchor.shape()[1], B = label.shape()[0], L = label.shape()[1], W = label.shape()[2];
  const int64_t C = cls_pred.shape()[1];
  const T *anc = anchor.data<T>(), *lab = label.data<T>(), *pred = cls_pred.data<T>();
  T *lt = loc_t.data<T>(), *lm = loc_m.data<T>(), *ct = cls_t.data<T>();
  std::fill(lt, lt + loc_t.size(), T(0));
  std::fill(lm, lm + loc_m.size(), T(0));
  std::fill(ct, ct + cls_t.size(), static_cast<T>(p.ignore_label));
  const float vx = static_cast<float>(p.variances[0]), vy = static_cast<float>(p.variances[1]),
              vw = static_cast<float>(p.variances[2]), vh = static_cast<float>(p.variances[3]);
  std::vector<T> iou(static_cast<size_t>(A * L));
  for (int64_t b = 0; b < B; ++b) {
    const T *gt = lab + b * L * W;
    // IoU of every anchor with every label row (as T; 0 when the union is 0).
    for (int64_t j = 0; j < A; ++j)
      for (int64_t k = 0; k < L; ++k) {
        const T *a = anc + j * 4, *g = gt + k * W + 1;
        const T inter = std::max(T(0), std::min(a[2], g[2]) - std::max(a[0], g[0])) *
                        std::max(T(0), std::min(a[3], g[3]) - std::max(a[1], g[1]));
        const T uni = (a[2] - a[0]) * (a[3] - a[1]) + (g[2] - g[0]) * (g[3] - g[1]) - inter;
        iou[static_cast<size_t>(j * L + k)] = uni == T(0) ? T(0) : inter / uni;
      }
    int64_t nvalid = 0;  // labels up to the first row whose class is -1 (padding)
    while (nvalid < L && static_cast<float>(gt[nvalid * W]) != -1.0f) ++nvalid;
    if (nvalid == 0) continue;
    auto ov = [&](int64_t j, int64_t k) { return static_cast<float>(iou[static_cast<size_t>(j * L + k)]); };
    std::vector<bool> gt_done(static_cast<size_t>(nvalid), false);
    std::vector<std::pair<float, int64_t>> best(static_cast<size_t>(A), {-1.0f, -1});
    std::vector<int> flag(static_cast<size_t>(A), -1);  // 1 positive, 0 negative, -1 ignored
    int64_t npos = 0;
    // Greedy: the best remaining (anchor, ground truth) pair first, until every ground truth has one.
    while (std::find(gt_done.begin(), gt_done.end(), false) != gt_done.end()) {
      int64_t ba = -1, bg = -1;
      float bo = 1e-6f;
      for (int64_t j = 0; j < A; ++j) {
        if (flag[static_cast<size_t>(j)] == 1) continue;
        for (int64_t k = 0; k < nvalid; ++k)
          if (!gt_done[static_cast<size_t>(k)] && ov(j, k) > bo) ba = j, bg = k, bo = ov(j, k);
      }
      if (ba < 0) break;
      best[static_cast<size_t>(ba)] = {bo, bg};
      ++npos;
      gt_done[static_cast<size_t>(bg)] = true;
      flag[static_cast<size_t>(ba)] = 1;
    }
    auto best_gt = [&](int64_t j) {
      std::pair<float, int64_t> r{-1.0f, -1};
      for (int64_t k = 0; k < nvalid; ++k)
        if (ov(j, k) > r.first) r = {ov(j, k), k};
      return r;
    };
    if (p.overlap_threshold > 0)  // then every anchor overlapping a ground truth enough
      for (int64_t j = 0; j < A; ++j) {
        if (flag[static_cast<size_t>(j)] == 1) continue;
        auto m = best_gt(j);
        if (m.second < 0) continue;
        best[static_cast<size_t>(j)] = m;
        if (m.first > static_cast<float>(p.overlap_threshold)) {
          ++npos;
          gt_done[static_cast<size_t>(m.second)] = true;
          flag[static_cast<size_t>(j)] = 1;
        }
      }
    if (p.negative_mining_ratio > 0) {
      MX_CHECK(p.negative_mining_thresh > 0, MX_ERR_INVALID_ARGUMENT, op,
               ": negative_mining_thresh must be > 0 with negative mining, got ", p.negative_mining_thresh);
      int64_t nneg = static_cast<int64_t>(static_cast<float>(npos) * static_cast<float>(p.negative_mining_ratio));
      nneg = std::min(nneg, A - npos);
      if (nneg > 0) {
        // Hardest negatives: lowest background probability (softmax over classes) first.
        const T *pr = pred + b * C * A;
        std::vector<std::pair<float, int64_t>> cand;
        for (int64_t j = 0; j < A; ++j) {
          if (flag[static_cast<size_t>(j)] == 1) continue;
          if (best[static_cast<size_t>(j)].first < 0) {
            auto m = best_gt(j);
            if (m.second >= 0) best[static_cast<size_t>(j)] = m;
          }
          if (best[static_cast<size_t>(j)].first < static_cast<float>(p.negative_mining_thresh) &&
              flag[static_cast<size_t>(j)] == -1) {
            T mx = pr[j];
            for (int64_t k = 1; k < C; ++k) mx = std::max(mx, pr[j + A * k]);
            T sum = 0;
            for (int64_t k = 0; k < C; ++k) sum += std::exp(pr[j + A * k] - mx);
            cand.push_back({-static_cast<float>(std::exp(pr[j] - mx) / sum), j});
          }
        }
        MX_CHECK(static_cast<int64_t>(cand.size()) >= nneg, MX_ERR_INVALID_ARGUMENT, op, ": negative mining wants ",
                 nneg, " negatives but only ", cand.size(), " anchors lie below negative_mining_thresh");
        std::stable_sort(cand.begin(), cand.end(), [](const std::pair<float, int64_t> &x,
                                                      const std::pair<float, int64_t> &y) { return x.first > y.first; });
        for (int64_t i = 0; i < nneg; ++i) flag[static_cast<size_t>(cand[static_cast<size_t>(i)].second)] = 0;
      }
    } else {
      for (auto &f : flag)
        if (f != 1) f = 0;
    }
    for (int64_t j = 0; j < A; ++j) {
      T *t = lt + (b * A + j) * 4, *m = lm + (b * A + j) * 4;
      if (flag[static_cast<size_t>(j)] == 1) {
        const T *g = gt + best[static_cast<size_t>(j)].second * W;
        ct[b * A + j] = g[0] + T(1);  // 0 is the background class
        std::fill(m, m + 4, T(1));
        const T *a = anc + j * 4;
        const float aw = static_cast<float>(a[2]) - static_cast<float>(a[0]),
                    ah = static_cast<float>(a[3]) - static_cast<float>(a[1]);
        const float ax = (static_cast<float>(a[0]) + static_cast<float>(a[2])) * 0.5f,
                    ay = (static_cast<float>(a[1]) + static_cast<float>(a[3])) * 0.5f;
        const float gw = static_cast<float>(g[3]) - static_cast<float>(g[1]),
                    gh = static_cast<float>(g[4]) - static_cast<float>(g[2]);
        const float gx = (static_cast<float>(g[1]) + static_cast<float>(g[3])) * 0.5f,
                    gy = (static_cast<float>(g[2]) + static_cast<float>(g[4])) * 0.5f;
        t[0] = static_cast<T>((gx - ax) / aw / vx);
        t[1] = static_cast<T>((gy - ay) / ah / vy);
        t[2] = static_cast<T>(std::log(gw / aw) / vw);
        t[3] = static_cast<T>(std::log(gh / ah) / vh);
      } else if (flag[static_cast<size_t>(j)] == 0) {
        ct[b * A + j] = T(0);
        std::fill(m, m + 4, T(0));
      }
    }
  }
}

// ---------------------------------------------------------------- MultiBoxDetection
struct DetectionParam {
  bool clip, force_suppress;
  double threshold, nms_threshold;
  int64_t background_id, nms_topk;
  std::vector<double> variances;
  static void describe(ParamDecl<DetectionParam> &d) {
    d.field("clip", &DetectionParam::clip).def(true).doc("Clip out-of-boundary boxes.");
    d.field("threshold", &DetectionParam::threshold).def(0.01).doc("Threshold to be a positive prediction.");
    d.field("background_id", &DetectionParam::background_id).def(0)
        .doc("Background id (accepted; class 0 is the background, as in MXNet 1.9.1).");
    d.field("nms_threshold", &DetectionParam::nms_threshold).def(0.5).doc("Non-maximum suppression threshold.");
    d.field("force_suppress", &DetectionParam::force_suppress).def(false)
        .doc("Suppress all detections regardless of class_id.");
    d.field("variances", &DetectionParam::variances).def(std::vector<double>{0.1, 0.1, 0.2, 0.2})
        .doc("Variances to be decoded from box regression output.");
    d.field("nms_topk", &DetectionParam::nms_topk).def(-1).doc("Keep maximum top k detections before nms, -1 for no limit.");
  }
};

template <typename T>
void multibox_detection(const DetectionParam &p, const NDArray &cls_prob, const NDArray &loc_pred,
                        const NDArray &anchor, const NDArray &out) {
  MX_CHECK(p.variances.size() == 4, MX_ERR_INVALID_ARGUMENT, "MultiBoxDetection: variances must have 4 values, got ",
           p.variances.size());
  const int64_t B = cls_prob.shape()[0], C = cls_prob.shape()[1], A = cls_prob.shape()[2];
  const T *prob = cls_prob.data<T>(), *loc = loc_pred.data<T>(), *anc = anchor.data<T>();
  T *o = out.data<T>();
  std::fill(o, o + out.size(), T(-1));
  const float v[4] = {static_cast<float>(p.variances[0]), static_cast<float>(p.variances[1]),
                      static_cast<float>(p.variances[2]), static_cast<float>(p.variances[3])};
  std::vector<T> rows(static_cast<size_t>(A * 6));
  auto clip01 = [&](T x) { return p.clip ? std::max(T(0), std::min(T(1), x)) : x; };
  for (int64_t b = 0; b < B; ++b) {
    const T *pr = prob + b * C * A, *lp = loc + b * A * 4;
    T *ob = o + b * A * 6;
    for (int64_t i = 0; i < A; ++i) {
      T score = -1;
      int64_t id = 0;
      for (int64_t j = 1; j < C; ++j)
        if (pr[j * A + i] > score) score = pr[j * A + i], id = j;
      if (id > 0 && score < static_cast<T>(static_cast<float>(p.threshold))) id = 0;
      T *r = rows.data() + i * 6;
      r[0] = static_cast<T>(id - 1);
      r[1] = score;
      const T *a = anc + i * 4, *d = lp + i * 4;
      const T aw = a[2] - a[0], ah = a[3] - a[1], ax = (a[0] + a[2]) / T(2), ay = (a[1] + a[3]) / T(2);
      const T ox = d[0] * static_cast<T>(v[0]) * aw + ax, oy = d[1] * static_cast<T>(v[1]) * ah + ay;
      const T ow = std::exp(d[2] * static_cast<T>(v[2])) * aw / T(2), oh = std::exp(d[3] * static_cast<T>(v[3])) * ah / T(2);
      r[2] = clip01(ox - ow), r[3] = clip01(oy - oh), r[4] = clip01(ox + ow), r[5] = clip01(oy + oh);
    }
    int64_t nvalid = 0;  // detections (class >= 0) packed to the front, in anchor order
    for (int64_t i = 0; i < A; ++i)
      if (rows[static_cast<size_t>(i * 6)] >= 0) std::copy(&rows[static_cast<size_t>(i * 6)], &rows[static_cast<size_t>(i * 6)] + 6, ob + 6 * nvalid++);
    if (nvalid < 1 || p.nms_threshold <= 0 || p.nms_threshold > 1) continue;
    std::vector<T> packed(ob, ob + A * 6);
    std::vector<int64_t> order(static_cast<size_t>(nvalid));
    for (int64_t i = 0; i < nvalid; ++i) order[static_cast<size_t>(i)] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t x, int64_t y) { return packed[static_cast<size_t>(x * 6 + 1)] > packed[static_cast<size_t>(y * 6 + 1)]; });
    int64_t keep = nvalid;
    if (p.nms_topk > 0 && p.nms_topk < keep) {
      keep = p.nms_topk;
      for (int64_t i = keep; i < nvalid; ++i) ob[i * 6] = -1;  // MXNet marks only the class of the rest
    }
    for (int64_t i = 0; i < keep; ++i)
      std::copy(&packed[static_cast<size_t>(order[static_cast<size_t>(i)] * 6)],
                &packed[static_cast<size_t>(order[static_cast<size_t>(i)] * 6)] + 6, ob + i * 6);
    for (int64_t i = 0; i < keep; ++i) {
      const T *ri = ob + i * 6;
      if (ri[0] < 0) continue;
      for (int64_t j = i + 1; j < keep; ++j) {
        T *rj = ob + j * 6;
        if (rj[0] < 0 || !(p.force_suppress || ri[0] == rj[0])) continue;
        const T *x = ri + 2, *y = rj + 2;
        const T w = std::max(T(0), std::min(x[2], y[2]) - std::max(x[0], y[0]));
        const T h = std::max(T(0), std::min(x[3], y[3]) - std::max(x[1], y[1]));
        const T inter = w * h, uni = (x[2] - x[0]) * (x[3] - x[1]) + (y[2] - y[0]) * (y[3] - y[1]) - inter;
        const T iou = uni <= 0 ? T(0) : inter / uni;
        if (iou >= static_cast<T>(static_cast<float>(p.nms_threshold))) rj[0] = -1;
      }
    }
  }
}

const int registered = [] {
  MX_REGISTER_OP(_contrib_MultiBoxPrior)
      .doc("Generates anchor boxes (corner format, relative to the image) for every cell of a (B, C, H, W) feature "
           "map: one per size at the first ratio, then one per further ratio at the first size. Output (1, H*W*A, 4).")
      .params<PriorParam>()
      .inputs({"data"})
      .dtypes(kFloat)
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &pp = p.get<PriorParam>();
        check_prior(pp);
        if (!in[0].known()) return false;
        MX_CHECK(in[0].ndim() >= 4 && in[0][2] > 0 && in[0][3] > 0, MX_ERR_SHAPE,
                 "MultiBoxPrior: data must be (batch, channel, height, width) with height and width > 0, got ",
                 in[0].str());
        const int64_t na = static_cast<int64_t>(pp.sizes.size() + pp.ratios.size()) - 1;
        assign_shape(out[0], Shape({1, in[0][2] * in[0][3] * na, 4}), "MultiBoxPrior", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<PriorParam>();
        const int64_t H = c.inputs[0].shape()[2], W = c.inputs[0].shape()[3];
        float sy = static_cast<float>(p.steps[0]), sx = static_cast<float>(p.steps[1]);
        if (sy <= 0 || sx <= 0) sy = 1.f / static_cast<float>(H), sx = 1.f / static_cast<float>(W);
        const float oy = static_cast<float>(p.offsets[0]), ox = static_cast<float>(p.offsets[1]);
        std::vector<std::pair<float, float>> wh;  // half extents of the anchors of one cell
        const float r0 = std::sqrt(static_cast<float>(p.ratios[0]));
        for (double s : p.sizes)
          wh.push_back({static_cast<float>(s) * H / W * r0 / 2, static_cast<float>(s) / r0 / 2});
        for (size_t j = 1; j < p.ratios.size(); ++j) {
          const float r = std::sqrt(static_cast<float>(p.ratios[j])), s = static_cast<float>(p.sizes[0]);
          wh.push_back({s * H / W * r / 2, s / r / 2});
        }
        MX_DTYPE_SWITCH_FLOAT(c.outputs[0].dtype(), T, "MultiBoxPrior", {
          T *o = c.outputs[0].data<T>();
          auto put = [&](float v) { *o++ = static_cast<T>(p.clip ? std::min(1.f, std::max(0.f, v)) : v); };
          for (int64_t r = 0; r < H; ++r)
            for (int64_t col = 0; col < W; ++col) {
              const float cy = (static_cast<float>(r) + oy) * sy, cx = (static_cast<float>(col) + ox) * sx;
              for (auto &e : wh) put(cx - e.first), put(cy - e.second), put(cx + e.first), put(cy + e.second);
            }
        });
      })
      .grad(zero_grads);

  MX_REGISTER_OP(_contrib_MultiBoxTarget)
      .doc("SSD training targets: matches anchors (1, A, 4) to labels (B, L, >=5: class, xmin, ymin, xmax, ymax; "
           "rows of class -1 are padding), optionally mines hard negatives from cls_pred (B, classes, A). Outputs "
           "loc_target and loc_mask (B, A*4) and cls_target (B, A; 0 background, class+1, ignore_label).")
      .params<TargetParam>()
      .inputs({"anchor", "label", "cls_pred"})
      .outputs({"loc_target", "loc_mask", "cls_target"})
      .dtypes(kFloat)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const char *op = "MultiBoxTarget";
        if (!in[0].known() || !in[1].known() || !in[2].known()) return false;
        MX_CHECK(in[0].ndim() == 3 && in[0][0] == 1 && in[0][1] > 0 && in[0][2] == 4, MX_ERR_SHAPE, op,
                 ": anchor must be (1, num_anchors > 0, 4) (shared by the batch), got ", in[0].str());
        MX_CHECK(in[1].ndim() == 3 && in[1][1] > 0 && in[1][2] >= 5, MX_ERR_SHAPE, op,
                 ": label must be (batch, num_labels > 0, width >= 5), got ", in[1].str());
        MX_CHECK(in[2].ndim() == 3 && in[2][2] == in[0][1] && in[2][0] == in[1][0], MX_ERR_SHAPE, op,
                 ": cls_pred must be (batch, num_classes, num_anchors) = (", in[1][0], ", C, ", in[0][1], "), got ",
                 in[2].str());
        assign_shape(out[0], Shape({in[1][0], in[0][1] * 4}), op, "loc_target");
        assign_shape(out[1], Shape({in[1][0], in[0][1] * 4}), op, "loc_mask");
        assign_shape(out[2], Shape({in[1][0], in[0][1]}), op, "cls_target");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "MultiBoxTarget",
                              multibox_target<T>(c.p<TargetParam>(), c.inputs[0], c.inputs[1], c.inputs[2], c.outputs[0],
                                                 c.outputs[1], c.outputs[2]));
      })
      .grad(zero_grads);

  MX_REGISTER_OP(_contrib_MultiBoxDetection)
      .doc("SSD detections: per anchor the best non-background class of cls_prob (B, classes, A) and its decoded box "
           "from loc_pred (B, A*4) and anchor (1, A, 4); rows [class, score, xmin, ymin, xmax, ymax] sorted by score "
           "with per-class NMS (-1 class: removed). Output (B, A, 6).")
      .params<DetectionParam>()
      .inputs({"cls_prob", "loc_pred", "anchor"})
      .dtypes(kFloat)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const char *op = "MultiBoxDetection";
        if (!in[0].known() || !in[1].known() || !in[2].known()) return false;
        MX_CHECK(in[0].ndim() == 3 && in[1].ndim() == 2 && in[2].ndim() == 3 && in[2][2] == 4 && in[2][1] > 0, MX_ERR_SHAPE,
                 op, ": cls_prob must be (B, classes, A), loc_pred (B, A*4), anchor (1, A, 4); got ", in[0].str(), ", ",
                 in[1].str(), ", ", in[2].str());
        MX_CHECK(in[0][2] == in[2][1] && in[1][1] == in[0][2] * 4 && in[1][0] == in[0][0], MX_ERR_SHAPE, op,
                 ": the number of anchors disagrees: cls_prob ", in[0].str(), ", loc_pred ", in[1].str(), ", anchor ",
                 in[2].str());
        assign_shape(out[0], Shape({in[0][0], in[2][1], 6}), op, "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "MultiBoxDetection",
                              multibox_detection<T>(c.p<DetectionParam>(), c.inputs[0], c.inputs[1], c.inputs[2],
                                                    c.outputs[0]));
      })
      .grad(zero_grads);
  return 0;
}();

}  // namespace
}  // namespace mx
