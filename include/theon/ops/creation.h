// theon/ops/creation.h — ops that create arrays: alloc, fill, zeros/ones and
// their *_like forms, eye, tri, tril/triu, arange and linspace.
//
// Shapes are lists of int scalar Vars, so they may be symbolic (x.shape[0]) or
// constants; what is known at build time is checked at build time and gives
// the static shape of the result. Result dtypes follow NumPy 2 (arange of ints
// is int64, of floats float64; linspace computes in the float dtype of its
// end points). Theano's Alloc broadcasts a value to a shape and owns the
// result; BroadcastTo does the same as a read-only view.
#pragma once
#include <optional>

#include "theon/graph/node.h"

namespace theon {

// Alloc(value, s0, s1, ...): `value` broadcast to the shape (s0, s1, ...), copied.
class Alloc : public Op {
 public:
  std::string name() const override { return "Alloc"; }
  THEON_OP_OVERRIDES
};

// BroadcastTo(x, s0, s1, ...): NumPy's broadcast_to, a view of x.
class BroadcastTo : public Alloc {
 public:
  std::string name() const override { return "BroadcastTo"; }
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::vector<std::pair<int, int>> view_map() const override { return {{0, 0}}; }
};

// Fill(model, value): Theano's fill/second — value broadcast against model's
// shape, with value's dtype.
class Fill : public Op {
 public:
  std::string name() const override { return "Fill"; }
  THEON_OP_OVERRIDES
};

// Eye(n, m, k) (ones on diagonal k) or Tri(n, m, k) (ones at and below diagonal k).
class Eye : public Op {
 public:
  Eye(DType dtype, bool tri) : dtype_(dtype), tri_(tri) {}
  std::string name() const override;
  std::string props() const override { return name(); }
  THEON_OP_OVERRIDES

 private:
  DType dtype_;
  bool tri_;
};

// Tril/Triu{k}: zeroes the elements above (tril) or below (triu) diagonal k of
// the last two axes.
class Tril : public Op {
 public:
  Tril(int64_t k, bool upper) : k_(k), upper_(upper) {}
  std::string name() const override;
  std::string props() const override { return name(); }
  THEON_OP_OVERRIDES

 private:
  int64_t k_;
  bool upper_;
};

// ARange(start, stop, step) with the result dtype as a property.
class ARange : public Op {
 public:
  explicit ARange(DType dtype) : dtype_(dtype) {}
  std::string name() const override { return "ARange{" + std::string(dtype_name(dtype_)) + "}"; }
  std::string props() const override { return name(); }
  THEON_OP_OVERRIDES

 private:
  DType dtype_;
};

// Linspace(start, stop) with num, endpoint and the result dtype as properties.
class Linspace : public Op {
 public:
  Linspace(int64_t num, bool endpoint, DType dtype)
      : num_(num), endpoint_(endpoint), dtype_(dtype) {}
  std::string name() const override;
  std::string props() const override { return name(); }
  THEON_OP_OVERRIDES

 private:
  int64_t num_;
  bool endpoint_;
  DType dtype_;
};

// Length of NumPy's arange(start, stop, step) (ceil((stop - start) / step), at least 0).
int64_t arange_length(double start, double stop, double step);
// The dtype np.arange gives for inputs of these dtypes: float64 when any is a
// float or uint64, otherwise int64; all bool is an error.
DType arange_dtype(DType start, DType stop, DType step);

// Theano's alloc: `value` broadcast to `shape` (int scalars), as a new array.
Var alloc(const Var& value, const std::vector<Var>& shape);
Var alloc(const Var& value, const std::vector<int64_t>& shape);
// Theano's fill(model, value) == second(model, value).
Var fill(const Var& model, const Var& value);
inline Var second(const Var& model, const Var& value) {
  return fill(model, value);
}
// Arrays of zeros / ones of a shape (int scalar Vars or ints) and dtype.
Var zeros(const std::vector<Var>& shape, DType dtype = DType::Float64);
Var zeros(const std::vector<int64_t>& shape, DType dtype = DType::Float64);
Var ones(const std::vector<Var>& shape, DType dtype = DType::Float64);
Var ones(const std::vector<int64_t>& shape, DType dtype = DType::Float64);
// Same shape as x; dtype defaults to x's.
Var zeros_like(const Var& x, std::optional<DType> dtype = std::nullopt);
Var ones_like(const Var& x, std::optional<DType> dtype = std::nullopt);
Var full_like(const Var& x, const Var& fill_value, std::optional<DType> dtype = std::nullopt);
// n x m (m defaults to n) with ones on diagonal k.
Var eye(const Var& n, std::optional<Var> m = std::nullopt, std::optional<Var> k = std::nullopt,
        DType dtype = DType::Float64);
Var eye(int64_t n, std::optional<int64_t> m = std::nullopt, int64_t k = 0,
        DType dtype = DType::Float64);
// eye(x.shape[0], x.shape[1], 0, x.dtype) for a matrix x.
Var identity_like(const Var& x);
// n x m (m defaults to n), ones at and below diagonal k.
Var tri(const Var& n, std::optional<Var> m = std::nullopt, std::optional<Var> k = std::nullopt,
        DType dtype = DType::Float64);
Var tri(int64_t n, std::optional<int64_t> m = std::nullopt, int64_t k = 0,
        DType dtype = DType::Float64);
// Lower / upper triangle of the last two axes (a vector is first broadcast to n x n, as in NumPy).
Var tril(const Var& x, int64_t k = 0);
Var triu(const Var& x, int64_t k = 0);
// NumPy's arange; dtype defaults to arange_dtype of the inputs.
Var arange(const Var& start, const Var& stop, const Var& step,
           std::optional<DType> dtype = std::nullopt);
Var arange(const Var& stop, std::optional<DType> dtype = std::nullopt);
// NumPy's linspace for scalar end points; dtype defaults to the computation dtype.
Var linspace(const Var& start, const Var& stop, int64_t num = 50, bool endpoint = true,
             std::optional<DType> dtype = std::nullopt);

}  // namespace theon
