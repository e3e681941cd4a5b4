// Rewrites of Scan nodes:
//   scan_hoist_invariants  inner nodes that read only non-sequences and
//                          constants are computed once, before the loop;
//   scan_pushout_seq_elemwise  an inner elementwise node (or a product
//                          x_t . W) reading only the slices of one sequence,
//                          non-sequences and constants becomes one vectorized
//                          op on the whole sequence (X . W: one matrix
//                          product), whose rows the loop reads as a new sequence;
//   scan_save_mem          a trace read only at its last k steps (x[-k] with
//                          constant k, or not read at all) is stored in a
//                          ring of max(k, taps) rows instead of n_steps rows.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "theon/ops/blas.h"
#include "theon/ops/scan.h"
#include "theon/ops/shape.h"
#include "theon/ops/subtensor.h"
#include "theon/rewrite/rewriter.h"

namespace theon {

namespace {

struct Parts {
  ScanInfo info;
  std::vector<Var> inner_in, inner_out, outer_in;
};

Parts parts_of(const ApplyNode& n) {
  const auto& op = static_cast<const Scan&>(*n.op);
  return {op.info(), op.inner_inputs(), op.inner_outputs(), n.inputs};
}

std::vector<Var> rebuild(Parts p) {
  return apply_scan(std::move(p.info), std::move(p.inner_in), std::move(p.inner_out), std::move(p.outer_in));
}

size_t first_nonseq_inner(const ScanInfo& I) { return size_t(I.n_inner_seq_inputs() + I.n_inner_rec_inputs()); }

// Inner variables computed only from non-sequences and constants (and reading at least one non-sequence).
std::vector<Var> invariant_frontier(const Parts& p) {
  const ScanInfo& I = p.info;
  std::unordered_set<const VariableNode*> inv;  // invariant inner variables
  size_t ns0 = first_nonseq_inner(I);
  for (size_t m = 0; m < size_t(I.n_nonseq); ++m) inv.insert(p.inner_in[ns0 + m].get());
  std::unordered_set<const ApplyNode*> hoist;
  for (ApplyNode* node : toposort(p.inner_out)) {
    bool all = true, reads_ns = false;
    for (const Var& v : node->inputs) {
      if (v.is_constant()) continue;
      if (!inv.count(v.get())) {
        all = false;
        break;
      }
      reads_ns = true;
    }
    if (!all || !reads_ns) continue;
    hoist.insert(node);
    for (size_t i = 0; i < node->outputs.size(); ++i) inv.insert(&node->outputs[i]);
  }
  // The frontier: hoisted variables read by a node that stays, or by the loop itself.
  std::vector<Var> out;
  std::unordered_set<const VariableNode*> seen;
  auto consider = [&](const Var& v) {
    if (v.owner() && hoist.count(v.owner()) && seen.insert(v.get()).second) out.push_back(v);
  };
  for (ApplyNode* node : toposort(p.inner_out))
    if (!hoist.count(node))
      for (const Var& v : node->inputs) consider(v);
  for (const Var& v : p.inner_out) consider(v);
  return out;
}

// The shapes of a sequence's rows and of a recurrent state are the same at
// every step (the loop checks the states'), so Shape_i / Shape of a per-step
// input becomes a non-sequence: the shape of the outer sequence or initial
// value without its leading axis. Gradient graphs are full of them.
bool hoist_row_shapes(Parts& p) {
  const ScanInfo& I = p.info;
  std::unordered_map<const VariableNode*, Var> outer_of;
  size_t at = 0;
  for (int i = 0; i < I.n_seq(); ++i)
    for (size_t t = 0; t < I.seq_taps[size_t(i)].size(); ++t) outer_of[p.inner_in[at++].get()] = p.outer_in[size_t(1 + i)];
  for (int k = 0; k < I.n_rec(); ++k)
    for (size_t t = 0; t < I.rec_taps[size_t(k)].size(); ++t)
      outer_of[p.inner_in[at++].get()] = p.outer_in[size_t(I.first_outer_init() + k)];
  std::vector<std::pair<Var, Var>> rep;
  for (ApplyNode* node : toposort(p.inner_out)) {
    if (node->inputs.size() != 1) continue;
    auto it = outer_of.find(node->inputs[0].get());
    if (it == outer_of.end()) continue;
    Var outer;
    if (auto* si = dynamic_cast<const ShapeI*>(node->op.get())) outer = shape_i(it->second, si->i() + 1);
    else if (dynamic_cast<const ShapeOp*>(node->op.get()))
      outer = subtensor(shape(it->second), {IndexItem::slice(1, std::nullopt)});
    else
      continue;
    Var ph = variable(node->output(0).type(), "row_shape");
    rep.push_back({node->output(0), ph});
    p.inner_in.push_back(ph);
    p.outer_in.push_back(outer);
    ++p.info.n_nonseq;
  }
  if (rep.empty()) return false;
  p.inner_out = clone_replace(p.inner_out, rep);
  return true;
}

std::vector<Var> hoist_invariants(FunctionGraph&, ApplyNode& n) {
  Parts p = parts_of(n);
  bool shapes = hoist_row_shapes(p);
  std::vector<Var> front = invariant_frontier(p);
  if (front.empty()) return shapes ? rebuild(std::move(p)) : std::vector<Var>{};
  size_t ns0 = first_nonseq_inner(p.info);
  std::vector<std::pair<Var, Var>> to_outer, to_inner;
  for (int m = 0; m < p.info.n_nonseq; ++m)
    to_outer.push_back({p.inner_in[ns0 + size_t(m)], p.outer_in[size_t(p.info.first_outer_nonseq() + m)]});
  std::vector<Var> outer = clone_replace(front, to_outer);
  for (size_t k = 0; k < front.size(); ++k) {
    Var ph = variable(front[k].type(), front[k].name());
    to_inner.push_back({front[k], ph});
    p.inner_in.push_back(ph);
    p.outer_in.push_back(outer[k]);
  }
  p.info.n_nonseq += int(front.size());
  p.inner_out = clone_replace(p.inner_out, to_inner);
  return rebuild(std::move(p));
}

// One inner Elemwise node reading the slices of a single sequence plus invariants.
std::vector<Var> pushout_seq_elemwise(FunctionGraph&, ApplyNode& n) {
  Parts p = parts_of(n);
  const ScanInfo& I = p.info;
  // inner slice placeholder -> (sequence, tap)
  std::unordered_map<const VariableNode*, std::pair<int, int>> slice_of;
  size_t at = 0;
  for (int i = 0; i < I.n_seq(); ++i)
    for (int tap : I.seq_taps[size_t(i)]) slice_of[p.inner_in[at++].get()] = {i, tap};
  size_t ns0 = first_nonseq_inner(I);
  std::unordered_map<const VariableNode*, int> nonseq_of;
  for (int m = 0; m < I.n_nonseq; ++m) nonseq_of[p.inner_in[ns0 + size_t(m)].get()] = m;

  for (ApplyNode* node : toposort(p.inner_out)) {
    auto* ew = dynamic_cast<const Elemwise*>(node->op.get());
    bool is_dot = dynamic_cast<const Dot*>(node->op.get()) != nullptr;
    bool is_matmul = dynamic_cast<const MatMul*>(node->op.get()) != nullptr;
    if (!(ew && ew->inplace_input() < 0) && !is_dot && !is_matmul) continue;
    int seq = -1;
    bool ok = true;
    for (const Var& v : node->inputs) {
      if (v.is_constant() || nonseq_of.count(v.get())) continue;
      auto it = slice_of.find(v.get());
      if (it == slice_of.end() || (seq >= 0 && it->second.first != seq)) {
        ok = false;
        break;
      }
      seq = it->second.first;
    }
    if (!ok || seq < 0) continue;
    // Products: x_t . W -> X . W (and W . x_t -> X . W^T), one matrix product
    // for the whole sequence; only where stacking the rows keeps the result's rows.
    if (is_dot || is_matmul) {
      const Var &a = node->inputs[0], &b = node->inputs[1];
      bool a_row = slice_of.count(a.get()) > 0, b_row = slice_of.count(b.get()) > 0;
      bool fits = a_row && !b_row && a.ndim() >= 1 && b.ndim() >= 1 && (is_dot || b.ndim() <= 2);
      bool fits_t = is_dot && b_row && !a_row && b.ndim() == 1 && a.ndim() == 2;
      if (!fits && !fits_t) continue;
    }
    const auto& taps = I.seq_taps[size_t(seq)];
    int lo = std::min(0, *std::min_element(taps.begin(), taps.end()));
    int hi = std::max(0, *std::max_element(taps.begin(), taps.end()));
    const Var& X = p.outer_in[size_t(1 + seq)];
    Var out_inner = node->output(0);
    int R = out_inner.ndim();
    std::vector<Var> outer_args;
    for (const Var& v : node->inputs) {
      if (v.is_constant()) {
        outer_args.push_back(v);
      } else if (auto it = nonseq_of.find(v.get()); it != nonseq_of.end()) {
        outer_args.push_back(p.outer_in[size_t(I.first_outer_nonseq() + it->second)]);
      } else {
        int tap = slice_of[v.get()].second;
        std::optional<int64_t> stop;
        if (hi - tap > 0) stop = -(hi - tap);
        Var w = subtensor(X, {IndexItem::slice(tap - lo, stop)});
        std::vector<int> order{0};
        for (int d = v.ndim(); d < R; ++d) order.push_back(-1);
        for (int d = 0; d < v.ndim(); ++d) order.push_back(1 + d);
        outer_args.push_back(v.ndim() < R && ew ? dimshuffle(w, order) : w);
      }
    }
    bool transposed = (is_dot || is_matmul) && !slice_of.count(node->inputs[0].get());
    Var outer = transposed ? dot(outer_args[1], transpose(outer_args[0])) : theon::apply(node->op, outer_args)[0];
    // The new sequence has the windows' length, so the number of steps is unchanged.
    Var ph = variable(out_inner.type(), out_inner.name());
    size_t n_seq_in = size_t(I.n_inner_seq_inputs());
    p.inner_out = clone_replace(p.inner_out, {{out_inner, ph}});
    p.inner_in.insert(p.inner_in.begin() + std::ptrdiff_t(n_seq_in), ph);
    p.outer_in.insert(p.outer_in.begin() + 1 + I.n_seq(), outer);
    p.info.seq_taps.push_back({0});
    return rebuild(std::move(p));
  }
  return {};
}

// The constant k of a client reading x[-k, ...], or 0.
int64_t last_steps_read(const Client& c) {
  if (!c.node) return 0;  // a graph output: every step is returned
  auto* st = dynamic_cast<const Subtensor*>(c.node->op.get());
  if (!st || c.index != 0 || st->pattern().empty() || st->pattern()[0].kind != IndexEntry::Kind::Int) return 0;
  const Var& idx = c.node->inputs[1];
  if (!idx.is_constant()) return 0;
  int64_t i = idx.constant_value().item_int();
  return i < 0 ? -i : 0;
}

int save_mem(FunctionGraph& fg) {
  int changed = 0;
  std::vector<ApplyNode*> scans;
  for (ApplyNode* n : fg.toposort())
    if (dynamic_cast<const Scan*>(n->op.get())) scans.push_back(n);
  for (ApplyNode* n : scans) {
    if (!fg.contains(n)) continue;
    auto* op = static_cast<const Scan*>(n->op.get());
    const ScanInfo& I = op->info();
    std::vector<int64_t> store = I.store_steps;
    bool smaller = false;
    for (int k = 0; k < I.n_traces(); ++k) {
      Var out = n->output(k);
      int64_t need = 1;  // nothing reads it: keep the minimum
      if (fg.is_output(out)) need = 0;
      for (const Client& c : fg.clients(out)) {
        int64_t r = last_steps_read(c);
        if (r == 0) {
          need = 0;
          break;
        }
        need = std::max(need, r);
      }
      int64_t cur = store[size_t(k)];
      if (need != 0 && (cur == 0 || need < cur)) {
        store[size_t(k)] = need;
        smaller = true;
      }
    }
    if (!smaller) continue;
    auto nop = op->with_store_steps(store);
    std::vector<Var> outs = theon::apply(nop, n->inputs);
    std::vector<std::pair<Var, Var>> pairs;
    for (size_t k = 0; k < outs.size(); ++k) {
      Var old = n->output(int(k));
      bool shortened = int(k) < I.n_traces() && store[k] != I.store_steps[k];
      if (!shortened) {
        if (!fg.clients(old).empty() || fg.is_output(old)) pairs.push_back({old, outs[k]});
        continue;
      }
      // Readers of the last steps index the shorter trace from its end, as before.
      for (const Client& c : fg.clients(old)) {
        std::vector<Var> ins = c.node->inputs;
        ins[0] = outs[k];
        pairs.push_back({c.node->output(0), theon::apply(c.node->op, ins)[0]});
      }
    }
    fg.replace_all(pairs, "scan_save_mem");
    ++changed;
  }
  return changed;
}

}  // namespace

void register_scan_rewrites(RewriteDB& db) {
  db.local("scan_hoist_invariants", Phase::Canonicalize, {key<Scan>()}, {kFastRun, "scan"},
           "scan step computing f(non_sequences) -> f computed once before the loop", hoist_invariants);
  db.local("scan_pushout_seq_elemwise", Phase::Canonicalize, {key<Scan>()}, {kFastRun, "scan"},
           "elementwise f(x[t], non_sequences) or x[t] . W in the step -> f(x) / x . W on the whole sequence, read row by row",
           pushout_seq_elemwise);
  db.global("scan_save_mem", Phase::Specialize, {kFastRun, "scan"},
            "scan trace read only as out[-k] -> a ring of k rows (O(taps) memory instead of O(n_steps))",
            save_mem);
}

}  // namespace theon
