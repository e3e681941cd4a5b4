// theon/ops/batchnorm.h — batch normalization (theano.tensor.nnet.bn).
//
// Composed from elementwise ops and reductions: batch_normalization is the
// test-time form with given mean and std; batch_normalization_train
// normalizes with the batch statistics over `axes` and optionally updates
// running averages; batch_normalization_test uses given mean and variance.
// Parameters (gamma, beta, mean, var, running averages) either have the
// input's rank (length 1 on the normalized axes) or one dimension per
// non-normalized axis, as in Theano.
#pragma once
#include "theon/graph/node.h"

namespace theon {

// (inputs - mean) * (gamma / std) + beta; mode is "low_mem" or "high_mem"
// (the same computation here), anything else is an error.
Var batch_normalization(const Var& inputs, const Var& gamma, const Var& beta, const Var& mean,
                        const Var& std_dev, const std::string& mode = "low_mem");

// "per-activation" -> (0,), "spatial" -> (0, 2, 3, ...); throws for other names.
std::vector<int> batch_norm_axes(const std::string& name, int ndim);

// Returns {out, mean, invstd} or, with running averages given, {out, mean,
// invstd, new_running_mean, new_running_var}. Statistics have the parameters'
// layout. Both running averages or neither must be given (undefined Vars).
std::vector<Var> batch_normalization_train(const Var& inputs, const Var& gamma, const Var& beta,
                                           const std::vector<int>& axes, double epsilon = 1e-4,
                                           double running_average_factor = 0.1,
                                           const Var& running_mean = Var(),
                                           const Var& running_var = Var());

// (inputs - mean) * (gamma / sqrt(var + epsilon)) + beta.
Var batch_normalization_test(const Var& inputs, const Var& gamma, const Var& beta, const Var& mean,
                             const Var& var, const std::vector<int>& axes, double epsilon = 1e-4);

}  // namespace theon
