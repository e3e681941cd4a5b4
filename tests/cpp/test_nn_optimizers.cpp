// theon::nn optimizers and schedules: each update rule's first steps against
// a reference written here in plain loops from the published formulas,
// clipping, state handling, a least-squares fit, and schedule values.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include <theon/nn/optimizers.h>
#include <theon/nn/schedules.h>
#include <theon/theon.h>

using namespace theon;
using theon::nn::OptimizerPtr;

namespace {

using Vec = std::vector<double>;

// Three fixed gradients for a 4-element parameter (signs and sizes vary).
const std::vector<Vec> kGrads = {{0.5, -1.0, 2.0, 0.0}, {-0.25, 0.75, 1.5, -3.0}, {1.0, 0.1, -2.0, 0.5}};
const Vec kP0 = {1.0, -2.0, 0.5, 3.0};

// Runs `steps` optimizer steps with the given gradients fed through an input;
// returns the parameter after each step.
std::vector<Vec> run_steps(const OptimizerPtr& opt, const std::vector<Vec>& grads, DType dtype = DType::Float64) {
  Var p = shared(Array::from_vector(kP0).astype(dtype), "w");
  Var g = vector(dtype, "g");
  auto f = function({g}, {}, FunctionOptions{.updates = opt->apply_gradients({p}, {g})});
  std::vector<Vec> out;
  for (const Vec& gv : grads) {
    (*f)({Array::from_vector(gv).astype(dtype)});
    out.push_back(get_value(p).to_double_vector());
  }
  return out;
}

// The reference rule: updates p (and its own state) from g at step t (1-based).
using Rule = std::function<void(Vec& p, const Vec& g, int t)>;

std::vector<Vec> reference(const Rule& rule, const std::vector<Vec>& grads) {
  Vec p = kP0;
  std::vector<Vec> out;
  for (size_t s = 0; s < grads.size(); ++s) {
    rule(p, grads[s], int(s) + 1);
    out.push_back(p);
  }
  return out;
}

void expect_close(const std::vector<Vec>& got, const std::vector<Vec>& want, double rtol = 1e-12) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t s = 0; s < got.size(); ++s)
    for (size_t i = 0; i < got[s].size(); ++i)
      EXPECT_NEAR(got[s][i], want[s][i], rtol * (1 + std::abs(want[s][i]))) << "step " << s + 1 << " element " << i;
}

}  // namespace

TEST(NnOptimizers, SgdPlainMomentumNesterov) {
  double lr = 0.1;
  expect_close(run_steps(nn::sgd(lr), kGrads), reference([&](Vec& p, const Vec& g, int) {
                 for (size_t i = 0; i < p.size(); ++i) p[i] -= lr * g[i];
               }, kGrads));
  for (bool nesterov : {false, true}) {
    Vec v(4, 0.0);
    double mu = 0.9, wd = 0.01;
    auto want = reference([&](Vec& p, const Vec& g0, int) {
      for (size_t i = 0; i < p.size(); ++i) {
        double g = g0[i] + wd * p[i];
        v[i] = mu * v[i] - lr * g;
        p[i] += nesterov ? mu * v[i] - lr * g : v[i];
      }
    }, kGrads);
    expect_close(run_steps(nn::sgd(lr, mu, nesterov, wd), kGrads), want);
  }
}

TEST(NnOptimizers, AdamAndAmsgrad) {
  for (bool ams : {false, true}) {
    double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
    Vec m(4, 0.0), v(4, 0.0), vhat(4, 0.0);
    auto want = reference([&](Vec& p, const Vec& g, int t) {
      double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
      for (size_t i = 0; i < p.size(); ++i) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        vhat[i] = std::max(vhat[i], v[i]);
        p[i] -= alpha * m[i] / (std::sqrt(ams ? vhat[i] : v[i]) + eps);
      }
    }, kGrads);
    expect_close(run_steps(nn::adam(lr, b1, b2, eps, ams), kGrads), want);
  }
}

