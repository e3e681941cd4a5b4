// Stabilize rewrites of the softmax family: log(softmax) becomes log_softmax,
// and softmax followed by the one-hot categorical cross-entropy — as the op,
// as the indexing expression -log(softmax(z))[arange(n), y], and as the
// gradient graph grad() builds for it — becomes the fused ops of
// theon/ops/nnet_fused.h, which stay finite for logits of any size.
#include "stabilize_internal.h"
#include "theon/ops/creation.h"
#include "theon/ops/nnet.h"
#include "theon/ops/nnet_fused.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"
#include "theon/ops/shape_extra.h"
#include "theon/ops/subtensor.h"
#include "theon/rewrite/pattern.h"

namespace theon::detail {

namespace {

template <class O>
const O* op_of(const Var& v) {
  ApplyNode* o = v.owner();
  return o ? dynamic_cast<const O*>(o->op.get()) : nullptr;
}

// The logits z when v = softmax(z) along the last axis (log: log_softmax).
Var softmax_input(const Var& v, bool log) {
  auto* s = op_of<Softmax>(v);
  if (!s || s->is_log() != log || s->axis() != v.ndim() - 1) return {};
  return v.owner()->inputs[0];
}

// The logits z when v = log_softmax(z) or log(softmax(z)) along the last axis.
Var log_softmax_input(const Var& v) {
  if (Var z = softmax_input(v, true); z.defined()) return z;
  auto id = elemwise_id(v);
  if (id && *id == ScalarOpId::log) return softmax_input(v.owner()->inputs[0], false);
  return {};
}

// -log_softmax(z)[arange(n), y] (the negation outside or inside the indexing)
// -> SoftmaxCrossentropy1Hot{wrap}(z, y). The arange must count the rows the
// result has: arange(y.shape[0]) reads the first len(y) rows of z,
// arange(z.shape[0]) broadcasts y against the rows, a constant length must
// match the static shapes. Negative class indices count from the end, as
// indexing does.
std::vector<Var> crossentropy_from_indexing(ApplyNode& adv, bool negated_inside) {
  auto* a = dynamic_cast<const AdvancedSubtensor*>(adv.op.get());
  if (!a || a->pattern().size() != 2 || adv.inputs.size() != 3) return {};
  for (const auto& e : a->pattern())
    if (e.kind != IndexEntry::Kind::Array) return {};
  Var logsm = adv.inputs[0];
  if (negated_inside) {
    auto id = elemwise_id(logsm);
    if (!id || *id != ScalarOpId::neg) return {};
    logsm = logsm.owner()->inputs[0];
  }
  Var z = log_softmax_input(logsm);
  const Var &ar = adv.inputs[1], &y = adv.inputs[2];
  if (!z.defined() || z.ndim() != 2 || y.ndim() != 1 || !is_integer(y.dtype())) return {};
  auto* range = op_of<ARange>(ar);
  if (!range) return {};
  const auto& r = ar.owner()->inputs;
  auto start = static_int_scalar(r[0]), step = static_int_scalar(r[2]);
  if (!start || *start != 0 || !step || *step != 1) return {};
  const Var& stop = r[1];
  const int64_t rows = z.type().shape[0], ylen = y.type().shape[0];
  const bool same_static = rows >= 0 && rows == ylen;
  Var zz = z, yy = y;
  if (auto* si = op_of<ShapeI>(stop); si && si->i() == 0) {
    const Var& of = stop.owner()->inputs[0];
    if (of.is(y)) {
      if (!same_static) zz = subtensor(z, {IndexItem::slice(Var(), stop)});
    } else if (of.is(z) || of.is(logsm) || of.is(adv.inputs[0]) || of.is(logsm.owner()->inputs[0])) {
      if (!same_static) yy = broadcast_to(y, std::vector<Var>{stop});
    } else {
      return {};
    }
  } else if (auto k = static_int_scalar(stop)) {
    if (rows != *k || (ylen != *k && ylen != 1)) return {};
    if (ylen != *k) yy = broadcast_to(y, std::vector<Var>{stop});
  } else {
    return {};
  }
  return {softmax_crossentropy_1hot(zz, yy, true)};
}

// The softmax gradient grad() builds, (G - sum(G * sm, -1, keepdims)) * sm,
// with G = CrossentropyCategorical1HotGrad(g, sm, y): the inputs (g, sm, y), or
// nothing. G is -g / sm[y] at the indexed class, which is inf when sm[y]
// underflows; the product is g * (sm - onehot(y)).
std::vector<Var> crossentropy_grad(ApplyNode& n) {
  using namespace pat;
  auto is_ce_grad = [](const Var& v) { return op_of<CrossentropyCategorical1HotGrad>(v) != nullptr; };
  auto is_sum = [](const Var& v) {
    auto* r = op_of<Reduce>(v);
    return r && r->kind() == ReduceKind::Sum && r->keepdims() && r->axes() == std::vector<int>{v.ndim() - 1};
  };
  P G = as("G", node(is_ce_grad));
  P S = node(is_sum, {mul(G, any("sm"))});
  std::optional<Match> m;
  for (const P& d : {sub(G, S), add(G, neg(S)), add(neg(S), G)}) {
    if ((m = match(mul(d, any("sm")), n))) break;
  }
  if (!m) return {};
  const Var& sm = m->at("sm");
  const ApplyNode* g = m->at("G").owner();
  if (!g->inputs[1].is(sm) || !softmax_input(sm, false).defined()) return {};
  return {softmax_crossentropy_1hot_grad(g->inputs[0], sm, g->inputs[2], false)};
}

// The gradient of log(softmax(z)) as grad builds it: softmax's gradient of
// log's gradient, (g/sm - sum(g/sm * sm)) * sm. Mathematically g - sm * sum(g);
// computed that way nothing divides by an sm that underflowed to 0.
std::vector<Var> log_softmax_grad(ApplyNode& n) {
  using namespace pat;
  auto is_softmax = [](const Var& v) {
    auto* s = op_of<Softmax>(v);
    return s && !s->is_log();
  };
  auto is_sum_keepdims = [](const Var& v) {
    auto* r = op_of<Reduce>(v);
    return r && r->kind() == ReduceKind::Sum && r->keepdims() && r->axes().size() == 1;
  };
  // grad wraps an elementwise gradient in ReduceToShape (autodiff's sum over
  // broadcast axes); here the gradient has sm's shape, so it is a no-op.
  auto is_reduce_to_shape = [](const Var& v) { return v.owner() && v.owner()->op->name() == "ReduceToShape"; };
  static const P quot = div(any_float("g"), as("sm", node(is_softmax)));
  static const P forms[] = {
      mul(sub(as("d", quot), as("s", node(is_sum_keepdims, {mul(any("d"), any("sm"))}))), any("sm")),
      mul(sub(as("d", node(is_reduce_to_shape, {quot})), as("s", node(is_sum_keepdims, {mul(any("d"), any("sm"))}))),
          any("sm")),
  };
  std::optional<Match> m;
  for (const P& f : forms)
    if ((m = match(f, n))) break;
  if (!m) return {};
  const Var& sm = m->at("sm");
  int axis = op_of<Softmax>(sm)->axis();
  if (op_of<Reduce>(m->at("s"))->axes()[0] != axis) return {};
  const Var& g = m->at("g");
  if (g.dtype() != sm.dtype() || g.ndim() != sm.ndim()) return {};
  for (int d = 0; d < g.ndim(); ++d)  // g must not broadcast sm (then ReduceToShape would sum)
    if (sm.type().shape[d] == 1 && g.type().shape[d] != 1) return {};
  return {sub(g, mul(sm, sum(g, std::vector<int>{axis}, true)))};
}

}  // namespace

void register_stabilize_softmax(RewriteDB& db) {
  db.local("log_softmax_grad", Phase::Stabilize, {key(ScalarOpId::mul)}, {kFastRun},
           "(g/sm - sum(g/sm * sm)) * sm -> g - sm * sum(g), sm = softmax(z) (the gradient of log(softmax(z)) "
           "without dividing by an underflowed sm)",
           [](FunctionGraph&, ApplyNode& n) { return log_softmax_grad(n); });
  db.local("log_softmax", Phase::Stabilize, {key(ScalarOpId::log)}, {kFastRun},
           "log(softmax(x, axis)) -> log_softmax(x, axis) (x - max - log(sum(exp(x - max))): no log of 0)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             auto* s = op_of<Softmax>(n.inputs[0]);
             if (!s || s->is_log()) return {};
             return {log_softmax(n.inputs[0].owner()->inputs[0], s->axis())};
           });
  db.local("softmax_crossentropy_1hot", Phase::Stabilize, {key<CrossentropyCategorical1Hot>()},
           {kFastRun},
           "crossentropy_categorical_1hot(softmax(z), y) -> SoftmaxCrossentropy1Hot(z, y) "
           "(-log_softmax(z)[y] from the logits: finite where softmax underflows)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             Var z = softmax_input(n.inputs[0], false);
             if (!z.defined()) return {};
             return {softmax_crossentropy_1hot(z, n.inputs[1], false)};
           });
  db.local("softmax_crossentropy_1hot_indexing", Phase::Stabilize,
           {key(ScalarOpId::neg), key<AdvancedSubtensor>()}, {kFastRun},
           "-log_softmax(z)[arange(n), y] -> SoftmaxCrossentropy1Hot{wrap}(z, y) (one fused, stable op)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             if (dynamic_cast<const AdvancedSubtensor*>(n.op.get())) return crossentropy_from_indexing(n, true);
             ApplyNode* inner = n.inputs[0].owner();
             if (!inner) return {};
             return crossentropy_from_indexing(*inner, false);
           });
  db.local("softmax_crossentropy_1hot_grad", Phase::Stabilize, {key(ScalarOpId::mul)}, {kFastRun},
           "softmax_grad(CrossentropyCategorical1HotGrad(g, sm, y), sm) -> (sm - onehot(y)) * g[..., None] "
           "(no division by an underflowed sm[y])",
           [](FunctionGraph&, ApplyNode& n) { return crossentropy_grad(n); });
}

}  // namespace theon::detail
