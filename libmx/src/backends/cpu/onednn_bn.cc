#include "backends/cpu/onednn_bn.h"

#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <string>

#include "backends/cpu/onednn.h"
#include "backends/cpu/parallel.h"

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

bool own_fwd_off() {  // MX_BN_OWN_NHWC=0: oneDNN there too (A/B measurements, tests)
  const char *e = std::getenv("MX_BN_OWN_NHWC");
  return e && std::strcmp(e, "0") == 0;
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

// ---- MX's own forward on channels-last values (nwc / nhwc / ndhwc, float32) ----
// oneDNN 2.6's forward_training on nhwc measured 4x its own backward in ResNet-50 training (224,
// b32: 16% of oneDNN's time, against 3.7% for the backward): its statistics pass is slow there. The
// value is R rows of C contiguous channels: statistics in one pass of double sums shifted by each
// channel's first value (no cancellation for data far from 0), then y = x * scale + shift. Threads
// split the channels (blocks of 16, one vector), so each channel is summed in the same order
// whatever the thread count.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MX_BN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MX_BN_CLONES
#endif

constexpr int64_t kLanes = 16;

// Channels [c0, c0 + n), n <= kLanes: sum and sum of squares of x - x[0][c] over the R rows.
MX_BN_CLONES void channel_sums(const float *__restrict__ x, int64_t R, int64_t C, int64_t c0, int64_t n,
                               double *__restrict__ s, double *__restrict__ q) {
  float k[kLanes] = {};
  double as[kLanes] = {}, aq[kLanes] = {};
  for (int64_t j = 0; j < n; ++j) k[j] = x[c0 + j];
  if (n == kLanes) {
    for (int64_t r = 0; r < R; ++r) {
      const float *row = x + r * C + c0;
      for (int64_t j = 0; j < kLanes; ++j) {
        const double d = static_cast<double>(row[j]) - static_cast<double>(k[j]);
        as[j] += d;
        aq[j] += d * d;
      }
    }
  } else {
    for (int64_t r = 0; r < R; ++r) {
      const float *row = x + r * C + c0;
      for (int64_t j = 0; j < n; ++j) {
        const double d = static_cast<double>(row[j]) - static_cast<double>(k[j]);
        as[j] += d;
        aq[j] += d * d;
      }
    }
  }
  for (int64_t j = 0; j < n; ++j) {
    s[j] = as[j] + static_cast<double>(k[j]) * static_cast<double>(R);  // the plain sum, for the mean
    q[j] = aq[j] - as[j] * as[j] / static_cast<double>(R);               // sum of squared deviations
  }
}

MX_BN_CLONES void scale_shift_rows(const float *__restrict__ x, float *__restrict__ y, int64_t rows, int64_t C,
                                   const float *__restrict__ a, const float *__restrict__ b) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < C; ++c) y[r * C + c] = x[r * C + c] * a[c] + b[c];
}

bool channels_last(const BNShape &sh, const memory::desc &md) {
  static const memory::format_tag tags[] = {memory::format_tag::nwc, memory::format_tag::nhwc,
                                            memory::format_tag::ndhwc};
  if (sh.bf16 || sh.dims.size() < 3) return false;
  return md == memory::desc(dims(sh.dims), dt::f32, tags[sh.dims.size() - 3]);
}

struct OwnFwd {
  Reorder dst;  // channels-last -> plain
};

void own_forward_channels_last(const BNShape &sh, const memory::desc &md, const void *x, const float *gamma,
                               const float *beta, float *mean, float *var, void *y) {
  const int64_t C = sh.dims[1];
  int64_t R = sh.dims[0];
  for (size_t i = 2; i < sh.dims.size(); ++i) R *= sh.dims[i];
  auto plan = cached<OwnFwd>("bn_own_fwd" + md_key(md), [&] {
    auto p = std::make_shared<OwnFwd>();
    p->dst = Reorder(md, plain_md(dims(sh.dims)));
    return p;
  });
  StepLayouts::In *bi = StepLayouts::current()->find_input(x);
  bi->handled = true;
  const float *xs = static_cast<const float *>(bi->blocked);
  if (sh.batch) {
    const int64_t nb = (C + kLanes - 1) / kLanes;
    parallel_for(nb, 1, [&](int64_t b, int64_t e) {
      double s[kLanes], q[kLanes];
      for (int64_t blk = b; blk < e; ++blk) {
        const int64_t c0 = blk * kLanes, n = std::min(kLanes, C - c0);
        channel_sums(xs, R, C, c0, n, s, q);
        for (int64_t j = 0; j < n; ++j) {
          mean[c0 + j] = static_cast<float>(s[j] / static_cast<double>(R));
          var[c0 + j] = static_cast<float>(std::max(q[j], 0.0) / static_cast<double>(R));  // biased
        }
      }
    });
  }
  std::vector<float> a(static_cast<size_t>(C)), bb(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(var[c]) + sh.eps);
    const double g = sh.fix_gamma ? 1.0 : static_cast<double>(gamma[c]);
    a[c] = static_cast<float>(g * inv);
    bb[c] = static_cast<float>(static_cast<double>(beta[c]) - static_cast<double>(mean[c]) * g * inv);
  }
  Scratch s;
  memory out = s.output(plan->dst, y);
  float *ys = static_cast<float *>(out.get_data_handle());
  parallel_for(R, std::max<int64_t>(1, 16384 / C), [&](int64_t b, int64_t e) {
    scale_shift_rows(xs + b * C, ys + b * C, e - b, C, a.data(), bb.data());
  });
  s.finish_outputs();
}

}  // namespace

bool bn_forward(const BNShape &sh, const void *x, const float *gamma, const float *beta, float *mean, float *var,
                void *y) {
  if (!enabled() || sh.dims.size() < 2 || sh.dims.size() > 5) return false;
  for (int64_t d : sh.dims)
    if (d == 0) return false;
  memory::desc md;
  if (!data_md(sh, x, nullptr, &md)) return false;
  if (channels_last(sh, md) && blocked_input(x) && !own_fwd_off()) {
    own_forward_channels_last(sh, md, x, gamma, beta, mean, var, y);
    return true;
  }
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
