// Compiling a graph into a Function: validation, slot assignment, liveness,
// and the call path with all-or-nothing shared-variable updates.
#include "theon/compile/function.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "device_program.h"
#include "theon/backend/cuda_codegen.h"
#include "theon/backend/device.h"
#include "theon/config.h"
#include "theon/runtime/allocator.h"
#include "theon/runtime/profiling.h"
#include "theon/graph/shared.h"
#include "theon/ops/ifelse.h"

namespace theon {

namespace {

std::string input_desc(const In& in, size_t i) {
  std::string n = !in.name.empty() ? in.name : in.variable.name();
  return "input " + std::to_string(i) + (n.empty() ? "" : " ('" + n + "')");
}

// Adds the op and node to a failing op's message, keeping the exception's type.
[[noreturn]] void rethrow_with_node(const ApplyNode* node) {
  std::string ctx = "\nApply node that caused the error: " + node->op->name() + "(";
  for (size_t i = 0; i < node->inputs.size(); ++i) ctx += (i ? ", " : "") + node->inputs[i].str();
  ctx += ")";
  try {
    throw;
  } catch (const std::out_of_range& e) {
    throw std::out_of_range(e.what() + ctx);
  } catch (const std::overflow_error& e) {
    throw std::overflow_error(e.what() + ctx);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(e.what() + ctx);
  } catch (const std::bad_alloc&) {
    throw OutOfMemory("out of memory" + ctx);
  } catch (const std::exception& e) {
    throw std::runtime_error(e.what() + ctx);
  }
}

// DebugMode: remembers every replacement, to re-check it on each call's inputs.
struct DebugHistory : FgraphFeature {
  std::vector<RewriteCheck> checks;
  void on_replace(FunctionGraph&, const Var& old, const Var& repl, const std::string& reason) override {
    checks.push_back({reason, old, repl});
  }
};

}  // namespace

std::shared_ptr<Function> function(std::vector<In> inputs, std::vector<Var> outputs,
                                   FunctionOptions opt) {
  const Device device = function_device(opt.device);  // a device that cannot run it fails here, naming why
  auto f = std::shared_ptr<Function>(new Function());
  f->name_ = opt.name;
  f->device_ = device;
  ResolvedMode mode = resolve_mode(opt.mode);
  // Device kernels never write into their inputs: the inplace variants of ops
  // would only be other names for the same kernels.
  if (device.kind == Device::Kind::CUDA && !mode.query.empty()) mode.query.exclude.insert("inplace");
  f->mode_ = mode.name;
  f->nan_guard_ = mode.nan_guard;
  f->allow_downcast_ = opt.allow_input_downcast;
  f->profile_ = opt.profile.value_or(config().profile);
  std::string on_unused = opt.on_unused_input.empty() ? config().on_unused_input : opt.on_unused_input;
  if (on_unused != "raise" && on_unused != "warn" && on_unused != "ignore")
    throw std::invalid_argument("function: on_unused_input must be 'raise', 'warn' or 'ignore', got '" + on_unused + "'");

  // Inputs must be distinct symbolic leaves.
  std::unordered_set<VariableNode*> input_set;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Var& v = inputs[i].variable;
    if (!v.defined()) throw std::invalid_argument("function: " + input_desc(inputs[i], i) + " is undefined");
    if (v.is_constant())
      throw std::invalid_argument("function: " + input_desc(inputs[i], i) +
                                  " is a constant; constants cannot be function inputs");
    if (v.is_shared())
      throw std::invalid_argument("function: " + input_desc(inputs[i], i) +
                                  " is a shared variable; shared variables cannot be function inputs (use givens)");
    if (v.owner())
      throw std::invalid_argument("function: " + input_desc(inputs[i], i) + " ('" + v.str() +
                                  "') is computed by an op; inputs must be symbolic leaves");
    if (!input_set.insert(v.get()).second)
      throw std::invalid_argument("function: " + input_desc(inputs[i], i) + " is given more than once");
    if (inputs[i].name.empty()) inputs[i].name = v.name();
    if (inputs[i].value) {
      try {
        inputs[i].value = v.type().filter(*inputs[i].value, true, "default value of " + input_desc(inputs[i], i));
      } catch (const std::invalid_argument& e) {
        throw BadArgument(e.what());
      }
    }
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!outputs[i].defined()) throw std::invalid_argument("function: output " + std::to_string(i) + " is undefined");

