// The Optimizer base (state, clipping, learning rate), SGD, and rebuilding an
// optimizer from its saved name and config. The adaptive rules live in
// optimizers_adaptive.cpp.
#include "theon/nn/optimizers.h"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "theon/autodiff/grad.h"
#include "theon/graph/shared.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"

namespace theon::nn {

namespace {

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// The dtype the squared norm of a gradient is accumulated in: float16 and
// bfloat16 gradients would overflow (or lose everything) summing squares.
DType norm_dtype(DType d) { return d == DType::Float64 ? DType::Float64 : DType::Float32; }

Var cast_to(const Var& x, DType d) { return x.dtype() == d ? x : cast(x, d); }

}  // namespace

Var clip_by_norm(const Var& g, double max_norm) {
  if (!(max_norm > 0) || !std::isfinite(max_norm))
    throw std::invalid_argument("[clip_by_norm] max_norm must be a positive finite number, got " + fmt(max_norm));
  DType nd = norm_dtype(g.dtype());
  Var gw = cast_to(g, nd);
  Var norm = sqrt(sum(sqr(gw)));
  Var scale = constant(max_norm, nd) / maximum(norm, constant(max_norm, nd));
  return cast_to(gw * scale, g.dtype());
}

std::vector<Var> clip_by_global_norm(const std::vector<Var>& grads, double max_norm) {
  if (!(max_norm > 0) || !std::isfinite(max_norm))
    throw std::invalid_argument("[clip_by_global_norm] max_norm must be a positive finite number, got " +
                                fmt(max_norm));
  if (grads.empty()) return {};
  DType nd = DType::Float32;
  for (const Var& g : grads) {
    if (!g.defined()) throw std::invalid_argument("[clip_by_global_norm] a gradient is undefined");
    if (!is_float(g.dtype()))
      throw std::invalid_argument("[clip_by_global_norm] gradients must be floats, got " +
                                  std::string(dtype_name(g.dtype())));
    if (g.dtype() == DType::Float64) nd = DType::Float64;
  }
  Var total;
  for (const Var& g : grads) {
    Var s = sum(sqr(cast_to(g, nd)));
    total = total.defined() ? total + s : s;
  }
  Var scale = constant(max_norm, nd) / maximum(sqrt(total), constant(max_norm, nd));
  std::vector<Var> out;
  out.reserve(grads.size());
  for (const Var& g : grads) out.push_back(cast_to(g * cast_to(scale, g.dtype()), g.dtype()));
  return out;
}

Optimizer::Optimizer(std::string name, double learning_rate, std::map<std::string, double> hyper, Clipping clip)
    : name_(std::move(name)), hyper_(std::move(hyper)), clip_(clip) {
  auto check = [&](const char* what, double v) {
    if (!(v >= 0) || !std::isfinite(v))
      throw std::invalid_argument("[" + name_ + "] " + what + " must be a finite number >= 0, got " + fmt(v));
  };
  check("learning_rate", learning_rate);
  check("clipnorm", clip.clipnorm);
  check("global_clipnorm", clip.global_clipnorm);
  check("clipvalue", clip.clipvalue);
  for (const auto& [k, v] : hyper_) check(k.c_str(), v);
  // float64 whatever floatX is: get_learning_rate returns what was set, and
  // float64 parameters see it unrounded; each update casts it to the
  // parameter's compute dtype.
  lr_ = shared(Array::scalar(DType::Float64, learning_rate), "learning_rate");
  iterations_ = shared(Array::scalar(DType::Int64, 0), "iterations");
}

double Optimizer::get_learning_rate() const { return get_value(lr_, true).item_double(); }

void Optimizer::set_learning_rate(double lr) {
  if (!(lr >= 0) || !std::isfinite(lr))
    throw std::invalid_argument("[" + name_ + "] learning_rate must be a finite number >= 0, got " + fmt(lr));
  set_value(lr_, Array::scalar(lr_.dtype(), lr));
}

void Optimizer::set_schedule(Schedule schedule) {
  schedule_ = std::move(schedule);
  update_learning_rate();
}

void Optimizer::update_learning_rate() {
  if (schedule_) set_learning_rate(schedule_(get_value(iterations_, true).item_int()));
}

std::map<std::string, double> Optimizer::config() const {
  auto c = hyper_;
  c["learning_rate"] = get_learning_rate();
  if (clip_.clipnorm > 0) c["clipnorm"] = clip_.clipnorm;
  if (clip_.global_clipnorm > 0) c["global_clipnorm"] = clip_.global_clipnorm;
  if (clip_.clipvalue > 0) c["clipvalue"] = clip_.clipvalue;
  return c;
}

std::vector<Var> Optimizer::state() const {
  std::vector<Var> out{iterations_, lr_};
  for (const auto& s : slots_)
    for (const auto& [name, v] : s.slots) out.push_back(v);
  return out;
}

Var Optimizer::slot(const Var& param, const std::string& slot_name, double init) {
  auto it = slot_index_.find(param.get());
  size_t k;
  if (it == slot_index_.end()) {
    k = slots_.size();
    slots_.push_back({param, {}});
    slot_index_.emplace(param.get(), k);
  } else {
    k = it->second;
  }
  for (const auto& [n, v] : slots_[k].slots)
    if (n == slot_name) return v;
  // The slot's name starts with the parameter's name, made unique among the
  // parameters this optimizer has seen so saved state maps back one to one.
  std::string prefix = param.name().empty() ? "param" + std::to_string(k) : param.name();
  std::unordered_set<std::string> taken;
  for (size_t j = 0; j < slots_.size(); ++j)
    if (j != k)
      for (const auto& [n, v] : slots_[j].slots) taken.insert(v.name());
  std::string full = prefix + "/" + slot_name;
  for (int n = 1; taken.count(full); ++n) full = prefix + "_" + std::to_string(n) + "/" + slot_name;
  Array value = get_value(param, true);
  Var v = shared(Array::full(value.dtype(), value.shape(), init), full, true);
  slots_[k].slots.emplace_back(slot_name, v);
  return v;
}

void Optimizer::check_params(const std::vector<Var>& params, const std::string& who) const {
  std::unordered_set<const VariableNode*> seen;
  for (size_t i = 0; i < params.size(); ++i) {
    const Var& p = params[i];
    std::string pname = p.defined() && !p.name().empty() ? "'" + p.name() + "'" : "#" + std::to_string(i);
    if (!p.defined() || !p.is_shared())
      throw std::invalid_argument(who + "parameter " + pname + " is not a shared variable");
    if (!is_float(p.dtype()))
      throw std::invalid_argument(who + "parameter " + pname + " has dtype " + std::string(dtype_name(p.dtype())) +
                                  "; only float parameters can be trained");
    if (!seen.insert(p.get()).second) throw std::invalid_argument(who + "parameter " + pname + " is listed twice");
  }
}

Updates Optimizer::get_updates(const Var& loss, const std::vector<Var>& params) {
  if (!loss.defined()) throw std::invalid_argument("[" + name_ + "] get_updates: the loss is undefined");
  if (loss.ndim() != 0)
    throw std::invalid_argument("[" + name_ + "] get_updates: the loss must be a scalar, got rank " +
                                std::to_string(loss.ndim()));
  check_params(params, "[" + name_ + "] get_updates: ");
  return apply_gradients(params, grad(loss, params));
}

void Optimizer::build(const std::vector<Var>& params) {
  check_params(params, "[" + name_ + "] build: ");
  // The rules create their slots while building an update; the graph is discarded.
  for (const Var& p : params) {
    DType sd = p.dtype() == DType::Float64 ? DType::Float64 : DType::Float32;
    update_rule(p, p, cast_to(lr_, sd), cast_to(iterations_ + 1, sd));
  }
}

Updates Optimizer::apply_gradients(const std::vector<Var>& params, const std::vector<Var>& grads_in) {
  const std::string who = "[" + name_ + "] apply_gradients: ";
  if (params.size() != grads_in.size())
    throw std::invalid_argument(who + std::to_string(params.size()) + " parameters but " +
                                std::to_string(grads_in.size()) + " gradients");
  check_params(params, who);
  std::vector<Var> grads;
  for (size_t i = 0; i < params.size(); ++i) {
    const Var& p = params[i];
    std::string pname = !p.name().empty() ? "'" + p.name() + "'" : "#" + std::to_string(i);
    const Var& g = grads_in[i];
    if (!g.defined()) throw std::invalid_argument(who + "the gradient of parameter " + pname + " is undefined");
    if (g.ndim() != p.ndim())
      throw std::invalid_argument(who + "the gradient of parameter " + pname + " has rank " +
                                  std::to_string(g.ndim()) + ", the parameter " + std::to_string(p.ndim()));
    if (!is_float(g.dtype()) && !is_integer(g.dtype()))
      throw std::invalid_argument(who + "the gradient of parameter " + pname + " has dtype " +
                                  std::string(dtype_name(g.dtype())));
    grads.push_back(cast_to(g, p.dtype()));
  }
  if (clip_.clipvalue > 0)
    for (auto& g : grads) g = clip(g, constant(-clip_.clipvalue, g.dtype()), constant(clip_.clipvalue, g.dtype()));
  if (clip_.clipnorm > 0)
    for (auto& g : grads) g = clip_by_norm(g, clip_.clipnorm);
  if (clip_.global_clipnorm > 0) grads = clip_by_global_norm(grads, clip_.global_clipnorm);

  Updates out;
  Var step = iterations_ + 1;  // this step's number, 1 on the first
  for (size_t i = 0; i < params.size(); ++i) {
    const Var& p = params[i];
    // Scalars (learning rate, step, bias corrections) in float32 or wider:
    // in float16, 1 - 0.999**t would already be 2% off.
    DType sd = p.dtype() == DType::Float64 ? DType::Float64 : DType::Float32;
    for (auto& [var, value] : update_rule(p, grads[i], cast_to(lr_, sd), cast_to(step, sd)))
      out.emplace_back(var, cast_to(value, var.dtype()));
  }
  out.emplace_back(iterations_, step);
  return out;
}

// ---- SGD ----

namespace {

class SGD : public Optimizer {
 public:
  SGD(double lr, double momentum, bool nesterov, double wd, Clipping clip)
      : Optimizer("sgd", lr, {{"momentum", momentum}, {"nesterov", nesterov ? 1 : 0}, {"weight_decay", wd}}, clip) {
    if (momentum > 1) throw std::invalid_argument("[sgd] momentum must be in [0, 1], got " + fmt(momentum));
    if (nesterov && momentum == 0) throw std::invalid_argument("[sgd] nesterov needs a momentum > 0");
  }

