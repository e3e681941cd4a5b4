// conv2d, pool_2d and their gradients on oneDNN (float32) against theon's
// reference kernels (the same ops with set_dnnl_enabled(false)) over random
// shapes and parameters: every border mode, strides, dilation, groups, both
// flips, non-contiguous inputs, every pooling mode and border rule.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <theon/theon.h>
#include <theon/ops/conv.h>
#include <theon/ops/pool.h>
#include <theon/runtime/thread_pool.h>

using namespace theon;

namespace {

Array rand_f32(const Shape& shape, std::mt19937& g, bool ties = false) {
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> v(size_t(shape_size(shape)));
  // ties: small integers, so that max-pooling windows hold equal maxima.
  for (auto& x : v) x = ties ? std::floor(u(g) * 2.5f) : u(g);
  return Array::from_vector(v, shape);
}

// Runs op on the inputs with oneDNN on and off; returns (oneDNN, reference).
std::pair<Array, Array> both(const Op& op, const std::vector<Array>& in) {
  std::vector<Array> a(1), b(1);
  set_dnnl_enabled(true);
  op.perform(in, a);
  set_dnnl_enabled(false);
  op.perform(in, b);
  set_dnnl_enabled(true);
  return {a[0], b[0]};
}

// float32 agreement: each element within 1e-4 of the reference's magnitude scale.
void expect_close(const Array& got, const Array& want, const std::string& what, double rel = 1e-4) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  auto g = got.to_double_vector(), w = want.to_double_vector();
  double scale = 1;
  for (double v : w) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < w.size(); ++i) ASSERT_NEAR(g[i], w[i], rel * scale) << what << " at " << i;
}

// An input laid out non-contiguously (a transposed copy, transposed back).
Array strided(const Array& a) { return a.transpose({0, 1, 3, 2}).copy().transpose({0, 1, 3, 2}); }

struct ConvCase {
  Shape xs, ws;
  ConvParams p;
  std::string str() const {
    return "x" + shape_str(xs) + " w" + shape_str(ws) + " " + Conv2d(p).props();
  }
};

ConvCase random_conv(std::mt19937& g) {
  auto r = [&](int lo, int hi) { return int64_t(std::uniform_int_distribution<int>(lo, hi)(g)); };
  ConvCase c;
  ConvParams& p = c.p;
  p.num_groups = r(1, 3);
  p.subsample = {r(1, 3), r(1, 3)};
  p.dilation = {r(1, 2), r(1, 2)};
  p.filter_flip = r(0, 1) == 1;
  switch (r(0, 3)) {
    case 0: set_border_mode(p, "valid"); break;
    case 1: set_border_mode(p, "full"); break;
    case 2: set_border_mode(p, "half"); break;
    default: set_border_mode(p, r(0, 3), r(0, 3));
  }
  const int64_t kh = r(1, 4), kw = r(1, 4);
  const int64_t dkh = (kh - 1) * p.dilation[0] + 1, dkw = (kw - 1) * p.dilation[1] + 1;
  c.xs = {r(1, 3), p.num_groups * r(1, 3), dkh + r(0, 8), dkw + r(0, 8)};
  c.ws = {p.num_groups * r(1, 3), c.xs[1] / p.num_groups, kh, kw};
  return c;
}

}  // namespace

TEST(ConvDnnl, ForwardAndGradientsMatchReference) {
  std::mt19937 g(2024);
  const uint64_t runs = dnnl_run_count();
  for (int t = 0; t < 150; ++t) {
    ConvCase c = random_conv(g);
    Array x = rand_f32(c.xs, g), w = rand_f32(c.ws, g);
    if (t % 3 == 0) x = strided(x);
    if (t % 5 == 0) w = strided(w);
    Conv2d fwd(c.p);
    auto [y, y_ref] = both(fwd, {x, w});
    expect_close(y, y_ref, "forward " + c.str());
    Array gy = rand_f32(y.shape(), g);
    if (t % 4 == 0) gy = strided(gy);
    auto [gx, gx_ref] = both(Conv2dGradInputs(c.p), {w, gy, Array::from_vector<int64_t>({c.xs[2], c.xs[3]})});
    expect_close(gx, gx_ref, "grad inputs " + c.str());
    auto [gw, gw_ref] = both(Conv2dGradWeights(c.p), {x, gy, Array::from_vector<int64_t>({c.ws[2], c.ws[3]})});
    expect_close(gw, gw_ref, "grad weights " + c.str());
  }
  // Every case above has a oneDNN implementation: three runs each.
  EXPECT_GE(dnnl_run_count() - runs, uint64_t(3 * 150));
}

