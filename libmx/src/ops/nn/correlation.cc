// Correlation (FlowNet's correlation layer, as MXNet's operator): compares patches of data1
// with displaced patches of data2 (both (N, C, H, W), zero-padded by pad_size). Output channel
// (p, o) of the (2r+1)^2 displacements (r = max_displacement / stride2) holds, per output pixel,
// the mean over a kernel_size^2 x C patch of data1 * data2 (is_multiply) or |data1 - data2|.
// The patch's top-left corner in padded coordinates is (i*stride1 + max_displacement,
// j*stride1 + max_displacement); output size ceil((padded - 2*(max_displacement + (k-1)/2)) / stride1).
#include <cmath>
#include <cstring>

#include "ops/nn/nn_common.h"

namespace mx {
namespace {

struct CorrelationParam {
  int64_t kernel_size = 1, max_displacement = 1, stride1 = 1, stride2 = 1, pad_size = 0;
  bool is_multiply = true;
  static void describe(ParamDecl<CorrelationParam> &d) {
    d.field("kernel_size", &CorrelationParam::kernel_size).def(int64_t(1)).doc("Kernel size (odd) of the patches compared.");
    d.field("max_displacement", &CorrelationParam::max_displacement).def(int64_t(1)).doc("Maximum displacement.");
    d.field("stride1", &CorrelationParam::stride1).def(int64_t(1)).doc("Stride over data1's positions.");
    d.field("stride2", &CorrelationParam::stride2).def(int64_t(1)).doc("Stride over the displacements.");
    d.field("pad_size", &CorrelationParam::pad_size).def(int64_t(0)).doc("Zero padding of both inputs.");
    d.field("is_multiply", &CorrelationParam::is_multiply).def(true)
        .doc("Multiply patches (true) or take absolute differences (false).");
  }
};

struct CorrGeom {
  int64_t n, c, h, w, ph, pw, oh, ow, radius, grid, k, md, s1, s2, pad;
};

CorrGeom corr_geom(const CorrelationParam &p, const Shape &d) {
  const char *op = "Correlation";
  MX_CHECK(d.ndim() == 4, MX_ERR_SHAPE, op, ": data must be (batch, channels, height, width), got ", d.str());
  MX_CHECK(p.kernel_size > 0 && p.kernel_size % 2 == 1, MX_ERR_INVALID_ARGUMENT, op,
           ": parameter 'kernel_size' must be a positive odd number, got ", p.kernel_size);
  MX_CHECK(p.stride1 > 0 && p.stride2 > 0 && p.max_displacement >= 0 && p.pad_size >= 0, MX_ERR_INVALID_ARGUMENT, op,
           ": strides must be positive and max_displacement, pad_size non-negative");
  CorrGeom g{};
  g.n = d[0]; g.c = d[1]; g.h = d[2]; g.w = d[3];
  g.k = p.kernel_size; g.md = p.max_displacement; g.s1 = p.stride1; g.s2 = p.stride2; g.pad = p.pad_size;
  g.ph = g.h + 2 * g.pad;
  g.pw = g.w + 2 * g.pad;
  const int64_t border = g.md + (g.k - 1) / 2;
  auto out_size = [&](int64_t padded) {
    const int64_t span = padded - 2 * border;
    return span <= 0 ? int64_t(0) : (span + g.s1 - 1) / g.s1;
  };
  g.oh = out_size(g.ph);
  g.ow = out_size(g.pw);
  MX_CHECK(g.oh >= 1 && g.ow >= 1, MX_ERR_INVALID_ARGUMENT, op, ": kernel_size ", g.k, " and max_displacement ", g.md,
           " do not fit in the padded input ", g.ph, "x", g.pw, " (pad_size ", g.pad, ")");
  g.radius = g.md / g.s2;
  g.grid = 2 * g.radius + 1;
  return g;
}

// Value of a sample/channel plane at padded coordinates (zero in the padding).
template <typename T> inline double at(const T *plane, const CorrGeom &g, int64_t y, int64_t x) {
  y -= g.pad;
  x -= g.pad;
  return (y >= 0 && y < g.h && x >= 0 && x < g.w) ? static_cast<double>(plane[y * g.w + x]) : 0.0;
}

template <typename T> void corr_forward(const CorrGeom &g, bool mul, const T *a, const T *b, T *out) {
  const double norm = static_cast<double>(g.k * g.k * g.c);
  const int64_t tc = g.grid * g.grid;
  parallel_for(g.n * tc, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t nt = lo; nt < hi; ++nt) {
      const int64_t n = nt / tc, t = nt % tc;
      const int64_t dx = (t % g.grid - g.radius) * g.s2, dy = (t / g.grid - g.radius) * g.s2;
      for (int64_t i = 0; i < g.oh; ++i)
        for (int64_t j = 0; j < g.ow; ++j) {
          const int64_t x1 = j * g.s1 + g.md, y1 = i * g.s1 + g.md;
          double s = 0;
          for (int64_t ch = 0; ch < g.c; ++ch) {
            const T *pa = a + (n * g.c + ch) * g.h * g.w, *pb = b + (n * g.c + ch) * g.h * g.w;
            for (int64_t u = 0; u < g.k; ++u)
              for (int64_t v = 0; v < g.k; ++v) {
                const double va = at(pa, g, y1 + u, x1 + v), vb = at(pb, g, y1 + dy + u, x1 + dx + v);
                s += mul ? va * vb : std::fabs(va - vb);
              }
          }
          out[((n * tc + t) * g.oh + i) * g.ow + j] = static_cast<T>(s / norm);
        }
    }
  });
}

