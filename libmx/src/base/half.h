// float16 and bfloat16 storage types: stored as 16 bits, converted to float for arithmetic
// (the conversions: base/half_bits.h).
#pragma once
#include <cstdint>
#include <cstring>

#include "base/half_bits.h"

namespace mx {

struct half_t {
  uint16_t bits;
  half_t() = default;
  half_t(float f) : bits(float_to_half_bits(f)) {}  // NOLINT: implicit like a numeric type
  operator float() const { return half_bits_to_float(bits); }
};

struct bf16_t {
  uint16_t bits;
  bf16_t() = default;
  bf16_t(float f) : bits(float_to_bf16_bits(f)) {}  // NOLINT
  operator float() const { return bf16_bits_to_float(bits); }
};

// bool stored as a byte with value 0/1.
struct bool_t {
  uint8_t v;
  bool_t() = default;
  bool_t(double d) : v(d != 0) {}  // NOLINT
  operator float() const { return v; }
  operator double() const { return v; }
};

}  // namespace mx
