#include "backends/cpu/onednn_ip.h"

#include "backends/cpu/onednn.h"

namespace mx {
namespace onednn {

#ifdef MX_HAVE_ONEDNN
namespace {

using dnnl::memory;
using dt = memory::data_type;

struct IPFwd {
  dnnl::inner_product_forward prim;
  Reorder wei;
  memory::desc src, bias, dst;
};

struct IPBwd {
  dnnl::inner_product_backward_data data_prim;
  dnnl::inner_product_backward_weights wei_prim;
  Reorder wei, dwei;
  memory::desc src, dst;
};

Key ip_key(const char *op, const IPShape &sh, bool bias) {
  Key k(op);
  k.add(sh.rows).add(sh.K).add(sh.M).add(bias ? 1 : 0).add(sh.bf16 ? 1 : 0).add(sync_threads());
  return k;
}

dt data_type(const IPShape &sh) { return sh.bf16 ? dt::bf16 : dt::f32; }

dnnl::inner_product_forward::desc fwd_desc(dnnl::prop_kind pk, const IPShape &sh, bool bias) {
  const dt t = data_type(sh);
  const memory::desc src = plain_md({sh.rows, sh.K}, t), dst = plain_md({sh.rows, sh.M}, t);
  const memory::desc wei({sh.M, sh.K}, t, memory::format_tag::any);
  if (bias) return dnnl::inner_product_forward::desc(pk, src, wei, plain_md({sh.M}, t), dst);
  return dnnl::inner_product_forward::desc(pk, src, wei, dst);
}

}  // namespace

bool ip_forward(const IPShape &sh, const void *x, const NDArray &w, const void *b, void *y, bool relu) {
  if (!enabled() || sh.rows * sh.K * sh.M == 0) return false;
  const bool has_bias = b != nullptr;
  auto plan = cached<IPFwd>(ip_key(relu ? "ip_fwd_relu" : "ip_fwd", sh, has_bias).str(), [&]() -> std::shared_ptr<IPFwd> {
    try {
      dnnl::primitive_attr attr;
      if (relu) {
        dnnl::post_ops po;
        po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
        attr.set_post_ops(po);
      }
      dnnl::inner_product_forward::primitive_desc pd(fwd_desc(dnnl::prop_kind::forward_inference, sh, has_bias), attr,
                                                     engine());
      const dt t = data_type(sh);
      // Data and result must be the plain layouts given (no reorder of activations).
      if (pd.src_desc() != plain_md({sh.rows, sh.K}, t) || pd.dst_desc() != plain_md({sh.rows, sh.M}, t))
        return nullptr;
      auto p = std::make_shared<IPFwd>();
      p->prim = dnnl::inner_product_forward(pd);
      p->wei = Reorder(plain_md({sh.M, sh.K}, t), pd.weights_desc());
      p->src = pd.src_desc();
      p->dst = pd.dst_desc();
      if (has_bias) p->bias = pd.bias_desc();
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  Scratch s;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(plan->src, engine(), const_cast<void *>(x))},
                                       {DNNL_ARG_WEIGHTS, s.weight(plan->wei, w)},
                                       {DNNL_ARG_DST, memory(plan->dst, engine(), y)}};
  if (has_bias) args.emplace(DNNL_ARG_BIAS, memory(plan->bias, engine(), const_cast<void *>(b)));
  execute(plan->prim, args, "inner product forward");
  return true;
}

bool ip_backward(const IPShape &sh, const void *x, const NDArray &w, const void *dy, void *dx, void *dw) {
  if (!enabled() || sh.rows * sh.K * sh.M == 0) return false;
  auto plan = cached<IPBwd>(ip_key("ip_bwd", sh, false).str(), [&]() -> std::shared_ptr<IPBwd> {
    try {
      const dt t = data_type(sh);
      const memory::desc src = plain_md({sh.rows, sh.K}, t), dst = plain_md({sh.rows, sh.M}, t);
      const memory::desc wei({sh.M, sh.K}, t, memory::format_tag::any);
      dnnl::inner_product_forward::primitive_desc hint(fwd_desc(dnnl::prop_kind::forward_training, sh, false),
                                                       engine());
      dnnl::inner_product_backward_data::primitive_desc dpd(dnnl::inner_product_backward_data::desc(src, wei, dst),
                                                            engine(), hint);
      dnnl::inner_product_backward_weights::primitive_desc wpd(
          dnnl::inner_product_backward_weights::desc(src, wei, dst), engine(), hint);
      if (dpd.diff_src_desc() != src || dpd.diff_dst_desc() != dst || wpd.src_desc() != src ||
          wpd.diff_dst_desc() != dst)
        return nullptr;
      auto p = std::make_shared<IPBwd>();
      p->data_prim = dnnl::inner_product_backward_data(dpd);
      p->wei_prim = dnnl::inner_product_backward_weights(wpd);
      p->wei = Reorder(plain_md({sh.M, sh.K}, t), dpd.weights_desc());
      p->dwei = Reorder(wpd.diff_weights_desc(), plain_md({sh.M, sh.K}, t));
      p->src = src;
      p->dst = dst;
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  Scratch s;
  const memory dym(plan->dst, engine(), const_cast<void *>(dy));
  execute(plan->wei_prim,
          {{DNNL_ARG_SRC, memory(plan->src, engine(), const_cast<void *>(x))},
           {DNNL_ARG_DIFF_DST, dym},
           {DNNL_ARG_DIFF_WEIGHTS, s.output(plan->dwei, dw)}},
          "inner product backward (weights)");
  if (dx)
    execute(plan->data_prim,
            {{DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_WEIGHTS, s.weight(plan->wei, w)},
             {DNNL_ARG_DIFF_SRC, memory(plan->src, engine(), dx)}},
            "inner product backward (data)");
  s.finish_outputs();
  return true;
}

#else  // built without oneDNN: MX's kernels run

bool ip_forward(const IPShape &, const void *, const NDArray &, const void *, void *, bool) { return false; }
bool ip_backward(const IPShape &, const void *, const NDArray &, const void *, void *, void *) { return false; }

#endif

}  // namespace onednn
}  // namespace mx
