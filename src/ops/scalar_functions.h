// Scalar definitions of the elementwise table (internal).
//
// ScalarFn<id>::f(a, ...) computes one element in the compute dtype chosen by
// the row's type rule. Integer arithmetic wraps like NumPy (computed in the
// unsigned type, so no undefined behaviour); integer division and remainder by
// zero give 0, as NumPy does (it also warns).
#pragma once
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "theon/ops/elemwise.h"
#include "special_math.h"

namespace theon::detail {

template <class T>
using U = std::make_unsigned_t<T>;
template <class T>
inline constexpr bool is_int_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

template <class T>
constexpr bool is_negative(T v) {
  if constexpr (std::is_signed_v<T>) return v < 0;
  else return false;
}

template <ScalarOpId id>
struct ScalarFn;

#define THEON_FN(name) \
  template <>          \
  struct ScalarFn<ScalarOpId::name>

THEON_FN(add) {
  template <class T> static T f(T a, T b) {
    if constexpr (std::is_same_v<T, bool>) return a || b;
    else if constexpr (is_int_v<T>) return T(U<T>(a) + U<T>(b));
    else return a + b;
  }
};
THEON_FN(sub) {
  template <class T> static T f(T a, T b) {
    if constexpr (is_int_v<T>) return T(U<T>(a) - U<T>(b));
    else return a - b;
  }
};
THEON_FN(mul) {
  template <class T> static T f(T a, T b) {
    if constexpr (std::is_same_v<T, bool>) return a && b;
    else if constexpr (is_int_v<T>) return T(U<T>(a) * U<T>(b));
    else return a * b;
  }
};
THEON_FN(true_div) {
  template <class T> static T f(T a, T b) { return a / b; }
};
THEON_FN(int_div) {
  template <class T> static T f(T a, T b) {
    if constexpr (is_int_v<T>) {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return T(U<T>(0) - U<T>(a));
        T q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
        return q;
      } else {
        return a / b;
      }
    } else {
      if (b == 0) return a / b;  // inf or nan, as NumPy
      T m = std::fmod(a, b);
      T d = (a - m) / b;
      if (m != 0 && ((b < 0) != (m < 0))) d -= 1;
      T fd = std::floor(d);
      if (d - fd > T(0.5)) fd += 1;
      return fd == 0 ? std::copysign(T(0), a / b) : fd;
    }
  }
};
THEON_FN(mod) {
  template <class T> static T f(T a, T b) {
    if constexpr (is_int_v<T>) {
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return 0;
        T r = a % b;
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
        return r;
      } else {
        return a % b;
      }
    } else {
      if (b == 0) return std::fmod(a, b);
      T r = std::fmod(a, b);
      if (r != 0) {
        if ((b < 0) != (r < 0)) r += b;
      } else {
        r = std::copysign(T(0), b);
      }
      return r;
    }
  }
};
THEON_FN(pow) {
  template <class T> static T f(T a, T b) {
    if constexpr (is_int_v<T>) {
      if constexpr (std::is_signed_v<T>)
        if (b < 0) throw std::invalid_argument("Integers to negative integer powers are not allowed.");
      U<T> r = 1, base = U<T>(a);
      U<T> e = U<T>(b);
      while (e) {
        if (e & 1) r *= base;
        base *= base;
        e >>= 1;
      }
      return T(r);
    } else {
      return std::pow(a, b);
    }
  }
};
THEON_FN(maximum) {
  template <class T> static T f(T a, T b) {
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    return a < b ? b : a;
  }
};
THEON_FN(minimum) {
  template <class T> static T f(T a, T b) {
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
    return b < a ? b : a;
  }
};
THEON_FN(arctan2) { template <class T> static T f(T a, T b) { return std::atan2(a, b); } };
THEON_FN(eq) { template <class T> static bool f(T a, T b) { return a == b; } };
THEON_FN(neq) { template <class T> static bool f(T a, T b) { return a != b; } };
THEON_FN(lt) { template <class T> static bool f(T a, T b) { return a < b; } };
THEON_FN(le) { template <class T> static bool f(T a, T b) { return a <= b; } };
THEON_FN(gt) { template <class T> static bool f(T a, T b) { return a > b; } };
THEON_FN(ge) { template <class T> static bool f(T a, T b) { return a >= b; } };
THEON_FN(and_) { template <class T> static T f(T a, T b) { return T(a & b); } };
THEON_FN(or_) { template <class T> static T f(T a, T b) { return T(a | b); } };
THEON_FN(xor_) { template <class T> static T f(T a, T b) { return T(a ^ b); } };
THEON_FN(left_shift) {
  template <class T> static T f(T a, T b) {
    if constexpr (std::is_same_v<T, bool>) return a;  // never reached: bool shifts are int8
    else {
      if (is_negative(b) || U<T>(b) >= sizeof(T) * 8) return 0;
      return T(U<T>(a) << b);
    }
  }
};
THEON_FN(right_shift) {
  template <class T> static T f(T a, T b) {
    if constexpr (std::is_same_v<T, bool>) return a;
    else {
      if (is_negative(b) || U<T>(b) >= sizeof(T) * 8) return is_negative(a) ? T(-1) : T(0);
      return T(a >> b);
    }
  }
};
THEON_FN(logical_and) { template <class T> static bool f(T a, T b) { return a != T(0) && b != T(0); } };
THEON_FN(logical_or) { template <class T> static bool f(T a, T b) { return a != T(0) || b != T(0); } };
THEON_FN(logical_xor) { template <class T> static bool f(T a, T b) { return (a != T(0)) != (b != T(0)); } };
THEON_FN(invert) {
  template <class T> static T f(T a) {
    if constexpr (std::is_same_v<T, bool>) return !a;
    else return T(~a);
  }
};
THEON_FN(logical_not) { template <class T> static bool f(T a) { return a == T(0); } };
THEON_FN(identity) { template <class T> static T f(T a) { return a; } };
THEON_FN(neg) {
  template <class T> static T f(T a) {
    if constexpr (is_int_v<T>) return T(U<T>(0) - U<T>(a));
    else return -a;
  }
};
THEON_FN(abs) {
  template <class T> static T f(T a) {
    if constexpr (std::is_unsigned_v<T> || std::is_same_v<T, bool>) return a;
    else if constexpr (is_int_v<T>) return a < 0 ? T(U<T>(0) - U<T>(a)) : a;
    else return std::fabs(a);
  }
};
THEON_FN(sgn) {
  template <class T> static T f(T a) {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a)) return a;
      return T((T(0) < a) - (a < T(0)));
    } else if constexpr (std::is_unsigned_v<T>) {
      return T(a != 0);
    } else {
      return T((T(0) < a) - (a < T(0)));
    }
  }
};
#define THEON_FLOAT_ONLY(name, expr)                    \
  THEON_FN(name) {                                      \
    template <class T> static T f(T a) {                \
      if constexpr (std::is_floating_point_v<T>) return expr; \
      else return a;                                    \
    }                                                   \
  };
