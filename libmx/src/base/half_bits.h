// The float16 / bfloat16 <-> float32 bit conversions, written once for both devices (MX_HD):
// the host storage types (base/half.h), the both-sides element types (base/half_hd.h) and the
// sort keys (ops/sort_kernels.h) all call these. Round to nearest even; subnormals, infinities
// and NaN kept (a NaN stays a quiet NaN). tests/python/test_half_bits.py checks all 65536 bit
// patterns of each type against numpy.
#pragma once
#include <cstdint>
#include <cstring>

#include "base/hd.h"

namespace mx {

MX_HD inline float bits_as_float(uint32_t bits) {
  float f;
  memcpy(&f, &bits, 4);
  return f;
}
MX_HD inline uint32_t float_as_bits(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  return x;
}

MX_HD inline float half_bits_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  return bits_as_float(bits);
}

MX_HD inline uint16_t float_to_half_bits(float f) {  // round to nearest even
  const uint32_t x = float_as_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (absx < 0x38800000u) {                                                // subnormal or zero
    if (absx < 0x33000000u) return static_cast<uint16_t>(sign);
    const uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
    const int shift = 113 - static_cast<int>(absx >> 23) + 13;
    uint32_t r = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (r & 1))) ++r;
    return static_cast<uint16_t>(sign | r);
  }
  uint32_t r = ((absx >> 13) - (112u << 10));
  const uint32_t rem = absx & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1))) ++r;
  return static_cast<uint16_t>(sign | r);
}

MX_HD inline float bf16_bits_to_float(uint16_t h) { return bits_as_float(static_cast<uint32_t>(h) << 16); }

MX_HD inline uint16_t float_to_bf16_bits(float f) {  // round to nearest even, NaN kept a quiet NaN
  uint32_t x = float_as_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);
  x += 0x7fffu + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

}  // namespace mx
