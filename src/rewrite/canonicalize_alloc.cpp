// Broadcast values kept small: an elementwise op of alloc'd scalars computes
// on the scalar and allocs the result; an alloc of a value that already has
// the shape is the value; the sum of an alloc'd value is a product.
#include <cmath>

#include "canonicalize_internal.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"
#include "theon/rewrite/pattern.h"

namespace theon::detail {

namespace {

// Alloc or BroadcastTo (same values; BroadcastTo is a view).
bool is_alloc(const ApplyNode* n) { return n && dynamic_cast<const Alloc*>(n->op.get()); }
bool is_fill(const ApplyNode* n) { return n && dynamic_cast<const Fill*>(n->op.get()); }

// Same dims: the same variables, or equal static values.
bool same_alloc_shape(const ApplyNode* a, const ApplyNode* b) {
  if (a->inputs.size() != b->inputs.size()) return false;
  for (size_t i = 1; i < a->inputs.size(); ++i) {
    if (a->inputs[i].is(b->inputs[i])) continue;
    auto x = static_int_scalar(a->inputs[i]), y = static_int_scalar(b->inputs[i]);
    if (!x || !y || *x != *y) return false;
  }
  return true;
}

// Whether two alloc-like nodes broadcast their values to the same shape.
bool same_target(const ApplyNode* a, const ApplyNode* b) {
  if (is_alloc(a) && is_alloc(b)) return same_alloc_shape(a, b);
  return is_fill(a) && is_fill(b) && a->inputs[0].is(b->inputs[0]) &&
         a->outputs[0].type.ndim() == b->outputs[0].type.ndim();
}

// f(alloc(c, shape), d) -> alloc(f(c, d), shape) for scalar-like c and d.
std::vector<Var> elemwise_of_alloc(FunctionGraph&, ApplyNode& n) {
  auto* e = dynamic_cast<const Elemwise*>(n.op.get());
  if (!e) return {};
  const ApplyNode* target = nullptr;  // the alloc (or fill) whose shape the result takes
  std::vector<Var> values;
  for (const Var& in : n.inputs) {
    ApplyNode* o = in.owner();
    if (is_alloc(o) || is_fill(o)) {
      const Var& v = is_alloc(o) ? o->inputs[0] : o->inputs[1];
      if (all_ones(v.type()) && (!target || same_target(target, o))) {
        if (!target) target = o;
        values.push_back(v);
        continue;
      }
    }
    if (!all_ones(in.type())) return {};  // an operand that may broadcast the result further
    values.push_back(in);
  }
  if (!target) return {};
  const int rank = target->outputs[0].type.ndim();
  for (const Var& v : values)
    if (v.ndim() > rank) return {};
  Var r = elemwise(e->scalar_op(), values);
  if (is_fill(target)) return {fill(target->inputs[0], r)};
  std::vector<Var> ins{r};
  ins.insert(ins.end(), target->inputs.begin() + 1, target->inputs.end());
  return {make1<Alloc>(ins)};
}

// True when `s` is the length of dim d of x.
bool is_dim_of(const Var& s, const Var& x, int d) {
  int64_t xd = x.type().shape[d];
  if (auto c = static_int_scalar(s); c && xd != kUnknownDim) return *c == xd;
  ApplyNode* o = s.owner();
  auto* si = o ? dynamic_cast<const ShapeI*>(o->op.get()) : nullptr;
  return si && si->i() == d && o->inputs[0].is(x);
}

std::vector<Var> useless_alloc(FunctionGraph&, ApplyNode& n) {
  if (!is_alloc(&n)) return {};
  const Var& x = n.inputs[0];
  if (x.ndim() != int(n.inputs.size()) - 1) return {};
  for (int d = 0; d < x.ndim(); ++d)
    if (!is_dim_of(n.inputs[size_t(d) + 1], x, d)) return {};
  return {x};
}

// Product of int scalars (int64), a constant when all are.
Var product(const std::vector<Var>& dims) {
  int64_t c = 1;
  Var r;
  for (const Var& d : dims) {
    if (auto s = static_int_scalar(d)) c *= *s;
    else r = r.defined() ? mul(r, cast(d, DType::Int64)) : cast(d, DType::Int64);
  }
  Var k = constant(double(c), DType::Int64);
  if (!r.defined()) return k;
  return c == 1 ? r : mul(r, k);
}

bool finite_constant(const Var& v) {
  auto c = scalar_constant_value(v, /*size_one=*/false);
  return c && std::isfinite(*c);
}

// sum(alloc(v, s), axes) -> alloc(v * prod(s[axes]), kept s) when v is broadcast along the axes.
std::vector<Var> sum_of_alloc(FunctionGraph&, ApplyNode& n) {
  auto* red = dynamic_cast<const Reduce*>(n.op.get());
  if (!red || red->kind() != ReduceKind::Sum || red->axes().empty()) return {};
  ApplyNode* a = n.inputs[0].owner();
  if (!is_alloc(a)) return {};
  const Var& v = a->inputs[0];
  const int nd = int(a->inputs.size()) - 1, lead = nd - v.ndim();
  std::vector<bool> reduced(size_t(nd), false);
  for (int ax : red->axes()) reduced[size_t(ax)] = true;
  std::vector<int> order;   // v's axes laid out as the result's
  std::vector<Var> shape;   // the result's shape
  std::vector<Var> counts;  // lengths of the reduced dims
  for (int i = 0; i < nd; ++i) {
    const int j = i - lead;  // the axis of v aligned with i (negative: v has none)
    if (reduced[size_t(i)]) {
      if (j >= 0 && v.type().shape[size_t(j)] != 1) return {};  // v varies along a summed axis
      counts.push_back(a->inputs[size_t(i) + 1]);
      if (red->keepdims()) {
        order.push_back(-1);
        shape.push_back(constant(1.0, DType::Int64));
      }
    } else {
      order.push_back(j >= 0 ? j : -1);
      shape.push_back(a->inputs[size_t(i) + 1]);
    }
  }
  const DType out = n.outputs[0].type.dtype;
  // Floats multiply in float64 (as the sum accumulates), integers in the result dtype (wrapping alike).
  const DType acc = is_float(out) ? DType::Float64 : out;
  Var count = product(counts);
  Var r = mul(dimshuffle(cast(v, acc), order), cast(count, acc));
  auto static_count = static_int_scalar(count);
  // An empty sum is 0, while inf * 0 and nan * 0 are nan.
  if (is_float(acc) && !(static_count && *static_count > 0) && !finite_constant(v))
    r = switch_(eq(count, constant(0.0, DType::Int64)), constant(0.0, acc), r);
  r = cast(r, out);
  if (shape.empty()) return {r};
  return {alloc(r, shape)};
}

}  // namespace

void register_canonical_alloc(RewriteDB& db) {
  std::vector<OpKey> elemwise_keys;
  for (const auto& info : scalar_ops()) elemwise_keys.push_back(key(info.id));
  db.local("elemwise_of_alloc", Phase::Canonicalize, elemwise_keys, {kFastRun},
           "f(alloc(c, shape), d) -> alloc(f(c, d), shape) for scalar-like c and d (f computed once; "
           "also for fill)",
           elemwise_of_alloc);
  db.local("alloc_useless", Phase::Canonicalize, {key<Alloc>(), key<BroadcastTo>()}, {kFastRun},
           "alloc(x, x.shape) -> x (static dims or x's own Shape_i)", useless_alloc);
  db.local("sum_of_alloc", Phase::Canonicalize, {key<Reduce>()}, {kFastRun},
           "sum(alloc(c, n, m)) -> c * n * m (in the sum's dtype; also over the axes c is broadcast along)",
           sum_of_alloc);
}

}  // namespace theon::detail
