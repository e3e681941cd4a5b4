// The adaptive update rules: Adam, AdamW, RMSprop, Adagrad, Adadelta. Each
// follows the formula in optimizers.h (Keras 3's update_step); scalars meet
// tensors as weak Python-style scalars, so every slot keeps the parameter's dtype.
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "theon/nn/optimizers.h"
#include "theon/ops/elemwise.h"

namespace theon::nn {

namespace {

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

void check_fraction(const std::string& who, const char* what, double v) {
  if (!(v >= 0 && v < 1)) throw std::invalid_argument("[" + who + "] " + what + " must be in [0, 1), got " + fmt(v));
}

// Adam and AdamW: `decoupled` selects AdamW's weight decay.
class Adam : public Optimizer {
 public:
  Adam(bool decoupled, double lr, double b1, double b2, double eps, bool amsgrad, double wd, Clipping clip)
      : Optimizer(decoupled ? "adamw" : "adam", lr,
                  {{"beta_1", b1}, {"beta_2", b2}, {"epsilon", eps}, {"amsgrad", amsgrad ? 1 : 0}, {"weight_decay", wd}},
                  clip),
        decoupled_(decoupled) {
    check_fraction(name(), "beta_1", b1);
    check_fraction(name(), "beta_2", b2);
  }

 protected:
  Updates update_rule(const Var& p, const Var& g_in, const Var& lr, const Var& t) override {
    double b1 = hyper("beta_1"), b2 = hyper("beta_2"), eps = hyper("epsilon"), wd = hyper("weight_decay");
    DType d = t.dtype();
    Var g = !decoupled_ && wd > 0 ? g_in + p * wd : g_in;
    Var m = slot(p, "m"), v = slot(p, "v");
    Var m_new = m * b1 + g * (1 - b1);
    Var v_new = v * b2 + sqr(g) * (1 - b2);
    Updates out{{m, m_new}, {v, v_new}};
    Var v_used = v_new;
    if (hyper("amsgrad") != 0) {
      Var vhat = slot(p, "vhat");
      v_used = maximum(vhat, v_new);
      out.emplace_back(vhat, v_used);
    }
    Var alpha = lr * sqrt(1.0 - pow(constant(b2, d), t)) / (1.0 - pow(constant(b1, d), t));
    Var p_new = p - alpha * m_new / (sqrt(v_used) + eps);
    if (decoupled_ && wd > 0) p_new = p_new - lr * wd * p;
    out.emplace_back(p, p_new);
    return out;
  }

 private:
  bool decoupled_;
};

class RMSprop : public Optimizer {
 public:
  RMSprop(double lr, double rho, double eps, double momentum, bool centered, Clipping clip)
      : Optimizer("rmsprop", lr,
                  {{"rho", rho}, {"epsilon", eps}, {"momentum", momentum}, {"centered", centered ? 1 : 0}}, clip) {
    check_fraction(name(), "rho", rho);
    if (momentum > 1) throw std::invalid_argument("[rmsprop] momentum must be in [0, 1], got " + fmt(momentum));
  }

 protected:
  Updates update_rule(const Var& p, const Var& g, const Var& lr, const Var&) override {
    double rho = hyper("rho"), eps = hyper("epsilon"), momentum = hyper("momentum");
    Var vel = slot(p, "velocity");
    Var vel_new = vel * rho + sqr(g) * (1 - rho);
    Updates out{{vel, vel_new}};
    Var denom = vel_new;
    if (hyper("centered") != 0) {
      Var avg = slot(p, "average_gradient");
      Var avg_new = avg * rho + g * (1 - rho);
      out.emplace_back(avg, avg_new);
      denom = vel_new - sqr(avg_new);
    }
    Var increment = lr * g / sqrt(denom + eps);
    if (momentum > 0) {
      Var b = slot(p, "momentum");
      Var b_new = b * momentum + increment;
      out.emplace_back(b, b_new);
      out.emplace_back(p, p - b_new);
    } else {
      out.emplace_back(p, p - increment);
    }
    return out;
  }
};

class Adagrad : public Optimizer {
 public:
  Adagrad(double lr, double init, double eps, Clipping clip)
      : Optimizer("adagrad", lr, {{"initial_accumulator_value", init}, {"epsilon", eps}}, clip) {}

 protected:
  Updates update_rule(const Var& p, const Var& g, const Var& lr, const Var&) override {
    Var acc = slot(p, "accumulator", hyper("initial_accumulator_value"));
    Var acc_new = acc + sqr(g);
    return {{acc, acc_new}, {p, p - lr * g / sqrt(acc_new + hyper("epsilon"))}};
  }
};

class Adadelta : public Optimizer {
 public:
  Adadelta(double lr, double rho, double eps, Clipping clip)
      : Optimizer("adadelta", lr, {{"rho", rho}, {"epsilon", eps}}, clip) {
    check_fraction(name(), "rho", rho);
  }

 protected:
  Updates update_rule(const Var& p, const Var& g, const Var& lr, const Var&) override {
    double rho = hyper("rho"), eps = hyper("epsilon");
    Var acc = slot(p, "accumulated_grad"), acc_delta = slot(p, "accumulated_delta");
    Var acc_new = acc * rho + sqr(g) * (1 - rho);
    Var delta = sqrt(acc_delta + eps) / sqrt(acc_new + eps) * g;
    Var acc_delta_new = acc_delta * rho + sqr(delta) * (1 - rho);
    return {{acc, acc_new}, {acc_delta, acc_delta_new}, {p, p - lr * delta}};
  }
};

}  // namespace

OptimizerPtr adam(double learning_rate, double beta_1, double beta_2, double epsilon, bool amsgrad,
                  double weight_decay, Clipping clip) {
  return std::make_shared<Adam>(false, learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clip);
}

OptimizerPtr adamw(double learning_rate, double weight_decay, double beta_1, double beta_2, double epsilon,
                   bool amsgrad, Clipping clip) {
  return std::make_shared<Adam>(true, learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clip);
}

OptimizerPtr rmsprop(double learning_rate, double rho, double epsilon, double momentum, bool centered,
                     Clipping clip) {
  return std::make_shared<RMSprop>(learning_rate, rho, epsilon, momentum, centered, clip);
}

OptimizerPtr adagrad(double learning_rate, double initial_accumulator, double epsilon, Clipping clip) {
  return std::make_shared<Adagrad>(learning_rate, initial_accumulator, epsilon, clip);
}

OptimizerPtr adadelta(double learning_rate, double rho, double epsilon, Clipping clip) {
  return std::make_shared<Adadelta>(learning_rate, rho, epsilon, clip);
}

}  // namespace theon::nn
