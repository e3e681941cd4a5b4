// Chains of views and casts collapsed: DimShuffle of DimShuffle, Reshape of
// Reshape, useless DimShuffle / Reshape, Cast to the same dtype and Cast of a
// lossless Cast.
#include "canonicalize_internal.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"

namespace theon::detail {

namespace {

std::vector<Var> merge_dimshuffles(FunctionGraph&, ApplyNode& n) {
  auto* outer = dynamic_cast<const DimShuffle*>(n.op.get());
  ApplyNode* in = n.inputs[0].owner();
  auto* inner = in ? dynamic_cast<const DimShuffle*>(in->op.get()) : nullptr;
  if (!outer || !inner) return {};
  // Output axis i of the outer shuffle is axis outer[i] of the inner output,
  // which is axis inner[outer[i]] of x ('x' stays 'x'). Axes either shuffle
  // drops are statically 1, so dropping them from x is allowed.
  std::vector<int> order;
  for (int o : outer->new_order()) order.push_back(o < 0 ? -1 : inner->new_order()[size_t(o)]);
  return {dimshuffle(in->inputs[0], order)};
}

std::vector<Var> useless_dimshuffle(FunctionGraph&, ApplyNode& n) {
  auto* ds = dynamic_cast<const DimShuffle*>(n.op.get());
  if (!ds || int(ds->new_order().size()) != n.inputs[0].ndim()) return {};
  for (size_t i = 0; i < ds->new_order().size(); ++i)
    if (ds->new_order()[i] != int(i)) return {};
  return {n.inputs[0]};
}

std::vector<Var> merge_reshapes(FunctionGraph&, ApplyNode& n) {
  ApplyNode* in = n.inputs[0].owner();
  if (!in || !dynamic_cast<const Reshape*>(in->op.get())) return {};
  // Both reshape the same elements in the same (C) order; only the last shape matters.
  return {reshape(in->inputs[0], n.inputs[1], n.outputs[0].type.ndim())};
}

// True when `s` (an entry of a shape vector) is the length of dim d of x.
bool is_dim_of(const Var& s, const Var& x, int d) {
  int64_t xd = x.type().shape[d];
  if (auto c = static_int_scalar(s); c && xd != kUnknownDim) return *c == xd;
  ApplyNode* o = s.owner();
  if (o && dynamic_cast<const Cast*>(o->op.get()) && can_cast_safely(o->inputs[0].dtype(), s.dtype()))
    return is_dim_of(o->inputs[0], x, d);
  auto* si = o ? dynamic_cast<const ShapeI*>(o->op.get()) : nullptr;
  return si && si->i() == d && o->inputs[0].is(x);
}

std::vector<Var> useless_reshape(FunctionGraph&, ApplyNode& n) {
  const Var& x = n.inputs[0];
  const Var& s = n.inputs[1];
  if (n.outputs[0].type.ndim() != x.ndim()) return {};
  ApplyNode* so = s.owner();
  if (so && dynamic_cast<const ShapeOp*>(so->op.get()) && so->inputs[0].is(x)) return {x};
  if (auto v = static_int_vector(s)) {
    for (int d = 0; d < x.ndim(); ++d)
      if (x.type().shape[d] == kUnknownDim || (*v)[size_t(d)] != x.type().shape[d]) return {};
    return {x};
  }
  if (so && dynamic_cast<const MakeVector*>(so->op.get())) {
    for (int d = 0; d < x.ndim(); ++d)
      if (!is_dim_of(so->inputs[size_t(d)], x, d)) return {};
    return {x};
  }
  return {};
}

// Whether cast(cast(x, mid), to) == cast(x, to) for every x of dtype `from`.
bool cast_chain_exact(DType from, DType mid, DType to) {
  if (!can_cast_safely(from, mid)) return false;  // the first cast loses nothing
  // The second cast then sees x's own value; float -> integer conversions of
  // out-of-range values are only alike when they start from the same dtype,
  // so an integer result needs x's values to fit it.
  if (is_float(mid) && !is_float(to) && !can_cast_safely(from, to)) return false;
  return true;
}

}  // namespace

void register_canonical_views(RewriteDB& db) {
  db.local("dimshuffle_merge", Phase::Canonicalize, {key<DimShuffle>()}, {kFastRun},
           "dimshuffle(dimshuffle(x, a), b) -> dimshuffle(x, a[b]); transpose(transpose(x)) -> x (views compose)",
           merge_dimshuffles);
  db.local("dimshuffle_useless", Phase::Canonicalize, {key<DimShuffle>()}, {kFastRun},
           "dimshuffle(x, 0..n-1) -> x (the identity view)", useless_dimshuffle);
  db.local("reshape_merge", Phase::Canonicalize, {key<Reshape>()}, {kFastRun},
           "reshape(reshape(x, s1), s2) -> reshape(x, s2) (same elements in the same order)", merge_reshapes);
  db.local("reshape_useless", Phase::Canonicalize, {key<Reshape>()}, {kFastRun},
           "reshape(x, x.shape) -> x (static dims or x's own Shape_i)", useless_reshape);
  db.local("cast_useless", Phase::Canonicalize, {key<Cast>()}, {kFastRun},
           "cast(x, x.dtype) -> x",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             if (n.inputs[0].dtype() != n.outputs[0].type.dtype) return {};
             return {n.inputs[0]};
           });
  db.local("cast_merge", Phase::Canonicalize, {key<Cast>()}, {kFastRun},
           "cast(cast(x, a), b) -> cast(x, b) when x -> a is lossless (int8 -> int32 -> float64; "
           "not float64 -> float32 -> float64)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             ApplyNode* in = n.inputs[0].owner();
             if (!in || !dynamic_cast<const Cast*>(in->op.get())) return {};
             const Var& x = in->inputs[0];
             if (!cast_chain_exact(x.dtype(), n.inputs[0].dtype(), n.outputs[0].type.dtype)) return {};
             return {cast(x, n.outputs[0].type.dtype)};
           });
}

}  // namespace theon::detail
