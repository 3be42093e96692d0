// batch_take (MXNet's deprecated form of pick along axis 1): out[i] = a[i, indices[i]] for a
// (rows, M) array, indices clipped into [0, M). MXNet gives it no gradient, so binding it with
// a gradient request fails there; MX marks it non-differentiable (no gradient flows back).
#include <cstring>

#include "ops/shape_common.h"

namespace mx {
namespace {

using namespace shape_detail;

const int registered = [] {
  MX_REGISTER_OP(batch_take)
      .doc("Takes one element per row: out[i] = a[i, indices[i]] (indices clipped to the row). Deprecated in "
           "MXNet in favour of pick.")
      .params<EmptyParam>()
      .inputs({"a", "indices"})
      .no_grad()  // MXNet defines no gradient; here no gradient flows (zeros), binding succeeds
      .dtypes(all_dtypes())
      .type(type_from_first)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const Shape &a = in[0];
        MX_CHECK(a.ndim() >= 2, MX_ERR_SHAPE, "batch_take: a must have at least 2 dimensions, got ", a.str());
        if (in[1].known()) {
          MX_CHECK(in[1].size() == a[0], MX_ERR_SHAPE, "batch_take: indices has shape ", in[1].str(), " (",
                   in[1].size(), " elements) but a has ", a[0], " rows");
          assign_shape(out[0], in[1], "batch_take", "output");
          return true;
        }
        if (!out[0].known()) return false;
        assign_shape(in[1], out[0], "batch_take", "indices");
        return true;
      })
      .cpu([](const OpCall &c) {
        const NDArray &a = c.inputs[0];
        const int64_t rows = a.shape()[0], m = rows ? a.size() / rows : 0;
        MX_CHECK(m > 0 || rows == 0, MX_ERR_SHAPE, "batch_take: a has empty rows (shape ", a.shape().str(), ")");
        auto idx = read_indices(c.inputs[1]);
        const size_t es = dtype_size(a.dtype());
        const char *src = static_cast<const char *>(a.raw());
        char *dst = static_cast<char *>(c.outputs[0].raw());
        for (int64_t i = 0; i < rows; ++i) {
          int64_t j = idx[static_cast<size_t>(i)];
          j = j < 0 ? 0 : (j >= m ? m - 1 : j);
          std::memcpy(dst + static_cast<size_t>(i) * es, src + static_cast<size_t>(i * m + j) * es, es);
        }
      });
  return 0;
}();

}  // namespace
}  // namespace mx
