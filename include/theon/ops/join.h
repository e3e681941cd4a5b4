// theon/ops/join.h — joining and splitting tensors along an axis:
// concatenate / join, stack and Theano's split.
//
// Join promotes its inputs' dtypes as np.concatenate does and checks at build
// time every dimension it knows, naming both shapes when they disagree. Split
// returns views of its input, one output per piece.
#pragma once
#include "theon/graph/node.h"

namespace theon {

// Join{axis}(x0, x1, ...): np.concatenate along a (non-negative) axis.
class Join : public Op {
 public:
  explicit Join(int axis) : axis_(axis) {}
  std::string name() const override { return "Join{axis=" + std::to_string(axis_) + "}"; }
  std::string props() const override { return std::to_string(axis_); }
  THEON_OP_OVERRIDES
  int axis() const { return axis_; }

 private:
  int axis_;
};

// Split{n, axis}(x, sizes): n views of x along axis with the given sizes
// (an int vector of length n that must sum to x.shape[axis]).
class Split : public Op {
 public:
  Split(int n_splits, int axis) : n_(n_splits), axis_(axis) {}
  std::string name() const override;
  std::string props() const override { return name(); }
  THEON_OP_OVERRIDES
  std::vector<std::pair<int, int>> view_map() const override;

 private:
  int n_;
  int axis_;
};

// np.concatenate(tensors, axis); axis may be negative.
Var concatenate(const std::vector<Var>& tensors, int axis = 0);
// Theano's join(axis, *tensors).
inline Var join(int axis, const std::vector<Var>& tensors) {
  return concatenate(tensors, axis);
}
// np.stack: tensors of one shape joined along a new axis.
Var stack(const std::vector<Var>& tensors, int axis = 0);
// Theano's split(x, splits_size, n_splits, axis): n_splits pieces of x.
std::vector<Var> split(const Var& x, const Var& splits_size, int n_splits, int axis = 0);
std::vector<Var> split(const Var& x, const std::vector<int64_t>& splits_size, int axis = 0);

}  // namespace theon
