// Deconvolution (transposed convolution, 1-D/2-D/3-D, channels first) by per-group GEMM + col2im,
// and its fused backward _backward_Deconvolution (im2col + GEMM). Weight layout (C, F/G, k...).
// Output size per axis: s*(in-1) + d*(k-1)+1 - 2*pad + adj, or target_shape (implied pad/adj).
#include "backends/cpu/onednn_deconv.h"
#include "backends/cudnn.h"
#include "base/half.h"
#include "ops/cuda_only.h"
#include "ops/nn/nn_common.h"
#include "ops/via_f32.h"

namespace mx {
namespace {

using nn::Geom;

struct DeconvParam {
  std::vector<int64_t> kernel, stride, dilate, pad, adj, target_shape;
  int64_t num_filter = 0, num_group = 1, workspace = 512;
  bool no_bias = true, cudnn_off = false;
  std::string cudnn_tune, layout;
  static void describe(ParamDecl<DeconvParam> &d) {
    d.field("kernel", &DeconvParam::kernel).required().doc("Deconvolution kernel size: (w,), (h, w) or (d, h, w).");
    d.field("stride", &DeconvParam::stride).def({}).doc("The stride used for the corresponding convolution. Defaults to 1.");
    d.field("dilate", &DeconvParam::dilate).def({}).doc("Dilation factor for each dimension. Defaults to 1.");
    d.field("pad", &DeconvParam::pad).def({}).doc("The amount of implicit zero padding removed from the output. Defaults to 0.");
    d.field("adj", &DeconvParam::adj).def({}).doc("Adjustment added to one side of the output. Ignored when target_shape is set.");
    d.field("target_shape", &DeconvParam::target_shape).def({})
        .doc("Shape of the output (spatial); pad and adj are then computed from it.");
    d.field("num_filter", &DeconvParam::num_filter).required().doc("Number of output channels.");
    d.field("num_group", &DeconvParam::num_group).def(1).doc("Number of groups partition.");
    d.field("workspace", &DeconvParam::workspace).def(512).doc("Maximum temporary workspace in MB (ignored).");
    d.field("no_bias", &DeconvParam::no_bias).def(true).doc("Whether to disable bias parameter.");
    d.field("cudnn_tune", &DeconvParam::cudnn_tune).def("None")
        .choices({"None", "off", "limited_workspace", "fastest"}).doc("cuDNN algorithm choice (ignored).");
    d.field("cudnn_off", &DeconvParam::cudnn_off).def(false).doc("Turn off cudnn for this layer (ignored).");
    d.field("layout", &DeconvParam::layout).def("None")
        .choices({"None", "NCW", "NCHW", "NCDHW"}).doc("Layout of input, output and weight (channels first only).");
    d.check([](const DeconvParam &p, const std::string &op) {
      const char *o = op.c_str();
      int n = static_cast<int>(p.kernel.size());
      MX_CHECK(n >= 1 && n <= 3, MX_ERR_INVALID_ARGUMENT, o, ": parameter 'kernel' must have 1 to 3 dimensions, got ",
               Shape(p.kernel).str());
      nn::check_positive(p.kernel, o, "kernel");
      auto s = nn::expand_tuple(p.stride, n, 1, o, "stride");
      auto dl = nn::expand_tuple(p.dilate, n, 1, o, "dilate");
      nn::check_positive(s, o, "stride");
      nn::check_positive(dl, o, "dilate");
      nn::check_nonneg(nn::expand_tuple(p.pad, n, 0, o, "pad"), o, "pad");
      auto a = nn::expand_tuple(p.adj, n, 0, o, "adj");
      nn::check_nonneg(a, o, "adj");
      for (int i = 0; i < n; ++i)
        MX_CHECK(a[i] < std::max(s[i], dl[i]), MX_ERR_INVALID_ARGUMENT, o, ": parameter 'adj' ", Shape(a).str(),
                 " must be smaller than 'stride' or 'dilate' along axis ", i);
      if (!p.target_shape.empty()) {
        nn::expand_tuple(p.target_shape, n, 0, o, "target_shape");
        nn::check_nonneg(p.target_shape, o, "target_shape");
      }
      MX_CHECK(p.num_filter > 0, MX_ERR_INVALID_ARGUMENT, o, ": parameter 'num_filter' must be positive, got ", p.num_filter);
      MX_CHECK(p.num_group > 0, MX_ERR_INVALID_ARGUMENT, o, ": parameter 'num_group' must be positive, got ", p.num_group);
      MX_CHECK(p.num_filter % p.num_group == 0, MX_ERR_INVALID_ARGUMENT, o, ": parameter 'num_filter' (", p.num_filter,
               ") must be divisible by 'num_group' (", p.num_group, ")");
    });
  }
};

bool uses_target(const DeconvParam &p) {
  if (p.target_shape.empty()) return false;
  for (auto t : p.target_shape)
    if (t != 0) return true;
  return false;
}

// Geometry of the equivalent convolution: its input is the deconvolution's output (F channels),
// its output is the deconvolution's input.
Geom deconv_geom(const DeconvParam &p, const Shape &data, const char *op) {
  int n = static_cast<int>(p.kernel.size());
  MX_CHECK(data.ndim() == n + 2, MX_ERR_SHAPE, op, ": data must have ", n + 2, " dimensions (N, C, ",
           n == 1 ? "W" : n == 2 ? "H, W" : "D, H, W", ") for a kernel of ", n, " dimensions, got shape ", data.str());
  MX_CHECK(data[1] % p.num_group == 0, MX_ERR_SHAPE, op, ": input channels (", data[1],
           ") must be divisible by 'num_group' (", p.num_group, ")");
  Geom g;
  g.nsp = n;
  g.channels = p.num_filter;
  g.k = p.kernel;
  g.s = nn::expand_tuple(p.stride, n, 1, op, "stride");
  g.d = nn::expand_tuple(p.dilate, n, 1, op, "dilate");
  std::vector<int64_t> pad = nn::expand_tuple(p.pad, n, 0, op, "pad");
  std::vector<int64_t> adj = nn::expand_tuple(p.adj, n, 0, op, "adj");
  const bool tgt = uses_target(p);
  std::vector<int64_t> ts = tgt ? nn::expand_tuple(p.target_shape, n, 0, op, "target_shape") : std::vector<int64_t>();
  for (int i = 0; i < n; ++i) {
    const int64_t x = data[i + 2];
    const int64_t full = g.s[i] * (x - 1) + g.d[i] * (g.k[i] - 1) + 1;
    if (tgt) {
      int64_t total = full - ts[i];
      MX_CHECK(total >= 0, MX_ERR_SHAPE, op, ": parameter 'target_shape' ", Shape(ts).str(),
               " is too big along spatial axis ", i, " (at most ", full, " for data shape ", data.str(), ")");
      adj[i] = total % 2;
      pad[i] = (total + 1) / 2;
    }
    const int64_t o = full - 2 * pad[i] + adj[i];
    MX_CHECK(o > 0, MX_ERR_SHAPE, op, ": output size along spatial axis ", i, " is ", o,
             " (not positive) for data shape ", data.str(), " and 'pad' ", Shape(pad).str());
    g.in.push_back(o);
    g.out.push_back(x);
  }
  g.p = pad;
  return g;
}

bool deconv_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  const auto &p = prm.get<DeconvParam>();
  const char *op = "Deconvolution";
  if (!in[0].known()) return false;
  Geom g = deconv_geom(p, in[0], op);
  std::vector<int64_t> w{in[0][1], p.num_filter / p.num_group};
  for (auto k : p.kernel) w.push_back(k);
  assign_shape(in[1], Shape(w), op, "weight");
  if (!p.no_bias) assign_shape(in[2], Shape{p.num_filter}, op, "bias");
  std::vector<int64_t> o{in[0][0], p.num_filter};
  for (auto x : g.in) o.push_back(x);
  assign_shape(out[0], Shape(o), op, "output");
  return true;
}

template <typename T> void deconv_forward(const OpCall &c) {
  const auto &p = c.p<DeconvParam>();
  const NDArray &data = c.inputs[0], &weight = c.inputs[1];
  Geom g = deconv_geom(p, data.shape(), "Deconvolution");
  const int64_t N = data.shape()[0], C = data.shape()[1], F = p.num_filter, G = p.num_group;
  const int64_t K = g.k_size(), I = g.out_size() /* deconv input spatial */, O = g.in_size() /* output */;
  const int64_t Cg = C / G, Fg = F / G, FK = Fg * K;
  const T *x = data.data<T>(), *w = weight.data<T>();
  const T *bias = p.no_bias ? nullptr : c.inputs[2].data<T>();
  T *y = c.outputs[0].data<T>();
  const int64_t chunks = nn::num_chunks(N);
  const int64_t colsz = F * K * I;
  NDArray cols(Shape{chunks * colsz}, data.dtype(), data.device());
  nn::parallel_chunks(N, chunks, [&](int64_t ch, int64_t b, int64_t e) {
    T *col = cols.data<T>() + ch * colsz;
    for (int64_t i = b; i < e; ++i) {
      const T *xi = x + i * C * I;
      T *yi = y + i * F * O;
      for (int64_t gr = 0; gr < G; ++gr)  // col[g] (FK x I) = W[g]^T (FK x Cg) * x[g] (Cg x I)
        gemm(true, false, FK, I, Cg, T(1), w + gr * Cg * FK, FK, xi + gr * Cg * I, I, T(0), col + gr * FK * I, I);
      std::memset(yi, 0, sizeof(T) * static_cast<size_t>(F * O));
      nn::col2im(col, g, yi);
      if (bias)
        for (int64_t f = 0; f < F; ++f)
          for (int64_t o = 0; o < O; ++o) yi[f * O + o] += bias[f];
    }
  });
}

// inputs: out_grad, data, weight; outputs: data grad, weight grad, [bias grad]
template <typename T> void deconv_backward(const OpCall &c) {
  const auto &p = c.p<DeconvParam>();
  const NDArray &data = c.inputs[1], &weight = c.inputs[2];
  Geom g = deconv_geom(p, data.shape(), "_backward_Deconvolution");
  const int64_t N = data.shape()[0], C = data.shape()[1], F = p.num_filter, G = p.num_group;
  const int64_t K = g.k_size(), I = g.out_size(), O = g.in_size();
  const int64_t Cg = C / G, Fg = F / G, FK = Fg * K, WS = C * FK;
  const T *x = data.data<T>(), *w = weight.data<T>(), *dy = c.inputs[0].data<T>();
  T *dx = c.outputs[0].data<T>(), *dw = c.outputs[1].data<T>();
  T *db = p.no_bias ? nullptr : c.outputs[2].data<T>();
  const int64_t chunks = nn::num_chunks(N);
  std::vector<T> dw_part(static_cast<size_t>(chunks * WS), T(0));
  std::vector<T> db_part(static_cast<size_t>(chunks * F), T(0));
  const int64_t colsz = F * K * I;
  NDArray cols(Shape{chunks * colsz}, data.dtype(), data.device());
  const bool need_dx = c.needed(0);
  nn::parallel_chunks(N, chunks, [&](int64_t ch, int64_t b, int64_t e) {
    T *col = cols.data<T>() + ch * colsz;
    T *dwp = dw_part.data() + ch * WS, *dbp = db_part.data() + ch * F;
    for (int64_t i = b; i < e; ++i) {
      const T *xi = x + i * C * I, *dyi = dy + i * F * O;
      nn::im2col(dyi, g, col);
      for (int64_t gr = 0; gr < G; ++gr) {
        // dW[g] (Cg x FK) += x[g] (Cg x I) * col[g]^T (I x FK)
        gemm(false, true, Cg, FK, I, T(1), xi + gr * Cg * I, I, col + gr * FK * I, I, T(1), dwp + gr * Cg * FK, FK);
        // dx[g] (Cg x I) = W[g] (Cg x FK) * col[g] (FK x I)
        if (need_dx)
          gemm(false, false, Cg, I, FK, T(1), w + gr * Cg * FK, FK, col + gr * FK * I, I, T(0),
               dx + i * C * I + gr * Cg * I, I);
      }
      if (db)
        for (int64_t f = 0; f < F; ++f) {
          T s = 0;
          for (int64_t o = 0; o < O; ++o) s += dyi[f * O + o];
          dbp[f] += s;
        }
    }
  });
  nn::sum_chunk_partials(dw_part, chunks, WS, dw);
  if (db) nn::sum_chunk_partials(db_part, chunks, F, db);
}

// bfloat16 (cpu_dtypes): oneDNN's bf16 deconvolution primitives (f32 accumulation inside), else
// the float32 kernels on converted copies (the same values a build without oneDNN computes).
onednn::DeconvShape onednn_shape(const Geom &g, const Shape &data, int64_t F, int64_t G) {
  onednn::DeconvShape sh;
  sh.N = data[0];
  sh.C = data[1];
  sh.F = F;
  sh.G = G;
  sh.in = g.out;  // the equivalent convolution's output is this op's input
  sh.out = g.in;
  sh.k = g.k;
  sh.s = g.s;
  sh.d = g.d;
  sh.pad = g.p;
  for (int i = 0; i < g.nsp; ++i)  // what deconv_geom added on the right (adj, or target_shape's)
    sh.adj.push_back(g.in[i] - (g.s[i] * (g.out[i] - 1) + g.d[i] * (g.k[i] - 1) + 1 - 2 * g.p[i]));
  return sh;
}

void deconv_forward_bf16(const OpCall &c) {
  const auto &p = c.p<DeconvParam>();
  const NDArray &data = c.inputs[0];
  const Geom g = deconv_geom(p, data.shape(), "Deconvolution");
  // Inputs by read-only pointers: the weight's blocked copy stays cached (onednn.h).
  if (onednn::deconv_forward_bf16(onednn_shape(g, data.shape(), p.num_filter, p.num_group), data.craw(),
                                  c.inputs[1], p.no_bias ? nullptr : c.inputs[2].craw(), c.outputs[0].raw()))
    return;
  run_via_f32(c, deconv_forward<float>);
}

void deconv_backward_bf16(const OpCall &c) {
  const auto &p = c.p<DeconvParam>();
  const NDArray &dy = c.inputs[0], &data = c.inputs[1];
  const Geom g = deconv_geom(p, data.shape(), "_backward_Deconvolution");
  if (!onednn::deconv_backward_bf16(onednn_shape(g, data.shape(), p.num_filter, p.num_group), data.craw(),
                                    c.inputs[2], dy.craw(), c.needed(0) ? c.outputs[0].raw() : nullptr,
                                    c.outputs[1].raw()))
    return run_via_f32(c, deconv_backward<float>);
  if (p.no_bias) return;
  // db[f]: dy summed over samples and positions in double, rounded once.
  const int64_t N = data.shape()[0], F = p.num_filter, O = g.in_size();
  const bf16_t *y = dy.cdata<bf16_t>();
  bf16_t *db = c.outputs[2].data<bf16_t>();
  parallel_for(F, 1, [&](int64_t b, int64_t e) {
    for (int64_t f = b; f < e; ++f) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t o = 0; o < O; ++o) acc += static_cast<float>(y[(n * F + f) * O + o]);
      db[f] = bf16_t(static_cast<float>(acc));
    }
  });
}

