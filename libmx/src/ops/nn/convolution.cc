// Convolution (1-D, 2-D, 3-D, channels first) by N-d im2col + per-group GEMM, and its fused
// backward _backward_Convolution (data, weight and bias gradients).
#include <type_traits>

#include "backends/cpu/onednn.h"
#include "backends/cpu/onednn_conv.h"
#include "ops/via_f32.h"
#include "backends/cudnn.h"
#include "ops/cuda_only.h"
#include "ops/nn/conv_one_position.h"
#include "ops/nn/conv_small_maps.h"
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

onednn::ConvShape onednn_shape(const ConvParam &p, const Geom &g, int64_t N) {
  onednn::ConvShape sh;
  sh.N = N;
  sh.C = g.channels;
  sh.F = p.num_filter;
  sh.G = p.num_group;
  sh.in = g.in;
  sh.out = g.out;
  sh.k = g.k;
  sh.s = g.s;
  sh.d = g.d;
  sh.p = g.p;
  return sh;
}

// Maps this small use the grouped path (conv_small_maps.h): up to kBatchColumns output
// positions of consecutive samples share each GEMM.
constexpr int64_t kBatchColumns = 512;
int64_t samples_per_gemm(const Geom &g, int64_t N) {
  if (g.is_pointwise()) return 1;  // the input itself is the column matrix
  return std::max<int64_t>(1, std::min<int64_t>(kBatchColumns / std::max<int64_t>(g.out_size(), 1), N));
}

// Per position group, the weight restricted to the group's taps (shared by all workers).
template <typename T> struct GroupedWeights {
  std::vector<nn::PositionGroup> groups;
  std::vector<std::vector<T>> bufs;
  std::vector<const T *> w;
  int64_t max_taps = 0, max_positions = 0;
  GroupedWeights(const Geom &g, const T *weight, int64_t F, int64_t Cg) : groups(nn::position_groups(g)) {
    bufs.resize(groups.size());
    for (size_t i = 0; i < groups.size(); ++i) {
      w.push_back(nn::group_weight(groups[i], weight, F, Cg, g.k_size(), &bufs[i]));
      max_taps = std::max<int64_t>(max_taps, static_cast<int64_t>(groups[i].taps.size()));
      max_positions = std::max<int64_t>(max_positions, static_cast<int64_t>(groups[i].positions.size()));
    }
  }
};

template <typename T> void conv_forward_small(const OpCall &c, const Geom &g, int64_t S) {
  const auto &p = c.p<ConvParam>();
  const NDArray &data = c.inputs[0];
  const int64_t N = data.shape()[0], C = g.channels, F = p.num_filter, G = p.num_group;
  const int64_t O = g.out_size(), I = g.in_size(), Cg = C / G, Fg = F / G;
  const T *x = data.cdata<T>();
  const T *bias = p.no_bias ? nullptr : c.inputs[2].cdata<T>();
  T *y = c.outputs[0].data<T>();
  const GroupedWeights<T> gw(g, c.inputs[1].cdata<T>(), F, Cg);
  const int64_t chunks = nn::num_chunks(N);
  const int64_t COLS = C * gw.max_taps * S * gw.max_positions, RES = F * S * gw.max_positions;
  NDArray bufs(Shape{chunks * (COLS + RES)}, data.dtype(), data.device());
  nn::parallel_chunks(N, chunks, [&](int64_t ch, int64_t b, int64_t e) {
    T *col = bufs.data<T>() + ch * (COLS + RES), *res = col + COLS;
    for (int64_t i = b; i < e; i += S) {
      const int64_t nb = std::min(S, e - i);
      for (size_t gi = 0; gi < gw.groups.size(); ++gi) {
        const nn::PositionGroup &grp = gw.groups[gi];
        const int64_t P = static_cast<int64_t>(grp.positions.size()), ld = nb * P;
        const int64_t CKt = Cg * static_cast<int64_t>(grp.taps.size());
        nn::gather_columns(grp, x + i * C * I, nb, C, I, col);
        for (int64_t gr = 0; gr < G; ++gr)
          gemm(false, false, Fg, ld, CKt, T(1), gw.w[gi] + gr * Fg * CKt, CKt, col + gr * CKt * ld, ld, T(0),
               res + gr * Fg * ld, ld);
        for (int64_t j = 0; j < nb; ++j)
          for (int64_t f = 0; f < F; ++f) {
            T *yf = y + ((i + j) * F + f) * O;
            const T *rf = res + f * ld + j * P;
            const T bf = bias ? bias[f] : T(0);
            for (int64_t q = 0; q < P; ++q) yf[grp.positions[static_cast<size_t>(q)]] = rf[q] + bf;
          }
      }
    }
  });
}

