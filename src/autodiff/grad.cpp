// Reverse accumulation over the graph, and the derived operators.
#include "theon/autodiff/grad.h"

#include <iostream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "theon/config.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/join.h"
#include "theon/ops/map.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"
#include "theon/ops/subtensor.h"

namespace theon {

namespace {

bool is_half(DType d) { return d == DType::Float16 || d == DType::BFloat16; }

// Gradients of float16/bfloat16 values flow in float32.
Var upcast_half(const Var& g) { return is_half(g.dtype()) ? cast(g, DType::Float32) : g; }

DType grad_dtype(const Var& v) { return is_float(v.dtype()) ? v.dtype() : config().floatX; }

Var zeros_for(const Var& wrt) { return zeros_like(wrt, grad_dtype(wrt)); }

// Variables that depend on any of `wrt` (not through consider_constant ones).
std::unordered_set<const VariableNode*> depends_on(const std::vector<ApplyNode*>& order,
                                                   const std::vector<Var>& wrt,
                                                   const std::unordered_set<const VariableNode*>& blocked) {
  std::unordered_set<const VariableNode*> dep;
  for (const auto& w : wrt)
    if (!blocked.count(w.get())) dep.insert(w.get());
  for (ApplyNode* n : order) {
    bool any = false;
    for (const auto& in : n->inputs) any |= dep.count(in.get()) > 0;
    if (!any) continue;
    for (const auto& out : n->outputs)
      if (!blocked.count(&out)) dep.insert(&out);
  }
  return dep;
}

}  // namespace

std::vector<Var> grad(const Var& cost, const std::vector<Var>& wrt, const GradOptions& opt) {
  if (cost.defined() && cost.ndim() != 0)
    throw std::invalid_argument("[grad] cost must be a scalar, got " + cost.type().str() +
                                " (sum it, or use Lop / jacobian for non-scalar expressions)");
  if (!cost.defined() && opt.known_grads.empty())
    throw std::invalid_argument("[grad] cost is undefined and no known_grads were given");
  for (size_t i = 0; i < wrt.size(); ++i)
    if (!wrt[i].defined()) throw std::invalid_argument("[grad] wrt[" + std::to_string(i) + "] is undefined");

  std::unordered_set<const VariableNode*> blocked;
  for (const auto& c : opt.consider_constant) blocked.insert(c.get());
  std::unordered_map<const VariableNode*, Var> grads;
  std::unordered_map<const VariableNode*, std::string> undefined;
  auto accumulate = [&](const Var& v, Var g) {
    g = upcast_half(g);
    auto it = grads.find(v.get());
    if (it == grads.end()) grads.emplace(v.get(), g);
    else it->second = add(it->second, g);
  };

  std::vector<Var> roots;
  if (cost.defined()) {
    roots.push_back(cost);
    accumulate(cost, constant(1.0, is_float(cost.dtype()) ? cost.dtype() : config().floatX));
  }
  for (const auto& [v, g] : opt.known_grads) {
    if (!v.defined() || !g.defined()) throw std::invalid_argument("[grad] known_grads holds an undefined variable");
    if (g.ndim() != v.ndim())
      throw std::invalid_argument("[grad] known gradient of '" + v.str() + "' has rank " + std::to_string(g.ndim()) +
                                  ", expected " + std::to_string(v.ndim()));
    roots.push_back(v);
    accumulate(v, g);
  }

  std::vector<ApplyNode*> order = toposort(roots);
  auto dep = depends_on(order, wrt, blocked);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    ApplyNode* node = *it;
    std::vector<Var> out_grads;
    bool any = false;
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      auto g = grads.find(&node->outputs[i]);
      out_grads.push_back(g == grads.end() ? Var() : g->second);
      any |= g != grads.end();
    }
    bool needed = false;
    for (const auto& in : node->inputs) needed |= dep.count(in.get()) > 0;
    // An undefined gradient downstream of a variable makes its gradient undefined too.
    for (const auto& out : node->outputs)
      if (auto u = undefined.find(&out); u != undefined.end())
        for (const auto& in : node->inputs)
          if (dep.count(in.get()) && is_float(in.dtype())) undefined.emplace(in.get(), u->second);
    if (!any || !needed) continue;
    std::vector<InputGrad> in_grads = node->op->L_op(*node, out_grads);
    if (in_grads.size() != node->inputs.size())
      throw std::logic_error("[" + node->op->name() + "] L_op returned " + std::to_string(in_grads.size()) +
                             " gradients for " + std::to_string(node->inputs.size()) + " inputs");
    for (size_t i = 0; i < node->inputs.size(); ++i) {
      const Var& in = node->inputs[i];
      if (!dep.count(in.get())) continue;
      const InputGrad& ig = in_grads[i];
      if (ig.kind == InputGrad::Kind::Value) {
        if (ig.value.ndim() != in.ndim())
          throw std::logic_error("[" + node->op->name() + "] gradient of input " + std::to_string(i) + " has rank " +
                                 std::to_string(ig.value.ndim()) + ", expected " + std::to_string(in.ndim()));
        if (is_float(in.dtype())) accumulate(in, ig.value);
      } else if (ig.kind == InputGrad::Kind::Undefined) {
        undefined.emplace(in.get(), ig.reason);
      }
    }
  }

  std::vector<Var> result;
  for (const auto& w : wrt) {
    auto g = grads.find(w.get());
    auto u = undefined.find(w.get());
    if (u != undefined.end() && opt.null_gradients_raise)
      throw NullTypeGradError("[grad] the gradient with respect to '" + w.str() + "' is undefined: " + u->second);
    if (u != undefined.end()) {
      result.push_back(Var());
      continue;
    }
    if (g != grads.end() && !blocked.count(w.get())) {
      Var r = g->second;
      r = is_float(w.dtype()) ? cast(r, w.dtype()) : zeros_for(w);
      result.push_back(r);
      continue;
    }
    if (!is_float(w.dtype()) && dep.count(w.get()) && roots.size()) {
      result.push_back(zeros_for(w));  // integer inputs: zero gradient, as in Theano
      continue;
    }
    std::string msg = "[grad] was asked to compute the gradient with respect to '" + w.str() +
                      "', which is not part of the computational graph of the cost, or is used only by a "
                      "non-differentiable operator";
    if (opt.disconnected_inputs == DisconnectedInputs::Raise) throw DisconnectedInputError(msg);
    if (opt.disconnected_inputs == DisconnectedInputs::Warn) {
      if (opt.warn) opt.warn(msg);
      else std::cerr << "UserWarning: " << msg << "\n";
    }
    result.push_back(opt.return_disconnected == ReturnDisconnected::Zero ? zeros_for(w) : Var());
  }
  return result;
}

