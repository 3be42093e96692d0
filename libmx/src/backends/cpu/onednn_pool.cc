#include "backends/cpu/onednn_pool.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "backends/cpu/onednn.h"
#include "backends/cpu/parallel.h"
#include "backends/cpu/simd.h"

namespace mx {
namespace onednn {

#ifdef MX_HAVE_ONEDNN
namespace {

using dnnl::memory;

struct PoolDims {
  memory::dims src, dst, k, s, pad_l, pad_r;
};

// nullopt-like: false when MX's semantics differ from oneDNN's for this shape.
bool pool_dims(const PoolShape &sh, PoolDims *d) {
  d->src = {sh.N, sh.C};
  d->dst = {sh.N, sh.C};
  for (size_t i = 0; i < sh.k.size(); ++i) {
    d->src.push_back(sh.in[i]);
    d->dst.push_back(sh.out[i]);
    d->k.push_back(sh.k[i]);
    d->s.push_back(sh.s[i]);
    d->pad_l.push_back(sh.pad_l[i]);
    // The padding the last window really reaches; negative when it stops inside the input.
    const int64_t used = (sh.out[i] - 1) * sh.s[i] + sh.k[i] - sh.in[i] - sh.pad_l[i];
    // Windows lying wholly in padding (MXNet gives them the lowest float) and, for averages that
    // count padding, windows reaching past MX's clip point stay with MX's kernel.
    if (sh.pad_l[i] >= sh.k[i] || used >= sh.k[i]) return false;
    if (sh.kind == PoolKind::kAvgIncludePad && used > sh.pad_hi[i]) return false;
    d->pad_r.push_back(used >= 0 ? used : sh.pad_hi[i]);
  }
  return true;
}

dnnl::algorithm algo(PoolKind k) {
  switch (k) {
    case PoolKind::kMax: return dnnl::algorithm::pooling_max;
    case PoolKind::kAvgIncludePad: return dnnl::algorithm::pooling_avg_include_padding;
    default: return dnnl::algorithm::pooling_avg_exclude_padding;
  }
}

Key pool_key(const char *op, const PoolShape &sh) {
  Key k(op);
  k.add(sh.N).add(sh.C).add(sh.in).add(sh.out).add(sh.k).add(sh.s).add(sh.pad_l).add(sh.pad_hi).add(static_cast<int64_t>(sh.kind));
  k.add(sh.bf16 ? 1 : 0).add(sync_threads());
  return k;
}

// Plain layout in the shape's data type.
memory::desc md(const PoolShape &sh, const memory::dims &d) {
  return plain_md(d, sh.bf16 ? memory::data_type::bf16 : memory::data_type::f32);
}

dnnl::pooling_forward::desc fwd_desc(dnnl::prop_kind pk, const PoolShape &sh, const PoolDims &d) {
  return dnnl::pooling_forward::desc(pk, algo(sh.kind), md(sh, d.src), md(sh, d.dst), d.s, d.k, d.pad_l, d.pad_r);
}

struct PoolFwd {
  dnnl::pooling_forward prim;
};

struct PoolBwd {
  dnnl::pooling_forward fwd;  // training forward: fills the argmax workspace (max pooling)
  dnnl::pooling_backward prim;
  memory::desc dst, ws;
  bool has_ws = false;
};

// ---- 2x2, stride-2 max pooling over even sizes on a channel-blocked layout (MX's own kernel) ----
// The usual CNN pooling. In training, oneDNN's blocked pooling lost to MX's plain branch-free
// kernels (its backward re-runs the forward for the argmax); these are the same kernels on
// nhwc / nChw16c / nChw8c, the layouts convolutions give and take, so a conv -> relu -> pool ->
// conv chain needs no reorder. Each layout is "planes" of H x W x L contiguous lanes (nhwc: N
// planes of C lanes; nChw16c: N * C/16 planes of 16); padded channel lanes hold zeros and stay
// zero. The comparisons are the plain kernels' (ops/nn/pooling.cc), so results are the same bits.
struct Lanes {
  memory::format_tag tag = memory::format_tag::undef;
  int64_t planes = 0, L = 0;
};

bool own_2x2(const PoolShape &sh) {
  if (sh.kind != PoolKind::kMax || sh.k.size() != 2) return false;
  for (size_t i = 0; i < 2; ++i)
    if (sh.k[i] != 2 || sh.s[i] != 2 || sh.pad_l[i] != 0 || sh.out[i] * 2 != sh.in[i]) return false;
  return true;
}

bool lanes_of(const memory::desc &md, const PoolShape &sh, Lanes *o) {
  const memory::dims src{sh.N, sh.C, sh.in[0], sh.in[1]};
  for (auto t : {memory::format_tag::nhwc, memory::format_tag::nChw16c, memory::format_tag::nChw8c})
    if (md == memory::desc(src, memory::data_type::f32, t)) {
      o->tag = t;
      o->L = t == memory::format_tag::nhwc ? sh.C : t == memory::format_tag::nChw16c ? 16 : 8;
      o->planes = t == memory::format_tag::nhwc ? sh.N : sh.N * ((sh.C + o->L - 1) / o->L);
      return true;
    }
  return false;
}

// The gradient goes to each window's first maximum; ym (the pooling's output, null: no mask)
// lets it pass only where positive (the fused relu backward). Selections by bit masks, so the
// lane loop vectorizes without branches (random data mispredicts them).
inline uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
inline float float_of(uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MX_POOL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MX_POOL_CLONES
#endif

// One output row: r0, r1 the two input rows (W x L), y the output row (W/2 x L).
MX_POOL_CLONES void max2x2_forward_row(const float *__restrict__ r0, const float *__restrict__ r1,
                                        float *__restrict__ y, int64_t OW, int64_t L) {
  const float lo = std::numeric_limits<float>::lowest();
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float *a = r0 + 2 * ow * L, *bb = a + L, *c = r1 + 2 * ow * L, *d = c + L;
    float *o = y + ow * L;
    for (int64_t l = 0; l < L; ++l) {
      float m = a[l] > lo ? a[l] : lo;
      m = bb[l] > m ? bb[l] : m;
      m = c[l] > m ? c[l] : m;
      o[l] = d[l] > m ? d[l] : m;
    }
  }
}

// kMask: ym (the pooling's output) lets the gradient pass only where positive.
template <bool kMask>
MX_POOL_CLONES void max2x2_backward_row(const float *__restrict__ r0, const float *__restrict__ r1,
                                        const float *__restrict__ gr, const float *__restrict__ yr,
                                        float *__restrict__ d0, float *__restrict__ d1, int64_t OW, int64_t L) {
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float *xa = r0 + 2 * ow * L, *xb = xa + L, *xc = r1 + 2 * ow * L, *xd = xc + L, *g = gr + ow * L;
    const float *ym = kMask ? yr + ow * L : g;
    float *da = d0 + 2 * ow * L, *db = da + L, *dc = d1 + 2 * ow * L, *dd = dc + L;
    for (int64_t l = 0; l < L; ++l) {
      const uint32_t keep = kMask ? 0u - static_cast<uint32_t>(ym[l] > 0.f) : ~0u;
      const uint32_t gv = bits_of(g[l]) & keep;
      const uint32_t pb = 0u - static_cast<uint32_t>(xb[l] > xa[l]);
      const float m1 = xb[l] > xa[l] ? xb[l] : xa[l];
      const uint32_t pc = 0u - static_cast<uint32_t>(xc[l] > m1);
      const float m2 = xc[l] > m1 ? xc[l] : m1;
      const uint32_t pd = 0u - static_cast<uint32_t>(xd[l] > m2);
      dd[l] = float_of(gv & pd);
      dc[l] = float_of(gv & pc & ~pd);
      db[l] = float_of(gv & pb & ~pc & ~pd);
      da[l] = float_of(gv & ~pb & ~pc & ~pd);
    }
  }
}

// The forward row that also writes each output's code byte (PoolWorkspace): the window's first
// maximum as the backward row above picks it (bits 0-1: a, b, c, d) and whether the output is
// positive (bit 2: the fused relu's mask). Same comparisons as both rows: same bits. Lanes
// [l0, L) of each position (the AVX-512 row below does whole 16-lane groups first).
inline void max2x2_forward_codes_tail(const float *r0, const float *r1, float *y, uint8_t *code, int64_t OW,
                                      int64_t L, int64_t l0) {
  const float lo = std::numeric_limits<float>::lowest();
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float *a = r0 + 2 * ow * L, *bb = a + L, *c = r1 + 2 * ow * L, *d = c + L;
    float *o = y + ow * L;
    uint8_t *k = code + ow * L;
    for (int64_t l = l0; l < L; ++l) {
      float m = a[l] > lo ? a[l] : lo;
      m = bb[l] > m ? bb[l] : m;
      m = c[l] > m ? c[l] : m;
      m = d[l] > m ? d[l] : m;
      o[l] = m;
      const uint32_t pb = bb[l] > a[l];
      const float m1 = bb[l] > a[l] ? bb[l] : a[l];
      const uint32_t pc = c[l] > m1;
      const float m2 = c[l] > m1 ? c[l] : m1;
      const uint32_t pd = d[l] > m2;
      const uint32_t which = pd ? 3u : pc ? 2u : pb;
      k[l] = static_cast<uint8_t>(which | (static_cast<uint32_t>(m > 0.f) << 2));
    }
  }
}

// The backward row from the codes: dy and one byte per output instead of x's four values and y.
inline void max2x2_backward_codes_tail(const float *gr, const uint8_t *code, bool mask, float *d0, float *d1,
                                       int64_t OW, int64_t L, int64_t l0) {
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float *g = gr + ow * L;
    const uint8_t *k = code + ow * L;
    float *da = d0 + 2 * ow * L, *db = da + L, *dc = d1 + 2 * ow * L, *dd = dc + L;
    for (int64_t l = l0; l < L; ++l) {
      const uint32_t c = k[l], which = c & 3u;
      const uint32_t keep = mask ? 0u - ((c >> 2) & 1u) : ~0u;
      const uint32_t gv = bits_of(g[l]) & keep;
      dd[l] = float_of(gv & (0u - static_cast<uint32_t>(which == 3u)));
      dc[l] = float_of(gv & (0u - static_cast<uint32_t>(which == 2u)));
      db[l] = float_of(gv & (0u - static_cast<uint32_t>(which == 1u)));
      da[l] = float_of(gv & (0u - static_cast<uint32_t>(which == 0u)));
    }
  }
}

