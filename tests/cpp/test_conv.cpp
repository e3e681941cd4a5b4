// conv2d: every border mode, strides, dilation, groups and flips against a
// direct reference; static shape checks and error messages.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include <theon/theon.h>
#include <theon/ops/conv.h>

using namespace theon;

namespace {

Array rand_array(const Shape& shape, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(size_t(shape_size(shape)));
  for (auto& x : v) x = u(g);
  return Array::from_vector(v, shape);
}

// Direct definition: out[n,o,y,x] = sum in[n, g*cg+c, y*s + i*d - p, x*s + j*d - p] * w[o,c,i',j'].
std::vector<double> reference(const Array& x, const Array& w, const ConvParams& p, Shape* out_shape) {
  auto xs = x.shape(), ws = w.shape();
  auto xv = x.copy().to_double_vector(), wv = w.copy().to_double_vector();
  int64_t pad[2];
  for (int d = 0; d < 2; ++d) {
    int64_t dk = (ws[2 + d] - 1) * p.dilation[d] + 1;
    pad[d] = p.border_mode == BorderMode::Valid  ? 0
             : p.border_mode == BorderMode::Full ? dk - 1
             : p.border_mode == BorderMode::Half ? dk / 2
                                                 : p.pad[d];
  }
  int64_t oh = (xs[2] + 2 * pad[0] - ((ws[2] - 1) * p.dilation[0] + 1)) / p.subsample[0] + 1;
  int64_t ow = (xs[3] + 2 * pad[1] - ((ws[3] - 1) * p.dilation[1] + 1)) / p.subsample[1] + 1;
  *out_shape = {xs[0], ws[0], oh, ow};
  int64_t ocg = ws[0] / p.num_groups;
  std::vector<double> r(size_t(xs[0] * ws[0] * oh * ow), 0.0);
  for (int64_t n = 0; n < xs[0]; ++n)
    for (int64_t o = 0; o < ws[0]; ++o)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t xx = 0; xx < ow; ++xx) {
          double s = 0;
          for (int64_t c = 0; c < ws[1]; ++c)
            for (int64_t i = 0; i < ws[2]; ++i)
              for (int64_t j = 0; j < ws[3]; ++j) {
                int64_t iy = y * p.subsample[0] + i * p.dilation[0] - pad[0];
                int64_t ix = xx * p.subsample[1] + j * p.dilation[1] - pad[1];
                if (iy < 0 || iy >= xs[2] || ix < 0 || ix >= xs[3]) continue;
                int64_t wi = p.filter_flip ? ws[2] - 1 - i : i, wj = p.filter_flip ? ws[3] - 1 - j : j;
                int64_t ci = (o / ocg) * ws[1] + c;
                s += xv[((n * xs[1] + ci) * xs[2] + iy) * xs[3] + ix] * wv[((o * ws[1] + c) * ws[2] + wi) * ws[3] + wj];
              }
          r[((n * ws[0] + o) * oh + y) * ow + xx] = s;
        }
  return r;
}

