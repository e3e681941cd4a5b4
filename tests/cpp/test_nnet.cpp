// nnet: softmax, log_softmax, cross-entropies, activations, batch normalization.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include <theon/theon.h>
#include <theon/ops/batchnorm.h>
#include <theon/ops/nnet.h>

using namespace theon;

namespace {

Array rand_array(const Shape& shape, unsigned seed, double lo = -3, double hi = 3) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(size_t(shape_size(shape)));
  for (auto& x : v) x = u(g);
  return Array::from_vector(v, shape);
}

void expect_message(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    FAIL() << "expected an error containing " << part;
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(NnetSoftmax, MatchesReferenceOnEveryAxis) {
  Array a = rand_array({3, 4, 5}, 1, -20, 20);
  for (int axis = -3; axis < 3; ++axis) {
    Var x = tensor(DType::Float64, {-1, -1, -1}, "x");
    Array s = eval(softmax(x, axis), {{x, a}});
    Array ls = eval(log_softmax(x, axis), {{x, a}});
    int ax = (axis + 3) % 3;
    auto sv = s.to_double_vector(), lv = ls.to_double_vector(), av = a.to_double_vector();
    Strides st{20, 5, 1};
    for (int64_t i = 0; i < 60; ++i) {
      int64_t idx[3] = {i / 20, (i / 5) % 4, i % 5};
      double m = -1e300, sum = 0;
      for (int64_t k = 0; k < a.shape()[ax]; ++k) {
        int64_t j = i + (k - idx[ax]) * st[ax];
        m = std::max(m, av[j]);
      }
      for (int64_t k = 0; k < a.shape()[ax]; ++k) sum += std::exp(av[i + (k - idx[ax]) * st[ax]] - m);
      EXPECT_NEAR(sv[i], std::exp(av[i] - m) / sum, 1e-12);
      EXPECT_NEAR(lv[i], av[i] - m - std::log(sum), 1e-12);
    }
  }
}

TEST(NnetSoftmax, StableForHugeInputsAndKeepsDtype) {
  Var x = matrix(DType::Float32, "x");
  Array a = Array::from_vector<float>({1000.f, 1000.f, -1000.f, 0.f}, {2, 2});
  Var y = softmax(x);
  EXPECT_EQ(y.dtype(), DType::Float32);
  auto r = eval(y, {{x, a}}).to_double_vector();
  EXPECT_NEAR(r[0], 0.5, 1e-6);
  EXPECT_NEAR(r[2], 0.0, 1e-6);
  EXPECT_NEAR(r[3], 1.0, 1e-6);
  auto l = eval(log_softmax(x), {{x, a}}).to_double_vector();
  EXPECT_NEAR(l[2], -1000.0, 1e-3);
  Var h = matrix(DType::Float16, "h");
  EXPECT_EQ(softmax(h).dtype(), DType::Float16);
  Var i = matrix(DType::Int32, "i");
  EXPECT_EQ(softmax(i).dtype(), DType::Float64);
}

TEST(NnetSoftmax, EmptyAndStridedInputs) {
  Var x = matrix(DType::Float64, "x");
  EXPECT_EQ(eval(softmax(x), {{x, Array::zeros(DType::Float64, {0, 3})}}).shape(), (Shape{0, 3}));
  Array a = rand_array({4, 6}, 2).transpose();  // non-contiguous
  auto r = eval(softmax(x), {{x, a}});
  auto rc = eval(softmax(x), {{x, a.copy()}});
  EXPECT_EQ(r.to_double_vector(), rc.to_double_vector());
  Var width = shape_i(softmax(x), 1);  // toposort returns raw nodes: keep the graph alive
  for (ApplyNode* n : toposort({width}))
    EXPECT_EQ(dynamic_cast<const Softmax*>(n->op.get()), nullptr);
}

TEST(NnetSoftmax, Errors) {
  expect_message([] { softmax(scalar(DType::Float64)); }, "[softmax]");
  expect_message([] { softmax(matrix(DType::Float64), 2); }, "softmax");
  expect_message([] { softmax(matrix(DType::Bool)); }, "[softmax] input must be a numeric");
}

TEST(NnetCrossentropy, OneHotAndDense) {
  Var c = matrix(DType::Float64, "c");
  Var y = vector(DType::Int64, "y");
  Var t = matrix(DType::Float64, "t");
  Array ca = eval(softmax(c), {{c, rand_array({4, 3}, 3)}});
  Array ya = Array::from_vector<int64_t>({0, 2, 1, 2});
  auto r = eval(categorical_crossentropy(c, y), {{c, ca}, {y, ya}}).to_double_vector();
  auto cv = ca.to_double_vector();
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(r[i], -std::log(cv[i * 3 + ya.to_int_vector()[i]]), 1e-12);
  Array ta = rand_array({4, 3}, 4, 0, 1);
  auto d = eval(categorical_crossentropy(c, t), {{c, ca}, {t, ta}}).to_double_vector();
  auto tv = ta.to_double_vector();
  for (int i = 0; i < 4; ++i) {
    double s = 0;
    for (int k = 0; k < 3; ++k) s -= tv[i * 3 + k] * std::log(cv[i * 3 + k]);
    EXPECT_NEAR(d[i], s, 1e-12);
  }
  EXPECT_THROW(eval(categorical_crossentropy(c, y), {{c, ca}, {y, Array::from_vector<int64_t>({0, 3, 1, 2})}}),
               std::out_of_range);
  expect_message([&] { eval(categorical_crossentropy(c, y), {{c, ca}, {y, Array::from_vector<int64_t>({0, 1})}}); },
                 "class indices of shape (4,)");
  expect_message([&] { categorical_crossentropy(c, scalar(DType::Int64)); }, "[categorical_crossentropy]");
  expect_message([&] { categorical_crossentropy(c, vector(DType::Float64)); }, "must be integers");
  expect_message([&] { categorical_crossentropy(tensor(DType::Float64, {4, 3}), tensor(DType::Int64, {5})); },
                 "disagree");
}

TEST(NnetCrossentropy, Binary) {
  Var o = vector(DType::Float64, "o"), t = vector(DType::Float64, "t");
  Array oa = rand_array({7}, 5, 0.01, 0.99), ta = rand_array({7}, 6, 0, 1);
  auto r = eval(binary_crossentropy(o, t), {{o, oa}, {t, ta}}).to_double_vector();
  auto ov = oa.to_double_vector(), tv = ta.to_double_vector();
  for (int i = 0; i < 7; ++i)
    EXPECT_NEAR(r[i], -(tv[i] * std::log(ov[i]) + (1 - tv[i]) * std::log(1 - ov[i])), 1e-12);
  EXPECT_EQ(binary_crossentropy(vector(DType::Float32), vector(DType::Float32)).dtype(), DType::Float32);
}

TEST(NnetActivations, ReluEluSelu) {
  Var x = vector(DType::Float64, "x");
  Array a = rand_array({50}, 7);
  auto av = a.to_double_vector();
  auto r0 = eval(relu(x), {{x, a}}).to_double_vector();
  auto r1 = eval(relu(x, 0.1), {{x, a}}).to_double_vector();
  auto e = eval(elu(x, 0.7), {{x, a}}).to_double_vector();
  auto s = eval(selu(x), {{x, a}}).to_double_vector();
  const double al = 1.6732632423543772, sc = 1.0507009873554805;
  for (int i = 0; i < 50; ++i) {
    double v = av[i];
    EXPECT_DOUBLE_EQ(r0[i], std::max(v, 0.0));
    EXPECT_NEAR(r1[i], v > 0 ? v : 0.1 * v, 1e-15);
    EXPECT_NEAR(e[i], v > 0 ? v : 0.7 * std::expm1(v), 1e-15);
    EXPECT_NEAR(s[i], sc * (v > 0 ? v : al * std::expm1(v)), 1e-14);
  }
  EXPECT_EQ(relu(vector(DType::Float32), 0.2).dtype(), DType::Float32);
  EXPECT_EQ(elu(vector(DType::Int32)).dtype(), DType::Float64);
  expect_message([] { relu(vector(DType::Bool)); }, "[relu]");
}

TEST(NnetBatchNorm, TrainMatchesReference) {
  Var x = tensor(DType::Float64, {-1, -1, -1, -1}, "x");
  Var g = vector(DType::Float64, "g"), b = vector(DType::Float64, "b");
  Var rm = vector(DType::Float64, "rm"), rv = vector(DType::Float64, "rv");
  auto res = batch_normalization_train(x, g, b, batch_norm_axes("spatial", 4), 1e-4, 0.3, rm, rv);
  ASSERT_EQ(res.size(), 5u);
  EXPECT_EQ(res[1].ndim(), 1);
  Array xa = rand_array({3, 2, 4, 5}, 8), ga = rand_array({2}, 9), ba = rand_array({2}, 10);
  Array rma = rand_array({2}, 11), rva = rand_array({2}, 12, 0.5, 2);
  std::vector<std::pair<Var, Array>> in{{x, xa}, {g, ga}, {b, ba}, {rm, rma}, {rv, rva}};
  auto xv = xa.to_double_vector();
  for (int c = 0; c < 2; ++c) {
    double m = 0, v = 0;
    int n = 0;
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 20; ++k) m += xv[(i * 2 + c) * 20 + k], ++n;
    m /= n;
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 20; ++k) v += std::pow(xv[(i * 2 + c) * 20 + k] - m, 2);
    v /= n;
    EXPECT_NEAR(eval(res[1], in).to_double_vector()[c], m, 1e-12);
    EXPECT_NEAR(eval(res[2], in).to_double_vector()[c], 1 / std::sqrt(v + 1e-4), 1e-10);
    EXPECT_NEAR(eval(res[3], in).to_double_vector()[c], rma.to_double_vector()[c] * 0.7 + m * 0.3, 1e-12);
    EXPECT_NEAR(eval(res[4], in).to_double_vector()[c],
                rva.to_double_vector()[c] * 0.7 + v * n / (n - 1.0) * 0.3, 1e-12);
    double out0 = eval(res[0], in).to_double_vector()[c * 20];
    EXPECT_NEAR(out0, (xv[c * 20] - m) * ga.to_double_vector()[c] / std::sqrt(v + 1e-4) + ba.to_double_vector()[c],
                1e-10);
  }
}

