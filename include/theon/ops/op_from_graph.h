// theon/ops/op_from_graph.h — a subgraph packaged as one op (Theano's OpFromGraph).
//
//   Var x = vector(DType::Float64), y = vector(DType::Float64);
//   auto op = op_from_graph({x, y}, {x * y + exp(x)});
//   Var z = (*op)({a, b})[0];          // one node computing a * b + exp(a)
//
// The inner graph may read shared variables and constants besides its inputs.
// The op's gradient is the inner graph's gradient; its static output types
// are the inner outputs' types adapted to the actual inputs. FAST_RUN inlines
// it (rewrite "inline_op_from_graph"), so the optimizer sees through it;
// other modes run it as a unit, compiling the inner graph once.
#pragma once
#include <memory>
#include <mutex>

#include "theon/compile/function.h"
#include "theon/graph/node.h"

namespace theon {

class OpFromGraph : public Op, public std::enable_shared_from_this<OpFromGraph> {
 public:
  OpFromGraph(std::vector<Var> inputs, std::vector<Var> outputs, std::string name = "");
  std::string name() const override { return name_.empty() ? "OpFromGraph" : "OpFromGraph{" + name_ + "}"; }
  std::string props() const override { return std::to_string(id_); }
  THEON_OP_OVERRIDES
  const std::vector<Var>& inner_inputs() const { return inputs_; }
  const std::vector<Var>& inner_outputs() const { return outputs_; }
  // The inner graph with its inputs replaced by `actual` (what inlining builds).
  std::vector<Var> expand(const std::vector<Var>& actual) const;
  std::vector<Var> operator()(const std::vector<Var>& actual) const;

 private:
  std::vector<Var> inputs_, outputs_;
  std::string name_;
  uint64_t id_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<Function> fn_;
};

std::shared_ptr<OpFromGraph> op_from_graph(std::vector<Var> inputs, std::vector<Var> outputs, std::string name = "");

}  // namespace theon
