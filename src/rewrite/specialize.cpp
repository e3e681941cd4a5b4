// The specialize phase: general ops replaced by cheaper special cases once
// the graph is canonical and stable — small constant powers by square roots
// and products, mean by a sum and one division, a sum of squares by a BLAS
// dot, and products added to a tensor by BLAS-shaped nodes (specialize_gemm.cpp).
#include <cmath>

#include "specialize_internal.h"
#include "theon/ops/blas.h"
#include "theon/ops/creation.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"
#include "theon/rewrite/pattern.h"

namespace theon {

namespace {

bool is_half(DType d) { return d == DType::Float16 || d == DType::BFloat16; }

// x ** e for a constant e of one element. x is first cast to the dtype pow
// computes and returns, so integers wrap in the same width pow wraps in.
std::vector<Var> specialize_pow(FunctionGraph&, ApplyNode& n) {
  auto e = scalar_constant_value(n.inputs[1]);
  if (!e || std::isnan(*e)) return {};
  const DType dt = n.output(0).dtype();
  const Var x = cast(n.inputs[0], dt);
  const bool flt = is_float(dt);
  if (*e == 0) return {ones_like(x)};  // pow(x, 0) is 1 for every x, NaN included
  if (*e == 2) return {sqr(x)};
  // pow(-inf, 0.5) is inf where sqrt gives NaN; |x| is inf at both infinities.
  if (flt && *e == 0.5) return {switch_(isinf(x), abs(x), sqrt(x))};
  if (flt && *e == -1) return {reciprocal(x)};
  if (*e >= 3 && *e <= 8 && *e == std::floor(*e) && !is_half(dt)) {
    // Square-and-multiply; integer products wrap like pow's loop, floats round
    // at most three times more than pow does.
    int k = int(*e);
    Var r, p = x;
    while (k) {
      if (k & 1) r = r.defined() ? mul(r, p) : p;
      k >>= 1;
      if (k) p = sqr(p);
    }
    return {r};
  }
  return {};
}

// mean(x, axes) -> sum(x, axes) / n for a static, non-zero n. Division (not
// multiplication by 1/n) so float64 results are bit-identical to Mean's;
// integers and bool are summed in float64, as Mean computes them.
std::vector<Var> mean_to_sum(FunctionGraph&, ApplyNode& n) {
  auto* r = dynamic_cast<const Reduce*>(n.op.get());
  if (!r || r->kind() != ReduceKind::Mean) return {};
  const Var& x = n.inputs[0];
  if (is_half(x.dtype())) return {};
  int64_t count = 1;
  for (int a : r->axes()) {
    int64_t d = x.type().shape[a];
    if (d < 0) return {};
    count *= d;
  }
  if (count == 0) return {};
  Var xs = is_float(x.dtype()) ? x : cast(x, DType::Float64);
  Var s = sum(xs, r->axes(), r->keepdims());
  return {true_div(s, constant(double(count), s.dtype()))};
}

// sum(x * x) and sum(sqr(x)) over a float32/float64 vector -> dot(x, x).
std::vector<Var> sum_sqr_to_dot(FunctionGraph&, ApplyNode& n) {
  auto* r = dynamic_cast<const Reduce*>(n.op.get());
  if (!r || r->kind() != ReduceKind::Sum || r->axes().size() != 1) return {};  // axis=() reduces nothing
  const Var& sq = n.inputs[0];
  if (sq.ndim() != 1 || (sq.dtype() != DType::Float32 && sq.dtype() != DType::Float64)) return {};
  auto m = pat::match(pat::op(ScalarOpId::sqr, {pat::any("x")}), sq);
  if (!m) m = pat::match(pat::mul(pat::any("x"), pat::any("x")), sq);
  if (!m || m->at("x").dtype() != sq.dtype() || m->at("x").ndim() != 1) return {};
  Var d = dot(m->at("x"), m->at("x"));
  return {r->keepdims() ? dimshuffle(d, {-1}) : d};
}

}  // namespace

void register_specialize_rewrites(RewriteDB& db) {
  db.local("pow_specialize", Phase::Specialize, {key(ScalarOpId::pow)}, {kFastRun},
           "x**0 -> ones, x**2 -> sqr(x), x**0.5 -> sqrt(x) (|x| at +-inf, as pow), "
           "x**-1 -> 1/x (floats), x**3..8 -> products (cheaper than pow)",
           specialize_pow);
  db.local("mean_to_sum", Phase::Specialize, {key<Reduce>()}, {kFastRun},
           "mean(x, axes) -> sum(x, axes) / n for a static n (lets sum rewrites and fusion see it)",
           mean_to_sum);
  db.local("sum_sqr_to_dot", Phase::Specialize, {key<Reduce>()}, {kFastRun},
           "sum(x * x) -> dot(x, x) for a float vector (one BLAS call, no temporary)", sum_sqr_to_dot);
  detail::register_specialize_gemm(db);
}

}  // namespace theon