THEON_FLOAT_ONLY(floor, std::floor(a))
THEON_FLOAT_ONLY(ceil, std::ceil(a))
THEON_FLOAT_ONLY(trunc, std::trunc(a))
THEON_FLOAT_ONLY(round_half_to_even, std::nearbyint(a))
THEON_FLOAT_ONLY(round_half_away_from_zero, std::round(a))
#undef THEON_FLOAT_ONLY
THEON_FN(sqr) { template <class T> static T f(T a) { return ScalarFn<ScalarOpId::mul>::f(a, a); } };
THEON_FN(reciprocal) {
  template <class T> static T f(T a) {
    if constexpr (is_int_v<T>) {
      if (a == 0) return std::numeric_limits<T>::min();  // NumPy's value (with a warning)
      if constexpr (std::is_signed_v<T>)
        if (a == -1) return T(-1);
      return a == 1 ? T(1) : T(0);
    } else {
      return T(1) / a;
    }
  }
};
#define THEON_MATH(name, expr) \
  THEON_FN(name) { template <class T> static T f(T a) { return expr; } };
THEON_MATH(sqrt, std::sqrt(a))
THEON_MATH(cbrt, std::cbrt(a))
THEON_MATH(exp, std::exp(a))
THEON_MATH(exp2, std::exp2(a))
THEON_MATH(expm1, std::expm1(a))
THEON_MATH(log, std::log(a))
THEON_MATH(log2, std::log2(a))
THEON_MATH(log10, std::log10(a))
THEON_MATH(log1p, std::log1p(a))
THEON_MATH(sin, std::sin(a))
THEON_MATH(cos, std::cos(a))
THEON_MATH(tan, std::tan(a))
THEON_MATH(arcsin, std::asin(a))
THEON_MATH(arccos, std::acos(a))
THEON_MATH(arctan, std::atan(a))
THEON_MATH(sinh, std::sinh(a))
THEON_MATH(cosh, std::cosh(a))
THEON_MATH(tanh, std::tanh(a))
THEON_MATH(arcsinh, std::asinh(a))
THEON_MATH(arccosh, std::acosh(a))
THEON_MATH(arctanh, std::atanh(a))
THEON_MATH(erf, std::erf(a))
THEON_MATH(erfc, std::erfc(a))
THEON_MATH(erfinv, T(special::erfinv(double(a))))
THEON_MATH(erfcinv, T(special::erfcinv(double(a))))
THEON_MATH(gamma, std::tgamma(a))
THEON_MATH(gammaln, T(special::lgamma(double(a))))
THEON_MATH(psi, T(special::digamma(double(a))))
#undef THEON_MATH
// 1 / (1 + exp(-a)) for a >= 0, exp(a) / (1 + exp(a)) otherwise. Both
// selects are done on the bits (flip the sign of a, pick 1 or e) around one
// exp call: a branch on the sign of random data mispredicts, and GCC turns
// plain ?: here into branches. The same operations on the same values, so the
// same bits as the two-branch form (checked on all 2^32 float32 inputs).
THEON_FN(sigmoid) {
  template <class T> static T f(T a) {
    using B = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
    const B pos = B(0) - B(a >= 0);  // all ones when a >= 0 (not for NaN)
    const B sign = B(1) << (sizeof(T) * 8 - 1);
    const T e = std::exp(std::bit_cast<T>(std::bit_cast<B>(a) ^ (pos & sign)));
    const T num = std::bit_cast<T>((std::bit_cast<B>(T(1)) & pos) | (std::bit_cast<B>(e) & ~pos));
    return num / (T(1) + e);
  }
};
#define THEON_MATH(name, expr) \
  THEON_FN(name) { template <class T> static T f(T a) { return expr; } };
