// theon/ops/nnet.h — neural-network activations, softmax and cross-entropies.
//
// Theano's theano.tensor.nnet functions: softmax and log_softmax along an
// axis (one numerically stable op each, max-subtracted), the categorical
// cross-entropy against a probability matrix or a vector of class indices,
// the binary cross-entropy, and the activations relu, elu and selu composed
// from elementwise ops (sigmoid, softplus, softsign and hard_sigmoid are rows
// of the elementwise table). Integer inputs compute in float64; float16 and
// bfloat16 compute in float32 and keep their dtype.
#pragma once
#include "theon/graph/node.h"

namespace theon {

// softmax(x) = exp(x - max) / sum(exp(x - max)) along one axis; log_softmax
// is x - max - log(sum(exp(x - max))).
class Softmax : public Op {
 public:
  // `axis` is non-negative (normalised by the builder functions).
  Softmax(int axis, bool log) : axis_(axis), log_(log) {}
  std::string name() const override;
  std::string props() const override;
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node, const ShapeExprs& in) const override;
  // softmax: (gz - sum(gz * sm)) * sm; log_softmax: gz - exp(out) * sum(gz),
  // both from the op's own output, so no exp of large inputs is recomputed.
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
  int axis() const { return axis_; }
  bool is_log() const { return log_; }

 private:
  int axis_;
  bool log_;
};

// -log(coding[..., idx]) for integer class indices (Theano's
// crossentropy_categorical_1hot): coding is (..., classes), idx has the
// leading dims. An index outside [0, classes) is std::out_of_range.
class CrossentropyCategorical1Hot : public Op {
 public:
  std::string name() const override { return "CrossentropyCategorical1Hot"; }
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  std::optional<ShapeExprs> infer_shape(const ApplyNode& node, const ShapeExprs& in) const override;
  // Gradient w.r.t. coding_dist (CrossentropyCategorical1HotGrad); the class
  // indices are disconnected.
  std::vector<InputGrad> L_op(const ApplyNode& node, const std::vector<Var>& output_grads) const override;
};

// The gradient of CrossentropyCategorical1Hot w.r.t. coding_dist (Theano's
// CrossentropyCategorical1HotGrad): inputs (gz, coding_dist, idx), output of
// coding_dist's type with -gz / coding[..., idx] at the indexed class and 0
// elsewhere. Only the indexed entry is divided, so zeros elsewhere in
// coding_dist give no NaN.
class CrossentropyCategorical1HotGrad : public Op {
 public:
  std::string name() const override { return "CrossentropyCategorical1HotGrad"; }
  THEON_OP_OVERRIDES
};

// The float dtype nnet ops compute and return for an input dtype (ints -> float64).
DType nnet_float_dtype(DType d);

// Softmax along `axis` (default: the last).
Var softmax(const Var& x, int axis = -1);
// Log of the softmax along `axis`, computed stably.
Var log_softmax(const Var& x, int axis = -1);
// Theano semantics: when true_dist has coding_dist's rank it is a probability
// matrix and the result is -sum(true * log(coding), axis=-1); when it has one
// dimension less it holds integer class indices.
Var categorical_crossentropy(const Var& coding_dist, const Var& true_dist);
// The integer-index form only.
Var crossentropy_categorical_1hot(const Var& coding_dist, const Var& true_idx);
// -(target * log(output) + (1 - target) * log(1 - output)).
Var binary_crossentropy(const Var& output, const Var& target);
// max(x, 0) for alpha == 0, else x where x > 0 and alpha * x elsewhere.
Var relu(const Var& x, double alpha = 0.0);
Var relu(const Var& x, const Var& alpha);
// x where x > 0, alpha * (exp(x) - 1) elsewhere.
Var elu(const Var& x, double alpha = 1.0);
Var elu(const Var& x, const Var& alpha);
// Scaled ELU with the self-normalising constants of Klambauer et al. (2017).
Var selu(const Var& x);

}  // namespace theon
