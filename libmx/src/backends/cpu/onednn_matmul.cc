#include "backends/cpu/onednn_matmul.h"

#include "backends/cpu/onednn.h"

namespace mx {
namespace onednn {

#ifdef MX_HAVE_ONEDNN
namespace {

using dnnl::memory;

struct MatmulPlan {
  dnnl::matmul prim;
  Reorder wei;  // B's plain layout -> the packed one
  memory::desc a, c;
};

}  // namespace

struct RepeatedProduct::Impl {
  std::shared_ptr<MatmulPlan> plan;
  Scratch scratch;  // owns the packed B until this object goes
  memory packed;
};

RepeatedProduct::RepeatedProduct() = default;
RepeatedProduct::~RepeatedProduct() = default;

bool RepeatedProduct::prepare(int64_t M, int64_t K, int64_t N, const float *B, bool b_trans) {
  impl_.reset();
  if (!enabled() || M * K * N == 0) return false;
  Key k("matmul_repeated");
  k.add(M).add(K).add(N).add(b_trans ? 1 : 0).add(sync_threads());
  auto plan = cached<MatmulPlan>(k.str(), [&]() -> std::shared_ptr<MatmulPlan> {
    try {
      const memory::desc a = plain_md({M, K}), c = plain_md({M, N});
      // B^T of an N x K row-major array is the K x N matrix in column-major order ("ba").
      const memory::desc b_plain({K, N}, memory::data_type::f32, b_trans ? memory::format_tag::ba : memory::format_tag::ab);
      const memory::desc b_any({K, N}, memory::data_type::f32, memory::format_tag::any);
      dnnl::primitive_attr attr;
      dnnl::post_ops po;
      po.append_sum(1.f);  // C += ...
      attr.set_post_ops(po);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b_any, c), attr, engine());
      if (pd.src_desc() != a || pd.dst_desc() != c) return nullptr;
      auto p = std::make_shared<MatmulPlan>();
      p->prim = dnnl::matmul(pd);
      p->wei = Reorder(b_plain, pd.weights_desc());
      p->a = a;
      p->c = c;
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  impl_.reset(new Impl);
  impl_->plan = plan;
  impl_->packed = impl_->scratch.input(plan->wei, B);
  return true;
}

void RepeatedProduct::accumulate(const float *A, float *C) const {
  const MatmulPlan &p = *impl_->plan;
  execute(const_cast<dnnl::matmul &>(p.prim),
          {{DNNL_ARG_SRC, memory(p.a, engine(), const_cast<float *>(A))},
           {DNNL_ARG_WEIGHTS, impl_->packed},
           {DNNL_ARG_DST, memory(p.c, engine(), C)}},
          "matmul (repeated weight)");
}

#else  // built without oneDNN: the caller's BLAS product runs

struct RepeatedProduct::Impl {};
RepeatedProduct::RepeatedProduct() = default;
RepeatedProduct::~RepeatedProduct() = default;
bool RepeatedProduct::prepare(int64_t, int64_t, int64_t, const float *, bool) { return false; }
void RepeatedProduct::accumulate(const float *, float *) const {}

#endif

}  // namespace onednn
}  // namespace mx