template <typename T> void conv_backward_small(const OpCall &c, const Geom &g, int64_t S) {
  const auto &p = c.p<ConvParam>();
  const NDArray &gy = c.inputs[0], &data = c.inputs[1];
  const int64_t N = data.shape()[0], C = g.channels, F = p.num_filter, G = p.num_group;
  const int64_t K = g.k_size(), O = g.out_size(), I = g.in_size(), Cg = C / G, Fg = F / G, WS = F * Cg * K;
  const T *x = data.data<T>(), *dy = gy.data<T>();
  T *dx = c.outputs[0].data<T>(), *dw = c.outputs[1].data<T>();
  T *db = p.no_bias ? nullptr : c.outputs[2].data<T>();
  const bool need_dx = c.needed(0);
  const GroupedWeights<T> gw(g, c.inputs[2].data<T>(), F, Cg);
  const int64_t chunks = nn::num_chunks(N);
  std::vector<T> dw_part(static_cast<size_t>(chunks * WS), T(0));
  std::vector<T> db_part(static_cast<size_t>(chunks * F), T(0));
  const int64_t COLS = C * gw.max_taps * S * gw.max_positions, DYB = F * S * gw.max_positions,
                DWT = F * Cg * gw.max_taps, PER = 2 * COLS + DYB + DWT;
  NDArray bufs(Shape{chunks * PER}, data.dtype(), data.device());
  nn::parallel_chunks(N, chunks, [&](int64_t ch, int64_t b, int64_t e) {
    T *col = bufs.data<T>() + ch * PER, *dcol = col + COLS, *dyb = dcol + COLS, *dwt = dyb + DYB;
    T *dwp = dw_part.data() + ch * WS, *dbp = db_part.data() + ch * F;
    for (int64_t i = b; i < e; i += S) {
      const int64_t nb = std::min(S, e - i);
      if (need_dx) std::memset(dx + i * C * I, 0, sizeof(T) * static_cast<size_t>(nb * C * I));
      for (size_t gi = 0; gi < gw.groups.size(); ++gi) {
        const nn::PositionGroup &grp = gw.groups[gi];
        const int64_t P = static_cast<int64_t>(grp.positions.size()), ld = nb * P;
        const int64_t Kt = static_cast<int64_t>(grp.taps.size()), CKt = Cg * Kt;
        nn::gather_columns(grp, x + i * C * I, nb, C, I, col);
        for (int64_t j = 0; j < nb; ++j)  // dY of the group's positions: (F, nb*P)
          for (int64_t f = 0; f < F; ++f) {
            const T *df = dy + ((i + j) * F + f) * O;
            T *dst = dyb + f * ld + j * P;
            for (int64_t q = 0; q < P; ++q) dst[q] = df[grp.positions[static_cast<size_t>(q)]];
          }
        for (int64_t gr = 0; gr < G; ++gr) {
          // dW over the group's taps: dY (Fg x ld) * col^T (ld x CKt)
          gemm(false, true, Fg, CKt, ld, T(1), dyb + gr * Fg * ld, ld, col + gr * CKt * ld, ld, T(0),
               dwt + gr * Fg * CKt, CKt);
          if (need_dx)
            gemm(true, false, CKt, ld, Fg, T(1), gw.w[gi] + gr * Fg * CKt, CKt, dyb + gr * Fg * ld, ld, T(0),
                 dcol + gr * CKt * ld, ld);
        }
        for (int64_t fc = 0; fc < F * Cg; ++fc)
          for (int64_t v = 0; v < Kt; ++v) dwp[fc * K + grp.taps[static_cast<size_t>(v)]] += dwt[fc * Kt + v];
        if (need_dx) nn::scatter_columns(grp, dcol, nb, C, I, dx + i * C * I);
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
  nn::sum_chunk_partials(dw_part, chunks, WS, dw);
  if (db) nn::sum_chunk_partials(db_part, chunks, F, db);
}

template <typename T> void conv_forward_own(const OpCall &c, const Geom &g);

// relu: the executor fused a following Activation(relu) into this step (_fused_Convolution_relu).
template <typename T> void conv_forward(const OpCall &c, bool relu) {
  const auto &p = c.p<ConvParam>();
  const NDArray &data = c.inputs[0], &weight = c.inputs[1], &out = c.outputs[0];
  Geom g = conv_geom(p, data.shape(), "Convolution");
  const int64_t N = data.shape()[0];
  if (nn::OnePosition op; nn::one_position(g, p.num_group, &op)) {  // one output position: GEMMs (conv_one_position.h)
    onednn::materialize_inputs();
    nn::conv_forward_one_position<T>(g, op, N, p.num_filter, data.cdata<T>(), weight.cdata<T>(),
                                     p.no_bias ? nullptr : c.inputs[2].cdata<T>(), out.data<T>());
    if (relu) nn::relu_in_place(out.data<T>(), out.size());
    return;
  }
  if constexpr (std::is_same_v<T, float>) {  // oneDNN first (backends/cpu/onednn_conv.h); false: not taken
    // Inputs by read-only pointers: a mutable one would count as a write to the weight and
    // defeat oneDNN's blocked-weight cache (ndarray/storage.h).
    onednn::ConvShape sh = onednn_shape(p, g, N);
    sh.training = c.is_train;  // the backward's layouts (onednn_conv.h)
    if (onednn::conv_forward(sh, data.cdata<float>(), weight, p.no_bias ? nullptr : c.inputs[2].cdata<float>(),
                             out.data<float>(), relu))
      return;
    onednn::materialize_inputs();  // MX's kernel reads plain arrays (executor_blocked.cc)
  }
  conv_forward_own<T>(c, g);
  if (relu) nn::relu_in_place(out.data<T>(), out.size());
}

template <typename T> void conv_forward_own(const OpCall &c, const Geom &g) {
  const auto &p = c.p<ConvParam>();
  const NDArray &data = c.inputs[0], &weight = c.inputs[1], &out = c.outputs[0];
  const int64_t N = data.shape()[0], C = g.channels, F = p.num_filter, G = p.num_group;
  if (int64_t S = samples_per_gemm(g, N); S > 1) return conv_forward_small<T>(c, g, S);
  const int64_t K = g.k_size(), O = g.out_size(), I = g.in_size();
  const int64_t Cg = C / G, Fg = F / G, CK = Cg * K;
  const T *x = data.cdata<T>(), *w = weight.cdata<T>();  // read-only: versions stay
  const T *bias = p.no_bias ? nullptr : c.inputs[2].cdata<T>();
  T *y = out.data<T>();
  const bool pointwise = g.is_pointwise();
  // Samples in parallel, each worker with its own column buffer from the caching pool.
  const int64_t chunks = nn::num_chunks(N);
  const int64_t CKO = pointwise ? 0 : C * K * O;
  NDArray cols(Shape{chunks * CKO}, data.dtype(), data.device());
  nn::parallel_chunks(N, chunks, [&](int64_t ch, int64_t b, int64_t e) {
    T *col = pointwise ? nullptr : cols.data<T>() + ch * CKO;
    for (int64_t i = b; i < e; ++i) {
      const T *xi = x + i * C * I;
      const T *ci = xi;
      if (!pointwise) {
        nn::im2col(xi, g, col);
        ci = col;
      }
      T *yi = y + i * F * O;
      if (bias)
        for (int64_t f = 0; f < F; ++f) std::fill(yi + f * O, yi + (f + 1) * O, bias[f]);
      for (int64_t gr = 0; gr < G; ++gr)
        gemm(false, false, Fg, O, CK, T(1), w + gr * Fg * CK, CK, ci + gr * CK * O, O, bias ? T(1) : T(0),
             yi + gr * Fg * O, O);
    }
  });
}

// inputs: out_grad, data, weight; outputs: data grad, weight grad, [bias grad]
template <typename T> void conv_backward(const OpCall &c) {
  const auto &p = c.p<ConvParam>();
  const NDArray &gy = c.inputs[0], &data = c.inputs[1], &weight = c.inputs[2];
  Geom g = conv_geom(p, data.shape(), "_backward_Convolution");
  const int64_t N = data.shape()[0], C = g.channels, F = p.num_filter, G = p.num_group;
  if (nn::OnePosition op; nn::one_position(g, G, &op)) {  // one output position: GEMMs (conv_one_position.h)
    onednn::materialize_inputs();
    nn::conv_backward_one_position<T>(g, op, N, F, data.cdata<T>(), weight.cdata<T>(), gy.cdata<T>(),
                                      c.needed(0) ? c.outputs[0].data<T>() : nullptr, c.outputs[1].data<T>(),
                                      p.no_bias ? nullptr : c.outputs[2].data<T>());
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    if (onednn::conv_backward(onednn_shape(p, g, N), data.cdata<float>(), weight, gy.cdata<float>(),
                              c.needed(0) ? c.outputs[0].data<float>() : nullptr, c.outputs[1].data<float>(),
                              p.no_bias ? nullptr : c.outputs[2].data<float>()))
      return;
    onednn::materialize_inputs();
  }
  if (int64_t S = samples_per_gemm(g, N); S > 1) return conv_backward_small<T>(c, g, S);
  const int64_t K = g.k_size(), O = g.out_size(), I = g.in_size();
  const int64_t Cg = C / G, Fg = F / G, CK = Cg * K, WS = F * CK;
  const T *x = data.data<T>(), *w = weight.data<T>(), *dy = gy.data<T>();
  T *dx = c.outputs[0].data<T>(), *dw = c.outputs[1].data<T>();
  T *db = p.no_bias ? nullptr : c.outputs[2].data<T>();
  const bool pointwise = g.is_pointwise();
  const int64_t chunks = nn::num_chunks(N);
  std::vector<T> dw_part(static_cast<size_t>(chunks * WS), T(0));
  std::vector<T> db_part(static_cast<size_t>(chunks * F), T(0));
  const int64_t CKO = pointwise ? 0 : C * K * O;
  NDArray cols(Shape{2 * chunks * CKO}, data.dtype(), data.device());
  const bool need_dx = c.needed(0);  // the data gradient of a first layer is rarely wanted
  nn::parallel_chunks(N, chunks, [&](int64_t ch, int64_t b, int64_t e) {
    T *col = pointwise ? nullptr : cols.data<T>() + 2 * ch * CKO;
    T *dcol = pointwise ? nullptr : col + CKO;
    T *dwp = dw_part.data() + ch * WS, *dbp = db_part.data() + ch * F;
    for (int64_t i = b; i < e; ++i) {
      const T *xi = x + i * C * I, *dyi = dy + i * F * O;
      T *dxi = dx + i * C * I;
      const T *ci = xi;
      if (!pointwise) {
        nn::im2col(xi, g, col);
        ci = col;
      }
      T *dci = pointwise ? dxi : dcol;
      for (int64_t gr = 0; gr < G; ++gr) {
        // dW[g] += dY[g] (Fg x O) * col[g]^T (O x CK)
        gemm(false, true, Fg, CK, O, T(1), dyi + gr * Fg * O, O, ci + gr * CK * O, O, T(1), dwp + gr * Fg * CK, CK);
        // dcol[g] = W[g]^T (CK x Fg) * dY[g] (Fg x O)
        if (need_dx)
          gemm(true, false, CK, O, Fg, T(1), w + gr * Fg * CK, CK, dyi + gr * Fg * O, O, T(0), dci + gr * CK * O, O);
      }
      if (!pointwise && need_dx) {
        std::memset(dxi, 0, sizeof(T) * static_cast<size_t>(C * I));
        nn::col2im(dcol, g, dxi);
      }
      if (db)
        for (int64_t f = 0; f < F; ++f) {
          const T *row = dyi + f * O;
          T s = 0;
          for (int64_t o = 0; o < O; ++o) s += row[o];
          dbp[f] += s;
        }
    }
  });
  nn::sum_chunk_partials(dw_part, chunks, WS, dw);
  if (db) nn::sum_chunk_partials(db_part, chunks, F, db);
}

// GPU kernels: cuDNN (backends/cuda/cudnn_conv.cc) on the geometry the CPU kernels use.
// bfloat16 (cpu_dtypes): oneDNN's bf16 convolution (f32 accumulation inside), else the float32
// kernel on converted copies.
void conv_forward_bf16(const OpCall &c, bool relu) {
  const auto &p = c.p<ConvParam>();
  const NDArray &data = c.inputs[0];
  onednn::ConvShape sh = onednn_shape(p, conv_geom(p, data.shape(), "Convolution"), data.shape()[0]);
  sh.bf16 = true;
  if (onednn::conv_forward(sh, data.craw(), c.inputs[1], p.no_bias ? nullptr : c.inputs[2].craw(), c.outputs[0].raw(),
                           relu))
    return;
  run_via_f32(c, [relu](const OpCall &c32) { conv_forward<float>(c32, relu); });
}

void conv_backward_bf16(const OpCall &c) {
  const auto &p = c.p<ConvParam>();
  const NDArray &gy = c.inputs[0], &data = c.inputs[1];
  onednn::ConvShape sh = onednn_shape(p, conv_geom(p, data.shape(), "_backward_Convolution"), data.shape()[0]);
  sh.bf16 = true;
  if (onednn::conv_backward(sh, data.craw(), c.inputs[2], gy.craw(), c.needed(0) ? c.outputs[0].raw() : nullptr,
                            c.outputs[1].raw(), p.no_bias ? nullptr : c.outputs[2].raw()))
    return;
  run_via_f32(c, conv_backward<float>);
}

cudnn::ConvSpec cudnn_spec(const ConvParam &p, const Geom &g, int64_t N) {
  return nn::cudnn_conv_spec(g, N, g.channels, p.num_filter, p.num_group, p.cudnn_tune, p.workspace);
}

void conv_forward_gpu(const OpCall &c) {
  const auto &p = c.p<ConvParam>();
  const NDArray &data = c.inputs[0];
  const Geom g = conv_geom(p, data.shape(), "Convolution");
  cudnn::conv_forward("Convolution", cudnn_spec(p, g, data.shape()[0]), data, c.inputs[1],
                      p.no_bias ? nullptr : &c.inputs[2], c.outputs[0]);
}

void conv_backward_gpu(const OpCall &c) {
  const auto &p = c.p<ConvParam>();
  const NDArray &data = c.inputs[1];
  const Geom g = conv_geom(p, data.shape(), "_backward_Convolution");
  cudnn::conv_backward("_backward_Convolution", cudnn_spec(p, g, data.shape()[0]), c.inputs[0], data, c.inputs[2],
                       c.needed(0) ? &c.outputs[0] : nullptr, c.outputs[1], p.no_bias ? nullptr : &c.outputs[2]);
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
        if (c.inputs[0].dtype() == DType::bf16) return conv_forward_bf16(c, false);
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "Convolution", { conv_forward<T>(c, false); });
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(conv_forward_gpu))
      .gpu_dtypes({DType::f16, DType::bf16})  // cuDNN: 16-bit data, float32 accumulation (bf16: sm_80+)
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        auto gs = b.emit_skipping(&Registry::get().require("_backward_Convolution"), n.params,
                                  {n.out_grads[0], n.inputs[0], n.inputs[1]}, {!n.needs(0), false, false});
        std::vector<Var> r{gs[0], gs[1]};
        if (!n.p<ConvParam>().no_bias) r.push_back(gs[2]);
        return r;
      });
  // The executor's Convolution + Activation(relu) fusion (graph/executor_fuse.cc): one step,
  // and on oneDNN no separate pass over the output.
  MX_REGISTER_OP(_fused_Convolution_relu)
      .doc("Convolution followed by relu, as one step (made by the executor's fusion pass).")
      .params<ConvParam>()
      .inputs({"data", "weight", "bias"})
      .inputs_fn(conv_inputs)
      .shape(conv_shape)
      .cpu([](const OpCall &c) {
        if (c.inputs[0].dtype() == DType::bf16) return conv_forward_bf16(c, true);
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_fused_Convolution_relu", { conv_forward<T>(c, true); });
      })
      .cpu_dtypes({DType::bf16})
      .no_grad();
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
        if (c.inputs[0].dtype() == DType::bf16) return conv_backward_bf16(c);
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_Convolution", { conv_backward<T>(c); });
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(conv_backward_gpu))
      .gpu_dtypes({DType::f16, DType::bf16})  // cuDNN: 16-bit data, float32 accumulation (bf16: sm_80+)
      .no_grad();
  return 0;
}();

}  // namespace
}  // namespace mx
