// Gradients of sorting and scans along an axis: sort, argsort, cumsum,
// cumprod, diff.
#include "grad_util.h"
#include "theon/autodiff/grad.h"
#include "theon/ops/creation.h"
#include "theon/ops/join.h"
#include "theon/ops/shape_extra.h"
#include "theon/ops/sort.h"
#include "theon/ops/subtensor.h"

namespace theon {

using namespace grad_detail;

std::vector<InputGrad> Sort::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  // argsort's output is integer: it carries no gradient.
  if (arg_ || !og[0].defined() || !is_float(x.dtype())) return {InputGrad::disconnected()};
  // sorted[..., j, ...] = x[..., p[j], ...] for p = argsort(x): scatter gz back
  // through p. The other axes are indexed by aranges broadcast along their own
  // axis, so the index arrays broadcast to x's shape and select every element once.
  const Var p = make1<Sort>({x}, axis_, true);
  Index idx;
  for (int i = 0; i < x.ndim(); ++i) {
    if (i == axis_) {
      idx.push_back(IndexItem::array(p));
      continue;
    }
    std::vector<int> order(size_t(x.ndim()), -1);
    order[size_t(i)] = 0;
    idx.push_back(IndexItem::array(dimshuffle(arange(shape_i(x, i)), order)));
  }
  return {grad_of(inc_subtensor(zeros_like(x), idx, og[0]), x)};
}

std::vector<InputGrad> CumOp::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  if (!og[0].defined() || !is_float(x.dtype())) return {InputGrad::disconnected()};
  const Var& g = og[0];
  const std::vector<int> ax{axis_};
  auto scan_sum = [&](const Var& v) { return make1<CumOp>({v}, CumKind::Sum, axis_); };
  // sum_{i >= k} v_i: the output gradient flows back to every earlier position.
  auto rev_cumsum = [&](const Var& v) { return flip(scan_sum(flip(v, ax)), ax); };
  if (kind_ == CumKind::Sum) return {grad_of(rev_cumsum(g), x)};
  // d y_i / d x_k = prod_{j <= i, j != k} x_j for i >= k. Before the first zero
  // of a lane that is y_i / x_k (Theano's formula); at the first zero it is the
  // running product with that zero replaced by one; after it, every such
  // product contains the first zero, so the gradient is 0.
  const Var y = node.output(0);
  const Var is0 = eq(x, constant(0.0, x.dtype()));
  const Var zeros_seen = scan_sum(cast(is0, DType::Int64));
  const Var before = eq(zeros_seen, constant(0.0, DType::Int64));
  const Var first = logical_and(is0, eq(zeros_seen, constant(1.0, DType::Int64)));
  const Var one = ones_like(x);
  const Var before_grad = true_div(rev_cumsum(mul(g, y)), switch_(before, x, one));
  const Var y_first_as_one = make1<CumOp>({switch_(first, one, x)}, CumKind::Prod, axis_);
  const Var first_grad = rev_cumsum(mul(g, y_first_as_one));
  return {grad_of(switch_(before, before_grad, switch_(first, first_grad, zeros_like(before_grad))), x)};
}

std::vector<InputGrad> Diff::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  if (!og[0].defined() || !is_float(x.dtype())) return {InputGrad::disconnected()};
  const int64_t len = x.type().shape[size_t(axis_)];
  if (len >= 0 && len <= n_) return {InputGrad::of(zeros_like(x))};  // the output is empty
  // One difference y_i = x_{i+1} - x_i sends g_{j-1} - g_j to x_j: g padded
  // with a zero in front minus g padded with a zero behind; n times.
  Var g = og[0];
  for (int t = 0; t < n_; ++t) {
    std::vector<Var> zshape = shape_of(g);
    zshape[size_t(axis_)] = constant(1.0, DType::Int64);
    const Var z = zeros(zshape, g.dtype());
    g = sub(concatenate({z, g}, axis_), concatenate({g, z}, axis_));
  }
  if (len < 0) {
    // With n >= len at run time g is all zeros and too long: cut it to x's length.
    Index idx(size_t(x.ndim()), IndexItem::slice());
    idx[size_t(axis_)] = IndexItem::slice(Var(), shape_i(x, axis_));
    g = subtensor(g, idx);
  }
  return {grad_of(g, x)};
}

}  // namespace theon
