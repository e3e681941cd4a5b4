// Canonical arithmetic: neutral elements dropped, the constants of add and
// mul chains collected into one, division by a power of two turned into the
// (bit-identical) multiplication by its reciprocal.
//
// A constant operand is dropped only when it cannot change the result's
// shape: it has one element, or its static shape fits in the other operand's
// (pat::cst's rule, extended to constants folded from zeros((3, 4)) & co.).
#include <cmath>

#include "canonicalize_internal.h"
#include "theon/ops/creation.h"
#include "theon/ops/shape.h"
#include "theon/rewrite/pattern.h"

namespace theon::detail {

namespace {

// True when broadcasting a value of type `c` against one of type `x` gives x's shape
// (up to leading axes of length 1).
bool does_not_broadcast(const TensorType& c, const TensorType& x) {
  const int lead = c.ndim() - x.ndim();
  for (int d = 0; d < c.ndim(); ++d) {
    int64_t cd = c.shape[d];
    if (cd == 1) continue;
    if (d < lead || cd == kUnknownDim || x.shape[d - lead] != cd) return false;
  }
  return true;
}

// `c` is a constant whose elements all equal `value` and that leaves x's shape alone.
bool neutral(const Var& c, double value, const Var& x) {
  auto v = scalar_constant_value(c, /*size_one=*/false);
  return v && *v == value && does_not_broadcast(c.type(), x.type());
}

// For a binary node: the operand that is not a neutral `value` (the other one
// being neutral); with `commutes` the neutral one may be on either side,
// otherwise only on the right.
Var other_than_neutral(const ApplyNode& n, double value, bool commutes) {
  // All-constant nodes are constant folding's.
  if (n.inputs.size() != 2 || (n.inputs[0].is_constant() && n.inputs[1].is_constant())) return {};
  if (neutral(n.inputs[1], value, n.inputs[0])) return n.inputs[0];
  if (commutes && neutral(n.inputs[0], value, n.inputs[1])) return n.inputs[1];
  return {};
}

// zeros with x's shape and the given dtype, read from x's shape without computing x.
Var zeros_shaped_like(const FunctionGraph& fg, const Var& x, DType dtype) {
  std::vector<Var> dims;
  for (int d = 0; d < x.ndim(); ++d) dims.push_back(dim_of(fg, x, d));
  return zeros(dims, dtype);
}

bool integral(DType d) { return d == DType::Bool || is_integer(d); }

void register_neutral(RewriteDB& db) {
  db.local("mul_by_one", Phase::Canonicalize, {key(ScalarOpId::mul)}, {kFastRun},
           "x * 1 -> x, 1 * x -> x (exact; the 1 must not broadcast x)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             Var x = other_than_neutral(n, 1, true);
             if (!x.defined()) return {};
             return {x};
           });
  db.local("add_zero", Phase::Canonicalize, {key(ScalarOpId::add)}, {kFastRun},
           "x + 0 -> x, 0 + x -> x (exact up to the sign of a zero result, as in Theano; the 0 must not broadcast x)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             Var x = other_than_neutral(n, 0, true);
             if (!x.defined()) return {};
             return {x};
           });
  db.local("sub_zero", Phase::Canonicalize, {key(ScalarOpId::sub)}, {kFastRun},
           "x - 0 -> x (exact; the 0 must not broadcast x)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             Var x = other_than_neutral(n, 0, false);
             if (!x.defined()) return {};
             return {x};
           });
  db.local("div_by_one", Phase::Canonicalize, {key(ScalarOpId::true_div)}, {kFastRun},
           "x / 1 -> x (exact; integers become the float the division gives)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             Var x = other_than_neutral(n, 1, false);
             if (!x.defined()) return {};
             return {x};
           });
  db.local("pow_one", Phase::Canonicalize, {key(ScalarOpId::pow)}, {kFastRun},
           "x ** 1 -> x (exact)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             Var x = other_than_neutral(n, 1, false);
             if (!x.defined()) return {};
             return {x};
           });
  db.local("mul_by_minus_one", Phase::Canonicalize, {key(ScalarOpId::mul)}, {kFastRun},
           "x * -1 -> -x (exact, integers wrap alike)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             Var x = other_than_neutral(n, -1, true);
             if (!x.defined()) return {};
             DType out = n.outputs[0].type.dtype;
             if (out == DType::Bool) return {};
             return {neg(cast(x, out))};
           });
  db.local("neg_neg", Phase::Canonicalize, {key(ScalarOpId::neg)}, {kFastRun},
           "-(-x) -> x (exact, integers wrap alike)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             auto m = pat::match(pat::neg(pat::neg(pat::any("x"))), n);
             if (!m) return {};
             return {m->at("x")};
           });
  db.local("identity_removal", Phase::Canonicalize, {key(ScalarOpId::identity)}, {kFastRun},
           "identity(x) -> x",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> { return {n.inputs[0]}; });
  db.local("sub_self_int", Phase::Canonicalize, {key(ScalarOpId::sub)}, {kFastRun},
           "x - x -> zeros(x.shape) for integer dtypes (floats keep it: inf - inf is nan)",
           [](FunctionGraph& fg, ApplyNode& n) -> std::vector<Var> {
             DType out = n.outputs[0].type.dtype;
             if (!integral(out) || !n.inputs[0].is(n.inputs[1])) return {};
             return {zeros_shaped_like(fg, n.inputs[0], out)};
           });
  db.local("mul_by_zero_int", Phase::Canonicalize, {key(ScalarOpId::mul)}, {kFastRun},
           "x * 0 -> zeros(x.shape) for integer and bool dtypes (floats keep it: inf * 0 is nan)",
           [](FunctionGraph& fg, ApplyNode& n) -> std::vector<Var> {
             DType out = n.outputs[0].type.dtype;
             if (!integral(out)) return {};
             Var x = other_than_neutral(n, 0, true);
             if (!x.defined()) return {};
             return {zeros_shaped_like(fg, x, out)};
           });
}

