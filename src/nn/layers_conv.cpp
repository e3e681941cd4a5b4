// Conv2D and the pooling layers.
#include <stdexcept>

#include "layers_internal.h"
#include "theon/nn/activations.h"
#include "theon/nn/layers.h"
#include "theon/ops/conv.h"
#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/pool.h"
#include "theon/ops/shape.h"
#include "theon/ops/subtensor.h"

namespace theon::nn {

namespace {
void check_padding(const std::string& who, const std::string& p) {
  if (p != "valid" && p != "same")
    throw std::invalid_argument("[" + who + "] padding must be 'valid' or 'same', got '" + p + "'");
}
void check_positive(const std::string& who, const char* what, const std::array<int64_t, 2>& a) {
  if (a[0] <= 0 || a[1] <= 0)
    throw std::invalid_argument("[" + who + "] " + what + " must be positive, got (" + std::to_string(a[0]) + ", " +
                                std::to_string(a[1]) + ")");
}
}  // namespace

// ---- Conv2D ----
Conv2D::Conv2D(int64_t filters, std::array<int64_t, 2> k, Conv2DOptions o)
    : UnaryLayer(o.name), filters_(filters), k_(k), o_(std::move(o)) {
  if (filters <= 0) throw std::invalid_argument("[Conv2D] filters must be positive, got " + std::to_string(filters));
  check_positive("Conv2D", "kernel_size", k_);
  check_positive("Conv2D", "strides", o_.strides);
  check_positive("Conv2D", "dilation_rate", o_.dilation_rate);
  check_padding("Conv2D", o_.padding);
  check_activation(o_.activation);
  if (o_.groups <= 0 || filters % o_.groups != 0)
    throw std::invalid_argument("[Conv2D] groups must be positive and divide filters (" + std::to_string(filters) +
                                "), got " + std::to_string(o_.groups));
}

void Conv2D::build1(const TensorType& t) {
  if (t.ndim() != 4) throw std::invalid_argument(error_prefix() + " expected an NCHW input of rank 4, got " + t.str());
  int64_t c = static_dim(t, 1, "channel");
  if (c % o_.groups != 0)
    throw std::invalid_argument(error_prefix() + " input channels (" + std::to_string(c) + ") not divisible by groups (" +
                                std::to_string(o_.groups) + ")");
  kernel_ = add_weight("kernel", {filters_, c / o_.groups, k_[0], k_[1]}, o_.kernel_initializer, true,
                       o_.kernel_regularizer);
  if (o_.use_bias) bias_ = add_weight("bias", {filters_}, o_.bias_initializer, true, o_.bias_regularizer);
}

Var Conv2D::forward1(const Var& x, bool) {
  ConvParams p;
  p.subsample = o_.strides;
  p.dilation = o_.dilation_rate;
  p.num_groups = o_.groups;
  p.filter_flip = false;
  Var in = x;
  if (o_.padding == "same") {
    // Keras: out = ceil(in / s), total padding = (out - 1) * s + dilated kernel - in,
    // the odd one at the end. Symmetric totals map to an explicit pad; odd ones
    // pad the input itself.
    std::array<int64_t, 2> before{}, after{};
    bool symmetric = true;
    for (int d = 0; d < 2; ++d) {
      int64_t eff = (k_[size_t(d)] - 1) * o_.dilation_rate[size_t(d)] + 1, s = o_.strides[size_t(d)], total;
      if (s == 1) {
        total = eff - 1;
      } else {
        int64_t n = x.type().shape[size_t(2 + d)];
        if (n < 0)
          throw std::invalid_argument(error_prefix() + " 'same' padding with strides needs static spatial sizes, got " +
                                      x.type().str());
        int64_t out = (n + s - 1) / s;
        total = std::max<int64_t>((out - 1) * s + eff - n, 0);
      }
      before[size_t(d)] = total / 2;
      after[size_t(d)] = total - total / 2;
      symmetric = symmetric && before[size_t(d)] == after[size_t(d)];
    }
    if (symmetric) {
      set_border_mode(p, before[0], before[1]);
    } else {
      auto dims = shape_of(x);
      auto c64 = [](int64_t v) { return constant(double(v), DType::Int64); };
      Var z = zeros(std::vector<Var>{dims[0], dims[1], dims[2] + c64(before[0] + after[0]),
                                     dims[3] + c64(before[1] + after[1])},
                    x.dtype());
      Index idx{IndexItem::slice(), IndexItem::slice(), IndexItem::slice(c64(before[0]), dims[2] + c64(before[0])),
                IndexItem::slice(c64(before[1]), dims[3] + c64(before[1]))};
      in = set_subtensor(z, idx, x);
    }
  }
  Var y = conv2d(in, param(kernel_), p);
  if (o_.use_bias) y = y + dimshuffle(param(bias_), {-1, 0, -1, -1});
  return activation(o_.activation, y);
}

Json Conv2D::get_config() const {
  return Layer::get_config()
      .set("filters", filters_)
      .set("kernel_size", pair_json(k_))
      .set("strides", pair_json(o_.strides))
      .set("padding", o_.padding)
      .set("dilation_rate", pair_json(o_.dilation_rate))
      .set("groups", o_.groups)
      .set("activation", o_.activation)
      .set("use_bias", o_.use_bias)
      .set("kernel_initializer", o_.kernel_initializer.to_json())
      .set("bias_initializer", o_.bias_initializer.to_json())
      .set("kernel_regularizer", o_.kernel_regularizer.to_json())
      .set("bias_regularizer", o_.bias_regularizer.to_json());
}

// ---- pooling ----
Pool2DBase::Pool2DBase(bool max, std::array<int64_t, 2> pool, std::array<int64_t, 2> strides, std::string padding,
                       std::string name)
    : UnaryLayer(std::move(name)), max_(max), pool_(pool), strides_(strides), padding_(std::move(padding)) {
  const char* who = max ? "MaxPool2D" : "AvgPool2D";
  check_positive(who, "pool_size", pool_);
  if (strides_[0] == 0 && strides_[1] == 0) strides_ = pool_;
  check_positive(who, "strides", strides_);
  check_padding(who, padding_);
}

Var Pool2DBase::forward1(const Var& x, bool) {
  if (x.ndim() < 3) throw std::invalid_argument(error_prefix() + " expected an input of rank >= 3, got " + x.type().str());
  PoolParams p;
  p.ws = pool_;
  p.stride = strides_;
  p.ignore_border = padding_ == "valid";
  p.mode = max_ ? PoolMode::Max : PoolMode::AverageExcPad;
  return pool_2d(x, p);
}

Json Pool2DBase::get_config() const {
  return Layer::get_config().set("pool_size", pair_json(pool_)).set("strides", pair_json(strides_)).set("padding", padding_);
}

}  // namespace theon::nn