TEST(NnetBatchNorm, TestFormAndErrors) {
  Var x = matrix(DType::Float64, "x");
  Var g = vector(DType::Float64, "g");
  Array xa = rand_array({4, 3}, 13), ga = rand_array({3}, 14), va = rand_array({3}, 15, 0.5, 1);
  Var out = batch_normalization_test(x, g, g, g, constant(va), {0}, 1e-3);
  auto r = eval(out, {{x, xa}, {g, ga}}).to_double_vector();
  auto xv = xa.to_double_vector(), gv = ga.to_double_vector(), vv = va.to_double_vector();
  for (int i = 0; i < 12; ++i)
    EXPECT_NEAR(r[i], (xv[i] - gv[i % 3]) * (gv[i % 3] / std::sqrt(vv[i % 3] + 1e-3)) + gv[i % 3], 1e-12);
  Var bn = batch_normalization(x, g, g, g, g);
  auto r2 = eval(bn, {{x, xa}, {g, ga}}).to_double_vector();
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(r2[i], (xv[i] - gv[i % 3]) * (gv[i % 3] / gv[i % 3]) + gv[i % 3], 1e-12);
  expect_message([&] { batch_normalization(x, g, g, g, g, "fast"); }, "[batch_normalization] mode");
  expect_message([&] { batch_normalization_train(x, g, g, {2}); }, "axes should be less than ndim");
  expect_message([&] { batch_normalization_train(x, g, g, {}); }, "at least one normalization axis");
  expect_message([&] { batch_normalization_train(x, g, g, {0}, 1e-6); }, "epsilon");
  expect_message([&] { batch_normalization_train(x, g, g, {0}, 1e-4, 0.1, g, Var()); }, "both be");
  expect_message([&] { batch_normalization_train(x, g, scalar(DType::Float64), {0}); }, "gamma and beta");
  expect_message([] { batch_norm_axes("channel", 4); }, "invalid axes");
}
