// theon/rewrite/pattern.h — a small pattern language for local rewrites.
//
//   using namespace theon::pat;
//   // log(1 + x) -> log1p(x)
//   db.local("log1p_from_log", Phase::Stabilize, {key(ScalarOpId::log)}, {...}, "log(1+x) -> log1p(x)",
//            [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
//              auto m = match(log(add(cst(1), any_float("x"))), n);
//              if (!m) return {};
//              return {log1p(m->at("x"))};
//            });
//
// Patterns match a variable by how it is computed. `any` captures a variable
// (the same name twice must be the same variable); `cst` matches a constant of
// size 1 whose value is the given number (so dropping it never changes a
// shape); `op` matches an Elemwise, trying both operand orders of commutative
// scalar ops.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "theon/ops/elemwise.h"
#include "theon/rewrite/fgraph.h"

namespace theon {

// The value of a constant whose elements are all equal (also through
// DimShuffle and Cast of such a constant); nullopt otherwise. With
// `size_one` only constants of one element are accepted.
std::optional<double> scalar_constant_value(const Var& v, bool size_one = true);
bool is_scalar_constant(const Var& v, double value, bool size_one = true);
// The scalar op of an Elemwise node's op, or nullopt for any other op.
std::optional<ScalarOpId> elemwise_id(const ApplyNode* node);
inline std::optional<ScalarOpId> elemwise_id(const Var& v) { return elemwise_id(v.owner()); }
bool is_commutative(ScalarOpId id);

namespace pat {

struct Pattern;
using P = std::shared_ptr<const Pattern>;

struct Match {
  std::map<std::string, Var> vars;
  const Var& at(const std::string& name) const;
  const Var& operator[](const std::string& name) const { return at(name); }
};

struct Pattern {
  enum class Kind { Any, Const, Elemwise, Node } kind;
  std::string capture;                          // Any: the name; others: optional capture of the matched var
  std::function<bool(const Var&)> guard;        // Any/Node: extra condition on the variable
  double value = 0;                             // Const
  ScalarOpId id{};                              // Elemwise
  std::vector<P> args;                          // Elemwise / Node inputs (Node: may be fewer than inputs)
};

P any(std::string name);
P any_if(std::string name, std::function<bool(const Var&)> guard);
P any_float(std::string name);  // float dtype only
P cst(double value);
P op(ScalarOpId id, std::vector<P> args);
// Any node whose output satisfies `guard`, with its first inputs matching `args`.
P node(std::function<bool(const Var&)> guard, std::vector<P> args = {});
// Captures what `inner` matched under `name`.
P as(std::string name, P inner);

// Matches `p` against `v` (or the first output of `node`).
std::optional<Match> match(const P& p, const Var& v);
std::optional<Match> match(const P& p, const ApplyNode& node);

// Shorthands for the scalar ops rewrites mention most.
inline P add(P a, P b) { return op(ScalarOpId::add, {std::move(a), std::move(b)}); }
inline P sub(P a, P b) { return op(ScalarOpId::sub, {std::move(a), std::move(b)}); }
inline P mul(P a, P b) { return op(ScalarOpId::mul, {std::move(a), std::move(b)}); }
inline P div(P a, P b) { return op(ScalarOpId::true_div, {std::move(a), std::move(b)}); }
inline P pow(P a, P b) { return op(ScalarOpId::pow, {std::move(a), std::move(b)}); }
inline P neg(P a) { return op(ScalarOpId::neg, {std::move(a)}); }
inline P exp(P a) { return op(ScalarOpId::exp, {std::move(a)}); }
inline P log(P a) { return op(ScalarOpId::log, {std::move(a)}); }
inline P sigmoid(P a) { return op(ScalarOpId::sigmoid, {std::move(a)}); }

}  // namespace pat
}  // namespace theon
