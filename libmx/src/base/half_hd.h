// float16 / bfloat16 element types for code that runs on both devices (MX_HD formulas and the
// CUDA kernels): same 16-bit layout as half_t / bf16_t (base/half.h), so a kernel reinterprets
// an array's half_t* as hd_half*. Arithmetic is never done in 16 bits: a kernel loads the element
// as float (operator float), computes in float registers and stores the rounded result
// (constructor from float, round to nearest even) -- "load half, compute float, store half".
// float16 on the device: single PTX instructions; elsewhere base/half_bits.h's (one definition).
#pragma once
#include <cstdint>
#include <type_traits>

#include "base/dtype.h"
#include "base/half.h"
#include "base/half_bits.h"
#include "base/hd.h"

namespace mx {

struct hd_half {
  uint16_t bits;
  hd_half() = default;
  MX_HD hd_half(float f) {  // NOLINT: converts like a numeric type
#if defined(__CUDA_ARCH__)
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(bits) : "f"(f));
#else
    bits = float_to_half_bits(f);
#endif
  }
  MX_HD operator float() const {
#if defined(__CUDA_ARCH__)
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(bits));
    return f;
#else
    return half_bits_to_float(bits);
#endif
  }
};

struct hd_bf16 {
  uint16_t bits;
  hd_bf16() = default;
  MX_HD hd_bf16(float f) {  // NOLINT: round to nearest even, NaN kept a (quiet) NaN
    bits = float_to_bf16_bits(f);
  }
  MX_HD operator float() const { return bf16_bits_to_float(bits); }
};

static_assert(sizeof(hd_half) == sizeof(half_t) && sizeof(hd_bf16) == sizeof(bf16_t), "16-bit layouts differ");

// The both-sides element type of a storage type (half_t -> hd_half, bf16_t -> hd_bf16, others
// themselves), and the type a formula computes in (float for the 16-bit types).
template <typename T> struct hd_elem { using type = T; };
template <> struct hd_elem<half_t> { using type = hd_half; };
template <> struct hd_elem<bf16_t> { using type = hd_bf16; };
template <typename T> using hd_elem_t = typename hd_elem<T>::type;

template <typename T> struct compute_type { using type = T; };
template <> struct compute_type<hd_half> { using type = float; };
template <> struct compute_type<hd_bf16> { using type = float; };
template <> struct compute_type<half_t> { using type = float; };
template <> struct compute_type<bf16_t> { using type = float; };
template <typename T> using compute_t = typename compute_type<T>::type;

template <typename T> constexpr bool is_half_v =
    std::is_same_v<T, hd_half> || std::is_same_v<T, hd_bf16> || std::is_same_v<T, half_t> || std::is_same_v<T, bf16_t>;

// An array's data as the both-sides element type.
template <typename T> inline hd_elem_t<T> *hd_ptr(T *p) { return reinterpret_cast<hd_elem_t<T> *>(p); }
template <typename T> inline const hd_elem_t<T> *hd_ptr(const T *p) {
  return reinterpret_cast<const hd_elem_t<T> *>(p);
}

}  // namespace mx

// MX_HALF_OR(dt, T, body, otherwise): body with T = hd_half / hd_bf16 for float16 / bfloat16,
// else `otherwise` (a kernel's own float/numeric dtype switch). Kernels templated on the element
// type T compute in compute_t<T> (float for the 16-bit types), so "load half, compute float in
// registers, store half" is one template argument.
#define MX_HALF_OR(dt, T, body, otherwise)   \
  if ((dt) == ::mx::DType::f16) {            \
    using T = ::mx::hd_half;                 \
    body;                                    \
  } else if ((dt) == ::mx::DType::bf16) {    \
    using T = ::mx::hd_bf16;                 \
    body;                                    \
  } else {                                   \
    otherwise;                               \
  }
