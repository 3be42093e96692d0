// im2col / col2im (MXNet 1.x): the patch unfolding behind convolution and its adjoint.
// im2col: data (N, C, *spatial) -> (N, C * prod(kernel), L), one column per output position
// (L = prod(out_spatial)); row (c, k...) holds channel c at kernel offset k (zero where the
// padded window leaves the image). col2im: (N, C * prod(kernel), L) -> (N, C, *output_size),
// summing every column entry back into its image position. Each is the other's gradient.
#include "ops/nn/nn_common.h"

namespace mx {
namespace {

#define MX_IM2COL_MEMBERS std::vector<int64_t> output_size, kernel, stride, dilate, pad

template <typename S> void describe_geometry(ParamDecl<S> &d) {
  d.field("kernel", &S::kernel).required().doc("Sliding kernel size: (w,), (h, w) or (d, h, w).");
  d.field("stride", &S::stride).def({}).doc("The stride between adjacent sliding blocks in spatial dimension: (w,), "
                                            "(h, w) or (d, h, w). Defaults to 1 for each dimension.");
  d.field("dilate", &S::dilate).def({}).doc("The spacing between adjacent kernel points: (w,), (h, w) or (d, h, w). "
                                            "Defaults to 1 for each dimension.");
  d.field("pad", &S::pad).def({}).doc("The zero-value padding size on both sides of spatial dimension: (w,), (h, w) "
                                      "or (d, h, w). Defaults to no padding.");
}

struct Im2colOnly {
  MX_IM2COL_MEMBERS;
  static void describe(ParamDecl<Im2colOnly> &d) { describe_geometry(d); }
};
struct Col2imParam {
  MX_IM2COL_MEMBERS;
  static void describe(ParamDecl<Col2imParam> &d) {
    d.field("output_size", &Col2imParam::output_size).required()
        .doc("The spatial dimension of image array: (w,), (h, w) or (d, h, w).");
    describe_geometry(d);
  }
};

template <typename P> void check_geometry(const P &p, const char *op, bool need_output_size) {
  const size_t k = p.kernel.size();
  MX_CHECK(k >= 1 && k <= 3, MX_ERR_INVALID_ARGUMENT, op, ": kernel must have 1 to 3 dimensions, got ",
           print_value(p.kernel));
  auto chk = [&](const std::vector<int64_t> &v, const char *name, int64_t min) {
    MX_CHECK(v.empty() || v.size() == k, MX_ERR_INVALID_ARGUMENT, op, ": parameter '", name, "' ", print_value(v),
             " must have as many values as kernel ", print_value(p.kernel));
    for (int64_t x : v)
      MX_CHECK(x >= min, MX_ERR_INVALID_ARGUMENT, op, ": parameter '", name, "' ", print_value(v), " must be >= ", min);
  };
  chk(p.kernel, "kernel", 1);
  chk(p.stride, "stride", 1);
  chk(p.dilate, "dilate", 1);
  chk(p.pad, "pad", 0);
  if (need_output_size) {
    MX_CHECK(p.output_size.size() == k, MX_ERR_INVALID_ARGUMENT, op, ": output_size ", print_value(p.output_size),
             " must have as many values as kernel ", print_value(p.kernel));
    for (int64_t x : p.output_size)
      MX_CHECK(x >= 1, MX_ERR_INVALID_ARGUMENT, op, ": output_size ", print_value(p.output_size), " must be positive");
  }
}

// The geometry of one call: spatial sizes of the image and of the column grid.
struct Geometry {
  int nd = 0;
  std::vector<int64_t> img, out, k, s, dl, pd;
  int64_t kprod = 1, lprod = 1, iprod = 1;
};

template <typename P> Geometry geometry(const P &p, const std::vector<int64_t> &img, const char *op) {
  Geometry g;
  g.nd = static_cast<int>(p.kernel.size());
  g.img = img;
  g.k = p.kernel;
  auto or1 = [&](const std::vector<int64_t> &v, int64_t dflt) {
    return v.empty() ? std::vector<int64_t>(static_cast<size_t>(g.nd), dflt) : v;
  };
  g.s = or1(p.stride, 1);
  g.dl = or1(p.dilate, 1);
  g.pd = or1(p.pad, 0);
  for (int d = 0; d < g.nd; ++d) {
    const size_t u = static_cast<size_t>(d);
    const int64_t eff = g.dl[u] * (g.k[u] - 1) + 1;
    const int64_t padded = img[u] + 2 * g.pd[u];
    MX_CHECK(padded >= eff, MX_ERR_SHAPE, op, ": the dilated kernel (", eff, ") is larger than the padded input (",
             padded, ") along spatial axis ", d);
    g.out.push_back((padded - eff) / g.s[u] + 1);
    g.kprod *= g.k[u];
    g.lprod *= g.out.back();
    g.iprod *= img[u];
  }
  return g;
}

// Calls f(col_offset, img_offset or -1) for every (kernel offset, output position) of one channel:
// col_offset = kidx * L + lidx; img_offset = flat spatial index in the image (-1 in the padding).
template <typename F> void for_patch(const Geometry &g, F f) {
  const int nd = g.nd;
  std::vector<int64_t> kc(static_cast<size_t>(nd), 0), oc(static_cast<size_t>(nd), 0);
  for (int64_t kidx = 0; kidx < g.kprod; ++kidx) {
    int64_t r = kidx;
    for (int d = nd - 1; d >= 0; --d) {
      kc[static_cast<size_t>(d)] = r % g.k[static_cast<size_t>(d)];
      r /= g.k[static_cast<size_t>(d)];
    }
    for (int64_t l = 0; l < g.lprod; ++l) {
      int64_t rl = l;
      for (int d = nd - 1; d >= 0; --d) {
        oc[static_cast<size_t>(d)] = rl % g.out[static_cast<size_t>(d)];
        rl /= g.out[static_cast<size_t>(d)];
      }
      int64_t off = 0;
      bool inside = true;
      for (int d = 0; d < nd; ++d) {
        const size_t u = static_cast<size_t>(d);
        const int64_t pos = oc[u] * g.s[u] - g.pd[u] + kc[u] * g.dl[u];
        if (pos < 0 || pos >= g.img[u]) {
          inside = false;
          break;
        }
        off = off * g.img[u] + pos;
      }
      f(kidx * g.lprod + l, inside ? off : int64_t(-1));
    }
  }
}

const int registered = [] {
  MX_REGISTER_OP(im2col)
      .doc("Extracts sliding local blocks from a batched input array: (N, C, *spatial) -> (N, C * prod(kernel), "
           "L) with one column per block.")
      .params<Im2colOnly>()
      .inputs({"data"})
      .shape([](const Params &pr, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = pr.get<Im2colOnly>();
        check_geometry(p, "im2col", false);
        if (!in[0].known()) return false;
        const int nd = static_cast<int>(p.kernel.size());
        MX_CHECK(in[0].ndim() == nd + 2, MX_ERR_SHAPE, "im2col: data must have ", nd + 2, " dimensions for a ", nd,
                 "-d kernel, got shape ", in[0].str());
        std::vector<int64_t> img(in[0].dims().begin() + 2, in[0].dims().end());
        Geometry g = geometry(p, img, "im2col");
        assign_shape(out[0], Shape{in[0][0], in[0][1] * g.kprod, g.lprod}, "im2col", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<Im2colOnly>();
        const NDArray &x = c.inputs[0];
        std::vector<int64_t> img(x.shape().dims().begin() + 2, x.shape().dims().end());
        Geometry g = geometry(p, img, "im2col");
        const int64_t planes = x.shape()[0] * x.shape()[1];
        MX_DTYPE_SWITCH_FLOAT(x.dtype(), T, "im2col", {
          const T *xp = x.data<T>();
          T *o = c.outputs[0].data<T>();
          parallel_for(planes, 1, [&](int64_t b, int64_t e) {
            for (int64_t pl = b; pl < e; ++pl) {
              const T *src = xp + pl * g.iprod;
              T *dst = o + pl * g.kprod * g.lprod;
              for_patch(g, [&](int64_t co, int64_t io) { dst[co] = io >= 0 ? src[io] : T(0); });
            }
          });
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &p = n.p<Im2colOnly>();
        const Shape s = b.shape(n.inputs[0]);
        std::vector<int64_t> img(s.dims().begin() + 2, s.dims().end());
        Kwargs kw{{"output_size", print_value(img)}, {"kernel", print_value(p.kernel)}};
        if (!p.stride.empty()) kw.push_back({"stride", print_value(p.stride)});
        if (!p.dilate.empty()) kw.push_back({"dilate", print_value(p.dilate)});
        if (!p.pad.empty()) kw.push_back({"pad", print_value(p.pad)});
        return {b.emit1("col2im", kw, {n.out_grads[0]})};
      });

  MX_REGISTER_OP(col2im)
      .doc("Combines sliding local blocks into a large containing array (the adjoint of im2col): (N, C * "
           "prod(kernel), L) -> (N, C, *output_size), overlapping values summed.")
      .params<Col2imParam>()
      .inputs({"data"})
      .shape([](const Params &pr, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = pr.get<Col2imParam>();
        check_geometry(p, "col2im", true);
        if (!in[0].known()) return false;
        Geometry g = geometry(p, p.output_size, "col2im");
        MX_CHECK(in[0].ndim() == 3 && in[0][1] % g.kprod == 0 && in[0][2] == g.lprod, MX_ERR_SHAPE,
                 "col2im: data must have shape (N, C * ", g.kprod, ", ", g.lprod, ") for kernel ", print_value(p.kernel),
                 " and output_size ", print_value(p.output_size), ", got ", in[0].str());
        std::vector<int64_t> d{in[0][0], in[0][1] / g.kprod};
        d.insert(d.end(), p.output_size.begin(), p.output_size.end());
        assign_shape(out[0], Shape(d), "col2im", "output");
        return true;
      })
      .cpu([](const OpCall &c) {
        const auto &p = c.p<Col2imParam>();
        const NDArray &x = c.inputs[0];
        Geometry g = geometry(p, p.output_size, "col2im");
        const int64_t planes = c.outputs[0].shape()[0] * c.outputs[0].shape()[1];
        MX_DTYPE_SWITCH_FLOAT(x.dtype(), T, "col2im", {
          const T *xp = x.data<T>();
          T *o = c.outputs[0].data<T>();
          parallel_for(planes, 1, [&](int64_t b, int64_t e) {
            for (int64_t pl = b; pl < e; ++pl) {
              const T *src = xp + pl * g.kprod * g.lprod;
              T *dst = o + pl * g.iprod;
              std::fill(dst, dst + g.iprod, T(0));
              for_patch(g, [&](int64_t co, int64_t io) {
                if (io >= 0) dst[io] += src[co];
              });
            }
          });
        });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        const auto &p = n.p<Col2imParam>();
        Kwargs kw{{"kernel", print_value(p.kernel)}};
        if (!p.stride.empty()) kw.push_back({"stride", print_value(p.stride)});
        if (!p.dilate.empty()) kw.push_back({"dilate", print_value(p.dilate)});
        if (!p.pad.empty()) kw.push_back({"pad", print_value(p.pad)});
        return {b.emit1("im2col", kw, {n.out_grads[0]})};
      });
  return 0;
}();

}  // namespace
}  // namespace mx
