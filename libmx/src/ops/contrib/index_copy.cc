// _contrib_index_copy: a copy of old_tensor with rows index_vector[i] (axis 0) replaced by
// new_tensor[i]; its gradient passes the other rows to old_tensor and the chosen rows to new_tensor.
#include <cmath>
#include <cstring>

#include "ops/registry.h"
#include "ops/shape_common.h"

namespace mx {
namespace {

std::vector<int64_t> row_indices(const NDArray &idx, int64_t rows, const char *op) {
  std::vector<int64_t> v(static_cast<size_t>(idx.size()));
  MX_DTYPE_SWITCH_NUMERIC(idx.dtype(), T, op, {
    const T *p = idx.data<T>();
    for (int64_t i = 0; i < idx.size(); ++i) {
      const double x = static_cast<double>(p[i]);
      MX_CHECK(x == std::floor(x) && x >= 0 && x < static_cast<double>(rows), MX_ERR_INVALID_ARGUMENT, op, ": index ", x,
               " at position ", i, " is out of range for old_tensor with ", rows, " rows");
      v[static_cast<size_t>(i)] = static_cast<int64_t>(x);
    }
  });
  return v;
}

int64_t row_bytes(const NDArray &a) {
  return a.shape()[0] == 0 ? 0 : a.size() / a.shape()[0] * static_cast<int64_t>(dtype_size(a.dtype()));
}

bool index_copy_types(const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
  if (in[0] < 0) return false;
  if (in[2] < 0) in[2] = in[0];
  MX_CHECK(in[2] == in[0], MX_ERR_TYPE, "index_copy: new_tensor's dtype ", dtype_name(static_cast<DType>(in[2])),
           " differs from old_tensor's ", dtype_name(static_cast<DType>(in[0])));
  out[0] = in[0];
  return true;
}

const int registered = [] {
  MX_REGISTER_OP(_contrib_index_copy)
      .doc("Copies the rows of new_tensor into a copy of old_tensor at the row positions index_vector (axis 0).")
      .inputs({"old_tensor", "index_vector", "new_tensor"})
      .dtypes(shape_detail::all_dtypes())
      .type(index_copy_types)
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known() || !in[2].known()) return false;
        MX_CHECK(in[0].ndim() >= 1 && in[1].ndim() == 1, MX_ERR_SHAPE,
                 "index_copy: old_tensor must have at least 1 dimension and index_vector exactly 1, got ", in[0].str(),
                 " and ", in[1].str());
        std::vector<int64_t> expect = in[0].dims();
        expect[0] = in[1][0];
        MX_CHECK(in[2] == Shape(expect), MX_ERR_SHAPE, "index_copy: new_tensor ", in[2].str(), " must have shape ",
                 Shape(expect).str(), " (one row per index, rows shaped like old_tensor's)");
        assign_shape(out[0], in[0], "index_copy", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const NDArray &old = c.inputs[0], &fresh = c.inputs[2], &out = c.outputs[0];
        const auto idx = row_indices(c.inputs[1], old.shape()[0], "index_copy");
        const int64_t rb = row_bytes(old);
        auto *dst = static_cast<char *>(out.raw());
        if (dst != old.raw()) std::memcpy(dst, old.raw(), static_cast<size_t>(rb * old.shape()[0]));
        const auto *src = static_cast<const char *>(fresh.raw());
        for (size_t i = 0; i < idx.size(); ++i)
          std::memcpy(dst + idx[i] * rb, src + static_cast<int64_t>(i) * rb, static_cast<size_t>(rb));
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto g = b.emit("_backward_contrib_index_copy", {}, {n.out_grads[0], n.inputs[1], n.inputs[2]});
        return {g[0], Var::none(), g[1]};
      });

  MX_REGISTER_OP(_backward_contrib_index_copy)
      .doc("Gradient of index_copy: inputs (out_grad, index_vector, new_tensor); outputs (old_grad, new_grad).")
      .inputs({"out_grad", "index_vector", "new_tensor"})
      .outputs({"old_grad", "new_grad"})
      .dtypes(shape_detail::all_dtypes())
      .type([](const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
        if (in[0] < 0) return false;
        out[0] = out[1] = in[0];
        return true;
      })
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[2].known()) return false;
        assign_shape(out[0], in[0], "_backward_contrib_index_copy", "old_grad");
        assign_shape(out[1], in[2], "_backward_contrib_index_copy", "new_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        const NDArray &g = c.inputs[0];
        const auto idx = row_indices(c.inputs[1], g.shape()[0], "index_copy");
        const int64_t rb = row_bytes(g);
        const auto *src = static_cast<const char *>(g.raw());
        auto *old_grad = static_cast<char *>(c.outputs[0].raw());
        auto *new_grad = static_cast<char *>(c.outputs[1].raw());
        std::memcpy(old_grad, src, static_cast<size_t>(rb * g.shape()[0]));
        for (size_t i = 0; i < idx.size(); ++i) {
          std::memcpy(new_grad + static_cast<int64_t>(i) * rb, src + idx[i] * rb, static_cast<size_t>(rb));
          std::memset(old_grad + idx[i] * rb, 0, static_cast<size_t>(rb));
        }
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