#if defined(__GNUC__) && defined(__x86_64__)
#define MX_HAVE_POOL_AVX512 1
// The same rows on whole 16-lane groups with AVX-512 masks (GCC's vectorisation of the byte
// stores spilled; the compare semantics are the scalar ones: _CMP_GT_OQ is false on NaN). The
// byte conversions take an explicit zero source: GCC 12 warns on the plain forms' undefined one.
__attribute__((target("avx512f,avx512bw,avx512vl"))) void max2x2_forward_codes_row512(
    const float *r0, const float *r1, float *y, uint8_t *code, int64_t OW, int64_t L) {
  const __m512 lov = _mm512_set1_ps(std::numeric_limits<float>::lowest()), zero = _mm512_setzero_ps();
  const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2), three = _mm512_set1_epi32(3),
                four = _mm512_set1_epi32(4);
  const int64_t L16 = L / 16 * 16;
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float *a = r0 + 2 * ow * L, *bb = a + L, *c = r1 + 2 * ow * L, *d = c + L;
    for (int64_t l = 0; l < L16; l += 16) {
      const __m512 va = _mm512_loadu_ps(a + l), vb = _mm512_loadu_ps(bb + l), vc = _mm512_loadu_ps(c + l),
                   vd = _mm512_loadu_ps(d + l);
      __m512 m = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(va, lov, _CMP_GT_OQ), lov, va);
      m = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(vb, m, _CMP_GT_OQ), m, vb);
      m = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(vc, m, _CMP_GT_OQ), m, vc);
      m = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(vd, m, _CMP_GT_OQ), m, vd);
      const __mmask16 pb = _mm512_cmp_ps_mask(vb, va, _CMP_GT_OQ);
      const __m512 m1 = _mm512_mask_blend_ps(pb, va, vb);
      const __mmask16 pc = _mm512_cmp_ps_mask(vc, m1, _CMP_GT_OQ);
      const __m512 m2 = _mm512_mask_blend_ps(pc, m1, vc);
      const __mmask16 pd = _mm512_cmp_ps_mask(vd, m2, _CMP_GT_OQ);
      __m512i w = _mm512_maskz_mov_epi32(pb, one);
      w = _mm512_mask_mov_epi32(w, pc, two);
      w = _mm512_mask_mov_epi32(w, pd, three);
      w = _mm512_mask_or_epi32(w, _mm512_cmp_ps_mask(m, zero, _CMP_GT_OQ), w, four);
      _mm512_storeu_ps(y + ow * L + l, m);
      _mm_storeu_si128(reinterpret_cast<__m128i *>(code + ow * L + l), _mm512_mask_cvtepi32_epi8(_mm_setzero_si128(), 0xFFFF, w));
    }
  }
  if (L16 < L) max2x2_forward_codes_tail(r0, r1, y, code, OW, L, L16);
}

