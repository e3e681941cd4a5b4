// Sorting and scans along an axis: Sort/ArgSort, CumOp (cumsum, cumprod), Diff.
#include "theon/ops/sort.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"

namespace theon {

namespace {

// Permutation moving `axis` last, and the input as contiguous rows along it.
std::vector<int> axis_last(int ndim, int axis) {
  std::vector<int> p;
  for (int i = 0; i < ndim; ++i)
    if (i != axis) p.push_back(i);
  p.push_back(axis);
  return p;
}

Shape permuted(const Shape& s, const std::vector<int>& p) {
  Shape r;
  for (int i : p) r.push_back(s[i]);
  return r;
}

// Writes `rows` (C-contiguous, axis last) into a new array of `shape`, undoing the permutation.
Array unpermute(const Array& rows, const Shape& shape, const std::vector<int>& p) {
  Array r = Array::empty(rows.dtype(), shape);
  r.transpose(p).assign(rows);
  return r;
}

void check_axis(const std::string& who, int axis, const TensorType& t) {
  if (axis < 0 || axis >= t.ndim())
    throw std::invalid_argument("[" + who + "] axis " + std::to_string(axis) + " is out of bounds for " + t.str());
}

// float16/bfloat16 compare and compute through float.
template <class T>
using Calc = std::conditional_t<std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>, float, T>;

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<Calc<T>>) return std::isnan(Calc<T>(v));
  else return false;
}

// NumPy's order: NaNs after everything else.
template <class T>
bool less_nan_last(T a, T b) {
  if constexpr (std::is_floating_point_v<Calc<T>>) {
    Calc<T> x = Calc<T>(a), y = Calc<T>(b);
    return x < y || (std::isnan(y) && !std::isnan(x));
  } else {
    return a < b;
  }
}

}  // namespace

// ---- Sort / ArgSort ----
std::vector<TensorType> Sort::infer_type(const std::vector<Var>& ins) const {
  const std::string who = arg_ ? "argsort" : "sort";
  if (ins.size() != 1) throw std::invalid_argument("[" + who + "] expected 1 input");
  check_axis(who, axis_, ins[0].type());
  return {TensorType(arg_ ? DType::Int64 : ins[0].dtype(), ins[0].type().shape)};
}

void Sort::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  const auto p = axis_last(x.ndim(), axis_);
  const Shape ps = permuted(x.shape(), p);
  const int64_t n = x.shape()[axis_], rows = n ? x.size() / n : 0;
  Array src = x.transpose(p).contiguous();
  Array dst = Array::empty(arg_ ? DType::Int64 : x.dtype(), ps);
  visit_dtype(x.dtype(), [&](auto t) {
    using T = decltype(t);
    const T* s = src.data_as<T>();
    std::vector<int64_t> idx(static_cast<size_t>(n));
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = s + r * n;
      if (arg_) {
        std::iota(idx.begin(), idx.end(), 0);
        std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return less_nan_last(row[a], row[b]); });
        std::copy(idx.begin(), idx.end(), dst.data_as<int64_t>() + r * n);
      } else {
        T* d = dst.data_as<T>() + r * n;
        std::copy(row, row + n, d);
        std::sort(d, d + n, [](T a, T b) { return less_nan_last(a, b); });
      }
    }
  });
  out[0] = unpermute(dst, x.shape(), p);
}

std::optional<ShapeExprs> Sort::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[0]};
}

// ---- CumOp ----
std::string CumOp::name() const {
  return std::string(kind_ == CumKind::Sum ? "CumSum" : "CumProd") + "{axis=" + std::to_string(axis_) + "}";
}
std::string CumOp::props() const {
  return std::string(kind_ == CumKind::Sum ? "sum" : "prod") + "," + std::to_string(axis_);
}

namespace {
DType cum_dtype(CumKind k, DType d) { return reduce_result_dtype(k == CumKind::Sum ? ReduceKind::Sum : ReduceKind::Prod, d); }
}  // namespace

std::vector<TensorType> CumOp::infer_type(const std::vector<Var>& ins) const {
  const std::string who = kind_ == CumKind::Sum ? "cumsum" : "cumprod";
  if (ins.size() != 1) throw std::invalid_argument("[" + who + "] expected 1 input");
  check_axis(who, axis_, ins[0].type());
  return {TensorType(cum_dtype(kind_, ins[0].dtype()), ins[0].type().shape)};
}

