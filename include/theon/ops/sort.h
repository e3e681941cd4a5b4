// theon/ops/sort.h — sorting and scans along an axis: sort, argsort, cumsum,
// cumprod, diff.
//
// NumPy semantics: an axis of std::nullopt works on the flattened input;
// NaNs sort last; argsort is stable (NumPy's kind='stable') and returns int64;
// cumsum/cumprod accumulate in NumPy's dtype (small integers and bool widen to
// int64, small unsigned integers to uint64, floats keep their dtype and round
// each partial result); diff of bool is not_equal, of integers wraps.
#pragma once
#include <optional>

#include "theon/graph/node.h"

namespace theon {

// Sort (or argsort, when `arg`) along a normalised axis.
class Sort : public Op {
 public:
  Sort(int axis, bool arg) : axis_(axis), arg_(arg) {}
  std::string name() const override { return std::string(arg_ ? "ArgSort" : "Sort") + "{axis=" + props() + "}"; }
  std::string props() const override { return std::to_string(axis_); }
  THEON_OP_OVERRIDES

 private:
  int axis_;
  bool arg_;
};

enum class CumKind : uint8_t { Sum, Prod };

// Inclusive scan (cumsum / cumprod) along a normalised axis.
class CumOp : public Op {
 public:
  CumOp(CumKind kind, int axis) : kind_(kind), axis_(axis) {}
  std::string name() const override;
  std::string props() const override;
  THEON_OP_OVERRIDES

 private:
  CumKind kind_;
  int axis_;
};

// n-th discrete difference along a normalised axis.
class Diff : public Op {
 public:
  Diff(int n, int axis) : n_(n), axis_(axis) {}
  std::string name() const override { return "Diff{" + props() + "}"; }
  std::string props() const override { return "n=" + std::to_string(n_) + ", axis=" + std::to_string(axis_); }
  THEON_OP_OVERRIDES

 private:
  int n_, axis_;
};

// numpy.sort(x, axis); nullopt sorts the flattened input.
Var sort(const Var& x, std::optional<int> axis = -1);
// numpy.argsort(x, axis, kind='stable').
Var argsort(const Var& x, std::optional<int> axis = -1);
// numpy.cumsum(x, axis) / numpy.cumprod(x, axis); nullopt scans the flattened input.
Var cumsum(const Var& x, std::optional<int> axis = std::nullopt);
Var cumprod(const Var& x, std::optional<int> axis = std::nullopt);
// numpy.diff(x, n, axis).
Var diff(const Var& x, int n = 1, int axis = -1);

}  // namespace theon
