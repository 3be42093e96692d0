// Pooling (max, avg, sum, lp; 1-D/2-D/3-D; valid/full/same conventions; global pooling) and its
// fused backward _backward_Pooling.
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

#include "backends/cpu/onednn.h"
#include "backends/cpu/onednn_pool.h"
#include "ops/via_f32.h"
#include "backends/cpu/bf16_loops.h"
#include "backends/cudnn.h"
#include "ops/cuda_only.h"
#include "ops/nn/fusion_queries.h"
#include "ops/nn/nn_common.h"

namespace mx {
namespace {

struct PoolParam {
  std::vector<int64_t> kernel, stride, pad;
  std::string pool_type, pooling_convention, layout;
  bool global_pool = false, cudnn_off = false;
  std::optional<int64_t> p_value;
  std::optional<bool> count_include_pad;
  static void describe(ParamDecl<PoolParam> &d) {
    d.field("kernel", &PoolParam::kernel).def({}).doc("Pooling kernel size: (w,), (h, w) or (d, h, w).");
    d.field("pool_type", &PoolParam::pool_type).def("max").choices({"avg", "lp", "max", "sum"})
        .doc("Pooling type to be applied.");
    d.field("global_pool", &PoolParam::global_pool).def(false).doc("Ignore kernel size, do global pooling based on current input feature map.");
    d.field("cudnn_off", &PoolParam::cudnn_off).def(false).doc("Turn off cudnn pooling (ignored).");
    d.field("pooling_convention", &PoolParam::pooling_convention).def("valid").choices({"full", "same", "valid"})
        .doc("Pooling convention to be applied.");
    d.field("stride", &PoolParam::stride).def({}).doc("Stride for pooling. Defaults to 1 for each dimension.");
    d.field("pad", &PoolParam::pad).def({}).doc("Pad for pooling. Defaults to no padding.");
    d.field("p_value", &PoolParam::p_value).def(std::nullopt).doc("Value of p for Lp pooling, can be 1 or 2, required for Lp Pooling.");
    d.field("count_include_pad", &PoolParam::count_include_pad).def(std::nullopt)
        .doc("Only used for AvgPool, specify whether to count padding elements for average calculation (default True).");
    d.field("layout", &PoolParam::layout).def("None").choices({"None", "NCW", "NCHW", "NCDHW"})
        .doc("Set layout for input and output (channels first only).");
    d.check([](const PoolParam &p, const std::string &op) {
      const char *o = op.c_str();
      if (!p.global_pool) {
        int n = static_cast<int>(p.kernel.size());
        MX_CHECK(n >= 1 && n <= 3, MX_ERR_INVALID_ARGUMENT, o,
                 ": parameter 'kernel' must have 1 to 3 dimensions unless global_pool is set, got ", Shape(p.kernel).str());
        nn::check_positive(p.kernel, o, "kernel");
        nn::check_positive(nn::expand_tuple(p.stride, n, 1, o, "stride"), o, "stride");
        if (p.pooling_convention == "same") {
          // "same" computes its own padding (as MXNet): only zero pads, of any length, are accepted
          for (auto v : p.pad)
            MX_CHECK(v == 0, MX_ERR_INVALID_ARGUMENT, o, ": parameter 'pad' ", Shape(p.pad).str(),
                     " must be zero with pooling_convention 'same' (the padding is computed)");
        } else {
          nn::check_nonneg(nn::expand_tuple(p.pad, n, 0, o, "pad"), o, "pad");
        }
      } else {
        for (auto s : p.stride)
          MX_CHECK(s > 0, MX_ERR_INVALID_ARGUMENT, o, ": parameter 'stride' must be positive, got ", Shape(p.stride).str());
      }
      if (p.pool_type == "lp")
        MX_CHECK(p.p_value && *p.p_value > 0, MX_ERR_INVALID_ARGUMENT, o,
                 ": parameter 'p_value' must be a positive integer for pool_type 'lp'");
    });
  }
};

enum PoolKind { kMax, kAvg, kSum, kLp };

struct PoolGeom {
  nn::Geom g;
  std::vector<int64_t> pad_hi;  // end padding limit for window clipping (pad, or computed for "same")
  PoolKind kind;
  bool include_pad;
  int p;
};

PoolGeom pool_geom(const PoolParam &prm, const Shape &data, const char *op) {
  MX_CHECK(data.ndim() >= 3 && data.ndim() <= 5, MX_ERR_SHAPE, op,
           ": data must have 3 to 5 dimensions (N, C, spatial...), got shape ", data.str());
  int n = data.ndim() - 2;
  PoolGeom pg;
  nn::Geom &g = pg.g;
  g.nsp = n;
  g.channels = data[1];
  if (prm.global_pool) {
    for (int i = 0; i < n; ++i) g.k.push_back(data[i + 2]);
    g.s.assign(static_cast<size_t>(n), 1);
    g.p.assign(static_cast<size_t>(n), 0);
  } else {
    MX_CHECK(static_cast<int>(prm.kernel.size()) == n, MX_ERR_SHAPE, op, ": parameter 'kernel' ",
             Shape(prm.kernel).str(), " has ", prm.kernel.size(), " dimensions but data shape ", data.str(), " has ", n,
             " spatial dimensions");
    g.k = prm.kernel;
    g.s = nn::expand_tuple(prm.stride, n, 1, op, "stride");
    g.p = prm.pooling_convention == "same" ? std::vector<int64_t>(static_cast<size_t>(n), 0)
                                           : nn::expand_tuple(prm.pad, n, 0, op, "pad");
  }
  g.d.assign(static_cast<size_t>(n), 1);
  pg.pad_hi = g.p;
  for (int i = 0; i < n; ++i) {
    int64_t x = data[i + 2], k = g.k[static_cast<size_t>(i)], s = g.s[static_cast<size_t>(i)],
            p = g.p[static_cast<size_t>(i)];
    g.in.push_back(x);
    int64_t o;
    if (prm.global_pool) {
      o = 1;
    } else if (prm.pooling_convention == "same") {
      o = (x + s - 1) / s;
      int64_t total = std::max<int64_t>((o - 1) * s + k - x, 0);
      g.p[static_cast<size_t>(i)] = total / 2;
      pg.pad_hi[static_cast<size_t>(i)] = total - total / 2;
    } else {
      MX_CHECK(x + 2 * p >= k, MX_ERR_SHAPE, op, ": parameter 'kernel' ", Shape(g.k).str(),
               " is larger than the padded input (", x + 2 * p, ") along spatial axis ", i, " of data shape ", data.str());
      if (prm.pooling_convention == "valid") o = (x + 2 * p - k) / s + 1;
      else o = (x + 2 * p - k + s - 1) / s + 1;
    }
    g.out.push_back(o);
  }
  pg.kind = prm.pool_type == "max" ? kMax : prm.pool_type == "avg" ? kAvg : prm.pool_type == "sum" ? kSum : kLp;
  pg.include_pad = prm.count_include_pad.value_or(true);
  pg.p = static_cast<int>(prm.p_value.value_or(1));
  return pg;
}

// The hidden saved output (onednn::PoolWorkspace): 1-D, one 4-byte element per four padded outputs
// and a stamp.
Shape workspace_shape(const Shape &data, const PoolGeom &pg) {
  return Shape({onednn::pool_workspace_words(data[0], data[1], pg.g.out_size())});
}

bool pool_shape(const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
  if (!in[0].known()) return false;
  PoolGeom pg = pool_geom(prm.get<PoolParam>(), in[0], "Pooling");
  std::vector<int64_t> o{in[0][0], in[0][1]};
  for (auto x : pg.g.out) o.push_back(x);
  assign_shape(out[0], Shape(o), "Pooling", "output");
  if (out.size() > 1) assign_shape(out[1], workspace_shape(in[0], pg), "Pooling", "workspace");
  return true;
}

// The workspace array of a call (an empty one: none; Pooling output 1, _backward_Pooling input 3).
onednn::PoolWorkspace workspace_of(const std::vector<NDArray> &v, size_t i) {
  onednn::PoolWorkspace ws;
  if (i < v.size() && v[i].size() > 0 && v[i].device().is_cpu()) {
    ws.data = const_cast<void *>(v[i].craw());
    ws.bytes = static_cast<int64_t>(v[i].nbytes());
  }
  return ws;
}

// Pooling windows are separable: per spatial dim, output position o covers input [lo, hi)
// (clipped to the input) and `padded` positions counting padding. Tables are built once per
// call; spatial dims are right-aligned into three (a, b, c), missing ones of size 1.
struct DimWindows {
  std::vector<int64_t> lo, hi, padded;
};
struct Windows {
  DimWindows d[3];
  int64_t out[3], in[3];  // sizes per aligned dim
};

Windows window_tables(const PoolGeom &pg) {
  const nn::Geom &g = pg.g;
  Windows w;
  for (int a = 0; a < 3; ++a) {
    int i = a - (3 - g.nsp);  // spatial dim feeding aligned dim a, or < 0
    DimWindows &t = w.d[a];
    if (i < 0) {
      w.out[a] = w.in[a] = 1;
      t.lo = {0};
      t.hi = {1};
      t.padded = {1};
      continue;
    }
    const size_t u = static_cast<size_t>(i);
    w.out[a] = g.out[u];
    w.in[a] = g.in[u];
    for (int64_t o = 0; o < g.out[u]; ++o) {
      int64_t st = o * g.s[u] - g.p[u];
      int64_t en = std::min(st + g.k[u], g.in[u] + pg.pad_hi[u]);
      t.padded.push_back(std::max<int64_t>(en - st, 0));
      st = std::max<int64_t>(st, 0);
      en = std::min(en, g.in[u]);
      t.lo.push_back(st);
      t.hi.push_back(std::max(en, st));
    }
  }
  return w;
}

template <typename T> inline T powp(T a, int p) {
  if (p == 1) return a;
  if (p == 2) return a * a;
  if (p == 3) return a * a * a;
  return static_cast<T>(std::pow(a, p));
}

// Calls fn(oi, lo[3], hi[3], area) for every output position of one plane, in order.
template <typename F> inline void for_each_window(const Windows &w, bool include_pad, F fn) {
  int64_t oi = 0, lo[3], hi[3];
  for (int64_t a = 0; a < w.out[0]; ++a) {
    lo[0] = w.d[0].lo[static_cast<size_t>(a)];
    hi[0] = w.d[0].hi[static_cast<size_t>(a)];
    for (int64_t b = 0; b < w.out[1]; ++b) {
      lo[1] = w.d[1].lo[static_cast<size_t>(b)];
      hi[1] = w.d[1].hi[static_cast<size_t>(b)];
      for (int64_t c = 0; c < w.out[2]; ++c, ++oi) {
        lo[2] = w.d[2].lo[static_cast<size_t>(c)];
        hi[2] = w.d[2].hi[static_cast<size_t>(c)];
        int64_t area = include_pad ? w.d[0].padded[static_cast<size_t>(a)] * w.d[1].padded[static_cast<size_t>(b)] *
                                         w.d[2].padded[static_cast<size_t>(c)]
                                   : (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]);
        fn(oi, lo, hi, area);
      }
    }
  }
}

// Iterate one clipped window; fn(flat input index within the plane).
template <typename F> inline void for_window(const Windows &w, const int64_t *lo, const int64_t *hi, F fn) {
  const int64_t sa = w.in[1] * w.in[2], sb = w.in[2];
  for (int64_t a = lo[0]; a < hi[0]; ++a)
    for (int64_t b = lo[1]; b < hi[1]; ++b) {
      const int64_t row = a * sa + b * sb;
      for (int64_t c = lo[2]; c < hi[2]; ++c) fn(row + c);
    }
}

// The oneDNN view of a max or average pooling (false for sum and Lp, which stay with MX's loops).
bool onednn_shape(const PoolGeom &pg, const Shape &ds, onednn::PoolShape *sh) {
  if (pg.kind != kMax && pg.kind != kAvg) return false;
  sh->N = ds[0];
  sh->C = ds[1];
  sh->in = pg.g.in;
  sh->out = pg.g.out;
  sh->k = pg.g.k;
  sh->s = pg.g.s;
  sh->pad_l = pg.g.p;
  sh->pad_hi = pg.pad_hi;
  sh->kind = pg.kind == kMax ? onednn::PoolKind::kMax
             : pg.include_pad ? onednn::PoolKind::kAvgIncludePad
                              : onednn::PoolKind::kAvgExcludePad;
  return true;
}

template <typename T> void pool_forward(const OpCall &c) {
  const auto &prm = c.p<PoolParam>();
  const Shape &ds = c.inputs[0].shape();
  PoolGeom pg = pool_geom(prm, ds, "Pooling");
  const nn::Geom &g = pg.g;
  const int64_t NC = ds[0] * ds[1], I = g.in_size(), O = g.out_size();
  const T *x = c.inputs[0].cdata<T>();  // read-only: the input's version stays
  T *y = c.outputs[0].data<T>();
  const onednn::PoolWorkspace ws = workspace_of(c.outputs, 1);
  if (ws.data && ws.bytes >= 4)  // the stamp: no codes unless the blocked 2x2 kernel writes them
    std::memset(static_cast<char *>(ws.data) + (ws.bytes / 4 - 1) * 4, 0, 4);
  if constexpr (std::is_same_v<T, float>) {  // a blocked value the executor kept: oneDNN pools it
    if (onednn::blocked_input(x)) {
      onednn::PoolShape sh;
      if (onednn_shape(pg, ds, &sh) && onednn::pool_forward(sh, x, y, ws)) return;
      onednn::materialize_inputs();
    }
  }
  if (max_pool2x2_forward(pg, NC, x, y)) return;
  if constexpr (std::is_same_v<T, float>) {  // then oneDNN (backends/cpu/onednn_pool.h)
    onednn::PoolShape sh;
    if (onednn_shape(pg, ds, &sh) && onednn::pool_forward(sh, x, y)) return;
  }
  const Windows w = window_tables(pg);
  parallel_for(NC, std::max<int64_t>(1, 4096 / std::max<int64_t>(O * g.k_size(), 1)), [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane) {
      const T *xp = x + plane * I;
      T *yp = y + plane * O;
      for_each_window(w, pg.include_pad, [&](int64_t oi, const int64_t *lo, const int64_t *hi, int64_t area) {
        T acc;
        switch (pg.kind) {
          case kMax: {
            acc = std::numeric_limits<T>::lowest();  // MXNet: a window lying wholly in padding gives the lowest finite value
            for_window(w, lo, hi, [&](int64_t j) { if (xp[j] > acc) acc = xp[j]; });
            break;
          }
          case kAvg:
          case kSum: {
            acc = 0;
            for_window(w, lo, hi, [&](int64_t j) { acc += xp[j]; });
            if (pg.kind == kAvg) acc = area > 0 ? acc / static_cast<T>(area) : T(0);
            break;
          }
          default: {
            acc = 0;
            for_window(w, lo, hi, [&](int64_t j) { acc += powp(xp[j], pg.p); });
            acc = pg.p == 1 ? acc : pg.p == 2 ? std::sqrt(acc) : static_cast<T>(std::pow(acc, T(1) / pg.p));
          }
        }
        yp[oi] = acc;
      });
    }
  });
}

