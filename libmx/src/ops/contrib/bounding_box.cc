// Bounding-box ops of MXNet's contrib namespace (semantics of MXNet 1.9.1):
// _contrib_box_nms (alias _contrib_box_non_maximum_suppression), _contrib_box_iou,
// _contrib_bipartite_matching, _contrib_box_encode, _contrib_box_decode.
// box_nms keeps a hidden second output, the input position of every output row (-1 for
// suppressed rows), so its gradient moves each output row's gradient back to where the box
// came from. box_iou, bipartite_matching, box_encode and box_decode have zero gradients, as MXNet.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/registry.h"

namespace mx {
namespace {

enum BoxFormat { kCorner = 0, kCenter = 1 };
int box_format(const std::string &s) { return s == "center" ? kCenter : kCorner; }

// Overlap of two boxes along one axis: (lo, hi) for corner, (centre, size) for center format.
template <typename T> T axis_overlap(const T *a, const T *b, int fmt) {
  T lo, hi;
  if (fmt == kCorner) {
    lo = std::max(a[0], b[0]);
    hi = std::min(a[2], b[2]);
  } else {
    lo = std::max(a[0] - a[2] / 2, b[0] - b[2] / 2);
    hi = std::min(a[0] + a[2] / 2, b[0] + b[2] / 2);
  }
  return hi - lo > 0 ? hi - lo : T(0);
}
template <typename T> T intersection(const T *a, const T *b, int fmt) {
  return axis_overlap(a, b, fmt) * axis_overlap(a + 1, b + 1, fmt);
}
template <typename T> T box_area(const T *b, int fmt) {
  T w = fmt == kCorner ? b[2] - b[0] : b[2], h = fmt == kCorner ? b[3] - b[1] : b[3];
  return (w < 0 || h < 0) ? T(0) : w * h;
}


// ---------------------------------------------------------------- box_nms
struct BoxNMSParam {
  double overlap_thresh, valid_thresh;
  int64_t topk, coord_start, score_index, id_index, background_id;
  bool force_suppress;
  std::string in_format, out_format;
  static void describe(ParamDecl<BoxNMSParam> &d) {
    d.field("overlap_thresh", &BoxNMSParam::overlap_thresh).def(0.5)
        .doc("Overlapping (IoU) threshold to suppress object with smaller score.");
    d.field("valid_thresh", &BoxNMSParam::valid_thresh).def(0.0)
        .doc("Filter input boxes to those whose scores greater than valid_thresh.");
    d.field("topk", &BoxNMSParam::topk).def(-1).doc("Apply nms to topk boxes with descending scores, -1 to no restriction.");
    d.field("coord_start", &BoxNMSParam::coord_start).def(2).doc("Start index of the consecutive 4 coordinates.");
    d.field("score_index", &BoxNMSParam::score_index).def(1).doc("Index of the scores/confidence of boxes.");
    d.field("id_index", &BoxNMSParam::id_index).def(-1).doc("Optional, index of the class categories, -1 to disable.");
    d.field("background_id", &BoxNMSParam::background_id).def(-1)
        .doc("Optional, id of the background class which will be ignored in nms.");
    d.field("force_suppress", &BoxNMSParam::force_suppress).def(false)
        .doc("Optional, if set false and id_index is provided, nms will only apply to boxes belongs to the same category");
    d.field("in_format", &BoxNMSParam::in_format).def("corner").choices({"center", "corner"})
        .doc("The input box encoding type: corner [xmin, ymin, xmax, ymax] or center [x, y, width, height].");
    d.field("out_format", &BoxNMSParam::out_format).def("corner").choices({"center", "corner"})
        .doc("The output box encoding type: corner [xmin, ymin, xmax, ymax] or center [x, y, width, height].");
  }
};

void check_nms_layout(const BoxNMSParam &p, const Shape &s) {
  const char *op = "box_nms";
  MX_CHECK(s.ndim() >= 2, MX_ERR_SHAPE, op, ": data must have at least 2 dimensions (..., num_box, box_width), got ",
           s.str());
  const int64_t width = s[s.ndim() - 1], expected = p.id_index >= 0 ? 6 : 5;
  MX_CHECK(width >= expected, MX_ERR_SHAPE, op, ": the last dimension must have at least ", expected,
           " elements (score, 4 coordinates", p.id_index >= 0 ? ", class id" : "", "), got ", width);
  const int64_t c0 = p.coord_start, c1 = p.coord_start + 3;
  MX_CHECK(p.score_index >= 0 && p.score_index < width, MX_ERR_INVALID_ARGUMENT, op, ": score_index ", p.score_index,
           " is out of range [0, ", width, ")");
  MX_CHECK(p.score_index < c0 || p.score_index > c1, MX_ERR_INVALID_ARGUMENT, op, ": score_index ", p.score_index,
           " overlaps the coordinates [", c0, ", ", c1, "]");
  MX_CHECK(c0 >= 0 && c1 < width, MX_ERR_INVALID_ARGUMENT, op, ": coordinates [", c0, ", ", c1,
           "] (coord_start ", c0, ") are out of range [0, ", width, ")");
  if (p.id_index >= 0) {
    MX_CHECK(p.id_index < width, MX_ERR_INVALID_ARGUMENT, op, ": id_index ", p.id_index, " is out of range [0, ",
             width, ")");
    MX_CHECK(p.id_index < c0 || p.id_index > c1, MX_ERR_INVALID_ARGUMENT, op, ": id_index ", p.id_index,
             " overlaps the coordinates [", c0, ", ", c1, "]");
    MX_CHECK(p.id_index != p.score_index, MX_ERR_INVALID_ARGUMENT, op, ": id_index and score_index are both ",
             p.id_index);
  }
}

// Converts the 4 coordinates of a row between formats in place. Rows whose first coordinate is
// negative (the -1 filler of suppressed rows) are left alone, as MXNet does.
template <typename T> void convert_box(T *b, int to) {
  if (b[0] < 0) return;
  if (to == kCenter) {
    T l = b[0], t = b[1], r = b[2], bo = b[3];
    b[0] = (l + r) / 2, b[1] = (t + bo) / 2, b[2] = r - l, b[3] = bo - t;
  } else {
    T x = b[0], y = b[1], w = b[2] / 2, h = b[3] / 2;
    b[0] = x - w, b[1] = y - h, b[2] = x + w, b[3] = y + h;
  }
}

template <typename T> void nms_forward(const BoxNMSParam &p, const NDArray &data, const NDArray &out, const NDArray &rec) {
  const Shape &s = data.shape();
  const int64_t n = s[s.ndim() - 2], width = s[s.ndim() - 1];
  const int64_t batches = n * width == 0 ? 0 : data.size() / (n * width);
  const T *in = data.data<T>();
  T *o = out.data<T>(), *r = rec.data<T>();
  const int fin = box_format(p.in_format), fout = box_format(p.out_format);
  const int64_t topk = p.topk < 0 ? n : std::min(n, p.topk);
  if (topk < 1) {  // nothing to suppress: the input unchanged, every row from its own place
    std::copy(in, in + data.size(), o);
    for (int64_t i = 0; i < batches * n; ++i) r[i] = static_cast<T>(i);
    return;
  }
  std::fill(o, o + out.size(), T(-1));
  std::fill(r, r + rec.size(), T(-1));
  const T valid = static_cast<T>(p.valid_thresh);
  for (int64_t b = 0; b < batches; ++b) {
    const T *box = in + b * n * width;
    // Candidates: score above valid_thresh (and not background), by descending score, ties in input order.
    std::vector<int64_t> order;
    for (int64_t i = 0; i < n; ++i) {
      const T *row = box + i * width;
      if (!(row[p.score_index] > valid)) continue;
      if (p.id_index >= 0 && row[p.id_index] == static_cast<T>(p.background_id)) continue;
      order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t c) { return box[a * width + p.score_index] > box[c * width + p.score_index]; });
    if (static_cast<int64_t>(order.size()) > topk) order.resize(static_cast<size_t>(topk));
    std::vector<T> area(order.size());
    for (size_t k = 0; k < order.size(); ++k) area[k] = box_area(box + order[k] * width + p.coord_start, fin);
    std::vector<bool> gone(order.size(), false);
    for (size_t a = 0; a < order.size(); ++a) {
      if (gone[a]) continue;
      const T *ra = box + order[a] * width;
      for (size_t c = a + 1; c < order.size(); ++c) {
        if (gone[c]) continue;
        const T *rc = box + order[c] * width;
        if (!p.force_suppress && p.id_index >= 0 &&
            static_cast<int64_t>(ra[p.id_index]) != static_cast<int64_t>(rc[p.id_index]))
          continue;  // different classes do not suppress each other
        const T inter = intersection(ra + p.coord_start, rc + p.coord_start, fin);
        const T iou = inter / (area[a] + area[c] - inter);
        if (iou > static_cast<T>(p.overlap_thresh)) gone[c] = true;
      }
    }
    int64_t kept = 0;
    for (size_t k = 0; k < order.size(); ++k) {
      if (gone[k]) continue;
      std::copy(box + order[k] * width, box + (order[k] + 1) * width, o + (b * n + kept) * width);
      r[b * n + kept] = static_cast<T>(b * n + order[k]);
      ++kept;
    }
  }
  if (fin != fout)
    for (int64_t i = 0; i < batches * n; ++i) convert_box(o + i * width + p.coord_start, fout);
}

// ---------------------------------------------------------------- box_iou
struct BoxIoUParam {
  std::string format;
  static void describe(ParamDecl<BoxIoUParam> &d) {
    d.field("format", &BoxIoUParam::format).def("corner").choices({"center", "corner"})
        .doc("The box encoding type: corner [xmin, ymin, xmax, ymax] or center [x, y, width, height].");
  }
};

// ---------------------------------------------------------------- bipartite_matching
struct MatchingParam {
  bool is_ascend;
  double threshold;
  int64_t topk;
  static void describe(ParamDecl<MatchingParam> &d) {
    d.field("is_ascend", &MatchingParam::is_ascend).def(false)
        .doc("Use ascend order for scores instead of descending. Please set threshold accordingly.");
    d.field("threshold", &MatchingParam::threshold).required()
        .doc("Ignore matching when score < thresh, if is_ascend=false, or ignore score > thresh, if is_ascend=true.");
    d.field("topk", &MatchingParam::topk).def(-1).doc("Limit the number of matches to topk, set -1 for no limit");
  }
};

template <typename T> void bipartite(const MatchingParam &p, const NDArray &data, const NDArray &rows, const NDArray &cols) {
  const Shape &s = data.shape();
  const int64_t nr = s[s.ndim() - 2], nc = s[s.ndim() - 1], stride = nr * nc;
  const int64_t batches = stride == 0 ? 0 : data.size() / stride;
  const T *sc = data.data<T>();
  T *rm = rows.data<T>(), *cm = cols.data<T>();
  std::fill(rm, rm + rows.size(), T(-1));
  std::fill(cm, cm + cols.size(), T(-1));
  const T thr = static_cast<T>(p.threshold);
  for (int64_t b = 0; b < batches; ++b) {
    const T *score = sc + b * stride;
    T *rb = rm + b * nr, *cb = cm + b * nc;
    std::vector<int64_t> order(static_cast<size_t>(stride));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t c) {
      return p.is_ascend ? score[a] < score[c] : score[a] > score[c];
    });
    int64_t count = 0;
    for (int64_t idx : order) {
      const int64_t r = idx / nc, c = idx % nc;
      if (rb[r] != T(-1) || cb[c] != T(-1)) continue;
      const bool pass = p.is_ascend ? score[idx] < thr : score[idx] > thr;
      if (!pass) break;  // sorted: no later score passes either
      rb[r] = static_cast<T>(c);
      cb[c] = static_cast<T>(r);
      // MXNet stops only once the count exceeds topk (so topk + 1 pairs are matched).
      if (p.topk > 0 && ++count > p.topk) break;
    }
  }
}