template <bool kMask>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void max2x2_backward_codes_row512(
    const float *gr, const uint8_t *code, float *d0, float *d1, int64_t OW, int64_t L) {
  const __m512i three = _mm512_set1_epi32(3), two = _mm512_set1_epi32(2), one = _mm512_set1_epi32(1),
                four = _mm512_set1_epi32(4);
  const int64_t L16 = L / 16 * 16;
  for (int64_t ow = 0; ow < OW; ++ow) {
    float *da = d0 + 2 * ow * L, *db = da + L, *dc = d1 + 2 * ow * L, *dd = dc + L;
    for (int64_t l = 0; l < L16; l += 16) {
      const __m512i cv =
          _mm512_maskz_cvtepu8_epi32(0xFFFF, _mm_loadu_si128(reinterpret_cast<const __m128i *>(code + ow * L + l)));
      const __m512i which = _mm512_and_si512(cv, three);
      __m512 g = _mm512_loadu_ps(gr + ow * L + l);
      if (kMask) g = _mm512_maskz_mov_ps(_mm512_test_epi32_mask(cv, four), g);
      _mm512_storeu_ps(dd + l, _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(which, three), g));
      _mm512_storeu_ps(dc + l, _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(which, two), g));
      _mm512_storeu_ps(db + l, _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(which, one), g));
      _mm512_storeu_ps(da + l, _mm512_maskz_mov_ps(_mm512_testn_epi32_mask(which, three), g));
    }
  }
  if (L16 < L) max2x2_backward_codes_tail(gr, code, kMask, d0, d1, OW, L, L16);
}
#endif

