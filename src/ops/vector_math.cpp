// Dispatch of the vector functions to the running CPU's widest ISA, and the
// functions built from SLEEF's (sigmoid, softplus) — see vector_math.h.
#include "vector_math.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace theon::detail {
namespace {

// THEON_VEC_ISA=sse2|avx2|avx512f caps the ISA (to compare, or to reproduce
// another machine's bits); otherwise the widest one the CPU has.
const VecTable& pick_table() {
  __builtin_cpu_init();
  const char* env = std::getenv("THEON_VEC_ISA");
  std::string_view cap = env ? env : "avx512f";
  const bool avx512 = __builtin_cpu_supports("avx512f") && cap == "avx512f";
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cap != "sse2";
  if (avx512) return kVecAvx512;
  if (avx2) return kVecAvx2;
  return kVecSse2;
}

const VecTable& table() {
  static const VecTable& t = pick_table();
  return t;
}

template <class T>
auto sleef_fn(VecFn f) {
  if constexpr (std::is_same_v<T, float>) return table().f32[int(f)];
  else return table().f64[int(f)];
}

constexpr int64_t kChunk = 256;  // values per step of the composed functions

// sigmoid and softplus in chunks: e = exp(-|x|) through the vector exp, then
// exact arithmetic the compiler vectorizes. The same values as the scalar
// ScalarFn forms (one exp of -|x|, then a select and a division).
template <class T>
void composed(VecFn f, const T* in, T* out, int64_t n) {
  alignas(64) T e[kChunk];
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i);
    const T* a = in + i;
    // -|x| for sigmoid, but a NaN keeps its sign (the scalar form flips only when x >= 0).
    if (f == VecFn::sigmoid)
      for (int64_t k = 0; k < m; ++k) e[k] = a[k] >= T(0) ? -a[k] : a[k];
    else
      for (int64_t k = 0; k < m; ++k) e[k] = -std::fabs(a[k]);
    sleef_fn<T>(VecFn::exp)(e, e, m);
    T* o = out + i;
    if (f == VecFn::sigmoid) {
      for (int64_t k = 0; k < m; ++k) o[k] = (a[k] >= T(0) ? T(1) : e[k]) / (T(1) + e[k]);
    } else {
      sleef_fn<T>(VecFn::log1p)(e, e, m);
      for (int64_t k = 0; k < m; ++k) o[k] = (a[k] > T(0) ? a[k] : T(0)) + e[k];
    }
  }
}

// SLEEF's log1p overflows above 1e38 (float32) / 1e307 (float64), where
// log1p(x) rounds to log(x): those values are redone with the C library.
template <class T>
void log1p_checked(const T* in, T* out, int64_t n) {
  constexpr T big = sizeof(T) == 4 ? T(1e38) : T(1e307);
  alignas(64) T x[kChunk];
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i);
    std::memcpy(x, in + i, size_t(m) * sizeof(T));
    sleef_fn<T>(VecFn::log1p)(x, out + i, m);
    for (int64_t k = 0; k < m; ++k)
      if (x[k] > big) out[i + k] = std::log(x[k]);
  }
}

template <class T>
void apply(VecFn f, const T* in, T* out, int64_t n) {
  if (f == VecFn::sigmoid || f == VecFn::softplus) return composed(f, in, out, n);
  if (f == VecFn::log1p) return log1p_checked(in, out, n);
  sleef_fn<T>(f)(in, out, n);
}

}  // namespace

void vec_apply(VecFn f, const float* in, float* out, int64_t n) { apply(f, in, out, n); }
void vec_apply(VecFn f, const double* in, double* out, int64_t n) { apply(f, in, out, n); }

template <class T>
void vec_apply_strided(VecFn f, const char* in, int64_t in_stride, char* out, int64_t out_stride, int64_t n) {
  alignas(64) T buf[kChunk];
  for (int64_t i = 0; i < n; i += kChunk) {
    const int64_t m = std::min(kChunk, n - i);
    for (int64_t k = 0; k < m; ++k) std::memcpy(&buf[k], in + (i + k) * in_stride, sizeof(T));
    apply(f, buf, buf, m);
    for (int64_t k = 0; k < m; ++k) std::memcpy(out + (i + k) * out_stride, &buf[k], sizeof(T));
  }
}
template void vec_apply_strided<float>(VecFn, const char*, int64_t, char*, int64_t, int64_t);
template void vec_apply_strided<double>(VecFn, const char*, int64_t, char*, int64_t, int64_t);

const char* vec_isa() { return table().isa; }

}  // namespace theon::detail
