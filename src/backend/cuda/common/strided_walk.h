// Strided walks: the dims of one or more operands as byte strides, with
// size-1 dims dropped and neighbours merged where every operand allows it.
// Used by the device copy (device_arrays.cpp) and the kernel families (the
// reduce family packs walks as words; kdata's strided_loop builds on them).
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "theon/runtime/array.h"

namespace theon::cuda {

// Dims a strided walk may take after merging (push_words' layout).
inline constexpr int kWalkDims = 12;

// A walk over some dims of one or more operands: a shape and, per operand,
// byte strides. merge() drops size-1 dims and joins neighbours that every
// operand lays out contiguously, so most walks take one or two dims.
struct Walk {
  std::vector<int64_t> shape;
  std::vector<std::vector<int64_t>> strides;  // [operand][dim]

  explicit Walk(size_t operands) : strides(operands) {}
  // The walk over `shape` of operands whose shapes broadcast to it (aligned on
  // the right as in broadcasting; stride 0 where an operand has length 1 or
  // lacks the dim). Not merged.
  static Walk broadcast(const Shape& shape, const std::vector<Array>& operands) {
    Walk w(operands.size());
    std::vector<int64_t> st(operands.size());
    for (size_t d = 0; d < shape.size(); ++d) {
      for (size_t k = 0; k < operands.size(); ++k) {
        const Array& a = operands[k];
        const int64_t ad = int64_t(d) - int64_t(shape.size()) + a.ndim();
        st[k] = ad >= 0 && a.shape()[size_t(ad)] != 1 ? a.strides()[size_t(ad)] : 0;
      }
      w.add(shape[d], st);
    }
    return w;
  }
  void add(int64_t extent, const std::vector<int64_t>& st) {
    shape.push_back(extent);
    for (size_t k = 0; k < strides.size(); ++k) strides[k].push_back(st[k]);
  }
  int64_t size() const {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return n;
  }
  void merge() {
    Walk m(strides.size());
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;
      bool join = !m.shape.empty();
      for (size_t k = 0; join && k < strides.size(); ++k)
        join = m.strides[k].back() == strides[k][d] * shape[d];
      if (join) {
        m.shape.back() *= shape[d];
        for (size_t k = 0; k < strides.size(); ++k) m.strides[k].back() = strides[k][d];
      } else {
        std::vector<int64_t> st;
        for (size_t k = 0; k < strides.size(); ++k) st.push_back(strides[k][d]);
        m.add(shape[d], st);
      }
    }
    *this = m;
  }
  // Appends ndim, then kWalkDims extents, then kWalkDims strides per operand.
  void push_words(std::vector<int64_t>& w, const char* who) const {
    if (shape.size() > size_t(kWalkDims))
      throw std::invalid_argument(std::string("[") + who + "] more than " +
                                  std::to_string(kWalkDims) +
                                  " non-mergeable dims are not supported on the device");
    w.push_back(int64_t(shape.size()));
    for (int d = 0; d < kWalkDims; ++d) w.push_back(d < int(shape.size()) ? shape[d] : 1);
    for (const auto& st : strides)
      for (int d = 0; d < kWalkDims; ++d) w.push_back(d < int(st.size()) ? st[d] : 0);
  }
  // Words push_words appends for `operands` operands.
  static constexpr int num_words(int operands) { return 1 + kWalkDims * (1 + operands); }
};

}  // namespace theon::cuda