TEST(NnOptimizers, AdamW) {
  double lr = 0.01, wd = 0.1, b1 = 0.8, b2 = 0.99, eps = 1e-7;
  Vec m(4, 0.0), v(4, 0.0);
  auto want = reference([&](Vec& p, const Vec& g, int t) {
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] -= lr * wd * p[i];  // decoupled decay first (Keras, PyTorch)
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      double mhat = m[i] / (1 - std::pow(b1, t)), vhat = v[i] / (1 - std::pow(b2, t));
      // Keras's epsilon-hat: eps is scaled by sqrt(1 - b2^t) relative to the textbook form.
      p[i] -= lr * mhat / (std::sqrt(vhat) + eps / std::sqrt(1 - std::pow(b2, t)));
    }
  }, kGrads);
  expect_close(run_steps(nn::adamw(lr, wd, b1, b2, eps), kGrads), want);
}

TEST(NnOptimizers, RmspropVariants) {
  double lr = 0.01, rho = 0.9, eps = 1e-7;
  for (bool centered : {false, true})
    for (double mu : {0.0, 0.5}) {
      Vec vel(4, 0.0), avg(4, 0.0), buf(4, 0.0);
      auto want = reference([&](Vec& p, const Vec& g, int) {
        for (size_t i = 0; i < p.size(); ++i) {
          vel[i] = rho * vel[i] + (1 - rho) * g[i] * g[i];
          avg[i] = rho * avg[i] + (1 - rho) * g[i];
          double d = centered ? vel[i] - avg[i] * avg[i] : vel[i];
          double inc = lr * g[i] / std::sqrt(d + eps);
          buf[i] = mu * buf[i] + inc;
          p[i] -= mu > 0 ? buf[i] : inc;
        }
      }, kGrads);
      SCOPED_TRACE("centered=" + std::to_string(centered) + " momentum=" + std::to_string(mu));
      expect_close(run_steps(nn::rmsprop(lr, rho, eps, mu, centered), kGrads), want);
    }
}

TEST(NnOptimizers, AdagradAndAdadelta) {
  {
    double lr = 0.1, eps = 1e-7;
    Vec acc(4, 0.1);
    auto want = reference([&](Vec& p, const Vec& g, int) {
      for (size_t i = 0; i < p.size(); ++i) {
        acc[i] += g[i] * g[i];
        p[i] -= lr * g[i] / std::sqrt(acc[i] + eps);
      }
    }, kGrads);
    expect_close(run_steps(nn::adagrad(lr, 0.1, eps), kGrads), want);
  }
  {
    double lr = 1.0, rho = 0.95, eps = 1e-6;
    Vec a(4, 0.0), u(4, 0.0);
    auto want = reference([&](Vec& p, const Vec& g, int) {
      for (size_t i = 0; i < p.size(); ++i) {
        a[i] = rho * a[i] + (1 - rho) * g[i] * g[i];
        double d = std::sqrt(u[i] + eps) / std::sqrt(a[i] + eps) * g[i];
        u[i] = rho * u[i] + (1 - rho) * d * d;
        p[i] -= lr * d;
      }
    }, kGrads);
    expect_close(run_steps(nn::adadelta(lr, rho, eps), kGrads), want);
  }
}

TEST(NnOptimizers, Float32ParametersKeepTheirDtype) {
  auto opt = nn::adam(0.01);
  auto got = run_steps(opt, kGrads, DType::Float32);
  Vec m(4, 0.0), v(4, 0.0);
  auto want = reference([&](Vec& p, const Vec& g, int t) {
    double alpha = 0.01 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t));
    for (size_t i = 0; i < p.size(); ++i) {
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      p[i] -= alpha * m[i] / (std::sqrt(v[i]) + 1e-7);
    }
  }, kGrads);
  expect_close(got, want, 1e-5);
  for (const Var& s : opt->state())
    if (s.name() != "iterations" && s.name() != "learning_rate") {
      EXPECT_EQ(s.dtype(), DType::Float32) << s.name();
    }
}

