// Slicing: slice (crop), slice_axis, slice_like, _slice_assign, _slice_assign_scalar and the
// adjoint _backward_slice. Ranges follow Python slicing (None entries, negative indices, steps).
#include "ops/shape_common.h"

namespace mx {
namespace {

using namespace shape_detail;

struct SliceParam {
  std::vector<std::optional<int64_t>> begin, end, step;
  static void describe(ParamDecl<SliceParam> &d) {
    d.field("begin", &SliceParam::begin).required().doc("Start index per axis (None: from the start).");
    d.field("end", &SliceParam::end).required().doc("End index (exclusive) per axis (None: to the end).");
    d.field("step", &SliceParam::step).def({}).doc("Step per axis (None or empty: 1).");
  }
};
struct SliceAssignScalarParam {
  double scalar = 0;
  std::vector<std::optional<int64_t>> begin, end, step;
  static void describe(ParamDecl<SliceAssignScalarParam> &d) {
    d.field("scalar", &SliceAssignScalarParam::scalar).def(0.0).doc("Value to assign to the region.");
    d.field("begin", &SliceAssignScalarParam::begin).required().doc("Start index per axis.");
    d.field("end", &SliceAssignScalarParam::end).required().doc("End index (exclusive) per axis.");
    d.field("step", &SliceAssignScalarParam::step).def({}).doc("Step per axis.");
  }
};
struct SliceAxisParam {
  int64_t axis = 0;
  int64_t begin = 0;
  std::optional<int64_t> end;
  static void describe(ParamDecl<SliceAxisParam> &d) {
    d.field("axis", &SliceAxisParam::axis).required().doc("Axis to slice.");
    d.field("begin", &SliceAxisParam::begin).required().doc("Start index (negative counts from the end).");
    d.field("end", &SliceAxisParam::end).required().doc("End index (exclusive); None: to the end.");
  }
};
struct SliceLikeParam {
  std::vector<int64_t> axes;
  static void describe(ParamDecl<SliceLikeParam> &d) {
    d.field("axes", &SliceLikeParam::axes).def({}).doc("Axes to slice like shape_like (empty: all).");
  }
};

struct Range {
  int64_t start, step, count;
};

// Python-style ranges for every axis of `in`.
std::vector<Range> slice_ranges(const std::vector<std::optional<int64_t>> &begin,
                                const std::vector<std::optional<int64_t>> &end,
                                const std::vector<std::optional<int64_t>> &step, const Shape &in, const char *op) {
  MX_CHECK(begin.size() == end.size(), MX_ERR_INVALID_ARGUMENT, op, ": parameters 'begin' ", print_value(begin),
           " and 'end' ", print_value(end), " must have the same length");
  MX_CHECK(step.empty() || step.size() == begin.size(), MX_ERR_INVALID_ARGUMENT, op, ": parameter 'step' ",
           print_value(step), " must be empty or as long as 'begin' ", print_value(begin));
  MX_CHECK(static_cast<int>(begin.size()) <= in.ndim(), MX_ERR_INVALID_ARGUMENT, op, ": parameter 'begin' ",
           print_value(begin), " has more entries than the input has dims (", in.ndim(), ")");
  std::vector<Range> r;
  for (int d = 0; d < in.ndim(); ++d) {
    const int64_t n = in[d];
    size_t i = static_cast<size_t>(d);
    if (i >= begin.size()) {
      r.push_back({0, 1, n});
      continue;
    }
    int64_t s = (i < step.size() && step[i]) ? *step[i] : 1;
    MX_CHECK(s != 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'step' has value ", print_value(step),
             " with a zero step on axis ", d);
    int64_t b, e, cnt;
    if (s > 0) {
      b = begin[i] ? *begin[i] : 0;
      e = end[i] ? *end[i] : n;
      if (b < 0) b += n;
      if (e < 0) e += n;
      b = std::min(std::max<int64_t>(b, 0), n);
      e = std::min(std::max<int64_t>(e, 0), n);
      cnt = e > b ? (e - b - 1) / s + 1 : 0;
    } else {
      b = begin[i] ? *begin[i] : n - 1;
      e = end[i] ? *end[i] : -1;
      if (begin[i] && b < 0) b += n;
      if (end[i] && e < 0) e += n;
      b = std::min(std::max<int64_t>(b, -1), n - 1);
      e = std::min(std::max<int64_t>(e, -1), n - 1);
      cnt = b > e ? (b - e - 1) / (-s) + 1 : 0;
    }
    r.push_back({cnt ? b : 0, s, cnt});
  }
  return r;
}

Shape ranges_shape(const std::vector<Range> &r) {
  std::vector<int64_t> d;
  for (auto &x : r) d.push_back(x.count);
  return Shape(d);
}
AxisMaps ranges_maps(const std::vector<Range> &r, const Shape &in) {
  auto st = strides_of(in);
  AxisMaps maps;
  for (size_t d = 0; d < r.size(); ++d) maps.push_back(linear_map(r[d].count, r[d].start, r[d].step, st[d]));
  return maps;
}

std::vector<Range> slice_axis_ranges(const SliceAxisParam &p, const Shape &in) {
  int a = normalize_axis(p.axis, in.ndim(), "slice_axis: axis");
  int64_t n = in[a];
  int64_t b = p.begin < 0 ? p.begin + n : p.begin;
  int64_t e = p.end ? (*p.end < 0 ? *p.end + n : *p.end) : n;
  MX_CHECK(b >= 0 && b < n, MX_ERR_INVALID_ARGUMENT, "slice_axis: parameter 'begin' has value ", p.begin,
           " out of range for axis ", a, " of size ", n);
  MX_CHECK(e > b && e <= n, MX_ERR_INVALID_ARGUMENT, "slice_axis: parameter 'end' has value ",
           p.end ? print_value(*p.end) : std::string("None"), " invalid for begin ", p.begin, " on axis ", a,
           " of size ", n, " (need begin < end <= size)");
  std::vector<Range> r;
  for (int d = 0; d < in.ndim(); ++d) r.push_back(d == a ? Range{b, 1, e - b} : Range{0, 1, in[d]});
  return r;
}

std::vector<Range> slice_like_ranges(const SliceLikeParam &p, const Shape &in, const Shape &like) {
  std::vector<Range> r;
  for (int d = 0; d < in.ndim(); ++d) r.push_back({0, 1, in[d]});
  if (p.axes.empty()) {
    MX_CHECK(in.ndim() == like.ndim(), MX_ERR_SHAPE, "slice_like: data ", in.str(), " and shape_like ", like.str(),
             " must have the same number of dims when axes is empty");
    for (int d = 0; d < in.ndim(); ++d) {
      MX_CHECK(like[d] <= in[d], MX_ERR_SHAPE, "slice_like: shape_like ", like.str(), " is larger than data ",
               in.str(), " on axis ", d);
      r[static_cast<size_t>(d)].count = like[d];
    }
    return r;
  }
  for (int64_t a0 : p.axes) {
    int a = normalize_axis(a0, in.ndim(), "slice_like: axes");
    MX_CHECK(a < like.ndim(), MX_ERR_INVALID_ARGUMENT, "slice_like: parameter 'axes' has value ", print_value(p.axes),
             " but shape_like ", like.str(), " has no axis ", a);
    MX_CHECK(like[a] <= in[a], MX_ERR_SHAPE, "slice_like: shape_like ", like.str(), " is larger than data ", in.str(),
             " on axis ", a);
    r[static_cast<size_t>(a)].count = like[a];
  }
  return r;
}

// Tuples describing ranges, for emitting _backward_slice from other slicing ops' gradients.
Kwargs ranges_kw(const std::vector<Range> &r) {
  std::vector<int64_t> b, e, s;
  for (auto &x : r) {
    b.push_back(x.start);
    e.push_back(x.start + x.count * x.step);
    s.push_back(x.step);
  }
  // A negative-step range ending before index 0 needs None as its end.
  std::vector<std::optional<int64_t>> eo;
  for (size_t i = 0; i < e.size(); ++i) eo.push_back(e[i] < 0 ? std::nullopt : std::optional<int64_t>(e[i]));
  return {{"begin", print_value(b)}, {"end", print_value(eo)}, {"step", print_value(s)}};
}

std::vector<Range> param_ranges(const Params &pp, const Shape &in) {
  const char *op = pp.op->name.c_str();
  if (pp.op->name == "_slice_assign_scalar") {
    const auto &p = pp.get<SliceAssignScalarParam>();
    return slice_ranges(p.begin, p.end, p.step, in, op);
  }
  const auto &p = pp.get<SliceParam>();
  return slice_ranges(p.begin, p.end, p.step, in, op);
}

int register_ops() {
  MX_REGISTER_OP(slice)
      .alias("crop")
      .doc("Slices a region: begin/end/step per axis with Python semantics (None, negatives, steps).")
      .params<SliceParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        assign_shape(out[0], ranges_shape(param_ranges(p, in[0])), "slice", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        gather_any(c.inputs[0], c.outputs[0], ranges_maps(param_ranges(c.params, c.inputs[0].shape()), c.inputs[0].shape()));
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "_backward_slice", n, {n.out_grads[0], n.inputs[0]})[0]};
      });

  MX_REGISTER_OP(_backward_slice)
      .doc("Adjoint of slice: zeros shaped like data with out_grad written into the sliced region.")
      .params<SliceParam>()
      .inputs({"out_grad", "data"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_slice", "output");
        if (in[0].known())
          assign_shape(in[0], ranges_shape(param_ranges(p, in[1])), "_backward_slice", "out_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.outputs[0].shape();
        zero_fill(c.outputs[0]);
        scatter_any(c.inputs[0], c.outputs[0], ranges_maps(param_ranges(c.params, s), s));
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "slice", n, {n.out_grads[0]})[0], Var::none()};
      });

  MX_REGISTER_OP(slice_axis)
      .doc("Slices [begin, end) along one axis.")
      .params<SliceAxisParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        assign_shape(out[0], ranges_shape(slice_axis_ranges(p.get<SliceAxisParam>(), in[0])), "slice_axis", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.inputs[0].shape();
        gather_any(c.inputs[0], c.outputs[0], ranges_maps(slice_axis_ranges(c.p<SliceAxisParam>(), s), s));
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto r = slice_axis_ranges(n.p<SliceAxisParam>(), b.shape(n.inputs[0]));
        return {b.emit1("_backward_slice", ranges_kw(r), {n.out_grads[0], n.inputs[0]})};
      });

  MX_REGISTER_OP(slice_like)
      .doc("Slices data (from index 0) to the shape of shape_like along `axes` (empty: all axes).")
      .params<SliceLikeParam>()
      .inputs({"data", "shape_like"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        assign_shape(out[0], ranges_shape(slice_like_ranges(p.get<SliceLikeParam>(), in[0], in[1])), "slice_like",
                     "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.inputs[0].shape();
        gather_any(c.inputs[0], c.outputs[0],
                   ranges_maps(slice_like_ranges(c.p<SliceLikeParam>(), s, c.inputs[1].shape()), s));
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto r = slice_like_ranges(n.p<SliceLikeParam>(), b.shape(n.inputs[0]), b.shape(n.inputs[1]));
        return {b.emit1("_backward_slice", ranges_kw(r), {n.out_grads[0], n.inputs[0]}), Var::none()};
      });

  MX_REGISTER_OP(_slice_assign)
      .alias("_crop_assign")
      .doc("Returns lhs with the region begin/end/step replaced by rhs.")
      .params<SliceParam>()
      .inputs({"lhs", "rhs"})
      .dtypes(all_dtypes())
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        Shape region = ranges_shape(param_ranges(p, in[0]));
        if (in[1].known())
          MX_CHECK(in[1] == region, MX_ERR_SHAPE, "_slice_assign: rhs has shape ", in[1].str(),
                   " but the region has shape ", region.str());
        assign_shape(in[1], region, "_slice_assign", "rhs");
        assign_shape(out[0], in[0], "_slice_assign", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.inputs[0].shape();
        copy_bytes(c.inputs[0], c.outputs[0]);
        scatter_any(c.inputs[1], c.outputs[0], ranges_maps(param_ranges(c.params, s), s));
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        Kwargs kw = n.params->given;
        kw.push_back({"scalar", "0"});
        Var gl = b.emit1("_slice_assign_scalar", kw, {n.out_grads[0]});
        Var gr = emit_with(b, "slice", n, {n.out_grads[0]})[0];
        return {gl, gr};
      });

  MX_REGISTER_OP(_slice_assign_scalar)
      .alias("_crop_assign_scalar")
      .doc("Returns data with the region begin/end/step set to `scalar`.")
      .params<SliceAssignScalarParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        param_ranges(p, in[0]);
        assign_shape(out[0], in[0], "_slice_assign_scalar", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.inputs[0].shape();
        copy_bytes(c.inputs[0], c.outputs[0]);
        auto r = param_ranges(c.params, s);
        Shape region = ranges_shape(r);
        NDArray v(region, c.inputs[0].dtype(), c.inputs[0].device());
        fill_value(v, c.p<SliceAssignScalarParam>().scalar);
        scatter_any(v, c.outputs[0], ranges_maps(r, s));
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        Kwargs kw;
        for (auto &kv : n.params->given)
          if (kv.first != "scalar") kw.push_back(kv);
        kw.push_back({"scalar", "0"});
        return {b.emit1("_slice_assign_scalar", kw, {n.out_grads[0]})};
      });
  // Kernels built only from the device-aware primitives of shape_common.h: the same on the GPU.
  gpu_same_as_cpu({"slice", "_backward_slice", "slice_axis", "slice_like", "_slice_assign", "_slice_assign_scalar"});
  return 0;
}

const int registered = register_ops();

}  // namespace
}  // namespace mx
