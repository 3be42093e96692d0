// Spatial transformer networks (Jaderberg et al. 2015), as MXNet's operators:
//  - GridGenerator: sampling grids in normalised [-1, 1] coordinates, from an affine matrix per
//    sample (N, 6) for a target (H, W), or from an optical flow (N, 2, H, W) in pixels ('warp');
//  - BilinearSampler: samples data (N, C, H, W) at a grid (N, 2, Ho, Wo) (channel 0: x, 1: y),
//    bilinearly, reading zeros outside the image;
//  - SpatialTransformer: both in one (affine grid, bilinear sampling); its gradient is written
//    with the two ops' adjoints.
#include <cmath>
#include <cstring>

#include "ops/nn/nn_common.h"

namespace mx {
namespace {

struct GridGeneratorParam {
  std::string transform_type;
  std::vector<int64_t> target_shape;
  static void describe(ParamDecl<GridGeneratorParam> &d) {
    d.field("transform_type", &GridGeneratorParam::transform_type).required().choices({"affine", "warp"})
        .doc("affine: data is an affine matrix per sample (batch, 6); warp: data is an optical flow (batch, 2, h, w).");
    d.field("target_shape", &GridGeneratorParam::target_shape).def({0, 0})
        .doc("Output (H, W); required for affine, ignored for warp.");
  }
};

struct BilinearSamplerParam {
  std::optional<bool> cudnn_off;
  static void describe(ParamDecl<BilinearSamplerParam> &d) {
    d.field("cudnn_off", &BilinearSamplerParam::cudnn_off).def(std::nullopt).doc("Ignored (no cuDNN).");
  }
};

struct SpatialTransformerParam {
  std::vector<int64_t> target_shape;
  std::string transform_type, sampler_type;
  std::optional<bool> cudnn_off;
  static void describe(ParamDecl<SpatialTransformerParam> &d) {
    d.field("target_shape", &SpatialTransformerParam::target_shape).def({0, 0}).doc("Output (H, W).");
    d.field("transform_type", &SpatialTransformerParam::transform_type).required().choices({"affine"})
        .doc("Transformation type (affine only, as MXNet).");
    d.field("sampler_type", &SpatialTransformerParam::sampler_type).required().choices({"bilinear"})
        .doc("Sampling type (bilinear only, as MXNet).");
    d.field("cudnn_off", &SpatialTransformerParam::cudnn_off).def(std::nullopt).doc("Ignored (no cuDNN).");
  }
};

void check_target(const std::vector<int64_t> &t, const char *op) {
  MX_CHECK(t.size() == 2 && t[0] > 1 && t[1] > 1, MX_ERR_INVALID_ARGUMENT, op,
           ": parameter 'target_shape' must be (H, W) with both > 1, got ", Shape(t).str());
}

// Normalised target coordinate of column w (x) or row h (y): -1 + i * 2 / (n - 1).
inline double norm_coord(int64_t i, int64_t n) { return -1.0 + static_cast<double>(i) * 2.0 / static_cast<double>(n - 1); }

// ---- GridGenerator
template <typename T> void affine_grid(const T *theta, T *grid, int64_t batch, int64_t h, int64_t w) {
  for (int64_t n = 0; n < batch; ++n) {
    const T *t = theta + n * 6;
    T *gx = grid + n * 2 * h * w, *gy = gx + h * w;
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        const double x = norm_coord(j, w), y = norm_coord(i, h);
        gx[i * w + j] = static_cast<T>(t[0] * x + t[1] * y + t[2]);
        gy[i * w + j] = static_cast<T>(t[3] * x + t[4] * y + t[5]);
      }
  }
}

// d theta from d grid: theta row r gets sum over positions of ggrid[r] * (x, y, 1).
template <typename T> void affine_grid_backward(const T *ggrid, T *gtheta, int64_t batch, int64_t h, int64_t w) {
  for (int64_t n = 0; n < batch; ++n)
    for (int r = 0; r < 2; ++r) {
      const T *g = ggrid + (n * 2 + r) * h * w;
      double sx = 0, sy = 0, s1 = 0;
      for (int64_t i = 0; i < h; ++i)
        for (int64_t j = 0; j < w; ++j) {
          const double v = static_cast<double>(g[i * w + j]);
          sx += v * norm_coord(j, w);
          sy += v * norm_coord(i, h);
          s1 += v;
        }
      gtheta[n * 6 + r * 3 + 0] = static_cast<T>(sx);
      gtheta[n * 6 + r * 3 + 1] = static_cast<T>(sy);
      gtheta[n * 6 + r * 3 + 2] = static_cast<T>(s1);
    }
}

bool grid_shape(const GridGeneratorParam &p, const char *op, ShapeVec &in, ShapeVec &out) {
  if (p.transform_type == "affine") {
    check_target(p.target_shape, op);
    if (!in[0].known()) return false;
    MX_CHECK(in[0].ndim() == 2 && in[0][1] == 6, MX_ERR_SHAPE, op,
             ": affine data must have shape (batch, 6), got ", in[0].str());
    assign_shape(out[0], Shape({in[0][0], 2, p.target_shape[0], p.target_shape[1]}), op, "output");
    return true;
  }
  if (!in[0].known()) return false;
  const Shape &s = in[0];
  MX_CHECK(s.ndim() == 4 && s[1] == 2 && s[2] > 1 && s[3] > 1, MX_ERR_SHAPE, op,
           ": warp data must be a flow of shape (batch, 2, h, w) with h, w > 1, got ", s.str());
  assign_shape(out[0], s, op, "output");
  return true;
}

// ---- bilinear sampling, zeros outside the image. Source pixel of a grid point:
// x = (gx + 1) * (W - 1) / 2, y = (gy + 1) * (H - 1) / 2.
struct Corner { int64_t x0, y0; double wx, wy; };  // top-left pixel, weights of the top-left

inline Corner corner(double gx, double gy, int64_t ih, int64_t iw) {
  const double x = (gx + 1) * static_cast<double>(iw - 1) / 2, y = (gy + 1) * static_cast<double>(ih - 1) / 2;
  const double fx = std::floor(x), fy = std::floor(y);
  return {static_cast<int64_t>(fx), static_cast<int64_t>(fy), 1.0 - (x - fx), 1.0 - (y - fy)};
}
inline bool inside(int64_t x, int64_t y, int64_t ih, int64_t iw) { return x >= 0 && x < iw && y >= 0 && y < ih; }

template <typename T> void bilinear_forward(const NDArray &data, const T *grid, int64_t oh, int64_t ow, T *out) {
  const Shape &s = data.shape();
  const int64_t nb = s[0], ch = s[1], ih = s[2], iw = s[3];
  const T *d = data.data<T>();
  parallel_for(nb * ch, 1, [&](int64_t b, int64_t e) {
    for (int64_t nc = b; nc < e; ++nc) {
      const int64_t n = nc / ch;
      const T *img = d + nc * ih * iw;
      const T *gx = grid + n * 2 * oh * ow, *gy = gx + oh * ow;
      T *o = out + nc * oh * ow;
      for (int64_t p = 0; p < oh * ow; ++p) {
        Corner c = corner(static_cast<double>(gx[p]), static_cast<double>(gy[p]), ih, iw);
        double v = 0;
        for (int dy = 0; dy < 2; ++dy)
          for (int dx = 0; dx < 2; ++dx) {
            const int64_t x = c.x0 + dx, y = c.y0 + dy;
            if (!inside(x, y, ih, iw)) continue;
            v += static_cast<double>(img[y * iw + x]) * (dx ? 1 - c.wx : c.wx) * (dy ? 1 - c.wy : c.wy);
          }
        o[p] = static_cast<T>(v);
      }
    }
  });
}

// gdata: scatter of out_grad with the bilinear weights; ggrid: derivative of the interpolation
// with respect to the source coordinates, times d(coordinate)/d(grid) = (size - 1) / 2.
template <typename T>
void bilinear_backward(const T *og, const NDArray &data, const T *grid, int64_t oh, int64_t ow, T *gdata, T *ggrid) {
  const Shape &s = data.shape();
  const int64_t nb = s[0], ch = s[1], ih = s[2], iw = s[3];
  const T *d = data.data<T>();
  if (gdata) std::memset(gdata, 0, sizeof(T) * static_cast<size_t>(data.size()));
  parallel_for(nb, 1, [&](int64_t b, int64_t e) {  // per sample: gdata writes stay in the sample
    for (int64_t n = b; n < e; ++n) {
      const T *gx = grid + n * 2 * oh * ow, *gy = gx + oh * ow;
      for (int64_t p = 0; p < oh * ow; ++p) {
        Corner c = corner(static_cast<double>(gx[p]), static_cast<double>(gy[p]), ih, iw);
        double dgx = 0, dgy = 0;
        for (int64_t k = 0; k < ch; ++k) {
          const int64_t nc = n * ch + k;
          const double g = static_cast<double>(og[nc * oh * ow + p]);
          const T *img = d + nc * ih * iw;
          double v[2][2] = {{0, 0}, {0, 0}};  // [dy][dx]
          for (int dy = 0; dy < 2; ++dy)
            for (int dx = 0; dx < 2; ++dx) {
              const int64_t x = c.x0 + dx, y = c.y0 + dy;
              if (!inside(x, y, ih, iw)) continue;
              v[dy][dx] = static_cast<double>(img[y * iw + x]);
              if (gdata)
                gdata[nc * ih * iw + y * iw + x] +=
                    static_cast<T>(g * (dx ? 1 - c.wx : c.wx) * (dy ? 1 - c.wy : c.wy));
            }
          // value = sum v[dy][dx] * wxs * wys with wx for dx=0 decreasing in x: d/dx = -(...)
          dgx += g * ((v[0][1] - v[0][0]) * c.wy + (v[1][1] - v[1][0]) * (1 - c.wy));
          dgy += g * ((v[1][0] - v[0][0]) * c.wx + (v[1][1] - v[0][1]) * (1 - c.wx));
        }
        if (ggrid) {
          T *ggx = ggrid + n * 2 * oh * ow, *ggy = ggx + oh * ow;
          ggx[p] = static_cast<T>(dgx * static_cast<double>(iw - 1) / 2);
          ggy[p] = static_cast<T>(dgy * static_cast<double>(ih - 1) / 2);
        }
      }
    }
  });
}

bool sampler_shape(const char *op, const Shape &data, const Shape &grid, Shape *out) {
  MX_CHECK(data.ndim() == 4, MX_ERR_SHAPE, op, ": data must be (batch, channels, height, width), got ", data.str());
  MX_CHECK(grid.ndim() == 4 && grid[1] == 2 && grid[0] == data[0], MX_ERR_SHAPE, op,
           ": grid must be (batch, 2, height, width) with data's batch ", data[0], ", got ", grid.str());
  *out = Shape({data[0], data[1], grid[2], grid[3]});
  return true;
}

Kwargs grid_kwargs(const std::vector<int64_t> &target) {
  return {{"transform_type", "affine"}, {"target_shape", Shape(target).str()}};
}

const int registered = [] {
  MX_REGISTER_OP(GridGenerator)
      .doc("Generates sampling grids (normalised to [-1, 1]) for BilinearSampler: from an affine matrix per sample "
           "for a target (H, W), or from an optical flow in pixels ('warp').")
      .params<GridGeneratorParam>()
      .inputs({"data"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        return grid_shape(prm.get<GridGeneratorParam>(), "GridGenerator", in, out);
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<GridGeneratorParam>();
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "GridGenerator", {
          const Shape &o = c.outputs[0].shape();
          if (p.transform_type == "affine") {
            affine_grid(c.inputs[0].data<T>(), c.outputs[0].data<T>(), o[0], o[2], o[3]);
          } else {  // warp: (flow + pixel position) / ((size - 1) / 2) - 1
            const T *f = c.inputs[0].data<T>();
            T *g = c.outputs[0].data<T>();
            const int64_t h = o[2], w = o[3];
            for (int64_t n = 0; n < o[0]; ++n)
              for (int64_t i = 0; i < h; ++i)
                for (int64_t j = 0; j < w; ++j) {
                  const int64_t px = (n * 2) * h * w + i * w + j, py = px + h * w;
                  g[px] = static_cast<T>((static_cast<double>(f[px]) + j) / (static_cast<double>(w - 1) / 2) - 1);
                  g[py] = static_cast<T>((static_cast<double>(f[py]) + i) / (static_cast<double>(h - 1) / 2) - 1);
                }
          }
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_GridGenerator"), n.params, {n.out_grads[0], n.inputs[0]})[0]};
      });
  MX_REGISTER_OP(_backward_GridGenerator)
      .doc("Gradient of GridGenerator: inputs (out_grad, data).")
      .params<GridGeneratorParam>()
      .inputs({"out_grad", "data"})
      .outputs({"data_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        assign_shape(out[0], in[1], "_backward_GridGenerator", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<GridGeneratorParam>();
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_GridGenerator", {
          const Shape &g = c.inputs[0].shape();
          const T *og = c.inputs[0].data<T>();
          T *gd = c.outputs[0].data<T>();
          if (p.transform_type == "affine") {
            affine_grid_backward(og, gd, g[0], g[2], g[3]);
          } else {
            const int64_t h = g[2], w = g[3], plane = h * w;
            for (int64_t n = 0; n < g[0]; ++n)
              for (int r = 0; r < 2; ++r) {
                const double scale = static_cast<double>((r == 0 ? w : h) - 1) / 2;
                for (int64_t k = 0; k < plane; ++k) {
                  const int64_t at = (n * 2 + r) * plane + k;
                  gd[at] = static_cast<T>(static_cast<double>(og[at]) / scale);
                }
              }
          }
        });
      })
      .no_grad();