TEST(NnOptimizers, StateNamesShapesAndIterations) {
  Var w = shared(Array::zeros(DType::Float64, {2, 3}), "dense/kernel");
  Var b = shared(Array::zeros(DType::Float64, {3}), "");
  auto opt = nn::adam(0.1, 0.9, 0.999, 1e-7, /*amsgrad=*/true);
  Var x = matrix(DType::Float64, "x");
  Var loss = sum(sqr(dot(x, w) + b - 1.0));
  auto f = function({x}, {loss}, FunctionOptions{.updates = opt->get_updates(loss, {w, b})});
  std::vector<std::string> names;
  for (const Var& s : opt->state()) names.push_back(s.name());
  EXPECT_EQ(names, (std::vector<std::string>{"iterations", "learning_rate", "dense/kernel/m", "dense/kernel/v",
                                             "dense/kernel/vhat", "param1/m", "param1/v", "param1/vhat"}));
  EXPECT_EQ(get_value(opt->state()[2]).shape(), (Shape{2, 3}));
  EXPECT_EQ(get_value(opt->state()[5]).shape(), (Shape{3}));
  Array xv = Array::full(DType::Float64, {4, 2}, 0.5);
  double first = (*f)({xv})[0].item_double();
  (*f)({xv});
  EXPECT_EQ(get_value(opt->iterations()).item_int(), 2);
  // A second set of updates for the same parameters reuses the slots.
  size_t n = opt->state().size();
  opt->get_updates(loss, {w, b});
  EXPECT_EQ(opt->state().size(), n);
  // The learning rate is read at call time: 0 freezes the parameters.
  opt->set_learning_rate(0);
  Array w_before = get_value(w);
  (*f)({xv});
  EXPECT_EQ(get_value(w).to_double_vector(), w_before.to_double_vector());
  EXPECT_LT((*f)({xv})[0].item_double(), first);
}

TEST(NnOptimizers, BuildCreatesSlotsBeforeUpdates) {
  Var w = shared(Array::zeros(DType::Float32, {2, 2}), "w");
  auto opt = nn::rmsprop(0.1, 0.9, 1e-7, 0.5, true);
  opt->build({w});
  std::vector<std::string> names;
  for (const Var& s : opt->state()) names.push_back(s.name());
  EXPECT_EQ(names, (std::vector<std::string>{"iterations", "learning_rate", "w/velocity", "w/average_gradient",
                                             "w/momentum"}));
  // A restored slot value is what the first update reads.
  set_value(opt->state()[4], Array::full(DType::Float32, {2, 2}, 1.0));
  Var g = matrix(DType::Float32, "g");
  auto f = function({g}, {}, FunctionOptions{.updates = opt->apply_gradients({w}, {g})});
  EXPECT_EQ(opt->state().size(), names.size());
  (*f)({Array::zeros(DType::Float32, {2, 2})});
  EXPECT_EQ(get_value(w).to_double_vector(), (Vec{-0.5, -0.5, -0.5, -0.5}));  // momentum 0.5 * 1, zero gradient
  EXPECT_THROW(opt->build({g}), std::invalid_argument);
}

TEST(NnOptimizers, ScheduleOverIterations) {
  Var w = shared(Array::from_vector(Vec{0.0}), "w");
  auto opt = nn::sgd(1.0);
  opt->set_schedule(nn::step_decay(1.0, 0.5, 2));
  auto f = function({}, {}, FunctionOptions{.updates = opt->get_updates(sum(w), {w})});
  for (int s = 0; s < 5; ++s) {
    opt->update_learning_rate();
    (*f)({});
  }
  // Rates 1, 1, 0.5, 0.5, 0.25 on a gradient of 1.
  EXPECT_EQ(get_value(w).item_double(), -3.25);
  EXPECT_EQ(opt->get_learning_rate(), 0.25);
  opt->set_schedule({});
  opt->update_learning_rate();
  EXPECT_EQ(opt->get_learning_rate(), 0.25);
}

