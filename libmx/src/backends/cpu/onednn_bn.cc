#include "backends/cpu/onednn_bn.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "backends/cpu/onednn.h"

namespace mx {
namespace onednn {

#ifdef MX_HAVE_ONEDNN
namespace {

using dnnl::memory;
using dt = memory::data_type;
using flags = dnnl::normalization_flags;

// The primitives run in the layout of the value the executor kept blocked (x first, then dy),
// where oneDNN has JIT kernels (nChw16c, nhwc). On plain arrays oneDNN 2.6 has only its generic
// ncsp kernel, which measured 2x slower than MX's loops in float32 (64x64x32x32 fwd+bwd: 30 vs 16
// ms) and 4x in bfloat16, so plain arrays stay with MX unless MX_ONEDNN_BN_PLAIN=1 (tests use it
// to check the oneDNN path on every case). False: MX's loops.
bool plain_allowed() {  // read per call (a getenv is nothing beside a BatchNorm): tests switch it
  const char *e = std::getenv("MX_ONEDNN_BN_PLAIN");
  return e && std::strcmp(e, "1") == 0;
}

bool data_md(const BNShape &sh, const void *a, const void *b, memory::desc *md) {
  for (const void *p : {a, b})
    if (const StepLayouts::In *bi = p ? blocked_input(p) : nullptr) {
      *md = bi->layout->to_plain.from;
      return true;
    }
  if (!plain_allowed()) return false;
  *md = plain_md(dims(sh.dims), sh.bf16 ? dt::bf16 : dt::f32);
  return true;
}

flags bn_flags(const BNShape &sh) {
  flags f = flags::use_shift;
  if (!sh.fix_gamma) f |= flags::use_scale;
  if (!sh.batch) f |= flags::use_global_stats;
  return f;
}

std::string bn_key(const char *op, const BNShape &sh, const memory::desc &md) {
  Key k(op);
  float e = static_cast<float>(sh.eps);
  uint32_t eb;
  std::memcpy(&eb, &e, sizeof eb);
  k.add(sh.dims).add(eb).add(sh.fix_gamma ? 1 : 0).add(sh.batch ? 1 : 0).add(sh.bf16 ? 1 : 0).add(sync_threads());
  return k.str() + md_key(md);
}

struct BnFwd {
  dnnl::batch_normalization_forward prim;
  Reorder src, dst;  // plain -> the primitive's layout, and back
  memory::desc stat;
};

struct BnBwd {
  dnnl::batch_normalization_backward prim;
  Reorder src, diff_dst, diff_src;
  memory::desc stat;
};

memory vec(const memory::desc &md, const float *p) { return memory(md, engine(), const_cast<float *>(p)); }

}  // namespace

bool bn_forward(const BNShape &sh, const void *x, const float *gamma, const float *beta, float *mean, float *var,
                void *y) {
  if (!enabled() || sh.dims.size() < 2 || sh.dims.size() > 5) return false;
  for (int64_t d : sh.dims)
    if (d == 0) return false;
  memory::desc md;
  if (!data_md(sh, x, nullptr, &md)) return false;
  auto plan = cached<BnFwd>(bn_key("bn_fwd", sh, md), [&]() -> std::shared_ptr<BnFwd> {
    try {
      // Batch statistics need forward_training (it writes mean and variance); with the given
      // statistics forward_inference reads them.
      const auto pk = sh.batch ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
      dnnl::batch_normalization_forward::primitive_desc pd(
          dnnl::batch_normalization_forward::desc(pk, md, static_cast<float>(sh.eps), bn_flags(sh)), engine());
      auto p = std::make_shared<BnFwd>();
      p->prim = dnnl::batch_normalization_forward(pd);
      const memory::desc plain = plain_md(dims(sh.dims), sh.bf16 ? dt::bf16 : dt::f32);
      p->src = Reorder(plain, pd.src_desc());
      p->dst = Reorder(pd.dst_desc(), plain);
      p->stat = pd.mean_desc();
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  const memory::desc cvec = plain_md(dims({sh.dims[1]}));
  Scratch s;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, s.input(plan->src, x)},
                                       {DNNL_ARG_MEAN, vec(plan->stat, mean)},
                                       {DNNL_ARG_VARIANCE, vec(plan->stat, var)},
                                       {DNNL_ARG_SHIFT, vec(cvec, beta)},
                                       {DNNL_ARG_DST, s.output(plan->dst, y)}};
  if (!sh.fix_gamma) args.emplace(DNNL_ARG_SCALE, vec(cvec, gamma));
  execute(plan->prim, args, "batch normalization forward");
  s.finish_outputs();
  return true;
}

bool bn_backward(const BNShape &sh, const void *dy, const void *x, const float *gamma, const float *mean,
                 const float *var, void *dx, float *dgamma, float *dbeta) {
  if (!enabled() || sh.dims.size() < 2 || sh.dims.size() > 5) return false;
  for (int64_t d : sh.dims)
    if (d == 0) return false;
  memory::desc md;
  if (!data_md(sh, x, dy, &md)) return false;
  auto plan = cached<BnBwd>(bn_key("bn_bwd", sh, md), [&]() -> std::shared_ptr<BnBwd> {
    try {
      const float eps = static_cast<float>(sh.eps);
      dnnl::batch_normalization_forward::primitive_desc hint(
          dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, md, eps, bn_flags(sh)), engine());
      // prop_kind::backward: the data gradient and the shift (and scale) gradients.
      dnnl::batch_normalization_backward::primitive_desc pd(
          dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, md, md, eps, bn_flags(sh)), engine(),
          hint);
      auto p = std::make_shared<BnBwd>();
      p->prim = dnnl::batch_normalization_backward(pd);
      const memory::desc plain = plain_md(dims(sh.dims), sh.bf16 ? dt::bf16 : dt::f32);
      p->src = Reorder(plain, pd.src_desc());
      p->diff_dst = Reorder(plain, pd.diff_dst_desc());
      p->diff_src = Reorder(pd.diff_src_desc(), plain);
      p->stat = pd.mean_desc();
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  const memory::desc cvec = plain_md(dims({sh.dims[1]}));
  Scratch s;
  // oneDNN wants the shift as an argument of the backward too (it reads it only to recompute a
  // fused relu, which is not used here): zeros stand in for beta, which the backward op lacks.
  memory shift = s.buffer(cvec);
  std::memset(shift.get_data_handle(), 0, cvec.get_size());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, s.input(plan->src, x)},
                                       {DNNL_ARG_SHIFT, shift},
                                       {DNNL_ARG_DIFF_DST, s.input(plan->diff_dst, dy)},
                                       {DNNL_ARG_MEAN, vec(plan->stat, mean)},
                                       {DNNL_ARG_VARIANCE, vec(plan->stat, var)},
                                       {DNNL_ARG_DIFF_SHIFT, vec(cvec, dbeta)},
                                       {DNNL_ARG_DIFF_SRC, s.output(plan->diff_src, dx)}};
  if (!sh.fix_gamma) {
    args.emplace(DNNL_ARG_SCALE, vec(cvec, gamma));
    args.emplace(DNNL_ARG_DIFF_SCALE, vec(cvec, dgamma));
  }
  execute(plan->prim, args, "batch normalization backward");
  s.finish_outputs();
  return true;
}

#else  // built without oneDNN: MX's kernels run

bool bn_forward(const BNShape &, const void *, const float *, const float *, float *, float *, void *) {
  return false;
}
bool bn_backward(const BNShape &, const void *, const void *, const float *, const float *, const float *, void *,
                 float *, float *) {
  return false;
}

#endif

}  // namespace onednn
}  // namespace mx