  // Explicit updates, then default updates of shared variables the graph uses.
  Updates updates;
  std::unordered_set<VariableNode*> updated;
  for (auto& [sv, val] : opt.updates) {
    if (!sv.defined() || !sv.is_shared())
      throw std::invalid_argument("function: update target '" + sv.str() + "' is not a shared variable");
    if (!val.defined()) throw std::invalid_argument("function: update of '" + sv.str() + "' is undefined");
    if (!updated.insert(sv.get()).second)
      throw std::invalid_argument("function: shared variable '" + sv.str() + "' is updated more than once");
    if (val.dtype() != sv.dtype() || val.ndim() != sv.ndim())
      throw std::invalid_argument("function: an update must have the same type as the shared variable '" +
                                  sv.str() + "': expected " + sv.type().str() + ", got " + val.type().str() +
                                  (val.ndim() == sv.ndim() ? " (cast the update expression)" : ""));
    updates.push_back({sv, val});
  }
  for (size_t k = 0; !opt.no_default_updates && k <= updates.size(); ++k) {
    std::vector<Var> roots = outputs;
    for (auto& u : updates) roots.push_back(u.second);
    bool added = false;
    for (const Var& leaf : graph_inputs(roots)) {
      Var du = default_update_of(leaf);
      if (du.defined() && !updated.count(leaf.get())) {
        updated.insert(leaf.get());
        updates.push_back({leaf, du});
        added = true;
      }
    }
    if (!added) break;
  }

  // Givens: substitute throughout outputs and update values.
  std::vector<Var> roots = outputs;
  for (auto& u : updates) roots.push_back(u.second);
  if (!opt.givens.empty()) {
    for (auto& [from, to] : opt.givens)
      if (!from.defined() || !to.defined()) throw std::invalid_argument("function: givens contain an undefined variable");
    roots = clone_replace(roots, opt.givens);
  }