TEST(NnOptimizers, LeastSquaresLossDecreases) {
  // Fit y = X @ w_true; every optimizer must lower the loss within 30 steps.
  Array X = Array::empty(DType::Float64, {8, 3});
  Array y = Array::empty(DType::Float64, {8});
  for (int i = 0; i < 8; ++i) {
    double r = 0;
    for (int j = 0; j < 3; ++j) {
      double v = std::sin(1.7 * i + 0.9 * j + 0.3);
      X.data_as<double>()[i * 3 + j] = v;
      r += v * (j + 1.0);
    }
    y.data_as<double>()[i] = r;
  }
  std::vector<std::pair<std::string, OptimizerPtr>> opts = {
      {"sgd", nn::sgd(0.05)},          {"momentum", nn::sgd(0.02, 0.9, true)}, {"adam", nn::adam(0.1)},
      {"adamw", nn::adamw(0.1, 0.001)}, {"rmsprop", nn::rmsprop(0.05)},        {"adagrad", nn::adagrad(0.5)},
      {"adadelta", nn::adadelta(1.0, 0.9, 1e-2)}};  // a larger epsilon: a faster start
  for (auto& [name, opt] : opts) {
    Var w = shared(Array::zeros(DType::Float64, {3}), "w");
    Var loss = mean(sqr(dot(constant(X), w) - constant(y)));
    auto f = function({}, {loss}, FunctionOptions{.updates = opt->get_updates(loss, {w})});
    double first = (*f)({})[0].item_double(), last = first;
    for (int s = 0; s < 30; ++s) last = (*f)({})[0].item_double();
    EXPECT_LT(last, 0.7 * first) << name;
  }
}

TEST(NnOptimizers, Clipping) {
  // One SGD step with lr 1 moves the parameter by exactly the clipped gradient.
  Var p = shared(Array::zeros(DType::Float64, {2}), "p");
  Var q = shared(Array::zeros(DType::Float64, {2}), "q");
  Var gp = vector(DType::Float64, "gp"), gq = vector(DType::Float64, "gq");
  auto step = [&](nn::Clipping c, Vec a, Vec b) {
    set_value(p, Array::zeros(DType::Float64, {2}));
    set_value(q, Array::zeros(DType::Float64, {2}));
    auto opt = nn::sgd(1.0, 0, false, 0, c);
    auto f = function({gp, gq}, {}, FunctionOptions{.updates = opt->apply_gradients({p, q}, {gp, gq})});
    (*f)({Array::from_vector(a), Array::from_vector(b)});
    return std::make_pair(get_value(p).to_double_vector(), get_value(q).to_double_vector());
  };
  // clipnorm: ||(3,4)|| = 5 -> scaled to norm 1; (0.3, 0.4) has norm 0.5 and stays.
  auto [a, b] = step({.clipnorm = 1.0}, {3, 4}, {0.3, 0.4});
  EXPECT_NEAR(a[0], -0.6, 1e-15);
  EXPECT_NEAR(a[1], -0.8, 1e-15);
  EXPECT_NEAR(b[0], -0.3, 1e-15);
  EXPECT_NEAR(b[1], -0.4, 1e-15);
  // global_clipnorm: joint norm sqrt(25 + 144) = 13 -> both scaled by 2/13.
  std::tie(a, b) = step({.global_clipnorm = 2.0}, {3, 4}, {0, 12});
  EXPECT_NEAR(a[0], -3 * 2.0 / 13, 1e-15);
  EXPECT_NEAR(a[1], -4 * 2.0 / 13, 1e-15);
  EXPECT_NEAR(b[1], -12 * 2.0 / 13, 1e-15);
  // Below the limit nothing changes.
  std::tie(a, b) = step({.global_clipnorm = 20.0}, {3, 4}, {0, 12});
  EXPECT_EQ(a, (Vec{-3, -4}));
  EXPECT_EQ(b, (Vec{0, -12}));
  std::tie(a, b) = step({.clipvalue = 0.5}, {3, -0.25}, {-4, 0});
  EXPECT_EQ(a, (Vec{-0.5, 0.25}));
  EXPECT_EQ(b, (Vec{0.5, 0}));

  auto clipped = nn::clip_by_global_norm({constant(Array::from_vector(Vec{6, 8})), constant(Array::from_vector(Vec{0.0}))}, 5);
  EXPECT_EQ(eval(clipped[0]).to_double_vector(), (Vec{3, 4}));
  EXPECT_THROW(nn::clip_by_global_norm({constant(Array::from_vector(Vec{1.0}))}, 0), std::invalid_argument);
}

