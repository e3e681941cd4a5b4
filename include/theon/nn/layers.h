// theon/nn/layers.h — the built-in layers.
//
// Images are NCHW, as in Theano (batch, channels, rows, cols); convolution
// kernels are (filters, in_channels / groups, rows, cols) and compute a
// cross-correlation, as Keras and PyTorch do. Each layer takes its
// hyper-parameters in the constructor (options structs for the long lists,
// so C++20 designated initializers read like Keras keywords) and reports them
// in get_config(); layer_from_config() rebuilds any of them by class name.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "theon/nn/layer.h"
#include "theon/ops/random.h"

namespace theon::nn {

struct DenseOptions {
  std::string activation = "linear";
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  Regularizer kernel_regularizer{};
  Regularizer bias_regularizer{};
  std::string name{};
};

// activation(dot(x, kernel) + bias); kernel (in, units) over the last axis of x.
class Dense : public UnaryLayer {
 public:
  explicit Dense(int64_t units, DenseOptions o = {});
  Dense(int64_t units, const std::string& activation) : Dense(units, DenseOptions{.activation = activation}) {}
  std::string class_name() const override { return "Dense"; }
  Json get_config() const override;
  int64_t units() const { return units_; }

 protected:
  void build1(const TensorType& t) override;
  Var forward1(const Var& x, bool training) override;

 private:
  int64_t units_;
  DenseOptions o_;
  Var kernel_, bias_;
};

struct Conv2DOptions {
  std::array<int64_t, 2> strides{1, 1};
  std::string padding = "valid";  // "valid" | "same"
  std::array<int64_t, 2> dilation_rate{1, 1};
  int64_t groups = 1;
  std::string activation = "linear";
  bool use_bias = true;
  Initializer kernel_initializer = "glorot_uniform";
  Initializer bias_initializer = "zeros";
  Regularizer kernel_regularizer{};
  Regularizer bias_regularizer{};
  std::string name{};
};

// 2-D convolution of NCHW inputs. 'same' padding gives ceil(in / stride)
// outputs with the padding split as Keras does (the extra row/col, if any, at the end).
class Conv2D : public UnaryLayer {
 public:
  Conv2D(int64_t filters, std::array<int64_t, 2> kernel_size, Conv2DOptions o = {});
  Conv2D(int64_t filters, int64_t kernel_size, Conv2DOptions o = {}) : Conv2D(filters, {kernel_size, kernel_size}, std::move(o)) {}
  std::string class_name() const override { return "Conv2D"; }
  Json get_config() const override;

 protected:
  void build1(const TensorType& t) override;
  Var forward1(const Var& x, bool training) override;

 private:
  int64_t filters_;
  std::array<int64_t, 2> k_;
  Conv2DOptions o_;
  Var kernel_, bias_;
};

// Max or average pooling over the last two axes. strides default to pool_size;
// 'same' keeps the partial windows at the border (averages exclude the padding).
class Pool2DBase : public UnaryLayer {
 public:
  Pool2DBase(bool max, std::array<int64_t, 2> pool_size, std::array<int64_t, 2> strides, std::string padding,
             std::string name);
  Json get_config() const override;

 protected:
  Var forward1(const Var& x, bool training) override;

 private:
  bool max_;
  std::array<int64_t, 2> pool_, strides_;
  std::string padding_;
};
class MaxPool2D : public Pool2DBase {
 public:
  explicit MaxPool2D(std::array<int64_t, 2> pool_size = {2, 2}, std::array<int64_t, 2> strides = {0, 0},
                     std::string padding = "valid", std::string name = "")
      : Pool2DBase(true, pool_size, strides, std::move(padding), std::move(name)) {}
  explicit MaxPool2D(int64_t pool) : MaxPool2D(std::array<int64_t, 2>{pool, pool}) {}
  std::string class_name() const override { return "MaxPool2D"; }
};
class AvgPool2D : public Pool2DBase {
 public:
  explicit AvgPool2D(std::array<int64_t, 2> pool_size = {2, 2}, std::array<int64_t, 2> strides = {0, 0},
                     std::string padding = "valid", std::string name = "")
      : Pool2DBase(false, pool_size, strides, std::move(padding), std::move(name)) {}
  explicit AvgPool2D(int64_t pool) : AvgPool2D(std::array<int64_t, 2>{pool, pool}) {}
  std::string class_name() const override { return "AvgPool2D"; }
};

// Mean over the two spatial axes: (N, C, H, W) -> (N, C).
class GlobalAvgPool2D : public UnaryLayer {
 public:
  explicit GlobalAvgPool2D(std::string name = "") : UnaryLayer(std::move(name)) {}
  std::string class_name() const override { return "GlobalAvgPool2D"; }

