// theon/ops/shape.h — shapes as values, and the ops that only move axes.
//
// shape_i(x, i) is the i-th dimension of x as a symbolic int64 scalar; when
// the size is known statically it is a constant, and when x's op can infer
// its output shape it is that expression — so x.shape[0] never evaluates x
// if it can be inferred. Reshape, DimShuffle and friends return views.
#pragma once
#include "theon/graph/node.h"

namespace theon {

// ---- shapes ----
Var shape_i(const Var& x, int i);
std::vector<Var> shape_of(const Var& x);  // one int64 scalar per dim
Var shape(const Var& x);                  // int64 vector of length ndim
// Vector of int64 scalars (Theano's MakeVector); constants fold into one constant.
Var make_vector(const std::vector<Var>& scalars, DType dtype = DType::Int64);
// If v is statically known (a constant, or shape expressions of static dims), its value.
std::optional<std::vector<int64_t>> static_int_vector(const Var& v);
std::optional<int64_t> static_int_scalar(const Var& v);

class ShapeOp : public Op {
 public:
  std::string name() const override { return "Shape"; }
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
};

class ShapeI : public Op {
 public:
  explicit ShapeI(int i) : i_(i) {}
  std::string name() const override { return "Shape_i{" + std::to_string(i_) + "}"; }
  std::string props() const override { return std::to_string(i_); }
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
  int i() const { return i_; }

 private:
  int i_;
};

class MakeVector : public Op {
 public:
  explicit MakeVector(DType dtype) : dtype_(dtype) {}
  std::string name() const override { return "MakeVector{dtype=" + std::string(dtype_name(dtype_)) + "}"; }
  std::string props() const override { return std::string(dtype_name(dtype_)); }
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node, const ShapeExprs& in) const override;

 private:
  DType dtype_;
};

// ---- axis movement (views) ----
// Theano's dimshuffle: a permutation of the input axes with 'x' (-1 here)
// inserting broadcastable axes; input axes of length 1 may be dropped.
class DimShuffle : public Op {
 public:
  DimShuffle(std::vector<bool> input_broadcastable, std::vector<int> new_order);
  std::string name() const override;
  std::string props() const override;
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node, const ShapeExprs& in) const override;
  std::vector<std::pair<int, int>> view_map() const override { return {{0, 0}}; }
  const std::vector<int>& new_order() const { return order_; }

 private:
  std::vector<bool> in_bc_;
  std::vector<int> order_;
};

// reshape(x, shape): shape is an int64 vector variable (one entry may be -1).
class Reshape : public Op {
 public:
  explicit Reshape(int ndim) : ndim_(ndim) {}
  std::string name() const override { return "Reshape{" + std::to_string(ndim_) + "}"; }
  std::string props() const override { return std::to_string(ndim_); }
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node, const ShapeExprs& in) const override;
  std::vector<std::pair<int, int>> view_map() const override { return {{0, 0}}; }

 private:
  int ndim_;
};

Var dimshuffle(const Var& x, const std::vector<int>& new_order);  // -1 means 'x'
Var transpose(const Var& x, std::vector<int> axes = {});          // empty: reverse
Var reshape(const Var& x, const Var& shape, int ndim);
Var reshape(const Var& x, const std::vector<int64_t>& shape);
Var reshape(const Var& x, const std::vector<Var>& shape);  // mix of symbolic dims
Var flatten(const Var& x, int ndim = 1);
Var expand_dims(const Var& x, int axis);
Var squeeze(const Var& x, std::vector<int> axes = {});  // empty: all static 1-dims

}  // namespace theon
