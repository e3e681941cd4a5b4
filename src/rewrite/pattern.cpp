// The pattern language of local rewrites (see theon/rewrite/pattern.h).
#include "theon/rewrite/pattern.h"

#include <cmath>
#include <stdexcept>

#include "theon/ops/shape.h"

namespace theon {

std::optional<double> scalar_constant_value(const Var& v, bool size_one) {
  if (!v.defined()) return std::nullopt;
  if (v.is_constant()) {
    const Array& a = v.constant_value();
    if (a.size() == 0 || (size_one && a.size() != 1)) return std::nullopt;
    Array d = a.astype(DType::Float64);
    const double* p = static_cast<const double*>(d.data());
    for (int64_t i = 1; i < d.size(); ++i)
      if (!(p[i] == p[0]) && !(std::isnan(p[i]) && std::isnan(p[0]))) return std::nullopt;
    return p[0];
  }
  ApplyNode* o = v.owner();
  if (!o) return std::nullopt;
  if (dynamic_cast<const DimShuffle*>(o->op.get())) return scalar_constant_value(o->inputs[0], size_one);
  if (auto* c = dynamic_cast<const Cast*>(o->op.get())) {
    auto inner = scalar_constant_value(o->inputs[0], size_one);
    if (!inner) return std::nullopt;
    return Array::scalar(o->inputs[0].dtype(), *inner).astype(c->to()).item_double();
  }
  return std::nullopt;
}

bool is_scalar_constant(const Var& v, double value, bool size_one) {
  auto c = scalar_constant_value(v, size_one);
  return c && *c == value;
}

std::optional<ScalarOpId> elemwise_id(const ApplyNode* node) {
  if (!node) return std::nullopt;
  if (auto* e = dynamic_cast<const Elemwise*>(node->op.get())) return e->scalar_op();
  return std::nullopt;
}

bool is_commutative(ScalarOpId id) {
  switch (id) {
    case ScalarOpId::add:
    case ScalarOpId::mul:
    case ScalarOpId::maximum:
    case ScalarOpId::minimum:
    case ScalarOpId::eq:
    case ScalarOpId::neq:
    case ScalarOpId::and_:
    case ScalarOpId::or_:
    case ScalarOpId::xor_:
    case ScalarOpId::logical_and:
    case ScalarOpId::logical_or:
    case ScalarOpId::logical_xor:
      return true;
    default:
      return false;
  }
}

namespace pat {

const Var& Match::at(const std::string& name) const {
  auto it = vars.find(name);
  if (it == vars.end()) throw std::logic_error("pattern: nothing captured as '" + name + "'");
  return it->second;
}

P any(std::string name) { return any_if(std::move(name), nullptr); }

P any_if(std::string name, std::function<bool(const Var&)> guard) {
  auto p = std::make_shared<Pattern>();
  p->kind = Pattern::Kind::Any;
  p->capture = std::move(name);
  p->guard = std::move(guard);
  return p;
}

P any_float(std::string name) {
  return any_if(std::move(name), [](const Var& v) { return is_float(v.dtype()); });
}

P cst(double value) {
  auto p = std::make_shared<Pattern>();
  p->kind = Pattern::Kind::Const;
  p->value = value;
  return p;
}

P op(ScalarOpId id, std::vector<P> args) {
  auto p = std::make_shared<Pattern>();
  p->kind = Pattern::Kind::Elemwise;
  p->id = id;
  p->args = std::move(args);
  return p;
}

P node(std::function<bool(const Var&)> guard, std::vector<P> args) {
  auto p = std::make_shared<Pattern>();
  p->kind = Pattern::Kind::Node;
  p->guard = std::move(guard);
  p->args = std::move(args);
  return p;
}

P as(std::string name, P inner) {
  auto p = std::make_shared<Pattern>(*inner);
  p->capture = std::move(name);
  return p;
}

namespace {

bool bind(Match& m, const std::string& name, const Var& v) {
  if (name.empty()) return true;
  auto [it, fresh] = m.vars.try_emplace(name, v);
  return fresh || it->second.is(v);
}

bool match_into(const P& p, const Var& v, Match& m);

bool match_args(const std::vector<P>& args, const std::vector<Var>& inputs, Match& m) {
  for (size_t i = 0; i < args.size(); ++i)
    if (!match_into(args[i], inputs[i], m)) return false;
  return true;
}

bool match_into(const P& p, const Var& v, Match& m) {
  switch (p->kind) {
    case Pattern::Kind::Any:
      if (p->guard && !p->guard(v)) return false;
      return bind(m, p->capture, v);
    case Pattern::Kind::Const:
      return is_scalar_constant(v, p->value) && bind(m, p->capture, v);
    case Pattern::Kind::Elemwise: {
      auto id = elemwise_id(v);
      if (!id || *id != p->id || v.owner()->inputs.size() != p->args.size()) return false;
      const auto& ins = v.owner()->inputs;
      Match saved = m;
      if (match_args(p->args, ins, m) && bind(m, p->capture, v)) return true;
      m = saved;
      if (ins.size() == 2 && is_commutative(p->id)) {
        std::vector<Var> swapped{ins[1], ins[0]};
        if (match_args(p->args, swapped, m) && bind(m, p->capture, v)) return true;
        m = saved;
      }
      return false;
    }
    case Pattern::Kind::Node: {
      if (!v.owner() || (p->guard && !p->guard(v)) || v.owner()->inputs.size() < p->args.size()) return false;
      Match saved = m;
      if (match_args(p->args, v.owner()->inputs, m) && bind(m, p->capture, v)) return true;
      m = saved;
      return false;
    }
  }
  return false;
}

}  // namespace

std::optional<Match> match(const P& p, const Var& v) {
  Match m;
  if (match_into(p, v, m)) return m;
  return std::nullopt;
}

std::optional<Match> match(const P& p, const ApplyNode& node) { return match(p, node.output(0)); }

}  // namespace pat
}  // namespace theon