void CumOp::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  const DType od = cum_dtype(kind_, x.dtype());
  const auto p = axis_last(x.ndim(), axis_);
  const int64_t n = x.shape()[axis_], rows = n ? x.size() / n : 0;
  Array buf = x.transpose(p).astype(od);  // a fresh contiguous copy, scanned in place
  visit_dtype(od, [&](auto t) {
    using T = decltype(t);
    T* d = buf.data_as<T>();
    for (int64_t r = 0; r < rows; ++r) {
      T* row = d + r * n;
      for (int64_t i = 1; i < n; ++i) {
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          using U = std::make_unsigned_t<T>;
          // unsigned arithmetic wraps like NumPy without undefined behaviour
          row[i] = kind_ == CumKind::Sum ? T(U(row[i - 1]) + U(row[i])) : T(uint64_t(U(row[i - 1])) * uint64_t(U(row[i])));
        } else if constexpr (std::is_same_v<T, bool>) {
          row[i] = kind_ == CumKind::Sum ? (row[i - 1] || row[i]) : (row[i - 1] && row[i]);
        } else {
          Calc<T> a = Calc<T>(row[i - 1]), b = Calc<T>(row[i]);
          row[i] = T(kind_ == CumKind::Sum ? a + b : a * b);
        }
      }
    }
  });
  out[0] = unpermute(buf, x.shape(), p);
}

std::optional<ShapeExprs> CumOp::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[0]};
}

// ---- Diff ----
std::vector<TensorType> Diff::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 1) throw std::invalid_argument("[diff] expected 1 input");
  if (n_ < 0) throw std::invalid_argument("[diff] order must be non-negative but got " + std::to_string(n_));
  check_axis("diff", axis_, ins[0].type());
  auto s = ins[0].type().shape;
  if (s[axis_] >= 0) s[axis_] = std::max<int64_t>(0, s[axis_] - n_);
  return {TensorType(ins[0].dtype(), s)};
}

void Diff::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  const auto p = axis_last(x.ndim(), axis_);
  Array cur = x.transpose(p).contiguous();
  Shape ps = cur.shape();
  for (int step = 0; step < n_ && ps.back() > 0; ++step) {
    const int64_t n = ps.back(), rows = n ? cur.size() / n : 0;
    ps.back() = n - 1;
    Array next = Array::empty(x.dtype(), ps);
    visit_dtype(x.dtype(), [&](auto t) {
      using T = decltype(t);
      const T* s = cur.data_as<T>();
      T* d = next.data_as<T>();
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t i = 0; i + 1 < n; ++i) {
          T a = s[r * n + i], b = s[r * n + i + 1];
          if constexpr (std::is_same_v<T, bool>) {
            d[r * (n - 1) + i] = a != b;
          } else if constexpr (std::is_integral_v<T>) {
            using U = std::make_unsigned_t<T>;
            d[r * (n - 1) + i] = T(U(b) - U(a));
          } else {
            d[r * (n - 1) + i] = T(Calc<T>(b) - Calc<T>(a));
          }
        }
    });
    cur = next;
  }
  Shape final_shape = x.shape();
  final_shape[axis_] = std::max<int64_t>(0, final_shape[axis_] - n_);
  out[0] = unpermute(cur.reshape(permuted(final_shape, p)), final_shape, p);
}

std::optional<ShapeExprs> Diff::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  std::vector<Var> r = in[0];
  r[axis_] = maximum(sub(r[axis_], constant(double(n_), DType::Int64)), constant(0.0, DType::Int64));
  return ShapeExprs{r};
}

// ---- builders ----
namespace {
Var along(const Var& x, std::optional<int> axis, const char* who, auto&& build) {
  if (!axis) return build(flatten(x, 1), 0);
  return build(x, normalize_axis(*axis, x.ndim(), who));
}
}  // namespace

Var sort(const Var& x, std::optional<int> axis) {
  return along(x, axis, "sort", [](const Var& v, int a) { return make1<Sort>({v}, a, false); });
}
Var argsort(const Var& x, std::optional<int> axis) {
  return along(x, axis, "argsort", [](const Var& v, int a) { return make1<Sort>({v}, a, true); });
}
Var cumsum(const Var& x, std::optional<int> axis) {
  return along(x, axis, "cumsum", [](const Var& v, int a) { return make1<CumOp>({v}, CumKind::Sum, a); });
}
Var cumprod(const Var& x, std::optional<int> axis) {
  return along(x, axis, "cumprod", [](const Var& v, int a) { return make1<CumOp>({v}, CumKind::Prod, a); });
}
Var diff(const Var& x, int n, int axis) {
  if (x.ndim() == 0)
    throw std::invalid_argument("[diff] diff requires input that is at least one dimensional, got " + x.type().str());
  if (n < 0) throw std::invalid_argument("[diff] order must be non-negative but got " + std::to_string(n));
  if (n == 0) return x;
  return make1<Diff>({x}, n, normalize_axis(axis, x.ndim(), "diff"));
}

}  // namespace theon
