// Operands as BLAS reads them (private to src/ops): a 2-d array as row- or
// column-major with a leading dimension taken from its strides (a transposed
// view is passed as column-major, not copied), a vector with its stride; a
// copy only when the strides cannot be expressed.
#pragma once
#include <algorithm>
#include <climits>
#include <cstdint>
#include <utility>

#include "blas_lapack.h"
#include "theon/runtime/array.h"

namespace theon::blas_operands {

template <class T>
struct BlasMat {
  Array keep;
  const T* p;
  bool row_major;
  f_int ld;
};

template <class T>
BlasMat<T> blas_mat(const Array& x) {
  const int64_t r = x.shape()[0], c = x.shape()[1], s = sizeof(T);
  Array y = x.dtype() == dtype_v<T> ? x : x.astype(dtype_v<T>);
  const int64_t s0 = r == 1 ? c * s : y.strides()[0], s1 = c == 1 ? s : y.strides()[1];
  const bool aligned = reinterpret_cast<uintptr_t>(y.data()) % alignof(T) == 0;
  if (aligned && s1 == s && s0 > 0 && s0 % s == 0 && s0 / s >= std::max<int64_t>(c, 1) && s0 / s <= INT_MAX)
    return {y, y.data_as<T>(), true, f_int(s0 / s)};
  if (aligned && s0 == s && s1 > 0 && s1 % s == 0 && s1 / s >= std::max<int64_t>(r, 1) && s1 / s <= INT_MAX)
    return {y, y.data_as<T>(), false, f_int(s1 / s)};
  y = y.copy();
  return {y, y.data_as<T>(), true, f_int(std::max<int64_t>(c, 1))};
}


// A vector as BLAS reads it: a positive element stride, or a contiguous copy.
template <class T>
std::pair<Array, f_int> blas_vec(const Array& v) {
  const int64_t st = v.strides()[0], s = sizeof(T);
  if (st > 0 && st % s == 0 && st / s <= INT_MAX && reinterpret_cast<uintptr_t>(v.data()) % alignof(T) == 0)
    return {v, f_int(st / s)};
  return {v.copy(), 1};
}

}  // namespace theon::blas_operands
