// Shape and layout ops: Reshape, reshape_like, Flatten, expand_dims, squeeze, transpose, SwapAxis,
// depth_to_space, space_to_depth, reverse (flip), tile, repeat, broadcast_like, broadcast_axis,
// Pad, diag, shape_array, size_array. All are pure data movement over raw element bytes.
#include <algorithm>
#include <numeric>

#include "ops/cuda_only.h"
#include "ops/index_gpu.h"
#include "ops/shape_common.h"

namespace mx {
namespace {

using namespace shape_detail;

std::string tuple_str(const std::vector<int64_t> &v) { return print_value(v); }

// ---------------------------------------------------------------- Reshape
struct ReshapeParam {
  std::vector<int64_t> shape;
  bool reverse = false;
  std::vector<int64_t> target_shape;
  bool keep_highest = false;
  static void describe(ParamDecl<ReshapeParam> &d) {
    d.field("shape", &ReshapeParam::shape).def({}).doc(
        "The target shape. Special codes: 0 copies an input dim, -1 infers one dim, -2 copies all "
        "remaining dims, -3 merges two consecutive dims, -4 splits one dim into the next two values.");
    d.field("reverse", &ReshapeParam::reverse).def(false).doc(
        "Apply the special codes from right to left.");
    d.field("target_shape", &ReshapeParam::target_shape).def({}).doc(
        "(Deprecated, use shape) target shape; one 0 entry is inferred.");
    d.field("keep_highest", &ReshapeParam::keep_highest).def(false).doc(
        "(Deprecated, use shape) keep the first dim; target_shape describes the rest.");
  }
};

Shape apply_reshape_codes(const std::vector<int64_t> &in, const std::vector<int64_t> &spec, const char *op,
                          const std::string &what) {
  std::vector<int64_t> out;
  size_t src = 0;
  int inferred = -1;
  const size_t nd = in.size();
  auto need = [&](size_t k, int64_t code) {
    MX_CHECK(src + k <= nd, MX_ERR_SHAPE, op, ": ", what, " code ", code,
             " refers to an input dimension that does not exist (input has ", nd, " dims)");
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t v = spec[i];
    if (v > 0) {
      out.push_back(v);
      ++src;
    } else if (v == 0) {
      need(1, v);
      out.push_back(in[src++]);
    } else if (v == -1) {
      MX_CHECK(inferred < 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'shape' has value ", what,
               " with more than one -1");
      inferred = static_cast<int>(out.size());
      out.push_back(1);
      ++src;
    } else if (v == -2) {
      while (src < nd) out.push_back(in[src++]);
    } else if (v == -3) {
      need(2, v);
      out.push_back(in[src] * in[src + 1]);
      src += 2;
    } else if (v == -4) {
      need(1, v);
      MX_CHECK(i + 2 < spec.size(), MX_ERR_INVALID_ARGUMENT, op, ": parameter 'shape' has value ", what,
               ": -4 must be followed by two values");
      int64_t d0 = in[src++], a = spec[i + 1], b = spec[i + 2];
      i += 2;
      MX_CHECK(!(a == -1 && b == -1) && a >= -1 && b >= -1 && a != 0 && b != 0, MX_ERR_INVALID_ARGUMENT, op,
               ": parameter 'shape' has value ", what, ": the two values after -4 must be positive or one -1");
      if (a == -1) a = b ? d0 / b : 0;
      if (b == -1) b = a ? d0 / a : 0;
      MX_CHECK(a * b == d0, MX_ERR_SHAPE, op, ": cannot split input dim ", d0, " into ", a, " x ", b);
      out.push_back(a);
      out.push_back(b);
    } else {
      fail(MX_ERR_INVALID_ARGUMENT, op, ": parameter 'shape' has value ", what, " with invalid code ", v);
    }
  }
  int64_t total = 1;
  for (int64_t d : in) total *= d;
  if (inferred >= 0) {
    int64_t rest = 1;
    for (size_t i = 0; i < out.size(); ++i)
      if (static_cast<int>(i) != inferred) rest *= out[i];
    MX_CHECK(rest != 0 && total % rest == 0, MX_ERR_SHAPE, op, ": cannot reshape input of shape ",
             Shape(in).str(), " to ", what, " (size ", total, " is not divisible by ", rest, ")");
    out[static_cast<size_t>(inferred)] = total / rest;
  }
  Shape o(out);
  MX_CHECK(o.size() == total, MX_ERR_SHAPE, op, ": cannot reshape input of shape ", Shape(in).str(),
           " (size ", total, ") to ", o.str(), " (size ", o.size(), ") given shape ", what);
  return o;
}

Shape reshape_shape(const ReshapeParam &p, const Shape &in, const char *op) {
  const std::string what = tuple_str(p.shape);
  if (p.shape.empty() && !p.target_shape.empty()) {  // legacy interface
    std::vector<int64_t> spec;
    if (p.keep_highest) spec.push_back(0);
    for (int64_t v : p.target_shape) spec.push_back(v == 0 ? -1 : v);
    return apply_reshape_codes(in.dims(), spec, op, tuple_str(p.target_shape));
  }
  if (!p.reverse) return apply_reshape_codes(in.dims(), p.shape, op, what);
  // Right to left: reverse the input dims and the codes (a -4 group keeps its two values together,
  // in reversed order), then reverse the result.
  std::vector<std::vector<int64_t>> groups;
  for (size_t i = 0; i < p.shape.size(); ++i) {
    if (p.shape[i] == -4 && i + 2 < p.shape.size()) {
      groups.push_back({-4, p.shape[i + 2], p.shape[i + 1]});
      i += 2;
    } else {
      groups.push_back({p.shape[i]});
    }
  }
  std::vector<int64_t> spec;
  for (auto it = groups.rbegin(); it != groups.rend(); ++it) spec.insert(spec.end(), it->begin(), it->end());
  std::vector<int64_t> rin(in.dims().rbegin(), in.dims().rend());
  Shape r = apply_reshape_codes(rin, spec, op, what);
  return Shape(std::vector<int64_t>(r.dims().rbegin(), r.dims().rend()));
}

KernelFn copy_kernel() {
  return [](const OpCall &c) { copy_bytes(c.inputs[0], c.outputs[0]); };
}
GradFn reshape_back_grad() {
  return [](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
    std::vector<Var> r{reshape_to(b, n.out_grads[0], n.inputs[0])};
    for (size_t i = 1; i < n.inputs.size(); ++i) r.push_back(Var::none());
    return r;
  };
}

// ---------------------------------------------------------------- reshape_like
struct ReshapeLikeParam {
  std::optional<int64_t> lhs_begin, lhs_end, rhs_begin, rhs_end;
  static void describe(ParamDecl<ReshapeLikeParam> &d) {
    d.field("lhs_begin", &ReshapeLikeParam::lhs_begin).def(std::nullopt).doc("First lhs axis to replace.");
    d.field("lhs_end", &ReshapeLikeParam::lhs_end).def(std::nullopt).doc("End (exclusive) of lhs axes to replace.");
    d.field("rhs_begin", &ReshapeLikeParam::rhs_begin).def(std::nullopt).doc("First rhs axis to use.");
    d.field("rhs_end", &ReshapeLikeParam::rhs_end).def(std::nullopt).doc("End (exclusive) of rhs axes to use.");
  }
};

int64_t range_end(const std::optional<int64_t> &v, int64_t def, int nd, const char *name) {
  int64_t x = v ? *v : def;
  if (x < 0) x += nd;
  MX_CHECK(x >= 0 && x <= nd, MX_ERR_INVALID_ARGUMENT, "reshape_like: parameter '", name, "' has value ",
           v ? *v : def, " out of range for ", nd, " dims");
  return x;
}

// ---------------------------------------------------------------- squeeze / expand_dims / transpose
struct ExpandDimsParam {
  int64_t axis = 0;
  static void describe(ParamDecl<ExpandDimsParam> &d) {
    d.field("axis", &ExpandDimsParam::axis).required().doc("Position of the new axis (negative counts from the end).");
  }
};
struct SqueezeParam {
  std::vector<std::optional<int64_t>> axis;
  static void describe(ParamDecl<SqueezeParam> &d) {
    d.field("axis", &SqueezeParam::axis).def({}).doc(
        "Axes of size 1 to remove; None removes every size-1 axis.");
  }
};
struct TransposeParam {
  std::vector<int64_t> axes;
  static void describe(ParamDecl<TransposeParam> &d) {
    d.field("axes", &TransposeParam::axes).def({}).doc("Permutation of the axes; empty reverses them.");
  }
};
struct SwapAxisParam {
  int64_t dim1 = 0, dim2 = 0;
  static void describe(ParamDecl<SwapAxisParam> &d) {
    d.field("dim1", &SwapAxisParam::dim1).def(int64_t(0)).doc("First axis.");
    d.field("dim2", &SwapAxisParam::dim2).def(int64_t(0)).doc("Second axis.");
  }
};

std::vector<int> transpose_perm(const std::vector<int64_t> &axes, int nd) {
  std::vector<int> perm(static_cast<size_t>(nd));
  if (axes.empty()) {
    for (int i = 0; i < nd; ++i) perm[static_cast<size_t>(i)] = nd - 1 - i;
    return perm;
  }
  MX_CHECK(static_cast<int>(axes.size()) == nd, MX_ERR_INVALID_ARGUMENT, "transpose: parameter 'axes' has value ",
           print_value(axes), " but the input has ", nd, " dims");
  std::vector<bool> seen(static_cast<size_t>(nd), false);
  for (int i = 0; i < nd; ++i) {
    int64_t a = axes[static_cast<size_t>(i)];
    if (a < 0) a += nd;
    MX_CHECK(a >= 0 && a < nd && !seen[static_cast<size_t>(a)], MX_ERR_INVALID_ARGUMENT,
             "transpose: parameter 'axes' has value ", print_value(axes), " which is not a permutation of ", nd,
             " axes");
    seen[static_cast<size_t>(a)] = true;
    perm[static_cast<size_t>(i)] = static_cast<int>(a);
  }
  return perm;
}

void permute_copy(const NDArray &in, const NDArray &out, const std::vector<int> &perm) {
  auto st = strides_of(in.shape());
  AxisMaps maps;
  for (int d = 0; d < out.ndim(); ++d)
    maps.push_back(linear_map(out.shape()[d], 0, 1, st[static_cast<size_t>(perm[static_cast<size_t>(d)])]));
  gather_any(in, out, maps);
}

// ---------------------------------------------------------------- depth_to_space / space_to_depth
struct BlockParam {
  int64_t block_size = 1;
  static void describe(ParamDecl<BlockParam> &d) {
    d.field("block_size", &BlockParam::block_size).required().doc("Size of the spatial blocks.");
  }
};

// ---------------------------------------------------------------- reverse / tile / repeat
struct ReverseParam {
  std::vector<int64_t> axis;
  static void describe(ParamDecl<ReverseParam> &d) {
    d.field("axis", &ReverseParam::axis).required().doc("Axes to reverse.");
  }
};
struct TileParam {
  std::vector<int64_t> reps;
  static void describe(ParamDecl<TileParam> &d) {
    d.field("reps", &TileParam::reps).required().doc("Repetitions per axis (aligned to the trailing axes).");
  }
};
struct RepeatParam {
  int64_t repeats = 1;
  std::optional<int64_t> axis;
  static void describe(ParamDecl<RepeatParam> &d) {
    d.field("repeats", &RepeatParam::repeats).required().doc("Repetitions of each element.");
    d.field("axis", &RepeatParam::axis).def(std::nullopt).doc("Axis to repeat along; None flattens the input.");
  }
};

// tile works on the interleaved view (r0, s0, r1, s1, ...) of the output.
void tile_dims(const Shape &in, const std::vector<int64_t> &reps0, std::vector<int64_t> *shape,
               std::vector<int64_t> *reps) {
  size_t n = std::max(in.dims().size(), reps0.size());
  shape->assign(n - in.dims().size(), 1);
  shape->insert(shape->end(), in.dims().begin(), in.dims().end());
  reps->assign(n - reps0.size(), 1);
  reps->insert(reps->end(), reps0.begin(), reps0.end());
  for (int64_t r : *reps)
    MX_CHECK(r >= 0, MX_ERR_INVALID_ARGUMENT, "tile: parameter 'reps' has value ", print_value(reps0),
             " with a negative entry");
}

// ---------------------------------------------------------------- broadcast_like / broadcast_axis
struct BroadcastLikeParam {
  std::vector<std::optional<int64_t>> lhs_axes, rhs_axes;
  static void describe(ParamDecl<BroadcastLikeParam> &d) {
    d.field("lhs_axes", &BroadcastLikeParam::lhs_axes).def({}).doc("Axes of lhs to broadcast (None: all).");
    d.field("rhs_axes", &BroadcastLikeParam::rhs_axes).def({}).doc("Axes of rhs whose sizes are used (None: all).");
  }
};
struct BroadcastAxisParam {
  std::vector<int64_t> axis, size;
  static void describe(ParamDecl<BroadcastAxisParam> &d) {
    d.field("axis", &BroadcastAxisParam::axis).def({}).doc("Axes to broadcast (each must have size 1).");
    d.field("size", &BroadcastAxisParam::size).def({}).doc("Target sizes of those axes.");
  }
};

std::vector<int64_t> opt_tuple(const std::vector<std::optional<int64_t>> &v, bool *none) {
  std::vector<int64_t> r;
  *none = v.empty();
  for (auto &x : v) {
    if (!x) {
      *none = true;
      return {};
    }
    r.push_back(*x);
  }
  return r;
}

// Output of broadcasting `in` to `out` by stride-0 maps (in left-padded with 1s).
void broadcast_copy(const NDArray &in, const NDArray &out) {
  Shape padded = in.shape();
  while (padded.ndim() < out.ndim()) padded.dims().insert(padded.dims().begin(), 1);
  auto st = strides_of(padded);
  AxisMaps maps;
  for (int d = 0; d < out.ndim(); ++d)
    maps.push_back(linear_map(out.shape()[d], 0, 1, padded[d] == 1 ? 0 : st[static_cast<size_t>(d)]));
  gather_any(in, out, maps);
}

// ---------------------------------------------------------------- Pad
struct PadParam {
  std::string mode = "constant";
  std::vector<int64_t> pad_width;
  double constant_value = 0;
  static void describe(ParamDecl<PadParam> &d) {
    d.field("mode", &PadParam::mode).def(std::string("constant")).choices({"constant", "edge", "reflect"}).doc(
        "Padding mode.");
    d.field("pad_width", &PadParam::pad_width).required().doc(
        "Before/after widths per axis: (before_0, after_0, before_1, after_1, ...).");
    d.field("constant_value", &PadParam::constant_value).def(0.0).doc("Value of constant padding.");
  }
};

void check_pad(const PadParam &p, const Shape &in, const char *op) {
  MX_CHECK(p.mode == "constant" || p.mode == "edge" || p.mode == "reflect", MX_ERR_INVALID_ARGUMENT, op,
           ": parameter 'mode' has value '", p.mode, "' (expected constant, edge or reflect)");
  MX_CHECK(static_cast<int>(p.pad_width.size()) == 2 * in.ndim(), MX_ERR_INVALID_ARGUMENT, op,
           ": parameter 'pad_width' has value ", print_value(p.pad_width), " but needs 2 entries per axis (",
           2 * in.ndim(), " for ", in.ndim(), " dims)");
  for (int d = 0; d < in.ndim(); ++d) {
    int64_t b = p.pad_width[static_cast<size_t>(2 * d)], a = p.pad_width[static_cast<size_t>(2 * d + 1)];
    MX_CHECK(b >= 0 && a >= 0, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'pad_width' has value ",
             print_value(p.pad_width), " with a negative width");
    if (p.mode == "reflect")
      MX_CHECK(b < in[d] && a < in[d], MX_ERR_INVALID_ARGUMENT, op, ": parameter 'pad_width' has value ",
               print_value(p.pad_width), ": reflect padding must be smaller than the axis size ", in[d]);
    if (p.mode == "edge")
      MX_CHECK(in[d] > 0 || (a == 0 && b == 0), MX_ERR_INVALID_ARGUMENT, op,
               ": edge padding of an empty axis");
  }
}

// Source index of each output index of one padded axis (-1: constant).
std::vector<int64_t> pad_axis_map(int64_t n, int64_t before, int64_t after, const std::string &mode, int64_t stride) {
  std::vector<int64_t> m(static_cast<size_t>(n + before + after));
  for (int64_t i = 0; i < n + before + after; ++i) {
    int64_t j = i - before;
    if (mode == "edge") {
      j = std::min(std::max<int64_t>(j, 0), n - 1);
    } else if (mode == "reflect") {
      if (n == 1) j = 0;
      while (j < 0 || j >= n) {
        if (j < 0) j = -j;
        if (j >= n) j = 2 * (n - 1) - j;
      }
    }
    m[static_cast<size_t>(i)] = j * stride;
  }
  return m;
}

AxisMaps pad_maps(const PadParam &p, const Shape &in) {
  auto st = strides_of(in);
  AxisMaps maps;
  for (int d = 0; d < in.ndim(); ++d)
    maps.push_back(pad_axis_map(in[d], p.pad_width[static_cast<size_t>(2 * d)],
                                p.pad_width[static_cast<size_t>(2 * d + 1)], p.mode, st[static_cast<size_t>(d)]));
  return maps;
}

// ---------------------------------------------------------------- diag
struct DiagParam {
  int64_t k = 0, axis1 = 0, axis2 = 1;
  static void describe(ParamDecl<DiagParam> &d) {
    d.field("k", &DiagParam::k).def(int64_t(0)).doc("Diagonal offset (positive: above the main diagonal).");
    d.field("axis1", &DiagParam::axis1).def(int64_t(0)).doc("First axis of the 2-D sub-arrays (input ndim >= 2).");
    d.field("axis2", &DiagParam::axis2).def(int64_t(1)).doc("Second axis of the 2-D sub-arrays (input ndim >= 2).");
  }
};

Shape diag_shape(const DiagParam &p, const Shape &in, const char *op) {
  MX_CHECK(in.ndim() >= 1, MX_ERR_SHAPE, op, ": input must have at least 1 dim");
  if (in.ndim() == 1) {
    int64_t m = in[0] + (p.k < 0 ? -p.k : p.k);
    return Shape({m, m});
  }
  int a1 = normalize_axis(p.axis1, in.ndim(), "diag: axis1");
  int a2 = normalize_axis(p.axis2, in.ndim(), "diag: axis2");
  MX_CHECK(a1 != a2, MX_ERR_INVALID_ARGUMENT, op, ": parameters 'axis1' and 'axis2' refer to the same axis ", a1);
  std::vector<int64_t> o;
  for (int d = 0; d < in.ndim(); ++d)
    if (d != a1 && d != a2) o.push_back(in[d]);
  int64_t len = p.k >= 0 ? std::min(in[a1], in[a2] - p.k) : std::min(in[a1] + p.k, in[a2]);
  // as MXNet: an offset beyond the matrix names no diagonal (k at its edge gives an empty one)
  MX_CHECK(len >= 0, MX_ERR_INVALID_ARGUMENT, op, ": diagonal k=", p.k, " does not exist in a ", in[a1], "x", in[a2],
           " matrix (axes ", a1, " and ", a2, " of shape ", in.str(), ")");
  o.push_back(len);
  return Shape(o);
}

// Maps from the diagonal output (N-D input case) into the input.
AxisMaps diag_maps(const DiagParam &p, const Shape &in, const Shape &out) {
  int a1 = normalize_axis(p.axis1, in.ndim(), "diag: axis1");
  int a2 = normalize_axis(p.axis2, in.ndim(), "diag: axis2");
  auto st = strides_of(in);
  AxisMaps maps;
  int od = 0;
  for (int d = 0; d < in.ndim(); ++d)
    if (d != a1 && d != a2) maps.push_back(linear_map(out[od++], 0, 1, st[static_cast<size_t>(d)]));
  int64_t len = out[out.ndim() - 1], o1 = p.k < 0 ? -p.k : 0, o2 = p.k > 0 ? p.k : 0;
  std::vector<int64_t> m(static_cast<size_t>(len));
  for (int64_t t = 0; t < len; ++t)
    m[static_cast<size_t>(t)] = (t + o1) * st[static_cast<size_t>(a1)] + (t + o2) * st[static_cast<size_t>(a2)];
  maps.push_back(m);
  return maps;
}
// Map placing a 1-D vector on the k-th diagonal of an (m, m) matrix.
AxisMaps diag1d_map(int64_t n, int64_t k, int64_t m) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  int64_t r0 = k < 0 ? -k : 0, c0 = k > 0 ? k : 0;
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = (i + r0) * m + (i + c0);
  return {v};
}

Kwargs diag_kw(const DiagParam &p) {
  return {{"k", print_value(p.k)}, {"axis1", print_value(p.axis1)}, {"axis2", print_value(p.axis2)}};
}

bool type_int64_out(const Params &, TypeVec &, TypeVec &, TypeVec &out) {
  out[0] = static_cast<int>(DType::i64);
  return true;
}

int register_ops() {
  MX_REGISTER_OP(Reshape)
      .alias("reshape")
      .doc("Reshapes the input (MXNet special codes 0, -1, -2, -3, -4 and reverse).")
      .params<ReshapeParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        assign_shape(out[0], reshape_shape(p.get<ReshapeParam>(), in[0], "Reshape"), "Reshape", "output");
        return true;
      })
      .cpu(copy_kernel())
      .inplace({{0, 0}})  // a reshape: same bytes, same order
      .grad(reshape_back_grad());

  MX_REGISTER_OP(reshape_like)
      .doc("Reshapes lhs to the shape of rhs (or replaces lhs axes [lhs_begin, lhs_end) with rhs axes "
           "[rhs_begin, rhs_end)).")
      .params<ReshapeLikeParam>()
      .inputs({"lhs", "rhs"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        const auto &p = pp.get<ReshapeLikeParam>();
        const Shape &l = in[0], &r = in[1];
        int64_t lb = range_end(p.lhs_begin, 0, l.ndim(), "lhs_begin"), le = range_end(p.lhs_end, l.ndim(), l.ndim(), "lhs_end");
        int64_t rb = range_end(p.rhs_begin, 0, r.ndim(), "rhs_begin"), re = range_end(p.rhs_end, r.ndim(), r.ndim(), "rhs_end");
        MX_CHECK(lb <= le && rb <= re, MX_ERR_INVALID_ARGUMENT, "reshape_like: begin must not exceed end");
        std::vector<int64_t> o(l.dims().begin(), l.dims().begin() + lb);
        o.insert(o.end(), r.dims().begin() + rb, r.dims().begin() + re);
        o.insert(o.end(), l.dims().begin() + le, l.dims().end());
        Shape os(o);
        MX_CHECK(os.size() == l.size(), MX_ERR_SHAPE, "reshape_like: cannot reshape lhs of shape ", l.str(), " to ",
                 os.str());
        assign_shape(out[0], os, "reshape_like", "output");
        return true;
      })
      .cpu(copy_kernel())
      .inplace({{0, 0}})  // a reshape: same bytes, same order
      .grad(reshape_back_grad());

  MX_REGISTER_OP(Flatten)
      .alias("flatten")
      .doc("Flattens the input to 2-D: (d0, d1 * ... * dn).")
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const Shape &s = in[0];
        int64_t d0 = s.ndim() ? s[0] : 1;
        assign_shape(out[0], Shape({d0, s.ndim() ? s.prod(1, s.ndim()) : 1}), "Flatten", "output");
        return true;
      })
      .cpu(copy_kernel())
      .inplace({{0, 0}})  // a reshape: same bytes, same order
      .grad(reshape_back_grad());

  MX_REGISTER_OP(expand_dims)
      .doc("Inserts a new axis of size 1 at `axis`.")
      .params<ExpandDimsParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        int64_t a = pp.get<ExpandDimsParam>().axis;
        int nd = in[0].ndim();
        MX_CHECK(a >= -nd - 1 && a <= nd, MX_ERR_INVALID_ARGUMENT, "expand_dims: parameter 'axis' has value ", a,
                 " out of range [", -nd - 1, ", ", nd, "]");
        if (a < 0) a += nd + 1;
        std::vector<int64_t> o = in[0].dims();
        o.insert(o.begin() + a, 1);
        assign_shape(out[0], Shape(o), "expand_dims", "output");
        return true;
      })
      .cpu(copy_kernel())
      .inplace({{0, 0}})  // a reshape: same bytes, same order
      .grad(reshape_back_grad());

  MX_REGISTER_OP(squeeze)
      .doc("Removes axes of size 1 (all of them when axis is None).")
      .params<SqueezeParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const Shape &s = in[0];
        bool all;
        std::vector<int64_t> axes = opt_tuple(pp.get<SqueezeParam>().axis, &all);
        std::vector<bool> drop(static_cast<size_t>(s.ndim()), false);
        if (all) {
          for (int d = 0; d < s.ndim(); ++d) drop[static_cast<size_t>(d)] = s[d] == 1;
        } else {
          for (int64_t a0 : axes) {
            int a = normalize_axis(a0, s.ndim(), "squeeze: axis");
            MX_CHECK(s[a] == 1, MX_ERR_INVALID_ARGUMENT, "squeeze: parameter 'axis' has value ", a0,
                     " but that axis has size ", s[a], " (only size-1 axes can be squeezed)");
            drop[static_cast<size_t>(a)] = true;
          }
        }
        std::vector<int64_t> o;
        for (int d = 0; d < s.ndim(); ++d)
          if (!drop[static_cast<size_t>(d)]) o.push_back(s[d]);
        if (o.empty() && s.ndim() > 0) o.push_back(1);  // MXNet keeps (1,) when everything is squeezed
        assign_shape(out[0], Shape(o), "squeeze", "output");
        return true;
      })
      .cpu(copy_kernel())
      .inplace({{0, 0}})  // a reshape: same bytes, same order
      .grad(reshape_back_grad());

  MX_REGISTER_OP(transpose)
      .doc("Permutes the axes (reverses them when axes is empty).")
      .params<TransposeParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        auto perm = transpose_perm(pp.get<TransposeParam>().axes, in[0].ndim());
        std::vector<int64_t> o;
        for (int a : perm) o.push_back(in[0][a]);
        assign_shape(out[0], Shape(o), "transpose", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        permute_copy(c.inputs[0], c.outputs[0], transpose_perm(c.p<TransposeParam>().axes, c.inputs[0].ndim()));
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        int nd = b.shape(n.inputs[0]).ndim();
        auto perm = transpose_perm(n.p<TransposeParam>().axes, nd);
        std::vector<int64_t> inv(static_cast<size_t>(nd));
        for (int i = 0; i < nd; ++i) inv[static_cast<size_t>(perm[static_cast<size_t>(i)])] = i;
        return {b.emit1("transpose", {{"axes", print_value(inv)}}, {n.out_grads[0]})};
      });

  MX_REGISTER_OP(SwapAxis)
      .alias("swapaxes")
      .doc("Swaps two axes.")
      .params<SwapAxisParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = pp.get<SwapAxisParam>();
        int a = normalize_axis(p.dim1, in[0].ndim(), "SwapAxis: dim1");
        int c = normalize_axis(p.dim2, in[0].ndim(), "SwapAxis: dim2");
        Shape o = in[0];
        std::swap(o[a], o[c]);
        assign_shape(out[0], o, "SwapAxis", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<SwapAxisParam>();
        int nd = c.inputs[0].ndim();
        std::vector<int> perm(static_cast<size_t>(nd));
        std::iota(perm.begin(), perm.end(), 0);
        std::swap(perm[static_cast<size_t>(normalize_axis(p.dim1, nd, "SwapAxis: dim1"))],
                  perm[static_cast<size_t>(normalize_axis(p.dim2, nd, "SwapAxis: dim2"))]);
        permute_copy(c.inputs[0], c.outputs[0], perm);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "SwapAxis", n, {n.out_grads[0]})[0]};
      });

  // depth_to_space: (N, C, H, W) -> view (N, b, b, C', H, W) -> (N, C', H, b, W, b).
  MX_REGISTER_OP(depth_to_space)
      .doc("Rearranges depth (channel) blocks into spatial blocks: (N, C, H, W) -> (N, C/b^2, H*b, W*b).")
      .params<BlockParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        int64_t bs = pp.get<BlockParam>().block_size;
        const Shape &s = in[0];
        MX_CHECK(bs > 0, MX_ERR_INVALID_ARGUMENT, "depth_to_space: parameter 'block_size' has value ", bs,
                 " (must be positive)");
        MX_CHECK(s.ndim() == 4, MX_ERR_SHAPE, "depth_to_space: input must be 4-D (N, C, H, W), got ", s.str());
        MX_CHECK(s[1] > 0 && s[2] > 0 && s[3] > 0, MX_ERR_SHAPE, "depth_to_space: input ", s.str(),
                 " has a zero-size channel or spatial dimension (as MXNet, refused)");
        MX_CHECK(s[1] % (bs * bs) == 0, MX_ERR_SHAPE, "depth_to_space: channels ", s[1],
                 " are not divisible by block_size^2 = ", bs * bs);
        assign_shape(out[0], Shape({s[0], s[1] / (bs * bs), s[2] * bs, s[3] * bs}), "depth_to_space", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        int64_t b = c.p<BlockParam>().block_size;
        const Shape &s = c.inputs[0].shape();
        Shape v({s[0], b, b, s[1] / (b * b), s[2], s[3]});
        auto st = strides_of(v);
        const int perm[6] = {0, 3, 4, 1, 5, 2};
        AxisMaps maps;
        for (int d = 0; d < 6; ++d) maps.push_back(linear_map(v[perm[d]], 0, 1, st[static_cast<size_t>(perm[d])]));
        gather_any(c.inputs[0], c.outputs[0].reshape(Shape({v[0], v[3], v[4], v[1], v[5], v[2]})), maps);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "space_to_depth", n, {n.out_grads[0]})[0]};
      });

  // space_to_depth: (N, C, H, W) -> view (N, C, H', b, W', b) -> (N, b, b, C, H', W').
  MX_REGISTER_OP(space_to_depth)
      .doc("Rearranges spatial blocks into depth: (N, C, H, W) -> (N, C*b^2, H/b, W/b).")
      .params<BlockParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        int64_t bs = pp.get<BlockParam>().block_size;
        const Shape &s = in[0];
        MX_CHECK(bs > 0, MX_ERR_INVALID_ARGUMENT, "space_to_depth: parameter 'block_size' has value ", bs,
                 " (must be positive)");
        MX_CHECK(s.ndim() == 4, MX_ERR_SHAPE, "space_to_depth: input must be 4-D (N, C, H, W), got ", s.str());
        MX_CHECK(s[1] > 0 && s[2] > 0 && s[3] > 0, MX_ERR_SHAPE, "space_to_depth: input ", s.str(),
                 " has a zero-size channel or spatial dimension (as MXNet, refused)");
        MX_CHECK(s[2] % bs == 0 && s[3] % bs == 0, MX_ERR_SHAPE, "space_to_depth: spatial dims of ", s.str(),
                 " are not divisible by block_size ", bs);
        assign_shape(out[0], Shape({s[0], s[1] * bs * bs, s[2] / bs, s[3] / bs}), "space_to_depth", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        int64_t b = c.p<BlockParam>().block_size;
        const Shape &s = c.inputs[0].shape();
        Shape v({s[0], s[1], s[2] / b, b, s[3] / b, b});
        auto st = strides_of(v);
        const int perm[6] = {0, 3, 5, 1, 2, 4};
        AxisMaps maps;
        for (int d = 0; d < 6; ++d) maps.push_back(linear_map(v[perm[d]], 0, 1, st[static_cast<size_t>(perm[d])]));
        gather_any(c.inputs[0], c.outputs[0].reshape(Shape({v[0], v[3], v[5], v[1], v[2], v[4]})), maps);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "depth_to_space", n, {n.out_grads[0]})[0]};
      });

  MX_REGISTER_OP(reverse)
      .alias("flip")
      .doc("Reverses the order of elements along the given axes.")
      .params<ReverseParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        for (int64_t a : pp.get<ReverseParam>().axis) normalize_axis(a, in[0].ndim(), "reverse: axis");
        assign_shape(out[0], in[0], "reverse", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.inputs[0].shape();
        std::vector<bool> flip(static_cast<size_t>(s.ndim()), false);
        for (int64_t a : c.p<ReverseParam>().axis) flip[static_cast<size_t>(normalize_axis(a, s.ndim(), "reverse: axis"))] = !flip[static_cast<size_t>(normalize_axis(a, s.ndim(), "reverse: axis"))];
        auto st = strides_of(s);
        AxisMaps maps;
        for (int d = 0; d < s.ndim(); ++d)
          maps.push_back(flip[static_cast<size_t>(d)] ? linear_map(s[d], s[d] - 1, -1, st[static_cast<size_t>(d)])
                                                      : linear_map(s[d], 0, 1, st[static_cast<size_t>(d)]));
        gather_any(c.inputs[0], c.outputs[0], maps);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "reverse", n, {n.out_grads[0]})[0]};
      });

  MX_REGISTER_OP(tile)
      .doc("Repeats the whole array `reps` times along each axis.")
      .params<TileParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        std::vector<int64_t> s, r;
        tile_dims(in[0], pp.get<TileParam>().reps, &s, &r);
        for (size_t i = 0; i < s.size(); ++i) s[i] *= r[i];
        assign_shape(out[0], Shape(s), "tile", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        std::vector<int64_t> s, r;
        tile_dims(c.inputs[0].shape(), c.p<TileParam>().reps, &s, &r);
        auto st = strides_of(Shape(s));
        AxisMaps maps;
        std::vector<int64_t> view;
        for (size_t d = 0; d < s.size(); ++d) {
          maps.push_back(linear_map(r[d], 0, 0, 0));
          maps.push_back(linear_map(s[d], 0, 1, st[d]));
          view.push_back(r[d]);
          view.push_back(s[d]);
        }
        gather_any(c.inputs[0], c.outputs[0].reshape(Shape(view)), maps);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        std::vector<int64_t> s, r, view, keep;
        tile_dims(b.shape(n.inputs[0]), n.p<TileParam>().reps, &s, &r);
        for (size_t d = 0; d < s.size(); ++d) {
          view.push_back(r[d]);
          view.push_back(s[d]);
          keep.push_back(1);
          keep.push_back(s[d]);
        }
        Var g = b.emit1("Reshape", {{"shape", print_value(view)}}, {n.out_grads[0]});
        g = sum_to_shape(b, g, Shape(keep));
        return {reshape_to(b, g, n.inputs[0])};
      });

  MX_REGISTER_OP(repeat)
      .doc("Repeats each element `repeats` times along `axis` (None: on the flattened input).")
      .params<RepeatParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = pp.get<RepeatParam>();
        MX_CHECK(p.repeats >= 0, MX_ERR_INVALID_ARGUMENT, "repeat: parameter 'repeats' has value ", p.repeats,
                 " (must be non-negative)");
        if (!p.axis) {
          assign_shape(out[0], Shape({in[0].size() * p.repeats}), "repeat", "output");
        } else {
          Shape o = in[0];
          int a = normalize_axis(*p.axis, o.ndim(), "repeat: axis");
          o[a] *= p.repeats;
          assign_shape(out[0], o, "repeat", "output");
        }
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<RepeatParam>();
        const Shape &s = c.inputs[0].shape();
        int a = p.axis ? normalize_axis(*p.axis, s.ndim(), "repeat: axis") : 0;
        Shape flat = p.axis ? s : Shape({s.size()});
        auto st = strides_of(flat);
        AxisMaps maps;
        std::vector<int64_t> view;
        for (int d = 0; d < flat.ndim(); ++d) {
          maps.push_back(linear_map(flat[d], 0, 1, st[static_cast<size_t>(d)]));
          view.push_back(flat[d]);
          if (d == a) {
            maps.push_back(linear_map(p.repeats, 0, 0, 0));
            view.push_back(p.repeats);
          }
        }
        gather_any(c.inputs[0], c.outputs[0].reshape(Shape(view)), maps);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &p = n.p<RepeatParam>();
        Shape s = b.shape(n.inputs[0]);
        int a = p.axis ? normalize_axis(*p.axis, s.ndim(), "repeat: axis") : 0;
        Shape flat = p.axis ? s : Shape({s.size()});
        std::vector<int64_t> view, keep;
        for (int d = 0; d < flat.ndim(); ++d) {
          view.push_back(flat[d]);
          keep.push_back(flat[d]);
          if (d == a) {
            view.push_back(p.repeats);
            keep.push_back(1);
          }
        }
        Var g = b.emit1("Reshape", {{"shape", print_value(view)}}, {n.out_grads[0]});
        g = sum_to_shape(b, g, Shape(keep));
        return {reshape_to(b, g, n.inputs[0])};
      });

  MX_REGISTER_OP(broadcast_like)
      .doc("Broadcasts lhs to the shape of rhs (or only lhs_axes to the sizes of rhs_axes).")
      .params<BroadcastLikeParam>()
      .inputs({"lhs", "rhs"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        const auto &p = pp.get<BroadcastLikeParam>();
        bool lnone, rnone;
        auto la = opt_tuple(p.lhs_axes, &lnone);
        auto ra = opt_tuple(p.rhs_axes, &rnone);
        // an explicitly empty tuple is not None (MXNet refuses it)
        for (const auto &kv : pp.given)
          if ((kv.first == "lhs_axes" || kv.first == "rhs_axes") && (kv.second == "()" || kv.second == "[]"))
            fail(MX_ERR_INVALID_ARGUMENT, "broadcast_like: parameter '", kv.first,
                 "' is an empty tuple (give the axes, or None for the whole shape)");
        const Shape &l = in[0], &r = in[1];
        if (lnone && rnone) {
          Shape o = broadcast_shapes(l, r, "broadcast_like");
          MX_CHECK(o == r, MX_ERR_SHAPE, "broadcast_like: cannot broadcast lhs of shape ", l.str(), " to ", r.str());
          assign_shape(out[0], o, "broadcast_like", "output");
          return true;
        }
        MX_CHECK(la.size() == ra.size() && !lnone && !rnone, MX_ERR_INVALID_ARGUMENT,
                 "broadcast_like: parameters 'lhs_axes' ", print_value(p.lhs_axes), " and 'rhs_axes' ",
                 print_value(p.rhs_axes), " must have the same length");
        Shape o = l;
        for (size_t i = 0; i < la.size(); ++i) {
          int a = normalize_axis(la[i], l.ndim(), "broadcast_like: lhs_axes");
          int c = normalize_axis(ra[i], r.ndim(), "broadcast_like: rhs_axes");
          MX_CHECK(l[a] == 1 || l[a] == r[c], MX_ERR_SHAPE, "broadcast_like: lhs axis ", a, " has size ", l[a],
                   " and cannot be broadcast to ", r[c]);
          o[a] = r[c];
        }
        assign_shape(out[0], o, "broadcast_like", "output");
        return true;
      })
      .cpu([](const OpCall &c) { broadcast_copy(c.inputs[0], c.outputs[0]); })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {sum_to_shape(b, n.out_grads[0], b.shape(n.inputs[0])), Var::none()};
      });

  MX_REGISTER_OP(broadcast_axis)
      .alias("broadcast_axes")
      .doc("Broadcasts size-1 axes to the given sizes.")
      .params<BroadcastAxisParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = pp.get<BroadcastAxisParam>();
        MX_CHECK(p.axis.size() == p.size.size(), MX_ERR_INVALID_ARGUMENT, "broadcast_axis: parameters 'axis' ",
                 print_value(p.axis), " and 'size' ", print_value(p.size), " must have the same length");
        Shape o = in[0];
        for (size_t i = 0; i < p.axis.size(); ++i) {
          int a = normalize_axis(p.axis[i], o.ndim(), "broadcast_axis: axis");
          MX_CHECK(in[0][a] == 1 || in[0][a] == p.size[i], MX_ERR_SHAPE, "broadcast_axis: axis ", a, " has size ",
                   in[0][a], " but only size-1 axes can be broadcast (to ", p.size[i], ")");
          MX_CHECK(p.size[i] >= 0, MX_ERR_INVALID_ARGUMENT, "broadcast_axis: parameter 'size' has value ",
                   print_value(p.size), " with a negative entry");
          o[a] = p.size[i];
        }
        assign_shape(out[0], o, "broadcast_axis", "output");
        return true;
      })
      .cpu([](const OpCall &c) { broadcast_copy(c.inputs[0], c.outputs[0]); })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {sum_to_shape(b, n.out_grads[0], b.shape(n.inputs[0]))};
      });

  MX_REGISTER_OP(Pad)
      .alias("pad")
      .doc("Pads the input (constant, edge or reflect), widths given per axis as (before, after) pairs.")
      .params<PadParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = pp.get<PadParam>();
        check_pad(p, in[0], "Pad");
        Shape o = in[0];
        for (int d = 0; d < o.ndim(); ++d)
          o[d] += p.pad_width[static_cast<size_t>(2 * d)] + p.pad_width[static_cast<size_t>(2 * d + 1)];
        assign_shape(out[0], o, "Pad", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<PadParam>();
        const Shape &s = c.inputs[0].shape();
        if (p.mode == "constant") {
          fill_value(c.outputs[0], p.constant_value);
          auto st = strides_of(c.outputs[0].shape());
          AxisMaps maps;
          for (int d = 0; d < s.ndim(); ++d)
            maps.push_back(linear_map(s[d], p.pad_width[static_cast<size_t>(2 * d)], 1, st[static_cast<size_t>(d)]));
          scatter_any(c.inputs[0], c.outputs[0], maps);
        } else {
          gather_any(c.inputs[0], c.outputs[0], pad_maps(p, s));
        }
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &p = n.p<PadParam>();
        if (p.mode == "constant") {
          Shape s = b.shape(n.inputs[0]);
          std::vector<int64_t> beg, end;
          for (int d = 0; d < s.ndim(); ++d) {
            beg.push_back(p.pad_width[static_cast<size_t>(2 * d)]);
            end.push_back(beg.back() + s[d]);
          }
          return {b.emit1("slice", {{"begin", print_value(beg)}, {"end", print_value(end)}}, {n.out_grads[0]})};
        }
        return {emit_with(b, "_backward_Pad", n, {n.out_grads[0]})[0]};
      });

  MX_REGISTER_OP(_backward_Pad)
      .doc("Adjoint of edge/reflect Pad: sums the padded gradient back onto the input positions.")
      .params<PadParam>()
      .inputs({"out_grad"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = pp.get<PadParam>();
        Shape o = in[0];
        MX_CHECK(static_cast<int>(p.pad_width.size()) == 2 * o.ndim(), MX_ERR_INVALID_ARGUMENT,
                 "_backward_Pad: parameter 'pad_width' has value ", print_value(p.pad_width), " for ", o.ndim(), " dims");
        for (int d = 0; d < o.ndim(); ++d)
          o[d] -= p.pad_width[static_cast<size_t>(2 * d)] + p.pad_width[static_cast<size_t>(2 * d + 1)];
        assign_shape(out[0], o, "_backward_Pad", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        zero_fill(c.outputs[0]);
        scatter_add_any(c.inputs[0], c.outputs[0], pad_maps(c.p<PadParam>(), c.outputs[0].shape()));
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {emit_with(b, "Pad", n, {n.out_grads[0]})[0]};
      });

  MX_REGISTER_OP(diag)
      .doc("Extracts the k-th diagonal (input ndim >= 2) or builds a diagonal matrix (1-D input).")
      .params<DiagParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .shape([](const Params &pp, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        assign_shape(out[0], diag_shape(pp.get<DiagParam>(), in[0], "diag"), "diag", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<DiagParam>();
        const Shape &s = c.inputs[0].shape();
        if (s.ndim() == 1) {
          zero_fill(c.outputs[0]);
          scatter_any(c.inputs[0], c.outputs[0], diag1d_map(s[0], p.k, c.outputs[0].shape()[0]));
        } else {
          gather_any(c.inputs[0], c.outputs[0], diag_maps(p, s, c.outputs[0].shape()));
        }
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        if (b.shape(n.inputs[0]).ndim() == 1)
          return {b.emit1("diag", {{"k", print_value(n.p<DiagParam>().k)}}, {n.out_grads[0]})};
        return {emit_with(b, "_backward_diag", n, {n.out_grads[0], n.inputs[0]})[0]};
      });

  MX_REGISTER_OP(_backward_diag)
      .doc("Adjoint of diagonal extraction: places out_grad on the diagonal of zeros shaped like data.")
      .params<DiagParam>()
      .inputs({"out_grad", "data"})
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_diag", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        zero_fill(c.outputs[0]);
        scatter_any(c.inputs[0], c.outputs[0], diag_maps(c.p<DiagParam>(), c.outputs[0].shape(), c.inputs[0].shape()));
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit1("diag", diag_kw(n.p<DiagParam>()), {n.out_grads[0]}), Var::none()};
      });

  MX_REGISTER_OP(shape_array)
      .doc("Returns the shape of the input as a 1-D int64 array.")
      .inputs({"data"})
      .dtypes(all_dtypes())
      .type(type_int64_out)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        assign_shape(out[0], Shape({static_cast<int64_t>(in[0].ndim())}), "shape_array", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        int64_t *o = c.outputs[0].data<int64_t>();
        for (int d = 0; d < c.inputs[0].ndim(); ++d) o[d] = c.inputs[0].shape()[d];
      })
      .gpu(cuda_only([](const OpCall &c) {  // known on the host: uploaded
        c.outputs[0].assign(indices_on(c.inputs[0].shape().dims(), Device()));
      }))
      .no_grad();

  MX_REGISTER_OP(size_array)
      .doc("Returns the number of elements of the input as a (1,) int64 array.")
      .inputs({"data"})
      .dtypes(all_dtypes())
      .type(type_int64_out)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        assign_shape(out[0], Shape({1}), "size_array", "output");
        return true;
      })
      .cpu([](const OpCall &c) { c.outputs[0].data<int64_t>()[0] = c.inputs[0].size(); })
      .gpu(cuda_only([](const OpCall &c) { c.outputs[0].assign(indices_on({c.inputs[0].size()}, Device())); }))
      .no_grad();
  // Kernels built only from the device-aware primitives of shape_common.h: the same on the GPU.
  gpu_same_as_cpu({"Reshape", "reshape_like", "Flatten", "expand_dims", "squeeze", "transpose", "SwapAxis",
                   "depth_to_space", "space_to_depth", "reverse", "tile", "repeat", "broadcast_like",
                   "broadcast_axis", "Pad", "_backward_Pad", "diag", "_backward_diag"});
  return 0;
}

const int registered = register_ops();

}  // namespace
}  // namespace mx
