// float16 and bfloat16 storage types: stored as 16 bits, converted to float for arithmetic.
#pragma once
#include <cstdint>
#include <cstring>

namespace mx {

inline float half_bits_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) { mant <<= 1; --exp; }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t float_to_half_bits(float f) {  // round to nearest even
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0);
  if (absx >= 0x477ff000u) return sign | 0x7c00u;  // overflow -> inf
  if (absx < 0x38800000u) {                          // subnormal or zero
    if (absx < 0x33000000u) return sign;
    uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
    int shift = 113 - (absx >> 23) + 13;
    uint32_t r = mant >> shift, rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (r & 1))) ++r;
    return sign | r;
  }
  uint32_t r = ((absx >> 13) - (112u << 10));
  uint32_t rem = absx & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1))) ++r;
  return sign | r;
}

struct half_t {
  uint16_t bits;
  half_t() = default;
  half_t(float f) : bits(float_to_half_bits(f)) {}  // NOLINT: implicit like a numeric type
  operator float() const { return half_bits_to_float(bits); }
};

struct bf16_t {
  uint16_t bits;
  bf16_t() = default;
  bf16_t(float f) {  // NOLINT
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) { bits = (x >> 16) | 0x40; return; }  // keep NaN
    x += 0x7fffu + ((x >> 16) & 1);
    bits = static_cast<uint16_t>(x >> 16);
  }
  operator float() const {
    uint32_t x = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &x, 4);
    return f;
  }
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
