// theon/ops/shape_extra.h — rearranging ops: tile, repeat, roll, flip and
// broadcast_to.
//
// tile and broadcast_to are built from Alloc/BroadcastTo, DimShuffle and
// Reshape; Repeat and Roll compute by copying strided slices; Flip is a view
// with negated strides. Axes follow NumPy (negative counts from the end,
// nullopt means "all axes", or "flattened" for repeat and roll).
#pragma once
#include <optional>

#include "theon/graph/node.h"

namespace theon {

// Repeat{axis}(x, repeats): np.repeat along a (non-negative) axis; repeats is
// an int scalar or an int vector of length 1 or x.shape[axis].
class Repeat : public Op {
 public:
  explicit Repeat(int axis) : axis_(axis) {}
  std::string name() const override { return "Repeat{axis=" + std::to_string(axis_) + "}"; }
  std::string props() const override { return std::to_string(axis_); }
  THEON_OP_OVERRIDES

 private:
  int axis_;
};

// Roll{axis}(x, shift): np.roll along one (non-negative) axis by an int scalar.
class Roll : public Op {
 public:
  explicit Roll(int axis) : axis_(axis) {}
  std::string name() const override { return "Roll{axis=" + std::to_string(axis_) + "}"; }
  std::string props() const override { return std::to_string(axis_); }
  THEON_OP_OVERRIDES

 private:
  int axis_;
};

// Flip{axes}(x): x reversed along the given (sorted, non-negative) axes, a view.
class Flip : public Op {
 public:
  explicit Flip(std::vector<int> axes) : axes_(std::move(axes)) {}
  std::string name() const override;
  std::string props() const override { return name(); }
  THEON_OP_OVERRIDES
  std::vector<std::pair<int, int>> view_map() const override { return {{0, 0}}; }

 private:
  std::vector<int> axes_;
};

// np.tile(x, reps); reps are int scalars (symbolic or constant).
Var tile(const Var& x, const std::vector<Var>& reps);
Var tile(const Var& x, const std::vector<int64_t>& reps);
// np.repeat(x, repeats, axis); axis nullopt repeats the flattened x.
Var repeat(const Var& x, const Var& repeats, std::optional<int> axis = std::nullopt);
Var repeat(const Var& x, int64_t repeats, std::optional<int> axis = std::nullopt);
// np.roll(x, shift, axis); axis nullopt rolls the flattened x and restores the shape.
Var roll(const Var& x, const Var& shift, std::optional<int> axis = std::nullopt);
// np.roll with several shifts and axes (one of them may have length 1 and is broadcast).
Var roll(const Var& x, const std::vector<Var>& shifts, const std::vector<int>& axes);
// np.broadcast_to(x, shape) as a read-only view.
Var broadcast_to(const Var& x, const std::vector<Var>& shape);
Var broadcast_to(const Var& x, const std::vector<int64_t>& shape);
// np.flip(x, axis); nullopt flips every axis.
Var flip(const Var& x, const std::optional<std::vector<int>>& axis = std::nullopt);

}  // namespace theon
