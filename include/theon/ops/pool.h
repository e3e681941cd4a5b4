// theon/ops/pool.h — 2-D pooling over the last two dimensions (Theano's pool_2d).
//
// Windows of `ws` taps move by `stride` over the last two axes of an N-d
// input (N >= 2) padded by `pad` on each side. Modes: 'max', 'sum',
// 'average_inc_pad' (padding counts in the divisor) and 'average_exc_pad'.
// With ignore_border=false the partial windows at the end are kept, as in
// Theano; padding needs ignore_border=true and must be smaller than ws.
// The output has the input's dtype (integer averages truncate, as Theano).
#pragma once
#include <array>

#include "theon/graph/node.h"

namespace theon {

enum class PoolMode : uint8_t { Max, Sum, AverageIncPad, AverageExcPad };

// Parses "max" / "sum" / "average_inc_pad" / "average_exc_pad" ("average" is
// average_inc_pad); throws std::invalid_argument naming the string otherwise.
PoolMode pool_mode_from_name(const std::string& name);
const char* pool_mode_name(PoolMode mode);

struct PoolParams {
  std::array<int64_t, 2> ws{2, 2};
  std::optional<std::array<int64_t, 2>> stride{};  // nullopt: ws
  std::array<int64_t, 2> pad{0, 0};
  bool ignore_border = true;
  PoolMode mode = PoolMode::Max;
};

class Pool2d : public Op {
 public:
  // Validates the parameters (positive ws and stride, pad < ws, pad only with ignore_border).
  explicit Pool2d(PoolParams p);
  std::string name() const override;
  std::string props() const override;
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node, const ShapeExprs& in) const override;
  // The gradient w.r.t. a float input, through Pool2dGrad.
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
  const PoolParams& params() const { return p_; }
  // Output length of one pooled dim (0 rows, 1 cols) for an input length; -1 stays -1.
  int64_t out_size(int dim, int64_t in) const;

 private:
  PoolParams p_;  // stride always set
};

// Pool2dGrad(x, gz): the gradient of Pool2d w.r.t. x (Theano's MaxPoolGrad
// and AveragePoolGrad), x-shaped. Max mode sends each window's gradient to
// every position equal to the window's maximum (all maxima on ties, as
// Theano's MaxPoolGrad; NaN positions get none); sum adds it to every position
// in the window; the averages add it divided by the forward op's divisor.
// Padding positions receive nothing. x must be float.
class Pool2dGrad : public Op {
 public:
  explicit Pool2dGrad(PoolParams p) : fwd_(std::move(p)) {}
  std::string name() const override;
  std::string props() const override { return fwd_.props(); }
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node, const ShapeExprs& in) const override;
  // Linear in gz: its adjoint is Pool2d for sum and the averages, and
  // MaxPool2dGradGrad for max; x only selects (max) or shapes (others), so
  // its gradient is zero or disconnected.
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
  const PoolParams& params() const { return fwd_.params(); }

 private:
  Pool2d fwd_;  // the forward op, for its parameters and output sizes
};

// MaxPool2dGradGrad(x, h): pooled-shaped, the sum of h over the positions of
// each window equal to its maximum (Theano's DownsampleFactorMaxGradGrad); the
// adjoint of max-mode Pool2dGrad in gz, used for second-order gradients.
class MaxPool2dGradGrad : public Op {
 public:
  explicit MaxPool2dGradGrad(PoolParams p);
  std::string name() const override { return "MaxPoolGradGrad"; }
  std::string props() const override { return fwd_.props(); }
  THEON_OP_OVERRIDES
  const PoolParams& params() const { return fwd_.params(); }

 private:
  Pool2d fwd_;
};

// Theano's pool_2d(input, ws, ignore_border, stride, pad, mode).
Var pool_2d(const Var& input, const PoolParams& params);

}  // namespace theon
