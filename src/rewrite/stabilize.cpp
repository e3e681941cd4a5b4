// The stabilize phase: expressions rewritten into forms that stay finite and
// accurate where the expression as written overflows or cancels (log(1 + x)
// for tiny x, log(sigmoid(x)) for very negative x, log(sum(exp(x))) for large
// x). Every rewrite here computes in the dtype the original node computed in,
// so only the rounding errors the original made are removed.
// The softmax family lives in stabilize_softmax.cpp.
#include "stabilize_internal.h"
#include "theon/ops/reduce.h"
#include "theon/rewrite/pattern.h"

namespace theon {

namespace {

using namespace pat;

// True when v was computed in dtype `dt` (no promotion between the inner and outer op).
bool same_dtype(const Var& a, const Var& b) { return a.dtype() == b.dtype(); }

// The constant-free operand of sigmoid(x) within log(1 - sigmoid(x)) and its
// canonical variants 1 + (-sigmoid(x)) and log1p(-sigmoid(x)).
std::vector<Var> log1m_sigmoid(FunctionGraph&, ApplyNode& n) {
  static const P forms[] = {
      log(as("d", sub(cst(1), as("s", sigmoid(any_float("x")))))),
      log(as("d", add(cst(1), neg(as("s", sigmoid(any_float("x"))))))),
      op(ScalarOpId::log1p, {as("d", neg(as("s", sigmoid(any_float("x")))))}),
  };
  for (const P& p : forms) {
    auto m = match(p, n);
    if (!m || !same_dtype(m->at("d"), m->at("s"))) continue;
    return {neg(softplus(m->at("x")))};
  }
  return {};
}

// log(sum(exp(x), axes)) -> the max-shifted logsumexp. The shifted form itself
// reads log(sum(exp(x - m))) with m = switch(isinf(max), 0, max); it is left alone.
std::vector<Var> stable_logsumexp(FunctionGraph&, ApplyNode& n) {
  ApplyNode* s = n.inputs[0].owner();
  auto* red = s ? dynamic_cast<const Reduce*>(s->op.get()) : nullptr;
  if (!red || red->kind() != ReduceKind::Sum) return {};
  auto e = match(exp(any_float("x")), s->inputs[0]);
  if (!e) return {};
  const Var& x = e->at("x");
  if (!same_dtype(x, s->output(0)) || !same_dtype(x, n.output(0))) return {};
  if (auto id = elemwise_id(x); id && *id == ScalarOpId::sub) {
    ApplyNode* shift = x.owner()->inputs[1].owner();
    auto sid = elemwise_id(shift);
    if ((sid && *sid == ScalarOpId::switch_) || (shift && dynamic_cast<const Reduce*>(shift->op.get()))) return {};
  }
  std::vector<int> axes = red->axes();
  return {logsumexp(x, axes, red->keepdims())};
}

}  // namespace

void register_stabilize_rewrites(RewriteDB& db) {
  db.local("log1p_from_log", Phase::Stabilize, {key(ScalarOpId::log)}, {kFastRun},
           "log(1 + x) -> log1p(x) (exact near 0, where 1 + x rounds x away)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             auto m = match(log(as("a", add(cst(1), any_float("x")))), n);
             if (!m || !same_dtype(m->at("a"), m->at("x"))) return {};
             return {log1p(m->at("x"))};
           });
  db.local("expm1_from_exp", Phase::Stabilize, {key(ScalarOpId::sub), key(ScalarOpId::add)}, {kFastRun},
           "exp(x) - 1 -> expm1(x) (exact near 0, where exp(x) - 1 cancels)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             auto m = match(sub(as("e", exp(any_float("x"))), cst(1)), n);
             if (!m) m = match(add(as("e", exp(any_float("x"))), cst(-1)), n);
             if (!m || !same_dtype(m->at("e"), n.output(0))) return {};
             return {expm1(m->at("x"))};
           });
  db.local("softplus_from_log1p_exp", Phase::Stabilize, {key(ScalarOpId::log1p)}, {kFastRun},
           "log1p(exp(x)) -> softplus(x) (finite for large x, where exp overflows; log(1 + exp(x)) arrives here via log1p)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             auto m = match(op(ScalarOpId::log1p, {as("e", exp(any_float("x")))}), n);
             if (!m || !same_dtype(m->at("e"), m->at("x"))) return {};
             return {softplus(m->at("x"))};
           });
  db.local("log_sigmoid_to_softplus", Phase::Stabilize, {key(ScalarOpId::log)}, {kFastRun},
           "log(sigmoid(x)) -> -softplus(-x) (finite for very negative x, where sigmoid underflows to 0)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             auto m = match(log(sigmoid(any_float("x"))), n);
             if (!m) return {};
             return {neg(softplus(neg(m->at("x"))))};
           });
  db.local("log1m_sigmoid_to_softplus", Phase::Stabilize, {key(ScalarOpId::log), key(ScalarOpId::log1p)},
           {kFastRun},
           "log(1 - sigmoid(x)), log1p(-sigmoid(x)) -> -softplus(x) (finite for large x, where 1 - sigmoid is 0)",
           log1m_sigmoid);
  db.local("logsumexp_stable", Phase::Stabilize, {key(ScalarOpId::log)}, {kFastRun},
           "log(sum(exp(x), axes)) -> m + log(sum(exp(x - m), axes)), m = max(x, axes) (no overflow of exp)",
           stable_logsumexp);
  detail::register_stabilize_softmax(db);
}

}  // namespace theon
