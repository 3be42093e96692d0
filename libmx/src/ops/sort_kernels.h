// sort / argsort / topk, their along-axis adjoints and the Sequence* ops written once for both
// devices (ops/each.h): MX_HD functors and runners templated on the Each runner. index_ops.cc
// calls the *_any entry points below, which run the functors with HostEach on the CPU and go to
// backends/cuda/sort_sequence.cu (DeviceEach) for GPU arrays.
// Sorting: one functor call sorts one line (pre x n x post view around the axis) with a stable
// bottom-up merge sort on double keys in scratch memory: NaN last ascending, first descending
// (the numpy order), ties keep their index order. Both devices return the same positions.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "base/half_bits.h"
#include "base/hd.h"
#include "ndarray/ndarray.h"
#include "ops/registry.h"

namespace mx {
namespace sortk {

struct LineGeom {
  int64_t pre, n, post;
};

// Key readers: element i of the data as double. kind 0: arithmetic T; 1: float16; 2: bfloat16.
template <typename T, int kind> struct Key {
  const T *d;
  MX_HD double operator()(int64_t i) const {
    if constexpr (kind == 1) return half_bits_to_float(d[i]);
    else if constexpr (kind == 2) return bf16_bits_to_float(d[i]);
    else return static_cast<double>(d[i]);
  }
};

// a strictly before b: ascending NaN last, descending NaN first.
MX_HD inline bool before(double a, double b, bool ascend) {
  const bool an = a != a, bn = b != b;
  if (ascend) return bn ? !an : a < b;
  return an ? !bn : a > b;
}

// Sorted positions of one line: out (pre, k, post) gets the first k.
template <class K> struct SortLines {
  K key;
  LineGeom L;
  int64_t k;
  bool ascend;
  double *ka, *kb;
  int64_t *ia, *ib, *out;
  MX_HD void operator()(int64_t line) const {
    const int64_t p = line / L.post, q = line % L.post, n = L.n;
    double *k0 = ka + line * n, *k1 = kb + line * n;
    int64_t *i0 = ia + line * n, *i1 = ib + line * n;
    for (int64_t j = 0; j < n; ++j) {
      k0[j] = key((p * n + j) * L.post + q);
      i0[j] = j;
    }
    for (int64_t w = 1; w < n; w *= 2) {
      for (int64_t lo = 0; lo < n; lo += 2 * w) {
        const int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
        int64_t a = lo, b = mid, o = lo;
        while (a < mid && b < hi) {
          if (before(k0[b], k0[a], ascend)) {  // only a strictly earlier right element jumps ahead: stable
            k1[o] = k0[b];
            i1[o++] = i0[b++];
          } else {
            k1[o] = k0[a];
            i1[o++] = i0[a++];
          }
        }
        while (a < mid) {
          k1[o] = k0[a];
          i1[o++] = i0[a++];
        }
        while (b < hi) {
          k1[o] = k0[b];
          i1[o++] = i0[b++];
        }
      }
      double *kt = k0;
      k0 = k1;
      k1 = kt;
      int64_t *it = i0;
      i0 = i1;
      i1 = it;
    }
    for (int64_t j = 0; j < k; ++j) out[(p * k + j) * L.post + q] = i0[j];
  }
};

// out[p, j, q] = data[p, idx[p, j, q], q] (raw element bytes U).
template <typename U> struct GatherAlong {
  const U *d;
  const int64_t *idx;
  LineGeom L;
  int64_t k;
  U *out;
  MX_HD void operator()(int64_t i) const {
    const int64_t p = i / (k * L.post), q = i % L.post;
    out[i] = d[(p * L.n + idx[i]) * L.post + q];
  }
};

// grad[p, idx[p, j, q], q] += g[p, j, q] (add) or = value (set), one call per line so repeated
// indices add in order on either device; grad was zeroed.
template <typename T, bool add> struct ScatterAlong {
  const T *g;
  T value;
  const int64_t *idx;
  LineGeom L;
  int64_t k;
  T *grad;
  MX_HD void operator()(int64_t line) const {
    const int64_t p = line / L.post, q = line % L.post;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t i = (p * k + j) * L.post + q;
      T &dst = grad[(p * L.n + idx[i]) * L.post + q];
      if constexpr (add) dst = static_cast<T>(dst + g[i]);
      else dst = value;
    }
  }
};

// out[i] = idx[i] as the arithmetic type O.
template <typename O> struct WriteIndex {
  const int64_t *idx;
  O *out;
  MX_HD void operator()(int64_t i) const { out[i] = static_cast<O>(idx[i]); }
};

// ---- Sequence*: data (T, B, inner...) with axis 0 or (B, T, inner...) with axis 1; len[b] in
// [0, T] (nullptr: every sequence has length T).
struct SeqGeom {
  int64_t T, B, inner;
  int axis;
  MX_HD int64_t at(int64_t t, int64_t b) const { return (axis == 0 ? (t * B + b) : (b * T + t)) * inner; }
  MX_HD void tb(int64_t i, int64_t *t, int64_t *b) const {  // (t, b) of element i
    const int64_t e = i / inner;
    if (axis == 0) {
      *t = e / B;
      *b = e % B;
    } else {
      *b = e / T;
      *t = e % T;
    }
  }
  MX_HD int64_t len(const int64_t *l, int64_t b) const { return l ? l[b] : T; }
};

template <typename U> struct SeqMask {
  SeqGeom G;
  const int64_t *len;
  const U *x;
  U value;
  U *y;
  MX_HD void operator()(int64_t i) const {
    int64_t t, b;
    G.tb(i, &t, &b);
    y[i] = t < G.len(len, b) ? x[i] : value;
  }
};

template <typename U> struct SeqReverse {
  SeqGeom G;
  const int64_t *len;
  const U *x;
  U *y;
  MX_HD void operator()(int64_t i) const {
    int64_t t, b;
    G.tb(i, &t, &b);
    const int64_t l = G.len(len, b), s = t < l ? l - 1 - t : t;
    y[i] = x[G.at(s, b) + i % G.inner];
  }
};

// SequenceLast: y (B, inner) from step max(len - 1, 0).
template <typename U> struct SeqLast {
  SeqGeom G;
  const int64_t *len;
  const U *x;
  U *y;
  MX_HD void operator()(int64_t i) const {
    const int64_t b = i / G.inner, l = G.len(len, b), t = l > 1 ? l - 1 : 0;
    y[i] = x[G.at(t, b) + i % G.inner];
  }
};

// Its adjoint: dx (like data) is g at each last step, else 0.
template <typename U> struct SeqLastBackward {
  SeqGeom G;
  const int64_t *len;
  const U *g;
  U *dx;
  MX_HD void operator()(int64_t i) const {
    int64_t t, b;
    G.tb(i, &t, &b);
    const int64_t l = G.len(len, b), last = l > 1 ? l - 1 : 0;
    dx[i] = t == last ? g[b * G.inner + i % G.inner] : U(0);
  }
};

// ---- runners (host side; Each decides the device)
#define MX_SORTK_BYTES(nb, U, ...)                                          \
  switch (nb) {                                                             \
    case 1: { using U = uint8_t; __VA_ARGS__; } break;                      \
    case 2: { using U = uint16_t; __VA_ARGS__; } break;                     \
    case 4: { using U = uint32_t; __VA_ARGS__; } break;                     \
    case 8: { using U = uint64_t; __VA_ARGS__; } break;                     \
    default: ::mx::fail(MX_ERR_INTERNAL, "unexpected element size ", nb);   \
  }

// Sorted positions (int64, (pre, k, post), on data's device).
template <class Each>
NDArray sort_positions(const NDArray &data, LineGeom L, int64_t k, bool ascend, const Each &each) {
  const Device dev = data.device();
  NDArray out(Shape{L.pre * k * L.post}, DType::i64, dev);
  const int64_t lines = L.pre * L.post, m = lines * L.n;
  if (lines == 0 || k == 0) return out;
  NDArray ka(Shape{m}, DType::f64, dev), kb(Shape{m}, DType::f64, dev), ia(Shape{m}, DType::i64, dev),
      ib(Shape{m}, DType::i64, dev);
  auto run = [&](auto key) {
    each(lines,
         SortLines<decltype(key)>{key, L, k, ascend, ka.data<double>(), kb.data<double>(), ia.data<int64_t>(),
                                  ib.data<int64_t>(), out.data<int64_t>()},
         1);
  };
  const void *d = data.craw();
  switch (data.dtype()) {
    case DType::f32: run(Key<float, 0>{static_cast<const float *>(d)}); break;
    case DType::f64: run(Key<double, 0>{static_cast<const double *>(d)}); break;
    case DType::f16: run(Key<uint16_t, 1>{static_cast<const uint16_t *>(d)}); break;
    case DType::bf16: run(Key<uint16_t, 2>{static_cast<const uint16_t *>(d)}); break;
    case DType::u8: run(Key<uint8_t, 0>{static_cast<const uint8_t *>(d)}); break;
    case DType::boolean: run(Key<uint8_t, 0>{static_cast<const uint8_t *>(d)}); break;
    case DType::i8: run(Key<int8_t, 0>{static_cast<const int8_t *>(d)}); break;
    case DType::i32: run(Key<int32_t, 0>{static_cast<const int32_t *>(d)}); break;
    case DType::i64: run(Key<int64_t, 0>{static_cast<const int64_t *>(d)}); break;
    default: fail(MX_ERR_TYPE, "sort: unsupported dtype ", dtype_name(data.dtype()));
  }
  return out;
}

template <class Each>
void gather_along(const NDArray &data, const NDArray &idx, const NDArray &out, LineGeom L, int64_t k,
                  const Each &each) {
  MX_SORTK_BYTES(dtype_size(data.dtype()), U, {
    each(out.size(), GatherAlong<U>{data.data<U>(), idx.data<int64_t>(), L, k, out.data<U>()});
  });
}

// Indices into an output of any arithmetic dtype; false for float16/bfloat16 (the caller converts).
template <class Each> bool write_indices(const NDArray &idx, const NDArray &out, const Each &each) {
  const int64_t *s = idx.data<int64_t>();
  switch (out.dtype()) {
    case DType::f32: each(out.size(), WriteIndex<float>{s, out.data<float>()}); return true;
    case DType::f64: each(out.size(), WriteIndex<double>{s, out.data<double>()}); return true;
    case DType::i32: each(out.size(), WriteIndex<int32_t>{s, out.data<int32_t>()}); return true;
    case DType::i64: each(out.size(), WriteIndex<int64_t>{s, out.data<int64_t>()}); return true;
    case DType::u8: each(out.size(), WriteIndex<uint8_t>{s, out.data<uint8_t>()}); return true;
    case DType::i8: each(out.size(), WriteIndex<int8_t>{s, out.data<int8_t>()}); return true;
    default: return false;
  }
}

// grad (zeroed by the caller) += g scattered (add), or = `one` bytes (set: distinct indices).
template <class Each>
void scatter_along(const NDArray &g, const NDArray &idx, const NDArray &grad, LineGeom L, int64_t k, bool add,
                   const Each &each) {
  const int64_t lines = L.pre * L.post;
  if (!add) {
    MX_SORTK_BYTES(dtype_size(grad.dtype()), U, {
      U one{};
      memcpy(&one, g.craw(), sizeof(U));  // g: one element holding the value to set
      each(lines, ScatterAlong<U, false>{nullptr, one, idx.data<int64_t>(), L, k, grad.data<U>()}, 1);
    });
    return;
  }
  switch (grad.dtype()) {
#define MX_SORTK_ADD(DT, T)                                                                                 \
  case DT: each(lines, ScatterAlong<T, true>{g.data<T>(), T(0), idx.data<int64_t>(), L, k, grad.data<T>()}, 1); \
    return;
    MX_SORTK_ADD(DType::f32, float)
    MX_SORTK_ADD(DType::f64, double)
    MX_SORTK_ADD(DType::i32, int32_t)
    MX_SORTK_ADD(DType::i64, int64_t)
    MX_SORTK_ADD(DType::u8, uint8_t)
    MX_SORTK_ADD(DType::i8, int8_t)
#undef MX_SORTK_ADD
    default: fail(MX_ERR_TYPE, "_scatter_along_axis: no GPU kernel for dtype ", dtype_name(grad.dtype()),
                  " (float16, bfloat16 and bool gradients of sort/topk/_take_along_axis run on the CPU)");
  }
}

enum class SeqKind { kMask, kReverse, kLast, kLastBackward };

// The Sequence* kernels; `value` (kMask) holds one element of the data's dtype.
template <class Each>
void sequence(SeqKind kind, SeqGeom G, const int64_t *len, const NDArray &in, const NDArray &out, const void *value,
              const Each &each) {
  MX_SORTK_BYTES(dtype_size(in.dtype()), U, {
    const U *x = in.data<U>();
    U *y = out.data<U>();
    switch (kind) {
      case SeqKind::kMask: {
        U v{};
        memcpy(&v, value, sizeof(U));
        each(out.size(), SeqMask<U>{G, len, x, v, y});
        break;
      }
      case SeqKind::kReverse: each(out.size(), SeqReverse<U>{G, len, x, y}); break;
      case SeqKind::kLast: each(out.size(), SeqLast<U>{G, len, x, y}); break;
      case SeqKind::kLastBackward: each(out.size(), SeqLastBackward<U>{G, len, x, y}); break;
    }
  });
}

}  // namespace sortk

// GPU entry points (backends/cuda/sort_sequence.cu; stubs in gpu_none.cc): the runners above
// with DeviceEach on c's stream.
NDArray gpu_sort_positions(const OpCall &c, const NDArray &data, sortk::LineGeom L, int64_t k, bool ascend);
void gpu_gather_along(const OpCall &c, const NDArray &data, const NDArray &idx, const NDArray &out, sortk::LineGeom L,
                      int64_t k);
bool gpu_write_indices(const OpCall &c, const NDArray &idx, const NDArray &out);
void gpu_scatter_along(const OpCall &c, const NDArray &g, const NDArray &idx, const NDArray &grad, sortk::LineGeom L,
                       int64_t k, bool add);
void gpu_sequence(const OpCall &c, sortk::SeqKind kind, sortk::SeqGeom G, const int64_t *len, const NDArray &in,
                  const NDArray &out, const void *value);

}  // namespace mx
