#include "backends/cpu/onednn_softmax.h"

#include "backends/cpu/onednn.h"

namespace mx {
namespace onednn {

#ifdef MX_HAVE_ONEDNN

namespace {
struct SoftmaxFwd {
  dnnl::primitive prim;
  dnnl::memory::desc md;
};

// Cache key of a forward or backward plan for this shape.
std::string softmax_key(const char *op, const SoftmaxShape &sh) {
  Key k(op);
  k.add(sh.outer).add(sh.len).add(sh.inner).add(sh.bf16 ? 1 : 0).add(sync_threads());
  return k.str();
}

// The data's plain layout, softmax over axis 1: (outer, len) when the axis is the last one
// (oneDNN's fast path for rows), else (outer, len, inner).
dnnl::memory::desc softmax_md(const SoftmaxShape &sh) {
  const dnnl::memory::dims d = sh.inner == 1 ? dnnl::memory::dims{sh.outer, sh.len}
                                             : dnnl::memory::dims{sh.outer, sh.len, sh.inner};
  return plain_md(d, sh.bf16 ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32);
}
}  // namespace

bool softmax_forward(const SoftmaxShape &sh, const void *x, void *y) {
  if (!enabled() || sh.outer * sh.len * sh.inner == 0) return false;
  auto plan = cached<SoftmaxFwd>(softmax_key(sh.log ? "logsoftmax_fwd" : "softmax_fwd", sh),
                                 [&]() -> std::shared_ptr<SoftmaxFwd> {
    try {
      auto p = std::make_shared<SoftmaxFwd>();
      p->md = softmax_md(sh);
      const auto pk = dnnl::prop_kind::forward_inference;
      if (sh.log)
        p->prim = dnnl::logsoftmax_forward(
            dnnl::logsoftmax_forward::primitive_desc(dnnl::logsoftmax_forward::desc(pk, p->md, 1), engine()));
      else
        p->prim = dnnl::softmax_forward(
            dnnl::softmax_forward::primitive_desc(dnnl::softmax_forward::desc(pk, p->md, 1), engine()));
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  execute(plan->prim,
          {{DNNL_ARG_SRC, dnnl::memory(plan->md, engine(), const_cast<void *>(x))},
           {DNNL_ARG_DST, dnnl::memory(plan->md, engine(), y)}},
          sh.log ? "log_softmax forward" : "softmax forward");
  return true;
}

namespace {
struct SoftmaxBwd {
  dnnl::primitive prim;
  dnnl::memory::desc md;
};
}  // namespace

bool softmax_backward(const SoftmaxShape &sh, const void *y, const void *dy, void *dx) {
  if (!enabled() || sh.outer * sh.len * sh.inner == 0) return false;
  auto plan = cached<SoftmaxBwd>(softmax_key(sh.log ? "logsoftmax_bwd" : "softmax_bwd", sh),
                                 [&]() -> std::shared_ptr<SoftmaxBwd> {
    try {
      auto p = std::make_shared<SoftmaxBwd>();
      p->md = softmax_md(sh);
      const auto pk = dnnl::prop_kind::forward_training;
      if (sh.log) {
        dnnl::logsoftmax_forward::primitive_desc hint(dnnl::logsoftmax_forward::desc(pk, p->md, 1), engine());
        p->prim = dnnl::logsoftmax_backward(dnnl::logsoftmax_backward::primitive_desc(
            dnnl::logsoftmax_backward::desc(p->md, p->md, 1), engine(), hint));
      } else {
        dnnl::softmax_forward::primitive_desc hint(dnnl::softmax_forward::desc(pk, p->md, 1), engine());
        p->prim = dnnl::softmax_backward(dnnl::softmax_backward::primitive_desc(
            dnnl::softmax_backward::desc(p->md, p->md, 1), engine(), hint));
      }
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  execute(plan->prim,
          {{DNNL_ARG_DST, dnnl::memory(plan->md, engine(), const_cast<void *>(y))},
           {DNNL_ARG_DIFF_DST, dnnl::memory(plan->md, engine(), const_cast<void *>(dy))},
           {DNNL_ARG_DIFF_SRC, dnnl::memory(plan->md, engine(), dx)}},
          sh.log ? "log_softmax backward" : "softmax backward");
  return true;
}

#else  // built without oneDNN: MX's kernels run

bool softmax_forward(const SoftmaxShape &, const void *, void *) { return false; }
bool softmax_backward(const SoftmaxShape &, const void *, const void *, void *) { return false; }

#endif

}  // namespace onednn
}  // namespace mx