  // Leaves must be inputs, constants or shared variables.
  std::unordered_set<VariableNode*> used;
  for (const Var& leaf : graph_inputs(roots)) {
    used.insert(leaf.get());
    if (leaf.is_constant() || leaf.is_shared() || input_set.count(leaf.get())) continue;
    throw std::invalid_argument("function: missing input: variable '" + leaf.str() + "' (" + leaf.type().str() +
                                ") is needed to compute the outputs but is not in the inputs list");
  }
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!used.count(inputs[i].variable.get())) {
      std::string msg = "function: " + input_desc(inputs[i], i) +
                        " is not used to compute any output (pass on_unused_input='ignore' to allow this)";
      if (on_unused == "raise") throw std::invalid_argument(msg);
      if (on_unused == "warn") std::cerr << "UserWarning: " << msg << "\n";
    }
  f->inputs_ = std::move(inputs);

  // Optimize a private copy of the graph; the user's graph is never touched.
  if (!mode.query.empty()) {
    FunctionGraph fg(roots);
    std::shared_ptr<DebugHistory> history;
    if (mode.debug) {
      history = std::make_shared<DebugHistory>();
      fg.add_feature(history);
    }
    f->rewrite_stats_ = optimize(fg, mode.query);
    roots = fg.outputs();
    if (history) f->debug_checks_ = std::move(history->checks);
  }
  f->outputs_.assign(roots.begin(), roots.begin() + outputs.size());
  for (size_t i = 0; i < updates.size(); ++i) f->updates_.push_back({updates[i].first, roots[outputs.size() + i]});
  if (!f->debug_checks_.empty()) {
    std::vector<In> dins;
    for (const auto& in : f->inputs_) dins.emplace_back(in.variable);
    std::vector<Var> douts;
    for (const auto& c : f->debug_checks_) {
      douts.push_back(c.before);
      douts.push_back(c.after);
    }
    FunctionOptions dopt;
    dopt.mode = "None";
    dopt.on_unused_input = "ignore";
    dopt.no_default_updates = true;
    dopt.allow_input_downcast = true;
    dopt.device = "cpu";
    f->debug_fn_ = function(dins, douts, dopt);
  }

  // Slots: one per variable, assigned in execution order.
  f->nodes_ = toposort(roots);
  std::unordered_map<VariableNode*, int> slot;
  auto slot_of = [&](const Var& v) {
    auto [it, fresh] = slot.try_emplace(v.get(), f->num_slots_);
    if (fresh) {
      ++f->num_slots_;
      if (v.is_constant()) f->constant_slots_.push_back({it->second, v.constant_value()});
      else if (v.is_shared()) f->shared_slots_.push_back({it->second, v});
    }
    return it->second;
  };
  for (const auto& in : f->inputs_) f->input_slots_.push_back(slot_of(in.variable));
  for (ApplyNode* n : f->nodes_) {
    Function::Step s{n, {}, {}, {}, {}};
    for (const auto& v : n->inputs) s.in_slots.push_back(slot_of(v));
    for (size_t i = 0; i < n->outputs.size(); ++i) s.out_slots.push_back(slot_of(n->output(int(i))));
    f->steps_.push_back(std::move(s));
  }
  for (const auto& o : f->outputs_) f->output_slots_.push_back(slot_of(o));
  for (const auto& u : f->updates_) f->update_slots_.push_back(slot_of(u.second));

  // Liveness: release a computed value after its last reader unless it is returned.
  std::unordered_set<int> keep(f->output_slots_.begin(), f->output_slots_.end());
  keep.insert(f->update_slots_.begin(), f->update_slots_.end());
  std::unordered_map<int, size_t> last_use;
  for (size_t k = 0; k < f->steps_.size(); ++k)
    for (int s : f->steps_[k].in_slots) last_use[s] = k;
  for (auto [s, k] : last_use)
    if (!keep.count(s)) f->steps_[k].release.push_back(s);
  // Graphs with ifelse run lazily: each slot knows the step that computes it.
  f->producer_.assign(size_t(f->num_slots_), -1);
  for (size_t k = 0; k < f->steps_.size(); ++k) {
    for (int s : f->steps_[k].out_slots) f->producer_[size_t(s)] = int(k);
    f->lazy_ |= dynamic_cast<const IfElse*>(f->steps_[k].node->op.get()) != nullptr;
  }
  // A slot read once, by its last reader, is handed over (moved) to that step,
  // so an inplace op can see that it holds the only reference to the buffer.
  for (auto& st : f->steps_) {
    st.move_in.assign(st.in_slots.size(), false);
    for (size_t i = 0; i < st.in_slots.size(); ++i) {
      int s = st.in_slots[i];
      bool released = std::find(st.release.begin(), st.release.end(), s) != st.release.end();
      st.move_in[i] = released && std::count(st.in_slots.begin(), st.in_slots.end(), s) == 1;
    }
  }
  f->step_seconds_.assign(f->steps_.size(), 0.0);
  f->step_calls_.assign(f->steps_.size(), 0);
  f->step_kernel_.assign(f->steps_.size(), nullptr);
  if (device.kind == Device::Kind::CUDA) f->device_program_ = std::make_shared<detail::DeviceProgram>(*f, device);
  return f;
}

TransferStats Function::transfer_stats() const {
  return device_program_ ? device_program_->transfers() : TransferStats{};
}

