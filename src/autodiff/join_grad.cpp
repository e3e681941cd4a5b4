// Gradients of the creation, join and rearranging ops. Each routes the output
// gradient back to where the values came from: broadcast values sum it,
// joined pieces split it, split pieces join it, repeats sum it per source
// element, roll/flip/tril undo themselves on it. Shapes, sizes, shifts and
// repeat counts are integers, so they are disconnected; so are the end
// points of arange/linspace, as in Theano.
#include "theon/autodiff/grad.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/join.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"
#include "theon/ops/shape_extra.h"
#include "theon/ops/subtensor.h"

namespace theon {

namespace {

std::vector<InputGrad> all_disconnected(const ApplyNode& node) {
  return std::vector<InputGrad>(node.inputs.size(), InputGrad::disconnected());
}

// The gradient of a value broadcast into the output: summed back to its shape.
InputGrad broadcast_value_grad(const Var& value, const Var& gz) {
  if (!is_float(value.dtype()) || !gz.defined()) return InputGrad::disconnected();
  return InputGrad::of(cast(sum_to_like(gz, value), value.dtype()));
}

}  // namespace

// ---- creation ----
std::vector<InputGrad> Alloc::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  std::vector<InputGrad> r = all_disconnected(node);
  r[0] = broadcast_value_grad(node.inputs[0], og[0]);
  return r;
}

std::vector<InputGrad> Fill::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  // The model only gives the shape.
  return {InputGrad::disconnected(), broadcast_value_grad(node.inputs[1], og[0])};
}

std::vector<InputGrad> Eye::L_op(const ApplyNode& node, const std::vector<Var>&) const {
  return all_disconnected(node);
}

std::vector<InputGrad> ARange::L_op(const ApplyNode& node, const std::vector<Var>&) const {
  return all_disconnected(node);
}

std::vector<InputGrad> Linspace::L_op(const ApplyNode& node, const std::vector<Var>&) const {
  return all_disconnected(node);
}

std::vector<InputGrad> Tril::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  if (!is_float(x.dtype()) || !og[0].defined()) return all_disconnected(node);
  // Masking is linear and its own adjoint: the zeroed elements get no gradient.
  return {InputGrad::of(cast(make1<Tril>({og[0]}, k_, upper_), x.dtype()))};
}

// ---- join / split ----
std::vector<InputGrad> Join::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  std::vector<InputGrad> r = all_disconnected(node);
  const Var& gz = og[0];
  if (!gz.defined()) return r;
  const int n = int(node.inputs.size());
  std::vector<Var> pieces{gz};
  if (n > 1) {
    std::vector<Var> sizes;
    for (const Var& in : node.inputs) sizes.push_back(shape_i(in, axis_));
    pieces = split(gz, make_vector(sizes), n, axis_);
  }
  for (int i = 0; i < n; ++i) {
    const Var& in = node.inputs[i];
    if (is_float(in.dtype())) r[i] = InputGrad::of(cast(pieces[i], in.dtype()));
  }
  return r;
}

std::vector<InputGrad> Split::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  const Var* first = nullptr;
  for (const Var& g : og)
    if (g.defined() && !first) first = &g;
  if (!is_float(x.dtype()) || !first) return all_disconnected(node);
  // A piece no gradient reached contributes zeros of its own shape.
  std::vector<Var> pieces;
  for (int i = 0; i < n_; ++i)
    pieces.push_back(og[i].defined() ? cast(og[i], first->dtype())
                                     : zeros_like(node.output(i), first->dtype()));
  Var gx = n_ == 1 ? pieces[0] : concatenate(pieces, axis_);
  return {InputGrad::of(cast(gx, x.dtype())), InputGrad::disconnected()};
}

// ---- rearranging ----
std::vector<InputGrad> Repeat::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  const Var& reps = node.inputs[1];
  const Var& gz = og[0];
  if (!is_float(x.dtype()) || !gz.defined()) return all_disconnected(node);
  Var gx;
  if (reps.ndim() == 0) {
    // Each element's copies are contiguous: split the axis into (n, reps) and sum the copies.
    std::vector<Var> split_shape = shape_of(x);
    split_shape.insert(split_shape.begin() + axis_ + 1, cast(reps, DType::Int64));
    gx = sum(reshape(gz, split_shape), std::vector<int>{axis_ + 1});
  } else {
    // Per-element counts: the source index of every output position, then an
    // accumulating scatter of gz into zeros along the axis.
    Var src = make1<Repeat>({arange(shape_i(x, axis_), DType::Int64), reps}, 0);
    Index idx(size_t(axis_), IndexItem::slice());
    idx.push_back(IndexItem::array(src));
    gx = inc_subtensor(zeros_like(x, gz.dtype()), idx, gz);
  }
  return {InputGrad::of(cast(gx, x.dtype())), InputGrad::disconnected()};
}

std::vector<InputGrad> Roll::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  if (!is_float(x.dtype()) || !og[0].defined()) return all_disconnected(node);
  Var back = neg(cast(node.inputs[1], DType::Int64));
  return {InputGrad::of(cast(make1<Roll>({og[0], back}, axis_), x.dtype())),
          InputGrad::disconnected()};
}

std::vector<InputGrad> Flip::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  if (!is_float(x.dtype()) || !og[0].defined()) return all_disconnected(node);
  return {InputGrad::of(cast(make1<Flip>({og[0]}, axes_), x.dtype()))};
}

}  // namespace theon
