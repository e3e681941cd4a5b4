// Gradients of pool_2d (Pool2dGrad) for every mode, with padding, strides and
// ignore_border either way, and of the gradient ops (second order), against
// finite differences; max pooling uses distinct values so no window has a tie.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <theon/ops/pool.h>
#include <theon/theon.h>

using namespace theon;

namespace {

// Distinct values 0.1 apart in random order, so a max never changes under
// the finite-difference step.
Array distinct(const Shape& s, uint64_t seed) {
  Array a = Array::empty(DType::Float64, s);
  std::vector<int64_t> idx(size_t(a.size()));
  std::iota(idx.begin(), idx.end(), 0);
  std::mt19937_64 r(seed);
  std::shuffle(idx.begin(), idx.end(), r);
  for (int64_t i = 0; i < a.size(); ++i) a.data_as<double>()[i] = 0.1 * double(idx[size_t(i)]) - 1.0;
  return a;
}

Array randu(const Shape& s, uint64_t seed) {
  Array a = Array::empty(DType::Float64, s);
  std::mt19937_64 r(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int64_t i = 0; i < a.size(); ++i) a.data_as<double>()[i] = u(r);
  return a;
}

std::vector<PoolParams> configurations(PoolMode mode) {
  std::vector<PoolParams> r;
  for (bool ib : {true, false}) {
    r.push_back({{2, 2}, std::nullopt, {0, 0}, ib, mode});  // non-overlapping, a partial window at the end
    r.push_back({{3, 2}, std::array<int64_t, 2>{1, 1}, {0, 0}, ib, mode});  // overlapping
    r.push_back({{2, 3}, std::array<int64_t, 2>{2, 1}, {0, 0}, ib, mode});
  }
  r.push_back({{3, 3}, std::array<int64_t, 2>{2, 2}, {1, 2}, true, mode});  // padded
  r.push_back({{2, 2}, std::nullopt, {1, 1}, true, mode});
  return r;
}

std::string str(const PoolParams& p) {
  return std::string(pool_mode_name(p.mode)) + " ws=(" + std::to_string(p.ws[0]) + "," + std::to_string(p.ws[1]) +
         ") stride=" + (p.stride ? std::to_string((*p.stride)[0]) + "," + std::to_string((*p.stride)[1]) : "ws") +
         " pad=(" + std::to_string(p.pad[0]) + "," + std::to_string(p.pad[1]) + ") ignore_border=" +
         std::to_string(p.ignore_border);
}

const PoolMode kModes[] = {PoolMode::Max, PoolMode::Sum, PoolMode::AverageIncPad, PoolMode::AverageExcPad};

}  // namespace

TEST(GradPool, EveryModeAndBorder) {
  for (PoolMode mode : kModes)
    for (const PoolParams& p : configurations(mode)) {
      auto f = [&](const std::vector<Var>& v) { return pool_2d(v[0], p); };
      EXPECT_NO_THROW(verify_grad(f, {distinct({2, 5, 5}, 1)})) << str(p);
      EXPECT_NO_THROW(verify_grad(f, {distinct({1, 2, 4, 5}, 2)})) << str(p);
    }
}

TEST(GradPool, MatrixInput) {
  for (PoolMode mode : kModes)
    EXPECT_NO_THROW(verify_grad([&](const std::vector<Var>& v) { return pool_2d(v[0], {{2, 2}, std::nullopt, {0, 0}, false, mode}); },
                                {distinct({5, 3}, 3)}))
        << pool_mode_name(mode);
}

TEST(GradPool, MaxTiesGiveEveryMaximumTheGradient) {
  // Theano's MaxPoolGrad rule: each position equal to the window's maximum.
  Var x = matrix(DType::Float64, "x");
  auto f = function({x}, {grad(sum(pool_2d(x, {{2, 2}, std::nullopt, {0, 0}, true, PoolMode::Max})), x)});
  auto r = (*f)({Array::from_vector<double>({1, 1, 0, 2, 1, 0, 2, 2}, {2, 4})})[0].to_double_vector();
  EXPECT_EQ(r, (std::vector<double>{1, 1, 0, 1, 1, 0, 1, 1}));
}

TEST(GradPool, AveragesAndPaddingByHand) {
  Var x = matrix(DType::Float64, "x");
  auto run = [&](PoolMode mode) {
    PoolParams p{{2, 2}, std::nullopt, {1, 1}, true, mode};
    return (*function({x}, {grad(sum(pool_2d(x, p)), x)}))({Array::full(DType::Float64, {2, 2}, 1.0)})[0].to_double_vector();
  };
  // Each corner is alone in its padded 2x2 window.
  EXPECT_EQ(run(PoolMode::Sum), (std::vector<double>{1, 1, 1, 1}));
  EXPECT_EQ(run(PoolMode::AverageIncPad), (std::vector<double>{0.25, 0.25, 0.25, 0.25}));
  EXPECT_EQ(run(PoolMode::AverageExcPad), (std::vector<double>{1, 1, 1, 1}));
}

TEST(GradPool, GradientOpsAreDifferentiable) {
  for (PoolMode mode : kModes)
    for (const PoolParams& p : configurations(mode)) {
      Pool2d fwd(p);
      Shape xs{2, 5, 5};
      Shape os{2, fwd.out_size(0, 5), fwd.out_size(1, 5)};
      auto pg = [&](const std::vector<Var>& v) { return apply1(std::make_shared<Pool2dGrad>(p), {v[0], v[1]}); };
      EXPECT_NO_THROW(verify_grad(pg, {distinct(xs, 4), randu(os, 5)})) << str(p);
      if (mode == PoolMode::Max) {
        auto gg = [&](const std::vector<Var>& v) { return apply1(std::make_shared<MaxPool2dGradGrad>(p), {v[0], v[1]}); };
        EXPECT_NO_THROW(verify_grad(gg, {distinct(xs, 6), randu(xs, 7)})) << str(p);
      }
    }
}

TEST(GradPool, SecondOrderThroughGrad) {
  for (PoolMode mode : kModes) {
    PoolParams p{{2, 2}, std::array<int64_t, 2>{1, 1}, {0, 0}, true, mode};
    auto f = [&](const std::vector<Var>& v) {
      Var y = pool_2d(v[0], p);
      return grad(sum(y * y * v[1]), v[0]);
    };
    EXPECT_NO_THROW(verify_grad(f, {distinct({3, 4}, 8), randu({2, 3}, 9)})) << pool_mode_name(mode);
  }
}

TEST(GradPool, IntegerInputsAreDisconnectedAndHalfKeepsDtype) {
  Var xi = matrix(DType::Int32, "xi");
  GradOptions go;
  go.disconnected_inputs = DisconnectedInputs::Ignore;
  EXPECT_NO_THROW(grad(sum(cast(pool_2d(xi, {}), DType::Float64)), xi, go));
  Var xf = tensor(DType::Float32, {-1, -1}, "xf");
  Var g = grad(sum(pool_2d(xf, {})), xf);
  EXPECT_EQ(g.dtype(), DType::Float32);
  auto r = (*function({xf}, {g}))({Array::full(DType::Float32, {2, 2}, 1.0)})[0];
  EXPECT_EQ(r.dtype(), DType::Float32);
  EXPECT_EQ(r.to_double_vector(), (std::vector<double>{1, 1, 1, 1}));
}
