// Gradients of the core ops (reductions, shape ops), the gradient modifiers,
// and sum_to_like, which undoes broadcasting.
#include <algorithm>

#include "theon/autodiff/grad.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"
#include "theon/ops/shape_extra.h"
#include "theon/ops/subtensor.h"

namespace theon {

namespace {

// Sums a gradient to the runtime shape of the input it belongs to, over the
// axes where that input was broadcast (length 1, or absent on the left).
class ReduceToShape : public Op {
 public:
  std::string name() const override { return "ReduceToShape"; }
  std::vector<TensorType> infer_type(const std::vector<Var>& ins) const override {
    if (ins.size() != 2 || ins[1].ndim() != 1 || ins[1].type().shape[0] == kUnknownDim)
      throw std::invalid_argument("[ReduceToShape] expected (gradient, shape vector of known length)");
    int nd = int(ins[1].type().shape[0]);
    if (nd > ins[0].ndim())
      throw std::invalid_argument("[ReduceToShape] target rank " + std::to_string(nd) + " exceeds " +
                                  ins[0].type().str());
    std::vector<int64_t> s(ins[0].type().shape.end() - nd, ins[0].type().shape.end());
    for (auto& d : s)
      if (d != 1) d = kUnknownDim;
    return {TensorType(ins[0].dtype(), s)};
  }
  void perform(const std::vector<Array>& in, std::vector<Array>& out) const override {
    const Array& g = in[0];
    auto target = in[1].to_int_vector();
    int lead = g.ndim() - int(target.size());
    std::vector<int> axes;
    for (int i = 0; i < lead; ++i) axes.push_back(i);
    for (size_t i = 0; i < target.size(); ++i) {
      int64_t gs = g.shape()[lead + i];
      if (target[i] == gs) continue;
      if (target[i] != 1)
        throw std::invalid_argument("[ReduceToShape] gradient of shape " + shape_str(g.shape()) +
                                    " cannot be reduced to shape " + shape_str(target));
      axes.push_back(lead + int(i));
    }
    if (axes.empty()) {
      out[0] = g;
      return;
    }
    Reduce r(ReduceKind::Sum, axes, true);
    std::vector<Array> tmp(1);
    r.perform({g}, tmp);
    Array s = tmp[0];
    if (s.dtype() != g.dtype()) s = s.astype(g.dtype());
    out[0] = s.reshape(target);
  }
  std::vector<std::pair<int, int>> view_map() const override { return {{0, 0}}; }
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& og) const override {
    return {InputGrad::of(broadcast_to(og[0], shape_of(node.inputs[0]))), InputGrad::disconnected()};
  }
};

// Identity in the forward pass; changes the gradient flowing back.
class GradModifier : public Op {
 public:
  enum class Kind { Zero, Disconnected, Clip, Scale };
  GradModifier(Kind k, double a, double b) : kind_(k), a_(a), b_(b) {}
  std::string name() const override {
    static const char* n[] = {"ZeroGrad", "DisconnectedGrad", "GradClip", "GradScale"};
    return n[int(kind_)];
  }
  std::string props() const override { return std::to_string(a_) + "," + std::to_string(b_); }
  std::vector<TensorType> infer_type(const std::vector<Var>& ins) const override {
    if (ins.size() != 1) throw std::invalid_argument("[" + name() + "] expected 1 input");
    return {ins[0].type()};
  }
  void perform(const std::vector<Array>& in, std::vector<Array>& out) const override { out[0] = in[0]; }
  std::optional<ShapeExprs> infer_shape(const ApplyNode&, const ShapeExprs& in) const override { return in; }
  std::vector<std::pair<int, int>> view_map() const override { return {{0, 0}}; }
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& og) const override {
    const Var& x = node.inputs[0];
    switch (kind_) {
      case Kind::Zero: return {InputGrad::of(zeros_like(x))};
      case Kind::Disconnected: return {InputGrad::disconnected()};
      case Kind::Clip:
        return {InputGrad::of(clip(og[0], weak_scalar(a_, ScalarKind::Float, og[0].dtype()),
                                   weak_scalar(b_, ScalarKind::Float, og[0].dtype())))};
      case Kind::Scale: return {InputGrad::of(mul(og[0], weak_scalar(a_, ScalarKind::Float, og[0].dtype())))};
    }
    return {InputGrad::disconnected()};
  }

 private:
  Kind kind_;
  double a_, b_;
};

// Re-inserts reduced axes (as length 1) so a reduced gradient broadcasts back.
Var expand_reduced(const Var& g, const Reduce& op, int ndim) {
  if (op.keepdims()) return g;
  std::vector<int> order;
  int k = 0;
  for (int i = 0; i < ndim; ++i)
    order.push_back(std::find(op.axes().begin(), op.axes().end(), i) != op.axes().end() ? -1 : k++);
  return dimshuffle(g, order);
}

}  // namespace

