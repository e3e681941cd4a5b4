#include "theon/graph/node.h"

#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "theon/graph/shared.h"

namespace theon {

uint64_t next_variable_id() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

const TensorType& Var::type() const { return p_->type; }
const std::string& Var::name() const { return p_->name; }
Var& Var::set_name(std::string name) {
  p_->name = std::move(name);
  return *this;
}
ApplyNode* Var::owner() const { return p_->owner; }
int Var::index() const { return p_->index; }
bool Var::is_constant() const { return p_->kind == VarKind::Constant; }
bool Var::is_shared() const { return p_->kind == VarKind::Shared; }
const Array& Var::constant_value() const {
  if (!is_constant()) throw std::logic_error("variable '" + str() + "' is not a constant");
  return p_->value;
}

std::string Var::str() const {
  if (!p_) return "<undefined>";
  if (!p_->name.empty()) return p_->name;
  if (p_->kind == VarKind::Constant) {
    const Array& v = p_->value;
    if (v.ndim() == 0) {
      double d = v.item_double();
      std::string s = std::to_string(d);
      if (is_integer(v.dtype()) || v.dtype() == DType::Bool) s = std::to_string(v.item_int());
      else {
        s.erase(s.find_last_not_of('0') + 1);
        if (!s.empty() && s.back() == '.') s += "0";
      }
      return "TensorConstant{" + s + "}";
    }
    return "TensorConstant{" + type().str() + "}";
  }
  if (p_->owner) {
    std::string s = p_->owner->op->name() + "(";
    for (size_t i = 0; i < p_->owner->inputs.size(); ++i)
      s += (i ? ", " : "") + p_->owner->inputs[i].str();
    s += ")";
    if (p_->owner->outputs.size() > 1) s += "." + std::to_string(p_->index);
    return s;
  }
  return "<" + type().short_str() + ">";
}

Var ApplyNode::output(int i) const {
  auto s = self.lock();
  return Var(std::shared_ptr<VariableNode>(s, const_cast<VariableNode*>(&outputs[i])));
}

std::optional<ShapeExprs> Op::infer_shape(const ApplyNode&, const ShapeExprs&) const {
  return std::nullopt;
}

std::vector<InputGrad> Op::L_op(const ApplyNode& node, const std::vector<Var>&) const {
  return std::vector<InputGrad>(node.inputs.size(),
                                InputGrad::undefined("[" + name() + "] has no gradient implemented"));
}

bool Op::equals(const Op& o) const { return typeid(*this) == typeid(o) && props() == o.props(); }
size_t Op::hash() const { return std::hash<std::string>()(name() + "|" + props()); }

std::vector<Var> apply(std::shared_ptr<const Op> op, std::vector<Var> inputs) {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].defined())
      throw std::invalid_argument("[" + op->name() + "] input " + std::to_string(i) +
                                  " is undefined");
  std::vector<TensorType> types = op->infer_type(inputs);
  auto node = std::make_shared<ApplyNode>();
  node->self = node;
  node->op = std::move(op);
  node->inputs = std::move(inputs);
  node->outputs.resize(types.size());
  for (size_t i = 0; i < types.size(); ++i) {
    auto& o = node->outputs[i];
    o.type = std::move(types[i]);
    o.kind = VarKind::Output;
    o.owner = node.get();
    o.index = int(i);
    o.id = next_variable_id();
  }
  std::vector<Var> outs;
  for (size_t i = 0; i < node->outputs.size(); ++i) outs.push_back(node->output(int(i)));
  return outs;
}

Var apply1(std::shared_ptr<const Op> op, std::vector<Var> inputs) {
  auto outs = apply(std::move(op), std::move(inputs));
  return outs.at(0);
}

Var variable(const TensorType& type, std::string name) {
  auto n = std::make_shared<VariableNode>();
  n->type = type;
  n->name = std::move(name);
  n->id = next_variable_id();
  return Var(n);
}

