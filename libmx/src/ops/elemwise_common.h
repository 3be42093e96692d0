// Building blocks for element-wise op families: broadcast iteration and family registration.
#pragma once
#include <cmath>
#include <type_traits>
#include <vector>

#include "backends/cpu/parallel.h"
#include "backends/cpu/simd.h"
#include "ops/registry.h"

namespace mx {

constexpr int64_t kElemGrain = 1 << 15;  // elements per thread before going parallel

// Dtype lists for .dtypes(): float16/bfloat16 are computed through float32 unless listed.
inline const std::vector<DType> kFloatTypes = {DType::f32, DType::f64};
inline const std::vector<DType> kNumericTypes = {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::i8};
inline const std::vector<DType> kAllTypes = {DType::f32, DType::f64, DType::f16, DType::bf16, DType::u8,
                                             DType::i8,  DType::i32, DType::i64, DType::boolean};

// Strides (in elements) of `in` broadcast to `out`'s shape (0 along broadcast axes).
std::vector<int64_t> broadcast_strides(const Shape &in, const Shape &out);

// out[i] = f(a[ia], b[ib]) with numpy broadcasting. A, B, O are element types.
template <typename A, typename B, typename O, typename F>
void broadcast_binary(const NDArray &a, const NDArray &b, const NDArray &o, F f) {
  const A *pa = a.data<A>();
  const B *pb = b.data<B>();
  O *po = o.data<O>();
  int64_t n = o.size();
  if (a.shape() == o.shape() && b.shape() == o.shape()) {
    parallel_for(n, kElemGrain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], pb[i]);
    });
    return;
  }
  if (b.size() == 1 && a.shape() == o.shape()) {
    const B vb = pb[0];
    parallel_for(n, kElemGrain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) po[i] = f(pa[i], vb);
    });
    return;
  }
  if (a.size() == 1 && b.shape() == o.shape()) {
    const A va = pa[0];
    parallel_for(n, kElemGrain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) po[i] = f(va, pb[i]);
    });
    return;
  }
  const int nd = o.ndim();
  std::vector<int64_t> sa = broadcast_strides(a.shape(), o.shape());
  std::vector<int64_t> sb = broadcast_strides(b.shape(), o.shape());
  const int64_t inner = nd ? o.shape()[nd - 1] : 1;
  const int64_t outer = inner ? n / inner : 0;
  const int64_t ia_in = nd ? sa[static_cast<size_t>(nd - 1)] : 0, ib_in = nd ? sb[static_cast<size_t>(nd - 1)] : 0;
  const Shape &os = o.shape();
  parallel_for(outer, std::max<int64_t>(1, kElemGrain / std::max<int64_t>(inner, 1)), [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      int64_t rem = r, oa = 0, ob = 0;
      for (int d = nd - 2; d >= 0; --d) {
        int64_t idx = rem % os[d];
        rem /= os[d];
        oa += idx * sa[static_cast<size_t>(d)];
        ob += idx * sb[static_cast<size_t>(d)];
      }
      O *dst = po + r * inner;
      for (int64_t i = 0; i < inner; ++i) dst[i] = f(pa[oa + i * ia_in], pb[ob + i * ib_in]);
    }
  });
}

template <typename I, typename O, typename F> void map_unary(const NDArray &in, const NDArray &out, F f) {
  const I *pi = in.data<I>();
  O *po = out.data<O>();
  parallel_for(out.size(), kElemGrain, [&](int64_t s, int64_t e) {
    if constexpr (std::is_floating_point_v<O>) {  // the AVX-512 build where the CPU has it
      for_range(s, e, [pi, po, f](int64_t i) { po[i] = f(pi[i]); });
    } else {
      for (int64_t i = s; i < e; ++i) po[i] = f(pi[i]);
    }
  });
}

// Parameters of the *_scalar ops.
struct ScalarParam {
  double scalar = 0;
  bool is_int = false;
  static void describe(ParamDecl<ScalarParam> &d) {
    d.field("scalar", &ScalarParam::scalar).def(0.0).doc("The scalar operand.");
    d.field("is_int", &ScalarParam::is_int).def(false).doc("Whether the scalar is an integer (kept for MXNet files).");
  }
};

// Sum `x` down to `shape` (the adjoint of broadcasting) inside a gradient; no-op when equal.
Var sum_to_shape(GradBuilder &b, Var x, const Shape &shape);

}  // namespace mx