void check(const Shape& xs, const Shape& ws, const ConvParams& p, unsigned seed) {
  Array xa = rand_array(xs, seed), wa = rand_array(ws, seed + 1);
  Var x = tensor(DType::Float64, {-1, -1, -1, -1}, "x");
  Var w = tensor(DType::Float64, {-1, -1, -1, -1}, "w");
  Var y = conv2d(x, w, p);
  Shape os;
  auto ref = reference(xa, wa, p, &os);
  Array r = eval(y, {{x, xa}, {w, wa}});
  ASSERT_EQ(r.shape(), os);
  auto rv = r.to_double_vector();
  for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(rv[i], ref[i], 1e-12) << i;
  // Inferred shapes agree without running the convolution.
  for (int d = 0; d < 4; ++d) EXPECT_EQ(eval(shape_i(y, d), {{x, xa}, {w, wa}}).item_int(), os[d]);
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

TEST(Conv2d, BorderModesStridesDilation) {
  unsigned seed = 1;
  for (const char* mode : {"valid", "full", "half"})
    for (int64_t s : {1, 2})
      for (int64_t d : {1, 2})
        for (bool flip : {true, false}) {
          ConvParams p;
          set_border_mode(p, mode);
          p.subsample = {s, 3 - s};
          p.dilation = {d, 1};
          p.filter_flip = flip;
          check({2, 3, 9, 8}, {4, 3, 3, 2}, p, seed++);
        }
  ConvParams p;
  set_border_mode(p, 2, 1);
  check({1, 2, 5, 6}, {3, 2, 2, 3}, p, 100);
  p.subsample = {3, 2};
  check({2, 1, 7, 7}, {2, 1, 3, 3}, p, 101);
}

TEST(Conv2d, GroupsEmptyBatchAndStrides) {
  ConvParams p;
  p.num_groups = 2;
  set_border_mode(p, "half");
  check({2, 4, 6, 5}, {6, 2, 3, 3}, p, 7);
  check({0, 4, 6, 5}, {6, 2, 3, 3}, p, 8);
  // Non-contiguous input gives the same result as its copy.
  Var x = tensor(DType::Float64, {-1, -1, -1, -1}, "x");
  Var w = tensor(DType::Float64, {-1, -1, -1, -1}, "w");
  Array xa = rand_array({2, 3, 6, 7}, 9).transpose({0, 1, 3, 2});
  Array wa = rand_array({4, 3, 3, 3}, 10);
  Var y = conv2d(x, w);
  EXPECT_EQ(eval(y, {{x, xa}, {w, wa}}).to_double_vector(), eval(y, {{x, xa.copy()}, {w, wa}}).to_double_vector());
}

TEST(Conv2d, DtypesAndStaticShapes) {
  Var x = tensor(DType::Float32, {8, 3, 10, 10}, "x");
  Var w = tensor(DType::Float32, {5, 3, 3, 3}, "w");
  Var y = conv2d(x, w);
  EXPECT_EQ(y.dtype(), DType::Float32);
  EXPECT_EQ(y.type().shape, (std::vector<int64_t>{8, 5, 8, 8}));
  ConvParams p;
  p.input_shape = {-1, 3, 10, 12};
  Var y2 = conv2d(tensor(DType::Float64, {-1, -1, -1, -1}), tensor(DType::Float64, {5, 3, 3, 3}), p);
  EXPECT_EQ(y2.type().shape, (std::vector<int64_t>{-1, 5, 8, 10}));
  EXPECT_EQ(conv2d(tensor(DType::Int32, {-1, 1, 4, 4}), tensor(DType::Int32, {1, 1, 2, 2})).dtype(), DType::Float64);
  Array xa = rand_array({1, 2, 5, 5}, 3).astype(DType::Float32), wa = rand_array({2, 2, 3, 3}, 4).astype(DType::Float32);
  Var xf = tensor(DType::Float32, {-1, -1, -1, -1}), wf = tensor(DType::Float32, {-1, -1, -1, -1});
  Shape os;
  auto ref = reference(xa, wa, ConvParams{}, &os);
  auto r = eval(conv2d(xf, wf), {{xf, xa}, {wf, wa}}).to_double_vector();
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(r[i], ref[i], 1e-5);
}

TEST(Conv2d, Errors) {
  Var x4 = tensor(DType::Float64, {-1, 3, -1, -1});
  expect_message([&] { conv2d(x4, tensor(DType::Float64, {2, 4, 3, 3})); }, "input has 3 channels but filters expect 4");
  expect_message([&] { conv2d(matrix(DType::Float64), tensor(DType::Float64, {2, 4, 3, 3})); }, "[conv2d] input must be 4-D");
  expect_message([&] { conv2d(tensor(DType::Float64, {1, 1, 2, 2}), tensor(DType::Float64, {1, 1, 3, 3})); },
                 "the filter spans 3 rows");
  ConvParams p;
  expect_message([&] { set_border_mode(p, "same"); }, "border_mode must be 'valid'");
  expect_message([&] { set_border_mode(p, -1, 0); }, "non-negative");
  p.subsample = {0, 1};
  expect_message([&] { conv2d(x4, tensor(DType::Float64, {2, 3, 3, 3}), p); }, "subsample must be positive");
  ConvParams h;
  h.input_shape = {-1, 4, -1, -1};
  expect_message([&] { conv2d(x4, tensor(DType::Float64, {2, 3, 3, 3}), h); }, "but input_shape is");
  h.input_shape = {2, 3, 5, 5};
  Var y = conv2d(tensor(DType::Float64, {-1, -1, -1, -1}), tensor(DType::Float64, {-1, -1, -1, -1}), h);
  Var xi = y.owner()->inputs[0], wi = y.owner()->inputs[1];
  expect_message([&] { eval(y, {{xi, rand_array({2, 3, 6, 5}, 1)}, {wi, rand_array({1, 3, 2, 2}, 2)}}); },
                 "input_shape (2, 3, 5, 5) does not match");
  Var xd = tensor(DType::Float64, {-1, -1, -1, -1}), wd = tensor(DType::Float64, {-1, -1, -1, -1});
  expect_message([&] { eval(conv2d(xd, wd), {{xd, rand_array({1, 2, 4, 4}, 1)}, {wd, rand_array({1, 3, 2, 2}, 2)}}); },
                 "input has 2 channels but filters expect 3");
}