void max2x2_forward_codes_row(const float *r0, const float *r1, float *y, uint8_t *code, int64_t OW, int64_t L) {
#ifdef MX_HAVE_POOL_AVX512
  if (cpu_has_avx512()) return max2x2_forward_codes_row512(r0, r1, y, code, OW, L);
#endif
  max2x2_forward_codes_tail(r0, r1, y, code, OW, L, 0);
}

void max2x2_backward_codes_row(const float *gr, const uint8_t *code, bool mask, float *d0, float *d1, int64_t OW,
                               int64_t L) {
#ifdef MX_HAVE_POOL_AVX512
  if (cpu_has_avx512())
    return mask ? max2x2_backward_codes_row512<true>(gr, code, d0, d1, OW, L)
                : max2x2_backward_codes_row512<false>(gr, code, d0, d1, OW, L);
#endif
  max2x2_backward_codes_tail(gr, code, mask, d0, d1, OW, L, 0);
}

void max2x2_forward(const float *x, float *y, int64_t P, int64_t H, int64_t W, int64_t L, uint8_t *codes = nullptr) {
  if (codes) {
    const int64_t OH = H / 2, OW = W / 2;
    parallel_for(P * OH, std::max<int64_t>(1, 4096 / std::max<int64_t>(W * L, 1)), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const int64_t p = r / OH, oh = r % OH;
        const float *r0 = x + (p * H + 2 * oh) * W * L;
        max2x2_forward_codes_row(r0, r0 + W * L, y + r * OW * L, codes + r * OW * L, OW, L);
      }
    });
    return;
  }
  const int64_t OH = H / 2, OW = W / 2;
  parallel_for(P * OH, std::max<int64_t>(1, 4096 / std::max<int64_t>(W * L, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / OH, oh = r % OH;
      const float *r0 = x + (p * H + 2 * oh) * W * L;
      max2x2_forward_row(r0, r0 + W * L, y + r * OW * L, OW, L);
    }
  });
}

