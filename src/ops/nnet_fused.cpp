// SoftmaxCrossentropy1Hot and its gradient op (see theon/ops/nnet_fused.h).
#include "theon/ops/nnet_fused.h"

#include <cmath>
#include <stdexcept>

#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/nnet.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"

namespace theon {

namespace {

// Checks a (coding, indices) pair of types: coding (..., classes) numeric,
// indices integer of the leading shape; returns the leading static shape.
std::vector<int64_t> check_coding_and_indices(const std::string& who, const TensorType& c, const TensorType& y) {
  if (c.dtype == DType::Bool || c.ndim() < 1)
    throw std::invalid_argument("[" + who + "] expected a numeric tensor of at least 1 dimension, got " + c.str());
  if (!is_integer(y.dtype))
    throw std::invalid_argument("[" + who + "] class indices must be integers, got " + y.str());
  if (y.ndim() != c.ndim() - 1)
    throw std::invalid_argument("[" + who + "] class indices must have " + std::to_string(c.ndim() - 1) +
                                " dimension(s) for " + c.str() + ", got " + y.str());
  std::vector<int64_t> shp;
  for (int i = 0; i < y.ndim(); ++i) {
    int64_t a = c.shape[i], b = y.shape[i];
    if (a >= 0 && b >= 0 && a != b)
      throw std::invalid_argument("[" + who + "] " + c.str() + " and class indices " + y.str() +
                                  " disagree on dimension " + std::to_string(i));
    shp.push_back(a >= 0 ? a : b);
  }
  return shp;
}

void check_lead(const std::string& who, const Shape& coding, const Shape& other, const char* what) {
  Shape lead(coding.begin(), coding.end() - 1);
  if (lead != other)
    throw std::invalid_argument("[" + who + "] input of shape " + shape_str(coding) + " needs " + what +
                                " of shape " + shape_str(lead) + ", got " + shape_str(other));
}

// The class index of row i, wrapped or checked.
int64_t class_index(const std::string& who, int64_t v, int64_t i, int64_t k, bool wraps) {
  int64_t c = (wraps && v < 0) ? v + k : v;
  if (c < 0 || c >= k)
    throw std::out_of_range("[" + who + "] class index " + std::to_string(v) + " at position " + std::to_string(i) +
                            " is out of range for " + std::to_string(k) + " classes");
  return c;
}

}  // namespace

// ---- SoftmaxCrossentropy1Hot ----
std::vector<TensorType> SoftmaxCrossentropy1Hot::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 2)
    throw std::invalid_argument("[" + name() + "] expected 2 inputs (z, y), got " + std::to_string(ins.size()));
  auto shp = check_coding_and_indices(name(), ins[0].type(), ins[1].type());
  return {TensorType(nnet_float_dtype(ins[0].dtype()), shp)};
}

std::optional<ShapeExprs> SoftmaxCrossentropy1Hot::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[1]};
}

void SoftmaxCrossentropy1Hot::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& z = in[0];
  check_lead(name(), z.shape(), in[1].shape(), "class indices");
  Shape lead(z.shape().begin(), z.shape().end() - 1);
  const int64_t k = z.shape().back(), rows = shape_size(lead);
  Array zd = z.contiguous(DType::Float64);
  Array yi = in[1].contiguous(DType::Int64);
  Array r = Array::empty(DType::Float64, lead);
  const double* zp = zd.data_as<double>();
  const int64_t* yp = yi.data_as<int64_t>();
  double* rp = r.data_as<double>();
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t c = class_index(name(), yp[i], i, k, wraps_);
    const double* p = zp + i * k;
    // -log_softmax(z)[c] = m + log(sum(exp(z - m))) - z[c]; a NaN logit propagates.
    double m = p[0];
    for (int64_t j = 1; j < k && !std::isnan(m); ++j)
      if (p[j] > m || std::isnan(p[j])) m = p[j];
    double s = 0;
    for (int64_t j = 0; j < k; ++j) s += std::exp(p[j] - m);
    rp[i] = std::log(s) - (p[c] - m);
  }
  DType out_dt = nnet_float_dtype(z.dtype());
  out[0] = out_dt == DType::Float64 ? r : r.astype(out_dt);
}

