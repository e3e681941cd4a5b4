// Gradients of the indexing ops. Reading x[idx] sends its gradient back into
// a zero array at the same positions (inc semantics, so an element read twice
// by an advanced index collects both contributions); writing x[idx] = y or
// x[idx] += y passes the gradient through to x outside (set) or everywhere
// (inc), and gives y the gradient read back at idx. Index inputs are integer
// positions, so they are disconnected.
#include "theon/autodiff/grad.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"
#include "theon/ops/subtensor.h"

namespace theon {

namespace {

// The inputs after x (and y, for IncSubtensor): what the index pattern reads.
std::vector<Var> index_inputs(const ApplyNode& node, size_t first) {
  return {node.inputs.begin() + std::ptrdiff_t(first), node.inputs.end()};
}

// Builds x[idx] with an explicit pattern and index inputs (the same ones the
// forward node read, so a symbolic index such as jacobian's loop variable is reused).
Var index_with(const Var& x, const IndexPattern& p, const std::vector<Var>& idx) {
  std::vector<Var> ins{x};
  ins.insert(ins.end(), idx.begin(), idx.end());
  if (pattern_is_advanced(p)) return make1<AdvancedSubtensor>(ins, p);
  return make1<Subtensor>(ins, p);
}

Var write_with(const Var& x, const Var& y, const IndexPattern& p, const std::vector<Var>& idx,
               bool set) {
  std::vector<Var> ins{x, y};
  ins.insert(ins.end(), idx.begin(), idx.end());
  return make1<IncSubtensor>(ins, p, set);
}

// Gradient of x for x[idx]: gz scattered (accumulating) into zeros of x's shape.
std::vector<InputGrad> read_grad(const ApplyNode& node, const IndexPattern& p, const Var& gz) {
  std::vector<InputGrad> r(node.inputs.size(), InputGrad::disconnected());
  const Var& x = node.inputs[0];
  if (!is_float(x.dtype()) || !gz.defined()) return r;
  r[0] = InputGrad::of(write_with(zeros_like(x, gz.dtype()), gz, p, index_inputs(node, 1), false));
  return r;
}

// For set with an advanced index, repeated positions keep only the last write,
// so only the elements of the (broadcast) value that won receive a gradient.
// Writing each element's own flat position and reading it back finds them.
Var last_write_mask(const Var& x, const Var& sub, const IndexPattern& p,
                    const std::vector<Var>& idx, DType dtype) {
  std::vector<Var> sub_shape = shape_of(sub);
  Var n = constant(1.0, DType::Int64);
  for (const Var& d : sub_shape) n = mul(n, d);
  Var pos = reshape(arange(n, DType::Int64), sub_shape);
  Var written = write_with(alloc(constant(-1.0, DType::Int64), shape_of(x)), pos, p, idx, true);
  return cast(eq(index_with(written, p, idx), pos), dtype);
}

}  // namespace

std::vector<InputGrad> Subtensor::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  return read_grad(node, p_, og[0]);
}

std::vector<InputGrad> AdvancedSubtensor::L_op(const ApplyNode& node,
                                               const std::vector<Var>& og) const {
  return read_grad(node, p_, og[0]);
}

std::vector<InputGrad> IncSubtensor::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  std::vector<InputGrad> r(node.inputs.size(), InputGrad::disconnected());
  const Var& gz = og[0];
  const Var& x = node.inputs[0];
  const Var& y = node.inputs[1];
  if (!is_float(x.dtype()) || !gz.defined()) return r;
  const std::vector<Var> idx = index_inputs(node, 2);
  // inc: x passes through unchanged; set: the overwritten region no longer depends on x.
  r[0] = InputGrad::of(set_ ? write_with(gz, constant(0.0, gz.dtype()), p_, idx, true) : gz);
  if (is_float(y.dtype())) {
    Var gy = index_with(gz, p_, idx);
    if (set_ && pattern_is_advanced(p_)) gy = mul(gy, last_write_mask(x, gy, p_, idx, gz.dtype()));
    // y was broadcast to the shape of x[idx]: sum the gradient back to y's shape.
    r[1] = InputGrad::of(cast(sum_to_like(gy, y), y.dtype()));
  }
  return r;
}

std::vector<InputGrad> SliceLength::L_op(const ApplyNode& node, const std::vector<Var>&) const {
  return std::vector<InputGrad>(node.inputs.size(), InputGrad::disconnected());
}

}  // namespace theon
