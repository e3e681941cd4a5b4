// Gradients of the nnet ops (softmax, log_softmax, the one-hot cross-entropy),
// of the activations and cross-entropies composed from elementwise ops, and of
// batch normalization, against finite differences (verify_grad).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <theon/ops/batchnorm.h>
#include <theon/ops/nnet.h>
#include <theon/theon.h>

using namespace theon;

namespace {

Array randu(const Shape& s, uint64_t seed, double lo = -1, double hi = 1) {
  Array a = Array::empty(DType::Float64, s);
  std::mt19937_64 r(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  for (int64_t i = 0; i < a.size(); ++i) a.data_as<double>()[i] = u(r);
  return a;
}

// Values at least 0.1 away from 0, so finite differences never straddle a kink.
Array away_from_zero(const Shape& s, uint64_t seed) {
  Array a = randu(s, seed, 0.1, 1.0);
  for (int64_t i = 0; i < a.size(); ++i)
    if (i % 2) a.data_as<double>()[i] = -a.data_as<double>()[i];
  return a;
}

Var int_indices(const std::vector<int64_t>& v, Shape shape) { return constant(Array::from_vector<int64_t>(v, shape)); }

}  // namespace

TEST(GradNnet, SoftmaxAndLogSoftmaxEveryAxis) {
  for (bool log : {false, true})
    for (int axis : {-1, 0, 1}) {
      auto f = [&](const std::vector<Var>& x) { return log ? log_softmax(x[0], axis) : softmax(x[0], axis); };
      EXPECT_NO_THROW(verify_grad(f, {randu({3, 4, 2}, 1, -2, 2)})) << "log=" << log << " axis=" << axis;
      EXPECT_NO_THROW(verify_grad(f, {randu({2, 5}, 2, -2, 2)})) << "log=" << log << " axis=" << axis;
    }
  EXPECT_NO_THROW(verify_grad([](const std::vector<Var>& x) { return softmax(x[0]); }, {randu({5}, 3)}));
}

TEST(GradNnet, LogSoftmaxGradientIsStableForLargeInputs) {
  // exp(1000) overflows; the rule uses exp(out), which is at most 1.
  Var x = matrix(DType::Float64, "x");
  Var g = grad(sum(log_softmax(x) * constant(Array::from_vector<double>({1, 0, 0}))), x);
  auto f = function({x}, {g});
  auto r = (*f)({Array::from_vector<double>({1000, 0, -1000}, {1, 3})})[0].to_double_vector();
  EXPECT_NEAR(r[0], 0.0, 1e-12);
  EXPECT_NEAR(r[1], 0.0, 1e-12);
  EXPECT_NEAR(r[2], 0.0, 1e-12);
  auto r2 = (*f)({Array::from_vector<double>({0, 0, 0}, {1, 3})})[0].to_double_vector();
  EXPECT_NEAR(r2[0], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(r2[1], -1.0 / 3.0, 1e-12);
}

TEST(GradNnet, SoftmaxSecondOrder) {
  for (bool log : {false, true}) {
    auto f = [&](const std::vector<Var>& x) {
      Var y = log ? log_softmax(x[0]) : softmax(x[0]);
      return grad(sum(y * x[1]), x[0]);
    };
    EXPECT_NO_THROW(verify_grad(f, {randu({2, 4}, 4), randu({2, 4}, 5)})) << "log=" << log;
  }
}

TEST(GradNnet, CrossentropyOneHotWrtCodingDist) {
  Var y = int_indices({2, 0, 1}, {3});
  verify_grad([&](const std::vector<Var>& x) { return crossentropy_categorical_1hot(x[0], y); },
              {randu({3, 4}, 6, 0.1, 0.9)});
  verify_grad([&](const std::vector<Var>& x) { return categorical_crossentropy(softmax(x[0]), y); },
              {randu({3, 4}, 7, -2, 2)});
  // More than one leading dimension.
  Var y2 = int_indices({0, 3, 1, 2}, {2, 2});
  verify_grad([&](const std::vector<Var>& x) { return crossentropy_categorical_1hot(x[0], y2); },
              {randu({2, 2, 4}, 8, 0.1, 0.9)});
}

TEST(GradNnet, CrossentropyOneHotGradTouchesOnlyTheIndexedClass) {
  // Zeros in coding_dist away from the indexed class must not give NaN.
  Var c = matrix(DType::Float64, "c");
  Var y = vector(DType::Int64, "y");
  GradOptions go;
  go.disconnected_inputs = DisconnectedInputs::Ignore;
  auto gs = grad(sum(crossentropy_categorical_1hot(c, y)), {c, y}, go);
  auto f = function({c, y}, {gs[0]});
  auto r = (*f)({Array::from_vector<double>({0.5, 0.0, 0.5, 0.0, 0.25, 0.75}, {2, 3}),
                 Array::from_vector<int64_t>({0, 2})})[0]
               .to_double_vector();
  EXPECT_EQ(r, (std::vector<double>{-2, 0, 0, 0, 0, -1.0 / 0.75}));
  // The integer indices are disconnected: an integer wrt gets zeros.
  auto fy = function({c, y}, {gs[1]}, FunctionOptions{.on_unused_input = "ignore"});
  auto ry = (*fy)({Array::from_vector<double>({0.5, 0.5, 0.5, 0.5, 0.5, 0.5}, {2, 3}),
                   Array::from_vector<int64_t>({0, 2})})[0];
  EXPECT_EQ(ry.to_double_vector(), (std::vector<double>{0, 0}));
}

TEST(GradNnet, CrossentropyOneHotSecondOrder) {
  Var y = int_indices({1, 0, 3}, {3});
  // d/dc of the gradient, and d/dgz through a gradient scaled by x[1].
  verify_grad([&](const std::vector<Var>& x) { return grad(sum(crossentropy_categorical_1hot(x[0], y) * x[1]), x[0]); },
              {randu({3, 4}, 9, 0.2, 0.9), randu({3}, 10, 0.5, 1.5)});
}

TEST(GradNnet, ComposedActivations) {
  auto pt = away_from_zero({3, 4}, 11);
  verify_grad([](const std::vector<Var>& x) { return relu(x[0]); }, {pt});
  verify_grad([](const std::vector<Var>& x) { return relu(x[0], 0.1); }, {pt});
  verify_grad([](const std::vector<Var>& x) { return relu(x[0], x[1]); }, {pt, randu({4}, 12, 0.1, 0.5)});
  verify_grad([](const std::vector<Var>& x) { return elu(x[0]); }, {pt});
  verify_grad([](const std::vector<Var>& x) { return elu(x[0], 0.5); }, {pt});
  verify_grad([](const std::vector<Var>& x) { return elu(x[0], x[1]); }, {pt, randu({4}, 13, 0.5, 2)});
  verify_grad([](const std::vector<Var>& x) { return selu(x[0]); }, {pt});
  for (const char* n : {"sigmoid", "softplus", "softsign"}) {
    ScalarOpId id = scalar_op_info(n).id;
    EXPECT_NO_THROW(verify_grad([&](const std::vector<Var>& x) { return elemwise(id, {x[0]}); }, {pt})) << n;
  }
}

TEST(GradNnet, ComposedCrossEntropies) {
  auto out = randu({3, 4}, 14, 0.1, 0.9), target = randu({3, 4}, 15, 0, 1);
  verify_grad([](const std::vector<Var>& x) { return binary_crossentropy(x[0], x[1]); }, {out, target});
  verify_grad([](const std::vector<Var>& x) { return binary_crossentropy(sigmoid(x[0]), x[1]); },
              {randu({5}, 16, -3, 3), randu({5}, 17, 0, 1)});
  verify_grad([](const std::vector<Var>& x) { return categorical_crossentropy(x[0], x[1]); }, {out, target});
  verify_grad([](const std::vector<Var>& x) { return categorical_crossentropy(softmax(x[0]), x[1]); },
              {randu({3, 4}, 18, -2, 2), target});
}

TEST(GradNnet, BatchNormTrainWrtInputsGammaBeta) {
  // Per-activation on a matrix with per-feature parameters, and spatial on
  // NCHW with parameters in the input's rank.
  auto x2 = randu({5, 3}, 19, -2, 2), g2 = randu({3}, 20, 0.5, 1.5), b2 = randu({3}, 21);
  for (int k = 0; k < 3; ++k)
    verify_grad(
        [k](const std::vector<Var>& x) {
          auto r = batch_normalization_train(x[0], x[1], x[2], {0}, 1e-4);
          return r[k];
        },
        {x2, g2, b2});
  auto x4 = randu({2, 3, 2, 2}, 22, -2, 2), g4 = randu({1, 3, 1, 1}, 23, 0.5, 1.5), b4 = randu({1, 3, 1, 1}, 24);
  verify_grad(
      [](const std::vector<Var>& x) {
        return batch_normalization_train(x[0], x[1], x[2], batch_norm_axes("spatial", 4), 1e-3)[0];
      },
      {x4, g4, b4});
  // The running averages are differentiable too.
  verify_grad(
      [](const std::vector<Var>& x) {
        auto r = batch_normalization_train(x[0], x[1], x[2], {0}, 1e-4, 0.3, x[3], x[4]);
        return r[3] + r[4];
      },
      {x2, g2, b2, randu({3}, 25), randu({3}, 26, 0.5, 1)});
}

TEST(GradNnet, BatchNormTestAndPlain) {
  auto x = randu({4, 3}, 27, -2, 2), g = randu({3}, 28, 0.5, 1.5), b = randu({3}, 29);
  auto m = randu({3}, 30), v = randu({3}, 31, 0.5, 2);
  verify_grad([](const std::vector<Var>& a) { return batch_normalization_test(a[0], a[1], a[2], a[3], a[4], {0}); },
              {x, g, b, m, v});
  verify_grad([](const std::vector<Var>& a) { return batch_normalization(a[0], a[1], a[2], a[3], a[4]); },
              {x, g, b, m, v});
}