TEST(ConvDnnl, HalfPrecisionThreadsAndParallelRegions) {
  std::mt19937 g(7);
  ConvParams p;
  set_border_mode(p, "half");
  p.num_groups = 2;
  Array x = rand_f32({4, 6, 11, 9}, g), w = rand_f32({8, 3, 3, 3}, g);
  Conv2d op(p);
  // bfloat16 / float16 compute in float32 on both paths, so they agree to their own precision.
  for (DType d : {DType::BFloat16, DType::Float16}) {
    auto [y, y_ref] = both(op, {x.astype(d), w.astype(d)});
    EXPECT_EQ(y.dtype(), d);
    expect_close(y, y_ref, std::string(dtype_name(d)), 1e-2);
  }
  // float64 keeps the reference kernel.
  const uint64_t before = dnnl_run_count();
  std::vector<Array> out(1);
  op.perform({x.astype(DType::Float64), w.astype(DType::Float64)}, out);
  EXPECT_EQ(dnnl_run_count(), before);
  // The thread count does not change the result beyond rounding, and calls
  // made inside a parallel_for task (which take the reference kernel) agree.
  const int threads = num_threads();
  std::vector<Array> one(1), two(1);
  set_num_threads(1);
  op.perform({x, w}, one);
  set_num_threads(2);
  op.perform({x, w}, two);
  set_num_threads(threads);
  expect_close(one[0], two[0], "1 vs 2 threads");
  std::vector<std::vector<Array>> inner(2, std::vector<Array>(1));
  parallel_for(2, 1, [&](int64_t b, int64_t) { op.perform({x, w}, inner[size_t(b)]); });
  for (auto& r : inner) expect_close(r[0], two[0], "inside parallel_for");
}

TEST(ConvDnnl, BadParametersStillRaise) {
  ConvParams p;
  p.num_groups = 2;
  std::mt19937 g(3);
  std::vector<Array> out(1);
  Conv2d op(p);
  EXPECT_THROW(op.perform({rand_f32({1, 3, 5, 5}, g), rand_f32({2, 1, 3, 3}, g)}, out), std::invalid_argument);
  Conv2d valid(ConvParams{});
  EXPECT_THROW(valid.perform({rand_f32({1, 1, 2, 2}, g), rand_f32({1, 1, 3, 3}, g)}, out), std::invalid_argument);
  Conv2dGradInputs gi(ConvParams{});
  EXPECT_THROW(gi.perform({rand_f32({2, 1, 3, 3}, g), rand_f32({1, 2, 4, 4}, g), Array::from_vector<int64_t>({7, 7})},
                          out),
               std::invalid_argument);
}

namespace {

// Max pooling's gradient by its definition, in double: each window's
// gradient goes to every position equal to the window's maximum (padding
// excluded; windows clipped at the end without ignore_border).
std::vector<double> max_pool_grad_oracle(const Array& x, const Array& gz, const PoolParams& p) {
  const Shape& xs = x.shape();
  const int64_t h = xs[xs.size() - 2], w = xs.back();
  const int64_t oh = gz.shape()[xs.size() - 2], ow = gz.shape().back(), imgs = shape_size(xs) / (h * w);
  const auto st = p.stride.value_or(p.ws);
  auto xv = x.copy().to_double_vector(), gv = gz.copy().to_double_vector();
  std::vector<double> r(xv.size(), 0.0);
  for (int64_t b = 0; b < imgs; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t r0 = std::max<int64_t>(oy * st[0] - p.pad[0], 0);
        const int64_t r1 = std::min<int64_t>(oy * st[0] - p.pad[0] + p.ws[0], h);
        const int64_t c0 = std::max<int64_t>(ox * st[1] - p.pad[1], 0);
        const int64_t c1 = std::min<int64_t>(ox * st[1] - p.pad[1] + p.ws[1], w);
        double m = -INFINITY;
        for (int64_t i = r0; i < r1; ++i)
          for (int64_t j = c0; j < c1; ++j) m = std::max(m, xv[size_t((b * h + i) * w + j)]);
        for (int64_t i = r0; i < r1; ++i)
          for (int64_t j = c0; j < c1; ++j)
            if (xv[size_t((b * h + i) * w + j)] == m) r[size_t((b * h + i) * w + j)] += gv[size_t((b * oh + oy) * ow + ox)];
      }
  return r;
}

PoolParams random_pool(std::mt19937& g) {
  auto r = [&](int lo, int hi) { return int64_t(std::uniform_int_distribution<int>(lo, hi)(g)); };
  PoolParams p;
  p.ws = {r(1, 3), r(1, 3)};
  p.stride = std::array<int64_t, 2>{r(1, 3), r(1, 3)};
  p.ignore_border = r(0, 1) == 1;
  if (p.ignore_border) p.pad = {r(0, p.ws[0] - 1), r(0, p.ws[1] - 1)};
  p.mode = PoolMode(r(0, 3));
  return p;
}

}  // namespace

