// theon/ops/gemm.h — BLAS-shaped nodes the specialize rewrites make of a
// product added to a tensor: one BLAS call computes both.
//
//   Gemm(z, alpha, x, y, beta) = beta * z + alpha * dot(x, y)   x, y, z matrices
//   Gemv(z, alpha, a, x, beta) = beta * z + alpha * dot(a, x)   a matrix, x, z vectors
//   Ger(z, alpha, x, y)        = z + alpha * outer(x, y)        x, y vectors, z matrix
//
// All tensor inputs share one dtype, float32 or float64; alpha and beta are
// 0-d of that dtype. Transposed operands are passed to BLAS as flags when
// their strides allow (a transposed view is not copied). z broadcasts against
// the product as in the elementwise expression these nodes replace, so the
// values and the shape are those of the expression in every case; BLAS runs
// when z already has the product's shape, an exact loop otherwise. The result
// is a new array (z is not overwritten).
#pragma once
#include "theon/graph/node.h"

namespace theon {

class Gemm : public Op {
 public:
  std::string name() const override { return "Gemm"; }
  THEON_OP_OVERRIDES
};

class Gemv : public Op {
 public:
  std::string name() const override { return "Gemv"; }
  THEON_OP_OVERRIDES
};

class Ger : public Op {
 public:
  std::string name() const override { return "Ger"; }
  THEON_OP_OVERRIDES
};

Var gemm(const Var& z, const Var& alpha, const Var& x, const Var& y, const Var& beta);
Var gemv(const Var& z, const Var& alpha, const Var& a, const Var& x, const Var& beta);
Var ger(const Var& z, const Var& alpha, const Var& x, const Var& y);

}  // namespace theon
