// Dense, Flatten, Reshape, Dropout, Embedding, Activation, Add, Concatenate, GlobalAvgPool2D.
#include <stdexcept>

#include "layers_internal.h"
#include "theon/nn/activations.h"
#include "theon/nn/layers.h"
#include "theon/ops/blas.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/join.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"
#include "theon/ops/subtensor.h"

namespace theon::nn {

// ---- Dense ----
Dense::Dense(int64_t units, DenseOptions o) : UnaryLayer(o.name), units_(units), o_(std::move(o)) {
  if (units <= 0) throw std::invalid_argument("[Dense] units must be positive, got " + std::to_string(units));
  check_activation(o_.activation);
}
void Dense::build1(const TensorType& t) {
  if (t.ndim() < 2) throw std::invalid_argument(error_prefix() + " expected an input of rank >= 2, got " + t.str());
  int64_t in = static_dim(t, -1, "feature (last)");
  kernel_ = add_weight("kernel", {in, units_}, o_.kernel_initializer, true, o_.kernel_regularizer);
  if (o_.use_bias) bias_ = add_weight("bias", {units_}, o_.bias_initializer, true, o_.bias_regularizer);
}
Var Dense::forward1(const Var& x, bool) {
  Var y = dot(x, param(kernel_));
  if (o_.use_bias) y = y + param(bias_);
  return activation(o_.activation, y);
}
Json Dense::get_config() const {
  return Layer::get_config()
      .set("units", units_)
      .set("activation", o_.activation)
      .set("use_bias", o_.use_bias)
      .set("kernel_initializer", o_.kernel_initializer.to_json())
      .set("bias_initializer", o_.bias_initializer.to_json())
      .set("kernel_regularizer", o_.kernel_regularizer.to_json())
      .set("bias_regularizer", o_.bias_regularizer.to_json());
}

// ---- Flatten / Reshape / GlobalAvgPool2D ----
Var Flatten::forward1(const Var& x, bool) {
  if (x.ndim() < 2) throw std::invalid_argument(error_prefix() + " expected an input of rank >= 2, got " + x.type().str());
  int64_t prod = 1;
  for (int d = 1; d < x.ndim(); ++d) {
    int64_t n = x.type().shape[size_t(d)];
    if (n < 0) return flatten(x, 2);
    prod *= n;
  }
  // Known sample sizes give a static feature size, which the next layer needs to build.
  return reshape(x, std::vector<Var>{shape_i(x, 0), constant(double(prod), DType::Int64)});
}

Reshape::Reshape(std::vector<int64_t> target, std::string name) : UnaryLayer(std::move(name)), target_(std::move(target)) {
  int unknown = 0;
  for (int64_t d : target_) {
    if (d == -1) ++unknown;
    else if (d <= 0) throw std::invalid_argument("[Reshape] target dimensions must be positive or -1");
  }
  if (unknown > 1) throw std::invalid_argument("[Reshape] at most one target dimension may be -1");
}
Var Reshape::forward1(const Var& x, bool) {
  std::vector<Var> shape{shape_i(x, 0)};
  for (int64_t d : target_) shape.push_back(constant(double(d), DType::Int64));
  return reshape(x, shape);
}
Json Reshape::get_config() const { return Layer::get_config().set("target_shape", Json::ints(target_)); }

Var GlobalAvgPool2D::forward1(const Var& x, bool) {
  if (x.ndim() != 4) throw std::invalid_argument(error_prefix() + " expected an NCHW input of rank 4, got " + x.type().str());
  return mean(x, std::vector<int>{2, 3});
}

// ---- Dropout ----
Dropout::Dropout(double rate, uint64_t seed, std::string name)
    : UnaryLayer(std::move(name)), rate_(rate), seed_(seed) {
  if (!(rate >= 0 && rate < 1)) throw std::invalid_argument("[Dropout] rate must be in [0, 1), got " + std::to_string(rate));
  srng_ = std::make_shared<RandomStreams>(seed ? seed : next_seed());
}
Var Dropout::forward1(const Var& x, bool training) {
  if (!training || rate_ == 0) return x;
  double keep = 1.0 - rate_;
  DType d = is_float(x.dtype()) ? x.dtype() : DType::Float32;
  Var u = srng_->uniform(RandomSize(shape(x)), 0.0, 1.0, x.ndim(), d);
  Var mask = cast(lt(u, constant(keep, d)), d);
  return x * mask * (1.0 / keep);
}
Json Dropout::get_config() const {
  return Layer::get_config().set("rate", rate_).set("seed", int64_t(seed_ & ((uint64_t(1) << 52) - 1)));
}

// ---- Embedding ----
Embedding::Embedding(int64_t input_dim, int64_t output_dim, Initializer init, std::string name)
    : UnaryLayer(std::move(name)), in_(input_dim), out_(output_dim), init_(std::move(init)) {
  if (in_ <= 0 || out_ <= 0) throw std::invalid_argument("[Embedding] input_dim and output_dim must be positive");
}
void Embedding::build1(const TensorType& t) {
  if (!is_integer(t.dtype))
    throw std::invalid_argument(error_prefix() + " expected integer indices, got " + t.str());
  dtype_ = DType::Float32;
  table_ = add_weight("embeddings", {in_, out_}, init_);
}
Var Embedding::forward1(const Var& x, bool) { return take(param(table_), x, 0); }
Json Embedding::get_config() const {
  return Layer::get_config().set("input_dim", in_).set("output_dim", out_).set("embeddings_initializer", init_.to_json());
}

// ---- Activation ----
Activation::Activation(std::string act, double alpha, std::string name)
    : UnaryLayer(std::move(name)), act_(std::move(act)), alpha_(alpha) {
  check_activation(act_);
}
Var Activation::forward1(const Var& x, bool) { return activation(act_, x, alpha_); }
Json Activation::get_config() const { return Layer::get_config().set("activation", act_).set("alpha", alpha_); }

// ---- Add / Concatenate ----
Var Add::forward(const std::vector<Var>& in, bool) {
  if (in.size() < 2) throw std::invalid_argument(error_prefix() + " expected at least 2 inputs, got " + std::to_string(in.size()));
  Var s = in[0];
  for (size_t i = 1; i < in.size(); ++i) s = s + in[i];
  return s;
}
Var Concatenate::forward(const std::vector<Var>& in, bool) {
  if (in.size() < 2) throw std::invalid_argument(error_prefix() + " expected at least 2 inputs, got " + std::to_string(in.size()));
  int nd = in[0].ndim();
  int a = axis_ < 0 ? axis_ + nd : axis_;
  return concatenate(in, a);
}
Json Concatenate::get_config() const { return Layer::get_config().set("axis", axis_); }

}  // namespace theon::nn
