// Helpers shared by the shape / data-movement / indexing ops (shape_ops.cc, slice_ops.cc,
// concat_ops.cc, index_ops.cc). Pure data movement runs on raw element bytes, so every dtype
// (float16/bfloat16/bool included) is moved without conversion.
#pragma once
#include <cstring>
#include <type_traits>
#include <vector>

#include "backends/gpu.h"
#include "ops/elemwise_common.h"
#include "ops/shape_gpu.h"

namespace mx {
namespace shape_detail {

inline const std::vector<DType> &all_dtypes() {
  static const std::vector<DType> v{DType::f32, DType::f64, DType::f16, DType::bf16, DType::u8,
                                    DType::i8,  DType::i32, DType::i64, DType::boolean};
  return v;
}

// Dispatch on element size for pure movement: T is an unsigned integer of that many bytes.
#define MX_BYTES_SWITCH(nb, T, ...)                                          \
  switch (nb) {                                                             \
    case 1: { using T = uint8_t; __VA_ARGS__; } break;                      \
    case 2: { using T = uint16_t; __VA_ARGS__; } break;                     \
    case 4: { using T = uint32_t; __VA_ARGS__; } break;                     \
    case 8: { using T = uint64_t; __VA_ARGS__; } break;                     \
    default: ::mx::fail(MX_ERR_INTERNAL, "unexpected element size ", nb);   \
  }

inline std::vector<int64_t> strides_of(const Shape &s) {
  std::vector<int64_t> st(static_cast<size_t>(s.ndim()), 1);
  for (int d = s.ndim() - 2; d >= 0; --d) st[static_cast<size_t>(d)] = st[static_cast<size_t>(d + 1)] * s[d + 1];
  return st;
}

// An index map per output axis: maps[d][i] is the element offset contributed by index i of axis d.
using AxisMaps = std::vector<std::vector<int64_t>>;

// Map of a plain (possibly strided) axis: offset(i) = (start + i * step) * stride.
inline std::vector<int64_t> linear_map(int64_t n, int64_t start, int64_t step, int64_t stride) {
  std::vector<int64_t> m(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) m[static_cast<size_t>(i)] = (start + i * step) * stride;
  return m;
}

// Calls f(row, base) for each row of `shape` (all axes but the last), base = sum of maps of the
// leading axes. Rows run in parallel.
template <typename F> void for_rows(const Shape &shape, const AxisMaps &maps, F f) {
  const int nd = shape.ndim();
  if (nd == 0) {
    f(int64_t(0), int64_t(0));
    return;
  }
  const int64_t inner = shape[nd - 1];
  const int64_t rows = inner ? shape.size() / inner : 0;
  parallel_for(rows, std::max<int64_t>(1, kElemGrain / std::max<int64_t>(inner, 1)), [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      int64_t rem = r, base = 0;
      for (int d = nd - 2; d >= 0; --d) {
        int64_t idx = rem % shape[d];
        rem /= shape[d];
        base += maps[static_cast<size_t>(d)][static_cast<size_t>(idx)];
      }
      f(r, base);
    }
  });
}

// dst (contiguous, shape `out`) [i] = src[sum_d maps[d][i_d]]
template <typename T> void gather_maps(const T *src, T *dst, const Shape &out, const AxisMaps &maps) {
  const int nd = out.ndim();
  if (nd == 0) {
    dst[0] = src[0];
    return;
  }
  const int64_t inner = out[nd - 1];
  const int64_t *last = maps[static_cast<size_t>(nd - 1)].data();
  for_rows(out, maps, [&](int64_t r, int64_t base) {
    T *d = dst + r * inner;
    for (int64_t i = 0; i < inner; ++i) d[i] = src[base + last[i]];
  });
}
// dst[sum_d maps[d][i_d]] = src (contiguous, shape `in`) [i]. Targets must be distinct.
template <typename T> void scatter_maps(const T *src, T *dst, const Shape &in, const AxisMaps &maps) {
  const int nd = in.ndim();
  if (nd == 0) {
    dst[0] = src[0];
    return;
  }
  const int64_t inner = in[nd - 1];
  const int64_t *last = maps[static_cast<size_t>(nd - 1)].data();
  for_rows(in, maps, [&](int64_t r, int64_t base) {
    const T *s = src + r * inner;
    for (int64_t i = 0; i < inner; ++i) dst[base + last[i]] = s[i];
  });
}

template <typename T> inline void add_to(T &a, const T &b) {
  if constexpr (std::is_arithmetic<T>::value) a = static_cast<T>(a + b);
  else a = T(static_cast<float>(a) + static_cast<float>(b));
}
template <typename T> inline double to_f64(T v);
template <typename T> inline T from_f64(double v);

// dst[sum maps] += src[i], serial (targets may repeat).
template <typename T> void scatter_add_maps(const T *src, T *dst, const Shape &in, const AxisMaps &maps) {
  const int nd = in.ndim();
  if (nd == 0) {
    add_to(dst[0], src[0]);
    return;
  }
  const int64_t inner = in[nd - 1];
  const int64_t rows = inner ? in.size() / inner : 0;
  const int64_t *last = maps[static_cast<size_t>(nd - 1)].data();
  for (int64_t r = 0; r < rows; ++r) {
    int64_t rem = r, base = 0;
    for (int d = nd - 2; d >= 0; --d) {
      int64_t idx = rem % in[d];
      rem /= in[d];
      base += maps[static_cast<size_t>(d)][static_cast<size_t>(idx)];
    }
    const T *s = src + r * inner;
    for (int64_t i = 0; i < inner; ++i) add_to(dst[base + last[i]], s[i]);
  }
}

// The primitives below run on the array's device: kernels written with them alone register the
// same function for both devices (gpu_same_as_cpu).
inline void gather_any(const NDArray &in, const NDArray &out, const AxisMaps &maps) {
  if (out.size() == 0) return;
  if (!out.device().is_cpu()) return gpu_gather_maps(in, out, maps);
  MX_BYTES_SWITCH(dtype_size(in.dtype()), T, gather_maps<T>(in.data<T>(), out.data<T>(), out.shape(), maps));
}
inline void scatter_any(const NDArray &src, const NDArray &dst, const AxisMaps &maps) {
  if (src.size() == 0) return;
  if (!dst.device().is_cpu()) return gpu_scatter_maps(src, dst, maps, false);
  MX_BYTES_SWITCH(dtype_size(src.dtype()), T, scatter_maps<T>(src.data<T>(), dst.data<T>(), src.shape(), maps));
}
inline void scatter_add_any(const NDArray &src, const NDArray &dst, const AxisMaps &maps) {
  if (src.size() == 0) return;
  if (!dst.device().is_cpu()) return gpu_scatter_maps(src, dst, maps, true);
  MX_DTYPE_SWITCH_ALL(src.dtype(), T, scatter_add_maps<T>(src.data<T>(), dst.data<T>(), src.shape(), maps));
}
inline void zero_fill(const NDArray &a) {
  if (!a.device().is_cpu()) return gpu_zero(a);
  if (a.size()) std::memset(a.raw(), 0, a.nbytes());
}
inline void copy_bytes(const NDArray &src, const NDArray &dst) {
  // Planned in place (a reshape sharing its input's buffer): nothing to move.
  if (!src.size() || src.same_data(dst)) return;
  if (!src.device().is_cpu() || !dst.device().is_cpu())
    return gpu::copy(dst.raw(), dst.device(), src.raw(), src.device(), src.nbytes());
  std::memcpy(dst.raw(), src.raw(), src.nbytes());
}
// Conversions between element types and double/int64 (half, bfloat16 and bool included).
template <typename T> inline double to_f64(T v) {
  if constexpr (std::is_arithmetic<T>::value) return static_cast<double>(v);
  else return static_cast<double>(static_cast<float>(v));
}
template <typename T> inline T from_f64(double v) {
  if constexpr (std::is_arithmetic<T>::value) return static_cast<T>(v);
  else return T(static_cast<float>(v));
}
template <typename T> inline int64_t to_i64(T v) {
  if constexpr (std::is_integral<T>::value) {
    return static_cast<int64_t>(v);
  } else {
    double d = to_f64(v);
    return d != d ? 0 : (d > 9.2e18 ? INT64_MAX : (d < -9.2e18 ? INT64_MIN : static_cast<int64_t>(d)));
  }
}

// Fill with a value converted to the array's dtype.
inline void fill_value(const NDArray &a, double v) {
  MX_DTYPE_SWITCH_ALL(a.dtype(), T, {
    T x = from_f64<T>(v);
    if (!a.device().is_cpu()) {
      if (a.size()) gpu::fill(a.device().id, a.raw(), &x, sizeof(T), static_cast<size_t>(a.size()));
      return;
    }
    T *p = a.data<T>();
    for (int64_t i = 0, n = a.size(); i < n; ++i) p[i] = x;
  });
}

// Index values of any dtype as int64 (floats truncate toward zero, as MXNet casts them).
inline std::vector<int64_t> read_indices(const NDArray &a) {
  std::vector<int64_t> v(static_cast<size_t>(a.size()));
  MX_DTYPE_SWITCH_ALL(a.dtype(), T, {
    const T *p = a.data<T>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = to_i64<T>(p[i]);
  });
  return v;
}
// Scalar value of element i as double.
inline double read_value(const NDArray &a, int64_t i) {
  double r = 0;
  MX_DTYPE_SWITCH_ALL(a.dtype(), T, r = to_f64<T>(a.data<T>()[i]));
  return r;
}

// Emit `op` in a gradient with the forward node's parameters (re-parsed when it is another op
// sharing the same parameter struct).
inline std::vector<Var> emit_with(GradBuilder &b, const char *op, const GradNode &n, const std::vector<Var> &in) {
  const OpDef &d = Registry::get().require(op);
  if (&d == n.op) return b.emit(&d, n.params, in);
  return b.emit(&d, parse_params(&d, n.params->given), in);
}

// Gradient helper: `Reshape`-free exact reshape of a Var to `like`'s shape.
inline Var reshape_to(GradBuilder &b, Var x, Var like) {
  if (b.shape(x) == b.shape(like)) return x;
  return b.emit1("reshape_like", {}, {x, like});
}

// dtype inference: outputs take input 0's dtype; other inputs are free (indices, conditions).
inline bool type_from_first(const Params &, TypeVec &in, TypeVec &, TypeVec &out) {
  if (in.empty() || in[0] < 0) return false;
  for (auto &t : out) t = in[0];
  return true;
}

}  // namespace shape_detail
// Ops whose CPU kernels use only the device-aware primitives above (and host-side parameter
// work) run the same kernel on the GPU: call after registering them (CUDA builds only).
inline void gpu_same_as_cpu(std::initializer_list<const char *> names) {
  if (!gpu::compiled()) return;
  // (Runs at library load: never throws; tests/gpu checks has_gpu_kernel of every name.)
  for (const char *n : names)
    for (OpDef *d : Registry::get().ops())
      if (d->name == n) d->forward_gpu = d->forward_cpu;
}

}  // namespace mx