THEON_MATH(softplus, (a > 0 ? a : T(0)) + std::log1p(std::exp(-std::fabs(a))))
THEON_MATH(softsign, a / (T(1) + std::fabs(a)))
#undef THEON_MATH
// clip(0.2 a + 0.5, 0, 1) with clip's NaN propagation (fmin/fmax would drop a NaN).
THEON_FN(hard_sigmoid) {
  template <class T> static T f(T a) {
    T y = T(0.2) * a + T(0.5);
    return y < T(0) ? T(0) : (y > T(1) ? T(1) : y);
  }
};
THEON_FN(isnan) {
  template <class T> static bool f(T a) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(a);
    else return false;
  }
};
THEON_FN(isinf) {
  template <class T> static bool f(T a) {
    if constexpr (std::is_floating_point_v<T>) return std::isinf(a);
    else return false;
  }
};
THEON_FN(isfinite) {
  template <class T> static bool f(T a) {
    if constexpr (std::is_floating_point_v<T>) return std::isfinite(a);
    else return true;
  }
};
THEON_FN(clip) {
  template <class T> static T f(T a, T lo, T hi) {
    return ScalarFn<ScalarOpId::minimum>::f(ScalarFn<ScalarOpId::maximum>::f(a, lo), hi);
  }
};
THEON_FN(switch_) {
  template <class T> static T f(T c, T a, T b) { return c != T(0) ? a : b; }
};
#undef THEON_FN

}  // namespace theon::detail
