// theon/rewrite/fgraph.h — the mutable graph the optimizer works on.
//
// A FunctionGraph owns a private copy of a graph (every Apply node cloned,
// leaves — inputs, shared variables, constants — kept), so rewriting never
// touches the graph the user built. It knows the clients of every variable
// (which node reads it, or which output of the graph it is) and supports
// one mutation, `replace`: every use of a variable is redirected to another
// variable computing the same value. A replacement may be a new graph built
// from this graph's variables with the ordinary op constructors; its new
// nodes are imported, and nodes nothing reads any more are pruned.
//
// Features listen to those changes (the rewrite driver's worklist, DebugMode's
// history of replacements).
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "theon/graph/node.h"

namespace theon {

class FunctionGraph;

// Who reads a variable: input `index` of `node`, or (node == nullptr) output `index` of the graph.
struct Client {
  ApplyNode* node;
  int index;
  bool operator==(const Client&) const = default;
};

class FgraphFeature {
 public:
  virtual ~FgraphFeature() = default;
  virtual void on_import(FunctionGraph&, ApplyNode*) {}
  virtual void on_prune(FunctionGraph&, ApplyNode*) {}
  // `old` was replaced by `repl` (for every client at once) by rewrite `reason`.
  virtual void on_replace(FunctionGraph&, const Var& /*old*/, const Var& /*repl*/, const std::string& /*reason*/) {}
};

class FunctionGraph {
 public:
  // Clones the graph computing `outputs` (nodes copied, leaves shared).
  explicit FunctionGraph(const std::vector<Var>& outputs);
  FunctionGraph(const FunctionGraph&) = delete;
  FunctionGraph& operator=(const FunctionGraph&) = delete;

  const std::vector<Var>& outputs() const { return outputs_; }
  // Nodes in topological order (inputs before users).
  std::vector<ApplyNode*> toposort() const;
  size_t num_nodes() const { return nodes_.size(); }
  bool contains(const ApplyNode* node) const { return nodes_.count(const_cast<ApplyNode*>(node)) != 0; }
  // Readers of `v` (empty for a variable nothing in the graph reads).
  const std::vector<Client>& clients(const Var& v) const;
  const std::vector<Client>& clients(const VariableNode* v) const;
  // True when `v` is an output of the graph.
  bool is_output(const Var& v) const;

  // Redirects every use of `old` to `repl`. `repl` must have old's dtype and
  // rank and a static shape that does not contradict old's (use fit_like to
  // adapt a replacement). Throws std::logic_error naming `reason` otherwise,
  // or when repl's graph needs a symbolic input this graph does not have.
  void replace(const Var& old, const Var& repl, const std::string& reason);
  // Several replacements at once (the outputs of one node).
  void replace_all(const std::vector<std::pair<Var, Var>>& pairs, const std::string& reason);

  void add_feature(std::shared_ptr<FgraphFeature> f) { features_.push_back(std::move(f)); }
  void remove_feature(const FgraphFeature* f);

  // The symbolic inputs (leaves that are neither constants nor shared variables) the graph reads.
  const std::unordered_set<const VariableNode*>& symbolic_inputs() const { return inputs_; }

 private:
  void import_var(const Var& v, const std::string& reason);
  void import_node(ApplyNode* node);
  void prune_if_unused(ApplyNode* node);
  void add_client(const VariableNode* v, Client c);
  void remove_client(const VariableNode* v, Client c);

  std::vector<Var> outputs_;
  std::unordered_map<ApplyNode*, std::shared_ptr<ApplyNode>> nodes_;
  std::unordered_map<const VariableNode*, std::vector<Client>> clients_;
  std::unordered_set<const VariableNode*> inputs_;
  std::unordered_set<ApplyNode*> imported_;  // nodes the current replacement brought in
  std::vector<std::shared_ptr<FgraphFeature>> features_;
};

// Adapts a replacement to the type of the variable it replaces: casts to
// old's dtype and adds leading broadcastable axes when old has more (allowed
// only where old's extra axes are statically 1). Returns repl unchanged when
// the types already agree.
Var fit_like(const Var& repl, const Var& old);
// Whether `repl` may stand for `old`: same dtype and rank, and no static
// dimension known in both that differs.
bool compatible_types(const TensorType& repl, const TensorType& old);

}  // namespace theon
