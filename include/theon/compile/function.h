// theon/compile/function.h — compiling graphs into callable functions.
//
// function(inputs, outputs, options) turns a symbolic graph into a Function:
// a flat program of op calls over numbered value slots, with values released
// as soon as their last reader has run. Calling it validates every argument
// (arity, dtype with safe casts only, rank, static shape), runs the program,
// then applies `updates` to shared variables all together — a call that fails
// leaves every shared variable as it was.
//
// For a CUDA device (FunctionOptions::device, config().device) the ops run
// through their device kernels on that device: arguments are uploaded where a
// device op first reads them, values stay on the device between device ops,
// outputs are downloaded at the end of the call (its only wait for the
// device), and the shared variables the function uses live on the device
// (graph/shared.h). docs/ARCHITECTURE.md describes placement and fallback.
#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "theon/backend/device.h"
#include "theon/compile/mode.h"
#include "theon/graph/node.h"

namespace theon {

namespace detail {
class DeviceProgram;
struct SlotValues;
}  // namespace detail

// A function input with Theano's In options.
struct In {
  Var variable;
  std::string name;            // keyword name; defaults to the variable's name
  std::optional<Array> value;  // default value when the argument is omitted
  bool borrow = false;
  bool mutable_ = false;
  std::optional<bool> allow_downcast;  // overrides the function's allow_input_downcast
  In(Var v) : variable(std::move(v)) {}  // NOLINT: implicit, so a Var list works as inputs
  In(Var v, std::string n, std::optional<Array> val = std::nullopt)
      : variable(std::move(v)), name(std::move(n)), value(std::move(val)) {}
};

// Thrown by a call for a bad argument (too many or missing, unknown keyword,
// wrong dtype (unsafe cast), rank or static shape), and by function() for an
// In default value of the wrong rank or shape. Python sees a TypeError,
// as in Theano; C++ callers may catch it as std::invalid_argument.
struct BadArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// Thrown by a DebugMode call when a rewrite changed a value (Theano's BadOptimization),
// and by a NanGuardMode call when an op produced NaN or Inf; the message names the rewrite or op.
struct BadOptimization : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct NanGuardError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown by a call when an op cannot allocate its result (Python: MemoryError);
// the message names the op that failed.
struct OutOfMemory : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Updates = std::vector<std::pair<Var, Var>>;  // (shared variable, new value)

struct FunctionOptions {
  Updates updates{};
  std::vector<std::pair<Var, Var>> givens{};  // (variable, replacement)
  Mode mode{};                                // default: config().mode
  std::string name{};
  bool allow_input_downcast = false;
  std::string on_unused_input{};  // "raise" | "warn" | "ignore"; "" -> config()
  std::optional<bool> profile{};  // nullopt -> config().profile
  bool no_default_updates = false;  // ignore shared variables' default updates
  std::string device{};  // "cpu" | "cuda" | "cuda:N"; "" -> config().device (backend/device.h)
};

struct OpProfile {
  std::string op;
  int64_t calls = 0;
  double seconds = 0;
  std::string kernel;  // the implementation the op reported (note_kernel), "" when none
};

// Whole-call figures of a profiling Function.
struct CallProfile {
  int64_t calls = 0;
  double seconds = 0;             // wall time inside calls, argument checks and updates included
  size_t peak_bytes = 0;          // the most bytes of buffers live at once above the call's start, any call
  size_t last_peak_bytes = 0;     // the same for the last call
};

// Host <-> device copies of a function compiled for a CUDA device, all calls
// so far: arguments and values crossing between device ops and ops run on the
// CPU, outputs, and first device uses of shared variables.
struct TransferStats {
  int64_t uploads = 0, downloads = 0;
  int64_t upload_bytes = 0, download_bytes = 0;
};

// DebugMode: one replacement the optimizer made, re-checked on every call.
struct RewriteCheck {
  std::string rewrite;
  Var before, after;
};

class Function {
 public:
  // Positional call: one array per input (defaults fill omitted trailing inputs).
  std::vector<Array> operator()(const std::vector<Array>& args);
  // General call: positional values (nullopt = use default) and keyword values.
  std::vector<Array> call(const std::vector<std::optional<Array>>& positional,
                          const std::map<std::string, Array>& keywords = {});

