// pool_2d: all modes, strides, padding and ignore_border=false against
// Theano's reference algorithm (pad with zeros, clip windows), and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

#include <theon/theon.h>
#include <theon/ops/pool.h>

using namespace theon;

namespace {

Array rand_array(const Shape& shape, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> u(-5, 5);
  std::vector<double> v(size_t(shape_size(shape)));
  for (auto& x : v) x = u(g);
  return Array::from_vector(v, shape);
}

// Theano's Pool.perform, written out for a (B, H, W) input.
std::vector<double> reference(const std::vector<double>& x, int64_t b, int64_t h, int64_t w, const PoolParams& p,
                              int64_t oh, int64_t ow) {
  auto st = p.stride.value_or(p.ws);
  int64_t hp = h + 2 * p.pad[0], wp = w + 2 * p.pad[1];
  std::vector<double> y(size_t(b * hp * wp), 0.0);
  for (int64_t n = 0; n < b; ++n)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) y[(n * hp + i + p.pad[0]) * wp + j + p.pad[1]] = x[(n * h + i) * w + j];
  bool inc = p.mode == PoolMode::AverageIncPad;
  std::vector<double> r;
  for (int64_t n = 0; n < b; ++n)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        int64_t rs = oy * st[0], re = std::min(rs + p.ws[0], hp);
        int64_t cs = ox * st[1], ce = std::min(cs + p.ws[1], wp);
        if (!inc) {
          rs = std::max(rs, p.pad[0]), re = std::min(re, h + p.pad[0]);
          cs = std::max(cs, p.pad[1]), ce = std::min(ce, w + p.pad[1]);
        }
        double m = -1e300, s = 0;
        for (int64_t i = rs; i < re; ++i)
          for (int64_t j = cs; j < ce; ++j) {
            double v = y[(n * hp + i) * wp + j];
            m = std::max(m, v);
            s += v;
          }
        double cnt = double((re - rs) * (ce - cs));
        r.push_back(p.mode == PoolMode::Max ? m : p.mode == PoolMode::Sum ? s : s / cnt);
      }
  return r;
}

void expect_message(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    FAIL() << "expected an error containing " << part;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Pool2d, AllModesMatchReference) {
  unsigned seed = 1;
  Array a = rand_array({2, 3, 7, 6}, 0);
  auto av = a.to_double_vector();
  Var x = tensor(DType::Float64, {-1, -1, -1, -1}, "x");
  for (PoolMode mode : {PoolMode::Max, PoolMode::Sum, PoolMode::AverageIncPad, PoolMode::AverageExcPad})
    for (bool ib : {true, false})
      for (auto ws : {std::array<int64_t, 2>{2, 2}, std::array<int64_t, 2>{3, 2}, std::array<int64_t, 2>{3, 3}})
        for (auto st : {std::array<int64_t, 2>{1, 1}, std::array<int64_t, 2>{2, 3}, std::array<int64_t, 2>{3, 3}})
          for (auto pad : {std::array<int64_t, 2>{0, 0}, std::array<int64_t, 2>{1, 1}}) {
            if (!ib && pad[0]) continue;
            PoolParams p{ws, st, pad, ib, mode};
            Var y = pool_2d(x, p);
            Array r = eval(y, {{x, a}});
            int64_t oh = r.shape()[2], ow = r.shape()[3];
            auto ref = reference(av, 6, 7, 6, p, oh, ow);
            ASSERT_EQ(r.size(), int64_t(ref.size()));
            auto rv = r.to_double_vector();
            for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(rv[i], ref[i], 1e-12) << y.owner()->op->props();
            EXPECT_EQ(eval(shape_i(y, 2), {{x, a}}).item_int(), oh);
            EXPECT_EQ(eval(shape_i(y, 3), {{x, a}}).item_int(), ow);
            ++seed;
          }
}

TEST(Pool2d, OutputShapesFollowTheano) {
  PoolParams p{{3, 3}, std::nullopt, {0, 0}, false, PoolMode::Max};
  // ignore_border=False keeps the partial window: 7 -> 3, 2 -> 1.
  EXPECT_EQ(pool_2d(tensor(DType::Float32, {4, 7, 2}), p).type().shape, (std::vector<int64_t>{4, 3, 1}));
  p.ignore_border = true;
  EXPECT_EQ(pool_2d(tensor(DType::Float32, {4, 7, 2}), p).type().shape, (std::vector<int64_t>{4, 2, 0}));
  p.stride = std::array<int64_t, 2>{1, 1};
  p.ignore_border = false;
  EXPECT_EQ(pool_2d(tensor(DType::Float32, {5, 2}), p).type().shape, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(pool_2d(tensor(DType::Float32, {5, 2}), p).dtype(), DType::Float32);
}

TEST(Pool2d, IntegersEmptyAndStrided) {
  Var x = tensor(DType::Int32, {-1, -1}, "x");
  Array a = Array::from_vector<int32_t>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3});
  PoolParams p{{2, 2}, std::nullopt, {0, 0}, false, PoolMode::AverageExcPad};
  EXPECT_EQ(eval(pool_2d(x, p), {{x, a}}).to_int_vector(), (std::vector<int64_t>{3, 4, 7, 9}));
  p.mode = PoolMode::Max;
  EXPECT_EQ(eval(pool_2d(x, p), {{x, a}}).to_int_vector(), (std::vector<int64_t>{5, 6, 8, 9}));
  Var y = tensor(DType::Float64, {-1, -1, -1}, "y");
  EXPECT_EQ(eval(pool_2d(y, p), {{y, Array::zeros(DType::Float64, {0, 4, 4})}}).shape(), (Shape{0, 2, 2}));
  Array b = rand_array({5, 6, 4}, 3).transpose({0, 2, 1});
  EXPECT_EQ(eval(pool_2d(y, p), {{y, b}}).to_double_vector(), eval(pool_2d(y, p), {{y, b.copy()}}).to_double_vector());
  Var h = tensor(DType::Float16, {-1, -1}, "h");
  EXPECT_EQ(pool_2d(h, p).dtype(), DType::Float16);
}

TEST(Pool2d, Errors) {
  expect_message([] { pool_2d(vector(DType::Float64), PoolParams{}); }, "[pool_2d] input must have at least 2");
  expect_message([] { pool_2d(matrix(DType::Float64), PoolParams{{2, 2}, std::nullopt, {1, 1}, false, PoolMode::Max}); },
                 "ignore_border=True");
  expect_message([] { pool_2d(matrix(DType::Float64), PoolParams{{2, 2}, std::nullopt, {2, 0}, true, PoolMode::Max}); },
                 "smaller than ws");
  expect_message([] { pool_2d(matrix(DType::Float64), PoolParams{{0, 2}, std::nullopt, {0, 0}, true, PoolMode::Max}); },
                 "ws must be positive");
  expect_message([] { pool_mode_from_name("mean"); }, "mode must be 'max'");
}