std::vector<std::string> Function::cpu_fallback_ops() const {
  return device_program_ ? device_program_->fallback_ops() : std::vector<std::string>{};
}

std::vector<Array> Function::operator()(const std::vector<Array>& args) {
  std::vector<std::optional<Array>> pos(args.begin(), args.end());
  return call(pos);
}

namespace {
// The value already has the input's dtype, rank and static shape.
bool fits_exactly(const TensorType& t, const Array& a) {
  if (a.dtype() != t.dtype || a.ndim() != t.ndim()) return false;
  for (size_t d = 0; d < t.shape.size(); ++d)
    if (t.shape[d] != kUnknownDim && t.shape[d] != a.shape()[d]) return false;
  return true;
}
}  // namespace

std::vector<Array> Function::call(const std::vector<std::optional<Array>>& positional,
                                  const std::map<std::string, Array>& keywords) {
  const std::string fname = name_.empty() ? std::string("function") : "function '" + name_ + "'";
  if (positional.size() > inputs_.size())
    throw BadArgument(fname + ": expected at most " + std::to_string(inputs_.size()) + " arguments, got " +
                      std::to_string(positional.size()));
  std::vector<std::optional<Array>> args(inputs_.size());
  for (size_t i = 0; i < positional.size(); ++i) args[i] = positional[i];
  for (const auto& [k, v] : keywords) {
    size_t i = 0;
    while (i < inputs_.size() && inputs_[i].name != k) ++i;
    if (i == inputs_.size()) throw BadArgument(fname + ": unknown keyword argument '" + k + "'");
    if (args[i]) throw BadArgument(fname + ": argument '" + k + "' given twice");
    args[i] = v;
  }
  const auto call_start = profile_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  size_t base_bytes = 0;
  if (profile_) {
    reset_peak_memory();
    base_bytes = memory_stats().in_use_bytes;
  }
  std::vector<Array> arg_values(inputs_.size());  // kept to the end: outputs must not alias them
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const In& in = inputs_[i];
    if (args[i] && args[i]->on_device())
      throw BadArgument(fname + ", " + input_desc(in, i) + ": expected a host array, got an array on cuda:" +
                        std::to_string(args[i]->device()));
    if (args[i] && args[i]->defined() && fits_exactly(in.variable.type(), *args[i])) {
      arg_values[i] = *args[i];  // the common case: nothing to check or convert
      continue;
    }
    std::string what = fname + ", " + input_desc(in, i);
    if (!args[i]) {
      if (!in.value)
        throw BadArgument(fname + ": missing argument for " + input_desc(in, i) + " (expected " +
                          std::to_string(inputs_.size()) + " arguments)");
      arg_values[i] = *in.value;
      continue;
    }
    if (!args[i]->defined()) throw BadArgument(what + ": value is undefined");
    try {
      arg_values[i] = in.variable.type().filter(*args[i], in.allow_downcast.value_or(allow_downcast_), what);
    } catch (const std::invalid_argument& e) {
      throw BadArgument(e.what());
    }
  }
  // The shared values of this call (on the host and, for a device function,
  // on the device), read once so that every step sees the same state.
  std::vector<Array> shared_host(shared_slots_.size()), shared_device(shared_slots_.size());
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t j = 0; j < shared_slots_.size(); ++j) {
      SharedStorage& st = *shared_slots_[j].second->storage;
      if (!device_program_ || device_program_->shared_on_host(j)) shared_host[j] = st.host_value();
      if (device_program_ && device_program_->shared_on_device(j)) {
        bool uploaded = false;
        shared_device[j] = st.device_value(device_.index, &uploaded);
        if (uploaded) device_program_->count_upload(size_t(shared_device[j].size()) * shared_device[j].itemsize());
      }
    }
  }
  auto fill = [&](detail::SlotValues& v) {
    v.host.assign(size_t(num_slots_), Array());
    for (size_t i = 0; i < inputs_.size(); ++i) v.host[size_t(input_slots_[i])] = arg_values[i];
    if (device_program_) {
      v.device.assign(size_t(num_slots_), Array());
      device_program_->add_constants(v);
    } else {
      for (const auto& [s, c] : constant_slots_) v.host[size_t(s)] = c;
    }
    for (size_t j = 0; j < shared_slots_.size(); ++j) {
      const size_t s = size_t(shared_slots_[j].first);
      v.host[s] = shared_host[j];
      if (device_program_) v.device[s] = shared_device[j];
    }
  };
  detail::SlotValues values;
  fill(values);
  try {
    run_program(values, false);
  } catch (...) {
    // A kernel queued before the failing step may still raise its flag: clear it for the next call.
    if (device_program_) device_program_->runtime().take_error();
    throw;
  }

  // Returned arrays never alias inputs or shared state.
  auto detach = [&](const Array& a) {
    for (size_t i = 0; i < inputs_.size(); ++i)
      if (!inputs_[i].borrow && arg_values[i].defined() && a.shares_memory_with(arg_values[i]))
        return a.copy();
    for (const Array& v : shared_host)
      if (a.shares_memory_with(v)) return a.copy();
    for (const auto& [s, v] : constant_slots_)
      if (a.shares_memory_with(v)) return a.copy();
    return a;
  };
  std::vector<Array> result;
  for (int s : output_slots_) {
    const Array& h = values.host[size_t(s)];
    result.push_back(h.defined() ? detach(h) : device_program_->host(values, s));
  }
  if (device_program_) {
    // The downloads above waited for the device: a kernel's error is known now.
    if (int code = device_program_->runtime().take_error()) {
      // Run the call again, waiting after each device step, to name the op.
      detail::SlotValues again;
      fill(again);
      run_program(again, true);
      device_program_->runtime().take_error();
      cuda::throw_kernel_error(code, " (in a device kernel of " + fname + ")");
    }
  }
  if (debug_fn_) run_debug_checks(arg_values);
  // All updates are computed; apply them together. A device function keeps
  // them on the device (an update computed on the host stays there).
  auto detach_device = [&](const Array& a) {
    bool alias = false;
    for (const Array& v : shared_device) alias |= a.shares_memory_with(v);
    if (!alias) return a;
    Array c = cuda::device_empty(device_program_->runtime(), a.dtype(), a.shape());
    cuda::device_assign(c, a);
    return c;
  };
  std::vector<Array> new_values;
  for (size_t i = 0; i < updates_.size(); ++i) {
    const size_t s = size_t(update_slots_[i]);
    if (device_program_ && values.device[s].defined()) new_values.push_back(detach_device(values.device[s]));
    else new_values.push_back(detach(values.host[s]));
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < updates_.size(); ++i) {
    SharedStorage& st = *updates_[i].first->storage;
    if (new_values[i].on_device()) st.set_device(new_values[i]);
    else st.set_host(new_values[i]);
  }
  if (profile_) {
    const size_t peak = memory_stats().peak_in_use_bytes;
    call_profile_.last_peak_bytes = peak > base_bytes ? peak - base_bytes : 0;
    call_profile_.peak_bytes = std::max(call_profile_.peak_bytes, call_profile_.last_peak_bytes);
    call_profile_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - call_start).count();
    ++call_profile_.calls;
  }
  return result;
}

