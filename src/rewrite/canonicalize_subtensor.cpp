// Basic indexing simplified: x[a:b][c:d] -> x[merged slice], x[a:b][i] ->
// x[a + i*step], and x[:] -> x.
//
// Merging is exact, IndexError included: slices with constant bounds are
// composed when the indexed dim has a static length (any signs and steps), or
// when bounds are non-negative and steps positive (then no bound depends on
// the length); an integer index of a slice is merged only when it provably
// stays inside the slice. A full slice `:` composes with anything, symbolic
// bounds included.
#include <algorithm>

#include "canonicalize_internal.h"
#include "theon/ops/subtensor.h"
#include "theon/ops/shape.h"

namespace theon::detail {

namespace {

// The items of a basic index node (no newaxis); nullopt for anything else.
std::optional<std::vector<IndexItem>> items_of(const ApplyNode& n) {
  auto* st = dynamic_cast<const Subtensor*>(n.op.get());
  if (!st) return std::nullopt;
  std::vector<IndexItem> r;
  size_t k = 1;
  for (const IndexEntry& e : st->pattern()) {
    if (e.kind == IndexEntry::Kind::Int) {
      r.push_back(IndexItem::integer(n.inputs[k++]));
    } else if (e.kind == IndexEntry::Kind::Slice) {
      Var a = e.has_start ? n.inputs[k++] : Var();
      Var b = e.has_stop ? n.inputs[k++] : Var();
      Var c = e.has_step ? n.inputs[k++] : Var();
      r.push_back(IndexItem::slice(a, b, c));
    } else {
      return std::nullopt;
    }
  }
  return r;
}

bool is_full(const IndexItem& it) {
  return it.kind == IndexItem::Kind::Slice && !it.start.defined() && !it.stop.defined() && !it.step.defined();
}

// A bound's constant value; `ok` turns false for a symbolic bound.
std::optional<int64_t> bound(const Var& v, bool& ok) {
  if (!v.defined()) return std::nullopt;
  auto c = static_int_scalar(v);
  if (!c) ok = false;
  return c;
}

struct ConstSlice {
  std::optional<int64_t> start, stop;
  int64_t step = 1;
};

std::optional<ConstSlice> const_slice(const IndexItem& it) {
  bool ok = true;
  ConstSlice s;
  s.start = bound(it.start, ok);
  s.stop = bound(it.stop, ok);
  s.step = bound(it.step, ok).value_or(1);
  if (!ok || s.step == 0) return std::nullopt;
  return s;
}

IndexItem make_slice(std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step) {
  return IndexItem::slice(start, stop, step == 1 ? std::nullopt : std::optional<int64_t>(step));
}

// outer applied to the result of inner (a slice) on a dim of static length n.
std::optional<IndexItem> compose_static(const ConstSlice& a, const IndexItem& outer, int64_t n) {
  int64_t st1 = a.start.value_or(0), sp1 = a.stop.value_or(0);
  const int64_t l1 = normalize_slice(n, &st1, &sp1, a.step, a.start.has_value(), a.stop.has_value());
  if (outer.kind == IndexItem::Kind::Int) {
    auto j = static_int_scalar(outer.value);
    if (!j) return std::nullopt;
    int64_t jj = *j < 0 ? *j + l1 : *j;
    if (jj < 0 || jj >= l1) return std::nullopt;  // out of range: the IndexError stays where it is
    return IndexItem::integer(st1 + a.step * jj);
  }
  auto b = const_slice(outer);
  if (!b) return std::nullopt;
  int64_t st2 = b->start.value_or(0), sp2 = b->stop.value_or(0);
  const int64_t l2 = normalize_slice(l1, &st2, &sp2, b->step, b->start.has_value(), b->stop.has_value());
  if (l2 == 0) return make_slice(0, 0, 1);
  const int64_t start = st1 + a.step * st2, step = a.step * b->step;
  const int64_t last = start + step * (l2 - 1);
  if (step > 0) return make_slice(start, last + 1, step);
  return make_slice(start, last >= 1 ? std::optional<int64_t>(last - 1) : std::nullopt, step);
}

// a + k * b, or nullopt on int64 overflow.
std::optional<int64_t> affine(int64_t a, int64_t k, int64_t b) {
  int64_t p = 0, r = 0;
  if (__builtin_mul_overflow(k, b, &p) || __builtin_add_overflow(a, p, &r)) return std::nullopt;
  return r;
}

// The same without the length: non-negative bounds, positive steps.
std::optional<IndexItem> compose_nonneg(const ConstSlice& a, const IndexItem& outer) {
  auto nonneg = [](const ConstSlice& s) {
    return s.step > 0 && s.start.value_or(0) >= 0 && s.stop.value_or(0) >= 0;
  };
  if (!nonneg(a)) return std::nullopt;
  const int64_t a1 = a.start.value_or(0), k1 = a.step;
  if (outer.kind == IndexItem::Kind::Int) {
    auto j = static_int_scalar(outer.value);
    if (!j || *j < 0) return std::nullopt;
    auto i = affine(a1, k1, *j);
    // Inside [a1, stop) the slice's j-th element exists exactly when x has element i.
    if (!i || (a.stop && *i >= *a.stop)) return std::nullopt;
    return IndexItem::integer(*i);
  }
  auto b = const_slice(outer);
  if (!b || !nonneg(*b)) return std::nullopt;
  auto start = affine(a1, k1, b->start.value_or(0)), step = affine(0, k1, b->step);
  if (!start || !step) return std::nullopt;
  std::optional<int64_t> stop = a.stop;
  if (b->stop) {
    // Past the end of x is as good as the end: clamp instead of overflowing.
    int64_t end = affine(a1, k1, *b->stop).value_or(INT64_MAX);
    stop = std::min(a.stop.value_or(INT64_MAX), end);
  }
  return make_slice(*start, stop, *step);
}

std::optional<IndexItem> compose(const IndexItem& inner, const IndexItem& outer, int64_t n) {
  if (is_full(outer)) return inner;
  if (is_full(inner)) return outer;
  auto a = const_slice(inner);
  if (!a) return std::nullopt;
  if (n != kUnknownDim) return compose_static(*a, outer, n);
  return compose_nonneg(*a, outer);
}

std::vector<Var> merge_subtensors(FunctionGraph&, ApplyNode& n) {
  ApplyNode* in = n.inputs[0].owner();
  if (!in) return {};
  auto outer = items_of(n);
  auto inner = items_of(*in);
  if (!outer || !inner) return {};
  const Var& x = in->inputs[0];
  std::vector<IndexItem> merged;
  size_t oi = 0;
  for (int d = 0; d < x.ndim(); ++d) {
    IndexItem a = size_t(d) < inner->size() ? (*inner)[size_t(d)] : IndexItem::slice();
    if (a.kind == IndexItem::Kind::Int) {
      merged.push_back(a);
      continue;
    }
    IndexItem b = oi < outer->size() ? (*outer)[oi] : IndexItem::slice();
    ++oi;
    auto m = compose(a, b, x.type().shape[size_t(d)]);
    if (!m) return {};
    merged.push_back(*m);
  }
  while (!merged.empty() && is_full(merged.back())) merged.pop_back();
  return {subtensor(x, merged)};
}

// A slice that keeps the whole dim: `:`, or constant bounds covering a static length with step 1.
bool keeps_dim(const IndexItem& it, int64_t n) {
  if (is_full(it)) return true;
  if (it.kind != IndexItem::Kind::Slice || n == kUnknownDim) return false;
  auto s = const_slice(it);
  if (!s || s->step != 1) return false;
  int64_t st = s->start.value_or(0), sp = s->stop.value_or(0);
  return normalize_slice(n, &st, &sp, 1, s->start.has_value(), s->stop.has_value()) == n && (n == 0 || st == 0);
}

std::vector<Var> useless_subtensor(FunctionGraph&, ApplyNode& n) {
  auto items = items_of(n);
  if (!items) return {};
  const Var& x = n.inputs[0];
  for (size_t d = 0; d < items->size(); ++d)
    if (!keeps_dim((*items)[d], x.type().shape[d])) return {};
  return {x};
}

}  // namespace

void register_canonical_subtensor(RewriteDB& db) {
  db.local("subtensor_merge", Phase::Canonicalize, {key<Subtensor>()}, {kFastRun},
           "x[a:b:c][d:e:f] -> x[merged], x[a:b:c][i] -> x[a + i*c] (constant bounds, exact incl. IndexError; "
           "`:` with anything)",
           merge_subtensors);
  db.local("subtensor_useless", Phase::Canonicalize, {key<Subtensor>()}, {kFastRun},
           "x[:, 0:n] -> x (slices that keep every element)", useless_subtensor);
}

}  // namespace theon::detail
