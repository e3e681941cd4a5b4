// Special functions the C++ standard library lacks (internal): inverse error
// functions and digamma, in double precision (refined by Newton/Halley steps
// to full precision), and a thread-safe log-gamma.
#pragma once
#include <cmath>
#include <limits>

namespace theon::detail::special {

inline double lgamma(double x) {
  // C gives +inf at -inf; SciPy's gammaln (the reference) gives -inf.
  if (x == -std::numeric_limits<double>::infinity()) return x;
  int sign;
  return ::lgamma_r(x, &sign);
}

inline double erfinv(double y) {
  if (std::isnan(y) || y < -1 || y > 1) return std::numeric_limits<double>::quiet_NaN();
  if (y == 1) return std::numeric_limits<double>::infinity();
  if (y == -1) return -std::numeric_limits<double>::infinity();
  // Winitzki's closed-form approximation (relative error ~2e-3) as a start.
  const double a = 0.147;
  double ln = std::log((1.0 - y) * (1.0 + y));
  double t = 2.0 / (M_PI * a) + 0.5 * ln;
  double x = std::sqrt(std::sqrt(t * t - ln / a) - t);
  x *= y;
  // Halley refinement on erf(x) - y.
  const double k = 2.0 / std::sqrt(M_PI);
  for (int i = 0; i < 8; ++i) {
    double e = std::erf(x) - y;
    double d = k * std::exp(-x * x);
    double step = e / (d + x * e);
    x -= step;
    if (std::fabs(step) <= 1e-16 * std::fabs(x)) break;
  }
  return x;
}

inline double erfcinv(double y) {
  if (std::isnan(y) || y < 0 || y > 2) return std::numeric_limits<double>::quiet_NaN();
  if (y == 0) return std::numeric_limits<double>::infinity();
  if (y == 2) return -std::numeric_limits<double>::infinity();
  if (y > 0.0625 && y < 1.9375) return erfinv(1.0 - y);
  bool neg = y > 1;
  double q = neg ? 2.0 - y : y;  // erfcinv(2 - q) = -erfcinv(q)
  // Asymptotic start: erfc(x) ~ exp(-x^2) / (x sqrt(pi)).
  double x = std::sqrt(-std::log(q));
  x = std::sqrt(-std::log(q * x * std::sqrt(M_PI)));
  const double k = 2.0 / std::sqrt(M_PI);
  for (int i = 0; i < 8; ++i) {
    double e = std::erfc(x) - q;
    double d = -k * std::exp(-x * x);
    double step = e / (d - x * e);  // Halley: f'' = -2x f'
    x -= step;
    if (std::fabs(step) < 1e-16 * std::fabs(x)) break;
  }
  return neg ? -x : x;
}

inline double digamma(double x) {
  if (std::isnan(x) || x == -std::numeric_limits<double>::infinity())
    return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return std::copysign(std::numeric_limits<double>::infinity(), -x);
  double result = 0;
  if (x < 0) {
    if (x == std::floor(x)) return std::numeric_limits<double>::quiet_NaN();
    // Reflection: psi(1 - x) - psi(x) = pi cot(pi x)
    result = -M_PI / std::tan(M_PI * x);
    x = 1 - x;
  }
  while (x < 6) {
    result -= 1 / x;
    x += 1;
  }
  double f = 1 / (x * x);
  double series = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
  return result + std::log(x) - 0.5 / x - series;
}

}  // namespace theon::detail::special
