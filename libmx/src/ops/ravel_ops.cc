// ravel_multi_index / unravel_index (MXNet 1.x, as numpy's): convert between a (ndim, N) array
// of per-axis indices and N flat indices into an array of `shape` (row-major). A leading -1 in
// shape leaves the first axis unbounded. Values are stored in the input's dtype. No gradient.
#include <cmath>

#include "ops/shape_common.h"

namespace mx {
namespace {

using namespace shape_detail;

struct RavelParam {
  std::vector<int64_t> shape;
  static void describe(ParamDecl<RavelParam> &d) {
    d.field("shape", &RavelParam::shape).def({}).doc("Shape of the array into which the multi-indices apply.");
    d.check([](const RavelParam &p, const std::string &op) {
      MX_CHECK(!p.shape.empty(), MX_ERR_INVALID_ARGUMENT, op, ": parameter 'shape' is required and must not be empty");
      for (size_t i = 0; i < p.shape.size(); ++i)
        MX_CHECK(p.shape[i] > 0 || (i == 0 && p.shape[i] == -1), MX_ERR_INVALID_ARGUMENT, op, ": shape ",
                 print_value(p.shape), " has dimension ", p.shape[i], " at axis ", i,
                 " (only the first may be -1, every other must be positive)");
    });
  }
};

// Strides of the row-major layout (the first axis' extent never matters).
std::vector<int64_t> ravel_strides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> st(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) st[d - 1] = st[d] * shape[d];
  return st;
}

double to_index(double v, const char *op) {
  MX_CHECK(std::isfinite(v) && v >= 0 && v == std::floor(v), MX_ERR_INVALID_ARGUMENT, op, ": index ", v,
           " is not a non-negative integer");
  return v;
}

const int registered = [] {
  MX_REGISTER_OP(_ravel_multi_index)
      .alias("ravel_multi_index")
      .doc("Converts a (ndim, N) array of multi-indices into N flat indices of an array of `shape` (as "
           "numpy.ravel_multi_index). A leading -1 in shape leaves the first axis unbounded.")
      .params<RavelParam>()
      .inputs({"data"})
      .no_grad()
      .dtypes({DType::f32, DType::f64, DType::i32, DType::i64})
      .shape([](const Params &pr, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = pr.get<RavelParam>();
        MX_CHECK(in[0].ndim() == 2 && in[0][0] == static_cast<int64_t>(p.shape.size()), MX_ERR_SHAPE,
                 "ravel_multi_index: data must have shape (", p.shape.size(), ", N) for shape ", print_value(p.shape),
                 ", got ", in[0].str());
        assign_shape(out[0], Shape{in[0][1]}, "ravel_multi_index", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<RavelParam>();
        const NDArray &x = c.inputs[0];
        const int64_t nd = static_cast<int64_t>(p.shape.size()), n = x.shape()[1];
        const auto st = ravel_strides(p.shape);
        MX_DTYPE_SWITCH_ALL(x.dtype(), T, {
          const T *xp = x.data<T>();
          T *o = c.outputs[0].data<T>();
          for (int64_t j = 0; j < n; ++j) {
            double flat = 0;
            for (int64_t d = 0; d < nd; ++d) {
              const double v = to_index(to_f64<T>(xp[d * n + j]), "ravel_multi_index");
              MX_CHECK(p.shape[static_cast<size_t>(d)] < 0 || v < static_cast<double>(p.shape[static_cast<size_t>(d)]),
                       MX_ERR_INVALID_ARGUMENT, "ravel_multi_index: index ", v, " of element ", j,
                       " is out of bounds for axis ", d, " of size ", p.shape[static_cast<size_t>(d)]);
              flat += v * static_cast<double>(st[static_cast<size_t>(d)]);
            }
            o[j] = from_f64<T>(flat);
          }
        });
      });

  MX_REGISTER_OP(_unravel_index)
      .alias("unravel_index")
      .doc("Converts N flat indices into a (ndim, N) array of multi-indices of an array of `shape` (as "
           "numpy.unravel_index). A leading -1 in shape leaves the first axis unbounded.")
      .params<RavelParam>()
      .inputs({"data"})
      .no_grad()
      .dtypes({DType::f32, DType::f64, DType::i32, DType::i64})
      .shape([](const Params &pr, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        const auto &p = pr.get<RavelParam>();
        MX_CHECK(in[0].ndim() == 1, MX_ERR_SHAPE, "unravel_index: data must be 1-d, got ", in[0].str());
        assign_shape(out[0], Shape{static_cast<int64_t>(p.shape.size()), in[0][0]}, "unravel_index", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<RavelParam>();
        const NDArray &x = c.inputs[0];
        const int64_t nd = static_cast<int64_t>(p.shape.size()), n = x.size();
        MX_DTYPE_SWITCH_ALL(x.dtype(), T, {
          const T *xp = x.data<T>();
          T *o = c.outputs[0].data<T>();
          for (int64_t j = 0; j < n; ++j) {
            double v = to_index(to_f64<T>(xp[j]), "unravel_index");
            for (int64_t d = nd - 1; d >= 0; --d) {
              const int64_t ext = p.shape[static_cast<size_t>(d)];
              if (d == 0) {
                MX_CHECK(ext < 0 || v < static_cast<double>(ext), MX_ERR_INVALID_ARGUMENT, "unravel_index: index ",
                         to_f64<T>(xp[j]), " is out of bounds for shape ", print_value(p.shape));
                o[j] = from_f64<T>(v);
              } else {
                o[d * n + j] = from_f64<T>(std::fmod(v, static_cast<double>(ext)));
                v = std::floor(v / static_cast<double>(ext));
              }
            }
          }
        });
      });
  return 0;
}();

}  // namespace
}  // namespace mx