// Max pooling gradient for 2x2 windows of stride 2 tiling the input (no padding, even sizes),
// the usual CNN pooling: each input element is written once, the gradient where it is its
// window's first maximum (as the generic loop below decides), else 0. Branch-free: on random
// data branches mispredict. oneDNN's backward needs the forward's argmax workspace, which MX
// does not keep, so it re-runs the forward first: 0.29 ms here against 1.0 ms (128x16x24x24).
// v where c holds, else +0, without a branch (float and double).
template <typename T> inline T keep_if(bool c, T v) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  U bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits &= U(0) - static_cast<U>(c);
  std::memcpy(&v, &bits, sizeof bits);
  return v;
}

// ymask (the fused relu backward, pool_backward_relu): the pooling's output; out_grad passes only
// where it is positive. Null: no mask.
template <typename T, bool kMask = false>
bool max_pool2x2_backward(const PoolGeom &pg, int64_t NC, const T *x, const T *gy, T *dx, const T *ymask = nullptr) {
  const nn::Geom &g = pg.g;
  if (pg.kind != kMax || g.nsp != 2) return false;
  for (size_t i = 0; i < 2; ++i)
    if (g.k[i] != 2 || g.s[i] != 2 || g.p[i] != 0 || g.out[i] * 2 != g.in[i]) return false;
  const int64_t W = g.in[1], I = g.in[0] * W, OH = g.out[0], OW = g.out[1], O = OH * OW;
  parallel_for(NC, std::max<int64_t>(1, 16384 / std::max<int64_t>(I, 1)), [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane)
      for (int64_t oh = 0; oh < OH; ++oh) {
        const T *r0 = x + plane * I + 2 * oh * W, *r1 = r0 + W, *gr = gy + plane * O + oh * OW;
        const T *ym = kMask ? ymask + plane * O + oh * OW : gr;
        T *d0 = dx + plane * I + 2 * oh * W, *d1 = d0 + W;
        for (int64_t ow = 0; ow < OW; ++ow) {
          const T a = r0[2 * ow], bb = r0[2 * ow + 1], cc = r1[2 * ow], dd = r1[2 * ow + 1];
          // The mask by bits, not a select: with a select GCC made the whole loop branch (6x slower).
          const T gv = kMask ? keep_if(ym[ow] > T(0), gr[ow]) : gr[ow];
          const bool pb = bb > a;
          const T m1 = pb ? bb : a;
          const bool pc = cc > m1;
          const T m2 = pc ? cc : m1;
          const bool pd = dd > m2;
          // Bitwise, not short-circuit: on random data branches mispredict (3x slower).
          const bool wd = pd, wc = pc & !pd, wb = pb & !pc & !pd, wa = !pb & !pc & !pd;
          d1[2 * ow + 1] = wd ? gv : T(0);
          d1[2 * ow] = wc ? gv : T(0);
          d0[2 * ow + 1] = wb ? gv : T(0);
          d0[2 * ow] = wa ? gv : T(0);
        }
      }
  });
  return true;
}

