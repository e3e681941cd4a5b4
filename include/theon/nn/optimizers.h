// theon/nn/optimizers.h — gradient-descent optimizers as Theano-style updates.
//
// An Optimizer turns parameters (shared variables) and their gradients into
// `Updates`, the (shared variable, new value) pairs a compiled function applies
// after each call, so one call of the training function is one optimizer step:
//
//   auto opt = theon::nn::adam(1e-3);
//   auto updates = opt->get_updates(loss, params);
//   auto train = theon::function({x, y}, {loss}, {.updates = updates});
//
// The optimizer owns its state as shared variables: `iterations` (int64, the
// number of steps taken; Adam's bias correction reads it), `learning_rate` (a
// float64 scalar, so a schedule or callback can change it between calls with
// set_learning_rate / set_value, and float64 parameters see it unrounded) and
// per-parameter slots (momentum, moment estimates, accumulators) with the
// parameter's dtype and shape, named "<param name>/<slot>". All of it is in
// state(), for saving and restoring. Asking for the updates of a parameter a
// second time (a second compiled function) reuses its slots.
//
// The update equations follow Keras 3 (keras.optimizers), whose defaults these
// factories take unless noted; each factory's comment gives the formula, and
// where PyTorch (torch.optim) differs — usually only in where epsilon sits —
// it says so. Updates of one step are computed from the values before the
// step, together, as Theano's updates are.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "theon/compile/function.h"
#include "theon/graph/node.h"
#include "theon/nn/schedules.h"

namespace theon::nn {

// Gradient clipping applied before the update rule (0 = off), as Keras's
// optimizer arguments: clipvalue clips each element to [-clipvalue, clipvalue];
// clipnorm rescales each gradient tensor whose L2 norm exceeds clipnorm to
// that norm; global_clipnorm rescales all gradients together when their joint
// norm exceeds it (clip_by_global_norm). They apply in that order.
struct Clipping {
  double clipnorm = 0;
  double global_clipnorm = 0;
  double clipvalue = 0;
};

// g * max_norm / max(||g||, max_norm): each gradient rescaled so its L2 norm is
// at most max_norm (tf.clip_by_norm). Throws for max_norm <= 0.
Var clip_by_norm(const Var& grad, double max_norm);
// All gradients scaled by max_norm / max(global_norm, max_norm), where
// global_norm = sqrt(sum of every squared element of every gradient), so their
// directions are kept and the joint norm is at most max_norm
// (tf.clip_by_global_norm, torch.nn.utils.clip_grad_norm_ without its 1e-6).
// The norm is accumulated in float32 or wider.
std::vector<Var> clip_by_global_norm(const std::vector<Var>& grads, double max_norm);

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // grad(loss, params), then apply_gradients. `params` must be shared float variables.
  Updates get_updates(const Var& loss, const std::vector<Var>& params);
  // The updates of one step for the given gradients (one per parameter, of its
  // type): clipping, the update rule of every parameter and iterations + 1.
  Updates apply_gradients(const std::vector<Var>& params, const std::vector<Var>& grads);

  // Creates the state slots of `params` (as get_updates would) without making
  // updates, so saved state can be restored into them before the training
  // function is built (Keras's optimizer.build).
  void build(const std::vector<Var>& params);

  // "sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta".
  const std::string& name() const { return name_; }
  // Hyperparameters by Keras's names (learning_rate is the current value;
  // booleans are 0/1; clipping entries only when set), for saving; make_optimizer
  // rebuilds an equal optimizer from name() and config().
  std::map<std::string, double> config() const;

  // The learning-rate shared scalar (float64, 0-d) every update reads (cast to
  // float32 for float32/float16/bfloat16 parameters).
  const Var& learning_rate() const { return lr_; }
  double get_learning_rate() const;
  void set_learning_rate(double lr);
  // A schedule over batches, as Keras's optimizer-level schedules: once set,
  // update_learning_rate() sets the rate to schedule(iterations), the number of
  // steps taken; the training loop calls it before each step. An empty
  // schedule removes it. Setting one applies schedule(iterations) at once.
  void set_schedule(Schedule schedule);
  const Schedule& schedule() const { return schedule_; }
  // With a schedule: set_learning_rate(schedule(iterations)); otherwise nothing.
  void update_learning_rate();
  // Steps taken (the int64 shared scalar `iterations`).
  const Var& iterations() const { return iterations_; }
  const Clipping& clipping() const { return clip_; }

  // Every state variable: iterations, learning_rate, then each parameter's
  // slots in the order the parameters were first seen, slots in a fixed order.
  std::vector<Var> state() const;

 protected:
  Optimizer(std::string name, double learning_rate, std::map<std::string, double> hyper, Clipping clip);
  // The (slot, new value) updates and the parameter's new value, given its
  // (clipped) gradient, the learning rate and the step number t = iterations + 1,
  // both float64 for float64 parameters, else float32 (apply_gradients casts
  // each new value back to its variable's dtype).
  virtual Updates update_rule(const Var& param, const Var& grad, const Var& lr, const Var& t) = 0;
  // The parameter's slot called `slot`, created (filled with `init`) on first use.
  Var slot(const Var& param, const std::string& slot, double init = 0);
  double hyper(const std::string& key) const { return hyper_.at(key); }

