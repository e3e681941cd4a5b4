// tile, repeat, roll, broadcast_to and flip (see theon/ops/shape_extra.h).
#include "theon/ops/shape_extra.h"

#include <stdexcept>

#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"

namespace theon {

namespace {

void expect_arity(const Op& op, const std::vector<Var>& ins, size_t n) {
  if (ins.size() != n)
    throw std::invalid_argument("[" + op.name() + "] expected " + std::to_string(n) +
                                " input(s), got " + std::to_string(ins.size()));
}

void expect_axis(const Op& op, int axis, const TensorType& t) {
  if (axis < 0 || axis >= t.ndim())
    throw std::invalid_argument("[" + op.name() + "] axis " + std::to_string(axis) +
                                " is out of bounds for " + t.str());
}

// An int scalar as an int64 Var; constants stay constants so they remain statically known.
Var int64_dim(const Var& v, const char* who) {
  if (v.ndim() != 0 || !is_integer(v.dtype()))
    throw std::invalid_argument(std::string(who) + " expected integer scalars, got " +
                                v.type().str());
  if (v.is_constant()) return constant(double(v.constant_value().item_int()), DType::Int64);
  return cast(v, DType::Int64);
}

Var mul_dims(const Var& a, const Var& b) {
  auto sa = static_int_scalar(a), sb = static_int_scalar(b);
  if (sa && sb) return constant(double(*sa * *sb), DType::Int64);
  return mul(a, b);
}

}  // namespace

// ---- Repeat ----
std::vector<TensorType> Repeat::infer_type(const std::vector<Var>& ins) const {
  expect_arity(*this, ins, 2);
  const auto& xt = ins[0].type();
  expect_axis(*this, axis_, xt);
  const auto& rt = ins[1].type();
  if (rt.ndim() > 1 || !(rt.dtype == DType::Bool || is_integer(rt.dtype)) ||
      rt.dtype == DType::UInt64)
    throw std::invalid_argument("[" + name() +
                                "] repeats must be an integer scalar or vector (castable to "
                                "int64), got " +
                                rt.str());
  const int64_t n = xt.shape[axis_];
  const int64_t len = rt.ndim() == 0 ? 1 : rt.shape[0];
  if (rt.ndim() == 1 && len != kUnknownDim && len != 1 && n != kUnknownDim && len != n)
    throw std::invalid_argument("[" + name() + "] operands could not be broadcast together: " +
                                std::to_string(len) + " repeats for axis " + std::to_string(axis_) +
                                " of length " + std::to_string(n) + " of " + xt.str());
  TensorType out = xt;
  out.shape[axis_] = kUnknownDim;
  if (ins[1].is_constant()) {
    auto reps = ins[1].constant_value().to_int_vector();
    int64_t total = 0;
    for (int64_t r : reps) {
      if (r < 0)
        throw std::invalid_argument(
            "[" + name() + "] negative dimensions are not allowed: repeats " + shape_str(reps));
      total += r;
    }
    if (reps.size() == 1 && n != kUnknownDim)
      out.shape[axis_] = reps[0] * n;
    else if (reps.size() != 1)
      out.shape[axis_] = total;
  }
  return {out};
}

void Repeat::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  const int64_t n = x.shape()[axis_];
  auto reps = in[1].to_int_vector();
  if (reps.size() == 1) reps.assign(size_t(n), reps[0]);
  if (int64_t(reps.size()) != n)
    throw std::invalid_argument("[" + name() + "] operands could not be broadcast together: " +
                                std::to_string(reps.size()) + " repeats for axis " +
                                std::to_string(axis_) + " of length " + std::to_string(n) +
                                " (shape " + shape_str(x.shape()) + ")");
  Shape shp = x.shape();
  shp[axis_] = 0;
  for (int64_t r : reps) {
    if (r < 0)
      throw std::invalid_argument("[" + name() + "] negative dimensions are not allowed: repeats " +
                                  shape_str(reps));
    shp[axis_] += r;
  }
  Array r = Array::empty(x.dtype(), shp);
  if (r.size() > 0) {
    int64_t pos = 0;
    for (int64_t j = 0; j < n; ++j) {
      if (reps[j] > 0) r.slice(axis_, pos, pos + reps[j], 1).assign(x.slice(axis_, j, j + 1, 1));
      pos += reps[j];
    }
  }
  out[0] = r;
}

std::optional<ShapeExprs> Repeat::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  std::vector<Var> r = in[0];
  const int64_t known = node.outputs[0].type.shape[axis_];
  const Var& reps = node.inputs[1];
  if (known != kUnknownDim)
    r[axis_] = constant(double(known), DType::Int64);
  else if (reps.ndim() == 0)
    r[axis_] = mul(in[0][axis_], cast(reps, DType::Int64));
  else if (reps.type().shape[0] == 1)
    r[axis_] = mul(in[0][axis_], sum(cast(reps, DType::Int64)));
  else if (reps.type().shape[0] != kUnknownDim)
    r[axis_] = sum(cast(reps, DType::Int64));
  else
    r[axis_] = Var();
  return ShapeExprs{r};
}

// ---- Roll ----
std::vector<TensorType> Roll::infer_type(const std::vector<Var>& ins) const {
  expect_arity(*this, ins, 2);
  expect_axis(*this, axis_, ins[0].type());
  if (ins[1].ndim() != 0 || !is_integer(ins[1].dtype()))
    throw std::invalid_argument("[" + name() + "] shift must be an integer scalar, got " +
                                ins[1].type().str());
  return {ins[0].type()};
}

