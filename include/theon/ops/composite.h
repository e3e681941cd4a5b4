// theon/ops/composite.h — a fused elementwise op running a scalar program.
//
// Elementwise fusion (src/rewrite/fusion.cpp) replaces a connected subgraph
// of Elemwise and Cast nodes by one Composite node. Its inputs are the
// subgraph's inputs (broadcast together as NumPy does); its scalar program
// is the subgraph's nodes, one instruction each, with the dtype every
// intermediate has in the unfused graph; its outputs are the values needed
// outside. It computes exactly what the unfused nodes compute (same compute
// dtypes, same conversions, float16/bfloat16 rounded once per instruction)
// in one pass over the output in blocks, keeping intermediates in small
// per-call scratch buffers instead of full-size arrays.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "theon/ops/elemwise.h"

namespace theon {

// One step of a scalar program: a table op, or a conversion to `to`.
struct ScalarInstr {
  bool is_cast = false;
  ScalarOpId op = ScalarOpId::identity;  // when !is_cast
  DType to = DType::Float64;             // when is_cast
  // Value indices: 0..n_inputs-1 are the program's inputs, n_inputs + j is instruction j.
  std::vector<int> args;
};

struct ScalarProgram {
  std::vector<DType> inputs;         // dtype of each input
  std::vector<ScalarInstr> instrs;   // in execution order; args refer to earlier values only
  std::vector<int> outputs;          // value indices the op returns, one output each
};

class Composite : public Op {
 public:
  // Validates the program (arities, operand order, dtypes each op supports)
  // and throws std::invalid_argument naming Composite when it is malformed.
  // inplace (empty, or one entry per output): the input whose buffer that
  // output may reuse, or -1. The buffer is reused only when, at run time,
  // nothing else holds it, it has the output's shape, dtype and C layout.
  explicit Composite(ScalarProgram program, std::vector<int> inplace = {});

  const ScalarProgram& program() const { return prog_; }
  const std::vector<int>& inplace() const { return inplace_; }
  int num_inputs() const { return int(prog_.inputs.size()); }
  // The dtype of value v (input or instruction), as the unfused graph has it.
  DType value_dtype(int v) const { return dtypes_[size_t(v)]; }
  // The program on one line: "(i0 * exp(i1)) + i2".
  const std::string& program_str() const { return text_; }

  std::string name() const override;
  std::string props() const override { return props_; }
  THEON_OP_OVERRIDES

 private:
  struct Plan;  // precomputed execution data (scratch slots, kernel dtypes)
  ScalarProgram prog_;
  std::vector<int> inplace_;
  std::vector<DType> dtypes_;
  std::vector<std::vector<int>> output_inputs_;  // per output: the inputs it depends on
  std::shared_ptr<const Plan> plan_;
  std::string text_, props_;
};

// Applies a Composite to `inputs` (one Var per output of the program).
std::vector<Var> composite(ScalarProgram program, std::vector<Var> inputs);

}  // namespace theon