void max2x2_backward_codes(const uint8_t *codes, const float *gy, bool mask, float *dx, int64_t P, int64_t H,
                           int64_t W, int64_t L) {
  const int64_t OH = H / 2, OW = W / 2;
  parallel_for(P * OH, std::max<int64_t>(1, 4096 / std::max<int64_t>(W * L, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / OH, oh = r % OH;
      float *d0 = dx + (p * H + 2 * oh) * W * L;
      max2x2_backward_codes_row(gy + r * OW * L, codes + r * OW * L, mask, d0, d0 + W * L, OW, L);
    }
  });
}

// The stamp of codes written for this layout and shape (never 0).
uint32_t codes_stamp(const Lanes &ln, const PoolShape &sh) {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (int64_t v : {static_cast<int64_t>(ln.tag), ln.L, ln.planes, sh.in[0], sh.in[1]})
    h = (h ^ static_cast<uint64_t>(v)) * 0x100000001B3ull;
  return static_cast<uint32_t>(h >> 32) | 1u;
}

// Where the codes of this layout go in ws, or null when they do not fit.
uint8_t *codes_in(const PoolWorkspace &ws, const Lanes &ln, const PoolShape &sh) {
  const int64_t n = ln.planes * sh.out[0] * sh.out[1] * ln.L;
  return ws.data && ws.bytes >= n + 4 ? static_cast<uint8_t *>(ws.data) : nullptr;
}
uint32_t *stamp_of(const PoolWorkspace &ws) {
  return reinterpret_cast<uint32_t *>(static_cast<char *>(ws.data) + (ws.bytes / 4 - 1) * 4);
}

void max2x2_backward(const float *x, const float *gy, const float *ym, float *dx, int64_t P, int64_t H, int64_t W,
                     int64_t L) {
  const int64_t OH = H / 2, OW = W / 2;
  parallel_for(P * OH, std::max<int64_t>(1, 4096 / std::max<int64_t>(W * L, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t p = r / OH, oh = r % OH;
      const float *r0 = x + (p * H + 2 * oh) * W * L;
      float *d0 = dx + (p * H + 2 * oh) * W * L;
      if (ym) max2x2_backward_row<true>(r0, r0 + W * L, gy + r * OW * L, ym + r * OW * L, d0, d0 + W * L, OW, L);
      else max2x2_backward_row<false>(r0, r0 + W * L, gy + r * OW * L, nullptr, d0, d0 + W * L, OW, L);
    }
  });
}

struct Own2x2 {
  Reorder dst;  // the result's layout (x's tag) -> plain
  Reorder dy;   // plain -> x's tag, for dy and the output mask
  Reorder dsrc; // dx: x's tag -> plain
};

std::shared_ptr<Own2x2> own_plan(const PoolShape &sh, const Lanes &ln) {
  Key k("pool2x2_own");
  k.add(sh.N).add(sh.C).add(sh.in).add(static_cast<int64_t>(ln.tag));
  return cached<Own2x2>(k.str(), [&]() -> std::shared_ptr<Own2x2> {
    const memory::dims src{sh.N, sh.C, sh.in[0], sh.in[1]}, dst{sh.N, sh.C, sh.out[0], sh.out[1]};
    auto p = std::make_shared<Own2x2>();
    p->dst = Reorder(memory::desc(dst, memory::data_type::f32, ln.tag), plain_md(dst));
    p->dy = Reorder(plain_md(dst), memory::desc(dst, memory::data_type::f32, ln.tag));
    p->dsrc = Reorder(memory::desc(src, memory::data_type::f32, ln.tag), plain_md(src));
    return p;
  });
}