// ---------------------------------------------------------------- box_decode
struct BoxDecodeParam {
  double std0, std1, std2, std3, clip;
  std::string format;
  static void describe(ParamDecl<BoxDecodeParam> &d) {
    d.field("std0", &BoxDecodeParam::std0).def(1.0).doc("value to be divided from the 1st encoded values");
    d.field("std1", &BoxDecodeParam::std1).def(1.0).doc("value to be divided from the 2nd encoded values");
    d.field("std2", &BoxDecodeParam::std2).def(1.0).doc("value to be divided from the 3rd encoded values");
    d.field("std3", &BoxDecodeParam::std3).def(1.0).doc("value to be divided from the 4th encoded values");
    d.field("clip", &BoxDecodeParam::clip).def(-1.0)
        .doc("If larger than 0, bounding box target will be clipped to this value.");
    d.field("format", &BoxDecodeParam::format).def("center").choices({"center", "corner"})
        .doc("The anchors' encoding type: corner [xmin, ymin, xmax, ymax] or center [x, y, width, height].");
  }
};

void need_last4(const Shape &s, int min_ndim, const char *op, const char *what) {
  MX_CHECK(s.ndim() >= min_ndim && s[s.ndim() - 1] == 4, MX_ERR_SHAPE, op, ": ", what, " must have at least ", min_ndim,
           " dimensions and 4 in the last, got ", s.str());
}