TEST(PoolDnnl, ForwardAndGradientsMatchReference) {
  std::mt19937 g(99);
  const uint64_t runs = dnnl_run_count();
  int dnnl_cases = 0;
  for (int t = 0; t < 200; ++t) {
    PoolParams p = random_pool(g);
    if (t % 5 == 0) p = PoolParams{};  // 2x2 windows moving by 2: max pooling's gradient has a kernel of its own
    auto r = [&](int lo, int hi) { return int64_t(std::uniform_int_distribution<int>(lo, hi)(g)); };
    Shape xs = t % 4 == 0 ? Shape{r(1, 3), r(1, 4), r(1, 9)} : Shape{r(1, 3), r(1, 4), r(1, 9), r(1, 9)};
    // Max-pooling inputs with ties in half of the cases: every tied maximum gets the gradient on both paths.
    Array x = rand_f32(xs, g, t % 2 == 0);
    if (xs.size() == 4 && t % 3 == 0) x = strided(x);
    Pool2d fwd(p);
    if (fwd.out_size(0, xs[xs.size() - 2]) == 0 || fwd.out_size(1, xs.back()) == 0) continue;
    const std::string what = shape_str(xs) + " " + fwd.props();
    auto [y, y_ref] = both(fwd, {x});
    expect_close(y, y_ref, "pool " + what);
    Array gz = rand_f32(y.shape(), g);
    auto [gx, gx_ref] = both(Pool2dGrad(p), {x, gz});
    expect_close(gx, gx_ref, "pool grad " + what);
    if (p.mode == PoolMode::Max) {
      auto want = max_pool_grad_oracle(x, gz, p), got = gx.to_double_vector();
      for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5) << what << " at " << i;
    }
    dnnl_cases += p.mode == PoolMode::Sum ? 0 : p.mode == PoolMode::Max ? 1 : 2;
  }
  // Sum pooling and max pooling's gradient keep theon's kernels; the rest ran on oneDNN.
  EXPECT_EQ(dnnl_run_count() - runs, uint64_t(dnnl_cases));
}

TEST(PoolDnnl, NanPropagatesAsTheReference) {
  std::mt19937 g(5);
  Array x = rand_f32({2, 3, 6, 6}, g);
  x.data_as<float>()[7] = NAN;
  PoolParams p;
  auto [y, y_ref] = both(Pool2d(p), {x});
  auto a = y.to_double_vector(), b = y_ref.to_double_vector();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(std::isnan(a[i]), std::isnan(b[i])) << i;
    if (!std::isnan(b[i])) {
      EXPECT_EQ(a[i], b[i]) << i;
    }
  }
  EXPECT_TRUE(std::isnan(a[0]));  // the window holding position 7 (row 1, column 1)
  EXPECT_FALSE(std::isnan(a[1]));
  // The window holding the NaN passes no gradient (NaN equals nothing); the others pass theirs.
  std::vector<Array> gx(1);
  Pool2dGrad(p).perform({x, Array::full(DType::Float32, y.shape(), 1.0)}, gx);
  auto gv = gx[0].to_double_vector();
  for (int64_t i : {0, 1, 6, 7}) EXPECT_EQ(gv[size_t(i)], 0.0) << i;
  double total = 0;
  for (double v : gv) total += v;
  EXPECT_EQ(total, double(y.size() - 1));
}
