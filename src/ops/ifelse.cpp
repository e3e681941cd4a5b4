// IfElse: the op, its shapes and its gradient. Lazy evaluation itself lives
// in the function's executor (src/compile/function.cpp), which asks an IfElse
// node for its condition first and then computes only the branch taken.
#include "theon/ops/ifelse.h"

#include <stdexcept>

#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"

namespace theon {

std::vector<TensorType> IfElse::infer_type(const std::vector<Var>& in) const {
  if (n_ < 1 || in.size() != size_t(1 + 2 * n_))
    throw std::invalid_argument("[ifelse] expected a condition and two branches of " + std::to_string(n_) +
                                " variables, got " + std::to_string(in.size()) + " inputs");
  if (in[0].ndim() != 0)
    throw std::invalid_argument("[ifelse] the condition must be a scalar, got " + in[0].type().str());
  std::vector<TensorType> out;
  for (int i = 0; i < n_; ++i) {
    const TensorType& a = in[1 + i].type();
    const TensorType& b = in[1 + n_ + i].type();
    if (a.dtype != b.dtype || a.ndim() != b.ndim())
      throw std::invalid_argument("[ifelse] branch " + std::to_string(i) + ": then is " + a.str() + " but else is " +
                                  b.str() + " (both branches must have the same dtype and rank)");
    std::vector<int64_t> shape(size_t(a.ndim()));
    for (int d = 0; d < a.ndim(); ++d) shape[d] = a.shape[d] == b.shape[d] ? a.shape[d] : kUnknownDim;
    out.emplace_back(a.dtype, shape);
  }
  return out;
}

void IfElse::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  // Used when a node runs eagerly (both branches already computed).
  bool take_then = in[0].item_double() != 0.0;
  for (int i = 0; i < n_; ++i) out[i] = in[take_then ? 1 + i : 1 + n_ + i];
}

std::vector<std::pair<int, int>> IfElse::view_map() const {
  std::vector<std::pair<int, int>> v;
  for (int i = 0; i < n_; ++i) {
    v.push_back({i, 1 + i});
    v.push_back({i, 1 + n_ + i});
  }
  return v;
}

std::optional<ShapeExprs> IfElse::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  Var c = neq(node.inputs[0], constant(0.0, node.inputs[0].dtype()));
  ShapeExprs out;
  for (int i = 0; i < n_; ++i) {
    std::vector<Var> dims;
    for (size_t d = 0; d < in[1 + i].size(); ++d) {
      const Var& a = in[1 + i][d];
      const Var& b = in[1 + n_ + i][d];
      dims.push_back(a.is(b) ? a : switch_(c, a, b));
    }
    out.push_back(dims);
  }
  return out;
}

std::vector<InputGrad> IfElse::L_op(const ApplyNode& node, const std::vector<Var>& gz) const {
  std::vector<InputGrad> g(node.inputs.size());
  g[0] = InputGrad::disconnected();
  const Var& cond = node.inputs[0];
  for (int i = 0; i < n_; ++i) {
    const Var& t = node.inputs[1 + i];
    const Var& e = node.inputs[1 + n_ + i];
    if (!gz[i].defined() || !is_float(t.dtype())) {
      g[1 + i] = InputGrad::disconnected();
      g[1 + n_ + i] = InputGrad::disconnected();
      continue;
    }
    // The gradient of the branch not taken is zero; it is itself lazy.
    Var gt = ifelse(cond, cast(gz[i], t.dtype()), zeros_like(t));
    Var ge = ifelse(cond, zeros_like(e), cast(gz[i], e.dtype()));
    g[1 + i] = InputGrad::of(gt);
    g[1 + n_ + i] = InputGrad::of(ge);
  }
  return g;
}

std::vector<Var> ifelse(const Var& cond, const std::vector<Var>& then_branch, const std::vector<Var>& else_branch) {
  if (then_branch.size() != else_branch.size())
    throw std::invalid_argument("[ifelse] then has " + std::to_string(then_branch.size()) + " variables but else has " +
                                std::to_string(else_branch.size()));
  if (then_branch.empty()) throw std::invalid_argument("[ifelse] the branches are empty");
  std::vector<Var> ins{cond};
  ins.insert(ins.end(), then_branch.begin(), then_branch.end());
  ins.insert(ins.end(), else_branch.begin(), else_branch.end());
  return theon::apply(std::make_shared<IfElse>(int(then_branch.size())), ins);
}

Var ifelse(const Var& cond, const Var& then_branch, const Var& else_branch) {
  std::vector<Var> t(1, then_branch), e(1, else_branch);
  return ifelse(cond, t, e)[0];
}

}  // namespace theon
