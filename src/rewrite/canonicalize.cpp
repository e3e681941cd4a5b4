// The canonicalize phase: rewrites that put a graph in a simpler normal form
// (neutral elements gone, constants collected, view chains merged, shapes
// computed without their tensors) so the later phases see fewer patterns.
// Its rewrites live in canonicalize_*.cpp, one file per family; this file
// registers them and holds the queries they share.
#include "canonicalize_internal.h"

#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"

namespace theon {

namespace detail {

bool single_reader(const FunctionGraph& fg, const Var& v) {
  const auto& cs = fg.clients(v);
  return cs.size() == 1 && cs[0].node != nullptr;
}

bool all_ones(const TensorType& t) {
  for (int64_t d : t.shape)
    if (d != 1) return false;
  return true;
}

std::optional<Array> size_one_value(const Var& v) {
  if (!v.defined()) return std::nullopt;
  if (v.is_constant()) {
    const Array& a = v.constant_value();
    if (a.size() != 1) return std::nullopt;
    return a.reshape({}).copy();
  }
  ApplyNode* o = v.owner();
  if (!o) return std::nullopt;
  if (dynamic_cast<const DimShuffle*>(o->op.get())) return size_one_value(o->inputs[0]);
  if (auto* c = dynamic_cast<const Cast*>(o->op.get())) {
    auto inner = size_one_value(o->inputs[0]);
    if (!inner) return std::nullopt;
    return inner->astype(c->to());
  }
  return std::nullopt;
}

Var dim_of(const FunctionGraph& fg, const Var& x, int d) {
  int64_t s = x.type().shape[d];
  if (s != kUnknownDim) return constant(double(s), DType::Int64);
  for (const Client& c : fg.clients(x)) {
    if (!c.node) continue;
    auto* si = dynamic_cast<const ShapeI*>(c.node->op.get());
    if (si && si->i() == d) return c.node->output(0);
  }
  return make1<ShapeI>({x}, d);
}

}  // namespace detail

void register_canonicalize_rewrites(RewriteDB& db) {
  detail::register_canonical_arith(db);
  detail::register_canonical_views(db);
  detail::register_canonical_shape(db);
  detail::register_canonical_alloc(db);
  detail::register_canonical_subtensor(db);
}

}  // namespace theon