// Forward of the same case: each output the largest of its 4 inputs, as the generic loop
// (starting from the lowest value, so NaNs are skipped). 2.2x faster than oneDNN's plain-layout
// kernel (128x16x24x24, 0.13 against 0.29 ms at 1 thread).
template <typename T> bool max_pool2x2_forward(const PoolGeom &pg, int64_t NC, const T *x, T *y) {
  const nn::Geom &g = pg.g;
  if (pg.kind != kMax || g.nsp != 2) return false;
  for (size_t i = 0; i < 2; ++i)
    if (g.k[i] != 2 || g.s[i] != 2 || g.p[i] != 0 || g.out[i] * 2 != g.in[i]) return false;
  const int64_t W = g.in[1], I = g.in[0] * W, OH = g.out[0], OW = g.out[1], O = OH * OW;
  const T lo = std::numeric_limits<T>::lowest();
  parallel_for(NC, std::max<int64_t>(1, 16384 / std::max<int64_t>(I, 1)), [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane)
      for (int64_t oh = 0; oh < OH; ++oh) {
        const T *r0 = x + plane * I + 2 * oh * W, *r1 = r0 + W;
        T *yr = y + plane * O + oh * OW;
        for (int64_t ow = 0; ow < OW; ++ow) {
          T m = r0[2 * ow] > lo ? r0[2 * ow] : lo;
          m = r0[2 * ow + 1] > m ? r0[2 * ow + 1] : m;
          m = r1[2 * ow] > m ? r1[2 * ow] : m;
          yr[ow] = r1[2 * ow + 1] > m ? r1[2 * ow + 1] : m;
        }
      }
  });
  return true;
}

