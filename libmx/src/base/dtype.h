// Dtype enum helpers and a type-dispatch switch for kernels.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "base/error.h"
#include "base/half.h"

namespace mx {

enum class DType : int {
  f32 = MX_FLOAT32, f64 = MX_FLOAT64, f16 = MX_FLOAT16, u8 = MX_UINT8, i32 = MX_INT32,
  i8 = MX_INT8, i64 = MX_INT64, boolean = MX_BOOL, bf16 = MX_BFLOAT16
};

bool dtype_valid(int code);
size_t dtype_size(DType t);
const char *dtype_name(DType t);  // numpy names: float32, bfloat16, bool, ...
DType dtype_from_name(const std::string &name);  // throws MX_ERR_TYPE on unknown
inline bool dtype_is_float(DType t) {
  return t == DType::f32 || t == DType::f64 || t == DType::f16 || t == DType::bf16;
}

// Storage type of each dtype. bool is stored as one byte.
template <DType T> struct CType;
template <> struct CType<DType::f32> { using type = float; };
template <> struct CType<DType::f64> { using type = double; };
template <> struct CType<DType::f16> { using type = half_t; };
template <> struct CType<DType::bf16> { using type = bf16_t; };
template <> struct CType<DType::u8> { using type = uint8_t; };
template <> struct CType<DType::i8> { using type = int8_t; };
template <> struct CType<DType::i32> { using type = int32_t; };
template <> struct CType<DType::i64> { using type = int64_t; };
template <> struct CType<DType::boolean> { using type = bool_t; };

// Dispatch on a runtime dtype: MX_DTYPE_SWITCH(t, T, { kernel<T>(...); }).
#define MX_DTYPE_CASE(code, T, ...)                         \
  case code: {                                              \
    using T = typename ::mx::CType<code>::type;             \
    __VA_ARGS__;                                            \
  } break;
#define MX_DTYPE_SWITCH_ALL(dt, T, ...)                                                   \
  switch (dt) {                                                                           \
    MX_DTYPE_CASE(::mx::DType::f32, T, __VA_ARGS__)                                       \
    MX_DTYPE_CASE(::mx::DType::f64, T, __VA_ARGS__)                                       \
    MX_DTYPE_CASE(::mx::DType::f16, T, __VA_ARGS__)                                       \
    MX_DTYPE_CASE(::mx::DType::bf16, T, __VA_ARGS__)                                      \
    MX_DTYPE_CASE(::mx::DType::u8, T, __VA_ARGS__)                                        \
    MX_DTYPE_CASE(::mx::DType::i8, T, __VA_ARGS__)                                        \
    MX_DTYPE_CASE(::mx::DType::i32, T, __VA_ARGS__)                                       \
    MX_DTYPE_CASE(::mx::DType::i64, T, __VA_ARGS__)                                       \
    MX_DTYPE_CASE(::mx::DType::boolean, T, __VA_ARGS__)                                   \
    default: ::mx::fail(MX_ERR_TYPE, "unsupported dtype code ", static_cast<int>(dt));   \
  }
// Float and integer compute types (float16/bfloat16 run through float32, bool has none).
#define MX_DTYPE_SWITCH_NUMERIC(dt, T, opname, ...)                                        \
  switch (dt) {                                                                           \
    MX_DTYPE_CASE(::mx::DType::f32, T, __VA_ARGS__)                                       \
    MX_DTYPE_CASE(::mx::DType::f64, T, __VA_ARGS__)                                       \
    MX_DTYPE_CASE(::mx::DType::i32, T, __VA_ARGS__)                                       \
    MX_DTYPE_CASE(::mx::DType::i64, T, __VA_ARGS__)                                       \
    MX_DTYPE_CASE(::mx::DType::u8, T, __VA_ARGS__)                                        \
    MX_DTYPE_CASE(::mx::DType::i8, T, __VA_ARGS__)                                        \
    default: ::mx::fail(MX_ERR_TYPE, opname, ": dtype ", ::mx::dtype_name(dt), " is not supported"); \
  }
// Float32/float64 only (the compute types); f16/bf16 are computed through float32 by casting.
#define MX_DTYPE_SWITCH_FLOAT(dt, T, opname, ...)                                          \
  switch (dt) {                                                                           \
    MX_DTYPE_CASE(::mx::DType::f32, T, __VA_ARGS__)                                       \
    MX_DTYPE_CASE(::mx::DType::f64, T, __VA_ARGS__)                                       \
    default: ::mx::fail(MX_ERR_TYPE, opname, ": dtype ", ::mx::dtype_name(dt),           \
                        " is not supported (float32 or float64)");                      \
  }

}  // namespace mx