Var grad(const Var& cost, const Var& wrt, const GradOptions& options) { return grad(cost, std::vector<Var>{wrt}, options)[0]; }

std::vector<Var> Lop(const std::vector<Var>& f, const std::vector<Var>& wrt, const std::vector<Var>& eval_points) {
  if (f.size() != eval_points.size())
    throw std::invalid_argument("[Lop] got " + std::to_string(f.size()) + " expressions but " +
                                std::to_string(eval_points.size()) + " eval_points");
  GradOptions opt;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i].ndim() != eval_points[i].ndim())
      throw std::invalid_argument("[Lop] eval_points[" + std::to_string(i) + "] has rank " +
                                  std::to_string(eval_points[i].ndim()) + ", expected " + std::to_string(f[i].ndim()));
    opt.known_grads.push_back({f[i], eval_points[i]});
  }
  opt.disconnected_inputs = DisconnectedInputs::Ignore;
  return grad(Var(), wrt, opt);
}

std::vector<Var> Rop(const std::vector<Var>& f, const std::vector<Var>& wrt, const std::vector<Var>& eval_points) {
  if (wrt.size() != eval_points.size())
    throw std::invalid_argument("[Rop] got " + std::to_string(wrt.size()) + " wrt but " +
                                std::to_string(eval_points.size()) + " eval_points");
  for (size_t i = 0; i < wrt.size(); ++i)
    if (wrt[i].ndim() != eval_points[i].ndim())
      throw std::invalid_argument("[Rop] eval_points[" + std::to_string(i) + "] has rank " +
                                  std::to_string(eval_points[i].ndim()) + ", expected " + std::to_string(wrt[i].ndim()));
  // Double L-op: L(u) = u^T J is linear in u, so d(L(u) . v)/du = J v.
  std::vector<Var> u;
  for (const auto& fi : f) u.push_back(variable(TensorType(grad_dtype(fi), fi.type().shape), "rop_u"));
  std::vector<Var> l = Lop(f, wrt, u);
  GradOptions opt;
  opt.disconnected_inputs = DisconnectedInputs::Ignore;
  for (size_t i = 0; i < l.size(); ++i)
    if (l[i].defined()) opt.known_grads.push_back({l[i], cast(eval_points[i], l[i].dtype())});
  std::vector<Var> r = opt.known_grads.empty() ? std::vector<Var>() : grad(Var(), u, opt);
  if (r.empty())
    for (const auto& fi : f) r.push_back(zeros_like(fi, grad_dtype(fi)));
  // The result does not depend on u's value; replace any remaining reference by zeros.
  std::vector<std::pair<Var, Var>> rep;
  for (size_t i = 0; i < u.size(); ++i) rep.push_back({u[i], zeros_like(f[i], u[i].dtype())});
  return clone_replace(r, rep);
}

Var jacobian(const Var& expression, const Var& wrt, const GradOptions& options) {
  if (expression.ndim() == 0) return grad(expression, wrt, options);
  if (expression.ndim() != 1)
    throw std::invalid_argument("[jacobian] expression must be a scalar or a vector, got " + expression.type().str());
  // Row i is the gradient of expression[i]; a Map op evaluates the rows one by one.
  return map_range(shape_i(expression, 0), [&](const Var& i) {
    return grad(subtensor(expression, {IndexItem::integer(i)}), wrt, options);
  });
}

Var jacobian(const Var& expression, const Var& wrt) {
  GradOptions opt;
  opt.disconnected_inputs = DisconnectedInputs::Ignore;
  return jacobian(expression, wrt, opt);
}

Var hessian(const Var& cost, const Var& wrt, const GradOptions& options) {
  if (cost.ndim() != 0) throw std::invalid_argument("[hessian] cost must be a scalar, got " + cost.type().str());
  if (wrt.ndim() > 1) throw std::invalid_argument("[hessian] wrt must be a scalar or a vector, got " + wrt.type().str());
  GradOptions second = options;
  second.disconnected_inputs = DisconnectedInputs::Ignore;  // the gradient of a linear cost is constant
  return jacobian(grad(cost, wrt, options), wrt, second);
}

Var hessian(const Var& cost, const Var& wrt) {
  GradOptions opt;
  opt.disconnected_inputs = DisconnectedInputs::Ignore;
  return hessian(cost, wrt, opt);
}

}  // namespace theon