// bfloat16 (cpu_dtypes): oneDNN's bf16 pooling, else the float32 kernel on converted copies.
void pool_forward_bf16(const OpCall &c) {
  const Shape &ds = c.inputs[0].shape();
  onednn::PoolShape sh;
  if (onednn_shape(pool_geom(c.p<PoolParam>(), ds, "Pooling"), ds, &sh)) {
    sh.bf16 = true;
    if (onednn::pool_forward(sh, c.inputs[0].craw(), c.outputs[0].raw())) return;
  }
  run_via_f32(c, pool_forward<float>);
}

// inputs: out_grad, data, output; output: data grad
template <typename T> void pool_backward(const OpCall &c) {
  const auto &prm = c.p<PoolParam>();
  const Shape &ds = c.inputs[1].shape();
  PoolGeom pg = pool_geom(prm, ds, "_backward_Pooling");
  const nn::Geom &g = pg.g;
  const int64_t NC = ds[0] * ds[1], I = g.in_size(), O = g.out_size();
  const T *gy = c.inputs[0].cdata<T>(), *x = c.inputs[1].cdata<T>(), *y = c.inputs[2].cdata<T>();
  T *dx = c.outputs[0].data<T>();
  if constexpr (std::is_same_v<T, float>) {  // blocked values the executor kept: oneDNN in their layout
    if (onednn::blocked_input(x) || onednn::blocked_input(gy) || onednn::blocked_input(y)) {
      onednn::PoolShape sh;
      if (onednn_shape(pg, ds, &sh) &&
          onednn::pool_backward_blocked(sh, x, gy, y, dx, false, workspace_of(c.inputs, 3)))
        return;
      onednn::materialize_inputs();
    }
  }
  if (max_pool2x2_backward(pg, NC, x, gy, dx)) return;
  if constexpr (std::is_same_v<T, float>) {
    onednn::PoolShape sh;
    if (onednn_shape(pg, ds, &sh) && onednn::pool_backward(sh, x, gy, dx)) return;
  }
  const Windows w = window_tables(pg);
  parallel_for(NC, std::max<int64_t>(1, 4096 / std::max<int64_t>(O * g.k_size(), 1)), [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane) {
      const T *xp = x + plane * I, *yp = y + plane * O, *gp = gy + plane * O;
      T *dp = dx + plane * I;
      std::memset(dp, 0, sizeof(T) * static_cast<size_t>(I));
      for_each_window(w, pg.include_pad, [&](int64_t oi, const int64_t *lo, const int64_t *hi, int64_t area) {
        const T gv = gp[oi];
        switch (pg.kind) {
          case kMax: {  // first position holding the maximum
            int64_t arg = -1;
            T best = -std::numeric_limits<T>::infinity();
            for_window(w, lo, hi, [&](int64_t j) { if (arg < 0 || xp[j] > best) { best = xp[j]; arg = j; } });
            if (arg >= 0) dp[arg] += gv;
            break;
          }
          case kAvg:
          case kSum: {
            T v = pg.kind == kAvg ? (area > 0 ? gv / static_cast<T>(area) : T(0)) : gv;
            for_window(w, lo, hi, [&](int64_t j) { dp[j] += v; });
            break;
          }
          default: {  // d/dx (sum x^p)^(1/p) = x^(p-1) / out^(p-1)
            const T out = yp[oi];
            for_window(w, lo, hi, [&](int64_t j) {
              if (pg.p == 1) dp[j] += gv;
              else if (out != T(0)) dp[j] += gv * powp(xp[j] / out, pg.p - 1);
            });
          }
        }
      });
    }
  });
}

