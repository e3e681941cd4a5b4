// theon/ops/scan.h — symbolic loops (Theano's scan).
//
//   auto r = scan([&](const std::vector<Var>& a) {       // a = {x_t, h_tm1, w}
//                   return ScanStepResult{{tanh(a[1] * a[2] + a[0])}};
//                 },
//                 {ScanSequence{x}}, {ScanOutput{h0}}, {w});
//   Var h = r.outputs[0];                                 // (n_steps, ...) trace
//
// The step function is called once, on placeholder variables, to build the
// inner graph; the Scan op compiles that graph once (FAST_RUN) and runs it
// per step over reused value slots. Arguments of the step are, in order: the
// slices of every sequence (one per tap), the past values of every recurrent
// output (one per tap), then the non-sequences. A step returns its outputs,
// optionally updates of shared variables and an `until` condition.
//
// Sequences take taps (x[t + k]; negative and positive); recurrent outputs
// take negative taps, their initial value holding the past values
// (init[0] is h[-L] for L = -min(taps); taps {-1} take the state itself);
// outputs without `initial` are computed per step without recurrence.
// Shared variables read by the step become implicit non-sequences; shared
// variables it updates (explicitly, or through a default update such as a
// random stream's) become loop-carried state, and scan returns their final
// values as updates for function(updates=...) (a random stream's state also
// gets the loop's final state as its default update, so a function compiled
// without those updates still advances it). The gradient is a backward
// scan (backpropagation through time, truncated with truncate_gradient).
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "theon/compile/function.h"
#include "theon/graph/node.h"

namespace theon {

// A sequence iterated over its first axis; step t sees x[t + tap - min(taps, 0)].
struct ScanSequence {
  Var input;
  std::vector<int> taps{0};
};

// One output of the step. Without `initial` it is not recurrent (Theano's
// None in outputs_info). With `initial` and no taps, taps are {-1} and
// `initial` is the state itself; with taps, `initial` has a leading axis of
// at least -min(taps) past values.
struct ScanOutput {
  Var initial{};
  std::vector<int> taps{};
};

// What the step function returns.
struct ScanStepResult {
  std::vector<Var> outputs;
  Updates updates{};  // (shared variable, its new value after the step)
  Var until{};        // optional: stop after the step where this is true
};

struct ScanOptions {
  Var n_steps{};              // optional integer scalar (required without sequences)
  int truncate_gradient = -1;  // > 0: backpropagate through the last k steps only
  bool go_backwards = false;   // iterate the sequences from the end
  std::string name{};
  bool strict = false;         // the step may read no outer variable except the non-sequences and shared ones
};

struct ScanResult {
  std::vector<Var> outputs;  // one trace (n_steps, ...) per step output, in order
  Updates updates;           // (shared variable, value after the last step)
};

using ScanStepFn = std::function<ScanStepResult(const std::vector<Var>&)>;

// Builds the loop; see the header comment for the conventions.
ScanResult scan(const ScanStepFn& fn, const std::vector<ScanSequence>& sequences,
                const std::vector<ScanOutput>& outputs_info, const std::vector<Var>& non_sequences = {},
                const ScanOptions& options = {});

// The static description of a Scan node's layout.
//   outer inputs:  n_steps (int64; -1: from the sequences), sequences, recurrent initial
//                  buffers (leading axis of L = -min(taps) rows), non-sequences
//   outer outputs: recurrent traces, non-recurrent traces, then the final value of
//                  each shared state (the last `n_shared` recurrent outputs)
//   inner inputs:  one per sequence tap, one per recurrent tap, one per non-sequence
//   inner outputs: recurrent new values, non-recurrent values, then `until` if any
struct ScanInfo {
  std::vector<std::vector<int>> seq_taps;
  std::vector<std::vector<int>> rec_taps;  // negative, sorted ascending
  int n_nit = 0;
  int n_shared = 0;  // the last n_shared recurrent outputs are updated shared variables
  int n_nonseq = 0;
  bool has_until = false;
  // Per trace output (recurrent then non-recurrent): 0 keeps every step; k > 0
  // keeps only the last k (what the save-memory rewrite sets).
  std::vector<int64_t> store_steps;
  int truncate_gradient = -1;
  std::string name;
  // Per trace: its position among the step function's outputs (for messages).
  std::vector<int> user_index;

  int n_rec() const { return int(rec_taps.size()); }
  int n_seq() const { return int(seq_taps.size()); }
  int n_traces() const { return n_rec() + n_nit; }
  int n_inner_seq_inputs() const;
  int n_inner_rec_inputs() const;
  int first_outer_init() const { return 1 + n_seq(); }
  int first_outer_nonseq() const { return 1 + n_seq() + n_rec(); }
  int rec_len(int k) const { return -rec_taps[size_t(k)].front(); }
  std::string str() const;
  // "output j" as the user numbered the step's outputs.
  std::string output_desc(int trace) const;
};

class Scan : public Op {
 public:
  Scan(ScanInfo info, std::vector<Var> inner_inputs, std::vector<Var> inner_outputs);
  std::string name() const override { return info_.name.empty() ? "Scan" : "Scan{" + info_.name + "}"; }
  std::string props() const override { return info_.str() + "#" + std::to_string(id_); }
  THEON_OP_OVERRIDES
  const ScanInfo& info() const { return info_; }
  const std::vector<Var>& inner_inputs() const { return inner_inputs_; }
  const std::vector<Var>& inner_outputs() const { return inner_outputs_; }
  // The same loop with other storage decisions (the save-memory rewrite).
  std::shared_ptr<Scan> with_store_steps(std::vector<int64_t> store) const;

  struct Program;  // the compiled inner graph (scan_run.cpp)

 private:
  std::shared_ptr<Program> program() const;
  ScanInfo info_;
  std::vector<Var> inner_inputs_, inner_outputs_;
  uint64_t id_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<Program> program_;
};

// Applies a Scan op; checks the outer inputs against the inner graph.
std::vector<Var> apply_scan(ScanInfo info, std::vector<Var> inner_inputs, std::vector<Var> inner_outputs,
                            std::vector<Var> outer_inputs);

// Rewrites of Scan nodes (src/rewrite/scan_rewrites.cpp): loop-invariant
// hoisting, elementwise work on sequences pushed out of the loop, save-memory.
class RewriteDB;
void register_scan_rewrites(RewriteDB& db);

}  // namespace theon
