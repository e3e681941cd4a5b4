// Helpers shared by the LAPACK-backed ops: typed LAPACK calls, stacks of
// matrices, and column-major working copies.
#pragma once
#include <algorithm>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "blas_lapack.h"
#include "theon/graph/type.h"
#include "theon/runtime/array.h"

namespace theon::linalg_detail {

// The LAPACK routine for float or double, chosen at compile time.
#define THEON_LAPACK(T, name, ...)                \
  do {                                            \
    if constexpr (std::is_same_v<T, float>)       \
      s##name##_(__VA_ARGS__);                    \
    else                                          \
      d##name##_(__VA_ARGS__);                    \
  } while (0)

// Calls f(T{}) with float for float32 and double for float64.
template <class F>
void visit_real(DType d, F&& f) {
  if (d == DType::Float32) f(float{});
  else f(double{});
}

// The 2-d matrix number `flat` of a stack x with batch shape `batch`.
inline Array matrix_at(Array x, const Shape& batch, int64_t flat) {
  for (int d = int(batch.size()) - 1; d >= 0; --d) {
    x = x.index(d, flat % batch[d]);
    flat /= batch[d];
  }
  return x;
}

inline Shape batch_shape(const Array& x, int core = 2) {
  return Shape(x.shape().begin(), x.shape().end() - core);
}

// A new column-major copy (leading dimension = rows) of the 2-d view m in dtype d:
// returned as the C-contiguous transpose, so data_as<T>() is the LAPACK buffer.
inline Array colmajor(const Array& m, DType d) { return m.transpose().astype(d); }

// Copies a column-major work array (as returned by colmajor) into the 2-d view dst.
inline void store(const Array& dst, const Array& work) { dst.assign(work.transpose()); }

// A LAPACK workspace size from a query result.
template <class T>
f_int lwork_of(T query) {
  return std::max<f_int>(1, f_int(query));
}

// Runs a LAPACK routine that takes a workspace: call(work, lwork) once with
// lwork = -1 to query the size, then with a workspace of that size.
template <class T, class Call>
void with_workspace(Call&& call) {
  f_int lwork = -1;
  T query = 0;
  call(&query, &lwork);
  lwork = lwork_of(query);
  std::vector<T> work(static_cast<size_t>(lwork));
  call(work.data(), &lwork);
}

// The same for a routine with a real and an integer workspace (syevd):
// call(work, lwork, iwork, liwork).
template <class T, class Call>
void with_workspaces(Call&& call) {
  f_int lwork = -1, liwork = -1, iquery = 0;
  T query = 0;
  call(&query, &lwork, &iquery, &liwork);
  lwork = lwork_of(query);
  liwork = std::max<f_int>(1, iquery);
  std::vector<T> work(static_cast<size_t>(lwork));
  std::vector<f_int> iwork(static_cast<size_t>(liwork));
  call(work.data(), &lwork, iwork.data(), &liwork);
}

inline f_int to_fint(int64_t n, const char* who) {
  if (n > 2147483647)
    throw std::invalid_argument(std::string("[") + who + "] dimension " + std::to_string(n) +
                                " exceeds LAPACK's 32-bit limit");
  return f_int(n);
}

}  // namespace theon::linalg_detail

namespace theon::linalg_detail {

// Broadcast of two static batch shapes (-1 unknown); throws naming `who`.
inline std::vector<int64_t> broadcast_static(const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                                             const std::string& who) {
  size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> r(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = i + a.size() >= n ? a[i + a.size() - n] : 1, y = i + b.size() >= n ? b[i + b.size() - n] : 1;
    if (x == 1) r[i] = y;
    else if (y == 1) r[i] = x;
    else if (x >= 0 && y >= 0 && x != y)
      throw std::invalid_argument("[" + who + "] batch shapes " + static_shape_str(a) + " and " +
                                  static_shape_str(b) + " cannot be broadcast together");
    else r[i] = x >= 0 ? x : y;
  }
  return r;
}

}  // namespace theon::linalg_detail