// The executor's fusion of _backward_Pooling(max) with the _backward_Activation(relu) that
// follows it, where the relu's output is the pooling's input (conv -> relu -> max-pool): the
// gradient reaches only each window's maximum, and relu passes it there iff that maximum (the
// pooling output) is positive, so masking the small out_grad replaces a pass over the large
// data gradient.
template <typename T> void pool_backward_relu(const OpCall &c) {
  const NDArray &gy = c.inputs[0], &y = c.inputs[2];
  if constexpr (std::is_same_v<T, float>) {  // blocked values the executor kept (executor_blocked.cc)
    const float *x = c.inputs[1].cdata<float>(), *g = gy.cdata<float>(), *yp = y.cdata<float>();
    if (onednn::blocked_input(x) || onednn::blocked_input(g) || onednn::blocked_input(yp)) {
      const Shape &ds = c.inputs[1].shape();
      PoolGeom pg = pool_geom(c.p<PoolParam>(), ds, "_fused_backward_Pooling_relu");
      onednn::PoolShape sh;
      if (onednn_shape(pg, ds, &sh) &&
          onednn::pool_backward_blocked(sh, x, g, yp, c.outputs[0].data<float>(), true, workspace_of(c.inputs, 3)))
        return;
      onednn::materialize_inputs();
    }
  }
  {  // 2x2 windows of stride 2: the mask is applied inside the kernel, no masked copy of out_grad
    const Shape &ds = c.inputs[1].shape();
    PoolGeom pg = pool_geom(c.p<PoolParam>(), ds, "_fused_backward_Pooling_relu");
    if (max_pool2x2_backward<T, true>(pg, ds[0] * ds[1], c.inputs[1].cdata<T>(), gy.cdata<T>(),
                                      c.outputs[0].data<T>(), y.cdata<T>()))
      return;
  }
  NDArray masked(gy.shape(), gy.dtype(), gy.device());
  const T *g = gy.data<T>(), *yp = y.data<T>();
  T *m = masked.data<T>();
  parallel_for(gy.size(), 1 << 14, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) m[i] = keep_if(yp[i] > T(0), g[i]);  // branch-free (see keep_if)
  });
  const std::vector<NDArray> in{masked, c.inputs[1], c.inputs[2], c.inputs[3]};
  pool_backward<T>(OpCall{c.params, in, c.aux, c.outputs, c.is_train, c.rng, c.skip});
}

