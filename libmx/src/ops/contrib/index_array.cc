// _contrib_index_array (MXNet 1.x's mx.nd.contrib.index_array): for an input of shape
// (d0, ..., dn-1), an int64 array of shape (d0, ..., dn-1, k) whose last axis holds each
// element's own index along the selected `axes` (all axes by default, k = n). Only the
// input's shape matters, so the input's gradient is zero.
#include "ops/shape_common.h"

namespace mx {
namespace {

using namespace shape_detail;

struct IndexArrayParam {
  std::vector<std::optional<int64_t>> axes;  // empty / None: every axis in order
  static void describe(ParamDecl<IndexArrayParam> &d) {
    d.field("axes", &IndexArrayParam::axes).def({})
        .doc("The axes to include in the index array. Supports negative values. None: all axes.");
  }
};

std::vector<int> selected_axes(const IndexArrayParam &p, int nd) {
  std::vector<int> ax;
  if (p.axes.empty()) {
    for (int i = 0; i < nd; ++i) ax.push_back(i);
    return ax;
  }
  for (const auto &a : p.axes) {
    MX_CHECK(a.has_value(), MX_ERR_INVALID_ARGUMENT, "index_array: 'axes' must list integers, got None");
    const int64_t v = *a < 0 ? *a + nd : *a;
    MX_CHECK(v >= 0 && v < nd, MX_ERR_INVALID_ARGUMENT, "index_array: axis ", *a, " is out of range for an input of ",
             nd, " dimensions");
    ax.push_back(static_cast<int>(v));
  }
  return ax;
}

const int registered = [] {
  MX_REGISTER_OP(_contrib_index_array)
      .doc("Returns an array of indexes of the input array: out[i0, ..., in-1, :] = (i_a for a in axes).")
      .params<IndexArrayParam>()
      .inputs({"data"})
      .dtypes(all_dtypes())
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        out[0] = static_cast<int>(DType::i64);
        return in[0] >= 0;
      })
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        auto ax = selected_axes(p.get<IndexArrayParam>(), in[0].ndim());
        std::vector<int64_t> d = in[0].dims();
        d.push_back(static_cast<int64_t>(ax.size()));
        assign_shape(out[0], Shape(d), "index_array", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const Shape &s = c.inputs[0].shape();
        const int nd = s.ndim();
        auto ax = selected_axes(c.p<IndexArrayParam>(), nd);
        const size_t k = ax.size();
        int64_t *o = c.outputs[0].data<int64_t>();
        std::vector<int64_t> idx(static_cast<size_t>(nd), 0);
        const int64_t n = s.size();
        for (int64_t i = 0; i < n; ++i) {
          for (size_t j = 0; j < k; ++j) o[static_cast<size_t>(i) * k + j] = idx[static_cast<size_t>(ax[j])];
          for (int d = nd - 1; d >= 0; --d) {  // odometer increment
            if (++idx[static_cast<size_t>(d)] < s[d]) break;
            idx[static_cast<size_t>(d)] = 0;
          }
        }
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit1("zeros_like", {}, {n.inputs[0]})};
      });
  return 0;
}();

}  // namespace
}  // namespace mx
