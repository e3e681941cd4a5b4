// FunctionGraph: a private, mutable copy of a graph with client lists.
#include "theon/rewrite/fgraph.h"

#include <algorithm>
#include <stdexcept>

#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"

namespace theon {

namespace {
const std::vector<Client> kNoClients;
}

bool compatible_types(const TensorType& repl, const TensorType& old) {
  if (repl.dtype != old.dtype || repl.ndim() != old.ndim()) return false;
  for (int d = 0; d < old.ndim(); ++d)
    if (repl.shape[d] != kUnknownDim && old.shape[d] != kUnknownDim && repl.shape[d] != old.shape[d]) return false;
  return true;
}

Var fit_like(const Var& repl, const Var& old) {
  Var r = repl;
  if (r.ndim() < old.ndim()) {
    int extra = old.ndim() - r.ndim();
    for (int d = 0; d < extra; ++d)
      if (old.type().shape[d] != 1) return repl;  // cannot add a non-broadcastable axis
    std::vector<int> order(extra, -1);
    for (int d = 0; d < r.ndim(); ++d) order.push_back(d);
    r = dimshuffle(r, order);
  }
  if (r.dtype() != old.dtype()) r = cast(r, old.dtype());
  return r;
}

FunctionGraph::FunctionGraph(const std::vector<Var>& outputs) {
  std::unordered_map<const VariableNode*, Var> map;
  auto get = [&](const Var& v) {
    auto it = map.find(v.get());
    return it == map.end() ? v : it->second;
  };
  for (ApplyNode* n : theon::toposort(outputs)) {
    auto c = std::make_shared<ApplyNode>();
    c->self = c;
    c->op = n->op;
    for (const auto& in : n->inputs) c->inputs.push_back(get(in));
    c->outputs.resize(n->outputs.size());
    for (size_t i = 0; i < n->outputs.size(); ++i) {
      auto& o = c->outputs[i];
      o.type = n->outputs[i].type;
      o.name = n->outputs[i].name;
      o.kind = VarKind::Output;
      o.owner = c.get();
      o.index = int(i);
      o.id = next_variable_id();
      map[&n->outputs[i]] = c->output(int(i));
    }
    nodes_[c.get()] = c;
    for (size_t i = 0; i < c->inputs.size(); ++i) {
      const Var& in = c->inputs[i];
      add_client(in.get(), {c.get(), int(i)});
      if (!in.owner() && !in.is_constant() && !in.is_shared()) inputs_.insert(in.get());
    }
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    outputs_.push_back(get(outputs[i]));
    const Var& o = outputs_.back();
    add_client(o.get(), {nullptr, int(i)});
    if (!o.owner() && !o.is_constant() && !o.is_shared()) inputs_.insert(o.get());
  }
}

std::vector<ApplyNode*> FunctionGraph::toposort() const { return theon::toposort(outputs_); }

const std::vector<Client>& FunctionGraph::clients(const VariableNode* v) const {
  auto it = clients_.find(v);
  return it == clients_.end() ? kNoClients : it->second;
}
const std::vector<Client>& FunctionGraph::clients(const Var& v) const { return clients(v.get()); }

bool FunctionGraph::is_output(const Var& v) const {
  for (const auto& c : clients(v))
    if (!c.node) return true;
  return false;
}

void FunctionGraph::add_client(const VariableNode* v, Client c) { clients_[v].push_back(c); }

void FunctionGraph::remove_client(const VariableNode* v, Client c) {
  auto it = clients_.find(v);
  if (it == clients_.end()) return;
  auto& cs = it->second;
  auto pos = std::find(cs.begin(), cs.end(), c);
  if (pos != cs.end()) cs.erase(pos);
  if (cs.empty()) clients_.erase(it);
}

void FunctionGraph::remove_feature(const FgraphFeature* f) {
  features_.erase(std::remove_if(features_.begin(), features_.end(), [&](auto& p) { return p.get() == f; }),
                  features_.end());
}

void FunctionGraph::import_node(ApplyNode* n) {
  nodes_[n] = n->self.lock();
  imported_.insert(n);
  for (size_t i = 0; i < n->inputs.size(); ++i) add_client(n->inputs[i].get(), {n, int(i)});
  for (auto& f : features_) f->on_import(*this, n);
}

// Adds the nodes of v's graph that this graph does not have yet, inputs first.
void FunctionGraph::import_var(const Var& v, const std::string& reason) {
  auto check_leaf = [&](const Var& leaf) {
    if (leaf.owner() || leaf.is_constant() || leaf.is_shared() || inputs_.count(leaf.get())) return;
    throw std::logic_error("rewrite '" + reason + "' introduced variable '" + leaf.str() +
                           "', which is not an input of the graph");
  };
  if (!v.owner()) return check_leaf(v);
  if (nodes_.count(v.owner())) return;
  std::vector<std::pair<ApplyNode*, size_t>> stack{{v.owner(), 0}};
  std::unordered_set<ApplyNode*> seen{v.owner()};
  while (!stack.empty()) {
    auto& [n, next] = stack.back();
    if (next < n->inputs.size()) {
      const Var& in = n->inputs[next++];
      if (!in.owner()) check_leaf(in);
      else if (!nodes_.count(in.owner()) && seen.insert(in.owner()).second) stack.push_back({in.owner(), 0});
    } else {
      ApplyNode* done = n;
      stack.pop_back();
      import_node(done);
    }
  }
}

void FunctionGraph::prune_if_unused(ApplyNode* start) {
  std::vector<ApplyNode*> todo{start};
  while (!todo.empty()) {
    ApplyNode* n = todo.back();
    todo.pop_back();
    auto it = nodes_.find(n);
    if (it == nodes_.end()) continue;
    bool used = false;
    for (const auto& o : n->outputs) used |= clients_.count(&o) != 0;
    if (used) continue;
    std::shared_ptr<ApplyNode> keep = it->second;  // alive until its inputs are detached
    nodes_.erase(it);
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      remove_client(n->inputs[i].get(), {n, int(i)});
      if (n->inputs[i].owner()) todo.push_back(n->inputs[i].owner());
    }
    for (auto& f : features_) f->on_prune(*this, n);
  }
}

