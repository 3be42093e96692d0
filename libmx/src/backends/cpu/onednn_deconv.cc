#include "backends/cpu/onednn_deconv.h"

#include <algorithm>
#include <string>

#include "backends/cpu/onednn.h"

namespace mx {
namespace onednn {

#ifdef MX_HAVE_ONEDNN
namespace {

using dnnl::memory;
using dt = memory::data_type;

struct DeconvDims {
  memory::dims src, wei, bias, dst, strides, dilates, pad_l, pad_r;
  memory::dims wei_strides;  // MX's (C, F/G, k...) storage of the logical (G,) F/G, C/G, k... weight
};

// oneDNN's output size: s*(in-1) + (k-1)*dil+1 - pad_l - pad_r, checked by floor division, so MX's
// adj (extra positions on the right, which no window reaches beyond pad - adj) becomes a smaller
// right padding; where pad < adj the right padding is 0 and the rest of adj (less than the
// stride) is the remainder the division drops.
bool deconv_dims(const DeconvShape &sh, DeconvDims *d) {
  const int64_t Cg = sh.C / sh.G, Fg = sh.F / sh.G;
  int64_t K = 1;
  for (int64_t k : sh.k) K *= k;
  d->src = {sh.N, sh.C};
  d->dst = {sh.N, sh.F};
  d->bias = {sh.F};
  if (sh.G > 1) {
    d->wei = {sh.G, Fg, Cg};
    d->wei_strides = {Cg * Fg * K, K, Fg * K};
  } else {
    d->wei = {sh.F, sh.C};
    d->wei_strides = {K, sh.F * K};
  }
  int64_t ks = K;
  for (size_t i = 0; i < sh.k.size(); ++i) {
    d->src.push_back(sh.in[i]);
    d->dst.push_back(sh.out[i]);
    d->wei.push_back(sh.k[i]);
    ks /= sh.k[i];
    d->wei_strides.push_back(ks);
    d->strides.push_back(sh.s[i]);
    d->dilates.push_back(sh.d[i] - 1);
    d->pad_l.push_back(sh.pad[i]);
    const int64_t pr = std::max<int64_t>(sh.pad[i] - sh.adj[i], 0);
    if (pr - sh.pad[i] + sh.adj[i] >= sh.s[i]) return false;  // the floor division would not give `out`
    d->pad_r.push_back(pr);
  }
  return true;
}

Key deconv_key(const char *op, const DeconvShape &sh, bool bias) {
  Key k(op);
  k.add(sh.N).add(sh.C).add(sh.F).add(sh.G).add(sh.in).add(sh.out).add(sh.k).add(sh.s).add(sh.d).add(sh.pad);
  k.add(sh.adj).add(bias ? 1 : 0).add(sync_threads());
  return k;
}

memory::desc any(const memory::dims &d) { return memory::desc(d, dt::bf16, memory::format_tag::any); }

struct DeconvFwd {
  dnnl::deconvolution_forward prim;
  Reorder src, wei, dst;
  memory::desc bias;
};

struct DeconvBwd {
  dnnl::deconvolution_backward_data data_prim;
  dnnl::deconvolution_backward_weights wei_prim;
  Reorder dy_data, wei, dsrc;  // the data gradient's inputs and output
  Reorder src, dy_wei, dwei;   // the weight gradient's
};

dnnl::deconvolution_forward::primitive_desc fwd_pd(const DeconvDims &d, bool bias) {
  const auto pk = dnnl::prop_kind::forward_training;  // the backward's hint; the same kernels
  const auto alg = dnnl::algorithm::deconvolution_direct;
  if (bias)
    return {dnnl::deconvolution_forward::desc(pk, alg, any(d.src), any(d.wei),
                                              memory::desc(d.bias, dt::bf16, memory::format_tag::x), any(d.dst),
                                              d.strides, d.dilates, d.pad_l, d.pad_r),
            engine()};
  return {dnnl::deconvolution_forward::desc(pk, alg, any(d.src), any(d.wei), any(d.dst), d.strides, d.dilates,
                                            d.pad_l, d.pad_r),
          engine()};
}

}  // namespace

bool deconv_forward_bf16(const DeconvShape &sh, const void *x, const NDArray &w, const void *b, void *y) {
  if (!enabled() || sh.N * sh.C * sh.F == 0) return false;
  const bool has_bias = b != nullptr;
  auto plan = cached<DeconvFwd>(deconv_key("deconv_fwd", sh, has_bias).str(), [&]() -> std::shared_ptr<DeconvFwd> {
    DeconvDims d;
    if (!deconv_dims(sh, &d)) return nullptr;
    try {
      auto pd = fwd_pd(d, has_bias);
      auto p = std::make_shared<DeconvFwd>();
      p->prim = dnnl::deconvolution_forward(pd);
      p->src = Reorder(plain_md(d.src, dt::bf16), pd.src_desc());
      p->wei = Reorder(memory::desc(d.wei, dt::bf16, d.wei_strides), pd.weights_desc());
      p->dst = Reorder(pd.dst_desc(), plain_md(d.dst, dt::bf16));
      if (has_bias) p->bias = pd.bias_desc();
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  Scratch s;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, s.input(plan->src, x)},
                                       {DNNL_ARG_WEIGHTS, s.weight(plan->wei, w)},
                                       {DNNL_ARG_DST, s.output(plan->dst, y)}};
  if (has_bias) args.emplace(DNNL_ARG_BIAS, memory(plan->bias, engine(), const_cast<void *>(b)));
  execute(plan->prim, args, "deconvolution forward");
  s.finish_outputs();
  return true;
}

bool deconv_backward_bf16(const DeconvShape &sh, const void *x, const NDArray &w, const void *dy, void *dx,
                          void *dw) {
  if (!enabled() || sh.N * sh.C * sh.F == 0) return false;
  auto plan = cached<DeconvBwd>(deconv_key("deconv_bwd", sh, false).str(), [&]() -> std::shared_ptr<DeconvBwd> {
    DeconvDims d;
    if (!deconv_dims(sh, &d)) return nullptr;
    try {
      auto hint = fwd_pd(d, false);
      const auto alg = dnnl::algorithm::deconvolution_direct;
      dnnl::deconvolution_backward_data::primitive_desc dp(
          dnnl::deconvolution_backward_data::desc(alg, any(d.src), any(d.wei), any(d.dst), d.strides, d.dilates,
                                                  d.pad_l, d.pad_r),
          engine(), hint);
      dnnl::deconvolution_backward_weights::primitive_desc wp(
          dnnl::deconvolution_backward_weights::desc(alg, any(d.src), any(d.wei), any(d.dst), d.strides, d.dilates,
                                                     d.pad_l, d.pad_r),
          engine(), hint);
      auto p = std::make_shared<DeconvBwd>();
      p->data_prim = dnnl::deconvolution_backward_data(dp);
      p->wei_prim = dnnl::deconvolution_backward_weights(wp);
      const memory::desc mx_wei(d.wei, dt::bf16, d.wei_strides);
      p->dy_data = Reorder(plain_md(d.dst, dt::bf16), dp.diff_dst_desc());
      p->wei = Reorder(mx_wei, dp.weights_desc());
      p->dsrc = Reorder(dp.diff_src_desc(), plain_md(d.src, dt::bf16));
      p->src = Reorder(plain_md(d.src, dt::bf16), wp.src_desc());
      p->dy_wei = Reorder(plain_md(d.dst, dt::bf16), wp.diff_dst_desc());
      p->dwei = Reorder(wp.diff_weights_desc(), mx_wei);
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  Scratch s;
  memory dy_w = s.input(plan->dy_wei, dy);
  execute(plan->wei_prim,
          {{DNNL_ARG_SRC, s.input(plan->src, x)}, {DNNL_ARG_DIFF_DST, dy_w}, {DNNL_ARG_DIFF_WEIGHTS, s.output(plan->dwei, dw)}},
          "deconvolution backward (weights)");
  if (dx) {
    memory dy_d = plan->dy_data.to == plan->dy_wei.to ? dy_w : s.input(plan->dy_data, dy);
    execute(plan->data_prim,
            {{DNNL_ARG_DIFF_DST, dy_d}, {DNNL_ARG_WEIGHTS, s.weight(plan->wei, w)},
             {DNNL_ARG_DIFF_SRC, s.output(plan->dsrc, dx)}},
            "deconvolution backward (data)");
  }
  s.finish_outputs();
  return true;
}

#else  // built without oneDNN

bool deconv_forward_bf16(const DeconvShape &, const void *, const NDArray &, const void *, void *) { return false; }
bool deconv_backward_bf16(const DeconvShape &, const void *, const NDArray &, const void *, void *, void *) {
  return false;
}

#endif

}  // namespace onednn
}  // namespace mx
