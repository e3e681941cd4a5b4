// Gradients of the products: dot, tensordot, matmul, batched_dot (outer is
// built from dot and differentiates through it). Each is a product again, so
// the gradients can be differentiated once more.
#include <algorithm>

#include "grad_util.h"
#include "theon/autodiff/grad.h"
#include "theon/ops/blas.h"
#include "theon/ops/reduce.h"

namespace theon {

using namespace grad_detail;

namespace {

std::vector<int> free_axes(int ndim, const std::vector<int>& contracted) {
  std::vector<int> r;
  for (int i = 0; i < ndim; ++i)
    if (std::find(contracted.begin(), contracted.end(), i) == contracted.end()) r.push_back(i);
  return r;
}

// Position of x among the sorted values of v (tensordot keeps uncontracted axes in increasing order).
int rank_in(int x, const std::vector<int>& v) {
  int r = 0;
  for (int y : v) r += y < x;
  return r;
}

// Gradients of out = tensordot(a, b, axes_a, axes_b), whose axes are a's free
// axes then b's free axes. Contracting gz with the other operand over the
// other operand's free axes leaves the operand's own axes, in a different order.
std::vector<InputGrad> tensordot_grads(const Var& a, const Var& b, const Var& gz, const std::vector<int>& axes_a,
                                       const std::vector<int>& axes_b) {
  std::vector<InputGrad> r(2, InputGrad::disconnected());
  if (!gz.defined()) return r;
  const auto fa = free_axes(a.ndim(), axes_a), fb = free_axes(b.ndim(), axes_b);
  const int nfa = int(fa.size()), nc = int(axes_a.size());
  if (is_float(a.dtype())) {
    std::vector<int> gax;
    for (int i = 0; i < int(fb.size()); ++i) gax.push_back(nfa + i);
    // axes: a's free axes, then b's contracted axes in increasing order of b's axis
    Var t = tensordot(gz, b, gax, fb);
    std::vector<int> perm(size_t(a.ndim()));
    for (int i = 0; i < nfa; ++i) perm[size_t(fa[i])] = i;
    for (int j = 0; j < nc; ++j) perm[size_t(axes_a[j])] = nfa + rank_in(axes_b[j], axes_b);
    r[0] = grad_of(permute(t, perm), a);
  }
  if (is_float(b.dtype())) {
    std::vector<int> gax;
    for (int i = 0; i < nfa; ++i) gax.push_back(i);
    // axes: a's contracted axes in increasing order of a's axis, then b's free axes
    Var t = tensordot(a, gz, fa, gax);
    std::vector<int> perm(size_t(b.ndim()));
    for (int j = 0; j < nc; ++j) perm[size_t(axes_b[j])] = rank_in(axes_a[j], axes_a);
    for (int i = 0; i < int(fb.size()); ++i) perm[size_t(fb[i])] = nc + i;
    r[1] = grad_of(permute(t, perm), b);
  }
  return r;
}

// The product of dims [from, to) of x, as an int64 scalar (1 when empty).
Var dims_product(const Var& x, int from, int to) {
  Var p = constant(1.0, DType::Int64);
  for (int i = from; i < to; ++i) p = mul(p, shape_i(x, i));
  return p;
}

}  // namespace

std::vector<InputGrad> Dot::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var &a = node.inputs[0], &b = node.inputs[1];
  const Var& gz = og[0];
  if (!gz.defined()) return {InputGrad::disconnected(), InputGrad::disconnected()};
  if (a.ndim() == 0 || b.ndim() == 0) {
    // a 0-d operand scales the other one elementwise
    std::vector<InputGrad> r(2, InputGrad::disconnected());
    if (is_float(a.dtype())) r[0] = grad_of(sum_to_like(mul(gz, b), a), a);
    if (is_float(b.dtype())) r[1] = grad_of(sum_to_like(mul(gz, a), b), b);
    return r;
  }
  return tensordot_grads(a, b, gz, {a.ndim() - 1}, {b.ndim() == 1 ? 0 : b.ndim() - 2});
}

std::vector<InputGrad> TensorDot::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  return tensordot_grads(node.inputs[0], node.inputs[1], og[0], axes_a_, axes_b_);
}

std::vector<InputGrad> MatMul::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var &a = node.inputs[0], &b = node.inputs[1];
  std::vector<InputGrad> r(2, InputGrad::disconnected());
  if (!og[0].defined()) return r;
  // Work on the promoted operands (vectors as 1 x k and k x 1), so gz gets its m and n axes back.
  const Var A = a.ndim() == 1 ? expand_dims(a, 0) : a;
  const Var B = b.ndim() == 1 ? expand_dims(b, 1) : b;
  Var G = og[0];
  if (a.ndim() == 1) G = expand_dims(G, G.ndim() - (b.ndim() == 1 ? 0 : 1));
  if (b.ndim() == 1) G = expand_dims(G, G.ndim());
  // Batch axes a or b were broadcast along are summed away by sum_to_like.
  if (is_float(a.dtype())) {
    Var ga = sum_to_like(matmul(G, mT(B)), A);
    if (a.ndim() == 1) ga = reshape(ga, shape_of(a));
    r[0] = grad_of(ga, a);
  }
  if (is_float(b.dtype())) {
    Var gb = sum_to_like(matmul(mT(A), G), B);
    if (b.ndim() == 1) gb = reshape(gb, shape_of(b));
    r[1] = grad_of(gb, b);
  }
  return r;
}

std::vector<InputGrad> BatchedDot::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var &a = node.inputs[0], &b = node.inputs[1];
  std::vector<InputGrad> r(2, InputGrad::disconnected());
  if (!og[0].defined()) return r;
  // Per batch entry this is NumPy's dot: a's last axis with b's second-to-last
  // (its only one after the batch axis when b is 2-d). Moving that axis of b
  // to position 1 makes both stacks of matrices: a (N, P, K), b (N, K, Q) and
  // gz (N, P, Q), where P and Q are the products of the free axes.
  const int na = a.ndim(), nb = b.ndim(), kb = nb == 2 ? 1 : nb - 2;
  std::vector<int> to_front{0, kb}, back(static_cast<size_t>(nb));
  for (int i = 1; i < nb; ++i)
    if (i != kb) to_front.push_back(i);
  for (int i = 0; i < nb; ++i) back[size_t(to_front[size_t(i)])] = i;
  const Var bf = permute(b, to_front);
  const Var n = shape_i(a, 0), k = shape_i(a, na - 1);
  const Var p = dims_product(a, 1, na - 1), q = dims_product(bf, 2, nb);
  const Var a3 = reshape(a, std::vector<Var>{n, p, k}), b3 = reshape(bf, std::vector<Var>{n, k, q});
  const Var g3 = reshape(og[0], std::vector<Var>{n, p, q});
  if (is_float(a.dtype())) r[0] = grad_of(reshape(batched_dot(g3, mT(b3)), shape_of(a)), a);
  if (is_float(b.dtype()))
    r[1] = grad_of(permute(reshape(batched_dot(mT(a3), g3), shape_of(bf)), back), b);
  return r;
}

}  // namespace theon
