// Gradients of inverse, determinant, Cholesky, the solves, the pseudo-inverse
// and the diagonal ops. All work on stacks of matrices (the last two axes).
//
// LAPACK reads one triangle of a symmetric input (cholesky, solve with
// assume_a sym/pos): the other triangle does not change the result, so its
// gradient is zero, and an entry of the read triangle stands for both mirrored
// entries of the symmetric matrix, so it receives both of their gradients.
#include <algorithm>

#include "grad_util.h"
#include "theon/autodiff/grad.h"
#include "theon/ops/blas.h"
#include "theon/ops/creation.h"
#include "theon/ops/linalg.h"

namespace theon {

using namespace grad_detail;

namespace {


// The gradient with respect to a matrix of which only one triangle is read as
// a symmetric matrix, from the gradient g of that symmetric matrix.
Var fold_to_triangle(const Var& g, bool lower) {
  Var both = add(g, mT(g));
  return sub(lower ? tril(both) : triu(both), mul(g, eye_of(g)));
}

std::vector<InputGrad> none_for(size_t n) { return std::vector<InputGrad>(n, InputGrad::disconnected()); }

}  // namespace

std::vector<InputGrad> MatrixInverse::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& a = node.inputs[0];
  if (!og[0].defined() || !is_float(a.dtype())) return none_for(1);
  // d(A^-1) = -A^-1 dA A^-1, so the gradient is -A^-T gz A^-T.
  const Var xt = mT(node.output(0));
  return {grad_of(neg(matmul(matmul(xt, og[0]), xt)), a)};
}

std::vector<InputGrad> Det::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& a = node.inputs[0];
  if (!og[0].defined() || !is_float(a.dtype())) return none_for(1);
  // Jacobi's formula: d det(A) = det(A) tr(A^-1 dA).
  const Var scale = as_col(as_col(mul(og[0], node.output(0))));
  return {grad_of(mul(scale, mT(matrix_inverse(a))), a)};
}

std::vector<InputGrad> Cholesky::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& a = node.inputs[0];
  if (!og[0].defined() || !is_float(a.dtype())) return none_for(1);
  // Murray (2016), as PyTensor's CholeskyGrad; the upper factor is the
  // transpose of the lower one.
  Var l = node.output(0), dl = og[0];
  if (!lower_) {
    l = mT(l);
    dl = mT(dl);
  }
  const Var id = eye_of(l);
  auto tril_half_diag = [&](const Var& m) { return sub(tril(m), m * id * 0.5); };
  const Var p = tril_half_diag(matmul(mT(l), dl));
  // s = L^-T P L^-1, with two solves against the upper factor L^T.
  const Var lt = mT(l);
  const Var inner = solve_triangular(lt, mT(p), 0, false);
  const Var s = solve_triangular(lt, mT(inner), 0, false);
  return {grad_of(fold_to_triangle(s, lower_), a)};
}

std::vector<InputGrad> Solve::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var &a = node.inputs[0], &b = node.inputs[1];
  if (!og[0].defined()) return none_for(2);
  // Work with b as a stack of matrices (a vector b is one column).
  const bool vec = b.ndim() == 1;
  const Var gz = vec ? as_col(og[0]) : og[0];
  const Var x = vec ? as_col(node.output(0)) : node.output(0);
  const bool symmetric = assume_a_ == "sym" || assume_a_ == "her" || assume_a_ == "pos";
  // x = M^-1 b with M = a (trans 0) or a^T (trans 1): gb = M^-T gz, gM = -gb x^T.
  // A symmetric M is its own transpose; for the others, flip trans.
  const int gtrans = symmetric ? trans_ : 1 - trans_;
  const Var gb = make1<Solve>({a, gz}, assume_a_, lower_, unit_diagonal_, gtrans);
  std::vector<InputGrad> r = none_for(2);
  if (is_float(b.dtype())) {
    Var g = vec ? squeeze(gb, {gb.ndim() - 1}) : gb;
    r[1] = grad_of(sum_to_like(g, b), b);
  }
  if (is_float(a.dtype())) {
    Var gm = neg(matmul(gb, mT(x)));
    Var ga = trans_ ? mT(gm) : gm;
    if (symmetric) {
      ga = fold_to_triangle(ga, lower_);
    } else if (assume_a_ != "gen") {
      // Only the triangle (without a unit diagonal) is read.
      const int64_t k = unit_diagonal_ ? 1 : 0;
      ga = assume_a_ == "lower_triangular" ? tril(ga, -k) : triu(ga, k);
    }
    r[0] = grad_of(sum_to_like(ga, a), a);
  }
  return r;
}

std::vector<InputGrad> Pinv::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& a = node.inputs[0];
  if (!og[0].defined() || !is_float(a.dtype())) return none_for(1);
  // Golub & Pereyra (1973), for inputs of locally constant rank:
  // dX = -X dA X + X X^T dA^T (I - A X) + (I - X A) dA^T X^T X, which gives
  // gA = -X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A).
  const Var x = node.output(0), xt = mT(x), gt = mT(og[0]);
  const Var af = cast(a, x.dtype());
  const Var t1 = neg(matmul(matmul(xt, og[0]), xt));
  const Var t2 = matmul(sub(gt, matmul(af, matmul(x, gt))), matmul(x, xt));
  const Var t3 = matmul(matmul(xt, x), sub(gt, matmul(matmul(gt, x), af)));
  return {grad_of(add(add(t1, t2), t3), a)};
}

std::vector<InputGrad> ExtractDiag::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  if (!og[0].defined() || !is_float(x.dtype())) return none_for(1);
  // Element l of diagonal `offset` sits at (l - min(offset, 0), l + max(offset, 0)):
  // G = (E1 * gz[..., None, :]) @ E2 with E1 = eye(d1, L, min(offset, 0)) and
  // E2 = eye(L, d2, max(offset, 0)) puts it there, on the axes (..., axis1, axis2).
  const Var gz = og[0];
  const Var len = shape_i(gz, gz.ndim() - 1), d1 = shape_i(x, axis1_), d2 = shape_i(x, axis2_);
  auto k = [](int v) { return constant(double(v), DType::Int64); };
  const Var e1 = eye(d1, len, k(std::min(offset_, 0)), gz.dtype());
  const Var e2 = eye(len, d2, k(std::max(offset_, 0)), gz.dtype());
  const Var g = matmul(mul(e1, as_row(gz)), e2);
  std::vector<int> perm(size_t(x.ndim()));
  int other = 0;
  for (int i = 0; i < x.ndim(); ++i)
    perm[size_t(i)] = i == axis1_ ? x.ndim() - 2 : i == axis2_ ? x.ndim() - 1 : other++;
  return {grad_of(permute(g, perm), x)};
}

std::vector<InputGrad> AllocDiag::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& v = node.inputs[0];
  if (!og[0].defined() || !is_float(v.dtype())) return none_for(1);
  return {grad_of(extract_diag(og[0], offset_, 0, 1), v)};
}

}  // namespace theon
