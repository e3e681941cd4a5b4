// Batch normalization, composed from elementwise ops and reductions.
#include "theon/ops/batchnorm.h"

#include <algorithm>
#include <stdexcept>

#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"

namespace theon {

namespace {

std::string axes_str(const std::vector<int>& a) {
  std::string s = "(";
  for (size_t i = 0; i < a.size(); ++i) s += (i ? ", " : "") + std::to_string(a[i]);
  return s + (a.size() == 1 ? ",)" : ")");
}

// Normalized axes, the remaining axes, and how to lift parameters to the input's rank.
struct BnLayout {
  std::vector<int> axes, kept;
  int params_ndim = 0;
  int ndim = 0;

  // A parameter in the input's rank: dimshuffled when given per kept axis.
  Var lift(const Var& v, const char* who, const char* what) const {
    if (v.ndim() != params_ndim)
      throw std::invalid_argument(std::string("[") + who + "] " + what + " must have " +
                                  std::to_string(params_ndim) + " dimension(s) like gamma, got " + v.type().str());
    if (params_ndim == ndim) {
      for (int a : axes)
        if (v.type().shape[a] > 1)
          throw std::invalid_argument(std::string("[") + who + "] " + what + " " + v.type().str() +
                                      " must have length 1 on the normalized axes " + axes_str(axes));
      return v;
    }
    std::vector<int> order(ndim, -1);
    for (size_t i = 0; i < kept.size(); ++i) order[kept[i]] = int(i);
    return dimshuffle(v, order);
  }
  // A statistic with keepdims back in the parameters' layout.
  Var lower(const Var& v) const { return params_ndim == ndim ? v : dimshuffle(v, kept); }
};

BnLayout bn_layout(const char* who, const Var& inputs, const Var& gamma, const Var& beta,
                   std::vector<int> axes, double epsilon) {
  BnLayout l;
  l.ndim = inputs.ndim();
  std::sort(axes.begin(), axes.end());
  if (axes.empty()) throw std::invalid_argument(std::string("[") + who + "] there should be at least one normalization axis");
  if (axes.front() < 0 || axes.back() >= l.ndim)
    throw std::invalid_argument(std::string("[") + who + "] axes should be less than ndim (<" +
                                std::to_string(l.ndim) + "), but " + axes_str(axes) + " given");
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    throw std::invalid_argument(std::string("[") + who + "] repeated axis in " + axes_str(axes));
  for (int i = 0; i < l.ndim; ++i)
    if (!std::binary_search(axes.begin(), axes.end(), i)) l.kept.push_back(i);
  l.axes = axes;
  l.params_ndim = gamma.ndim() == l.ndim ? l.ndim : int(l.kept.size());
  if (gamma.ndim() != l.params_ndim || beta.ndim() != l.params_ndim)
    throw std::invalid_argument(std::string("[") + who + "] gamma and beta dimensionality must match the number "
                                "of non-normalized axes, or have the same number of dimensions as the inputs; got " +
                                std::to_string(gamma.ndim()) + " and " + std::to_string(beta.ndim()) + " instead of " +
                                std::to_string(l.params_ndim));
  if (!(epsilon >= 1e-5))
    throw std::invalid_argument(std::string("[") + who + "] epsilon must be at least 1e-5, got " + std::to_string(epsilon));
  if (inputs.dtype() == DType::Bool)
    throw std::invalid_argument(std::string("[") + who + "] inputs must be numeric, got " + inputs.type().str());
  return l;
}

}  // namespace

Var batch_normalization(const Var& inputs, const Var& gamma, const Var& beta, const Var& mean, const Var& std_dev,
                        const std::string& mode) {
  if (mode != "low_mem" && mode != "high_mem")
    throw std::invalid_argument("[batch_normalization] mode must be either \"low_mem\" or \"high_mem\", got \"" +
                                mode + "\"");
  return add(mul(sub(inputs, mean), true_div(gamma, std_dev)), beta);
}

std::vector<int> batch_norm_axes(const std::string& name, int ndim) {
  if (name == "per-activation") return {0};
  if (name == "spatial") {
    std::vector<int> r{0};
    for (int i = 2; i < ndim; ++i) r.push_back(i);
    return r;
  }
  throw std::invalid_argument("[batch_normalization] invalid axes: '" + name +
                              "' (expected 'per-activation', 'spatial' or a tuple of ints)");
}

std::vector<Var> batch_normalization_train(const Var& inputs, const Var& gamma, const Var& beta,
                                           const std::vector<int>& axes, double epsilon, double factor,
                                           const Var& running_mean, const Var& running_var) {
  const char* who = "batch_normalization_train";
  BnLayout l = bn_layout(who, inputs, gamma, beta, axes, epsilon);
  if (running_mean.defined() != running_var.defined())
    throw std::invalid_argument("[batch_normalization_train] running_mean and running_var must either both be "
                                "given or both be None");
  Var g = l.lift(gamma, who, "gamma"), b = l.lift(beta, who, "beta");
  Var x = is_float(inputs.dtype()) ? inputs : cast(inputs, DType::Float64);
  Var m = mean(x, l.axes, true);
  Var v = var(x, l.axes, true);
  Var invstd = 1.0 / sqrt(v + epsilon);
  Var out = add(mul(sub(x, m), mul(g, invstd)), b);
  std::vector<Var> r{out, l.lower(m), l.lower(invstd)};
  if (running_mean.defined()) {
    Var rm = l.lift(running_mean, who, "running_mean"), rv = l.lift(running_var, who, "running_var");
    Var count = constant(1.0, DType::Int64);
    for (int a : l.axes) count = mul(count, shape_i(x, a));
    Var n = cast(count, v.dtype());
    Var unbias = n / maximum(n - 1.0, weak_scalar(1.0, ScalarKind::Float, n.dtype()));
    Var new_rm = add(rm * (1.0 - factor), m * factor);
    Var new_rv = add(rv * (1.0 - factor), mul(unbias, v) * factor);
    r.push_back(l.lower(new_rm));
    r.push_back(l.lower(new_rv));
  }
  return r;
}

Var batch_normalization_test(const Var& inputs, const Var& gamma, const Var& beta, const Var& mean_,
                             const Var& var_, const std::vector<int>& axes, double epsilon) {
  const char* who = "batch_normalization_test";
  BnLayout l = bn_layout(who, inputs, gamma, beta, axes, epsilon);
  Var g = l.lift(gamma, who, "gamma"), b = l.lift(beta, who, "beta");
  Var m = l.lift(mean_, who, "mean"), v = l.lift(var_, who, "var");
  return add(mul(sub(inputs, m), true_div(g, sqrt(v + epsilon))), b);
}

}  // namespace theon
