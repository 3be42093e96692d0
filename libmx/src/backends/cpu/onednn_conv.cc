#include "backends/cpu/onednn_conv.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "backends/cpu/lane_sums.h"
#include "backends/cpu/onednn.h"
#include "backends/cpu/parallel.h"
#include "base/half.h"

namespace mx {
namespace onednn {

#ifdef MX_HAVE_ONEDNN
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct ConvDims {
  memory::dims src, wei, bias, dst, strides, dilates, pad_l, pad_r;
};

ConvDims conv_dims(const ConvShape &sh) {
  ConvDims d;
  d.src = {sh.N, sh.C};
  d.dst = {sh.N, sh.F};
  if (sh.G > 1) d.wei = {sh.G, sh.F / sh.G, sh.C / sh.G};
  else d.wei = {sh.F, sh.C};
  d.bias = {sh.F};
  for (size_t i = 0; i < sh.k.size(); ++i) {
    d.src.push_back(sh.in[i]);
    d.dst.push_back(sh.out[i]);
    d.wei.push_back(sh.k[i]);
    d.strides.push_back(sh.s[i]);
    d.dilates.push_back(sh.d[i] - 1);  // oneDNN counts the gaps between taps
    d.pad_l.push_back(sh.p[i]);
    // MX pads both sides by p and drops the incomplete last window. The right padding the last
    // window really reads lets oneDNN skip the unused tail; when that is negative (the window
    // stops before the input's end) p itself is given, which oneDNN's floor division accepts.
    const int64_t used = (sh.out[i] - 1) * sh.s[i] + sh.d[i] * (sh.k[i] - 1) + 1 - sh.in[i] - sh.p[i];
    d.pad_r.push_back(used >= 0 ? used : sh.p[i]);
  }
  return d;
}

// Kernel taps that read only padding. On small maps some taps never meet the input for any
// output position: a 3x3 pad-1 layer on a 1x1 map (ResNet-18's last stage at 32x32) sees its
// input only through the centre tap, the other 8 multiply zeros. oneDNN computes and stores the
// whole kernel anyway: that layer's weight gradient took 4x its forward, and its three weight
// reorders a step (forward, backward-data, gradient back to plain) moved 9x the bytes that matter.
// Such a layer runs as the convolution with the kernel cropped to the taps that can meet the
// input (padding shifted to match): the weight is read through a strided view of the full plain
// array, and the weight gradient of the cropped taps is written through the same view, the rest
// zero (their exact gradient). MX_ONEDNN_CROP_TAPS=0 runs the full kernel.
struct TapCrop {
  bool cropped = false;
  ConvShape run;              // the shape that runs (sh itself when nothing is cropped)
  memory::dims first;         // per spatial axis, the first tap kept
};

bool crop_enabled() {
  static const bool on = [] {
    const char *e = std::getenv("MX_ONEDNN_CROP_TAPS");
    return !(e && e[0] == '0');
  }();
  return on;
}

TapCrop crop_taps(const ConvShape &sh) {
  TapCrop c;
  c.run = sh;
  if (!crop_enabled()) return c;
  for (size_t i = 0; i < sh.k.size(); ++i) {
    const int64_t K = sh.k[i], s = sh.s[i], d = sh.d[i], p = sh.p[i], in = sh.in[i], out = sh.out[i];
    int64_t lo = -1, hi = -1;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t off = k * d - p;                        // input index tap k reads for output 0
      const int64_t o = off >= 0 ? 0 : (-off + s - 1) / s;  // first output where it is >= 0
      if (o < out && o * s + off < in) {
        if (lo < 0) lo = k;
        hi = k;
      }
    }
    if (lo < 0) return TapCrop{false, sh, {}};  // no tap meets the input: nothing to gain
    const int64_t kc = hi - lo + 1, pc = p - lo * d;
    // The cropped layer must give the same output size with non-negative padding (conv_dims'
    // right padding rule); with dilation the shifted padding can go negative: keep the full kernel.
    const int64_t span = d * (kc - 1) + 1, pr = (out - 1) * s + span - in - pc;
    const bool same_out = pr >= 0 || (in + 2 * pc - span >= 0 && (in + 2 * pc - span) / s + 1 == out);
    if (pc < 0 || !same_out) return TapCrop{false, sh, {}};
    c.first.push_back(lo);
    c.run.k[i] = kc;
    c.run.p[i] = pc;
    if (kc != K) c.cropped = true;
  }
  if (!c.cropped) c.run = sh;
  return c;
}

// The cropped weight as a view of the full plain weight array (or the full array itself).
memory::desc weight_view(const ConvShape &sh, const TapCrop &c, dt t) {
  const memory::desc full = plain_md(conv_dims(sh).wei, t);
  if (!c.cropped) return full;
  const memory::dims sub = conv_dims(c.run).wei;
  memory::dims offsets(sub.size(), 0);
  for (size_t i = 0; i < c.first.size(); ++i) offsets[sub.size() - c.first.size() + i] = c.first[i];
  return full.submemory_desc(sub, offsets);
}

Key conv_key(const char *op, const ConvShape &sh, bool bias) {
  Key k(op);
  k.add(sh.N).add(sh.C).add(sh.F).add(sh.G).add(sh.in).add(sh.k).add(sh.s).add(sh.d).add(sh.p).add(bias ? 1 : 0);
  k.add(sh.bf16 ? 1 : 0).add(sh.training ? 1 : 0).add(sync_threads());
  return k;
}

dt data_type(const ConvShape &sh) { return sh.bf16 ? dt::bf16 : dt::f32; }
memory::desc any(const memory::dims &d, dt t) { return memory::desc(d, t, tag::any); }

// Image layers (1-3 input channels a group, not depthwise) read their input plain (nchw) and
// write nChw16c: left to choose, oneDNN 2.6 takes both channels-last with its brgemm kernel,
// which ran the Gluon CNN's 1-channel 5x5 layer 1.7x slower, ResNet's 3-channel 7x7 stem 6% and
// MobileNet's 3x3 stem 20% slower (forward + weight gradient) than the direct kernel.
// MX_ONEDNN_PLAIN_IMAGE_SRC=0 leaves the choice to oneDNN.
bool image_layer(const ConvShape &sh) {
  static const bool on = [] {
    const char *e = std::getenv("MX_ONEDNN_PLAIN_IMAGE_SRC");
    return !(e && e[0] == '0');
  }();
  // Only with whole 16-channel blocks of outputs: nChw16c pads the rest (LeNet's 20 channels
  // would compute 32).
  return on && sh.C / sh.G < 4 && !(sh.G > 1 && sh.G == sh.C && sh.F % sh.G == 0) && sh.F % 16 == 0;
}

// Layouts asked of oneDNN: its own choice, an image layer's (nchw in, nChw16c out), or nChw16c
// in and out (small maps, below).
enum class ConvLayouts { kAny, kImage, kBlocked16 };

// Layers with small output maps (at most 128 positions: 11x11 and smaller, every body layer of a
// 32x32 ResNet, ResNet's 7x7 stage) take nChw16c in and out, oneDNN's direct kernel: its
// channels-last brgemm kernel gains nothing on so few positions, and a 16-channel-blocked chain
// needs no reorders after an image layer. Measured (1 thread, CPU time, alternating runs):
// ResNet-18 32x32 batch-64 inference ~20% and training ~5% faster; the Gluon CNN's 10x10 layer
// forward 1.3x faster, and its 128x16x12x12 reorders (0.3 ms a step) gone.
// MX_ONEDNN_BLOCKED16_MAX_POSITIONS sets the bound (0: oneDNN chooses everywhere).
int64_t blocked16_max_positions() {
  static const int64_t v = [] {
    const char *e = std::getenv("MX_ONEDNN_BLOCKED16_MAX_POSITIONS");
    return e ? std::atoll(e) : int64_t(128);
  }();
  return v;
}

bool small_maps(const ConvShape &sh) {
  int64_t positions = 1;
  for (int64_t o : sh.out) positions *= o;
  // Whole 16-channel blocks only (a padded block computes zeros: LeNet's 50 channels would be 64).
  return positions <= blocked16_max_positions() && sh.G == 1 && sh.C % 16 == 0 && sh.F % 16 == 0;
}

// 3x3 stride-1 layers (ResNet's body, conv_large) run oneDNN's Winograd F(4x4, 3x3) kernels in
// float32: forward, data and weight gradients 1.6-2.6x faster than its direct kernels on one
// thread (ResNet-50's 56x56..7x7 layers, batch 32; 8x8 maps too), at the cost of rounding: errors
// ~1e-5 of the output's scale instead of ~1e-6 (cuDNN's Winograd, which MXNet's GPU autotuning
// picks, trades the same way). MX_ONEDNN_WINOGRAD=0 keeps the direct kernels.
bool winograd_enabled() {
  static const bool on = [] {
    const char *e = std::getenv("MX_ONEDNN_WINOGRAD");
    return !(e && e[0] == '0');
  }();
  return on;
}

bool winograd_shape(const ConvShape &sh) {
  if (!winograd_enabled() || sh.bf16 || sh.G != 1 || sh.k.size() != 2 || sh.C % 16 || sh.F % 16) return false;
  for (size_t i = 0; i < 2; ++i)
    if (sh.k[i] != 3 || sh.s[i] != 1 || sh.d[i] != 1 || sh.out[i] < 4) return false;
  return true;
}

bool is_winograd(const std::string &impl) { return impl.find("wino") != std::string::npos; }

dnnl::convolution_forward::desc fwd_desc(dnnl::prop_kind pk, const ConvDims &d, bool bias, dt t, ConvLayouts l,
                                         dnnl::algorithm alg = dnnl::algorithm::convolution_direct) {
  const tag blocked16 = d.dst.size() == 3 ? tag::aBc16b : d.dst.size() == 4 ? tag::aBcd16b : tag::aBcde16b;
  const memory::desc src = l == ConvLayouts::kImage ? plain_md(d.src, t)
                           : l == ConvLayouts::kBlocked16 ? memory::desc(d.src, t, blocked16) : any(d.src, t);
  const memory::desc dst = l == ConvLayouts::kAny ? any(d.dst, t) : memory::desc(d.dst, t, blocked16);
  if (bias)
    return dnnl::convolution_forward::desc(pk, alg, src, any(d.wei, t), memory::desc(d.bias, t, tag::x), dst,
                                           d.strides, d.dilates, d.pad_l, d.pad_r);
  return dnnl::convolution_forward::desc(pk, alg, src, any(d.wei, t), dst, d.strides, d.dilates, d.pad_l, d.pad_r);
}

bool slow_impl(const std::string &impl) {
  return impl.find("ref") != std::string::npos || impl.find("gemm") != std::string::npos;
}

// The forward primitive descriptor: an image layer's or a small-map layer's fixed layouts where
// oneDNN has an optimized kernel for them, else its own choice (the backward asks the same, so
// both agree on layouts).
dnnl::convolution_forward::primitive_desc fwd_pd(dnnl::prop_kind pk, const ConvShape &sh, const ConvDims &d,
                                                 bool bias, const dnnl::primitive_attr &attr = {}) {
  const dt t = data_type(sh);
  if (winograd_shape(sh)) {  // in the layouts the Winograd kernel wants
    try {
      dnnl::convolution_forward::primitive_desc pd(
          fwd_desc(pk, d, bias, t, ConvLayouts::kAny, dnnl::algorithm::convolution_winograd), attr, engine());
      if (is_winograd(pd.impl_info_str())) return pd;
    } catch (const dnnl::error &) {
    }
  }
  const ConvLayouts want = image_layer(sh) ? ConvLayouts::kImage
                           : small_maps(sh)  ? ConvLayouts::kBlocked16
                                             : ConvLayouts::kAny;
  if (want != ConvLayouts::kAny) {
    try {
      dnnl::convolution_forward::primitive_desc pd(fwd_desc(pk, d, bias, t, want), attr, engine());
      if (!slow_impl(pd.impl_info_str())) return pd;
    } catch (const dnnl::error &) {
    }
  }
  return dnnl::convolution_forward::primitive_desc(fwd_desc(pk, d, bias, t, ConvLayouts::kAny), attr, engine());
}

struct ConvFwd {
  dnnl::convolution_forward prim;
  Reorder src, wei, dst;  // plain -> blocked for src and wei; blocked -> plain for dst
  memory::desc bias;
};

struct ConvBwd {
  dnnl::convolution_backward_data data_prim;
  dnnl::convolution_backward_weights wei_prim;
  Reorder dy_data, wei;                        // inputs of the data gradient
  Reorder src, dy_wei;                         // inputs of the weight gradient
  Reorder dsrc, dwei;                          // outputs back to plain
  bool cropped = false;                        // dead taps (crop_taps): dw is zeroed, then the view written
};

// db[f] = sum of dy over samples and positions, accumulated in double in independent lanes
// (backends/cpu/lane_sums.h: a single chain ran at one add per 4 cycles, 1 ms for the
// 1.2M-element gradient of a 16x24x24 layer at batch 128). The AVX2 clone and the baseline (SSE2)
// code add the same elements in the same order, so both give the same bits.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("avx2", "default")))
#endif
void add_row(const float *row, int64_t O, LaneSums &acc) {
  lane_add(acc, O, [row](int64_t i) { return static_cast<double>(row[i]); });
}

// bfloat16 rows: the same sum over the widened values (exact: every bf16 is a float).
void add_row(const bf16_t *row, int64_t O, LaneSums &acc) {
  lane_add(acc, O, [row](int64_t i) { return static_cast<double>(static_cast<float>(row[i])); });
}

template <typename T> void sum_bias(const ConvShape &sh, const T *dy, T *db) {
  int64_t O = 1;
  for (int64_t o : sh.out) O *= o;
  parallel_for(sh.F, 1, [&](int64_t b, int64_t e) {
    for (int64_t f = b; f < e; ++f) {
      LaneSums acc;
      for (int64_t n = 0; n < sh.N; ++n) add_row(dy + (n * sh.F + f) * O, O, acc);
      db[f] = static_cast<T>(static_cast<float>(acc.total()));
    }
  });
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MX_BIAS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MX_BIAS_CLONES
#endif

// out[j] = sum over n < N, o < O of p[n * sN + o * B + j], j < 8, in double: four chains over the
// positions (o mod 4; a short row's tail goes to chain 0) summed as (c0 + c1) + (c2 + c3). One
// chain per lane ran at one add per 4 cycles (the bias gradient took 4.5% of the Gluon CNN step);
// four fill the vector adder. Adds only, in a fixed order: every clone gives the same bits.
typedef float F8 __attribute__((vector_size(32)));
typedef double D8 __attribute__((vector_size(64)));
// c += the 8 floats at p, widened (by reference: a vector return would change the ABI per clone).
inline void add8(D8 &c, const float *p) {
  F8 v;
  std::memcpy(&v, p, sizeof v);
  c += __builtin_convertvector(v, D8);
}

MX_BIAS_CLONES void sum_lanes8(const float *y, int64_t N, int64_t sN, int64_t O, int64_t B, double *out) {
  D8 c0 = {}, c1 = {}, c2 = {}, c3 = {};  // GCC's vector extension: one zmm each with AVX-512
  for (int64_t n = 0; n < N; ++n) {
    const float *p = y + n * sN;
    int64_t o = 0;
    for (; o + 4 <= O; o += 4, p += 4 * B) {
      add8(c0, p);
      add8(c1, p + B);
      add8(c2, p + 2 * B);
      add8(c3, p + 3 * B);
    }
    for (; o < O; ++o, p += B) add8(c0, p);
  }
  const D8 t = (c0 + c1) + (c2 + c3);
  std::memcpy(out, &t, sizeof t);
}

// The bias gradient from a blocked dy (the executor kept it blocked, onednn.h): when the layout
// is N, C/B, spatial..., B (nChw16c and alike, channels padded to B), each channel block sums its
// B lanes in double; any other layout is written plain first.
void sum_bias_blocked(const ConvShape &sh, const Layout &l, const void *dy, float *db, Scratch &s) {
  const memory::desc &md = l.to_plain.from;
  const auto &bk = md.data.format_desc.blocking;
  const int nd = md.data.ndims;
  bool simple = md.data.format_kind == dnnl_blocked && bk.inner_nblks == 1 && bk.inner_idxs[0] == 1 &&
                md.data.offset0 == 0;
  if (simple) {  // the outer strides must be the dense ones of N, C/B, spatial (times B)
    int64_t expect = bk.inner_blks[0];
    for (int i = nd - 1; i >= 2 && simple; --i) {
      simple = bk.strides[i] == expect;
      expect *= md.data.padded_dims[i];
    }
    simple = simple && bk.strides[1] == expect;
  }
  // Channels last (nhwc, ...): one block of all F channels per position.
  bool last = md.data.format_kind == dnnl_blocked && bk.inner_nblks == 0 && md.data.offset0 == 0 &&
              bk.strides[1] == 1;
  if (last) {
    int64_t expect = sh.F;
    for (int i = nd - 1; i >= 2 && last; --i) {
      last = bk.strides[i] == expect;
      expect *= md.data.dims[i];
    }
    last = last && bk.strides[0] == expect;
  }
  if (!simple && !last) {
    memory plain = s.buffer(l.to_plain.to);
    blocked_to_plain(l, dy, plain.get_data_handle());
    sum_bias(sh, static_cast<const float *>(plain.get_data_handle()), db);
    return;
  }
  const int64_t B = last ? sh.F : bk.inner_blks[0], CB = (sh.F + B - 1) / B, sN = bk.strides[0],
                sC = last ? 0 : bk.strides[1];
  int64_t O = 1;
  for (int64_t o : sh.out) O *= o;
  const float *y = static_cast<const float *>(dy);
  // Work units of 8 lanes of one block (nhwc has a single block of all F channels), so threads
  // share it; each channel is summed in the same order whatever the thread count.
  constexpr int64_t kLanesPerUnit = 8;
  const int64_t S = (B + kLanesPerUnit - 1) / kLanesPerUnit;
  parallel_for(CB * S, 1, [&](int64_t b, int64_t e) {
    double acc[kLanesPerUnit];
    for (int64_t u = b; u < e; ++u) {
      const int64_t cb = u / S, j0 = (u % S) * kLanesPerUnit, nj = std::min(kLanesPerUnit, B - j0);
      std::fill(acc, acc + kLanesPerUnit, 0.0);
      if (nj == kLanesPerUnit) sum_lanes8(y + cb * sC + j0, sh.N, sN, O, B, acc);
      else for (int64_t n = 0; n < sh.N; ++n) {
        const float *p = y + n * sN + cb * sC + j0;
        for (int64_t o = 0; o < O; ++o, p += B)
          for (int64_t j = 0; j < nj; ++j) acc[j] += static_cast<double>(p[j]);
      }
      for (int64_t j = 0; j < nj && cb * B + j0 + j < sh.F; ++j) db[cb * B + j0 + j] = static_cast<float>(acc[j]);
    }
  });
}

}  // namespace

bool conv_forward(const ConvShape &sh, const void *x, const NDArray &w, const void *b, void *y, bool relu) {
  if (!enabled() || sh.N * sh.C * sh.F == 0) return false;  // empty arrays: MX's kernel
  const bool has_bias = b != nullptr;
  auto plan = cached<ConvFwd>(conv_key(relu ? "conv_fwd_relu" : "conv_fwd", sh, has_bias).str(),
                              [&]() -> std::shared_ptr<ConvFwd> {
    const TapCrop crop = crop_taps(sh);
    const ConvShape &run = crop.run;
    ConvDims d = conv_dims(run);
    const dt t = data_type(sh);
    try {
      dnnl::primitive_attr attr;
      if (relu) {  // applied to the blocked result before the reorder back: no extra pass over y
        dnnl::post_ops po;
        po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
        attr.set_post_ops(po);
      }
      const auto pk = sh.training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
      dnnl::convolution_forward::primitive_desc pd = fwd_pd(pk, run, d, has_bias, attr);
      auto p = std::make_shared<ConvFwd>();
      p->prim = dnnl::convolution_forward(pd);
      p->src = Reorder(plain_md(d.src, t), pd.src_desc());
      p->wei = Reorder(weight_view(sh, crop, t), pd.weights_desc());
      p->dst = Reorder(pd.dst_desc(), plain_md(d.dst, t));
      if (has_bias) p->bias = pd.bias_desc();
      return p;
    } catch (const dnnl::error &) {
      return nullptr;  // unimplemented here: MX's kernel runs
    }
  });
  if (!plan) return false;
  Scratch s;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, s.input(plan->src, x)},
                                       {DNNL_ARG_WEIGHTS, s.weight(plan->wei, w)},
                                       {DNNL_ARG_DST, s.output(plan->dst, y)}};
  if (has_bias) args.emplace(DNNL_ARG_BIAS, memory(plan->bias, engine(), const_cast<void *>(b)));
  execute(plan->prim, args, "convolution forward");
  s.finish_outputs();
  return true;
}

