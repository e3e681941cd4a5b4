// theon/autodiff/grad.h — symbolic differentiation.
//
// grad() walks the graph from a scalar cost back to the requested variables,
// asking each Op for its vector-Jacobian product (Op::L_op) and summing the
// contributions; the result is an ordinary graph, so gradients of gradients
// work. Lop/Rop, jacobian and hessian are built on it, and the modifiers
// (zero_grad, disconnected_grad, grad_clip, grad_scale) are identity ops
// whose L_op changes what flows back.
#pragma once
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "theon/graph/node.h"

namespace theon {

enum class DisconnectedInputs { Raise, Warn, Ignore };

// grad() was asked for the gradient of a variable the cost does not depend on
// (disconnected_inputs = Raise). Theano's DisconnectedInputError.
class DisconnectedInputError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A requested gradient is undefined (an op on the path has no gradient, e.g. a
// random draw) and null_gradients_raise is set. Theano's NullTypeGradError.
class NullTypeGradError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};
enum class ReturnDisconnected { Zero, None, Disconnected };

struct GradOptions {
  std::vector<Var> consider_constant{};             // no gradient flows through these
  DisconnectedInputs disconnected_inputs = DisconnectedInputs::Raise;
  std::vector<std::pair<Var, Var>> known_grads{};  // (variable, its gradient) seeds
  ReturnDisconnected return_disconnected = ReturnDisconnected::Zero;
  bool null_gradients_raise = true;  // false: undefined gradients come back as undefined Vars
  // Receives the message for each disconnected input under DisconnectedInputs::Warn
  // (unset: the message goes to std::cerr).
  std::function<void(const std::string&)> warn{};
};

// d cost / d wrt for each wrt. `cost` must be a scalar (unless known_grads
// seeds the walk and cost is undefined). Each gradient has its wrt's type
// (float16/bfloat16 gradients are computed in float32 and cast back).
std::vector<Var> grad(const Var& cost, const std::vector<Var>& wrt, const GradOptions& options = {});
Var grad(const Var& cost, const Var& wrt, const GradOptions& options = {});

// Left operator: sum_i eval_points[i] * d f[i] / d wrt (a vector-Jacobian product).
std::vector<Var> Lop(const std::vector<Var>& f, const std::vector<Var>& wrt, const std::vector<Var>& eval_points);
// Right operator: d f / d wrt . eval_points (a Jacobian-vector product), by the double-L-op trick.
std::vector<Var> Rop(const std::vector<Var>& f, const std::vector<Var>& wrt, const std::vector<Var>& eval_points);
// Jacobian of a vector (or scalar) expression w.r.t. wrt: shape expression.shape + wrt.shape.
// The expression's length must be known when the graph is built. Without
// options a disconnected wrt gives zeros; `options` (consider_constant,
// disconnected_inputs) apply to the gradient of each row.
Var jacobian(const Var& expression, const Var& wrt);
Var jacobian(const Var& expression, const Var& wrt, const GradOptions& options);
// Hessian of a scalar cost w.r.t. a vector (or scalar) wrt. `options` apply to
// the first gradient; a cost linear in wrt has a zero Hessian.
Var hessian(const Var& cost, const Var& wrt);
Var hessian(const Var& cost, const Var& wrt, const GradOptions& options);

// Gradient modifiers: identity in the forward pass.
Var zero_grad(const Var& x);          // gradient through x is zero
Var disconnected_grad(const Var& x);  // x is treated as disconnected (a constant)
Var grad_clip(const Var& x, double lo, double hi);  // clips the gradient through x
Var grad_scale(const Var& x, double k);             // multiplies the gradient through x

// Sums `g` down to the shape of `like` (undoing NumPy broadcasting), symbolically.
Var sum_to_like(const Var& g, const Var& like);

}  // namespace theon