void FunctionGraph::replace(const Var& old, const Var& repl, const std::string& reason) {
  replace_all({{old, repl}}, reason);
}

void FunctionGraph::replace_all(const std::vector<std::pair<Var, Var>>& pairs, const std::string& reason) {
  for (const auto& [old, repl] : pairs) {
    if (!old.defined() || !repl.defined())
      throw std::logic_error("rewrite '" + reason + "' replaced with an undefined variable");
    if (!compatible_types(repl.type(), old.type()))
      throw std::logic_error("rewrite '" + reason + "' replaced " + old.str() + " (" + old.type().str() +
                             ") with " + repl.str() + " of incompatible type " + repl.type().str());
  }
  imported_.clear();
  for (const auto& p : pairs) import_var(p.second, reason);
  for (const auto& [old, repl] : pairs)
    for (const Client& c : clients(old))
      if (c.node && imported_.count(c.node)) {
        std::vector<ApplyNode*> fresh(imported_.begin(), imported_.end());
        for (ApplyNode* n : fresh) prune_if_unused(n);
        throw std::logic_error("rewrite '" + reason + "' replaced " + old.str() + " with an expression of itself");
      }
  std::vector<ApplyNode*> maybe_unused;
  for (const auto& [old, repl] : pairs) {
    if (old.is(repl)) continue;
    auto it = clients_.find(old.get());
    std::vector<Client> cs = it == clients_.end() ? std::vector<Client>{} : it->second;
    for (const Client& c : cs) {
      if (c.node) {
        c.node->inputs[c.index] = repl;
        c.node->shape_cache.reset();  // its shapes were expressed over the old input
        c.node->shape_uninferable = false;
      }
      else outputs_[c.index] = repl;
      remove_client(old.get(), c);
      add_client(repl.get(), c);
    }
    for (auto& f : features_) f->on_replace(*this, old, repl, reason);
    if (old.owner()) maybe_unused.push_back(old.owner());
  }
  for (ApplyNode* n : maybe_unused) prune_if_unused(n);
}

}  // namespace theon