// ---- constants of add / mul chains ----

struct Term {
  Var v;
  bool negate = false;  // subtracted (add chains only)
  std::optional<Array> value;  // set for constants of one element
};

// The operands of the chain of `id` nodes computing `root`: interior nodes have
// the root's dtype and no reader besides the chain. In add chains, x - c with
// a constant c of one element is part of the chain (as x + (-c)).
std::vector<Term> flatten_chain(const FunctionGraph& fg, const Var& root, ScalarOpId id) {
  const DType dt = root.dtype();
  std::vector<Term> terms;
  // Explicit stack, so long chains do not recurse; right operands pushed first.
  std::vector<Term> stack{{root, false, std::nullopt}};
  while (!stack.empty()) {
    Term t = stack.back();
    stack.pop_back();
    ApplyNode* o = t.v.owner();
    auto eid = elemwise_id(o);
    bool interior = eid && t.v.dtype() == dt && (t.v.is(root) || single_reader(fg, t.v));
    if (interior && *eid == id) {
      stack.push_back({o->inputs[1], t.negate, std::nullopt});
      stack.push_back({o->inputs[0], t.negate, std::nullopt});
      continue;
    }
    if (interior && id == ScalarOpId::add && *eid == ScalarOpId::sub && size_one_value(o->inputs[1])) {
      stack.push_back({o->inputs[1], !t.negate, std::nullopt});
      stack.push_back({o->inputs[0], t.negate, std::nullopt});
      continue;
    }
    t.value = size_one_value(t.v);
    if (t.negate && !t.value) return {};  // only constants are subtracted
    terms.push_back(std::move(t));
  }
  return terms;
}

// True when `v` is an interior node of its reader's chain: that chain's root collects it.
bool inside_longer_chain(const FunctionGraph& fg, const Var& v, ScalarOpId id) {
  if (!single_reader(fg, v)) return false;
  const Client& c = fg.clients(v)[0];
  auto rid = elemwise_id(c.node);
  if (!rid || c.node->outputs[0].type.dtype != v.dtype()) return false;
  return *rid == id || (id == ScalarOpId::add && *rid == ScalarOpId::sub && c.index == 0 &&
                        size_one_value(c.node->inputs[1]));
}