  const std::vector<In>& inputs() const { return inputs_; }
  // The outputs as compiled (after givens), followed by nothing else.
  const std::vector<Var>& outputs() const { return outputs_; }
  const Updates& updates() const { return updates_; }
  const std::string& name() const { return name_; }
  // Nodes in execution order.
  const std::vector<ApplyNode*>& nodes() const { return nodes_; }
  bool profiling() const { return profile_; }
  // The mode it was compiled in (FAST_RUN, FAST_COMPILE, None, DebugMode, NanGuardMode).
  const std::string& mode() const { return mode_; }
  // Which rewrites fired and how often, how long the optimizer took, node counts.
  const std::map<std::string, int>& rewrites_applied() const { return rewrite_stats_.applied; }
  const RewriteStats& rewrite_stats() const { return rewrite_stats_; }
  // Per-op profile (Theano's profile=True), slowest first, and whole-call
  // figures; printed like Theano's by profile_summary(). Calls from several
  // threads at once are safe: each call has its own value slots, shared
  // values are read and updates applied under a per-function lock.
  std::vector<OpProfile> profile() const;
  CallProfile call_profile() const;
  std::string profile_summary() const;
  // The device it runs on ("cpu" or "cuda:N").
  const Device& device() const { return device_; }
  // Its host <-> device copies (all zero for a CPU function).
  TransferStats transfer_stats() const;
  // The ops of a CUDA function that run on the CPU (config().allow_cpu_fallback).
  std::vector<std::string> cpu_fallback_ops() const;

 private:
  friend std::shared_ptr<Function> function(std::vector<In>, std::vector<Var>, FunctionOptions);
  friend class detail::DeviceProgram;
  struct Step {
    ApplyNode* node;
    std::vector<int> in_slots, out_slots;
    std::vector<int> release;  // slots whose last reader is this step
    std::vector<bool> move_in;  // per input: this step is the slot's only and last reader
  };
  void run_debug_checks(const std::vector<Array>& args) const;
  // `checked`: wait for each device step and raise its kernel error, naming it.
  void run_step(size_t k, detail::SlotValues& values, bool release, bool checked);
  void run_lazy(detail::SlotValues& values, bool checked);
  void run_program(detail::SlotValues& values, bool checked);
  void check_finite(const ApplyNode* node, int output, const Array& value) const;
  std::vector<In> inputs_;
  std::vector<Var> outputs_;
  Updates updates_;
  std::string name_, mode_;
  bool allow_downcast_ = false;
  bool profile_ = false;
  std::vector<ApplyNode*> nodes_;
  std::vector<Step> steps_;
  int num_slots_ = 0;
  std::vector<int> input_slots_;
  std::vector<std::pair<int, Array>> constant_slots_;
  std::vector<std::pair<int, Var>> shared_slots_;
  std::vector<int> output_slots_, update_slots_;
  std::vector<double> step_seconds_;
  std::vector<int64_t> step_calls_;
  std::vector<const char*> step_kernel_;
  CallProfile call_profile_;
  mutable std::mutex mu_;  // shared values in/out and profile counters
  RewriteStats rewrite_stats_;
  bool lazy_ = false;          // the graph has ifelse: run what the outputs demand
  std::vector<int> producer_;  // slot -> step computing it (-1: input, constant, shared)
  bool nan_guard_ = false;
  std::vector<RewriteCheck> debug_checks_;
  std::shared_ptr<Function> debug_fn_;  // evaluates every before/after pair, unoptimized
  Device device_;
  std::shared_ptr<detail::DeviceProgram> device_program_;  // null for the CPU
};

std::shared_ptr<Function> function(std::vector<In> inputs, std::vector<Var> outputs,
                                   FunctionOptions options = {});

// Evaluates `v` once (Theano's Variable.eval), with values for its inputs.
Array eval(const Var& v, const std::vector<std::pair<Var, Array>>& inputs = {});

}  // namespace theon
