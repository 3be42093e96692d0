// _image_normalize (MXNet 1.x's mx.nd.image.normalize): per-channel (x - mean[c]) / std[c] of a
// (C, H, W) image or an (N, C, H, W) batch; a single mean/std value applies to every channel.
// Gradient: out_grad / std[c].
#include "ops/shape_common.h"

namespace mx {
namespace {

using namespace shape_detail;

struct ImageNormalizeParam {
  std::vector<double> mean, std;
  static void describe(ParamDecl<ImageNormalizeParam> &d) {
    d.field("mean", &ImageNormalizeParam::mean).def(std::vector<double>{0, 0, 0, 0})
        .doc("Sequence of means for each channel. Default value is 0.");
    d.field("std", &ImageNormalizeParam::std).def(std::vector<double>{1, 1, 1, 1})
        .doc("Sequence of standard deviations for each channel. Default value is 1.");
    d.check([](const ImageNormalizeParam &p, const std::string &op) {
      MX_CHECK(!p.mean.empty() && !p.std.empty(), MX_ERR_INVALID_ARGUMENT, op, ": mean and std must not be empty");
      for (double s : p.std)
        MX_CHECK(s != 0, MX_ERR_INVALID_ARGUMENT, op, ": std ", print_value(p.std), " contains 0");
    });
  }
};

// (batch, channels, plane) of the input; validates the per-channel parameter lengths.
void geometry(const ImageNormalizeParam &p, const Shape &s, int64_t *n, int64_t *c, int64_t *plane) {
  MX_CHECK(s.ndim() == 3 || s.ndim() == 4, MX_ERR_SHAPE,
           "image.normalize: input must be (C, H, W) or (N, C, H, W), got shape ", s.str());
  const int ca = s.ndim() - 3;
  *n = ca ? s[0] : 1;
  *c = s[ca];
  *plane = s[ca + 1] * s[ca + 2];
  auto ok = [&](const std::vector<double> &v) {
    return v.size() == 1 || static_cast<int64_t>(v.size()) >= *c;
  };
  MX_CHECK(ok(p.mean) && ok(p.std), MX_ERR_SHAPE, "image.normalize: mean ", print_value(p.mean), " and std ",
           print_value(p.std), " need one value or one per channel (", *c, " channels)");
}

double at(const std::vector<double> &v, int64_t c) { return v.size() == 1 ? v[0] : v[static_cast<size_t>(c)]; }

// out = (x - shift[c]) / std[c]  (shift = mean forward, 0 backward)
template <typename T> void normalize(const ImageNormalizeParam &p, const NDArray &x, const NDArray &out, bool backward) {
  int64_t n, c, plane;
  geometry(p, x.shape(), &n, &c, &plane);
  const T *xp = x.data<T>();
  T *o = out.data<T>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      const double m = backward ? 0.0 : at(p.mean, ch), sd = at(p.std, ch);
      const int64_t base = (b * c + ch) * plane;
      for (int64_t i = 0; i < plane; ++i)
        o[base + i] = static_cast<T>((static_cast<double>(xp[base + i]) - m) / sd);
    }
}

const int registered = [] {
  MX_REGISTER_OP(_image_normalize)
      .doc("Normalize a tensor of shape (C x H x W) or (N x C x H x W) with mean and standard deviation: "
           "out[c] = (data[c] - mean[c]) / std[c].")
      .params<ImageNormalizeParam>()
      .inputs({"data"})
      .shape([](const Params &p, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        int64_t n, c, plane;
        geometry(p.get<ImageNormalizeParam>(), in[0], &n, &c, &plane);
        assign_shape(out[0], in[0], "image.normalize", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "image.normalize",
                              { normalize<T>(c.p<ImageNormalizeParam>(), c.inputs[0], c.outputs[0], false); });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_image_normalize"), n.params, {n.out_grads[0]})[0]};
      });
  MX_REGISTER_OP(_backward_image_normalize)
      .doc("Gradient of image.normalize: out_grad[c] / std[c].")
      .params<ImageNormalizeParam>()
      .inputs({"out_grad"})
      .no_grad()
      .shape(infer_shape_same)
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_image_normalize",
                              { normalize<T>(c.p<ImageNormalizeParam>(), c.inputs[0], c.outputs[0], true); });
      });
  return 0;
}();

}  // namespace
}  // namespace mx