  MX_REGISTER_OP(BilinearSampler)
      .doc("Samples data (N, C, H, W) bilinearly at a grid (N, 2, Ho, Wo) of normalised source coordinates "
           "(channel 0: x, 1: y, in [-1, 1]); points outside the image read zeros.")
      .params<BilinearSamplerParam>()
      .inputs({"data", "grid"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[0].known() || !in[1].known()) return false;
        Shape o;
        sampler_shape("BilinearSampler", in[0], in[1], &o);
        assign_shape(out[0], o, "BilinearSampler", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "BilinearSampler", {
          const Shape &g = c.inputs[1].shape();
          bilinear_forward<T>(c.inputs[0], c.inputs[1].data<T>(), g[2], g[3], c.outputs[0].data<T>());
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto g = b.emit(&Registry::get().require("_backward_BilinearSampler"), n.params,
                        {n.out_grads[0], n.inputs[0], n.inputs[1]});
        return {g[0], g[1]};
      });
  MX_REGISTER_OP(_backward_BilinearSampler)
      .doc("Gradient of BilinearSampler: inputs (out_grad, data, grid); outputs (data_grad, grid_grad).")
      .params<BilinearSamplerParam>()
      .inputs({"out_grad", "data", "grid"})
      .outputs({"data_grad", "grid_grad"})
      .shape([](const Params &, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known() || !in[2].known()) return false;
        assign_shape(out[0], in[1], "_backward_BilinearSampler", "data_grad");
        assign_shape(out[1], in[2], "_backward_BilinearSampler", "grid_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_BilinearSampler", {
          const Shape &g = c.inputs[2].shape();
          bilinear_backward<T>(c.inputs[0].data<T>(), c.inputs[1], c.inputs[2].data<T>(), g[2], g[3],
                               c.outputs[0].data<T>(), c.outputs[1].data<T>());
        });
      })
      .no_grad();

