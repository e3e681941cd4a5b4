// Reduction kernels over contiguous runs: several independent accumulators
// per run so the compiler vectorizes them (a single accumulator is a serial
// dependency chain), and column reductions that add whole rows at a time.
// Integer sums wrap as NumPy's do (modular arithmetic, so lane order does not
// matter); float sums accumulate in double.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <type_traits>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace theon::reduce_kernels {

inline constexpr int kLanes = 8;

template <class Acc, class T>
Acc sum_run(const T* p, int64_t n) {
  if constexpr (std::is_integral_v<Acc>) {
    using U = std::make_unsigned_t<Acc>;
    U lane[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int j = 0; j < kLanes; ++j) lane[j] += U(Acc(p[i + j]));
    U acc = 0;
    for (int j = 0; j < kLanes; ++j) acc += lane[j];
    for (; i < n; ++i) acc += U(Acc(p[i]));
    return Acc(acc);
  } else if constexpr (std::is_same_v<T, float>) {
    // float lanes over short blocks (exact enough: 16 terms per lane), each
    // block's total added in double.
    constexpr int kW = 16, kBlock = 256;
    Acc acc = 0;
    int64_t i = 0;
    for (; i + kBlock <= n; i += kBlock) {
      float lane[kW] = {};
      for (int k = 0; k < kBlock; k += kW)
        for (int j = 0; j < kW; ++j) lane[j] += p[i + k + j];
      double block = 0;
      for (int j = 0; j < kW; ++j) block += double(lane[j]);
      acc += block;
    }
    for (; i < n; ++i) acc += Acc(p[i]);
    return acc;
  } else {
    Acc lane[kLanes] = {};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int j = 0; j < kLanes; ++j) lane[j] += Acc(p[i + j]);
    Acc acc = 0;
    for (; i < n; ++i) acc += Acc(p[i]);
    for (int j = 0; j < kLanes; ++j) acc += lane[j];
    return acc;
  }
}

template <class Acc, class T>
Acc prod_run(const T* p, int64_t n) {
  if constexpr (std::is_integral_v<Acc>) {
    using U = std::make_unsigned_t<Acc>;
    U acc = 1;
    for (int64_t i = 0; i < n; ++i) acc *= U(Acc(p[i]));
    return Acc(acc);
  } else {
    Acc lane[kLanes] = {1, 1, 1, 1, 1, 1, 1, 1};
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int j = 0; j < kLanes; ++j) lane[j] *= Acc(p[i + j]);
    Acc acc = 1;
    for (; i < n; ++i) acc *= Acc(p[i]);
    for (int j = 0; j < kLanes; ++j) acc *= lane[j];
    return acc;
  }
}

// Max (or min) of a non-empty run; NaN wins as in NumPy. The vector loop
// tracks v - v per lane (0 for finite values, NaN for NaN and +-Inf); only a
// run holding NaN or Inf takes the exact serial path.
template <class T>
T extreme_serial(const T* p, int64_t n, bool want_max) {
  T best = p[0];
  for (int64_t i = 0; i < n; ++i) {
    T v = p[i];
    if constexpr (std::is_floating_point_v<T>)
      if (v != v) return v;
    best = want_max ? (v > best ? v : best) : (v < best ? v : best);
  }
  return best;
}

#if defined(__SSE2__)
// SSE2 (every x86-64): four vector accumulators and an unordered-compare flag.
// MAXPS/MINPS return their second operand when either is NaN, so NaN is
// tracked separately and the exact serial path decides those runs.
template <class T>
struct Sse;
template <>
struct Sse<float> {
  using V = __m128;
  static constexpr int64_t kL = 4;
  static V load(const float* q) { return _mm_loadu_ps(q); }
  static V max(V a, V b) { return _mm_max_ps(a, b); }
  static V min(V a, V b) { return _mm_min_ps(a, b); }
  static V unord(V flag, V b) { return _mm_or_ps(flag, _mm_cmpunord_ps(b, b)); }
  static V zero() { return _mm_setzero_ps(); }
  static int mask(V a) { return _mm_movemask_ps(a); }
  static void store(float* q, V a) { _mm_storeu_ps(q, a); }
};
template <>
struct Sse<double> {
  using V = __m128d;
  static constexpr int64_t kL = 2;
  static V load(const double* q) { return _mm_loadu_pd(q); }
  static V max(V a, V b) { return _mm_max_pd(a, b); }
  static V min(V a, V b) { return _mm_min_pd(a, b); }
  static V unord(V flag, V b) { return _mm_or_pd(flag, _mm_cmpunord_pd(b, b)); }
  static V zero() { return _mm_setzero_pd(); }
  static int mask(V a) { return _mm_movemask_pd(a); }
  static void store(double* q, V a) { _mm_storeu_pd(q, a); }
};

