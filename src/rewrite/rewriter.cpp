// The rewrite database, queries, and the driver that runs phases to a fixed point.
#include "theon/rewrite/rewriter.h"

#include <chrono>
#include <deque>
#include <stdexcept>

#include "theon/ops/scan.h"

namespace theon {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::Merge: return "merge";
    case Phase::Canonicalize: return "canonicalize";
    case Phase::Stabilize: return "stabilize";
    case Phase::Specialize: return "specialize";
    case Phase::Fusion: return "fusion";
    case Phase::Inplace: return "inplace";
  }
  return "?";
}

OpKey key(ScalarOpId id) { return OpKey{typeid(Elemwise), int(id)}; }

void RewriteDB::add(RewriteInfo r) {
  if (find(r.name)) throw std::logic_error("rewrite '" + r.name + "' is registered twice");
  if (!r.local == !r.global) throw std::logic_error("rewrite '" + r.name + "' must be either local or global");
  r.tags.push_back(phase_name(r.phase));
  rewrites_.push_back(std::move(r));
}

void RewriteDB::local(std::string name, Phase phase, std::vector<OpKey> tracks, std::vector<std::string> tags,
                      std::string doc, LocalFn fn) {
  RewriteInfo r{std::move(name), phase, std::move(tags), std::move(tracks), std::move(fn), nullptr, std::move(doc)};
  add(std::move(r));
}

void RewriteDB::global(std::string name, Phase phase, std::vector<std::string> tags, std::string doc, GlobalFn fn) {
  RewriteInfo r{std::move(name), phase, std::move(tags), {}, nullptr, std::move(fn), std::move(doc)};
  add(std::move(r));
}

const RewriteInfo* RewriteDB::find(const std::string& name) const {
  for (const auto& r : rewrites_)
    if (r.name == name) return &r;
  return nullptr;
}

// Every rewrite theon has, registered in one place, phase by phase.
RewriteDB& rewrite_db() {
  static RewriteDB db = [] {
    RewriteDB d;
    register_merge_rewrites(d);
    register_constant_folding(d);
    register_canonicalize_rewrites(d);
    register_inline_rewrites(d);
    register_scan_rewrites(d);
    register_stabilize_rewrites(d);
    register_specialize_rewrites(d);
    register_fusion_rewrites(d);
    register_inplace_rewrites(d);
    return d;
  }();
  return db;
}

bool RewriteQuery::selects(const RewriteInfo& r) const {
  auto has = [&](const std::set<std::string>& s) {
    if (s.count(r.name)) return true;
    for (const auto& t : r.tags)
      if (s.count(t)) return true;
    return false;
  };
  if (!has(include) || has(exclude)) return false;
  for (const auto& t : require) {
    bool found = r.name == t;
    for (const auto& rt : r.tags) found |= rt == t;
    if (!found) return false;
  }
  return true;
}

