// Shapes read without computing the tensor: Shape_i(x) and Shape(x) become
// the shape expression of x's op (Op::infer_shape), static dims constants.
//
// Inference goes one node at a time: the expression for x's shape reads the
// shapes of x's inputs as Shape_i nodes of those inputs, which this rewrite
// then visits in turn. So only the shapes somebody reads are inferred, and
// each inference costs one infer_shape call.
#include <unordered_map>
#include <unordered_set>

#include "canonicalize_internal.h"
#include "theon/ops/shape.h"

namespace theon::detail {

namespace {

// True when the new part of `expr`'s graph (nodes fg does not have) reads the shape of `x`
// through a Shape or Shape_i node: replacing x's Shape_i by it would not terminate.
bool reads_shape_of(const FunctionGraph& fg, const Var& expr, const Var& x) {
  std::vector<ApplyNode*> todo;
  std::unordered_set<ApplyNode*> seen;
  if (expr.owner()) todo.push_back(expr.owner());
  while (!todo.empty()) {
    ApplyNode* o = todo.back();
    todo.pop_back();
    if (fg.contains(o) || !seen.insert(o).second) continue;
    const Op* op = o->op.get();
    if ((dynamic_cast<const ShapeI*>(op) || dynamic_cast<const ShapeOp*>(op)) && o->inputs[0].is(x)) return true;
    for (const auto& in : o->inputs)
      if (in.owner()) todo.push_back(in.owner());
  }
  return false;
}

// The shape of x from its op's infer_shape, one expression per dim (undefined
// where the op cannot tell); nullopt when x has no op or the op infers nothing.
std::optional<std::vector<Var>> inferred_shape(const FunctionGraph& fg, const Var& x) {
  ApplyNode* node = x.owner();
  if (!node) return std::nullopt;
  ShapeExprs in;
  std::unordered_map<const VariableNode*, std::vector<Var>> seen;  // an input read twice: one Shape_i each dim
  for (const auto& v : node->inputs) {
    auto it = seen.find(v.get());
    if (it == seen.end()) {
      std::vector<Var> dims;
      for (int d = 0; d < v.ndim(); ++d) dims.push_back(dim_of(fg, v, d));
      it = seen.emplace(v.get(), std::move(dims)).first;
    }
    in.push_back(it->second);
  }
  std::optional<ShapeExprs> out;
  try {
    out = node->op->infer_shape(*node, in);
  } catch (const std::exception&) {
    return std::nullopt;  // an op that cannot infer from these expressions: keep Shape_i
  }
  if (!out || out->size() <= size_t(x.index())) return std::nullopt;
  std::vector<Var> r = (*out)[size_t(x.index())];
  if (int(r.size()) != x.ndim()) return std::nullopt;
  for (auto& e : r)
    if (e.defined() && (e.ndim() != 0 || !is_integer(e.dtype()) || reads_shape_of(fg, e, x))) e = Var();
  return r;
}

// The expression for dim d of x that does not read x, or undefined.
Var inferred_dim(const Var& x, int d, const std::optional<std::vector<Var>>& inferred) {
  int64_t s = x.type().shape[d];
  if (s != kUnknownDim) return constant(double(s), DType::Int64);
  if (inferred && (*inferred)[size_t(d)].defined()) return cast((*inferred)[size_t(d)], DType::Int64);
  return {};
}

std::vector<Var> shape_i_from_op(FunctionGraph& fg, ApplyNode& n) {
  auto* si = dynamic_cast<const ShapeI*>(n.op.get());
  if (!si) return {};
  const Var& x = n.inputs[0];
  std::optional<std::vector<Var>> inferred;
  if (x.type().shape[si->i()] == kUnknownDim) inferred = inferred_shape(fg, x);
  Var r = inferred_dim(x, si->i(), inferred);
  if (!r.defined()) return {};
  return {r};
}

std::vector<Var> shape_from_op(FunctionGraph& fg, ApplyNode& n) {
  if (!dynamic_cast<const ShapeOp*>(n.op.get())) return {};
  const Var& x = n.inputs[0];
  std::optional<std::vector<Var>> inferred;
  for (int64_t d : x.type().shape)
    if (d == kUnknownDim) {
      inferred = inferred_shape(fg, x);
      break;
    }
  std::vector<Var> dims;
  bool better = x.ndim() == 0;  // Shape of a scalar is the constant ()
  for (int d = 0; d < x.ndim(); ++d) {
    Var e = inferred_dim(x, d, inferred);
    better |= e.defined();
    dims.push_back(e.defined() ? e : dim_of(fg, x, d));
  }
  if (!better) return {};
  return {make_vector(dims, DType::Int64)};
}

}  // namespace

void register_canonical_shape(RewriteDB& db) {
  db.local("shape_i_from_op", Phase::Canonicalize, {key<ShapeI>()}, {kFastRun},
           "Shape_i(f(a, ...)) -> f's shape expression of a's shape (static dims constants; x need not be computed)",
           shape_i_from_op);
  db.local("shape_from_op", Phase::Canonicalize, {key<ShapeOp>()}, {kFastRun},
           "Shape(x) -> make_vector(dims of x) from static dims and x's op's shape inference",
           shape_from_op);
}

}  // namespace theon::detail
