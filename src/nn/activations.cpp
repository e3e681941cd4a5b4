// Activation functions by name (see theon/nn/activations.h).
#include "theon/nn/activations.h"

#include <cmath>
#include <stdexcept>

#include "theon/ops/elemwise.h"
#include "theon/ops/nnet.h"

namespace theon::nn {

std::vector<std::string> activation_names() {
  return {"linear", "relu", "leaky_relu", "elu", "selu", "gelu", "tanh", "sigmoid", "softmax", "log_softmax",
          "swish", "silu", "softplus", "softsign", "hard_sigmoid"};
}

void check_activation(const std::string& name) {
  for (const auto& n : activation_names())
    if (n == name || name.empty()) return;
  std::string all;
  for (const auto& n : activation_names()) all += (all.empty() ? "" : ", ") + n;
  throw std::invalid_argument("[activation] unknown activation '" + name + "'; expected one of " + all);
}

Var activation(const std::string& name, const Var& x, double alpha) {
  check_activation(name);
  if (name == "linear" || name.empty()) return x;
  if (name == "relu") return relu(x);
  if (name == "leaky_relu") return relu(x, alpha < 0 ? 0.2 : alpha);
  if (name == "elu") return elu(x, alpha < 0 ? 1.0 : alpha);
  if (name == "selu") return selu(x);
  if (name == "gelu") return x * 0.5 * (erf(x * (1.0 / std::sqrt(2.0))) + 1.0);
  if (name == "tanh") return tanh(x);
  if (name == "sigmoid") return sigmoid(x);
  if (name == "softmax") return softmax(x, -1);
  if (name == "log_softmax") return log_softmax(x, -1);
  if (name == "swish" || name == "silu") return x * sigmoid(x);
  if (name == "softplus") return softplus(x);
  if (name == "softsign") return softsign(x);
  return hard_sigmoid(x);
}

}  // namespace theon::nn