// GPU kernels: cuDNN (backends/cuda/cudnn_conv.cc) on the equivalent convolution, whose input is
// this op's output (num_filter channels) and whose output is this op's data.
cudnn::ConvSpec cudnn_spec(const DeconvParam &p, const Geom &g, const Shape &data) {
  return nn::cudnn_conv_spec(g, data[0], p.num_filter, data[1], p.num_group, p.cudnn_tune, p.workspace);
}

void deconv_forward_gpu(const OpCall &c) {
  const auto &p = c.p<DeconvParam>();
  const NDArray &data = c.inputs[0];
  const Geom g = deconv_geom(p, data.shape(), "Deconvolution");
  cudnn::deconv_forward("Deconvolution", cudnn_spec(p, g, data.shape()), data, c.inputs[1],
                        p.no_bias ? nullptr : &c.inputs[2], c.outputs[0]);
}

void deconv_backward_gpu(const OpCall &c) {
  const auto &p = c.p<DeconvParam>();
  const NDArray &data = c.inputs[1];
  const Geom g = deconv_geom(p, data.shape(), "_backward_Deconvolution");
  cudnn::deconv_backward("_backward_Deconvolution", cudnn_spec(p, g, data.shape()), c.inputs[0], data, c.inputs[2],
                         c.needed(0) ? &c.outputs[0] : nullptr, c.outputs[1], p.no_bias ? nullptr : &c.outputs[2]);
}