std::vector<InputGrad> SoftmaxCrossentropy1Hot::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& z = node.inputs[0];
  if (!is_float(z.dtype()) || !og[0].defined()) return {InputGrad::disconnected(), InputGrad::disconnected()};
  Var g = softmax_crossentropy_1hot_grad(cast(og[0], z.dtype()), softmax(z), node.inputs[1], wraps_);
  return {InputGrad::of(cast(g, z.dtype())), InputGrad::disconnected()};
}

// ---- SoftmaxCrossentropy1HotGrad ----
std::vector<TensorType> SoftmaxCrossentropy1HotGrad::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 3)
    throw std::invalid_argument("[" + name() + "] expected 3 inputs (g, sm, y), got " + std::to_string(ins.size()));
  const TensorType& g = ins[0].type();
  const TensorType& sm = ins[1].type();
  if (!is_float(sm.dtype) || !is_float(g.dtype))
    throw std::invalid_argument("[" + name() + "] g and sm must be float, got " + g.str() + " and " + sm.str());
  check_coding_and_indices(name(), sm, ins[2].type());
  if (g.ndim() != sm.ndim() - 1)
    throw std::invalid_argument("[" + name() + "] g must have one dimension less than sm " + sm.str() + ", got " +
                                g.str());
  check_coding_and_indices(name(), sm, TensorType(DType::Int64, g.shape));
  return {sm};
}

std::optional<ShapeExprs> SoftmaxCrossentropy1HotGrad::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[1]};
}

void SoftmaxCrossentropy1HotGrad::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& sm = in[1];
  check_lead(name(), sm.shape(), in[0].shape(), "g");
  check_lead(name(), sm.shape(), in[2].shape(), "class indices");
  const int64_t k = sm.shape().back();
  Array gd = in[0].contiguous(DType::Float64);
  Array r = sm.contiguous(DType::Float64).copy();
  Array yi = in[2].contiguous(DType::Int64);
  const double* gp = gd.data_as<double>();
  const int64_t* yp = yi.data_as<int64_t>();
  double* rp = r.data_as<double>();
  const int64_t lead_rows = shape_size(in[2].shape());
  for (int64_t i = 0; i < lead_rows; ++i) {
    const int64_t c = class_index(name(), yp[i], i, k, wraps_);
    double* q = rp + i * k;
    for (int64_t j = 0; j < k; ++j) q[j] *= gp[i];
    q[c] -= gp[i];
  }
  out[0] = sm.dtype() == DType::Float64 ? r : r.astype(sm.dtype());
}

// With G = (sm - onehot) * g[..., None] and H its incoming gradient:
// dG/dg = sum(H * (sm - onehot), -1) and dG/dsm = H * g[..., None].
std::vector<InputGrad> SoftmaxCrossentropy1HotGrad::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& g = node.inputs[0];
  const Var& sm = node.inputs[1];
  const Var& y = node.inputs[2];
  if (!og[0].defined()) return {InputGrad::disconnected(), InputGrad::disconnected(), InputGrad::disconnected()};
  Var diff = softmax_crossentropy_1hot_grad(ones_like(g), sm, y, wraps_);
  Var dg = sum(mul(og[0], diff), std::vector<int>{sm.ndim() - 1}, false);
  std::vector<int> order;
  for (int i = 0; i < g.ndim(); ++i) order.push_back(i);
  order.push_back(-1);
  Var dsm = mul(og[0], dimshuffle(g, order));
  return {InputGrad::of(cast(dg, g.dtype())), InputGrad::of(cast(dsm, sm.dtype())), InputGrad::disconnected()};
}

// ---- builders ----
Var softmax_crossentropy_1hot(const Var& z, const Var& y, bool negative_wraps) {
  return apply1(std::make_shared<SoftmaxCrossentropy1Hot>(negative_wraps), {z, y});
}

Var softmax_crossentropy_1hot_grad(const Var& g, const Var& sm, const Var& y, bool negative_wraps) {
  return apply1(std::make_shared<SoftmaxCrossentropy1HotGrad>(negative_wraps), {g, sm, y});
}

}  // namespace theon
