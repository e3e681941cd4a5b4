// theon/ops/ifelse.h — lazy conditional: ifelse(cond, then, else).
//
// ifelse evaluates only the branch it takes: a compiled function runs the
// nodes that feed the other branch only if something else needs them. The
// condition is a scalar (any numeric or bool dtype; nonzero is true); each
// branch is a list of variables of matching dtypes and ranks (then[i] and
// else[i] may differ in shape, so the output's static shape keeps only the
// dims both agree on). `switch_` (theon::where) stays elementwise and eager.
// The gradient sends each output's gradient to the branch taken and zeros to
// the other; the condition gets none.
#pragma once
#include "theon/graph/node.h"

namespace theon {

class IfElse : public Op {
 public:
  explicit IfElse(int n_outs) : n_(n_outs) {}
  std::string name() const override { return "IfElse"; }
  std::string props() const override { return std::to_string(n_); }
  int n_outs() const { return n_; }
  THEON_OP_OVERRIDES
  // Each output is a view of the input it passes through.
  std::vector<std::pair<int, int>> view_map() const override;

 private:
  int n_;
};

// Inputs of an IfElse node are (cond, then..., else...).
std::vector<Var> ifelse(const Var& cond, const std::vector<Var>& then_branch, const std::vector<Var>& else_branch);
Var ifelse(const Var& cond, const Var& then_branch, const Var& else_branch);

}  // namespace theon
