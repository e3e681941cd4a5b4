// Small graph-building helpers shared by the gradients of the product,
// linear-algebra and scan ops (internal to src/autodiff).
#pragma once
#include <vector>

#include "theon/graph/node.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"

namespace theon::grad_detail {

// Swaps the last two axes (the matrix transpose of a stack of matrices).
inline Var mT(const Var& x) {
  std::vector<int> p;
  for (int i = 0; i < x.ndim(); ++i) p.push_back(i);
  std::swap(p[x.ndim() - 1], p[x.ndim() - 2]);
  return transpose(x, p);
}

// x[..., None, :] and x[..., :, None]: a batch of vectors as rows / columns.
// The identity matching the last axis of a (stack of) square matrices.
inline Var eye_of(const Var& x) {
  Var n = shape_i(x, x.ndim() - 1);
  return eye(n, n, constant(0.0, DType::Int64), x.dtype());
}
inline Var as_row(const Var& x) { return expand_dims(x, x.ndim() - 1); }
inline Var as_col(const Var& x) { return expand_dims(x, x.ndim()); }

// x transposed by `perm` unless perm is the identity (keeps simple graphs simple).
inline Var permute(const Var& x, const std::vector<int>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != int(i)) return transpose(x, perm);
  return x;
}

// The gradient cast back to the dtype of the input it belongs to.
inline InputGrad grad_of(const Var& g, const Var& input) { return InputGrad::of(cast(g, input.dtype())); }

}  // namespace theon::grad_detail