bool conv_backward(const ConvShape &sh, const void *x, const NDArray &w, const void *dy, void *dx, void *dw,
                   void *db) {
  if (!enabled() || sh.N * sh.C * sh.F == 0) return false;  // empty arrays: MX's kernel
  // oneDNN's data gradient pads the channels of a group to its SIMD block: with 1-3 input
  // channels (an image layer) it measured 5-10x slower than MX's col2im (128x1x28x28, 5x5x16).
  // Such layers rarely need it (the data gradient of a first layer is skipped). Depthwise layers
  // (one input channel per group) are the exception: oneDNN has kernels of their own, 2.1x
  // faster than MX's for MobileNet v2's 3x3 layer (16x96x48x48 fwd+bwd: 20.4 against 42.6 ms).
  const bool depthwise = sh.G > 1 && sh.G == sh.C && sh.F % sh.G == 0;
  if (dx && sh.C / sh.G < 4 && !depthwise) return false;
  const bool has_bias = db != nullptr;
  // x or dy kept blocked by the executor (they come in the forward's layouts): the plan that
  // takes those layouts as they are.
  const bool from_fwd = blocked_input(x) || blocked_input(dy);
  auto plan = cached<ConvBwd>(conv_key(from_fwd ? "conv_bwd_fwd_layouts" : "conv_bwd", sh, has_bias).str(),
                              [&]() -> std::shared_ptr<ConvBwd> {
    const TapCrop crop = crop_taps(sh);  // as the forward (same shape, same crop)
    const ConvShape &run = crop.run;
    ConvDims d = conv_dims(run);
    const dt t = data_type(sh);
    try {
      dnnl::convolution_forward::primitive_desc hint = fwd_pd(dnnl::prop_kind::forward_training, run, d, has_bias);
      // from_fwd: the gradients take the activations in the layouts the forward gives them
      // (graph/executor_blocked.cc keeps those between steps). Left to choose, oneDNN picked
      // nChw16c for the backward where its forward makes nhwc: two reorders per step, 24% of the
      // Gluon CNN step's oneDNN time. For plain arrays oneDNN chooses (its own choice measured
      // 9% faster on conv_large_fwdbwd, 64x64x56x56), and also where no optimized kernel takes
      // the forward's layouts.
      // (conv_forward's choice in a training step: forward_training, as the hint)
      const dnnl::convolution_forward::primitive_desc &fwd = hint;
      // The gradients run the forward's algorithm (Winograd or direct, fwd_pd's choice).
      const dnnl::algorithm alg = is_winograd(hint.impl_info_str()) ? dnnl::algorithm::convolution_winograd
                                                                    : dnnl::algorithm::convolution_direct;
      auto make = [&](bool fwd_layouts) {
        const memory::desc src = fwd_layouts ? fwd.src_desc() : any(d.src, t);
        const memory::desc dst = fwd_layouts ? fwd.dst_desc() : any(d.dst, t);
        dnnl::convolution_backward_data::primitive_desc dp(
            dnnl::convolution_backward_data::desc(alg, src, any(d.wei, t), dst,
                                                  d.strides, d.dilates, d.pad_l, d.pad_r),
            engine(), hint);
        // The bias gradient is summed here (sum_bias below), not by oneDNN: its float sum over
        // N x spatial terms drifted 1e-5 relative, enough to move a 2-epoch LeNet retraining off
        // MXNet's parameters (tests/python/test_module.py).
        dnnl::convolution_backward_weights::primitive_desc wp(
            dnnl::convolution_backward_weights::desc(alg, src, any(d.wei, t), dst,
                                                     d.strides, d.dilates, d.pad_l, d.pad_r),
            engine(), hint);
        return std::make_pair(dp, wp);
      };
      std::pair<dnnl::convolution_backward_data::primitive_desc, dnnl::convolution_backward_weights::primitive_desc>
          pds;
      bool same = false;
      try {
        if (from_fwd) {
          pds = make(true);
          same = !slow_impl(pds.first.impl_info_str()) && !slow_impl(pds.second.impl_info_str());
        }
      } catch (const dnnl::error &) {
      }
      if (!same) pds = make(false);
      const auto &dpd = pds.first;
      const auto &wpd = pds.second;
      auto p = std::make_shared<ConvBwd>();
      p->data_prim = dnnl::convolution_backward_data(dpd);
      p->wei_prim = dnnl::convolution_backward_weights(wpd);
      p->dy_data = Reorder(plain_md(d.dst, t), dpd.diff_dst_desc());
      p->wei = Reorder(weight_view(sh, crop, t), dpd.weights_desc());
      p->dsrc = Reorder(dpd.diff_src_desc(), plain_md(d.src, t));
      p->src = Reorder(plain_md(d.src, t), wpd.src_desc());
      p->dy_wei = Reorder(plain_md(d.dst, t), wpd.diff_dst_desc());
      p->dwei = Reorder(wpd.diff_weights_desc(), weight_view(sh, crop, t));
      p->cropped = crop.cropped;
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  if (plan->cropped) {  // the taps outside the view get their gradient, zero
    size_t n = static_cast<size_t>(sh.F * (sh.C / sh.G)) * (sh.bf16 ? sizeof(bf16_t) : sizeof(float));
    for (int64_t k : sh.k) n *= static_cast<size_t>(k);
    std::memset(dw, 0, n);
  }
  Scratch s;
  memory dy_w = s.input(plan->dy_wei, dy);
  std::unordered_map<int, memory> wargs{{DNNL_ARG_SRC, s.input(plan->src, x)},
                                        {DNNL_ARG_DIFF_DST, dy_w},
                                        {DNNL_ARG_DIFF_WEIGHTS, s.output(plan->dwei, dw)}};
  execute(plan->wei_prim, wargs, "convolution backward (weights)");
  if (has_bias) {
    if (sh.bf16) {
      const void *plain_dy = dy;
      if (const StepLayouts::In *bi = blocked_input(dy)) {  // a bf16 dy the executor kept blocked
        memory plain = s.buffer(bi->layout->to_plain.to);
        blocked_to_plain(*bi->layout, bi->blocked, plain.get_data_handle());
        plain_dy = plain.get_data_handle();
      }
      sum_bias(sh, static_cast<const bf16_t *>(plain_dy), static_cast<bf16_t *>(db));
    }
    else if (const StepLayouts::In *bi = blocked_input(dy))
      sum_bias_blocked(sh, *bi->layout, bi->blocked, static_cast<float *>(db), s);
    else sum_bias(sh, static_cast<const float *>(dy), static_cast<float *>(db));
  }
  if (dx) {
    // Both gradients usually want dy in the same blocked layout: reorder it once.
    memory dy_d = plan->dy_data.to == plan->dy_wei.to ? dy_w : s.input(plan->dy_data, dy);
    execute(plan->data_prim,
            {{DNNL_ARG_DIFF_DST, dy_d}, {DNNL_ARG_WEIGHTS, s.weight(plan->wei, w)},
             {DNNL_ARG_DIFF_SRC, s.output(plan->dsrc, dx)}},
            "convolution backward (data)");
  }
  s.finish_outputs();
  return true;
}

#else  // built without oneDNN: MX's kernels run

bool conv_forward(const ConvShape &, const void *, const NDArray &, const void *, void *, bool) { return false; }
bool conv_backward(const ConvShape &, const void *, const NDArray &, const void *, void *, void *, void *) {
  return false;
}

#endif

}  // namespace onednn
}  // namespace mx