template <class T>
std::optional<T> extreme_sse2(const T* p, int64_t n, bool want_max) {
  using S = Sse<T>;
  using V = typename S::V;
  constexpr int64_t kL = S::kL, kStep = 4 * kL;
  if (n < kStep) return std::nullopt;
  V a[4], nan = S::zero();
  for (int k = 0; k < 4; ++k) {
    a[k] = S::load(p + k * kL);
    nan = S::unord(nan, a[k]);
  }
  int64_t i = kStep;
  for (; i + kStep <= n; i += kStep)
    for (int k = 0; k < 4; ++k) {
      V b = S::load(p + i + k * kL);
      a[k] = want_max ? S::max(a[k], b) : S::min(a[k], b);
      nan = S::unord(nan, b);
    }
  if (S::mask(nan)) return std::nullopt;
  T lanes[kStep];
  for (int k = 0; k < 4; ++k) S::store(lanes + k * kL, a[k]);
  T best = lanes[0];
  for (int64_t j = 1; j < kStep; ++j) best = want_max ? (lanes[j] > best ? lanes[j] : best) : (lanes[j] < best ? lanes[j] : best);
  for (; i < n; ++i) {
    T v = p[i];
    if (v != v) return std::nullopt;
    best = want_max ? (v > best ? v : best) : (v < best ? v : best);
  }
  return best;
}
#endif

template <class T>
T extreme_run(const T* p, int64_t n, bool want_max) {
#if defined(__SSE2__)
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    if (auto r = extreme_sse2(p, n, want_max)) return *r;
    return extreme_serial(p, n, want_max);
  }
#endif
  if constexpr (std::is_floating_point_v<T>) {
    constexpr int kW = 16;
    if (n < kW) return extreme_serial(p, n, want_max);
    T lane[kW], bad[kW] = {};
    for (int j = 0; j < kW; ++j) lane[j] = p[j];
    int64_t i = 0;
    if (want_max) {
      for (; i + kW <= n; i += kW)
        for (int j = 0; j < kW; ++j) {
          T v = p[i + j];
          bad[j] += v - v;
          lane[j] = v > lane[j] ? v : lane[j];
        }
    } else {
      for (; i + kW <= n; i += kW)
        for (int j = 0; j < kW; ++j) {
          T v = p[i + j];
          bad[j] += v - v;
          lane[j] = v < lane[j] ? v : lane[j];
        }
    }
    T flag = 0;
    for (int j = 0; j < kW; ++j) flag += bad[j];
    if (flag != 0) return extreme_serial(p, n, want_max);  // NaN or Inf somewhere
    T best = lane[0];
    for (int j = 1; j < kW; ++j) best = want_max ? (lane[j] > best ? lane[j] : best) : (lane[j] < best ? lane[j] : best);
    for (; i < n; ++i) {
      T v = p[i];
      if (v != v) return v;
      best = want_max ? (v > best ? v : best) : (v < best ? v : best);
    }
    return best;
  } else {
    return extreme_serial(p, n, want_max);
  }
}

// acc[j] (op)= row[j] for j in [0, n): the inner step of a reduction over leading axes.
template <class Acc, class T>
void add_row(Acc* acc, const T* row, int64_t n) {
  if constexpr (std::is_integral_v<Acc>) {
    using U = std::make_unsigned_t<Acc>;
    for (int64_t j = 0; j < n; ++j) acc[j] = Acc(U(acc[j]) + U(Acc(row[j])));
  } else {
    for (int64_t j = 0; j < n; ++j) acc[j] += Acc(row[j]);
  }
}
template <class Acc, class T>
void mul_row(Acc* acc, const T* row, int64_t n) {
  if constexpr (std::is_integral_v<Acc>) {
    using U = std::make_unsigned_t<Acc>;
    for (int64_t j = 0; j < n; ++j) acc[j] = Acc(U(acc[j]) * U(Acc(row[j])));
  } else {
    for (int64_t j = 0; j < n; ++j) acc[j] *= Acc(row[j]);
  }
}
// NaN wins: once a NaN is in acc it stays (comparisons with NaN are false), and a NaN in row replaces acc.
template <class T>
void extreme_row(T* acc, const T* row, int64_t n, bool want_max) {
  if (want_max)
    for (int64_t j = 0; j < n; ++j) {
      T a = acc[j], v = row[j];
      acc[j] = (v > a || v != v) && a == a ? v : a;
    }
  else
    for (int64_t j = 0; j < n; ++j) {
      T a = acc[j], v = row[j];
      acc[j] = (v < a || v != v) && a == a ? v : a;
    }
}

}  // namespace theon::reduce_kernels