namespace {

bool has_non_finite(const Array& a) {
  if (!is_float(a.dtype()) || a.size() == 0) return false;
  Array d = a.astype(DType::Float64);
  const double* p = static_cast<const double*>(d.data());
  for (int64_t i = 0; i < d.size(); ++i)
    if (!std::isfinite(p[i])) return true;
  return false;
}

// DebugMode's comparison: exact for integers and bools, a dtype-sized
// tolerance for floats; where the value before a rewrite overflowed to Inf or
// NaN and the value after is finite, the rewrite stabilized it.
std::string value_mismatch(const Array& before, const Array& after) {
  if (before.dtype() != after.dtype()) return "dtype changed";
  if (before.shape() != after.shape())
    return "shape changed from " + shape_str(before.shape()) + " to " + shape_str(after.shape());
  if (before.size() == 0) return "";
  Array b = before.astype(DType::Float64), a = after.astype(DType::Float64);
  const double* pb = static_cast<const double*>(b.data());
  const double* pa = static_cast<const double*>(a.data());
  double rtol = 0, atol = 0;
  switch (before.dtype()) {
    case DType::Float16:
    case DType::BFloat16: rtol = 1e-2, atol = 1e-2; break;
    case DType::Float32: rtol = 1e-4, atol = 1e-5; break;
    case DType::Float64: rtol = 1e-7, atol = 1e-10; break;
    default: break;
  }
  for (int64_t i = 0; i < b.size(); ++i) {
    double x = pb[i], y = pa[i];
    if (x == y || (std::isnan(x) && std::isnan(y))) continue;
    if (!std::isfinite(x) && std::isfinite(y)) continue;
    if (std::isfinite(x) && std::isfinite(y) && std::abs(x - y) <= atol + rtol * std::abs(x)) continue;
    return "element " + std::to_string(i) + " was " + std::to_string(x) + ", became " + std::to_string(y);
  }
  return "";
}

}  // namespace

