// elemwise_fusion: connected subgraphs of Elemwise and Cast nodes become one
// Composite node, which computes the whole subgraph in one pass over the
// output without full-size intermediates.
//
// Groups grow from a root (the last node of the group, visited in reverse
// topological order) towards the inputs. A producer joins when a group
// member is the only reader of its value (one read: a value read twice, as
// in t * t, stays outside), so no work is duplicated and no outside node
// depends on an inner value (which rules out cycles through the fused node);
// an inner value that is also a graph output becomes an extra output of the
// Composite. A producer joins only when its output has the
// root's broadcast pattern: fusing exp(row) into a matrix expression would
// compute exp once per element of the matrix instead of once per element of
// the row. Every node is visited once and every edge a bounded number of
// times, without recursion, so a chain of tens of thousands of nodes fuses
// in milliseconds.
#include <algorithm>
#include <unordered_map>

#include "theon/ops/composite.h"
#include "theon/rewrite/rewriter.h"

namespace theon {

namespace {

bool fusable(const ApplyNode* n) {
  if (n->outputs.size() != 1) return false;
  if (dynamic_cast<const Cast*>(n->op.get())) return n->inputs.size() == 1;
  const auto* e = dynamic_cast<const Elemwise*>(n->op.get());
  if (!e || e->inplace_input() >= 0) return false;
  std::vector<DType> ds;
  for (const Var& v : n->inputs) ds.push_back(v.dtype());
  // Elemwise compares int64 with uint64 exactly in a loop of its own.
  return !elemwise_is_exact_int_cmp(e->scalar_op(), ds);
}

// Same rank and the same statically-1 (broadcast) dims.
bool same_broadcast(const TensorType& a, const TensorType& b) {
  if (a.ndim() != b.ndim()) return false;
  for (int d = 0; d < a.ndim(); ++d)
    if ((a.shape[size_t(d)] == 1) != (b.shape[size_t(d)] == 1)) return false;
  return true;
}

// Builds the Composite of `members` (topological positions, ascending) and
// replaces the group's outputs; false when the fused node cannot be built.
bool fuse_group(FunctionGraph& fg, const std::vector<ApplyNode*>& order, const std::vector<int>& members,
                const std::vector<int>& group_of, int group, const std::unordered_map<const ApplyNode*, int>& pos) {
  auto in_group = [&](const Var& v) {
    if (!v.owner()) return false;
    auto it = pos.find(v.owner());
    return it != pos.end() && group_of[size_t(it->second)] == group;
  };
  ScalarProgram prog;
  std::vector<Var> inputs;
  std::unordered_map<const VariableNode*, int> value;  // variable -> value index in the program
  for (int m : members)
    for (const Var& v : order[size_t(m)]->inputs)
      if (!in_group(v) && value.emplace(v.get(), int(inputs.size())).second) {
        inputs.push_back(v);
        prog.inputs.push_back(v.dtype());
      }
  const int ni = int(inputs.size());
  std::vector<Var> olds;
  for (int m : members) {
    const ApplyNode* n = order[size_t(m)];
    ScalarInstr ins;
    if (const auto* c = dynamic_cast<const Cast*>(n->op.get())) {
      ins.is_cast = true;
      ins.to = c->to();
    } else {
      ins.op = static_cast<const Elemwise&>(*n->op).scalar_op();
    }
    for (const Var& v : n->inputs) ins.args.push_back(value.at(v.get()));
    Var out = n->output(0);
    value[out.get()] = ni + int(prog.instrs.size());
    prog.instrs.push_back(std::move(ins));
    if (m != members.back() && fg.is_output(out)) olds.push_back(out);
  }
  olds.insert(olds.begin(), order[size_t(members.back())]->output(0));  // the root first
  for (const Var& o : olds) prog.outputs.push_back(value.at(o.get()));
  std::vector<Var> news;
  try {
    news = theon::apply(std::make_shared<Composite>(std::move(prog)), inputs);
  } catch (const std::invalid_argument&) {
    return false;
  }
  std::vector<std::pair<Var, Var>> pairs;
  for (size_t k = 0; k < olds.size(); ++k) {
    if (!compatible_types(news[k].type(), olds[k].type())) return false;
    news[k].set_name(olds[k].name());  // debugprint shows the user's names
    pairs.push_back({olds[k], news[k]});
  }
  fg.replace_all(pairs, "elemwise_fusion");
  return true;
}

int fuse_elemwise(FunctionGraph& fg) {
  const std::vector<ApplyNode*> order = fg.toposort();
  const size_t n = order.size();
  std::unordered_map<const ApplyNode*, int> pos;
  pos.reserve(n);
  for (size_t i = 0; i < n; ++i) pos[order[i]] = int(i);
  std::vector<char> can(n), done(n, 0);
  std::vector<int> readers(n, 0);  // distinct nodes reading a fusable node's output (t*t reads t once)
  for (size_t i = 0; i < n; ++i) {
    can[i] = fusable(order[i]);
    if (!can[i]) continue;
    const ApplyNode* last = nullptr;
    for (const Client& c : fg.clients(&order[i]->outputs[0]))
      if (c.node && c.node != last) {
        bool seen = false;
        for (const Client& d : fg.clients(&order[i]->outputs[0])) {
          if (&d == &c) break;
          seen |= d.node == c.node;
        }
        readers[i] += !seen;
        last = c.node;
      }
  }
  std::vector<int> group_of(n, -1);  // the root of the group a node belongs to
  std::vector<int> members, stack;
  int fused = 0;
  for (int r = int(n) - 1; r >= 0; --r) {
    if (done[size_t(r)] || !can[size_t(r)]) continue;
    done[size_t(r)] = 1;
    group_of[size_t(r)] = r;
    const TensorType& root_type = order[size_t(r)]->outputs[0].type;
    members.assign(1, r);
    stack.assign(1, r);
    while (!stack.empty()) {
      int m = stack.back();
      stack.pop_back();
      for (const Var& v : order[size_t(m)]->inputs) {
        if (!v.owner()) continue;
        auto it = pos.find(v.owner());
        if (it == pos.end()) continue;
        int q = it->second;
        if (done[size_t(q)] || !can[size_t(q)]) continue;
        if (readers[size_t(q)] == 1 && same_broadcast(v.type(), root_type)) {
          done[size_t(q)] = 1;
          group_of[size_t(q)] = r;
          members.push_back(q);
          stack.push_back(q);
        }
      }
    }
    if (members.size() < 2) continue;
    std::sort(members.begin(), members.end());
    if (fuse_group(fg, order, members, group_of, r, pos)) ++fused;
  }
  return fused;
}

}  // namespace

void register_reduce_fusion(RewriteDB& db);  // fusion_reduce.cpp: runs after elemwise_fusion

void register_fusion_rewrites(RewriteDB& db) {
  db.global("elemwise_fusion", Phase::Fusion, {kFastRun, "fusion"},
            "connected Elemwise/Cast subgraph -> one Composite (one pass over memory, no full-size intermediates)",
            fuse_elemwise);
  register_reduce_fusion(db);
}

}  // namespace theon