std::vector<Var> collect_constants(FunctionGraph& fg, ApplyNode& n, ScalarOpId id) {
  const Var root = n.output(0);
  const DType dt = root.dtype();
  if (inside_longer_chain(fg, root, id)) return {};  // so each chain is flattened once, from its root
  std::vector<Term> terms = flatten_chain(fg, root, id);
  int nconst = 0, const_ndim = 0;
  for (const Term& t : terms)
    if (t.value) {
      ++nconst;
      const_ndim = std::max(const_ndim, t.v.ndim());
    }
  // Nothing to collect, or nothing but constants (constant folding's work).
  if (nconst < 2 || nconst == int(terms.size())) return {};
  // The combined constant, computed in the chain's dtype as the chain computes.
  std::optional<Array> acc;
  for (const Term& t : terms) {
    if (!t.value) continue;
    Array c = t.value->astype(dt);
    if (!acc) acc = t.negate ? elemwise_eval(ScalarOpId::neg, {c}) : c;
    else acc = elemwise_eval(t.negate ? ScalarOpId::sub : id, {*acc, c});
  }
  Array c = acc->astype(dt).reshape(Shape(size_t(const_ndim), 1)).copy();
  const double cv = c.item_double();
  const bool neutral_c = id == ScalarOpId::add ? cv == 0 : cv == 1;
  Var r;
  for (const Term& t : terms) {
    if (t.value) continue;
    Var x = cast(t.v, dt);
    r = r.defined() ? elemwise(id, {r, x}) : x;
  }
  if (!neutral_c) r = elemwise(id, {r, constant(c)});
  return {r};
}

// 1/c when c is a power of two whose reciprocal the dtype represents exactly.
std::optional<Array> exact_reciprocal(const Var& c, DType dt) {
  auto v = size_one_value(c);
  if (!v || !is_float(dt)) return std::nullopt;
  Array cv = v->astype(dt);
  double d = cv.item_double();
  if (!std::isfinite(d) || d == 0) return std::nullopt;
  int e = 0;
  double mant = std::frexp(d, &e);
  if (std::abs(mant) != 0.5) return std::nullopt;
  Array r = elemwise_eval(ScalarOpId::true_div, {Array::scalar(dt, 1.0), cv});
  double rd = r.item_double();
  if (!std::isfinite(rd) || rd * d != 1.0) return std::nullopt;
  return r.reshape(Shape(size_t(c.ndim()), 1)).copy();
}

}  // namespace

void register_canonical_arith(RewriteDB& db) {
  register_neutral(db);
  db.local("add_collect_constants", Phase::Canonicalize, {key(ScalarOpId::add), key(ScalarOpId::sub)}, {kFastRun},
           "(x + 2) + 3 -> x + 5, (x + 1) - 1 -> x (constants of one element combined in the chain's dtype; "
           "exact for integers, as Theano for floats)",
           [](FunctionGraph& fg, ApplyNode& n) { return collect_constants(fg, n, ScalarOpId::add); });
  db.local("mul_collect_constants", Phase::Canonicalize, {key(ScalarOpId::mul)}, {kFastRun},
           "2 * (x * 3) -> x * 6 (constants of one element combined in the chain's dtype; "
           "exact for integers, as Theano for floats)",
           [](FunctionGraph& fg, ApplyNode& n) { return collect_constants(fg, n, ScalarOpId::mul); });
  db.local("div_by_power_of_two", Phase::Canonicalize, {key(ScalarOpId::true_div)}, {kFastRun},
           "x / c -> x * (1/c) for a float c = +-2^k (bit-identical: both round x * 2^-k once)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             const DType out = n.outputs[0].type.dtype;
             auto r = exact_reciprocal(n.inputs[1], out);
             if (!r) return {};
             Var y = mul(n.inputs[0], constant(*r));
             if (y.dtype() != out) return {};
             return {y};
           });
}

}  // namespace theon::detail