void Function::check_finite(const ApplyNode* node, int output, const Array& value) const {
  if (!has_non_finite(value)) return;
  std::string msg = "NanGuardMode: " + node->op->name() + " produced NaN or Inf in output " + std::to_string(output) +
                    " (" + std::string(dtype_name(value.dtype())) + shape_str(value.shape()) + ")\nApply node: " + node->op->name() + "(";
  for (size_t i = 0; i < node->inputs.size(); ++i) msg += (i ? ", " : "") + node->inputs[i].str();
  throw NanGuardError(msg + ")");
}

void Function::run_debug_checks(const std::vector<Array>& args) const {
  std::vector<std::optional<Array>> pos(args.begin(), args.end());
  std::vector<Array> vals = debug_fn_->call(pos);
  for (size_t k = 0; k < debug_checks_.size(); ++k) {
    std::string why = value_mismatch(vals[2 * k], vals[2 * k + 1]);
    if (why.empty()) continue;
    const auto& c = debug_checks_[k];
    throw BadOptimization("DebugMode: rewrite '" + c.rewrite + "' changed a value: " + why + "\n  before: " +
                          c.before.str() + "\n  after:  " + c.after.str());
  }
}

void Function::run_program(detail::SlotValues& values, bool checked) {
  if (lazy_) run_lazy(values, checked);
  else
    for (size_t k = 0; k < steps_.size(); ++k) run_step(k, values, true, checked);
}

