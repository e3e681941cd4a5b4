// theon/nn/activations.h — activation functions by name.
//
// The names layers accept for `activation`: linear (identity), relu,
// leaky_relu (slope 0.2 below zero, Keras 3's default), elu, selu, gelu (the
// exact erf form), tanh, sigmoid, softmax and log_softmax (over the last axis),
// swish (x * sigmoid(x), also "silu"), softplus, softsign, hard_sigmoid.
#pragma once
#include <string>
#include <vector>

#include "theon/graph/node.h"

namespace theon::nn {

// Applies the named activation; throws std::invalid_argument listing the known
// names for an unknown one. `alpha` is leaky_relu's slope and elu's alpha
// (negative: the default).
Var activation(const std::string& name, const Var& x, double alpha = -1);
// Checks a name without building anything (layers validate at construction).
void check_activation(const std::string& name);
std::vector<std::string> activation_names();

}  // namespace theon::nn