// x is a blocked value the executor kept (onednn.h): pool in its layout, and leave the result
// blocked too when the executor allows it.
struct PoolFwdBlocked {
  dnnl::pooling_forward prim;
  Reorder dst;  // the layout oneDNN picked for the result -> plain
};

bool pool_forward_blocked(const PoolShape &sh, const StepLayouts::In &bi, float *y, const PoolWorkspace &ws) {
  const memory::desc &src_md = bi.layout->to_plain.from;
  Lanes ln;
  if (own_2x2(sh) && lanes_of(src_md, sh, &ln)) {
    auto plan = own_plan(sh, ln);
    Scratch s;
    const_cast<StepLayouts::In &>(bi).handled = true;
    memory out = s.output(plan->dst, y);
    uint8_t *codes = codes_in(ws, ln, sh);
    max2x2_forward(static_cast<const float *>(bi.blocked), static_cast<float *>(out.get_data_handle()), ln.planes,
                   sh.in[0], sh.in[1], ln.L, codes);
    if (codes) *stamp_of(ws) = codes_stamp(ln, sh);
    s.finish_outputs();
    return true;
  }
  Key k("pool_fwd_blocked");
  k.add(sh.N).add(sh.C).add(sh.in).add(sh.out).add(sh.k).add(sh.s).add(sh.pad_l).add(sh.pad_hi).add(static_cast<int64_t>(sh.kind));
  k.add(sync_threads());
  auto plan = cached<PoolFwdBlocked>(k.str() + md_key(src_md), [&]() -> std::shared_ptr<PoolFwdBlocked> {
    PoolDims d;
    if (!pool_dims(sh, &d)) return nullptr;
    try {
      dnnl::pooling_forward::primitive_desc pd(
          dnnl::pooling_forward::desc(dnnl::prop_kind::forward_inference, algo(sh.kind), src_md,
                                      memory::desc(d.dst, memory::data_type::f32, memory::format_tag::any), d.s, d.k,
                                      d.pad_l, d.pad_r),
          engine());
      auto p = std::make_shared<PoolFwdBlocked>();
      p->prim = dnnl::pooling_forward(pd);
      p->dst = Reorder(pd.dst_desc(), plain_md(d.dst));
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  Scratch s;
  const_cast<StepLayouts::In &>(bi).handled = true;
  execute(plan->prim,
          {{DNNL_ARG_SRC, memory(src_md, engine(), const_cast<void *>(bi.blocked))},
           {DNNL_ARG_DST, s.output(plan->dst, y)}},
          "pooling forward");
  s.finish_outputs();
  return true;
}

}  // namespace

bool pool_forward(const PoolShape &sh, const void *x, void *y, PoolWorkspace ws) {
  if (ws.data && ws.bytes >= 4) *stamp_of(ws) = 0;  // no codes unless the blocked 2x2 kernel writes them
  if (!enabled() || sh.N * sh.C == 0) return false;
  if (const StepLayouts::In *bi = sh.bf16 ? nullptr : blocked_input(x))  // the executor blocks float32 only
    return pool_forward_blocked(sh, *bi, static_cast<float *>(y), ws);
  auto plan = cached<PoolFwd>(pool_key("pool_fwd", sh).str(), [&]() -> std::shared_ptr<PoolFwd> {
    PoolDims d;
    if (!pool_dims(sh, &d)) return nullptr;
    try {
      dnnl::pooling_forward::primitive_desc pd(fwd_desc(dnnl::prop_kind::forward_inference, sh, d), engine());
      auto p = std::make_shared<PoolFwd>();
      p->prim = dnnl::pooling_forward(pd);
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  PoolDims d;
  pool_dims(sh, &d);
  execute(plan->prim,
          {{DNNL_ARG_SRC, memory(md(sh, d.src), engine(), const_cast<void *>(x))},
           {DNNL_ARG_DST, memory(md(sh, d.dst), engine(), y)}},
          "pooling forward");
  return true;
}

bool pool_backward(const PoolShape &sh, const void *x, const void *dy, void *dx) {
  if (!enabled() || sh.N * sh.C == 0) return false;
  auto plan = cached<PoolBwd>(pool_key("pool_bwd", sh).str(), [&]() -> std::shared_ptr<PoolBwd> {
    PoolDims d;
    if (!pool_dims(sh, &d)) return nullptr;
    try {
      dnnl::pooling_forward::primitive_desc fpd(fwd_desc(dnnl::prop_kind::forward_training, sh, d), engine());
      dnnl::pooling_backward::primitive_desc bpd(
          dnnl::pooling_backward::desc(algo(sh.kind), md(sh, d.src), md(sh, d.dst), d.s, d.k, d.pad_l, d.pad_r),
          engine(), fpd);
      auto p = std::make_shared<PoolBwd>();
      p->fwd = dnnl::pooling_forward(fpd);
      p->prim = dnnl::pooling_backward(bpd);
      p->dst = fpd.dst_desc();
      p->ws = fpd.workspace_desc();
      p->has_ws = p->ws.get_size() > 0;
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  if (!plan) return false;
  PoolDims d;
  pool_dims(sh, &d);
  Scratch s;
  const memory src(md(sh, d.src), engine(), const_cast<void *>(x));
  std::unordered_map<int, memory> bargs{{DNNL_ARG_DIFF_DST, memory(md(sh, d.dst), engine(), const_cast<void *>(dy))},
                                        {DNNL_ARG_DIFF_SRC, memory(md(sh, d.src), engine(), dx)}};
  if (plan->has_ws) {
    memory ws = s.buffer(plan->ws);
    execute(plan->fwd, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, s.buffer(plan->dst)}, {DNNL_ARG_WORKSPACE, ws}},
            "pooling forward (for the backward)");
    bargs.emplace(DNNL_ARG_WORKSPACE, ws);
  }
  execute(plan->prim, bargs, "pooling backward");
  return true;
}

namespace {
struct PoolBwdBlocked {
  dnnl::pooling_forward fwd;
  dnnl::pooling_backward prim;
  memory::desc dst, ws;
  Reorder dy;    // plain -> the layout the backward wants for dy
  Reorder dsrc;  // dx: the backward's layout -> plain
  bool has_ws = false;
};
}  // namespace

bool pool_backward_blocked(const PoolShape &sh, const float *x, const float *dy, const float *y, float *dx,
                           bool relu_mask, PoolWorkspace ws) {
  StepLayouts *ctx = StepLayouts::current();
  StepLayouts::In *bx = ctx ? ctx->find_input(x) : nullptr;
  if (!enabled() || !bx || sh.N * sh.C == 0) return false;
  const memory::desc &src_md = bx->layout->to_plain.from;
  Lanes ln;
  if (own_2x2(sh) && lanes_of(src_md, sh, &ln)) {
    auto own = own_plan(sh, ln);
    Scratch s;
    bx->handled = true;
    memory g = s.input(own->dy, dy);
    StepLayouts::In *by = ctx->find_input(y);
    const uint8_t *codes = codes_in(ws, ln, sh);
    if (codes && *stamp_of(ws) == codes_stamp(ln, sh)) {  // the forward's codes: x and y are not read
      if (by) by->handled = true;
      memory out = s.output(own->dsrc, dx);
      max2x2_backward_codes(codes, static_cast<const float *>(g.get_data_handle()), relu_mask,
                            static_cast<float *>(out.get_data_handle()), ln.planes, sh.in[0], sh.in[1], ln.L);
      s.finish_outputs();
      return true;
    }
    const float *ym = nullptr;
    if (relu_mask) ym = static_cast<const float *>(s.input(own->dy, y).get_data_handle());
    else if (by) by->handled = true;  // not read
    memory out = s.output(own->dsrc, dx);
    max2x2_backward(static_cast<const float *>(bx->blocked), static_cast<const float *>(g.get_data_handle()), ym,
                    static_cast<float *>(out.get_data_handle()), ln.planes, sh.in[0], sh.in[1], ln.L);
    s.finish_outputs();
    return true;
  }
  Key k("pool_bwd_blocked");
  k.add(sh.N).add(sh.C).add(sh.in).add(sh.out).add(sh.k).add(sh.s).add(sh.pad_l).add(sh.pad_hi).add(static_cast<int64_t>(sh.kind));
  k.add(sync_threads());
  auto plan = cached<PoolBwdBlocked>(k.str() + md_key(src_md), [&]() -> std::shared_ptr<PoolBwdBlocked> {
    PoolDims d;
    if (!pool_dims(sh, &d)) return nullptr;
    try {
      const memory::desc any_dst(d.dst, memory::data_type::f32, memory::format_tag::any);
      dnnl::pooling_forward::primitive_desc fpd(
          dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, algo(sh.kind), src_md, any_dst, d.s, d.k,
                                      d.pad_l, d.pad_r),
          engine());
      dnnl::pooling_backward::primitive_desc bpd(
          dnnl::pooling_backward::desc(algo(sh.kind), src_md, fpd.dst_desc(), d.s, d.k, d.pad_l, d.pad_r), engine(),
          fpd);
      auto p = std::make_shared<PoolBwdBlocked>();
      p->fwd = dnnl::pooling_forward(fpd);
      p->prim = dnnl::pooling_backward(bpd);
      p->dst = fpd.dst_desc();
      p->ws = fpd.workspace_desc();
      p->has_ws = p->ws.get_size() > 0;
      p->dy = Reorder(plain_md(d.dst), bpd.diff_dst_desc());
      p->dsrc = Reorder(bpd.diff_src_desc(), plain_md(d.src));
      return p;
    } catch (const dnnl::error &) {
      return nullptr;
    }
  });
  // The mask runs over dy's buffer with the output's: their layouts must agree.
  if (!plan || (relu_mask && !(plan->dy.to == plan->dst))) return false;
  Scratch s;
  bx->handled = true;
  const memory src(src_md, engine(), const_cast<void *>(bx->blocked));
  memory gy = s.input(plan->dy, dy);
  if (StepLayouts::In *by = ctx->find_input(y)) by->handled = true;  // not read: recomputed below
  memory out;
  if (plan->has_ws || relu_mask) {
    out = s.buffer(plan->dst);
    std::unordered_map<int, memory> fargs{{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, out}};
    memory ws;
    if (plan->has_ws) {
      ws = s.buffer(plan->ws);
      fargs.emplace(DNNL_ARG_WORKSPACE, ws);
    }
    execute(plan->fwd, fargs, "pooling forward (for the backward)");
    if (relu_mask) {
      // dy where the output is positive, over the whole padded buffer (dy's layout is the
      // output's: both are the backward's diff_dst / the forward's dst, equal for pooling).
      memory masked = s.buffer(plan->dst);
      const float *g = static_cast<const float *>(gy.get_data_handle());
      const float *o = static_cast<const float *>(out.get_data_handle());
      float *m = static_cast<float *>(masked.get_data_handle());
      const int64_t n = static_cast<int64_t>(plan->dst.get_size() / sizeof(float));
      parallel_for(n, 1 << 14, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) m[i] = o[i] > 0.f ? g[i] : 0.f;
      });
      gy = masked;
    }
    std::unordered_map<int, memory> bargs{{DNNL_ARG_DIFF_DST, gy}, {DNNL_ARG_DIFF_SRC, s.output(plan->dsrc, dx)}};
    if (plan->has_ws) bargs.emplace(DNNL_ARG_WORKSPACE, ws);
    execute(plan->prim, bargs, "pooling backward");
  } else {
    execute(plan->prim, {{DNNL_ARG_DIFF_DST, gy}, {DNNL_ARG_DIFF_SRC, s.output(plan->dsrc, dx)}}, "pooling backward");
  }
  s.finish_outputs();
  return true;
}

#else

bool pool_backward_blocked(const PoolShape &, const float *, const float *, const float *, float *, bool,
                           PoolWorkspace) {
  return false;
}
bool pool_forward(const PoolShape &, const void *, void *, PoolWorkspace ws) {
  if (ws.data && ws.bytes >= 4) std::memset(static_cast<char *>(ws.data) + (ws.bytes / 4 - 1) * 4, 0, 4);
  return false;
}
bool pool_backward(const PoolShape &, const void *, const void *, void *) { return false; }

#endif

}  // namespace onednn
}  // namespace mx
