#include "backends/cpu/bf16_loops.h"

#include <algorithm>

#include "backends/cpu/parallel.h"
#include "backends/cpu/simd.h"

namespace mx {
namespace bf16 {

namespace {
constexpr int64_t kGrain = 1 << 15;  // elements per thread before going parallel

// float(x) > 0 for a bf16 bit pattern: 0x0001..0x7f80 (positive, non-zero, not NaN; +inf counts).
inline bool positive(uint16_t bits) { return static_cast<uint16_t>(bits - 1u) < 0x7f80u; }
}  // namespace

void add(const bf16_t *a, const bf16_t *b, bf16_t *o, int64_t n) {
  const uint16_t *pa = &a->bits, *pb = &b->bits;
  uint16_t *po = &o->bits;
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for_range(s, e, [pa, pb, po](int64_t i) {
      po[i] = float_to_bf16_bits(bf16_bits_to_float(pa[i]) + bf16_bits_to_float(pb[i]));
    });
  });
}

void sum(const std::vector<const bf16_t *> &in, bf16_t *o, int64_t n) {
  if (in.size() == 2) return add(in[0], in[1], o, n);
  uint16_t *po = &o->bits;
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    // Blocks of float partial sums, each input added in order (the same sums as element by element).
    constexpr int64_t kBlock = 2048;
    float acc[kBlock];
    for (int64_t b0 = s; b0 < e; b0 += kBlock) {
      const int64_t m = std::min(kBlock, e - b0);
      float *pacc = acc;
      const uint16_t *p0 = &in[0][b0].bits;
      for_range(0, m, [pacc, p0](int64_t i) { pacc[i] = bf16_bits_to_float(p0[i]); });
      for (size_t k = 1; k < in.size(); ++k) {
        const uint16_t *pk = &in[k][b0].bits;
        for_range(0, m, [pacc, pk](int64_t i) { pacc[i] += bf16_bits_to_float(pk[i]); });
      }
      uint16_t *pob = po + b0;
      for_range(0, m, [pacc, pob](int64_t i) { pob[i] = float_to_bf16_bits(pacc[i]); });
    }
  });
}

void relu(const bf16_t *x, bf16_t *y, int64_t n) {
  const uint16_t *px = &x->bits;
  uint16_t *py = &y->bits;
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for_range(s, e, [px, py](int64_t i) { py[i] = positive(px[i]) ? px[i] : uint16_t(0); });
  });
}

void relu_backward(const bf16_t *g, const bf16_t *y, bf16_t *dx, int64_t n) {
  const uint16_t *pg = &g->bits, *py = &y->bits;
  uint16_t *pd = &dx->bits;
  parallel_for(n, kGrain, [&](int64_t s, int64_t e) {
    for_range(s, e, [pg, py, pd](int64_t i) { pd[i] = positive(py[i]) ? pg[i] : uint16_t(0); });
  });
}

}  // namespace bf16
}  // namespace mx