 protected:
  Updates update_rule(const Var& p, const Var& g_in, const Var& lr, const Var&) override {
    double momentum = hyper("momentum"), wd = hyper("weight_decay");
    Var g = wd > 0 ? g_in + p * wd : g_in;
    if (momentum == 0) return {{p, p - lr * g}};
    Var v = slot(p, "momentum");
    Var v_new = v * momentum - lr * g;
    Var p_new = hyper("nesterov") != 0 ? p + v_new * momentum - lr * g : p + v_new;
    return {{v, v_new}, {p, p_new}};
  }
};

}  // namespace

OptimizerPtr sgd(double learning_rate, double momentum, bool nesterov, double weight_decay, Clipping clip) {
  return std::make_shared<SGD>(learning_rate, momentum, nesterov, weight_decay, clip);
}

OptimizerPtr make_optimizer(const std::string& name, const std::map<std::string, double>& config) {
  std::map<std::string, double> c = config;
  Clipping clip;
  auto take = [&](const char* key, double dflt) {
    auto it = c.find(key);
    if (it == c.end()) return dflt;
    double v = it->second;
    c.erase(it);
    return v;
  };
  clip.clipnorm = take("clipnorm", 0);
  clip.global_clipnorm = take("global_clipnorm", 0);
  clip.clipvalue = take("clipvalue", 0);
  OptimizerPtr opt;
  if (name == "sgd") {
    double lr = take("learning_rate", 0.01), m = take("momentum", 0);
    opt = sgd(lr, m, take("nesterov", 0) != 0, take("weight_decay", 0), clip);
  } else if (name == "adam" || name == "adamw") {
    double lr = take("learning_rate", 1e-3), b1 = take("beta_1", 0.9), b2 = take("beta_2", 0.999);
    double eps = take("epsilon", 1e-7);
    bool ams = take("amsgrad", 0) != 0;
    opt = name == "adam" ? adam(lr, b1, b2, eps, ams, take("weight_decay", 0), clip)
                         : adamw(lr, take("weight_decay", 0.01), b1, b2, eps, ams, clip);
  } else if (name == "rmsprop") {
    double lr = take("learning_rate", 1e-3), rho = take("rho", 0.9), eps = take("epsilon", 1e-7);
    double m = take("momentum", 0);
    opt = rmsprop(lr, rho, eps, m, take("centered", 0) != 0, clip);
  } else if (name == "adagrad") {
    double lr = take("learning_rate", 0.01), init = take("initial_accumulator_value", 0.1);
    opt = adagrad(lr, init, take("epsilon", 1e-7), clip);
  } else if (name == "adadelta") {
    double lr = take("learning_rate", 1.0), rho = take("rho", 0.95);
    opt = adadelta(lr, rho, take("epsilon", 1e-7), clip);
  } else {
    throw std::invalid_argument("make_optimizer: unknown optimizer '" + name +
                                "' (expected sgd, adam, adamw, rmsprop, adagrad or adadelta)");
  }
  if (!c.empty())
    throw std::invalid_argument("make_optimizer: '" + name + "' has no hyperparameter '" + c.begin()->first + "'");
  return opt;
}

}  // namespace theon::nn