void pool_backward_bf16(const OpCall &c) {
  const Shape &ds = c.inputs[1].shape();
  onednn::PoolShape sh;
  if (onednn_shape(pool_geom(c.p<PoolParam>(), ds, "_backward_Pooling"), ds, &sh)) {
    sh.bf16 = true;
    if (onednn::pool_backward(sh, c.inputs[1].craw(), c.inputs[0].craw(), c.outputs[0].raw())) return;
  }
  run_via_f32(c, pool_backward<float>);
}

// bfloat16 relu + max-pool gradient: out_grad masked where the pooling's output is positive (an
// exact select on the bf16 values), then the bf16 pooling gradient.
void pool_backward_relu_bf16(const OpCall &c) {
  const NDArray &gy = c.inputs[0], &y = c.inputs[2];
  NDArray masked(gy.shape(), gy.dtype(), gy.device());
  bf16::relu_backward(gy.cdata<bf16_t>(), y.cdata<bf16_t>(), masked.data<bf16_t>(), gy.size());
  const std::vector<NDArray> in{masked, c.inputs[1], c.inputs[2]};
  pool_backward_bf16(OpCall{c.params, in, c.aux, c.outputs, c.is_train, c.rng, c.skip});
}

// GPU kernels: cuDNN (backends/cuda/cudnn_pool.cc) where it pools exactly as MX; Lp pooling and
// windows cuDNN cannot express fail naming the op.
cudnn::PoolSpec cudnn_spec(const PoolGeom &pg, const char *op) {
  MX_CHECK(pg.kind != kLp, MX_ERR_UNSUPPORTED, op, ": Lp pooling (pool_type 'lp') runs on the CPU only (copy its "
           "inputs there with as_in_context(mx.cpu()))");
  cudnn::PoolSpec s;
  s.in = pg.g.in;
  s.out = pg.g.out;
  s.k = pg.g.k;
  s.s = pg.g.s;
  s.p = pg.g.p;
  s.mode = pg.kind == kMax ? cudnn::PoolMode::kMax
           : pg.kind == kSum ? cudnn::PoolMode::kSum
           : pg.include_pad ? cudnn::PoolMode::kAvgIncludePad
                            : cudnn::PoolMode::kAvgExcludePad;
  return s;
}

