// theon/ops/nnet_fused.h — softmax fused with the one-hot categorical
// cross-entropy, the stable forms the stabilize rewrites produce.
//
// SoftmaxCrossentropy1Hot(z, y) is -log_softmax(z)[..., y] computed from the
// logits with the row maximum subtracted, so logits of any magnitude give a
// finite loss where crossentropy_categorical_1hot(softmax(z), y) takes the log
// of an underflowed 0. Its gradient, (softmax(z) - onehot(y)) * g[..., None],
// is its own op for the same reason: the naive gradient divides by that 0.
// z is (..., classes) and y holds integer class indices of z's leading shape;
// an index outside the classes is std::out_of_range naming the op. With
// `negative_wraps` indices in [-classes, 0) count from the end, as NumPy
// indexing does (the form -log_softmax(z)[arange(n), y] is rewritten to that).
// Integer logits compute in float64.
#pragma once
#include "theon/graph/node.h"

namespace theon {

class SoftmaxCrossentropy1Hot : public Op {
 public:
  explicit SoftmaxCrossentropy1Hot(bool negative_wraps = false) : wraps_(negative_wraps) {}
  std::string name() const override { return wraps_ ? "SoftmaxCrossentropy1Hot{wrap}" : "SoftmaxCrossentropy1Hot"; }
  std::string props() const override { return wraps_ ? "wrap" : ""; }
  bool negative_wraps() const { return wraps_; }
  THEON_OP_OVERRIDES

 private:
  bool wraps_;
};

// Inputs (g, sm, y): sm = softmax(z) of shape (..., classes), g and y of the
// leading shape; output sm * g[..., None] with g subtracted at the indexed class.
class SoftmaxCrossentropy1HotGrad : public Op {
 public:
  explicit SoftmaxCrossentropy1HotGrad(bool negative_wraps = false) : wraps_(negative_wraps) {}
  std::string name() const override {
    return wraps_ ? "SoftmaxCrossentropy1HotGrad{wrap}" : "SoftmaxCrossentropy1HotGrad";
  }
  std::string props() const override { return wraps_ ? "wrap" : ""; }
  bool negative_wraps() const { return wraps_; }
  THEON_OP_OVERRIDES

 private:
  bool wraps_;
};

// -log_softmax(z)[..., y], stably.
Var softmax_crossentropy_1hot(const Var& z, const Var& y, bool negative_wraps = false);
// (sm - onehot(y)) * g[..., None].
Var softmax_crossentropy_1hot_grad(const Var& g, const Var& sm, const Var& y, bool negative_wraps = false);

}  // namespace theon