  MX_REGISTER_OP(SpatialTransformer)
      .doc("Applies an affine transformation per sample (loc: (N, 6)) to data (N, C, H, W) by bilinear sampling, "
           "giving (N, C, target_shape[0], target_shape[1]): BilinearSampler(data, GridGenerator(loc)).")
      .params<SpatialTransformerParam>()
      .inputs({"data", "loc"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = prm.get<SpatialTransformerParam>();
        check_target(p.target_shape, "SpatialTransformer");
        if (!in[0].known()) return false;
        MX_CHECK(in[0].ndim() == 4, MX_ERR_SHAPE, "SpatialTransformer: data must be (batch, channels, height, width), "
                 "got ", in[0].str());
        assign_shape(in[1], Shape({in[0][0], 6}), "SpatialTransformer", "loc");
        assign_shape(out[0], Shape({in[0][0], in[0][1], p.target_shape[0], p.target_shape[1]}), "SpatialTransformer",
                     "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<SpatialTransformerParam>();
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "SpatialTransformer", {
          const int64_t n = c.inputs[0].shape()[0], h = p.target_shape[0], w = p.target_shape[1];
          std::vector<T> grid(static_cast<size_t>(n * 2 * h * w));
          affine_grid(c.inputs[1].data<T>(), grid.data(), n, h, w);
          bilinear_forward<T>(c.inputs[0], grid.data(), h, w, c.outputs[0].data<T>());
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &p = n.p<SpatialTransformerParam>();
        Var grid = b.emit1("GridGenerator", grid_kwargs(p.target_shape), {n.inputs[1]});
        auto g = b.emit("_backward_BilinearSampler", {}, {n.out_grads[0], n.inputs[0], grid});
        Var gloc = b.emit1("_backward_GridGenerator", grid_kwargs(p.target_shape), {g[1], n.inputs[1]});
        return {g[0], gloc};
      });
  return 0;
}();

}  // namespace
}  // namespace mx