void pool_forward_gpu(const OpCall &c) {
  const PoolGeom pg = pool_geom(c.p<PoolParam>(), c.inputs[0].shape(), "Pooling");
  cudnn::pool_forward("Pooling", cudnn_spec(pg, "Pooling"), c.inputs[0], c.outputs[0]);
}

void pool_backward_gpu(const OpCall &c) {
  const PoolGeom pg = pool_geom(c.p<PoolParam>(), c.inputs[1].shape(), "_backward_Pooling");
  cudnn::pool_backward("_backward_Pooling", cudnn_spec(pg, "_backward_Pooling"), c.inputs[0], c.inputs[1],
                       c.inputs[2], c.outputs[0]);
}

const int registered = [] {
  MX_REGISTER_OP(Pooling)
      .doc("Performs max, average, sum or Lp pooling over 1-D, 2-D or 3-D windows (channels first).")
      .params<PoolParam>()
      .inputs({"data"})
      // workspace: hidden, saved for the gradient (the 2x2 max kernel's argmax codes, onednn_pool.h)
      .outputs({"output", "workspace"})
      .num_visible_outputs([](const Params &) { return 1; })
      .saved_outputs(1)
      .shape(pool_shape)
      .cpu([](const OpCall &c) {
        if (c.inputs[0].dtype() == DType::bf16) return pool_forward_bf16(c);
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "Pooling", { pool_forward<T>(c); });
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(pool_forward_gpu))
      .gpu_dtypes({DType::f16, DType::bf16})  // cuDNN: 16-bit data, float32 accumulation (bf16: sm_80+)
      .grad([](GradBuilder &b, const GradNode &n) -> std::vector<Var> {
        return {b.emit(&Registry::get().require("_backward_Pooling"), n.params,
                       {n.out_grads[0], n.inputs[0], n.outputs[0], n.outputs[1]})[0]};
      });
  MX_REGISTER_OP(_backward_Pooling)
      .doc("Gradient of Pooling: inputs (out_grad, data, output, workspace); the workspace is Pooling's "
           "hidden saved output (an empty array: none).")
      .params<PoolParam>()
      .inputs({"out_grad", "data", "output", "workspace"})
      .outputs({"data_grad"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &, ShapeVec &out) {
        if (!in[1].known()) return false;
        ShapeVec fi{in[1]}, fa, fo{Shape(), Shape()};
        pool_shape(prm, fi, fa, fo);
        assign_shape(in[0], fo[0], "_backward_Pooling", "out_grad");
        assign_shape(in[2], fo[0], "_backward_Pooling", "output");
        if (!in[3].known()) in[3] = fo[1];  // (an empty array when the forward kept none)
        assign_shape(out[0], in[1], "_backward_Pooling", "data_grad");
        return true;
      })
      .cpu([](const OpCall &c) {
        if (c.inputs[0].dtype() == DType::bf16) return pool_backward_bf16(c);
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_backward_Pooling", { pool_backward<T>(c); });
      })
      .cpu_dtypes({DType::bf16})
      .gpu(cuda_only(pool_backward_gpu))
      .gpu_dtypes({DType::f16, DType::bf16})  // cuDNN: 16-bit data, float32 accumulation (bf16: sm_80+)
      .no_grad();
  MX_REGISTER_OP(_fused_backward_Pooling_relu)
      .doc("Gradient of relu followed by max Pooling, as one step (made by the executor's fusion pass): "
           "inputs (out_grad, data, output, workspace) of the pooling, where data is the relu's output.")
      .params<PoolParam>()
      .inputs({"out_grad", "data", "output", "workspace"})
      .outputs({"data_grad"})
      .shape([](const Params &prm, ShapeVec &in, ShapeVec &aux, ShapeVec &out) {
        return Registry::get().require("_backward_Pooling").infer_shape(prm, in, aux, out);
      })
      .cpu([](const OpCall &c) {
        MX_CHECK(c.p<PoolParam>().pool_type == "max", MX_ERR_INVALID_ARGUMENT,
                 "_fused_backward_Pooling_relu: needs max pooling, got pool_type '", c.p<PoolParam>().pool_type, "'");
        if (c.inputs[0].dtype() == DType::bf16) return pool_backward_relu_bf16(c);
        MX_DTYPE_SWITCH_FLOAT(c.inputs[0].dtype(), T, "_fused_backward_Pooling_relu", { pool_backward_relu<T>(c); });
      })
      .cpu_dtypes({DType::bf16})
      .no_grad();
  return 0;
}();

}  // namespace

bool pooling_is_max(const Params &p) {
  return p.op == Registry::get().find("Pooling") && p.get<PoolParam>().pool_type == "max";
}
}  // namespace mx
