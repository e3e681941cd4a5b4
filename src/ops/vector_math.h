// Vectorized transcendental functions for the elementwise kernels (SLEEF).
//
// Elemwise and Composite both run a float32/float64 exp, log, tanh, erf, ...
// through vec_apply: SLEEF's 1-ULP vector functions for the widest ISA the
// running CPU has (AVX-512F, else AVX2+FMA, else SSE2), chosen once per
// process. Every element goes through the same vector code — a tail shorter
// than a vector is padded to a full one, strided operands are gathered into a
// contiguous block first — so a value's result does not depend on its
// position, the run length, the strides or the number of threads: fused and
// unfused graphs stay bit-identical, and so do repeated runs.
#pragma once
#include <cstdint>

#include "scalar_functions.h"

namespace theon::detail {

// theon's name, SLEEF's name, SLEEF's accuracy suffix. arcsinh and arccosh
// stay on the C library (SLEEF's overflow for |x| > 1.8e19 in float32), and
// so does cbrt (SLEEF's float64 cbrt is 3 ULPs from the C library's).
#define THEON_VEC_FNS(X)      \
  X(exp, exp, u10)            \
  X(exp2, exp2, u10)          \
  X(expm1, expm1, u10)        \
  X(log, log, u10)            \
  X(log2, log2, u10)          \
  X(log10, log10, u10)        \
  X(log1p, log1p, u10)        \
  X(sin, sin, u10)            \
  X(cos, cos, u10)            \
  X(tan, tan, u10)            \
  X(arcsin, asin, u10)        \
  X(arccos, acos, u10)        \
  X(arctan, atan, u10)        \
  X(sinh, sinh, u10)          \
  X(cosh, cosh, u10)          \
  X(tanh, tanh, u10)          \
  X(arctanh, atanh, u10)      \
  X(erf, erf, u10)            \
  X(erfc, erfc, u15)

// The vectorized functions: SLEEF's, then two built from them.
enum class VecFn : uint8_t {
#define THEON_VEC_ENUM(name, sleef, ulp) name,
  THEON_VEC_FNS(THEON_VEC_ENUM)
#undef THEON_VEC_ENUM
  sigmoid,   // 1 / (1 + exp(-x)), from exp(-|x|)
  softplus,  // max(x, 0) + log1p(exp(-|x|))
  count,
  none,
};
constexpr int kNumSleefFns = int(VecFn::sigmoid);

// The VecFn of a scalar functor (VecFn::none: the functor's own scalar loop).
template <class Fn>
inline constexpr VecFn vec_fn_of = VecFn::none;
#define THEON_VEC_TRAIT(name, sleef, ulp) \
  template <>                             \
  inline constexpr VecFn vec_fn_of<ScalarFn<ScalarOpId::name>> = VecFn::name;
THEON_VEC_FNS(THEON_VEC_TRAIT)
THEON_VEC_TRAIT(sigmoid, , )
THEON_VEC_TRAIT(softplus, , )
#undef THEON_VEC_TRAIT

// out[i] = f(in[i]) for n contiguous values; out may be in (not a partial overlap).
void vec_apply(VecFn f, const float* in, float* out, int64_t n);
void vec_apply(VecFn f, const double* in, double* out, int64_t n);
// The same over strided values (byte strides), through a contiguous block.
template <class T>
void vec_apply_strided(VecFn f, const char* in, int64_t in_stride, char* out, int64_t out_stride, int64_t n);

// The instruction set the vector functions run with: "avx512f", "avx2", "sse2".
const char* vec_isa();

// One ISA's kernels: n contiguous values, any n (the tail padded inside).
struct VecTable {
  const char* isa;
  void (*f32[kNumSleefFns])(const float*, float*, int64_t);
  void (*f64[kNumSleefFns])(const double*, double*, int64_t);
};
extern const VecTable kVecSse2, kVecAvx2, kVecAvx512;

}  // namespace theon::detail
