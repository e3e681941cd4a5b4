// theon/graph/node.h — the symbolic graph: Variable, Constant, Apply, Op.
//
// A graph is a DAG of immutable nodes. A Variable is an input, a constant,
// a shared variable or the output of an Apply (an Op applied to input
// Variables). `Var` is the handle users hold; holding any output of an Apply
// keeps the Apply and, through it, its inputs alive. Ops are values: two ops
// of the same class with the same properties compare equal and hash alike,
// which is what common-subexpression elimination relies on.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "theon/graph/type.h"

namespace theon {

class Op;
struct ApplyNode;
struct VariableNode;
struct SharedStorage;

// Handle to a symbolic variable (cheap to copy; identity is the node).
class Var {
 public:
  Var() = default;
  explicit Var(std::shared_ptr<VariableNode> p) : p_(std::move(p)) {}

  bool defined() const { return p_ != nullptr; }
  VariableNode* get() const { return p_.get(); }
  VariableNode* operator->() const { return p_.get(); }
  const std::shared_ptr<VariableNode>& ptr() const { return p_; }
  bool is(const Var& o) const { return p_ == o.p_; }

  const TensorType& type() const;
  DType dtype() const { return type().dtype; }
  int ndim() const { return type().ndim(); }
  const std::string& name() const;
  Var& set_name(std::string name);
  ApplyNode* owner() const;
  int index() const;  // which output of its owner
  bool is_constant() const;
  bool is_shared() const;
  const Array& constant_value() const;  // throws unless is_constant()
  std::string str() const;              // the name, or a description of how it is computed

 private:
  std::shared_ptr<VariableNode> p_;
};

struct VarHash {
  size_t operator()(const Var& v) const { return std::hash<const void*>()(v.get()); }
};
struct VarEq {
  bool operator()(const Var& a, const Var& b) const { return a.get() == b.get(); }
};

enum class VarKind : uint8_t { Input, Constant, Shared, Output };

struct VariableNode {
  TensorType type;
  std::string name;
  VarKind kind = VarKind::Input;
  ApplyNode* owner = nullptr;  // set for outputs; the owner is kept alive by the handle
  int index = 0;
  uint64_t id = 0;             // creation order, for stable printing
  Array value;                 // constants only
  std::shared_ptr<SharedStorage> storage;  // shared variables only
  Var default_update;          // shared variables only: update applied when a function uses it
  // A default update held weakly: random streams use it because their update
  // graph refers back to the state variable, and a strong reference would make
  // a cycle that is never freed. It lives as long as the update's node does.
  std::weak_ptr<VariableNode> weak_default_update;
};

// An Op applied to inputs. Outputs live inside the node.
struct ApplyNode {
  std::shared_ptr<const Op> op;
  std::vector<Var> inputs;
  std::vector<VariableNode> outputs;  // sized once at creation; never resized
  // The i-th output as a handle sharing ownership of this node.
  Var output(int i) const;
  std::weak_ptr<ApplyNode> self;
  // The op's infer_shape on this node, computed once (expressions over the
  // inputs' shapes, never over this node's outputs, so no reference cycle).
  // Without it, shapes of deep graphs would be rebuilt exponentially often.
  mutable std::shared_ptr<const std::vector<std::vector<Var>>> shape_cache;
  mutable bool shape_uninferable = false;
};

// Output shapes as symbolic int64 scalars, one vector per output.
using ShapeExprs = std::vector<std::vector<Var>>;

// The gradient an Op gives for one of its inputs (see Op::L_op).
struct InputGrad {
  enum class Kind : uint8_t { Value, Disconnected, Undefined };
  Kind kind = Kind::Disconnected;
  Var value;           // Kind::Value: the gradient, with the input's rank
  std::string reason;  // Kind::Undefined: why the op has no gradient here
  static InputGrad of(Var v) { return {Kind::Value, std::move(v), {}}; }
  // The output does not depend on this input (integer indices, shapes, ...).
  static InputGrad disconnected() { return {Kind::Disconnected, Var(), {}}; }
  // The output depends on the input but no gradient exists (argmax, random draws, ...).
  static InputGrad undefined(std::string why) { return {Kind::Undefined, Var(), std::move(why)}; }
};

class Op {
 public:
  virtual ~Op() = default;
  // Display name: "Elemwise{add}", "Sum{axis=(0,)}".
  virtual std::string name() const = 0;
  // Canonical string of the op's properties. Ops of the same class with equal
  // props are equal (used for hashing and merging).
  virtual std::string props() const { return ""; }
  // Checks the inputs and returns the output types; throws std::invalid_argument
  // naming the op and what was wrong (e.g. "[dot] shapes (3, 4) and (5, 6) are not aligned").
  virtual std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const = 0;
  // Computes outputs from input values. `outputs` has one slot per output.
  virtual void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const = 0;
  // Symbolic output shapes from the input shapes, without computing anything;
  // nullopt when they depend on values (the default).
  virtual std::optional<ShapeExprs> infer_shape(const ApplyNode& node,
                                                const ShapeExprs& input_shapes) const;
  // Pairs (output, input) where the output may be a view of the input.
  virtual std::vector<std::pair<int, int>> view_map() const { return {}; }
  // Vector-Jacobian product (Theano's L_op / grad): one InputGrad per input,
  // given the gradient of each output (undefined Var: no gradient reaches that
  // output). Gradients are graphs themselves, so they can be differentiated
  // again. The default reports that the op has no gradient.
  virtual std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const;

  bool equals(const Op& o) const;
  size_t hash() const;
};

// The overrides most ops declare (type inference, evaluation, shape inference,
// gradient), so an op's class declaration shows only what is particular to it.
#define THEON_OP_OVERRIDES                                                                      \
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;           \
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;  \
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node, const ShapeExprs& in) const override; \
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;

// Applies `op` to `inputs`: type-checks and creates the Apply node.
std::vector<Var> apply(std::shared_ptr<const Op> op, std::vector<Var> inputs);
Var apply1(std::shared_ptr<const Op> op, std::vector<Var> inputs);
template <class O, class... Args>
Var make1(std::vector<Var> inputs, Args&&... args) {
  return apply1(std::make_shared<O>(std::forward<Args>(args)...), std::move(inputs));
}

// ---- leaf variables ----
// A symbolic input of the given type (Theano's T.matrix('x') & co.).
Var variable(const TensorType& type, std::string name = "");
Var tensor(DType dtype, std::vector<int64_t> shape, std::string name = "");
Var scalar(DType dtype, std::string name = "");
Var vector(DType dtype, std::string name = "");
Var matrix(DType dtype, std::string name = "");
// A constant holding `value`; its static shape is the value's shape.
Var constant(const Array& value, std::string name = "");
Var constant(double value, DType dtype);
// A Python-style scalar meeting `other` in an expression (NEP 50 weak typing).
Var weak_scalar(double value, ScalarKind kind, DType other);

// Nodes in topological order (inputs before users) reachable from outputs;
// iterative, so arbitrarily deep graphs are fine.
std::vector<ApplyNode*> toposort(const std::vector<Var>& outputs);
// Leaves (variables without an owner) reachable from outputs, in first-seen order.
std::vector<Var> graph_inputs(const std::vector<Var>& outputs);
// Rebuilds the graph of `outputs` with some variables replaced.
std::vector<Var> clone_replace(const std::vector<Var>& outputs,
                               const std::vector<std::pair<Var, Var>>& replace);

uint64_t next_variable_id();

}  // namespace theon