std::vector<std::string> deconv_inputs(const Params &prm) {
  if (prm.get<DeconvParam>().no_bias) return {"data", "weight"};
  return {"data", "weight", "bias"};
}

const int registered = [] {
  MX_REGISTER_OP(Deconvolution)
      .doc("Computes 1-D, 2-D or 3-D transposed convolution (channels first) with optional groups, stride, "
           "dilation, padding, adj or target_shape. Weight shape (C, num_filter/num_group, kernel...).")
      .params<DeconvParam>()
      .inputs({"data", "weight", "bias"})
      .inputs_fn(deconv_inputs)
      .shape(deconv_shape)
      .cpu([](const OpCall &c) {
        if (c.inputs[0].dtype() == DType::bf16) return deconv_forward_bf16(c);
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "Deconvolution", { deconv_forward<T>(c); });
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(deconv_forward_gpu))
      .gpu_dtypes({DType::f16, DType::bf16})  // cuDNN: 16-bit data, float32 accumulation (bf16: sm_80+)
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto gs = b.emit_skipping(&Registry::get().require("_backward_Deconvolution"), n.params,
                                  {n.out_grads[0], n.inputs[0], n.inputs[1]}, {!n.needs(0), false, false});
        std::vector<Var> r{gs[0], gs[1]};
        if (!n.p<DeconvParam>().no_bias) r.push_back(gs[2]);
        return r;
      });
  MX_REGISTER_OP(_backward_Deconvolution)
      .doc("Gradients of Deconvolution: inputs (out_grad, data, weight); outputs data, weight and bias gradients.")
      .params<DeconvParam>()
      .inputs({"out_grad", "data", "weight"})
      .outputs({"data_grad", "weight_grad", "bias_grad"})
      .num_outputs([](const Params &prm) { return prm.get<DeconvParam>().no_bias ? 2 : 3; })
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = prm.get<DeconvParam>();
        const char *op = "_backward_Deconvolution";
        if (!in[1].known()) return false;
        ShapeVec fi{in[1], in[2], Shape()}, fa, fo{in[0]};
        if (p.no_bias) fi.pop_back();
        deconv_shape(prm, fi, fa, fo);
        assign_shape(in[2], fi[1], op, "weight");
        assign_shape(in[0], fo[0], op, "out_grad");
        assign_shape(out[0], in[1], op, "data_grad");
        assign_shape(out[1], fi[1], op, "weight_grad");
        if (!p.no_bias) assign_shape(out[2], Shape{p.num_filter}, op, "bias_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        if (c.inputs[0].dtype() == DType::bf16) return deconv_backward_bf16(c);
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_Deconvolution", { deconv_backward<T>(c); });
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(deconv_backward_gpu))
      .gpu_dtypes({DType::f16, DType::bf16})  // cuDNN: 16-bit data, float32 accumulation (bf16: sm_80+)
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
