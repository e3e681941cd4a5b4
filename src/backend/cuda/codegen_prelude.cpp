// The CUDA C prelude of every fused kernel: storage types, conversions and
// one device function per row of the elementwise table.
//
// It restates src/ops/scalar_functions.h and Array::astype's conversions
// (runtime/strided.h) for the GPU, so a kernel computes what the CPU
// computes: NumPy's integer division and remainder (0 for a zero divisor),
// wrapping integer arithmetic (done in unsigned types: no undefined
// behaviour), NaN propagation of maximum/minimum/clip, the stable forms of
// sigmoid and softplus, float -> int conversions giving the integer minimum
// for NaN and out-of-range values, float16/bfloat16 rounded to nearest even
// (double -> 16 bits through float rounded to odd, as the CPU does). The text
// includes no header, so NVRTC needs no include path at run time; float16
// conversions use the PTX cvt instruction, bfloat16 ones bit operations.
// With THEON_HOST_EMULATION defined, the same text compiles as host C++
// given a few definitions (tests run the kernels on the CPU that way).
// Errors a kernel cannot throw (an integer to a negative power) set a flag
// the caller reads after the launch.
#include "theon/backend/cuda_codegen.h"

namespace theon::cuda {

const char* fused_prelude() {
  return R"CUDA(// theon fused elementwise kernel
// Dynamic shared memory of a kernel (sized by the launch): THEON_DYNAMIC_SHARED(float, buf);
#ifndef THEON_DYNAMIC_SHARED
#ifdef THEON_HOST_EMULATION  // the emulator's harness defines it (a per-thread buffer)
#error "THEON_HOST_EMULATION without the emulator's harness"
#else
#define THEON_DYNAMIC_SHARED(T, name) extern __shared__ __align__(16) T name[]
#endif
#endif
typedef signed char i8; typedef short i16; typedef int i32; typedef long long i64;
typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32; typedef unsigned long long u64;
struct f16 { unsigned short b; };
struct bf16 { unsigned short b; };

template <class A, class B> struct same { static constexpr bool v = false; };
template <class A> struct same<A, A> { static constexpr bool v = true; };
template <class T> struct is16 { static constexpr bool v = false; };
template <> struct is16<f16> { static constexpr bool v = true; };
template <> struct is16<bf16> { static constexpr bool v = true; };

// Integer traits: U the unsigned type of the same width, W the type unsigned
// arithmetic runs in (at least 32 bits, so no promotion to signed int).
template <class T> struct tr { static constexpr bool is_int = false, is_signed = false, is_float = false; };
#define THEON_TR(T, UT, WT, S, LO, HI)                                                      \
  template <> struct tr<T> {                                                                \
    static constexpr bool is_int = true, is_signed = S, is_float = false;                   \
    typedef UT U; typedef WT W;                                                             \
    static __device__ __forceinline__ T lowest() { return LO; }                             \
    static __device__ __forceinline__ double hi() { return HI; }                            \
  };
THEON_TR(i8, u8, u32, true, -128, 128.0)
THEON_TR(i16, u16, u32, true, -32768, 32768.0)
THEON_TR(i32, u32, u32, true, (-2147483647 - 1), 2147483648.0)
THEON_TR(i64, u64, u64, true, (-9223372036854775807LL - 1), 9223372036854775808.0)
THEON_TR(u8, u8, u32, false, 0, 256.0)
THEON_TR(u16, u16, u32, false, 0, 65536.0)
THEON_TR(u32, u32, u32, false, 0u, 4294967296.0)
THEON_TR(u64, u64, u64, false, 0ull, 18446744073709551616.0)
#undef THEON_TR
template <> struct tr<float> { static constexpr bool is_int = false, is_signed = true, is_float = true; };
template <> struct tr<double> { static constexpr bool is_int = false, is_signed = true, is_float = true; };

template <class T> __device__ __forceinline__ T nan_v();
template <> __device__ __forceinline__ float nan_v<float>() { return __int_as_float(0x7fc00000); }
template <> __device__ __forceinline__ double nan_v<double>() { return __longlong_as_double(0x7ff8000000000000ll); }
template <class T> __device__ __forceinline__ T inf_v();
template <> __device__ __forceinline__ float inf_v<float>() { return __int_as_float(0x7f800000); }
template <> __device__ __forceinline__ double inf_v<double>() { return __longlong_as_double(0x7ff0000000000000ll); }

// ---- conversions (Array::astype) ----
#ifndef THEON_HOST_EMULATION
__device__ __forceinline__ float to_f32(f16 h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h.b)); return f; }
#endif
__device__ __forceinline__ float to_f32(bf16 h) { return __uint_as_float(unsigned(h.b) << 16); }
template <class H> __device__ __forceinline__ H from_f32(float f);
#ifndef THEON_HOST_EMULATION
template <> __device__ __forceinline__ f16 from_f32<f16>(float f) {
  f16 h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.b) : "f"(f)); return h;
}
#else  // host C++ (the CUDA emulator): theon's conversions, through the harness's hooks
inline float to_f32(f16 h) { return theon_h2f(h.b); }
template <> inline f16 from_f32<f16>(float f) { f16 h; h.b = theon_f2h(f); return h; }
#endif
template <> __device__ __forceinline__ bf16 from_f32<bf16>(float f) {
  unsigned u = __float_as_uint(f);
  bf16 r;
  if ((u & 0x7fffffffu) > 0x7f800000u) { r.b = (unsigned short)((u >> 16) | 0x40u); return r; }  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
  r.b = (unsigned short)(u >> 16);
  return r;
}
// double -> float keeping a sticky last bit, so rounding again to 16 bits is exact.
__device__ __forceinline__ float round_to_odd(double d) {
  float f = (float)d;
  if ((double)f == d || f != f || d > 3.4028234663852886e38 || d < -3.4028234663852886e38) return f;
  if ((f > 0 && (double)f > d) || (f < 0 && (double)f < d)) f = nextafterf(f, 0.0f);
  return __uint_as_float(__float_as_uint(f) | 1u);
}
template <class To, class From> __device__ __forceinline__ To cvt(From v) {
  if constexpr (same<To, From>::v) {
    return v;
  } else if constexpr (is16<From>::v) {
    return cvt<To>(to_f32(v));
  } else if constexpr (is16<To>::v && same<From, double>::v) {
    return from_f32<To>(round_to_odd(v));
  } else if constexpr (is16<To>::v) {
    return from_f32<To>((float)v);
  } else if constexpr (same<To, bool>::v) {
    return v != From(0);
  } else if constexpr (tr<From>::is_float && tr<To>::is_int) {
    const From hi = From(tr<To>::hi());  // a power of two: exact
    if (v != v) return tr<To>::lowest();
    if constexpr (tr<To>::is_signed) {
      if (v >= hi || v < -hi) return tr<To>::lowest();
      return (To)v;
    } else {
      if (v >= hi || v <= From(-9.2233720368547758e18)) return To(0);
      if (v < 0) return (To)(long long)v;  // NumPy wraps through int64
      return (To)v;
    }
  } else {
    return (To)v;
  }
}
template <class T> __device__ __forceinline__ bool is_neg(T v) {
  if constexpr (tr<T>::is_signed) return v < 0; else return false;
}
__device__ __forceinline__ void raise_error(int* err, int code) { if (err) atomicCAS(err, 0, code); }

