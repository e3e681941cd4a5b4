// OpFromGraph: validation, evaluation through a compiled inner function,
// shapes and gradients through the inner graph.
#include "theon/ops/op_from_graph.h"

#include <stdexcept>
#include <unordered_set>

#include "theon/autodiff/grad.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"

namespace theon {

OpFromGraph::OpFromGraph(std::vector<Var> inputs, std::vector<Var> outputs, std::string name)
    : inputs_(std::move(inputs)), outputs_(std::move(outputs)), name_(std::move(name)), id_(next_variable_id()) {
  std::unordered_set<const VariableNode*> ins;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const Var& v = inputs_[i];
    if (!v.defined() || v.owner() || v.is_constant() || v.is_shared())
      throw std::invalid_argument("[OpFromGraph] input " + std::to_string(i) +
                                  " must be a symbolic variable (not computed, constant or shared)");
    if (!ins.insert(v.get()).second)
      throw std::invalid_argument("[OpFromGraph] input " + std::to_string(i) + " is given twice");
  }
  if (outputs_.empty()) throw std::invalid_argument("[OpFromGraph] needs at least one output");
  for (const Var& leaf : graph_inputs(outputs_))
    if (!leaf.is_constant() && !leaf.is_shared() && !ins.count(leaf.get()))
      throw std::invalid_argument("[OpFromGraph] the outputs depend on '" + leaf.str() +
                                  "', which is not one of the inputs");
}

std::vector<TensorType> OpFromGraph::infer_type(const std::vector<Var>& in) const {
  if (in.size() != inputs_.size())
    throw std::invalid_argument("[" + name() + "] expected " + std::to_string(inputs_.size()) + " inputs, got " +
                                std::to_string(in.size()));
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i].dtype() != inputs_[i].dtype() || in[i].ndim() != inputs_[i].ndim())
      throw std::invalid_argument("[" + name() + "] input " + std::to_string(i) + ": expected " +
                                  inputs_[i].type().str() + ", got " + in[i].type().str());
  // The inner graph built on the actual inputs knows the most precise static shapes.
  std::vector<TensorType> out;
  for (const Var& o : expand(in)) out.push_back(o.type());
  return out;
}

std::vector<Var> OpFromGraph::expand(const std::vector<Var>& actual) const {
  std::vector<std::pair<Var, Var>> rep;
  for (size_t i = 0; i < inputs_.size(); ++i) rep.push_back({inputs_[i], actual[i]});
  return clone_replace(outputs_, rep);
}

void OpFromGraph::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  std::shared_ptr<Function> fn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fn_) {
      std::vector<In> fin(inputs_.begin(), inputs_.end());
      FunctionOptions opt;
      opt.on_unused_input = "ignore";
      opt.no_default_updates = true;
      opt.device = "cpu";  // the inner graph runs inside this op's CPU perform, whatever config.device says
      fn_ = function(fin, outputs_, opt);
    }
    fn = fn_;
  }
  std::vector<Array> r = (*fn)(in);
  for (size_t i = 0; i < r.size(); ++i) out[i] = r[i];
}

std::optional<ShapeExprs> OpFromGraph::infer_shape(const ApplyNode& node, const ShapeExprs&) const {
  ShapeExprs out;
  for (const Var& o : expand(node.inputs)) out.push_back(shape_of(o));
  return out;
}

// Gradients are taken on the inner graph, with respect to the inner inputs
// (so an outer variable passed twice gets both contributions once each), then
// rebuilt on the node's actual inputs.
std::vector<InputGrad> OpFromGraph::L_op(const ApplyNode& node, const std::vector<Var>& gz) const {
  std::vector<InputGrad> g(node.inputs.size(), InputGrad::disconnected());
  Var cost;
  for (size_t k = 0; k < outputs_.size(); ++k) {
    if (!gz[k].defined() || !is_float(outputs_[k].dtype())) continue;
    Var term = sum(outputs_[k] * cast(gz[k], outputs_[k].dtype()));
    cost = cost.defined() ? cost + term : term;
  }
  if (!cost.defined()) return g;
  std::vector<Var> wrt;
  std::vector<size_t> idx;
  for (size_t i = 0; i < inputs_.size(); ++i)
    if (is_float(inputs_[i].dtype())) {
      wrt.push_back(inputs_[i]);
      idx.push_back(i);
    }
  if (wrt.empty()) return g;
  GradOptions opt;
  opt.disconnected_inputs = DisconnectedInputs::Ignore;
  opt.return_disconnected = ReturnDisconnected::None;
  std::vector<Var> inner = grad(cost, wrt, opt), keep;
  std::vector<size_t> where;
  for (size_t k = 0; k < inner.size(); ++k)
    if (inner[k].defined()) {
      keep.push_back(inner[k]);
      where.push_back(idx[k]);
    }
  std::vector<std::pair<Var, Var>> rep;
  for (size_t i = 0; i < inputs_.size(); ++i) rep.push_back({inputs_[i], node.inputs[i]});
  std::vector<Var> outer = clone_replace(keep, rep);
  for (size_t k = 0; k < outer.size(); ++k) g[where[k]] = InputGrad::of(outer[k]);
  return g;
}

std::vector<Var> OpFromGraph::operator()(const std::vector<Var>& actual) const {
  return theon::apply(std::const_pointer_cast<OpFromGraph>(shared_from_this()), actual);
}

std::shared_ptr<OpFromGraph> op_from_graph(std::vector<Var> inputs, std::vector<Var> outputs, std::string name) {
  return std::make_shared<OpFromGraph>(std::move(inputs), std::move(outputs), std::move(name));
}

}  // namespace theon