namespace {

// Keeps the driver's worklist fed: imported nodes and the readers of replaced variables.
class Worklist : public FgraphFeature {
 public:
  std::deque<ApplyNode*> queue;
  void push(ApplyNode* n) { queue.push_back(n); }
  void on_import(FunctionGraph&, ApplyNode* n) override { push(n); }
  void on_replace(FunctionGraph& fg, const Var&, const Var& repl, const std::string&) override {
    for (const auto& c : fg.clients(repl))
      if (c.node) push(c.node);
  }
};

std::string node_str(const ApplyNode& n) {
  std::string s = n.op->name() + "(";
  for (size_t i = 0; i < n.inputs.size(); ++i) s += (i ? ", " : "") + n.inputs[i].type().str();
  return s + ")";
}

// Applies one local rewrite to `node`; true when it changed the graph.
bool try_local(FunctionGraph& fg, ApplyNode& node, const RewriteInfo& r, RewriteStats& stats) {
  std::vector<Var> repl;
  std::vector<std::pair<Var, Var>> pairs;
  try {
    repl = r.local(fg, node);
    if (repl.empty()) return false;
    if (repl.size() != node.outputs.size())
      throw std::logic_error("returned " + std::to_string(repl.size()) + " replacements for " +
                             std::to_string(node.outputs.size()) + " outputs");
    for (size_t i = 0; i < repl.size(); ++i) {
      if (!repl[i].defined()) continue;
      Var old = node.output(int(i));
      if (repl[i].is(old)) continue;
      Var fitted = fit_like(repl[i], old);
      if (!compatible_types(fitted.type(), old.type()))
        throw std::logic_error("replaced " + old.type().str() + " with incompatible " + repl[i].type().str());
      pairs.push_back({old, fitted});
    }
  } catch (const std::exception& e) {
    // A rewrite that cannot build its replacement declines; the graph is unchanged.
    stats.warnings.push_back("rewrite '" + r.name + "' failed on " + node_str(node) + ": " + e.what());
    return false;
  }
  if (pairs.empty()) return false;
  fg.replace_all(pairs, r.name);
  ++stats.applied[r.name];
  return true;
}

void run_local_phase(FunctionGraph& fg, const std::vector<const RewriteInfo*>& rewrites, RewriteStats& stats,
                     Phase phase) {
  if (rewrites.empty()) return;
  std::map<OpKey, std::vector<const RewriteInfo*>> by_key;
  std::vector<const RewriteInfo*> every;
  for (const RewriteInfo* r : rewrites) {
    if (r->tracks.empty()) every.push_back(r);
    for (const OpKey& k : r->tracks) by_key[k].push_back(r);
  }
  auto wl = std::make_shared<Worklist>();
  for (ApplyNode* n : fg.toposort()) wl->push(n);
  fg.add_feature(wl);
  const size_t limit = 50 * (fg.num_nodes() + 100);
  size_t steps = 0;
  std::vector<const RewriteInfo*> cands;
  while (!wl->queue.empty()) {
    ApplyNode* n = wl->queue.front();
    wl->queue.pop_front();
    if (!fg.contains(n)) continue;
    if (++steps > limit) {
      stats.warnings.push_back(std::string("phase ") + phase_name(phase) +
                               " stopped before reaching a fixed point (rewrites keep undoing each other)");
      break;
    }
    cands.clear();
    const Op& op = *n->op;
    auto add = [&](const OpKey& k) {
      auto it = by_key.find(k);
      if (it != by_key.end()) cands.insert(cands.end(), it->second.begin(), it->second.end());
    };
    std::type_index t = typeid(op);
    add(OpKey{t, -1});
    if (auto* e = dynamic_cast<const Elemwise*>(&op)) add(OpKey{t, int(e->scalar_op())});
    cands.insert(cands.end(), every.begin(), every.end());
    for (const RewriteInfo* r : cands) {
      if (try_local(fg, *n, *r, stats)) {
        if (fg.contains(n)) wl->push(n);
        break;
      }
    }
  }
  fg.remove_feature(wl.get());
}

}  // namespace

RewriteStats optimize(FunctionGraph& fg, const RewriteQuery& query) {
  auto t0 = std::chrono::steady_clock::now();
  RewriteStats stats;
  stats.nodes_before = fg.num_nodes();
  const auto& db = rewrite_db();
  const RewriteInfo* merge = db.find("merge");
  bool merging = merge && query.selects(*merge);
  for (Phase p : {Phase::Merge, Phase::Canonicalize, Phase::Stabilize, Phase::Specialize, Phase::Fusion,
                  Phase::Inplace}) {
    std::vector<const RewriteInfo*> locals, globals;
    for (const auto& r : db.all())
      if (r.phase == p && query.selects(r)) (r.local ? locals : globals).push_back(&r);
    if (locals.empty() && globals.empty()) continue;
    run_local_phase(fg, locals, stats, p);
    for (const RewriteInfo* g : globals) {
      int n = g->global(fg);
      if (n > 0) stats.applied[g->name] += n;
    }
    // Rewrites make equal subexpressions; merge them before the next phase.
    if (merging && p != Phase::Merge && p != Phase::Inplace) {
      int n = merge_pass(fg);
      if (n > 0) stats.applied["merge"] += n;
    }
  }
  stats.nodes_after = fg.num_nodes();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace theon