// ---- the elementwise table (src/ops/scalar_functions.h) ----
#define UT(T) typename tr<T>::U
#define WT(T) typename tr<T>::W
template <class T> __device__ __forceinline__ T op_add(T a, T b) {
  if constexpr (same<T, bool>::v) return a || b;
  else if constexpr (tr<T>::is_int) return T(WT(T)(UT(T)(a)) + WT(T)(UT(T)(b)));
  else return a + b;
}
template <class T> __device__ __forceinline__ T op_sub(T a, T b) {
  if constexpr (tr<T>::is_int) return T(WT(T)(UT(T)(a)) - WT(T)(UT(T)(b)));
  else return a - b;
}
template <class T> __device__ __forceinline__ T op_mul(T a, T b) {
  if constexpr (same<T, bool>::v) return a && b;
  else if constexpr (tr<T>::is_int) return T(WT(T)(UT(T)(a)) * WT(T)(UT(T)(b)));
  else return a * b;
}
template <class T> __device__ __forceinline__ T op_true_div(T a, T b) { return a / b; }
template <class T> __device__ __forceinline__ T op_int_div(T a, T b) {
  if constexpr (tr<T>::is_int) {
    if (b == 0) return 0;
    if constexpr (tr<T>::is_signed) {
      if (b == -1) return op_sub(T(0), a);
      T q = T(a / b);
      if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
      return q;
    } else {
      return T(a / b);
    }
  } else {
    if (b == 0) return a / b;
    T m = fmod(a, b);
    T d = (a - m) / b;
    if (m != 0 && ((b < 0) != (m < 0))) d -= 1;
    T fd = floor(d);
    if (d - fd > T(0.5)) fd += 1;
    return fd == 0 ? copysign(T(0), a / b) : fd;
  }
}
template <class T> __device__ __forceinline__ T op_mod(T a, T b) {
  if constexpr (tr<T>::is_int) {
    if (b == 0) return 0;
    if constexpr (tr<T>::is_signed) {
      if (b == -1) return 0;
      T r = T(a % b);
      if (r != 0 && ((r < 0) != (b < 0))) r = T(r + b);
      return r;
    } else {
      return T(a % b);
    }
  } else {
    T r = fmod(a, b);
    if (b == 0) return r;
    if (r != 0) {
      if ((b < 0) != (r < 0)) r += b;
    } else {
      r = copysign(T(0), b);
    }
    return r;
  }
}
template <class T> __device__ __forceinline__ T op_pow(T a, T b, int* err) {
  if constexpr (tr<T>::is_int) {
    if (is_neg(b)) { raise_error(err, 1); return 0; }
    WT(T) r = 1, base = WT(T)(UT(T)(a)), e = WT(T)(UT(T)(b));
    while (e) {
      if (e & 1) r *= base;
      base *= base;
      e >>= 1;
    }
    return T(UT(T)(r));
  } else {
    return pow(a, b);
  }
}
template <class T> __device__ __forceinline__ T op_maximum(T a, T b) {
  if constexpr (tr<T>::is_float) if (isnan(a) || isnan(b)) return nan_v<T>();
  return a < b ? b : a;
}
template <class T> __device__ __forceinline__ T op_minimum(T a, T b) {
  if constexpr (tr<T>::is_float) if (isnan(a) || isnan(b)) return nan_v<T>();
  return b < a ? b : a;
}
template <class T> __device__ __forceinline__ T op_arctan2(T a, T b) { return atan2(a, b); }
template <class T> __device__ __forceinline__ bool op_eq(T a, T b) { return a == b; }
template <class T> __device__ __forceinline__ bool op_neq(T a, T b) { return a != b; }
template <class T> __device__ __forceinline__ bool op_lt(T a, T b) { return a < b; }
template <class T> __device__ __forceinline__ bool op_le(T a, T b) { return a <= b; }
template <class T> __device__ __forceinline__ bool op_gt(T a, T b) { return a > b; }
template <class T> __device__ __forceinline__ bool op_ge(T a, T b) { return a >= b; }
template <class T> __device__ __forceinline__ T op_and_(T a, T b) { return T(a & b); }
template <class T> __device__ __forceinline__ T op_or_(T a, T b) { return T(a | b); }
template <class T> __device__ __forceinline__ T op_xor_(T a, T b) { return T(a ^ b); }
template <class T> __device__ __forceinline__ T op_left_shift(T a, T b) {
  if constexpr (same<T, bool>::v) return a;
  else {
    if (is_neg(b) || UT(T)(b) >= sizeof(T) * 8) return 0;
    return T(WT(T)(UT(T)(a)) << int(b));
  }
}
template <class T> __device__ __forceinline__ T op_right_shift(T a, T b) {
  if constexpr (same<T, bool>::v) return a;
  else {
    if (is_neg(b) || UT(T)(b) >= sizeof(T) * 8) return is_neg(a) ? T(-1) : T(0);
    return T(a >> int(b));
  }
}
template <class T> __device__ __forceinline__ bool op_logical_and(T a, T b) { return a != T(0) && b != T(0); }
template <class T> __device__ __forceinline__ bool op_logical_or(T a, T b) { return a != T(0) || b != T(0); }
template <class T> __device__ __forceinline__ bool op_logical_xor(T a, T b) { return (a != T(0)) != (b != T(0)); }
template <class T> __device__ __forceinline__ T op_invert(T a) {
  if constexpr (same<T, bool>::v) return !a; else return T(~a);
}
template <class T> __device__ __forceinline__ bool op_logical_not(T a) { return a == T(0); }
template <class T> __device__ __forceinline__ T op_identity(T a) { return a; }
template <class T> __device__ __forceinline__ T op_neg(T a) {
  if constexpr (tr<T>::is_int) return op_sub(T(0), a); else return -a;
}
template <class T> __device__ __forceinline__ T op_abs(T a) {
  if constexpr (same<T, bool>::v || (tr<T>::is_int && !tr<T>::is_signed)) return a;
  else if constexpr (tr<T>::is_int) return a < 0 ? op_sub(T(0), a) : a;
  else return fabs(a);
}
template <class T> __device__ __forceinline__ T op_sgn(T a) {
  if constexpr (tr<T>::is_float) { if (isnan(a)) return a; return T((T(0) < a) - (a < T(0))); }
  else if constexpr (!tr<T>::is_signed) return T(a != 0);
  else return T((T(0) < a) - (a < T(0)));
}
#define THEON_FLOAT_ONLY(name, expr) \
  template <class T> __device__ __forceinline__ T op_##name(T a) { if constexpr (tr<T>::is_float) return expr; else return a; }
