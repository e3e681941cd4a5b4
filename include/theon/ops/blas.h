// theon/ops/blas.h — products of tensors: dot, matmul, tensordot, outer and
// Theano's batched_dot, computed with BLAS where the dtype allows.
//
// Semantics are NumPy's: dot contracts the last axis of `a` with the
// second-to-last of `b` (the only one when `b` is a vector; a 0-d operand
// multiplies elementwise), matmul broadcasts batch axes and promotes vectors,
// tensordot contracts lists of axes. The result dtype is the promoted input
// dtype. float32/float64 products call sgemm/dgemm/gemv (transposed operands
// are passed as flags when their strides allow, otherwise copied); float16 and
// bfloat16 compute in float32; integers and bool use an exact loop that wraps
// on overflow like NumPy.
#pragma once
#include "theon/graph/node.h"

namespace theon {

// NumPy dot for operands of any rank.
class Dot : public Op {
 public:
  std::string name() const override { return "dot"; }
  THEON_OP_OVERRIDES
};

// NumPy matmul: batch axes broadcast, 1-d operands promoted then squeezed.
class MatMul : public Op {
 public:
  std::string name() const override { return "matmul"; }
  THEON_OP_OVERRIDES
};

// Contraction of axes_a of `a` with axes_b of `b` (normalised, same length);
// the result has a's free axes then b's free axes.
class TensorDot : public Op {
 public:
  TensorDot(std::vector<int> axes_a, std::vector<int> axes_b)
      : axes_a_(std::move(axes_a)), axes_b_(std::move(axes_b)) {}
  std::string name() const override { return "tensordot{" + props() + "}"; }
  std::string props() const override;
  THEON_OP_OVERRIDES
  const std::vector<int>& axes_a() const { return axes_a_; }
  const std::vector<int>& axes_b() const { return axes_b_; }

 private:
  std::vector<int> axes_a_, axes_b_;
};

// Theano's BatchedDot for operands of rank >= 2: out[i] = dot(a[i], b[i]).
class BatchedDot : public Op {
 public:
  std::string name() const override { return "batched_dot"; }
  THEON_OP_OVERRIDES
};

// numpy.dot(a, b).
Var dot(const Var& a, const Var& b);
// numpy.matmul(a, b) (the @ operator).
Var matmul(const Var& a, const Var& b);
// numpy.tensordot(a, b, axes=n): the last n axes of a with the first n of b.
Var tensordot(const Var& a, const Var& b, int axes = 2);
// numpy.tensordot(a, b, axes=(axes_a, axes_b)); axes may be negative.
Var tensordot(const Var& a, const Var& b, const std::vector<int>& axes_a, const std::vector<int>& axes_b);
// numpy.outer(a, b): both operands are flattened.
Var outer(const Var& a, const Var& b);
// Theano's batched_dot: the dot product of a[i] and b[i] for every i of the
// first (batch) axis; a 1-d operand scales the other one per batch entry.
Var batched_dot(const Var& a, const Var& b);

// C = A @ B for 2-d arrays of any dtypes and strides; C is C-contiguous of
// shape (A.rows, B.cols) and its dtype is the compute dtype (used by other ops).
void matmul_2d(const Array& a, const Array& b, const Array& c);
// Array-level numpy.tensordot with normalised axes (used by other ops).
Array tensordot_arrays(const Array& a, const Array& b, const std::vector<int>& axes_a,
                       const std::vector<int>& axes_b, DType out_dtype);

}  // namespace theon
