// Gradients of the decompositions: eigh, QR and SVD, for stacks of matrices.
// Outputs without a gradient contribute nothing (as if their gradient were
// zero). The formulas hold for distinct eigenvalues / singular values and for
// full-rank QR inputs, where the decompositions are differentiable.
#include <algorithm>

#include "grad_util.h"
#include "theon/autodiff/grad.h"
#include "theon/ops/blas.h"
#include "theon/ops/creation.h"
#include "theon/ops/join.h"
#include "theon/ops/linalg.h"
#include "theon/ops/subtensor.h"

namespace theon {

using namespace grad_detail;

namespace {


// F[..., i, j] = 1 / (d_j - d_i) off the diagonal and 0 on it, for a batch of vectors d.
Var inverse_gaps(const Var& d) {
  const Var id = eye_of(as_row(d));
  return true_div(sub(constant(1.0, d.dtype()), id), add(sub(as_row(d), as_col(d)), id));
}

Var add_defined(const Var& a, const Var& b) { return a.defined() ? add(a, b) : b; }

}  // namespace

std::vector<InputGrad> Eigh::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& a = node.inputs[0];
  if ((!og[0].defined() && !og[1].defined()) || !is_float(a.dtype())) return {InputGrad::disconnected()};
  // For A = V diag(w) V^T: dw_i = v_i^T dA v_i and dv_i = sum_{j != i} v_j v_j^T dA v_i / (w_i - w_j),
  // so the gradient of the symmetric matrix is G = V (diag(gw) + F o (V^T gV)) V^T, F_ij = 1 / (w_j - w_i).
  const Var w = node.output(0), v = node.output(1);
  Var inner;
  if (og[0].defined()) inner = mul(as_row(og[0]), eye_of(v));
  if (og[1].defined()) inner = add_defined(inner, mul(inverse_gaps(w), matmul(mT(v), og[1])));
  const Var g = matmul(matmul(v, inner), mT(v));
  // Only the `uplo_` triangle is read; each entry of it stands for itself and its mirror.
  const Var ga = uplo_ == 'L' ? add(tril(g), mT(triu(g, 1))) : add(triu(g), mT(tril(g, -1)));
  return {grad_of(ga, a)};
}

std::vector<InputGrad> QR::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& a = node.inputs[0];
  if (!is_float(a.dtype())) return {InputGrad::disconnected()};
  const int nd = a.ndim();
  const int64_t ms = a.type().shape[size_t(nd - 2)], ns = a.type().shape[size_t(nd - 1)];
  if (mode_ == "complete" && !(ms >= 0 && ns >= 0 && ms <= ns))
    return {InputGrad::undefined("[qr] the gradient of mode='complete' is defined only for inputs known to have "
                                 "no more rows than columns (Q's extra columns are not unique)")};
  // Liao, Liu, Wang & Xiang (2019), as PyTensor's QR gradient, written for
  // A = [X | Y] with X its first min(m, n) columns: R = [U | V], X = Q U.
  // Mode "r" needs Q as well, so it factors A again.
  Var q, r, dq, dr;
  if (mode_ == "r") {
    auto qr_ = qr(a, "reduced");
    q = qr_[0];
    r = qr_[1];
    dr = og[0];
  } else {
    q = node.output(0);
    r = node.output(1);
    dq = og[0];
    dr = og[1];
  }
  if (!dq.defined() && !dr.defined()) return {InputGrad::disconnected()};
  if (!dq.defined()) dq = zeros_like(q);
  if (!dr.defined()) dr = zeros_like(r);
  const Var m = shape_i(a, nd - 2);
  auto cols = [&](const Var& x, const Var& start, const Var& stop) {
    return subtensor(x, {IndexItem::ellipsis(), IndexItem::slice(), IndexItem::slice(start, stop)});
  };
  const Var af = cast(a, q.dtype());
  const Var y = cols(af, m, Var()), u = cols(r, Var(), m);
  const Var du = cols(dr, Var(), m), dv = cols(dr, m, Var());
  const Var dq2 = add(dq, matmul(y, mT(dv)));
  const Var mm = sub(matmul(u, mT(du)), matmul(mT(dq2), q));
  // copyltu(M): the lower triangle mirrored into the upper one.
  const Var copyltu = add(tril(mm), mT(tril(mm, -1)));
  const Var xbar = mT(solve_triangular(u, mT(add(dq2, matmul(q, copyltu))), 0, false));
  const Var ybar = matmul(q, dv);
  return {grad_of(concatenate({xbar, ybar}, nd - 1), a)};
}

std::vector<InputGrad> SVD::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& a = node.inputs[0];
  if (!is_float(a.dtype())) return {InputGrad::disconnected()};
  const Var gs = uv_ ? og[1] : og[0];
  const Var gu = uv_ ? og[0] : Var(), gvh = uv_ ? og[2] : Var();
  if (!gs.defined() && !gu.defined() && !gvh.defined()) return {InputGrad::disconnected()};
  if (!gu.defined() && !gvh.defined()) {
    // ds_i = u_i^T dA v_i: gA = U diag(gs) V^T with the reduced factors.
    auto usv = svd(a, false, true);
    return {grad_of(matmul(mul(usv[0], as_row(gs)), usv[2]), a)};
  }
  const int nd = a.ndim();
  const int64_t ms = a.type().shape[size_t(nd - 2)], ns = a.type().shape[size_t(nd - 1)];
  if (full_ && !(ms >= 0 && ms == ns))
    return {InputGrad::undefined("[svd] the gradient through U and Vh with full_matrices=True is defined only for "
                                 "inputs known to be square (the extra singular vectors are not unique); use "
                                 "full_matrices=False")};
  // Townsend (2016), "Differentiating the singular value decomposition", for
  // A = U S V^T with k = min(m, n) and F_ij = 1 / (s_j^2 - s_i^2):
  // gA = U (J S + diag(gs) + S K) V^T + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T),
  // J = F o (U^T gU - gU^T U), K = F o (V^T gV - gV^T V).
  const Var u = node.output(0), s = node.output(1), vh = node.output(2);
  const Var f = inverse_gaps(mul(s, s));
  const Var inv_s = true_div(constant(1.0, s.dtype()), s);
  Var inner, extra;
  if (gs.defined()) inner = mul(as_row(gs), eye_of(as_row(s)));
  if (gu.defined()) {
    const Var utgu = matmul(mT(u), gu);
    inner = add_defined(inner, mul(mul(f, sub(utgu, mT(utgu))), as_row(s)));
    extra = matmul(mul(sub(gu, matmul(u, utgu)), as_row(inv_s)), vh);
  }
  if (gvh.defined()) {
    // With V = Vh^T and gV = gVh^T: V^T gV = Vh gVh^T, and gV^T (I - V V^T) = gVh - (gVh Vh^T) Vh.
    const Var vtgv = matmul(vh, mT(gvh));
    inner = add_defined(inner, mul(as_col(s), mul(f, sub(vtgv, mT(vtgv)))));
    extra = add_defined(extra, matmul(u, mul(as_col(inv_s), sub(gvh, matmul(matmul(gvh, mT(vh)), vh)))));
  }
  Var ga = matmul(matmul(u, inner), vh);
  if (extra.defined()) ga = add(ga, extra);
  return {grad_of(ga, a)};
}

}  // namespace theon