// Adjoint: each output element spreads og / norm over its two patches (times the other patch's
// value, or the sign of the difference: +1 for data1 where data1 >= data2).
template <typename T>
void corr_backward(const CorrGeom &g, bool mul, const T *og, const T *a, const T *b, T *ga, T *gb) {
  const double norm = static_cast<double>(g.k * g.k * g.c);
  const int64_t tc = g.grid * g.grid, plane = g.h * g.w;
  std::memset(ga, 0, sizeof(T) * static_cast<size_t>(g.n * g.c * plane));
  std::memset(gb, 0, sizeof(T) * static_cast<size_t>(g.n * g.c * plane));
  parallel_for(g.n, 1, [&](int64_t lo, int64_t hi) {  // per sample: writes stay in the sample
    for (int64_t n = lo; n < hi; ++n)
      for (int64_t t = 0; t < tc; ++t) {
        const int64_t dx = (t % g.grid - g.radius) * g.s2, dy = (t / g.grid - g.radius) * g.s2;
        for (int64_t i = 0; i < g.oh; ++i)
          for (int64_t j = 0; j < g.ow; ++j) {
            const double go = static_cast<double>(og[((n * tc + t) * g.oh + i) * g.ow + j]) / norm;
            const int64_t x1 = j * g.s1 + g.md, y1 = i * g.s1 + g.md;
            for (int64_t ch = 0; ch < g.c; ++ch) {
              const int64_t base = (n * g.c + ch) * plane;
              for (int64_t u = 0; u < g.k; ++u)
                for (int64_t v = 0; v < g.k; ++v) {
                  const int64_t ya = y1 + u - g.pad, xa = x1 + v - g.pad;
                  const int64_t yb = ya + dy, xb = xa + dx;
                  const bool ina = ya >= 0 && ya < g.h && xa >= 0 && xa < g.w;
                  const bool inb = yb >= 0 && yb < g.h && xb >= 0 && xb < g.w;
                  const double va = ina ? static_cast<double>(a[base + ya * g.w + xa]) : 0.0;
                  const double vb = inb ? static_cast<double>(b[base + yb * g.w + xb]) : 0.0;
                  if (mul) {
                    if (ina) ga[base + ya * g.w + xa] += static_cast<T>(go * vb);
                    if (inb) gb[base + yb * g.w + xb] += static_cast<T>(go * va);
                  } else {
                    const double sgn = va >= vb ? 1.0 : -1.0;
                    if (ina) ga[base + ya * g.w + xa] += static_cast<T>(go * sgn);
                    if (inb) gb[base + yb * g.w + xb] -= static_cast<T>(go * sgn);
                  }
                }
            }
          }
      }
  });
}

bool corr_shapes(const Params &prm, ShapeVec &in, ShapeVec &out, const char *op) {
  if (!in[0].known() && !in[1].known()) return false;
  Shape d = in[0].known() ? in[0] : in[1];
  assign_shape(in[0], d, op, "data1");
  assign_shape(in[1], d, op, "data2");
  CorrGeom g = corr_geom(prm.get<CorrelationParam>(), d);
  assign_shape(out[0], Shape({g.n, g.grid * g.grid, g.oh, g.ow}), op, "output");
  return true;
}

const int registered = [] {
  MX_REGISTER_OP(Correlation)
      .doc("Correlation of two feature maps (FlowNet): for every displacement within max_displacement, the mean "
           "over a patch of data1 * data2 (or |data1 - data2| with is_multiply=False).")
      .params<CorrelationParam>()
      .inputs({"data1", "data2"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        return corr_shapes(prm, in, out, "Correlation");
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<CorrelationParam>();
        CorrGeom g = corr_geom(p, c.inputs[0].shape());
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "Correlation", {
          corr_forward<T>(g, p.is_multiply, c.inputs[0].data<T>(), c.inputs[1].data<T>(), c.outputs[0].data<T>());
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto g = b.emit(&Registry::get().require("_backward_Correlation"), n.params,
                        {n.out_grads[0], n.inputs[0], n.inputs[1]});
        return {g[0], g[1]};
      });
  MX_REGISTER_OP(_backward_Correlation)
      .doc("Gradient of Correlation: inputs (out_grad, data1, data2); outputs (data1_grad, data2_grad).")
      .params<CorrelationParam>()
      .inputs({"out_grad", "data1", "data2"})
      .outputs({"data1_grad", "data2_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_Correlation", "data1_grad");
        assign_shape(out[1], in[1], "_backward_Correlation", "data2_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<CorrelationParam>();
        CorrGeom g = corr_geom(p, c.inputs[1].shape());
        MX_DTYPE_SWITCH_FLOAT(c.inputs[1].dtype(), T, "_backward_Correlation", {
          corr_backward<T>(g, p.is_multiply, c.inputs[0].data<T>(), c.inputs[1].data<T>(), c.inputs[2].data<T>(),
                           c.outputs[0].data<T>(), c.outputs[1].data<T>());
        });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
