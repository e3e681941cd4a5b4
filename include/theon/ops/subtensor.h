// theon/ops/subtensor.h — indexing: x[idx], set_subtensor, inc_subtensor, take.
//
// An index is a list of IndexItems, as in NumPy's x[i, a:b:c, None, ..., arr].
// Integers, slices (with constant or symbolic int scalar bounds), newaxis and
// Ellipsis give a view (Subtensor); integer or boolean arrays select elements
// by NumPy's advanced-indexing rules (AdvancedSubtensor, a copy): the index
// arrays broadcast together, and their dims replace the indexed ones in place
// when the advanced indices are next to each other, or go first when a slice
// or newaxis separates them. set_subtensor / inc_subtensor return a copy of x
// with x[idx] replaced or incremented by y; repeated indices accumulate for
// inc (np.add.at) and the last write wins for set.
#pragma once
#include <optional>

#include "theon/graph/node.h"

namespace theon {

// One entry of an index expression.
struct IndexItem {
  enum class Kind : uint8_t { Int, Slice, NewAxis, Ellipsis, Array };
  Kind kind = Kind::Slice;
  Var value;              // Int: an integer scalar; Array: an integer or boolean array
  Var start, stop, step;  // Slice: an undefined Var means omitted

  static IndexItem integer(Var v);
  static IndexItem integer(int64_t i);
  // A slice of symbolic (int scalar) bounds; undefined Vars are omitted bounds.
  static IndexItem slice(Var start, Var stop = {}, Var step = {});
  // A slice of constant bounds: slice() is `:`, slice(1, std::nullopt, -1) is `1::-1`.
  static IndexItem slice(std::optional<int64_t> start = std::nullopt,
                         std::optional<int64_t> stop = std::nullopt,
                         std::optional<int64_t> step = std::nullopt);
  static IndexItem newaxis();
  static IndexItem ellipsis();
  static IndexItem array(Var v);
};
using Index = std::vector<IndexItem>;

// The shape of an index once Ellipsis is expanded, as ops store it: which
// entries there are and which slice bounds are given (their values are inputs).
struct IndexEntry {
  enum class Kind : uint8_t { Int, Slice, NewAxis, Array };
  Kind kind = Kind::Slice;
  bool has_start = false, has_stop = false, has_step = false;
  // Number of op inputs this entry reads.
  int num_inputs() const;
};
using IndexPattern = std::vector<IndexEntry>;
// Canonical text of a pattern: "i, s:s, ::s, None, a".
std::string pattern_str(const IndexPattern& p);
bool pattern_is_advanced(const IndexPattern& p);

// x[idx] with integers, slices and newaxis: a view. Inputs: x, then the
// integer scalars the pattern reads.
class Subtensor : public Op {
 public:
  explicit Subtensor(IndexPattern p) : p_(std::move(p)) {}
  std::string name() const override { return "Subtensor{" + pattern_str(p_) + "}"; }
  std::string props() const override { return pattern_str(p_); }
  THEON_OP_OVERRIDES
  std::vector<std::pair<int, int>> view_map() const override { return {{0, 0}}; }
  const IndexPattern& pattern() const { return p_; }

 private:
  IndexPattern p_;
};

// x[idx] where idx holds integer or boolean arrays: a copy. Inputs: x, then
// what the pattern reads (scalars and index arrays).
class AdvancedSubtensor : public Op {
 public:
  explicit AdvancedSubtensor(IndexPattern p) : p_(std::move(p)) {}
  std::string name() const override { return "AdvancedSubtensor{" + pattern_str(p_) + "}"; }
  std::string props() const override { return pattern_str(p_); }
  THEON_OP_OVERRIDES
  const IndexPattern& pattern() const { return p_; }

 private:
  IndexPattern p_;
};

// A copy of x with x[idx] set to (or incremented by) y, cast to x's dtype and
// broadcast to the shape of x[idx]. Inputs: x, y, then what the pattern reads.
class IncSubtensor : public Op {
 public:
  IncSubtensor(IndexPattern p, bool set) : p_(std::move(p)), set_(set) {}
  std::string name() const override;
  std::string props() const override { return (set_ ? "set|" : "inc|") + pattern_str(p_); }
  THEON_OP_OVERRIDES
  const IndexPattern& pattern() const { return p_; }
  bool set() const { return set_; }

 private:
  IndexPattern p_;
  bool set_;
};

// The length of a slice of a dimension of length n, from symbolic bounds
// (used by the shape inference of Subtensor). Inputs: n, then the given bounds.
class SliceLength : public Op {
 public:
  explicit SliceLength(IndexEntry e) : e_(e) {}
  std::string name() const override { return "SliceLength{" + pattern_str({e_}) + "}"; }
  std::string props() const override { return pattern_str({e_}); }
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;

 private:
  IndexEntry e_;
};

// x[idx]. Indexing the output of MakeVector with a constant integer returns
// the element itself, so x.shape[0] stays a cheap scalar expression.
Var subtensor(const Var& x, const Index& idx);
// A copy of x with x[idx] = y / x[idx] += y (np.add.at: repeated indices accumulate).
Var set_subtensor(const Var& x, const Index& idx, const Var& y);
Var inc_subtensor(const Var& x, const Index& idx, const Var& y);
// Theano's form: x_sub must be the result of indexing, x[idx]; the update
// applies to that x and idx.
Var set_subtensor(const Var& x_sub, const Var& y);
Var inc_subtensor(const Var& x_sub, const Var& y);
// numpy.take: elements of a along axis at indices; no axis takes from the flattened a.
Var take(const Var& a, const Var& indices, std::optional<int> axis = std::nullopt);

}  // namespace theon