// Runs step k on the values of its input slots; `release` frees the slots
// whose last reader it is (the eager schedule) and moves them into the op.
// A device function runs the step's device kernel, or perform() on the host
// for a step placed there, each input copied to where the step reads it.
void Function::run_step(size_t k, detail::SlotValues& values, bool release, bool checked) {
  const Step& st = steps_[k];
  detail::DeviceProgram* dp = device_program_.get();
  const cuda::DeviceKernel* kernel = dp ? dp->kernel(k) : nullptr;
  std::vector<Array> ins, outs(st.out_slots.size());
  ins.reserve(st.in_slots.size());
  for (size_t i = 0; i < st.in_slots.size(); ++i) {
    const int s = st.in_slots[i];
    if (dp) ins.push_back(dp->input(k, i, s, values));
    else ins.push_back(release && st.move_in[i] ? std::move(values.host[size_t(s)]) : values.host[size_t(s)]);
  }
  auto t0 = profile_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  try {
    if (kernel) {
      kernel->run(dp->runtime(), *st.node, ins, outs);
      if (checked)
        if (int code = dp->runtime().take_error()) cuda::throw_kernel_error(code);
    } else {
      st.node->op->perform(ins, outs);
    }
  } catch (...) {
    rethrow_with_node(st.node);
  }
  if (profile_) {
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const char* note = take_kernel_note();
    if (!note && kernel) note = kernel->name;
    std::lock_guard<std::mutex> lock(mu_);
    step_seconds_[k] += dt;
    ++step_calls_[k];
    if (note) step_kernel_[k] = note;
  }
  ins.clear();
  for (size_t i = 0; i < outs.size(); ++i) {
    const TensorType& t = st.node->outputs[i].type;
    if (!outs[i].defined() || outs[i].dtype() != t.dtype || outs[i].ndim() != t.ndim())
      throw std::logic_error("internal error: " + st.node->op->name() + " produced " +
                             (outs[i].defined() ? std::string(dtype_name(outs[i].dtype())) + " of rank " +
                                                      std::to_string(outs[i].ndim())
                                                : std::string("nothing")) +
                             " for output type " + t.str());
    if (nan_guard_) check_finite(st.node, int(i), outs[i].on_device() ? cuda::to_host(outs[i]) : outs[i]);
    const size_t s = size_t(st.out_slots[i]);
    if (outs[i].on_device()) {
      values.device[s] = std::move(outs[i]);
    } else {
      values.host[s] = std::move(outs[i]);
      if (dp) values.device[s] = Array();
    }
  }
  if (release)
    for (int s : st.release) {
      values.host[size_t(s)] = Array();
      if (dp) values.device[size_t(s)] = Array();
    }
}

// The lazy schedule (graphs with ifelse): computes what the outputs demand,
// depth first with an explicit stack; an IfElse node asks for its condition,
// then only for the branch it takes. Values live until the call ends.
void Function::run_lazy(detail::SlotValues& values, bool checked) {
  std::vector<char> done(steps_.size(), 0);
  std::vector<int> stack;
  std::vector<int> roots(output_slots_.begin(), output_slots_.end());
  roots.insert(roots.end(), update_slots_.begin(), update_slots_.end());
  auto ready = [&](int slot) { return producer_[slot] < 0 || done[producer_[slot]]; };
  for (int root : roots) {
    if (ready(root)) continue;
    stack.push_back(producer_[root]);
    while (!stack.empty()) {
      int k = stack.back();
      if (done[k]) {
        stack.pop_back();
        continue;
      }
      const Step& st = steps_[k];
      std::vector<int> needed;
      if (auto* ie = dynamic_cast<const IfElse*>(st.node->op.get())) {
        int cond = st.in_slots[0];
        if (!ready(cond)) needed.push_back(cond);
        else {
          const Array& c = device_program_ ? device_program_->host(values, cond) : values.host[size_t(cond)];
          bool take_then = c.item_double() != 0.0;
          int n = ie->n_outs();
          for (int i = 0; i < n; ++i) {
            int s = st.in_slots[size_t(take_then ? 1 + i : 1 + n + i)];
            if (!ready(s)) needed.push_back(s);
          }
          if (needed.empty()) {
            for (int i = 0; i < n; ++i) {
              const size_t from = size_t(st.in_slots[size_t(take_then ? 1 + i : 1 + n + i)]);
              const size_t to = size_t(st.out_slots[size_t(i)]);
              values.host[to] = values.host[from];
              if (device_program_) values.device[to] = values.device[from];
            }
            if (profile_) {
              std::lock_guard<std::mutex> lock(mu_);
              ++step_calls_[size_t(k)];
            }
            done[k] = 1;
            stack.pop_back();
            continue;
          }
        }
      } else {
        for (int s : st.in_slots)
          if (!ready(s)) needed.push_back(s);
      }
      if (needed.empty()) {
        run_step(size_t(k), values, false, checked);
        done[k] = 1;
        stack.pop_back();
      } else {
        for (int s : needed) stack.push_back(producer_[s]);
      }
    }
  }
}