std::vector<Var> zero_grads(GradBuilder &b, const GradNode &n) {
  std::vector<Var> g;
  for (auto &x : n.inputs) g.push_back(b.emit1("zeros_like", {}, {x}));
  return g;
}

const std::vector<DType> kFloat{DType::f32, DType::f64};

const int registered = [] {
  MX_REGISTER_OP(_contrib_box_nms)
      .alias("_contrib_box_non_maximum_suppression")
      .doc("Non-maximum suppression: per batch, boxes sorted by descending score, boxes overlapping a kept box by "
           "more than overlap_thresh (IoU) removed; kept boxes first, the remaining rows filled with -1.")
      .params<BoxNMSParam>()
      .inputs({"data"})
      .outputs({"output", "record"})
      .num_visible_outputs([](const Params &) { return 1; })
      .dtypes(kFloat)
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        check_nms_layout(p.get<BoxNMSParam>(), in[0]);
        std::vector<int64_t> rd = in[0].dims();
        rd.back() = 1;
        assign_shape(out[0], in[0], "box_nms", "output");
        assign_shape(out[1], Shape(rd), "box_nms", "record");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<BoxNMSParam>();
        check_nms_layout(p, c.inputs[0].shape());
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "box_nms",
                              nms_forward<T>(p, c.inputs[0], c.outputs[0], c.outputs[1]));
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_contrib_box_nms"), n.params,
                       {n.out_grads[0], n.outputs[1]})[0]};
      });

  MX_REGISTER_OP(_backward_contrib_box_nms)
      .doc("Gradient of box_nms: inputs (out_grad, record); each output row's gradient goes to the input row it "
           "came from, suppressed boxes get zero.")
      .params<BoxNMSParam>()
      .inputs({"out_grad", "record"})
      .dtypes(kFloat)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        assign_shape(out[0], in[0], "_backward_contrib_box_nms", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        const NDArray &g = c.inputs[0], &rec = c.inputs[1], &out = c.outputs[0];
        const int64_t width = g.shape()[g.ndim() - 1], rows = rec.size();
        MX_DTYPE_SWITCH_FLOAT(g.dtype(), T, "box_nms backward", {
          const T *gp = g.data<T>(), *rp = rec.data<T>();
          T *op = out.data<T>();
          std::fill(op, op + out.size(), T(0));
          for (int64_t i = 0; i < rows; ++i) {
            const int64_t from = static_cast<int64_t>(rp[i]);
            if (from < 0 || from >= rows) continue;
            std::copy(gp + i * width, gp + (i + 1) * width, op + from * width);
          }
        });
      })
      .no_grad();

  MX_REGISTER_OP(_contrib_box_iou)
      .doc("Intersection over union of every box of lhs (..., 4) with every box of rhs (..., 4): output shape "
           "lhs.shape[:-1] + rhs.shape[:-1].")
      .params<BoxIoUParam>()
      .inputs({"lhs", "rhs"})
      .dtypes(kFloat)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        need_last4(in[0], 2, "box_iou", "lhs");
        need_last4(in[1], 2, "box_iou", "rhs");
        std::vector<int64_t> d(in[0].dims().begin(), in[0].dims().end() - 1);
        d.insert(d.end(), in[1].dims().begin(), in[1].dims().end() - 1);
        assign_shape(out[0], Shape(d), "box_iou", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const int fmt = box_format(c.p<BoxIoUParam>().format);
        const int64_t nl = c.inputs[0].size() / 4, nr = c.inputs[1].size() / 4;
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "box_iou", {
          const T *l = c.inputs[0].data<T>(), *r = c.inputs[1].data<T>();
          T *o = c.outputs[0].data<T>();
          for (int64_t i = 0; i < nl; ++i)
            for (int64_t j = 0; j < nr; ++j) {
              const T inter = intersection(l + i * 4, r + j * 4, fmt);
              o[i * nr + j] = inter <= 0 ? T(0) : inter / (box_area(l + i * 4, fmt) + box_area(r + j * 4, fmt) - inter);
            }
        });
      })
      .grad(zero_grads);

  MX_REGISTER_OP(_contrib_bipartite_matching)
      .doc("Greedy bipartite matching on a score matrix (..., N, M): pairs taken by descending (is_ascend: "
           "ascending) score while they pass threshold. Outputs the matched column per row and the matched row "
           "per column (-1: unmatched).")
      .params<MatchingParam>()
      .inputs({"data"})
      .outputs({"row_marker", "col_marker"})
      .dtypes(kFloat)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        MX_CHECK(in[0].ndim() >= 2, MX_ERR_SHAPE, "bipartite_matching: the score matrix must have at least 2 "
                 "dimensions, got ", in[0].str());
        std::vector<int64_t> d(in[0].dims().begin(), in[0].dims().end() - 1);
        assign_shape(out[0], Shape(d), "bipartite_matching", "row_marker");
        d.back() = in[0].dims().back();
        assign_shape(out[1], Shape(d), "bipartite_matching", "col_marker");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "bipartite_matching",
                              bipartite<T>(c.p<MatchingParam>(), c.inputs[0], c.outputs[0], c.outputs[1]));
      })
      .grad(zero_grads);

  MX_REGISTER_OP(_contrib_box_encode)
      .doc("Encodes matched reference boxes relative to anchors (corner format) as normalised centre offsets and "
           "log sizes: ((ref - anchor) / anchor_size - means) / stds for positive samples, 0 elsewhere; also the "
           "mask of positive samples.")
      .inputs({"samples", "matches", "anchors", "refs", "means", "stds"})
      .outputs({"targets", "masks"})
      .dtypes(kFloat)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const char *op = "box_encode";
        for (int i : {4, 5}) assign_shape(in[static_cast<size_t>(i)], Shape{4}, op, i == 4 ? "means" : "stds");
        if (!in[0].known() || !in[1].known() || !in[2].known() || !in[3].known()) return false;
        MX_CHECK(in[0].ndim() == 2, MX_ERR_SHAPE, op, ": samples must be (B, N), got ", in[0].str());
        need_last4(in[2], 3, op, "anchors");
        need_last4(in[3], 3, op, "refs");
        const int64_t B = in[2][0], N = in[2][1];
        MX_CHECK(in[2].ndim() == 3, MX_ERR_SHAPE, op, ": anchors must be (B, N, 4), got ", in[2].str());
        MX_CHECK(in[3].ndim() == 3 && in[3][0] == B, MX_ERR_SHAPE, op, ": refs must be (B, M, 4) with B = ", B,
                 ", got ", in[3].str());
        MX_CHECK(in[0] == Shape({B, N}) && in[1] == Shape({B, N}), MX_ERR_SHAPE, op,
                 ": samples and matches must be (B, N) = ", Shape({B, N}).str(), ", got ", in[0].str(), " and ",
                 in[1].str());
        assign_shape(out[0], in[2], op, "targets");
        assign_shape(out[1], in[2], op, "masks");
        return true;
      })
      .cpu([](const OpCall &c) {
        const int64_t B = c.inputs[2].shape()[0], N = c.inputs[2].shape()[1], M = c.inputs[3].shape()[1];
        MX_DTYPE_SWITCH_FLOAT(c.inputs[2].dtype(), T, "box_encode", {
          const T *smp = c.inputs[0].data<T>(), *mat = c.inputs[1].data<T>(), *anc = c.inputs[2].data<T>();
          const T *ref = c.inputs[3].data<T>(), *mean = c.inputs[4].data<T>(), *sd = c.inputs[5].data<T>();
          T *tgt = c.outputs[0].data<T>(), *msk = c.outputs[1].data<T>();
          for (int64_t i = 0; i < B * N; ++i) {
            const bool pos = smp[i] > T(0.5);
            const T *a = anc + i * 4;
            for (int k = 0; k < 4; ++k) msk[i * 4 + k] = pos ? T(1) : T(0);
            if (!pos) {
              for (int k = 0; k < 4; ++k) tgt[i * 4 + k] = T(0);
              continue;
            }
            const int64_t m = static_cast<int64_t>(mat[i]);
            MX_CHECK(m >= 0 && m < M, MX_ERR_INVALID_ARGUMENT, "box_encode: match ", mat[i], " at position ", i,
                     " is out of range [0, ", M, ")");
            const T *r = ref + ((i / N) * M + m) * 4;
            const T rw = r[2] - r[0], rh = r[3] - r[1], aw = a[2] - a[0], ah = a[3] - a[1];
            const T rx = r[0] + rw * T(0.5), ry = r[1] + rh * T(0.5), ax = a[0] + aw * T(0.5), ay = a[1] + ah * T(0.5);
            tgt[i * 4 + 0] = ((rx - ax) / aw - mean[0]) / sd[0];
            tgt[i * 4 + 1] = ((ry - ay) / ah - mean[1]) / sd[1];
            tgt[i * 4 + 2] = (std::log(rw / aw) - mean[2]) / sd[2];
            tgt[i * 4 + 3] = (std::log(rh / ah) - mean[3]) / sd[3];
          }
        });
      })
      .grad(zero_grads);

  MX_REGISTER_OP(_contrib_box_decode)
      .doc("Decodes predicted offsets (B, N, 4) relative to anchors (1, N, 4) into corner boxes: centre = offset * "
           "std * anchor_size + anchor_centre, size = exp(min(offset * std, clip)) * anchor_size.")
      .params<BoxDecodeParam>()
      .inputs({"data", "anchors"})
      .dtypes(kFloat)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        MX_CHECK(in[0].ndim() == 3 && in[0][2] == 4, MX_ERR_SHAPE, "box_decode: data must be (B, N, 4), got ",
                 in[0].str());
        need_last4(in[1], 3, "box_decode", "anchors");
        MX_CHECK(in[1].size() / 4 >= in[0][1], MX_ERR_SHAPE, "box_decode: anchors ", in[1].str(),
                 " hold fewer than N = ", in[0][1], " boxes");
        assign_shape(out[0], in[0], "box_decode", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<BoxDecodeParam>();
        const int fmt = box_format(p.format);
        const int64_t N = c.inputs[0].shape()[1], total = c.inputs[0].size() / 4;
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "box_decode", {
          const T *x = c.inputs[0].data<T>(), *anc = c.inputs[1].data<T>();
          T *o = c.outputs[0].data<T>();
          const T s0 = static_cast<T>(p.std0), s1 = static_cast<T>(p.std1), s2 = static_cast<T>(p.std2),
                  s3 = static_cast<T>(p.std3), clip = static_cast<T>(p.clip);
          for (int64_t i = 0; i < total; ++i) {
            const T *a = anc + (i % N) * 4, *d = x + i * 4;
            T ax = a[0], ay = a[1], aw = a[2], ah = a[3];
            if (fmt == kCorner) {
              aw -= ax, ah -= ay;
              ax += aw * T(0.5), ay += ah * T(0.5);
            }
            const T ox = d[0] * s0 * aw + ax, oy = d[1] * s1 * ah + ay;
            T dw = d[2] * s2, dh = d[3] * s3;
            if (p.clip > 0) dw = std::min(dw, clip), dh = std::min(dh, clip);
            const T ow = std::exp(dw) * aw * T(0.5), oh = std::exp(dh) * ah * T(0.5);
            o[i * 4 + 0] = ox - ow, o[i * 4 + 1] = oy - oh, o[i * 4 + 2] = ox + ow, o[i * 4 + 3] = oy + oh;
          }
        });
      })
      .grad(zero_grads);
  return 0;
}();

}  // namespace
}  // namespace mx
