// Autodiff: symbolic gradients against finite differences (verify_grad) and closed forms.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <theon/theon.h>

using namespace theon;

namespace {
Array randn(Shape s, uint64_t seed, double lo = -1, double hi = 1) {
  Array a = Array::empty(DType::Float64, s);
  std::mt19937_64 r(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  for (int64_t i = 0; i < a.size(); ++i) a.data_as<double>()[i] = u(r);
  return a;
}
}  // namespace

TEST(Grad, ElementwiseRowsMatchFiniteDifferences) {
  // Rows whose domain includes (0.1, 0.9).
  for (const char* n : {"exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "softplus", "arcsin", "arctanh", "erf",
                        "erfinv", "log1p", "expm1", "sqr", "reciprocal", "cbrt", "gammaln", "softsign", "arctan"}) {
    ScalarOpId id = scalar_op_info(n).id;
    EXPECT_NO_THROW(verify_grad([&](const std::vector<Var>& x) { return elemwise(id, {x[0]}); },
                                {randn({3, 4}, 1, 0.1, 0.9)}))
        << n;
  }
  for (const char* n : {"add", "sub", "mul", "true_div", "pow", "maximum", "minimum", "arctan2"}) {
    ScalarOpId id = scalar_op_info(n).id;
    EXPECT_NO_THROW(verify_grad([&](const std::vector<Var>& x) { return elemwise(id, {x[0], x[1]}); },
                                {randn({3, 4}, 2, 0.1, 0.9), randn({4}, 3, 0.2, 0.8)}))
        << n;
  }
}

TEST(Grad, ReductionsAndShapes) {
  auto pt = randn({2, 3, 4}, 5, 0.5, 1.5);
  verify_grad([](const std::vector<Var>& x) { return sum(x[0], std::vector<int>{1}); }, {pt});
  verify_grad([](const std::vector<Var>& x) { return mean(x[0], std::vector<int>{0, 2}, true); }, {pt});
  verify_grad([](const std::vector<Var>& x) { return prod(x[0], std::vector<int>{2}); }, {pt});
  verify_grad([](const std::vector<Var>& x) { return max(x[0], std::vector<int>{1}); }, {pt});
  verify_grad([](const std::vector<Var>& x) { return var(x[0], std::vector<int>{1}); }, {pt});
  verify_grad([](const std::vector<Var>& x) { return logsumexp(x[0], std::vector<int>{2}); }, {pt});
  verify_grad([](const std::vector<Var>& x) { return transpose(x[0], {2, 0, 1}); }, {pt});
  verify_grad([](const std::vector<Var>& x) { return reshape(x[0], std::vector<int64_t>{4, -1}); }, {pt});
  verify_grad([](const std::vector<Var>& x) { return flatten(x[0], 2); }, {pt});
}

TEST(Grad, ProdWithZerosAndMaxTies) {
  Var x = vector(DType::Float64, "x");
  Var g = grad(prod(x), x);
  auto f = function({x}, {g});
  EXPECT_EQ((*f)({Array::from_vector<double>({2, 0, 3})})[0].to_double_vector(), (std::vector<double>{0, 6, 0}));
  EXPECT_EQ((*f)({Array::from_vector<double>({0, 0, 3})})[0].to_double_vector(), (std::vector<double>{0, 0, 0}));
  auto fm = function({x}, {grad(max(x), x)});
  EXPECT_EQ((*fm)({Array::from_vector<double>({1, 3, 3})})[0].to_double_vector(), (std::vector<double>{0, 1, 1}));
}

TEST(Grad, BroadcastingIsUndone) {
  Var x = matrix(DType::Float64, "x");
  Var b = vector(DType::Float64, "b");
  Var gb = grad(sum(x * b), b);
  auto f = function({x, b}, {gb});
  auto r = (*f)({Array::full(DType::Float64, {3, 2}, 2.0), Array::from_vector<double>({1, 1})})[0];
  EXPECT_EQ(r.to_double_vector(), (std::vector<double>{6, 6}));
  // Runtime broadcasting of an unknown dimension.
  Var y = matrix(DType::Float64, "y");
  auto f2 = function({x, y}, {grad(sum(x * y), y)});
  EXPECT_EQ((*f2)({Array::full(DType::Float64, {3, 2}, 1.0), Array::full(DType::Float64, {1, 2}, 1.0)})[0].shape(),
            (Shape{1, 2}));
}

TEST(Grad, SecondOrderAndHessian) {
  Var x = vector(DType::Float64, "x");
  Var c = sum(x * x * x);
  Var h = hessian(c, x);
  auto f = function({x}, {h});
  auto r = (*f)({Array::from_vector<double>({1, 2})})[0];
  EXPECT_EQ(r.shape(), (Shape{2, 2}));
  EXPECT_EQ(r.to_double_vector(), (std::vector<double>{6, 0, 0, 12}));
  Var j = jacobian(exp(x), x);
  auto fj = function({x}, {j});
  auto rj = (*fj)({Array::from_vector<double>({0, 1})})[0].to_double_vector();
  EXPECT_NEAR(rj[0], 1.0, 1e-12);
  EXPECT_NEAR(rj[3], std::exp(1.0), 1e-12);
  EXPECT_EQ(rj[1], 0.0);
}

TEST(Grad, ErrorsAndModifiers) {
  Var x = vector(DType::Float64, "x"), y = vector(DType::Float64, "y");
  EXPECT_THROW(grad(x * 2.0, x), std::invalid_argument);  // not a scalar
  EXPECT_THROW(grad(sum(x), y), std::invalid_argument);   // disconnected
  GradOptions ig;
  ig.disconnected_inputs = DisconnectedInputs::Ignore;
  EXPECT_TRUE(grad(sum(x), y, ig).defined());
  try {
    grad(cast(argmax(x), DType::Float64), x);
    FAIL() << "argmax has no gradient; grad must say so";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("non-differentiable"), std::string::npos) << e.what();
  }
  auto eval1 = [&](const Var& g) {
    return (*function({x}, {g}, FunctionOptions{.on_unused_input = "ignore"}))({Array::from_vector<double>({1, 2})})[0]
        .to_double_vector();
  };
  EXPECT_EQ(eval1(grad(sum(zero_grad(x) * x), x)), (std::vector<double>{1, 2}));
  EXPECT_EQ(eval1(grad(sum(grad_scale(x, 3.0) * 2.0), x)), (std::vector<double>{6, 6}));
  EXPECT_EQ(eval1(grad(sum(grad_clip(x, -1, 1) * 5.0), x)), (std::vector<double>{1, 1}));
  EXPECT_EQ(eval1(grad(sum(disconnected_grad(x) * x), x)), (std::vector<double>{1, 2}));
}

TEST(Grad, RopMatchesJacobianVectorProduct) {
  Var x = vector(DType::Float64, "x"), v = vector(DType::Float64, "v");
  Var y = sin(x) * 2.0;
  Var r = Rop({y}, {x}, {v})[0];
  auto f = function({x, v}, {r});
  auto out = (*f)({Array::from_vector<double>({0.1, 0.2}), Array::from_vector<double>({1.0, -1.0})})[0].to_double_vector();
  EXPECT_NEAR(out[0], 2 * std::cos(0.1), 1e-12);
  EXPECT_NEAR(out[1], -2 * std::cos(0.2), 1e-12);
}

TEST(Grad, VerifyGradDetectsAWrongGradient) {
  // zero_grad hides a real dependency, so the check must fail.
  EXPECT_THROW(verify_grad([](const std::vector<Var>& x) { return zero_grad(x[0]) * x[0]; }, {randn({3}, 9)}),
               GradientError);
}
