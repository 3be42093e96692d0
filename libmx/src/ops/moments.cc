// moments (MXNet 1.x): mean and (population) variance of the input over `axes` in one op.
// Gradient: d/dx = og_mean / N + og_var * 2 (x - mean) / N, N = elements reduced per output.
#include "ops/shape_common.h"

namespace mx {
namespace {

using namespace shape_detail;

struct MomentsParam {
  std::vector<std::optional<int64_t>> axes;  // empty (or None): every axis
  bool keepdims = false;
  static void describe(ParamDecl<MomentsParam> &d) {
    d.field("axes", &MomentsParam::axes).def({})
        .doc("Array of ints. Axes along which to compute mean and variance (None: all axes).");
    d.field("keepdims", &MomentsParam::keepdims).def(false).doc("Produce moments with the same dimensionality as the input.");
  }
};

// Which axes of a rank-`nd` input are reduced (axes normalised, duplicates refused).
std::vector<bool> reduced_axes(const MomentsParam &p, int nd) {
  std::vector<bool> red(static_cast<size_t>(nd), p.axes.empty());
  for (const auto &ao : p.axes) {
    MX_CHECK(ao.has_value(), MX_ERR_INVALID_ARGUMENT, "moments: 'axes' must list integers, got None");
    {
      const int64_t a = *ao;
      const int64_t ax = a < 0 ? a + nd : a;
      MX_CHECK(ax >= 0 && ax < nd, MX_ERR_INVALID_ARGUMENT, "moments: axis ", a, " is out of range for an input of ",
               nd, " dimensions");
      MX_CHECK(!red[static_cast<size_t>(ax)], MX_ERR_INVALID_ARGUMENT, "moments: axis ", a, " is given twice");
      red[static_cast<size_t>(ax)] = true;
    }
  }
  return red;
}

Shape moments_out_shape(const MomentsParam &p, const Shape &in) {
  auto red = reduced_axes(p, in.ndim());
  std::vector<int64_t> d;
  for (int i = 0; i < in.ndim(); ++i) {
    if (!red[static_cast<size_t>(i)]) d.push_back(in[i]);
    else if (p.keepdims) d.push_back(1);
  }
  if (d.empty()) d.push_back(1);  // MXNet 1.x: a full reduction gives shape (1,)
  return Shape(d);
}

// out_index[i]: the flat index of the output element that input element i reduces into.
std::vector<int64_t> output_index_map(const MomentsParam &p, const Shape &in) {
  auto red = reduced_axes(p, in.ndim());
  const int nd = in.ndim();
  std::vector<int64_t> ostride(static_cast<size_t>(nd), 0);
  int64_t s = 1;
  for (int d = nd - 1; d >= 0; --d) {
    if (!red[static_cast<size_t>(d)]) {
      ostride[static_cast<size_t>(d)] = s;
      s *= in[d];
    }
  }
  std::vector<int64_t> map(static_cast<size_t>(in.size()));
  std::vector<int64_t> idx(static_cast<size_t>(nd), 0);
  int64_t o = 0;
  for (int64_t i = 0; i < in.size(); ++i) {
    map[static_cast<size_t>(i)] = o;
    for (int d = nd - 1; d >= 0; --d) {  // odometer increment
      auto &k = idx[static_cast<size_t>(d)];
      ++k;
      o += ostride[static_cast<size_t>(d)];
      if (k < in[d]) break;
      o -= ostride[static_cast<size_t>(d)] * k;
      k = 0;
    }
  }
  return map;
}

const int registered = [] {
  MX_REGISTER_OP(moments)
      .doc("Calculates the mean and variance of `data` over `axes`. Returns (mean, var).")
      .params<MomentsParam>()
      .inputs({"data"})
      .outputs({"mean", "var"})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        Shape o = moments_out_shape(p.get<MomentsParam>(), in[0]);
        assign_shape(out[0], o, "moments", "mean");
        assign_shape(out[1], o, "moments", "var");
        return true;
      })
      .cpu([](const OpCall &c) {
        const NDArray &x = c.inputs[0];
        MX_DTYPE_SWITCH_FLOAT(x.dtype(), T, "moments", {
          auto map = output_index_map(c.p<MomentsParam>(), x.shape());
          const int64_t no = c.outputs[0].size(), ni = x.size();
          const double cnt = no ? static_cast<double>(ni) / static_cast<double>(no) : 1.0;
          std::vector<double> mean(static_cast<size_t>(no), 0.0), var(static_cast<size_t>(no), 0.0);
          const T *xp = x.data<T>();
          for (int64_t i = 0; i < ni; ++i) mean[static_cast<size_t>(map[static_cast<size_t>(i)])] += static_cast<double>(xp[i]);
          for (auto &m : mean) m /= cnt;
          for (int64_t i = 0; i < ni; ++i) {
            const size_t o = static_cast<size_t>(map[static_cast<size_t>(i)]);
            const double dx = static_cast<double>(xp[i]) - mean[o];
            var[o] += dx * dx;
          }
          T *mp = c.outputs[0].data<T>(), *vp = c.outputs[1].data<T>();
          for (int64_t o = 0; o < no; ++o) {
            mp[o] = static_cast<T>(mean[static_cast<size_t>(o)]);
            vp[o] = static_cast<T>(var[static_cast<size_t>(o)] / cnt);
          }
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_moments"), n.params,
                       {n.out_grads[0], n.out_grads[1], n.inputs[0], n.outputs[0]})[0]};
      });

  MX_REGISTER_OP(_backward_moments)
      .doc("Gradient of moments: inputs (grad of mean, grad of var, data, mean).")
      .params<MomentsParam>()
      .inputs({"ograd_mean", "ograd_var", "data", "mean"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[2].known()) return false;
        assign_shape(out[0], in[2], "_backward_moments", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const NDArray &x = c.inputs[2];
        MX_DTYPE_SWITCH_FLOAT(x.dtype(), T, "_backward_moments", {
          auto map = output_index_map(c.p<MomentsParam>(), x.shape());
          const int64_t no = c.inputs[3].size(), ni = x.size();
          const double cnt = no ? static_cast<double>(ni) / static_cast<double>(no) : 1.0;
          const T *gm = c.inputs[0].data<T>(), *gv = c.inputs[1].data<T>(), *xp = x.data<T>(), *mp = c.inputs[3].data<T>();
          T *dx = c.outputs[0].data<T>();
          for (int64_t i = 0; i < ni; ++i) {
            const int64_t o = map[static_cast<size_t>(i)];
            const double d = static_cast<double>(xp[i]) - static_cast<double>(mp[o]);
            dx[i] = static_cast<T>((static_cast<double>(gm[o]) + 2.0 * static_cast<double>(gv[o]) * d) / cnt);
          }
        });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