std::vector<OpProfile> Function::profile() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, OpProfile> by_op;
  for (size_t k = 0; k < steps_.size(); ++k) {
    auto& p = by_op[steps_[k].node->op->name()];
    p.op = steps_[k].node->op->name();
    p.calls += step_calls_[k];
    p.seconds += step_seconds_[k];
    if (step_kernel_[k] && p.kernel.find(step_kernel_[k]) == std::string::npos)
      p.kernel += (p.kernel.empty() ? "" : ", ") + std::string(step_kernel_[k]);
  }
  std::vector<OpProfile> r;
  for (auto& [k, v] : by_op) r.push_back(v);
  std::sort(r.begin(), r.end(), [](auto& a, auto& b) { return a.seconds > b.seconds; });
  return r;
}

CallProfile Function::call_profile() const {
  std::lock_guard<std::mutex> lock(mu_);
  return call_profile_;
}

std::string Function::profile_summary() const {
  auto p = profile();
  const CallProfile c = call_profile();
  double total = 0;
  for (auto& e : p) total += e.seconds;
  std::ostringstream os;
  char line[512];
  os << "Function profiling\n==================\n  Message: " << (name_.empty() ? "<unnamed>" : name_) << "\n";
  std::snprintf(line, sizeof line,
                "  Time in %lld calls to Function.__call__: %.6fs (%.3f ms per call)\n"
                "  Total time in ops: %.6fs (%.1f%% of the calls)\n"
                "  Memory: peak %.3f MB of buffers above the call's inputs (last call %.3f MB); "
                "%.1f MB cached for reuse\n\n",
                (long long)c.calls, c.seconds, c.calls ? 1e3 * c.seconds / double(c.calls) : 0.0, total,
                c.seconds > 0 ? 100 * total / c.seconds : 0.0, double(c.peak_bytes) / 1e6,
                double(c.last_peak_bytes) / 1e6, double(memory_stats().cached_bytes) / 1e6);
  os << line << "  <% time> <sum %> <sum s> <calls> <s per call> <Op name> [kernel]\n";
  double cum = 0;
  for (auto& e : p) {
    const double share = total > 0 ? 100 * e.seconds / total : 0.0;
    cum += share;
    std::snprintf(line, sizeof line, "  %6.1f%%  %6.1f%%  %.6fs  %6lld  %.2es  %s%s%s%s\n", share, cum, e.seconds,
                  (long long)e.calls, e.calls ? e.seconds / double(e.calls) : 0.0, e.op.c_str(),
                  e.kernel.empty() ? "" : "  [", e.kernel.c_str(), e.kernel.empty() ? "" : "]");
    os << line;
  }
  os << "\n  Optimizer (" << mode_ << "): " << rewrite_stats_.seconds << "s, " << rewrite_stats_.nodes_before
     << " -> " << rewrite_stats_.nodes_after << " nodes\n";
  std::vector<std::pair<std::string, int>> fired(rewrite_stats_.applied.begin(), rewrite_stats_.applied.end());
  std::sort(fired.begin(), fired.end(), [](auto& a, auto& b) { return a.second > b.second; });
  for (const auto& [name, n] : fired) os << "    " << n << "  " << name << "\n";
  return os.str();
}

Array eval(const Var& v, const std::vector<std::pair<Var, Array>>& inputs) {
  std::vector<In> ins;
  std::vector<Array> vals;
  for (const auto& [var, val] : inputs) {
    ins.emplace_back(var);
    vals.push_back(val);
  }
  FunctionOptions opt;
  opt.on_unused_input = "ignore";
  return function(ins, {v}, opt)->operator()(vals)[0];
}

}  // namespace theon