Var sum_to_like(const Var& g, const Var& like) {
  int lead = g.ndim() - like.ndim();
  if (lead < 0) return broadcast_to(g, shape_of(like));
  std::vector<int> lead_axes, one_axes;
  bool runtime = false;
  for (int i = 0; i < lead; ++i) lead_axes.push_back(i);
  for (int i = 0; i < like.ndim(); ++i) {
    int64_t ls = like.type().shape[i], gs = g.type().shape[lead + i];
    if (ls == 1 && gs != 1) one_axes.push_back(i);
    else if (ls == kUnknownDim && gs != kUnknownDim && gs != 1) runtime = true;
    else if (ls == kUnknownDim && gs == kUnknownDim) runtime = true;
  }
  Var r = lead_axes.empty() ? g : sum(g, lead_axes, false);
  if (!one_axes.empty()) r = sum(r, one_axes, true);
  if (runtime) r = apply1(std::make_shared<ReduceToShape>(), {r, shape(like)});
  if (r.dtype() != g.dtype()) r = cast(r, g.dtype());
  return r;
}

Var zero_grad(const Var& x) { return make1<GradModifier>({x}, GradModifier::Kind::Zero, 0.0, 0.0); }
Var disconnected_grad(const Var& x) { return make1<GradModifier>({x}, GradModifier::Kind::Disconnected, 0.0, 0.0); }
Var grad_clip(const Var& x, double lo, double hi) {
  if (lo > hi)
    throw std::invalid_argument("[grad_clip] lower bound " + std::to_string(lo) + " exceeds upper bound " +
                                std::to_string(hi));
  return make1<GradModifier>({x}, GradModifier::Kind::Clip, lo, hi);
}
Var grad_scale(const Var& x, double k) { return make1<GradModifier>({x}, GradModifier::Kind::Scale, k, 0.0); }

std::vector<InputGrad> Reduce::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  if (!is_float(x.dtype()) || !og[0].defined()) return {InputGrad::disconnected()};
  const Var z = node.output(0);
  Var gz = expand_reduced(og[0], *this, x.ndim());
  Var zb = expand_reduced(z, *this, x.ndim());
  auto full = [&](const Var& v) { return broadcast_to(v, shape_of(x)); };
  switch (kind_) {
    case ReduceKind::Sum: return {InputGrad::of(cast(full(gz), x.dtype()))};
    case ReduceKind::Mean: {
      Var n = constant(1.0, DType::Int64);
      for (int a : axes_) n = mul(n, shape_i(x, a));
      return {InputGrad::of(cast(true_div(full(gz), cast(n, gz.dtype())), x.dtype()))};
    }
    case ReduceKind::Max:
    case ReduceKind::Min:
      // Every element equal to the extremum receives the gradient (Theano's rule for ties).
      return {InputGrad::of(cast(mul(gz, cast(eq(x, zb), gz.dtype())), x.dtype()))};
    case ReduceKind::Prod: {
      // Handles zeros: with one zero only that element gets the product of the others.
      Var is0 = eq(x, constant(0.0, x.dtype()));
      Var nz = sum(cast(is0, DType::Int64), axes_, true);
      Var p = prod(switch_(is0, constant(1.0, x.dtype()), x), axes_, true);
      Var none = true_div(p, x);
      Var one = switch_(is0, p, zeros_like(x));
      Var g = switch_(eq(nz, constant(0.0, DType::Int64)), none,
                      switch_(eq(nz, constant(1.0, DType::Int64)), one, zeros_like(x)));
      return {InputGrad::of(cast(mul(gz, g), x.dtype()))};
    }
    default:
      return {InputGrad::disconnected()};
  }
}

std::vector<InputGrad> ShapeOp::L_op(const ApplyNode&, const std::vector<Var>&) const { return {InputGrad::disconnected()}; }
std::vector<InputGrad> ShapeI::L_op(const ApplyNode&, const std::vector<Var>&) const { return {InputGrad::disconnected()}; }

std::vector<InputGrad> MakeVector::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  std::vector<InputGrad> r;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const Var& in = node.inputs[i];
    if (!is_float(in.dtype()) || !og[0].defined()) r.push_back(InputGrad::disconnected());
    else r.push_back(InputGrad::of(cast(subtensor(og[0], {IndexItem::integer(int64_t(i))}), in.dtype())));
  }
  return r;
}

std::vector<InputGrad> DimShuffle::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  if (!is_float(x.dtype()) || !og[0].defined()) return {InputGrad::disconnected()};
  Var g = og[0];
  // Drop the inserted axes (summing, in case the gradient was broadcast there).
  std::vector<int> inserted;
  for (size_t p = 0; p < order_.size(); ++p)
    if (order_[p] < 0) inserted.push_back(int(p));
  if (!inserted.empty()) g = sum(g, inserted, false);
  std::vector<int> kept;
  for (int o : order_)
    if (o >= 0) kept.push_back(o);
  // g's axes are the input axes `kept`, in that order; put them back in input order.
  std::vector<int> back;
  for (int j = 0; j < x.ndim(); ++j) {
    auto it = std::find(kept.begin(), kept.end(), j);
    back.push_back(it == kept.end() ? -1 : int(it - kept.begin()));
  }
  return {InputGrad::of(cast(dimshuffle(g, back), x.dtype()))};
}

std::vector<InputGrad> Reshape::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  if (!is_float(x.dtype()) || !og[0].defined()) return {InputGrad::disconnected(), InputGrad::disconnected()};
  return {InputGrad::of(reshape(og[0], shape_of(x))), InputGrad::disconnected()};
}

}  // namespace theon