 protected:
  Var forward1(const Var& x, bool training) override;
};

// (N, ...) -> (N, prod(...)).
class Flatten : public UnaryLayer {
 public:
  explicit Flatten(std::string name = "") : UnaryLayer(std::move(name)) {}
  std::string class_name() const override { return "Flatten"; }

 protected:
  Var forward1(const Var& x, bool training) override;
};

// (N, ...) -> (N, target_shape...); one entry of target_shape may be -1.
class Reshape : public UnaryLayer {
 public:
  explicit Reshape(std::vector<int64_t> target_shape, std::string name = "");
  std::string class_name() const override { return "Reshape"; }
  Json get_config() const override;

 protected:
  Var forward1(const Var& x, bool training) override;

 private:
  std::vector<int64_t> target_;
};

// Zeroes a fraction `rate` of the inputs during training and scales the rest
// by 1 / (1 - rate) (inverted dropout); the identity at inference. The mask
// comes from a RandomStreams seeded by `seed` (0: the global seed sequence).
class Dropout : public UnaryLayer {
 public:
  explicit Dropout(double rate, uint64_t seed = 0, std::string name = "");
  std::string class_name() const override { return "Dropout"; }
  Json get_config() const override;

 protected:
  Var forward1(const Var& x, bool training) override;

 private:
  double rate_;
  uint64_t seed_;
  std::shared_ptr<RandomStreams> srng_;
};

struct BatchNormOptions {
  int axis = 1;  // the channel axis (NCHW); -1 for (N, features) inputs works too
  double momentum = 0.99;
  double epsilon = 1e-3;
  bool center = true, scale = true;
  std::string name{};
};

// Batch normalization: in training, normalizes with the batch statistics and
// updates moving_mean / moving_variance (moving = momentum * moving +
// (1 - momentum) * batch, the unbiased batch variance as in Theano); at
// inference, normalizes with the moving statistics.
class BatchNorm : public UnaryLayer {
 public:
  explicit BatchNorm(BatchNormOptions o = {});
  std::string class_name() const override { return "BatchNorm"; }
  Json get_config() const override;

 protected:
  void build1(const TensorType& t) override;
  Var forward1(const Var& x, bool training) override;

 private:
  BatchNormOptions o_;
  Var gamma_, beta_, mean_, var_;
};

// Layer normalization over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta.
class LayerNorm : public UnaryLayer {
 public:
  explicit LayerNorm(double epsilon = 1e-3, bool center = true, bool scale = true, std::string name = "");
  std::string class_name() const override { return "LayerNorm"; }
  Json get_config() const override;

 protected:
  void build1(const TensorType& t) override;
  Var forward1(const Var& x, bool training) override;

 private:
  double eps_;
  bool center_, scale_;
  Var gamma_, beta_;
};

// Integer indices (any shape) -> rows of an (input_dim, output_dim) table.
class Embedding : public UnaryLayer {
 public:
  Embedding(int64_t input_dim, int64_t output_dim, Initializer init = Initializer::uniform(-0.05, 0.05),
            std::string name = "");
  std::string class_name() const override { return "Embedding"; }
  Json get_config() const override;

 protected:
  void build1(const TensorType& t) override;
  Var forward1(const Var& x, bool training) override;

 private:
  int64_t in_, out_;
  Initializer init_;
  Var table_;
};

// A named activation as a layer (see activations.h); alpha < 0: the default.
class Activation : public UnaryLayer {
 public:
  explicit Activation(std::string activation, double alpha = -1, std::string name = "");
  std::string class_name() const override { return "Activation"; }
  Json get_config() const override;

 protected:
  Var forward1(const Var& x, bool training) override;

 private:
  std::string act_;
  double alpha_;
};

// Elementwise sum of any number (>= 2) of same-shaped inputs (residual connections).
class Add : public Layer {
 public:
  explicit Add(std::string name = "") : Layer(std::move(name)) {}
  std::string class_name() const override { return "Add"; }
  int num_inputs() const override { return -1; }

 protected:
  Var forward(const std::vector<Var>& inputs, bool training) override;
};

// Joins inputs along `axis` (default -1).
class Concatenate : public Layer {
 public:
  explicit Concatenate(int axis = -1, std::string name = "") : Layer(std::move(name)), axis_(axis) {}
  std::string class_name() const override { return "Concatenate"; }
  int num_inputs() const override { return -1; }
  Json get_config() const override;

 protected:
  Var forward(const std::vector<Var>& inputs, bool training) override;

 private:
  int axis_;
};

}  // namespace theon::nn
