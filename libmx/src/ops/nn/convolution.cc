// Convolution (1-D, 2-D, 3-D, channels first) by N-d im2col + per-group GEMM, and its fused
// backward _backward_Convolution (data, weight and bias gradients).
#include "ops/nn/nn_common.h"

namespace mx {
namespace {

using nn::Geom;

struct ConvParam {
  std::vector<int64_t> kernel, stride, dilate, pad;
  int64_t num_filter = 0, num_group = 1, workspace = 1024;
  bool no_bias = false, cudnn_off = false;
  std::string cudnn_tune, layout;
  static void describe(ParamDecl<ConvParam> &d) {
    d.field("kernel", &ConvParam::kernel).required().doc("Convolution kernel size: (w,), (h, w) or (d, h, w).");
    d.field("stride", &ConvParam::stride).def({}).doc("Convolution stride. Defaults to 1 for each dimension.");
    d.field("dilate", &ConvParam::dilate).def({}).doc("Convolution dilate. Defaults to 1 for each dimension.");
    d.field("pad", &ConvParam::pad).def({}).doc("Zero pad for convolution. Defaults to no padding.");
    d.field("num_filter", &ConvParam::num_filter).required().doc("Convolution filter (channel) number.");
    d.field("num_group", &ConvParam::num_group).def(1).doc("Number of group partitions.");
    d.field("workspace", &ConvParam::workspace).def(1024).doc("Maximum temporary workspace in MB (ignored).");
    d.field("no_bias", &ConvParam::no_bias).def(false).doc("Whether to disable bias parameter.");
    d.field("cudnn_tune", &ConvParam::cudnn_tune).def("None")
        .choices({"None", "off", "limited_workspace", "fastest"}).doc("Whether to pick convolution algo by running performance test (ignored).");
    d.field("cudnn_off", &ConvParam::cudnn_off).def(false).doc("Turn off cudnn for this layer (ignored).");
    d.field("layout", &ConvParam::layout).def("None")
        .choices({"None", "NCW", "NCHW", "NCDHW"}).doc("Set layout for input, output and weight (channels first only).");
    d.check([](const ConvParam &p, const std::string &op) {
      const char *o = op.c_str();
      int n = static_cast<int>(p.kernel.size());
      MX_CHECK(n >= 1 && n <= 3, MX_ERR_INVALID_ARGUMENT, o, ": parameter 'kernel' must have 1 to 3 dimensions, got ",
               Shape(p.kernel).str());
      nn::check_positive(p.kernel, o, "kernel");
      nn::check_positive(nn::expand_tuple(p.stride, n, 1, o, "stride"), o, "stride");
      nn::check_positive(nn::expand_tuple(p.dilate, n, 1, o, "dilate"), o, "dilate");
      nn::check_nonneg(nn::expand_tuple(p.pad, n, 0, o, "pad"), o, "pad");
      MX_CHECK(p.num_filter > 0, MX_ERR_INVALID_ARGUMENT, o, ": parameter 'num_filter' must be positive, got ", p.num_filter);
      MX_CHECK(p.num_group > 0, MX_ERR_INVALID_ARGUMENT, o, ": parameter 'num_group' must be positive, got ", p.num_group);
      MX_CHECK(p.num_filter % p.num_group == 0, MX_ERR_INVALID_ARGUMENT, o, ": parameter 'num_filter' (", p.num_filter,
               ") must be divisible by 'num_group' (", p.num_group, ")");
    });
  }
};

// Geometry from the params and a known data shape (N, C, spatial...).
Geom conv_geom(const ConvParam &p, const Shape &data, const char *op) {
  int n = static_cast<int>(p.kernel.size());
  MX_CHECK(data.ndim() == n + 2, MX_ERR_SHAPE, op, ": data must have ", n + 2, " dimensions (N, C, ",
           n == 1 ? "W" : n == 2 ? "H, W" : "D, H, W", ") for a kernel of ", n, " dimensions, got shape ", data.str());
  Geom g;
  g.nsp = n;
  g.channels = data[1];
  g.k = p.kernel;
  g.s = nn::expand_tuple(p.stride, n, 1, op, "stride");
  g.d = nn::expand_tuple(p.dilate, n, 1, op, "dilate");
  g.p = nn::expand_tuple(p.pad, n, 0, op, "pad");
  MX_CHECK(data[1] % p.num_group == 0, MX_ERR_SHAPE, op, ": input channels (", data[1],
           ") must be divisible by 'num_group' (", p.num_group, ")");
  for (int i = 0; i < n; ++i) {
    int64_t x = data[i + 2];
    g.in.push_back(x);
    int64_t ext = g.d[i] * (g.k[i] - 1) + 1;
    MX_CHECK(x + 2 * g.p[i] >= ext, MX_ERR_SHAPE, op, ": parameter 'kernel' ", Shape(p.kernel).str(),
             " (dilated extent ", ext, ") is larger than the padded input (", x + 2 * g.p[i], ") along spatial axis ", i,
             " of data shape ", data.str());
    g.out.push_back((x + 2 * g.p[i] - ext) / g.s[i] + 1);
  }
  return g;
}

bool conv_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  const auto &p = prm.get<ConvParam>();
  const char *op = "Convolution";
  if (!in[0].known()) return false;
  Geom g = conv_geom(p, in[0], op);
  std::vector<int64_t> w{p.num_filter, in[0][1] / p.num_group};
  for (auto k : p.kernel) w.push_back(k);
  assign_shape(in[1], Shape(w), op, "weight");
  if (!p.no_bias) assign_shape(in[2], Shape{p.num_filter}, op, "bias");
  std::vector<int64_t> o{in[0][0], p.num_filter};
  for (auto x : g.out) o.push_back(x);
  assign_shape(out[0], Shape(o), op, "output");
  return true;
}

// Small outputs make thin per-sample GEMMs (a LeNet's 8x8 or a ResNet's 4x4 maps): up to
// kBatchColumns output positions of consecutive samples then share one column matrix and GEMM.
constexpr int64_t kBatchColumns = 512;
int64_t samples_per_gemm(const Geom &g, int64_t N) {
  if (g.is_pointwise()) return 1;  // the input itself is the column matrix
  return std::max<int64_t>(1, std::min<int64_t>(kBatchColumns / std::max<int64_t>(g.out_size(), 1), N));
}

// Kernel taps that read only padding for every output position (nn::valid_taps) are dropped:
// the column matrix loses their rows and the weight their columns.
struct ValidTaps {
  std::vector<int64_t> taps;
  int64_t full = 0, K = 0;
  bool reduced = false;
  ValidTaps(const Geom &g, bool pointwise) : full(g.k_size()), K(g.k_size()) {
    if (pointwise) return;
    taps = nn::valid_taps(g);
    reduced = !taps.empty() && static_cast<int64_t>(taps.size()) < full;
    if (reduced) K = static_cast<int64_t>(taps.size());
  }
  // (F, Cg*full) -> (F, Cg*K)
  template <typename T> const T *gather_weight(const T *w, int64_t F, int64_t Cg, std::vector<T> *out) const {
    out->resize(static_cast<size_t>(F * Cg * K));
    for (int64_t fc = 0; fc < F * Cg; ++fc)
      for (int64_t v = 0; v < K; ++v) (*out)[static_cast<size_t>(fc * K + v)] = w[fc * full + taps[static_cast<size_t>(v)]];
    return out->data();
  }
  // (F, Cg*K) -> (F, Cg*full), zero for dropped taps
  template <typename T> void scatter_weight(const T *wv, int64_t F, int64_t Cg, T *w) const {
    std::fill(w, w + F * Cg * full, T(0));
    for (int64_t fc = 0; fc < F * Cg; ++fc)
      for (int64_t v = 0; v < K; ++v) w[fc * full + taps[static_cast<size_t>(v)]] = wv[fc * K + v];
  }
};

template <typename T> void conv_forward(const OpCall &c) {
  const auto &p = c.p<ConvParam>();
  const NDArray &data = c.inputs[0], &weight = c.inputs[1], &out = c.outputs[0];
  Geom g = conv_geom(p, data.shape(), "Convolution");
  const int64_t N = data.shape()[0], C = g.channels, F = p.num_filter, G = p.num_group;
  const int64_t O = g.out_size(), I = g.in_size();
  const T *x = data.data<T>();
  const T *bias = p.no_bias ? nullptr : c.inputs[2].data<T>();
  T *y = out.data<T>();
  const bool pointwise = g.is_pointwise();
  const int64_t S = samples_per_gemm(g, N);
  const ValidTaps vt(g, pointwise);
  std::vector<T> w_valid;
  const T *w = vt.reduced ? vt.gather_weight(weight.data<T>(), F, C / G, &w_valid) : weight.data<T>();
  const int64_t Cg = C / G, Fg = F / G, CK = Cg * vt.K;
  const std::vector<int64_t> *taps = vt.reduced ? &vt.taps : nullptr;
  // Samples in parallel, each worker with its own column (and, when batching, result) buffer.
  const int64_t chunks = nn::num_chunks(N);
  const int64_t COLS = pointwise ? 0 : C * vt.K * O * S, RES = S > 1 ? F * O * S : 0;
  NDArray bufs(Shape{chunks * (COLS + RES)}, data.dtype(), data.device());
  nn::parallel_chunks(N, chunks, [&](int64_t ch, int64_t b, int64_t e) {
    T *col = bufs.data<T>() + ch * (COLS + RES), *res = col + COLS;
    for (int64_t i = b; i < e; i += S) {
      const int64_t nb = std::min(S, e - i), ld = nb * O;
      const T *ci = x + i * C * I;
      if (!pointwise) {
        for (int64_t j = 0; j < nb; ++j) nn::im2col(x + (i + j) * C * I, g, col + j * O, ld, taps);
        ci = col;
      }
      T *yi = nb == 1 ? y + i * F * O : res;  // (F, nb*O)
      if (bias)
        for (int64_t f = 0; f < F; ++f) std::fill(yi + f * ld, yi + (f + 1) * ld, bias[f]);
      for (int64_t gr = 0; gr < G; ++gr)
        gemm(false, false, Fg, ld, CK, T(1), w + gr * Fg * CK, CK, ci + gr * CK * ld, ld, bias ? T(1) : T(0),
             yi + gr * Fg * ld, ld);
      if (nb > 1)  // (F, nb, O) -> (nb, F, O)
        for (int64_t j = 0; j < nb; ++j)
          for (int64_t f = 0; f < F; ++f)
            std::memcpy(y + ((i + j) * F + f) * O, res + f * ld + j * O, sizeof(T) * static_cast<size_t>(O));
    }
  });
}

// inputs: out_grad, data, weight; outputs: data grad, weight grad, [bias grad]
template <typename T> void conv_backward(const OpCall &c) {
  const auto &p = c.p<ConvParam>();
  const NDArray &gy = c.inputs[0], &data = c.inputs[1], &weight = c.inputs[2];
  Geom g = conv_geom(p, data.shape(), "_backward_Convolution");
  const int64_t N = data.shape()[0], C = g.channels, F = p.num_filter, G = p.num_group;
  const int64_t O = g.out_size(), I = g.in_size();
  const T *x = data.data<T>(), *dy = gy.data<T>();
  T *dx = c.outputs[0].data<T>(), *dw = c.outputs[1].data<T>();
  T *db = p.no_bias ? nullptr : c.outputs[2].data<T>();
  const bool pointwise = g.is_pointwise();
  const int64_t S = samples_per_gemm(g, N);
  const ValidTaps vt(g, pointwise);
  std::vector<T> w_valid;
  const T *w = vt.reduced ? vt.gather_weight(weight.data<T>(), F, C / G, &w_valid) : weight.data<T>();
  const int64_t Cg = C / G, Fg = F / G, CK = Cg * vt.K, WS = F * CK;
  const std::vector<int64_t> *taps = vt.reduced ? &vt.taps : nullptr;
  const int64_t chunks = nn::num_chunks(N);
  std::vector<T> dw_part(static_cast<size_t>(chunks * WS), T(0));
  std::vector<T> db_part(static_cast<size_t>(chunks * F), T(0));
  // Per chunk: column matrix, its gradient, and (when batching) the gathered out-gradient.
  const int64_t COLS = pointwise ? 0 : C * vt.K * O * S, DYB = S > 1 ? F * O * S : 0;
  NDArray bufs(Shape{chunks * (2 * COLS + DYB)}, data.dtype(), data.device());
  const bool need_dx = c.needed(0);  // the data gradient of a first layer is rarely wanted
  nn::parallel_chunks(N, chunks, [&](int64_t ch, int64_t b, int64_t e) {
    T *col = bufs.data<T>() + ch * (2 * COLS + DYB), *dcol = col + COLS, *dyb = dcol + COLS;
    T *dwp = dw_part.data() + ch * WS, *dbp = db_part.data() + ch * F;
    for (int64_t i = b; i < e; i += S) {
      const int64_t nb = std::min(S, e - i), ld = nb * O;
      const T *ci = x + i * C * I;
      if (!pointwise) {
        for (int64_t j = 0; j < nb; ++j) nn::im2col(x + (i + j) * C * I, g, col + j * O, ld, taps);
        ci = col;
      }
      const T *dyi = dy + i * F * O;  // (F, nb*O) view of the out-gradient
      if (nb > 1) {
        for (int64_t j = 0; j < nb; ++j)
          for (int64_t f = 0; f < F; ++f)
            std::memcpy(dyb + f * ld + j * O, dy + ((i + j) * F + f) * O, sizeof(T) * static_cast<size_t>(O));
        dyi = dyb;
      }
      T *dci = pointwise ? dx + i * C * I : dcol;
      for (int64_t gr = 0; gr < G; ++gr) {
        // dW[g] += dY[g] (Fg x ld) * col[g]^T (ld x CK)
        gemm(false, true, Fg, CK, ld, T(1), dyi + gr * Fg * ld, ld, ci + gr * CK * ld, ld, T(1), dwp + gr * Fg * CK, CK);
        // dcol[g] = W[g]^T (CK x Fg) * dY[g] (Fg x ld)
        if (need_dx)
          gemm(true, false, CK, ld, Fg, T(1), w + gr * Fg * CK, CK, dyi + gr * Fg * ld, ld, T(0), dci + gr * CK * ld, ld);
      }
      if (!pointwise && need_dx)
        for (int64_t j = 0; j < nb; ++j) {
          T *dxj = dx + (i + j) * C * I;
          std::memset(dxj, 0, sizeof(T) * static_cast<size_t>(C * I));
          nn::col2im(dcol + j * O, g, dxj, ld, taps);
        }
      if (db)
        for (int64_t j = 0; j < nb; ++j)
          for (int64_t f = 0; f < F; ++f) {
            const T *row = dy + ((i + j) * F + f) * O;
            T s = 0;
            for (int64_t o = 0; o < O; ++o) s += row[o];
            dbp[f] += s;
          }
    }
  });
  if (vt.reduced) {
    std::vector<T> dw_valid(static_cast<size_t>(WS));
    nn::sum_chunk_partials(dw_part, chunks, WS, dw_valid.data());
    vt.scatter_weight(dw_valid.data(), F, C / G, dw);
  } else {
    nn::sum_chunk_partials(dw_part, chunks, WS, dw);
  }
  if (db) nn::sum_chunk_partials(db_part, chunks, F, db);
}

std::vector<std::string> conv_inputs(const Params &prm) {
  if (prm.get<ConvParam>().no_bias) return {"data", "weight"};
  return {"data", "weight", "bias"};
}

const int registered = [] {
  MX_REGISTER_OP(Convolution)
      .doc("Computes 1-D, 2-D or 3-D convolution (channels first: NCW, NCHW, NCDHW) with optional groups, "
           "stride, dilation and zero padding.")
      .params<ConvParam>()
      .inputs({"data", "weight", "bias"})
      .inputs_fn(conv_inputs)
      .shape(conv_shape)
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "Convolution", { conv_forward<T>(c); });
      })
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto gs = b.emit_skipping(&Registry::get().require("_backward_Convolution"), n.params,
                                  {n.out_grads[0], n.inputs[0], n.inputs[1]}, {!n.needs(0), false, false});
        std::vector<Var> r{gs[0], gs[1]};
        if (!n.p<ConvParam>().no_bias) r.push_back(gs[2]);
        return r;
      });
  MX_REGISTER_OP(_backward_Convolution)
      .doc("Gradients of Convolution: inputs (out_grad, data, weight); outputs data, weight and bias gradients.")
      .params<ConvParam>()
      .inputs({"out_grad", "data", "weight"})
      .outputs({"data_grad", "weight_grad", "bias_grad"})
      .num_outputs([](const Params &prm) { return prm.get<ConvParam>().no_bias ? 2 : 3; })
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        const auto &p = prm.get<ConvParam>();
        if (!in[1].known()) return false;
        ShapeVec fi{in[1], in[2], Shape()}, fa, fo{in[0]};
        if (p.no_bias) fi.pop_back();
        conv_shape(prm, fi, fa, fo);
        assign_shape(in[2], fi[1], "_backward_Convolution", "weight");
        assign_shape(in[0], fo[0], "_backward_Convolution", "out_grad");
        assign_shape(out[0], in[1], "_backward_Convolution", "data_grad");
        assign_shape(out[1], fi[1], "_backward_Convolution", "weight_grad");
        if (!p.no_bias) assign_shape(out[2], Shape{p.num_filter}, "_backward_Convolution", "bias_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_Convolution", { conv_backward<T>(c); });
      })
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
