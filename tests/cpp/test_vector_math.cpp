// The vector transcendentals behind Elemwise and Composite: every ISA the CPU
// has agrees with the C library within SLEEF's bound, special values behave,
// and a value's result does not depend on where it sits in a run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "../../src/ops/vector_math.h"

using namespace theon::detail;

namespace {

template <class T>
T reference(VecFn f, T x) {
  switch (f) {
    case VecFn::exp: return std::exp(x);
    case VecFn::exp2: return std::exp2(x);
    case VecFn::expm1: return std::expm1(x);
    case VecFn::log: return std::log(x);
    case VecFn::log2: return std::log2(x);
    case VecFn::log10: return std::log10(x);
    case VecFn::log1p: return std::log1p(x);
    case VecFn::sin: return std::sin(x);
    case VecFn::cos: return std::cos(x);
    case VecFn::tan: return std::tan(x);
    case VecFn::arcsin: return std::asin(x);
    case VecFn::arccos: return std::acos(x);
    case VecFn::arctan: return std::atan(x);
    case VecFn::sinh: return std::sinh(x);
    case VecFn::cosh: return std::cosh(x);
    case VecFn::tanh: return std::tanh(x);
    case VecFn::arctanh: return std::atanh(x);
    case VecFn::erf: return std::erf(x);
    case VecFn::erfc: return std::erfc(x);
    case VecFn::sigmoid: return T(1) / (T(1) + std::exp(-x));
    case VecFn::softplus: return std::max(x, T(0)) + std::log1p(std::exp(-std::fabs(x)));
    default: return T(0);
  }
}

// Distance in units in the last place (NaN == NaN, inf == inf).
template <class T>
double ulps(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : 1e30;
  if (std::isinf(a) || std::isinf(b)) return a == b ? 0 : 1e30;
  if (a == b) return 0;
  const T mag = std::fabs(b);
  const T ulp = std::nextafter(mag, std::numeric_limits<T>::infinity()) - mag;
  return std::fabs(double(a) - double(b)) / double(ulp);
}

std::vector<const VecTable*> tables_this_cpu_runs() {
  std::vector<const VecTable*> t{&kVecSse2};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) t.push_back(&kVecAvx2);
  if (__builtin_cpu_supports("avx512f")) t.push_back(&kVecAvx512);
  return t;
}

template <class T>
std::vector<T> sample_values(std::mt19937& rng) {
  std::vector<T> xs;
  std::uniform_real_distribution<double> small(-3, 3), wide(-80, 80), unit(-1, 1);
  for (int i = 0; i < 300; ++i) xs.push_back(T(small(rng)));
  for (int i = 0; i < 100; ++i) xs.push_back(T(wide(rng)));
  for (int i = 0; i < 100; ++i) xs.push_back(T(unit(rng)));
  using L = std::numeric_limits<T>;
  for (T v : {T(0), -T(0), L::denorm_min(), L::min(), L::infinity(), -L::infinity(), L::quiet_NaN(), T(1), T(-1)})
    xs.push_back(v);
  return xs;
}

template <class T>
void check_all_tables() {
  std::mt19937 rng(7);
  const std::vector<T> xs = sample_values<T>(rng);
  for (const VecTable* t : tables_this_cpu_runs()) {
    for (int f = 0; f < kNumSleefFns; ++f) {
      std::vector<T> got(xs.size());
      if constexpr (sizeof(T) == 4) t->f32[f](xs.data(), got.data(), int64_t(xs.size()));
      else t->f64[f](xs.data(), got.data(), int64_t(xs.size()));
      const double bound = VecFn(f) == VecFn::erfc ? 2.5 : 2.0;  // SLEEF's u10 / u15, plus the reference's own error
      for (size_t i = 0; i < xs.size(); ++i) {
        const T want = reference(VecFn(f), xs[i]);
        if (VecFn(f) == VecFn::sin || VecFn(f) == VecFn::cos || VecFn(f) == VecFn::tan) {
          if (std::fabs(double(want)) < 1e-3) continue;  // near a root the relative error is meaningless
        }
        EXPECT_LE(ulps(got[i], want), bound) << t->isa << " fn " << f << " x=" << xs[i] << " got " << got[i]
                                             << " want " << want;
      }
    }
  }
}

}  // namespace

TEST(VectorMath, EveryIsaAgreesWithTheCLibraryFloat32) { check_all_tables<float>(); }
TEST(VectorMath, EveryIsaAgreesWithTheCLibraryFloat64) { check_all_tables<double>(); }

TEST(VectorMath, ResultDoesNotDependOnPositionLengthOrStride) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-10, 10);
  std::vector<float> xs(1000);
  for (float& x : xs) x = d(rng);
  for (VecFn f : {VecFn::exp, VecFn::tanh, VecFn::sigmoid, VecFn::softplus, VecFn::log1p, VecFn::erf}) {
    std::vector<float> whole(xs.size());
    vec_apply(f, xs.data(), whole.data(), int64_t(xs.size()));
    for (int64_t start : {0, 1, 5, 17}) {
      for (int64_t n : {1, 3, 15, 16, 17, 100}) {
        std::vector<float> part(static_cast<size_t>(n));
        vec_apply(f, xs.data() + start, part.data(), n);
        EXPECT_EQ(std::memcmp(part.data(), whole.data() + start, size_t(n) * sizeof(float)), 0)
            << "fn " << int(f) << " start " << start << " n " << n;
      }
    }
    // Every third value, through the strided path.
    const int64_t m = int64_t(xs.size()) / 3;
    std::vector<float> strided(size_t(m) * 2);
    vec_apply_strided<float>(f, reinterpret_cast<const char*>(xs.data()), 3 * sizeof(float),
                             reinterpret_cast<char*>(strided.data()), 2 * sizeof(float), m);
    for (int64_t i = 0; i < m; ++i)  // bits: log1p gives NaN below -1
      EXPECT_EQ(std::memcmp(&strided[size_t(2 * i)], &whole[size_t(3 * i)], sizeof(float)), 0) << i;
  }
}

TEST(VectorMath, InPlaceAndHugeLog1p) {
  std::vector<double> xs{1e308, 1e300, 0.5, -0.5, 3.0};
  std::vector<double> want;
  for (double x : xs) want.push_back(std::log1p(x));
  vec_apply(VecFn::log1p, xs.data(), xs.data(), int64_t(xs.size()));  // in place
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_LE(ulps(xs[i], want[i]), 2.0) << i;
  float big = std::numeric_limits<float>::max(), out = 0;
  vec_apply(VecFn::log1p, &big, &out, 1);
  EXPECT_NEAR(out, std::log(big), 1e-4);
}

TEST(VectorMath, SigmoidKeepsNaNSignAndSaturates) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> xs{nan, -nan, 100.f, -100.f, 0.f};
  std::vector<float> out(xs.size());
  vec_apply(VecFn::sigmoid, xs.data(), out.data(), int64_t(xs.size()));
  EXPECT_TRUE(std::isnan(out[0]) && !std::signbit(out[0]));
  EXPECT_TRUE(std::isnan(out[1]) && std::signbit(out[1]));
  EXPECT_EQ(out[2], 1.0f);
  EXPECT_GT(out[3], 0.0f);
  EXPECT_LT(out[3], 1e-40f);
  EXPECT_EQ(out[4], 0.5f);
  EXPECT_TRUE(std::string(vec_isa()) == "avx512f" || std::string(vec_isa()) == "avx2" ||
              std::string(vec_isa()) == "sse2");
}
