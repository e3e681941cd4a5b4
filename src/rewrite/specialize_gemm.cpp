// Specialize rewrites to BLAS-shaped nodes: b * z + a * dot(x, y) (with the
// scalars a, b optional, and subtraction) becomes one Gemm / Gemv / Ger node.
// Only when z has the product's rank and no static axis of length 1 where the
// product has another length (a bias vector or row broadcast over a matrix is
// left to the elementwise add), when all tensors share one float32/float64
// dtype, and when nothing else reads the product (it would be computed twice).
#include "specialize_internal.h"
#include "theon/ops/blas.h"
#include "theon/ops/gemm.h"
#include "theon/ops/shape.h"
#include "theon/rewrite/pattern.h"

namespace theon::detail {

namespace {

bool single_reader(const FunctionGraph& fg, const Var& v) {
  const auto& cs = fg.clients(v);
  return cs.size() == 1 && cs[0].node != nullptr;
}

// A multiplier of one element: a size-1 constant, or a tensor whose static
// dims are all 1 (it cannot broadcast the other operand).
bool is_scalar_like(const Var& v) {
  if (scalar_constant_value(v)) return true;
  for (int64_t d : v.type().shape)
    if (d != 1) return false;
  return true;
}

// v = coef * base, where coef is a constant (value) or a one-element tensor
// (var) and may be negated.
struct Term {
  Var base;
  double value = 1;
  Var var;
  bool negate = false;
};

Term parse_term(const FunctionGraph& fg, const Var& v) {
  Term t;
  t.base = v;
  Var cur = v;
  auto id = elemwise_id(cur);
  if (id && *id == ScalarOpId::neg && single_reader(fg, cur)) {
    t.negate = true;
    cur = cur.owner()->inputs[0];
    t.base = cur;
    id = elemwise_id(cur);
  }
  if (id && *id == ScalarOpId::mul && single_reader(fg, cur)) {
    const auto& in = cur.owner()->inputs;
    for (int i : {0, 1}) {
      const Var &c = in[i], &b = in[1 - i];
      if (!is_scalar_like(c) || is_scalar_like(b) || c.ndim() > b.ndim()) continue;
      if (auto cv = scalar_constant_value(c)) t.value = *cv;
      else t.var = c;
      t.base = b;
      break;
    }
  }
  return t;
}

// The coefficient as a 0-d tensor of dtype dt, negated when `negate`.
Var coefficient(const Term& t, DType dt, bool negate) {
  bool neg_ = t.negate != negate;
  if (!t.var.defined()) return constant(neg_ ? -t.value : t.value, dt);
  Var c = t.var.ndim() ? dimshuffle(t.var, {}) : t.var;
  c = cast(c, dt);
  return neg_ ? neg(c) : c;
}

bool coefficient_is(const Term& t, double v) { return !t.var.defined() && (t.negate ? -t.value : t.value) == v; }

// z may stand beside the product: same rank, no static 1 broadcast against another length.
bool fits_product(const Var& z, const Var& prod) {
  if (z.ndim() != prod.ndim()) return false;
  for (int d = 0; d < z.ndim(); ++d) {
    int64_t a = z.type().shape[d], b = prod.type().shape[d];
    if ((a == 1) != (b == 1)) return false;
  }
  return true;
}

// The vector v when m = v.dimshuffle(order) with `order` {0, 'x'} or {'x', 0}.
Var vector_of(const Var& m, const std::vector<int>& order) {
  auto* ds = m.owner() ? dynamic_cast<const DimShuffle*>(m.owner()->op.get()) : nullptr;
  if (!ds || ds->new_order() != order || m.owner()->inputs[0].ndim() != 1) return {};
  return m.owner()->inputs[0];
}

// zt + (negate ? -1 : 1) * dt, with dt's base a product; the node or nothing.
Var build(const FunctionGraph& fg, const Term& zt, const Term& pt, bool negate, DType dt) {
  const Var& prod = pt.base;
  auto* dot_op = prod.owner() ? dynamic_cast<const Dot*>(prod.owner()->op.get()) : nullptr;
  if (!dot_op || !single_reader(fg, prod) || prod.dtype() != dt || zt.base.dtype() != dt) return {};
  const Var &x = prod.owner()->inputs[0], &y = prod.owner()->inputs[1];
  if (x.dtype() != dt || y.dtype() != dt || !fits_product(zt.base, prod)) return {};
  if (coefficient_is(pt, 0)) return {};  // z + 0 * dot keeps the NaNs of the product
  Var alpha = coefficient(pt, dt, negate);
  if (x.ndim() == 2 && y.ndim() == 2) {
    Var xv = vector_of(x, {0, -1}), yv = vector_of(y, {-1, 0});
    if (xv.defined() && yv.defined() && coefficient_is(zt, 1)) return ger(zt.base, alpha, xv, yv);
    return gemm(zt.base, alpha, x, y, coefficient(zt, dt, false));
  }
  if (x.ndim() == 2 && y.ndim() == 1) return gemv(zt.base, alpha, x, y, coefficient(zt, dt, false));
  if (x.ndim() == 1 && y.ndim() == 2) return gemv(zt.base, alpha, transpose(y), x, coefficient(zt, dt, false));
  return {};
}

std::vector<Var> to_blas(FunctionGraph& fg, ApplyNode& n) {
  const DType dt = n.output(0).dtype();
  if (dt != DType::Float32 && dt != DType::Float64) return {};
  const bool is_sub = *elemwise_id(&n) == ScalarOpId::sub;
  Term a = parse_term(fg, n.inputs[0]), b = parse_term(fg, n.inputs[1]);
  // z + p, z - p, p + z and p - z.
  if (Var r = build(fg, a, b, is_sub, dt); r.defined()) return {r};
  Term zb = b;
  zb.negate = zb.negate != is_sub;  // p - z is -z + p
  if (Var r = build(fg, zb, a, false, dt); r.defined()) return {r};
  return {};
}

}  // namespace

void register_specialize_gemm(RewriteDB& db) {
  db.local("gemm_from_dot", Phase::Specialize, {key(ScalarOpId::add), key(ScalarOpId::sub)},
           {kFastRun},
           "b*z + a*dot(x, y) -> Gemm / Gemv (matrix-vector) / Ger (z + a*outer(x, y)) "
           "(one BLAS call, no temporary product)",
           to_blas);
}

}  // namespace theon::detail
