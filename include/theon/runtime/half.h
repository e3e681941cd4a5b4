// theon/runtime/half.h — 16-bit floating-point storage types.
//
// float16 (IEEE binary16) and bfloat16 are stored as 16-bit patterns and
// converted to float for arithmetic, as NumPy's half loops do. Conversions
// round to nearest-even and keep NaN/Inf.
#pragma once
#include <cstdint>
#include <cmath>
#include <cstring>

namespace theon {

// double -> float rounding to odd: the float keeps a sticky last bit when the
// conversion is inexact, so rounding that float again to 16 bits gives the same
// result as rounding the double directly (no double rounding).
inline float float_round_to_odd(double d) {
  float f = static_cast<float>(d);
  if (static_cast<double>(f) == d || f != f || d > 3.4028234663852886e38 || d < -3.4028234663852886e38) return f;
  if ((f > 0 && static_cast<double>(f) > d) || (f < 0 && static_cast<double>(f) < d)) f = std::nextafter(f, 0.0f);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u |= 1u;
  std::memcpy(&f, &u, 4);
  return f;
}

struct float16 {
  uint16_t bits = 0;
  float16() = default;
  explicit float16(float f) : bits(from_float(f)) {}
  explicit operator float() const { return to_float(bits); }
  static uint16_t from_float(float f);
  static float to_float(uint16_t h);
};

struct bfloat16 {
  uint16_t bits = 0;
  bfloat16() = default;
  explicit bfloat16(float f) : bits(from_float(f)) {}
  explicit operator float() const {
    uint32_t u = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  static uint16_t from_float(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
    return uint16_t(u >> 16);
  }
};

inline float float16::to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ff;
  uint32_t u;
  if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        man <<= 1;
      } while ((man & 0x400) == 0);
      u = sign | uint32_t(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | man << 13;
  } else {
    u = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t float16::from_float(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint16_t sign = uint16_t((u >> 16) & 0x8000);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | 0x7e00;   // NaN
  if (a >= 0x477ff000u) return sign | 0x7c00;  // overflow to Inf (>= 65520)
  if (a < 0x38800000u) {                       // subnormal or zero in half
    if (a < 0x33000000u) return sign;          // below half of smallest subnormal
    uint32_t exp = a >> 23;
    uint32_t man = (a & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - exp;  // 14 + (112 - exp) ... shift into 10-bit mantissa
    uint32_t half_man = man >> (shift);
    uint32_t rem = man & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_man & 1))) ++half_man;
    return sign | uint16_t(half_man);
  }
  uint32_t r = a - 0x38000000u;  // rebias exponent 127 -> 15
  r += 0xfffu + ((r >> 13) & 1u);
  return sign | uint16_t(r >> 13);
}

}  // namespace theon
