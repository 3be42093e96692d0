// _contrib_boolean_mask: the slices of `data` along `axis` whose `index` entry is non-zero. The
// output's length along `axis` is the number of non-zero entries, known only from the index's
// values: the op declares shape_from_values (ops/registry.h), which invoke_raw runs before
// allocating. Its gradient scatters the output gradient back to the kept slices (zeros elsewhere).
#include <cstring>

#include "ops/registry.h"
#include "ops/shape_common.h"

namespace mx {
namespace {

struct BooleanMaskParam {
  int64_t axis;
  static void describe(ParamDecl<BooleanMaskParam> &d) {
    d.field("axis", &BooleanMaskParam::axis).def(0).doc("The axis along which data is masked.");
  }
};

// Normalised axis after checking data against index (1-d, one entry per slice).
int mask_axis(const BooleanMaskParam &p, const Shape &data, const Shape &index, const char *op) {
  MX_CHECK(data.ndim() >= 1, MX_ERR_SHAPE, op, ": data must have at least 1 dimension, got shape ", data.str());
  int64_t ax = p.axis < 0 ? p.axis + data.ndim() : p.axis;
  MX_CHECK(ax >= 0 && ax < data.ndim(), MX_ERR_INVALID_ARGUMENT, op, ": axis ", p.axis,
           " is out of range for data of shape ", data.str());
  MX_CHECK(index.ndim() == 1, MX_ERR_SHAPE, op, ": index must be 1-dimensional, got shape ", index.str());
  MX_CHECK(index[0] == data[static_cast<int>(ax)], MX_ERR_SHAPE, op, ": index has ", index[0],
           " entries but data (shape ", data.str(), ") has ", data[static_cast<int>(ax)], " along axis ", ax);
  return static_cast<int>(ax);
}

// Positions of the non-zero index entries (bool, integer or float index).
std::vector<int64_t> kept_positions(const NDArray &index) {
  std::vector<int64_t> keep;
  const int64_t n = index.size();
  MX_DTYPE_SWITCH_ALL(index.dtype(), T, {
    const T *v = index.data<T>();
    for (int64_t i = 0; i < n; ++i)
      if (static_cast<double>(v[i]) != 0.0) keep.push_back(i);
  });
  return keep;
}

// Copies slice keep[j] of `src` (along axis, as outer x len x inner blocks) to slice j of `dst`,
// or back (scatter = true: slice j of src to slice keep[j] of dst).
void move_slices(const NDArray &src, const NDArray &dst, int axis, const std::vector<int64_t> &keep, bool scatter) {
  const Shape &full = scatter ? dst.shape() : src.shape();
  int64_t outer = 1, inner = static_cast<int64_t>(dtype_size(src.dtype()));
  for (int d = 0; d < axis; ++d) outer *= full[d];
  for (int d = axis + 1; d < full.ndim(); ++d) inner *= full[d];
  const int64_t len = full[axis], nk = static_cast<int64_t>(keep.size());
  const auto *s = static_cast<const char *>(src.raw());
  auto *t = static_cast<char *>(dst.raw());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < nk; ++j) {
      const int64_t kept = (o * len + keep[static_cast<size_t>(j)]) * inner, packed = (o * nk + j) * inner;
      if (scatter) std::memcpy(t + kept, s + packed, static_cast<size_t>(inner));
      else std::memcpy(t + packed, s + kept, static_cast<size_t>(inner));
    }
}

const int registered = [] {
  MX_REGISTER_OP(_contrib_boolean_mask)
      .doc("Selects the slices of data along axis whose index entry is non-zero (output length = number of "
           "non-zero entries, known only at run time).")
      .params<BooleanMaskParam>()
      .inputs({"data", "index"})
      .dtypes(shape_detail::all_dtypes())
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[0] < 0) return false;
        out[0] = in[0];
        return true;
      })
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &) {
        if (in[0].known() && in[1].known()) mask_axis(p.get<BooleanMaskParam>(), in[0], in[1], "boolean_mask");
        return false;  // the output's length along axis depends on the index's values
      })
      .shape_from_values([](const Params &p, const std::vector<NDArray> &in, ShapeVec &out) {
        const int ax = mask_axis(p.get<BooleanMaskParam>(), in[0].shape(), in[1].shape(), "boolean_mask");
        std::vector<int64_t> dims = in[0].shape().dims();
        dims[static_cast<size_t>(ax)] = static_cast<int64_t>(kept_positions(in[1]).size());
        out[0] = Shape(dims);
      })
      .cpu([](const OpCall &c) {
        const int ax = mask_axis(c.p<BooleanMaskParam>(), c.inputs[0].shape(), c.inputs[1].shape(), "boolean_mask");
        move_slices(c.inputs[0], c.outputs[0], ax, kept_positions(c.inputs[1]), false);
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_contrib_boolean_mask"), n.params, {n.out_grads[0], n.inputs[0], n.inputs[1]})[0],
                Var::none()};
      });

  MX_REGISTER_OP(_backward_contrib_boolean_mask)
      .doc("Gradient of boolean_mask: inputs (out_grad, data, index); the data gradient is out_grad scattered to "
           "the kept slices, zero elsewhere.")
      .params<BooleanMaskParam>()
      .inputs({"out_grad", "data", "index"})
      .dtypes(shape_detail::all_dtypes())
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[0] < 0) return false;
        out[0] = in[0];
        return true;
      })
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_contrib_boolean_mask", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        const NDArray &g = c.inputs[0], &out = c.outputs[0];
        const int ax = mask_axis(c.p<BooleanMaskParam>(), out.shape(), c.inputs[2].shape(), "boolean_mask");
        const auto keep = kept_positions(c.inputs[2]);
        std::vector<int64_t> expect = out.shape().dims();
        expect[static_cast<size_t>(ax)] = static_cast<int64_t>(keep.size());
        MX_CHECK(g.shape() == Shape(expect), MX_ERR_SHAPE, "boolean_mask backward: out_grad has shape ",
                 g.shape().str(), " but the masked output has ", Shape(expect).str());
        std::memset(out.raw(), 0, static_cast<size_t>(out.size()) * dtype_size(out.dtype()));
        move_slices(g, out, ax, keep, true);
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