 private:
  // Throws unless every parameter is a distinct shared float variable.
  void check_params(const std::vector<Var>& params, const std::string& who) const;
  std::string name_;
  std::map<std::string, double> hyper_;
  Clipping clip_;
  Var lr_, iterations_;
  Schedule schedule_;
  struct Slots {
    Var param;
    std::vector<std::pair<std::string, Var>> slots;
  };
  std::vector<Slots> slots_;
  std::unordered_map<const VariableNode*, size_t> slot_index_;
};

using OptimizerPtr = std::shared_ptr<Optimizer>;

// Stochastic gradient descent (Keras SGD; weight decay as PyTorch's SGD):
//   g <- g + weight_decay * p                      (L2 penalty, coupled)
//   momentum == 0:  p <- p - lr * g
//   else:           v <- momentum * v - lr * g     (slot "momentum", zeros)
//                   p <- p + v                     (nesterov: p + momentum * v - lr * g)
// With a constant learning rate this is exactly torch.optim.SGD (dampening 0),
// whose buffer is b = -v / lr.
OptimizerPtr sgd(double learning_rate = 0.01, double momentum = 0, bool nesterov = false,
                 double weight_decay = 0, Clipping clip = {});

// Adam (Keras Adam, "epsilon hat" form; Kingma & Ba, section 2 end):
//   m <- beta_1 * m + (1 - beta_1) * g             (slot "m")
//   v <- beta_2 * v + (1 - beta_2) * g^2           (slot "v")
//   amsgrad: vhat <- max(vhat, v); v' = vhat       (slot "vhat")
//   alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
//   p <- p - alpha * m / (sqrt(v') + epsilon)
// epsilon defaults to Keras's 1e-7. torch.optim.Adam adds epsilon after the
// bias correction (sqrt(v') / sqrt(1 - beta_2^t) + eps); the two agree up to
// epsilon's size relative to sqrt(v). weight_decay > 0 adds weight_decay * p
// to g first (PyTorch's coupled L2); use adamw for decoupled decay.
OptimizerPtr adam(double learning_rate = 1e-3, double beta_1 = 0.9, double beta_2 = 0.999,
                  double epsilon = 1e-7, bool amsgrad = false, double weight_decay = 0, Clipping clip = {});

// AdamW (Loshchilov & Hutter; Keras AdamW = torch.optim.AdamW): the Adam step
// above on the raw gradient plus decoupled weight decay,
//   p <- p - lr * weight_decay * p - alpha * m / (sqrt(v') + epsilon)
// weight_decay defaults to PyTorch's 0.01 (Keras: 0.004).
OptimizerPtr adamw(double learning_rate = 1e-3, double weight_decay = 0.01, double beta_1 = 0.9,
                   double beta_2 = 0.999, double epsilon = 1e-7, bool amsgrad = false, Clipping clip = {});

// RMSprop (Keras RMSprop):
//   v <- rho * v + (1 - rho) * g^2                 (slot "velocity")
//   centered: a <- rho * a + (1 - rho) * g;  d = v - a^2   (slot "average_gradient")
//   else d = v
//   step = lr * g / sqrt(d + epsilon)
//   momentum == 0: p <- p - step
//   else: b <- momentum * b + step; p <- p - b     (slot "momentum")
// torch.optim.RMSprop puts epsilon outside the root (sqrt(d) + eps) and keeps
// b without lr (equal for a constant learning rate).
OptimizerPtr rmsprop(double learning_rate = 1e-3, double rho = 0.9, double epsilon = 1e-7,
                     double momentum = 0, bool centered = false, Clipping clip = {});

// Adagrad (Keras Adagrad):
//   a <- a + g^2                                   (slot "accumulator", starts at initial_accumulator)
//   p <- p - lr * g / sqrt(a + epsilon)
// learning_rate defaults to PyTorch's 0.01 (Keras: 0.001); initial_accumulator
// to Keras's 0.1 (PyTorch: 0). torch.optim.Adagrad uses sqrt(a) + eps.
OptimizerPtr adagrad(double learning_rate = 0.01, double initial_accumulator = 0.1, double epsilon = 1e-7,
                     Clipping clip = {});

// Adadelta (Zeiler 2012; Keras Adadelta = torch.optim.Adadelta):
//   a <- rho * a + (1 - rho) * g^2                 (slot "accumulated_grad")
//   d = sqrt(u + epsilon) / sqrt(a + epsilon) * g
//   u <- rho * u + (1 - rho) * d^2                 (slot "accumulated_delta")
//   p <- p - lr * d
// learning_rate defaults to PyTorch's 1.0 (Keras: 0.001), epsilon to Keras's
// 1e-7 (PyTorch: 1e-6).
OptimizerPtr adadelta(double learning_rate = 1.0, double rho = 0.95, double epsilon = 1e-7, Clipping clip = {});

// Rebuilds an optimizer from name() and config() (missing keys take the
// defaults); throws std::invalid_argument for an unknown name or key.
OptimizerPtr make_optimizer(const std::string& name, const std::map<std::string, double>& config);

}  // namespace theon::nn
