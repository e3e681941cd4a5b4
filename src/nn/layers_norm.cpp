// BatchNorm and LayerNorm.
#include <stdexcept>

#include "layers_internal.h"
#include "theon/nn/layers.h"
#include "theon/ops/batchnorm.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"

namespace theon::nn {

BatchNorm::BatchNorm(BatchNormOptions o) : UnaryLayer(o.name), o_(std::move(o)) {
  if (!(o_.momentum >= 0 && o_.momentum < 1))
    throw std::invalid_argument("[BatchNorm] momentum must be in [0, 1), got " + std::to_string(o_.momentum));
  if (!(o_.epsilon > 0)) throw std::invalid_argument("[BatchNorm] epsilon must be positive");
}

void BatchNorm::build1(const TensorType& t) {
  if (t.ndim() < 2) throw std::invalid_argument(error_prefix() + " expected an input of rank >= 2, got " + t.str());
  int64_t c = static_dim(t, o_.axis, "normalized (channel)");
  if (o_.scale) gamma_ = add_weight("gamma", {c}, "ones");
  if (o_.center) beta_ = add_weight("beta", {c}, "zeros");
  mean_ = add_weight("moving_mean", {c}, "zeros", false);
  var_ = add_weight("moving_variance", {c}, "ones", false);
}

Var BatchNorm::forward1(const Var& x, bool training) {
  int nd = x.ndim(), a = o_.axis < 0 ? o_.axis + nd : o_.axis;
  std::vector<int> axes;
  for (int i = 0; i < nd; ++i)
    if (i != a) axes.push_back(i);
  // Parameters have one dimension (the channel) and the op wants one per
  // non-normalized axis, which is exactly that.
  Var mean = param(mean_), var = param(var_);
  Var g = gamma_.defined() ? param(gamma_) : ones_like(mean);
  Var b = beta_.defined() ? param(beta_) : zeros_like(mean);
  if (!training) return batch_normalization_test(x, g, b, mean, var, axes, o_.epsilon);
  auto r = batch_normalization_train(x, g, b, axes, o_.epsilon, 1.0 - o_.momentum, mean_, var_);
  add_update(mean_, r[3]);
  add_update(var_, r[4]);
  return r[0];
}

Json BatchNorm::get_config() const {
  return Layer::get_config()
      .set("axis", o_.axis)
      .set("momentum", o_.momentum)
      .set("epsilon", o_.epsilon)
      .set("center", o_.center)
      .set("scale", o_.scale);
}

LayerNorm::LayerNorm(double eps, bool center, bool scale, std::string name)
    : UnaryLayer(std::move(name)), eps_(eps), center_(center), scale_(scale) {
  if (!(eps > 0)) throw std::invalid_argument("[LayerNorm] epsilon must be positive");
}

void LayerNorm::build1(const TensorType& t) {
  int64_t d = static_dim(t, -1, "feature (last)");
  if (scale_) gamma_ = add_weight("gamma", {d}, "ones");
  if (center_) beta_ = add_weight("beta", {d}, "zeros");
}

Var LayerNorm::forward1(const Var& x, bool) {
  int last = x.ndim() - 1;
  Var m = mean(x, std::vector<int>{last}, true);
  Var c = x - m;
  Var v = mean(sqr(c), std::vector<int>{last}, true);
  Var y = c / sqrt(v + eps_);
  if (scale_) y = y * param(gamma_);
  if (center_) y = y + param(beta_);
  return y;
}

Json LayerNorm::get_config() const {
  return Layer::get_config().set("epsilon", eps_).set("center", center_).set("scale", scale_);
}

}  // namespace theon::nn
