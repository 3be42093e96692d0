// Dropout: in training (or mode='always') zeroes elements with probability p and scales the rest
// by 1/(1-p); identity in predict mode. The scaled mask is a hidden output reused by the gradient.
#include <optional>

#include "ops/nn/nn_common.h"
#include "random/philox.h"

namespace mx {
namespace {

struct DropoutParam {
  double p = 0.5;
  std::string mode;
  std::vector<int64_t> axes;
  std::optional<bool> cudnn_off;
  static void describe(ParamDecl<DropoutParam> &d) {
    d.field("p", &DropoutParam::p).def(0.5).doc("Fraction of the input that gets dropped out during training time.");
    d.field("mode", &DropoutParam::mode).def("training").choices({"always", "training"})
        .doc("Whether to only turn on dropout during training or to also turn on for inference.");
    d.field("axes", &DropoutParam::axes).def({}).doc("Axes for variational dropout kernel (the mask is shared along them).");
    d.field("cudnn_off", &DropoutParam::cudnn_off).def(false).doc("Whether to turn off cudnn in dropout operator (ignored).");
    d.check([](const DropoutParam &p, const std::string &op) {
      MX_CHECK(p.p >= 0 && p.p <= 1, MX_ERR_INVALID_ARGUMENT, op, ": parameter 'p' must be in [0, 1], got ", p.p);
    });
  }
};

template <typename T> void dropout_forward(const OpCall &c) {
  const auto &p = c.p<DropoutParam>();
  const NDArray &data = c.inputs[0], &out = c.outputs[0], &mask = c.outputs[1];
  const T *x = data.data<T>();
  T *y = out.data<T>(), *m = mask.data<T>();
  const int64_t n = data.size();
  const bool active = (c.is_train || p.mode == "always") && p.p > 0;
  if (!active) {
    std::memcpy(y, x, sizeof(T) * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) m[i] = T(1);
    return;
  }
  const Shape &s = data.shape();
  // Mask shape: the data's with the `axes` set to 1.
  std::vector<int64_t> ms = s.dims();
  for (int64_t a : p.axes) ms[static_cast<size_t>(normalize_axis(a, s.ndim(), "Dropout: axes"))] = 1;
  Shape mshape(ms);
  const int64_t mn = mshape.size();
  const T keep_scale = p.p >= 1 ? T(0) : static_cast<T>(1.0 / (1.0 - p.p));
  const float thresh = static_cast<float>(p.p);
  uint64_t seed = 0;
  const uint64_t base = c.rng->reserve(static_cast<uint64_t>((mn + 3) / 4), &seed);
  std::vector<T> small;
  T *mk = m;
  if (mn != n) {
    small.resize(static_cast<size_t>(mn));
    mk = small.data();
  }
  parallel_for((mn + 3) / 4, 4096, [&](int64_t b, int64_t e) {
    uint32_t w[4];
    for (int64_t blk = b; blk < e; ++blk) {
      Philox4x32::block(seed, base + static_cast<uint64_t>(blk), w);
      for (int j = 0; j < 4; ++j) {
        int64_t i = blk * 4 + j;
        if (i >= mn) break;
        mk[i] = u32_to_unit_float(w[j]) >= thresh ? keep_scale : T(0);
      }
    }
  });
  if (mn != n) {  // broadcast the reduced mask over the shared axes
    const int nd = s.ndim();
    std::vector<int64_t> mst(static_cast<size_t>(nd));
    int64_t acc = 1;
    for (int d = nd - 1; d >= 0; --d) {
      mst[static_cast<size_t>(d)] = ms[static_cast<size_t>(d)] == 1 ? 0 : acc;
      acc *= ms[static_cast<size_t>(d)];
    }
    for (int64_t i = 0; i < n; ++i) {
      int64_t rem = i, off = 0;
      for (int d = nd - 1; d >= 0; --d) {
        off += (rem % s[d]) * mst[static_cast<size_t>(d)];
        rem /= s[d];
      }
      m[i] = small[static_cast<size_t>(off)];
    }
  }
  parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = x[i] * m[i];
  });
}

const int registered = [] {
  MX_REGISTER_OP(Dropout)
      .doc("Applies dropout: during training each element is zeroed with probability p and the others are scaled "
           "by 1/(1-p); identity at inference unless mode='always'.")
      .params<DropoutParam>()
      .inputs({"data"})
      .outputs({"output", "mask"})
      .num_visible_outputs([](const Params &) { return 1; })
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known()) return false;
        for (int64_t a : prm.get<DropoutParam>().axes) normalize_axis(a, in[0].ndim(), "Dropout: axes");
        assign_shape(out[0], in[0], "Dropout", "output");
        assign_shape(out[1], in[0], "Dropout", "mask");
        return true;
      })
      .cpu([](const OpCall &c) { MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "Dropout", { dropout_forward<T>(c); }); })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit1("elemwise_mul", {}, {n.out_grads[0], n.outputs[1]})};
      })
      .rng();
  return 0;
}();

}  // namespace
}  // namespace mx