Var tensor(DType dtype, std::vector<int64_t> shape, std::string name) {
  return variable(TensorType(dtype, std::move(shape)), std::move(name));
}
Var scalar(DType dtype, std::string name) { return tensor(dtype, {}, std::move(name)); }
Var vector(DType dtype, std::string name) { return tensor(dtype, {kUnknownDim}, std::move(name)); }
Var matrix(DType dtype, std::string name) {
  return tensor(dtype, {kUnknownDim, kUnknownDim}, std::move(name));
}

Var constant(const Array& value, std::string name) {
  auto n = std::make_shared<VariableNode>();
  n->type = TensorType(value.dtype(), value.shape());
  n->name = std::move(name);
  n->kind = VarKind::Constant;
  n->value = value;
  n->id = next_variable_id();
  return Var(n);
}

Var constant(double value, DType dtype) { return constant(Array::scalar(dtype, value)); }

Var weak_scalar(double value, ScalarKind kind, DType other) {
  DType d = weak_scalar_dtype(kind, other);
  if (kind == ScalarKind::Int && is_integer(d)) {
    // NumPy 2 refuses Python ints that do not fit the array's integer dtype.
    bool fits = visit_dtype(d, [&](auto t) {
      using T = decltype(t);
      if constexpr (std::is_integral_v<T>)
        return value >= double(std::numeric_limits<T>::min()) &&
               value <= double(std::numeric_limits<T>::max());
      return true;
    });
    if (!fits)
      throw std::overflow_error("Python integer " + std::to_string(int64_t(value)) +
                                " out of bounds for " + std::string(dtype_name(d)));
  }
  return constant(value, d);
}

std::vector<ApplyNode*> toposort(const std::vector<Var>& outputs) {
  std::vector<ApplyNode*> order;
  std::unordered_set<ApplyNode*> done, on_stack;
  std::vector<std::pair<ApplyNode*, size_t>> stack;
  for (const auto& out : outputs) {
    if (!out.owner() || done.count(out.owner())) continue;
    stack.push_back({out.owner(), 0});
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->inputs.size()) {
        ApplyNode* in = node->inputs[next++].owner();
        if (in && !done.count(in)) stack.push_back({in, 0});
      } else {
        if (!done.count(node)) {
          done.insert(node);
          order.push_back(node);
        }
        stack.pop_back();
      }
    }
  }
  return order;
}

std::vector<Var> graph_inputs(const std::vector<Var>& outputs) {
  std::vector<Var> leaves;
  std::unordered_set<VariableNode*> seen;
  auto visit = [&](const Var& v) {
    if (!v.owner() && seen.insert(v.get()).second) leaves.push_back(v);
  };
  for (const auto& o : outputs) visit(o);
  for (ApplyNode* n : toposort(outputs))
    for (const auto& in : n->inputs) visit(in);
  return leaves;
}

std::vector<Var> clone_replace(const std::vector<Var>& outputs,
                               const std::vector<std::pair<Var, Var>>& replace) {
  std::unordered_map<VariableNode*, Var> map;
  for (const auto& [from, to] : replace) {
    if (from.ndim() != to.ndim() || from.dtype() != to.dtype())
      throw std::invalid_argument("givens: cannot replace " + from.str() + " (" +
                                  from.type().str() + ") with " + to.str() + " (" +
                                  to.type().str() + ")");
    map[from.get()] = to;
  }
  auto get = [&](const Var& v) {
    auto it = map.find(v.get());
    return it == map.end() ? v : it->second;
  };
  for (ApplyNode* n : toposort(outputs)) {
    bool changed = false;
    std::vector<Var> ins;
    for (const auto& in : n->inputs) {
      ins.push_back(get(in));
      changed |= !ins.back().is(in);
    }
    if (!changed) continue;
    auto outs = apply(n->op, ins);
    for (size_t i = 0; i < outs.size(); ++i) {
      outs[i].set_name(n->outputs[i].name);
      map[const_cast<VariableNode*>(&n->outputs[i])] = outs[i];
    }
  }
  std::vector<Var> res;
  for (const auto& o : outputs) res.push_back(get(o));
  return res;
}

}  // namespace theon