void Roll::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  Array r = Array::empty(x.dtype(), x.shape());
  const int64_t n = x.shape()[axis_];
  if (r.size() > 0) {
    int64_t s = in[1].item_int() % n;
    if (s < 0) s += n;
    if (s > 0) r.slice(axis_, 0, s, 1).assign(x.slice(axis_, n - s, n, 1));
    r.slice(axis_, s, n, 1).assign(x.slice(axis_, 0, n - s, 1));
  }
  out[0] = r;
}

std::optional<ShapeExprs> Roll::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[0]};
}

// ---- Flip ----
std::string Flip::name() const {
  std::string s = "Flip{axis=(";
  for (size_t i = 0; i < axes_.size(); ++i) s += (i ? ", " : "") + std::to_string(axes_[i]);
  return s + (axes_.size() == 1 ? ",)}" : ")}");
}

std::vector<TensorType> Flip::infer_type(const std::vector<Var>& ins) const {
  expect_arity(*this, ins, 1);
  for (int a : axes_) expect_axis(*this, a, ins[0].type());
  return {ins[0].type()};
}

void Flip::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  Strides st = x.strides();
  int64_t off = x.offset();
  bool empty = x.size() == 0;
  for (int a : axes_) {
    if (!empty) off += (x.shape()[a] - 1) * st[a];
    st[a] = -st[a];
  }
  out[0] = Array(x.dtype(), x.shape(), st, off, x.buffer());
}

std::optional<ShapeExprs> Flip::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[0]};
}

// ---- free functions ----
Var tile(const Var& x, const std::vector<Var>& reps_in) {
  std::vector<Var> reps;
  for (const auto& r : reps_in) {
    reps.push_back(int64_dim(r, "[tile] reps:"));
    if (auto s = static_int_scalar(reps.back()); s && *s < 0)
      throw std::invalid_argument("[tile] negative dimensions are not allowed: reps entry " +
                                  std::to_string(*s));
  }
  const int nd = std::max<int>(int(reps.size()), x.ndim());
  reps.insert(reps.begin(), size_t(nd) - reps.size(), constant(1.0, DType::Int64));
  // x with leading axes of length 1, then an axis of length 1 before each axis,
  // broadcast to (r0, s0, r1, s1, ...) and merged pairwise.
  std::vector<int> pad(size_t(nd - x.ndim()), -1), order;
  for (int i = 0; i < x.ndim(); ++i) pad.push_back(i);
  Var xp = dimshuffle(x, pad);
  std::vector<Var> big, final_shape;
  for (int i = 0; i < nd; ++i) {
    order.push_back(-1);
    order.push_back(i);
    Var s = shape_i(xp, i);
    big.push_back(reps[i]);
    big.push_back(s);
    final_shape.push_back(mul_dims(reps[i], s));
  }
  if (nd == 0) return x;
  return reshape(alloc(dimshuffle(xp, order), big), final_shape);
}

Var tile(const Var& x, const std::vector<int64_t>& reps) {
  std::vector<Var> r;
  for (int64_t v : reps) r.push_back(constant(double(v), DType::Int64));
  return tile(x, r);
}

Var repeat(const Var& x, const Var& repeats, std::optional<int> axis) {
  if (!axis) return make1<Repeat>({flatten(x, 1), repeats}, 0);
  if (x.ndim() == 0)
    throw std::invalid_argument("[repeat] axis given for a 0-d array " + x.type().str());
  return make1<Repeat>({x, repeats}, normalize_axis(*axis, x.ndim(), "[repeat]"));
}

Var repeat(const Var& x, int64_t repeats, std::optional<int> axis) {
  return repeat(x, constant(double(repeats), DType::Int64), axis);
}

Var roll(const Var& x, const Var& shift, std::optional<int> axis) {
  if (!axis) {
    Var r = make1<Roll>({flatten(x, 1), shift}, 0);
    return reshape(r, shape_of(x));
  }
  if (x.ndim() == 0)
    throw std::invalid_argument("[roll] axis given for a 0-d array " + x.type().str());
  return make1<Roll>({x, shift}, normalize_axis(*axis, x.ndim(), "[roll]"));
}

Var roll(const Var& x, const std::vector<Var>& shifts, const std::vector<int>& axes) {
  const size_t n = std::max(shifts.size(), axes.size());
  if (shifts.empty() || axes.empty() || (shifts.size() != n && shifts.size() != 1) ||
      (axes.size() != n && axes.size() != 1))
    throw std::invalid_argument(
        "[roll] shift and axis must have the same length (or one of them length 1), got " +
        std::to_string(shifts.size()) + " shifts and " + std::to_string(axes.size()) + " axes");
  Var r = x;
  for (size_t i = 0; i < n; ++i)
    r = roll(r, shifts[shifts.size() == 1 ? 0 : i], axes[axes.size() == 1 ? 0 : i]);
  return r;
}

Var broadcast_to(const Var& x, const std::vector<Var>& shape) {
  std::vector<Var> ins{x};
  for (const auto& s : shape)
    ins.push_back(s.ndim() == 0 && is_integer(s.dtype()) ? int64_dim(s, "[broadcast_to]") : s);
  return make1<BroadcastTo>(ins);
}

Var broadcast_to(const Var& x, const std::vector<int64_t>& shape) {
  std::vector<Var> s;
  for (int64_t d : shape) s.push_back(constant(double(d), DType::Int64));
  return broadcast_to(x, s);
}

Var flip(const Var& x, const std::optional<std::vector<int>>& axis) {
  auto axes = normalize_axes(axis, x.ndim(), "[flip]");
  if (axes.empty()) return x;
  return make1<Flip>({x}, axes);
}

}  // namespace theon
