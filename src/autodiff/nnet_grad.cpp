// Gradients of the nnet ops: Softmax / LogSoftmax and the one-hot
// cross-entropy, whose gradient is its own op (CrossentropyCategorical1HotGrad)
// so that only the indexed class is divided by coding_dist.
#include <stdexcept>

#include "theon/autodiff/grad.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/nnet.h"
#include "theon/ops/reduce.h"

namespace theon {

std::vector<InputGrad> Softmax::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& x = node.inputs[0];
  if (!is_float(x.dtype()) || !og[0].defined()) return {InputGrad::disconnected()};
  const Var out = node.output(0);
  const Var& gz = og[0];
  const std::vector<int> ax{axis_};
  Var g = log_ ? sub(gz, mul(exp(out), sum(gz, ax, true))) : mul(sub(gz, sum(mul(gz, out), ax, true)), out);
  return {InputGrad::of(cast(g, x.dtype()))};
}

std::vector<InputGrad> CrossentropyCategorical1Hot::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& c = node.inputs[0];
  if (!is_float(c.dtype()) || !og[0].defined()) return {InputGrad::disconnected(), InputGrad::disconnected()};
  Var g = apply1(std::make_shared<CrossentropyCategorical1HotGrad>(), {og[0], c, node.inputs[1]});
  return {InputGrad::of(g), InputGrad::disconnected()};
}

std::vector<TensorType> CrossentropyCategorical1HotGrad::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 3)
    throw std::invalid_argument("[CrossentropyCategorical1HotGrad] expected 3 inputs (gz, coding_dist, idx), got " +
                                std::to_string(ins.size()));
  const TensorType& gz = ins[0].type();
  const TensorType& c = ins[1].type();
  const TensorType& y = ins[2].type();
  if (!is_float(c.dtype) || !is_float(gz.dtype))
    throw std::invalid_argument("[CrossentropyCategorical1HotGrad] gz and coding_dist must be float, got " +
                                gz.str() + " and " + c.str());
  if (!is_integer(y.dtype) || c.ndim() < 1 || y.ndim() != c.ndim() - 1 || gz.ndim() != y.ndim())
    throw std::invalid_argument("[CrossentropyCategorical1HotGrad] expected gz and integer indices with one "
                                "dimension less than coding_dist, got " + gz.str() + ", " + c.str() + ", " + y.str());
  return {c};
}

std::optional<ShapeExprs> CrossentropyCategorical1HotGrad::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[1]};
}

void CrossentropyCategorical1HotGrad::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& c = in[1];
  Shape lead(c.shape().begin(), c.shape().end() - 1);
  if (in[0].shape() != lead || in[2].shape() != lead)
    throw std::invalid_argument("[CrossentropyCategorical1HotGrad] coding_dist of shape " + shape_str(c.shape()) +
                                " needs gz and class indices of shape " + shape_str(lead) + ", got " +
                                shape_str(in[0].shape()) + " and " + shape_str(in[2].shape()));
  const int64_t k = c.shape().back(), rows = shape_size(lead);
  Array gz = in[0].contiguous(DType::Float64);
  Array cd = c.contiguous(DType::Float64);
  Array yi = in[2].contiguous(DType::Int64);
  Array r = Array::zeros(DType::Float64, c.shape());
  const double* gp = gz.data_as<double>();
  const double* cp = cd.data_as<double>();
  const int64_t* yp = yi.data_as<int64_t>();
  double* rp = r.data_as<double>();
  for (int64_t i = 0; i < rows; ++i) {
    if (yp[i] < 0 || yp[i] >= k)
      throw std::out_of_range("[CrossentropyCategorical1HotGrad] class index " + std::to_string(yp[i]) +
                              " at position " + std::to_string(i) + " is out of range for " + std::to_string(k) +
                              " classes");
    rp[i * k + yp[i]] = -gp[i] / cp[i * k + yp[i]];
  }
  out[0] = c.dtype() == DType::Float64 ? r : r.astype(c.dtype());
}

// G = Grad(gz, c, y) is -gz / c at the indexed class. With H the gradient of
// G, q = sum(H * Grad(1, c, y)) = -H[y] / c[y] is d/dgz, and Grad(gz * q, c, y)
// = gz * H[y] / c[y]^2 at the indexed class is d/dc; neither divides by the
// other classes' entries.
std::vector<InputGrad> CrossentropyCategorical1HotGrad::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const Var& gz = node.inputs[0];
  const Var& c = node.inputs[1];
  const Var& y = node.inputs[2];
  if (!og[0].defined()) return {InputGrad::disconnected(), InputGrad::disconnected(), InputGrad::disconnected()};
  auto grad_op = [&](const Var& a) {
    return apply1(std::make_shared<CrossentropyCategorical1HotGrad>(), {a, c, y});
  };
  Var q = sum(mul(og[0], grad_op(ones_like(gz))), std::vector<int>{c.ndim() - 1}, false);
  Var dc = grad_op(mul(gz, cast(q, gz.dtype())));
  return {InputGrad::of(cast(q, gz.dtype())), InputGrad::of(cast(dc, c.dtype())), InputGrad::disconnected()};
}

}  // namespace theon
