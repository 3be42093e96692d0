#include "base/dtype.h"

namespace mx {

bool dtype_valid(int code) {
  switch (code) {
    case MX_FLOAT32: case MX_FLOAT64: case MX_FLOAT16: case MX_UINT8: case MX_INT32:
    case MX_INT8: case MX_INT64: case MX_BOOL: case MX_BFLOAT16: return true;
    default: return false;
  }
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: case DType::i32: return 4;
    case DType::f64: case DType::i64: return 8;
    case DType::f16: case DType::bf16: return 2;
    case DType::u8: case DType::i8: case DType::boolean: return 1;
  }
  fail(MX_ERR_TYPE, "unknown dtype code ", static_cast<int>(t));
}

const char *dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::f16: return "float16";
    case DType::bf16: return "bfloat16";
    case DType::u8: return "uint8";
    case DType::i8: return "int8";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
    case DType::boolean: return "bool";
  }
  return "unknown";
}

DType dtype_from_name(const std::string &n) {
  static const std::pair<const char *, DType> table[] = {
      {"float32", DType::f32}, {"float64", DType::f64}, {"float16", DType::f16},
      {"bfloat16", DType::bf16}, {"uint8", DType::u8}, {"int8", DType::i8},
      {"int32", DType::i32}, {"int64", DType::i64}, {"bool", DType::boolean},
      {"float", DType::f32}, {"double", DType::f64}, {"half", DType::f16}};
  for (auto &e : table)
    if (n == e.first) return e.second;
  fail(MX_ERR_TYPE, "unknown dtype '", n, "' (expected float32, float64, float16, bfloat16, uint8, int8, int32, int64 or bool)");
}

}  // namespace mx
