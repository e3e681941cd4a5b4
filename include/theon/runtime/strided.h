// theon/runtime/strided.h — loops over several strided, broadcast arrays.
//
// for_each_strided walks N arrays of one shape (already broadcast, byte
// strides, zero for broadcast dims) and calls an inner-loop kernel with the
// N base pointers, their innermost strides and the run length. Adjacent
// dimensions that are contiguous in every operand are merged first, so a
// contiguous operation becomes a single call with n == size.
#pragma once
#include <array>
#include <cmath>
#include <limits>
#include <type_traits>

#include "theon/runtime/array.h"

namespace theon {

template <size_t N, class Kernel>
void for_each_strided(const Shape& shape, std::array<char*, N> ptrs,
                      std::array<const Strides*, N> strides, Kernel&& kernel) {
  for (int64_t d : shape)
    if (d == 0) return;
  // Collapse dims: walk from the innermost outward, merging when every operand is contiguous across.
  std::vector<int64_t> dims;
  std::vector<std::array<int64_t, N>> st;
  for (int i = int(shape.size()) - 1; i >= 0; --i) {
    if (shape[i] == 1) continue;
    std::array<int64_t, N> s;
    for (size_t k = 0; k < N; ++k) s[k] = (*strides[k])[i];
    if (!dims.empty()) {
      bool merge = true;
      for (size_t k = 0; k < N; ++k)
        if (s[k] != st.back()[k] * dims.back()) merge = false;
      if (merge) {
        dims.back() *= shape[i];
        continue;
      }
    }
    dims.push_back(shape[i]);
    st.push_back(s);
  }
  if (dims.empty()) {
    dims.push_back(1);
    st.push_back({});
  }
  const int nd = int(dims.size());
  std::array<int64_t, N> inner = st[0];
  const int64_t n = dims[0];
  std::vector<int64_t> idx(nd, 0);
  while (true) {
    kernel(ptrs, inner, n);
    int d = 1;
    for (; d < nd; ++d) {
      for (size_t k = 0; k < N; ++k) ptrs[k] += st[d][k];
      if (++idx[d] < dims[d]) break;
      for (size_t k = 0; k < N; ++k) ptrs[k] -= st[d][k] * dims[d];
      idx[d] = 0;
    }
    if (d >= nd) return;
  }
}

// Value conversion with NumPy's results for NaN/out-of-range float -> int
// (the integer minimum, as on x86) but without undefined behaviour.
template <class To, class From>
inline To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<From, float16> || std::is_same_v<From, bfloat16>) {
    return convert<To>(static_cast<float>(v));
  } else if constexpr ((std::is_same_v<To, float16> || std::is_same_v<To, bfloat16>) &&
                       std::is_same_v<From, double>) {
    return To(float_round_to_odd(v));
  } else if constexpr (std::is_same_v<To, float16> || std::is_same_v<To, bfloat16>) {
    return To(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    using L = std::numeric_limits<To>;
    // 2^digits bound is exact in floating point
    const From hi = std::ldexp(From(1), L::digits);
    if (std::isnan(v)) return L::min();
    if constexpr (std::is_signed_v<To>) {
      if (v >= hi || v < -hi) return L::min();
      return static_cast<To>(v);
    } else {
      // NumPy wraps negative in-range values modulo 2^n (through int64).
      if (v >= hi || v <= -From(9.2233720368547758e18)) return To(0);
      if (v < 0) return static_cast<To>(static_cast<int64_t>(v));
      return static_cast<To>(v);
    }
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace theon