THEON_FLOAT_ONLY(floor, floor(a))
THEON_FLOAT_ONLY(ceil, ceil(a))
THEON_FLOAT_ONLY(trunc, trunc(a))
THEON_FLOAT_ONLY(round_half_to_even, rint(a))
THEON_FLOAT_ONLY(round_half_away_from_zero, round(a))
#undef THEON_FLOAT_ONLY
template <class T> __device__ __forceinline__ T op_sqr(T a) { return op_mul(a, a); }
template <class T> __device__ __forceinline__ T op_reciprocal(T a) {
  if constexpr (tr<T>::is_int) {
    if (a == 0) return tr<T>::lowest();  // NumPy's value (with a warning)
    if constexpr (tr<T>::is_signed) if (a == -1) return T(-1);
    return a == 1 ? T(1) : T(0);
  } else {
    return T(1) / a;
  }
}
__device__ double theon_lgamma(double x) { return x == -inf_v<double>() ? x : lgamma(x); }
__device__ double theon_digamma(double x) {
  const double pi = 3.141592653589793238462643383279502884;
  if (isnan(x) || x == -inf_v<double>()) return nan_v<double>();
  if (x == 0) return copysign(inf_v<double>(), -x);
  double result = 0;
  if (x < 0) {
    if (x == floor(x)) return nan_v<double>();
    result = -pi / tan(pi * x);  // reflection: psi(1 - x) - psi(x) = pi cot(pi x)
    x = 1 - x;
  }
  while (x < 6) { result -= 1 / x; x += 1; }
  double f = 1 / (x * x);
  double series = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
  return result + log(x) - 0.5 / x - series;
}
#define THEON_MATH(name, expr) template <class T> __device__ __forceinline__ T op_##name(T a) { return expr; }
THEON_MATH(sqrt, sqrt(a))
THEON_MATH(cbrt, cbrt(a))
THEON_MATH(exp, exp(a))
THEON_MATH(exp2, exp2(a))
THEON_MATH(expm1, expm1(a))
THEON_MATH(log, log(a))
THEON_MATH(log2, log2(a))
THEON_MATH(log10, log10(a))
THEON_MATH(log1p, log1p(a))
THEON_MATH(sin, sin(a))
THEON_MATH(cos, cos(a))
THEON_MATH(tan, tan(a))
THEON_MATH(arcsin, asin(a))
THEON_MATH(arccos, acos(a))
THEON_MATH(arctan, atan(a))
THEON_MATH(sinh, sinh(a))
THEON_MATH(cosh, cosh(a))
THEON_MATH(tanh, tanh(a))
THEON_MATH(arcsinh, asinh(a))
THEON_MATH(arccosh, acosh(a))
THEON_MATH(arctanh, atanh(a))
THEON_MATH(erf, erf(a))
THEON_MATH(erfc, erfc(a))
THEON_MATH(erfinv, T(erfinv(double(a))))
THEON_MATH(erfcinv, T(erfcinv(double(a))))
THEON_MATH(gamma, tgamma(a))
THEON_MATH(gammaln, T(theon_lgamma(double(a))))
THEON_MATH(psi, T(theon_digamma(double(a))))
THEON_MATH(softplus, (a > 0 ? a : T(0)) + log1p(exp(-fabs(a))))
THEON_MATH(softsign, a / (T(1) + fabs(a)))
#undef THEON_MATH
// 1 / (1 + exp(-a)) for a >= 0, exp(a) / (1 + exp(a)) otherwise (NaN takes the second form).
template <class T> __device__ __forceinline__ T op_sigmoid(T a) {
  const bool pos = a >= 0;
  const T e = exp(pos ? -a : a);
  return (pos ? T(1) : e) / (T(1) + e);
}
template <class T> __device__ __forceinline__ T op_hard_sigmoid(T a) {
  T y = T(0.2) * a + T(0.5);
  return y < T(0) ? T(0) : (y > T(1) ? T(1) : y);
}
template <class T> __device__ __forceinline__ bool op_isnan(T a) { if constexpr (tr<T>::is_float) return isnan(a); else return false; }
template <class T> __device__ __forceinline__ bool op_isinf(T a) { if constexpr (tr<T>::is_float) return isinf(a); else return false; }
template <class T> __device__ __forceinline__ bool op_isfinite(T a) { if constexpr (tr<T>::is_float) return isfinite(a); else return true; }
template <class T> __device__ __forceinline__ T op_clip(T a, T lo, T hi) { return op_minimum(op_maximum(a, lo), hi); }
template <class T> __device__ __forceinline__ T op_switch_(T c, T a, T b) { return c != T(0) ? a : b; }
#undef UT
#undef WT
)CUDA";
}

}  // namespace theon::cuda