TEST(NnOptimizers, ConfigRoundTripAndErrors) {
  auto opt = nn::rmsprop(0.25, 0.8, 1e-6, 0.5, true, {.clipnorm = 2});
  opt->set_learning_rate(0.125);
  auto c = opt->config();
  EXPECT_EQ(c.at("learning_rate"), 0.125);
  EXPECT_EQ(c.at("clipnorm"), 2);
  auto again = nn::make_optimizer(opt->name(), c);
  EXPECT_EQ(again->config(), c);
  EXPECT_EQ(again->clipping().clipnorm, 2);
  EXPECT_THROW(nn::make_optimizer("lbfgs", {}), std::invalid_argument);
  EXPECT_THROW(nn::make_optimizer("sgd", {{"beta_1", 0.9}}), std::invalid_argument);
  EXPECT_THROW(nn::adam(-1), std::invalid_argument);
  EXPECT_THROW(nn::adam(0.1, 1.0), std::invalid_argument);
  EXPECT_THROW(nn::sgd(0.1, 0, true), std::invalid_argument);
  EXPECT_THROW(opt->set_learning_rate(NAN), std::invalid_argument);

  Var w = shared(Array::zeros(DType::Float64, {2}), "w");
  Var x = vector(DType::Float64, "x");
  Var iw = shared(Array::zeros(DType::Int64, {2}), "iw");
  EXPECT_THROW(opt->apply_gradients({x}, {x}), std::invalid_argument);       // not shared
  EXPECT_THROW(opt->apply_gradients({w}, {}), std::invalid_argument);        // counts differ
  EXPECT_THROW(opt->apply_gradients({iw}, {x}), std::invalid_argument);      // integer parameter
  EXPECT_THROW(opt->apply_gradients({w, w}, {x, x}), std::invalid_argument);  // listed twice
  EXPECT_THROW(opt->get_updates(x, {w}), std::invalid_argument);             // loss not a scalar
}

TEST(NnSchedules, Values) {
  auto sd = nn::step_decay(0.1, 0.5, 10);
  EXPECT_DOUBLE_EQ(sd(0), 0.1);
  EXPECT_DOUBLE_EQ(sd(9), 0.1);
  EXPECT_DOUBLE_EQ(sd(10), 0.05);
  EXPECT_DOUBLE_EQ(sd(25), 0.025);
  auto ed = nn::exponential_decay(1.0, 100, 0.5);
  EXPECT_DOUBLE_EQ(ed(50), std::sqrt(0.5));
  EXPECT_DOUBLE_EQ(nn::exponential_decay(1.0, 100, 0.5, true)(150), 0.5);
  auto cd = nn::cosine_decay(2.0, 100, 0.1);
  EXPECT_DOUBLE_EQ(cd(0), 2.0);
  EXPECT_NEAR(cd(50), 2.0 * (0.9 * 0.5 + 0.1), 1e-15);
  EXPECT_NEAR(cd(100), 0.2, 1e-15);
  EXPECT_NEAR(cd(1000), 0.2, 1e-15);
  auto wu = nn::warmup(nn::cosine_decay(1.0, 10), 4);
  EXPECT_DOUBLE_EQ(wu(0), 0.0);
  EXPECT_DOUBLE_EQ(wu(1), 0.25);
  EXPECT_DOUBLE_EQ(wu(4), 1.0);
  EXPECT_NEAR(wu(9), 0.5, 1e-15);
  auto pc = nn::piecewise_constant({10, 20}, {1.0, 0.5, 0.1});
  EXPECT_EQ(pc(10), 1.0);
  EXPECT_EQ(pc(11), 0.5);
  EXPECT_EQ(pc(20), 0.5);
  EXPECT_EQ(pc(21), 0.1);
  EXPECT_THROW(nn::piecewise_constant({10}, {1.0}), std::invalid_argument);
  EXPECT_THROW(nn::step_decay(0.1, 0.5, 0), std::invalid_argument);
  EXPECT_THROW(sd(-1), std::invalid_argument);
}
