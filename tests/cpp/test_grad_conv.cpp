// Gradients of conv2d w.r.t. input and filters (Conv2dGradInputs /
// Conv2dGradWeights) and of those ops themselves, against finite differences,
// for every border mode, strides, dilation, groups and filter flipping.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <theon/ops/conv.h>
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

struct Case {
  std::string mode;  // "valid", "full", "half" or "pad" (explicit (1, 2))
  int64_t stride_r, stride_c, dil, groups;
  bool flip;
};

ConvParams params_of(const Case& c) {
  ConvParams p;
  if (c.mode == "pad") set_border_mode(p, 1, 2);
  else set_border_mode(p, c.mode);
  p.subsample = {c.stride_r, c.stride_c};
  p.dilation = {c.dil, c.dil};
  p.num_groups = c.groups;
  p.filter_flip = c.flip;
  return p;
}

std::string str(const Case& c) {
  return c.mode + " stride=(" + std::to_string(c.stride_r) + "," + std::to_string(c.stride_c) +
         ") dil=" + std::to_string(c.dil) + " groups=" + std::to_string(c.groups) + " flip=" + std::to_string(c.flip);
}

std::vector<Case> cases() {
  std::vector<Case> r;
  for (const char* m : {"valid", "full", "half", "pad"})
    for (bool flip : {true, false}) {
      r.push_back({m, 1, 1, 1, 1, flip});
      r.push_back({m, 2, 2, 1, 1, flip});
      r.push_back({m, 1, 1, 2, 1, flip});
      r.push_back({m, 1, 1, 1, 2, flip});
    }
  r.push_back({"valid", 2, 1, 2, 2, true});
  r.push_back({"half", 2, 3, 2, 2, false});
  r.push_back({"full", 3, 2, 2, 2, true});
  return r;
}

VerifyGradOptions one_test() {
  VerifyGradOptions o;
  o.n_tests = 1;
  return o;
}

}  // namespace

TEST(GradConv, InputAndFiltersEveryConfiguration) {
  // 7 x 6 inputs with 3 x 2 kernels: odd and even sizes, so strides leave
  // uncovered rows and 'half' pads asymmetric kernels.
  for (const Case& c : cases()) {
    ConvParams p = params_of(c);
    auto x = randu({2, 4, 7, 6}, 1);
    auto w = randu({4, 4 / c.groups, 3, 2}, 2);
    EXPECT_NO_THROW(verify_grad([&](const std::vector<Var>& v) { return conv2d(v[0], v[1], p); }, {x, w}, one_test()))
        << str(c);
  }
}

TEST(GradConv, GradientOpsAreDifferentiable) {
  // Both gradient ops checked directly, which exercises their own L_ops
  // (second-order gradients of conv2d).
  for (const Case& c : cases()) {
    ConvParams p = params_of(c);
    Shape xs{2, 4, 7, 6}, ws{4, 4 / c.groups, 3, 2};
    Var y = conv2d(tensor(DType::Float64, xs), tensor(DType::Float64, ws), p);
    Shape ys(y.type().shape.begin(), y.type().shape.end());
    Var hw = constant(Array::from_vector<int64_t>({7, 6}));
    Var khw = constant(Array::from_vector<int64_t>({3, 2}));
    EXPECT_NO_THROW(verify_grad([&](const std::vector<Var>& v) { return conv2d_grad_inputs(v[0], v[1], hw, p); },
                                {randu(ws, 3), randu(ys, 4)}, one_test()))
        << str(c);
    EXPECT_NO_THROW(verify_grad([&](const std::vector<Var>& v) { return conv2d_grad_weights(v[0], v[1], khw, p); },
                                {randu(xs, 5), randu(ys, 6)}, one_test()))
        << str(c);
  }
}

TEST(GradConv, SecondOrderThroughGrad) {
  // A cost quadratic in both input and filters: its gradient depends on both.
  ConvParams p = params_of({"half", 2, 1, 1, 2, true});
  verify_grad(
      [&](const std::vector<Var>& v) {
        Var y = conv2d(v[0], v[1], p);
        return grad(sum(y * y), v[0]);
      },
      {randu({1, 2, 5, 4}, 7), randu({2, 1, 3, 3}, 8)}, one_test());
  verify_grad(
      [&](const std::vector<Var>& v) {
        Var y = conv2d(v[0], v[1], p);
        return grad(sum(y * y), v[1]);
      },
      {randu({1, 2, 5, 4}, 9), randu({2, 1, 3, 3}, 10)}, one_test());
}

TEST(GradConv, StaticShapesAndDtypes) {
  ConvParams p;
  p.subsample = {2, 2};
  Var x = tensor(DType::Float32, {2, 3, 9, 8}, "x");
  Var w = tensor(DType::Float32, {4, 3, 3, 3}, "w");
  Var y = conv2d(x, w, p);
  auto g = grad(sum(y), {x, w});
  EXPECT_EQ(g[0].type().shape, (std::vector<int64_t>{2, 3, 9, 8}));
  EXPECT_EQ(g[1].type().shape, (std::vector<int64_t>{4, 3, 3, 3}));
  EXPECT_EQ(g[0].dtype(), DType::Float32);
  // float32 agrees with float64.
  Var x64 = tensor(DType::Float64, {2, 3, 9, 8}), w64 = tensor(DType::Float64, {4, 3, 3, 3});
  auto g64 = grad(sum(conv2d(x64, w64, p) * 0.5), {x64, w64});
  auto f32 = function({x, w}, g);
  auto f64 = function({x64, w64}, g64);
  Array xv = randu({2, 3, 9, 8}, 11), wv = randu({4, 3, 3, 3}, 12);
  auto r32 = (*f32)({xv.astype(DType::Float32), wv.astype(DType::Float32)});
  auto r64 = (*f64)({xv, wv});
  for (int k = 0; k < 2; ++k) {
    auto a = r32[k].to_double_vector(), b = r64[k].to_double_vector();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], 2 * b[i], 1e-4);
  }
  // Unknown spatial sizes are read at run time.
  Var xu = tensor(DType::Float64, {-1, -1, -1, -1}), wu = tensor(DType::Float64, {-1, -1, -1, -1});
  auto gu = grad(sum(conv2d(xu, wu, p)), {xu, wu});
  auto fu = function({xu, wu}, gu);
  auto ru = (*fu)({xv, wv});
  EXPECT_EQ(ru[0].shape(), (Shape{2, 3, 9, 8}));
  EXPECT_EQ(ru[1].shape(), (Shape{4, 3, 3, 3}));
  auto a = ru[1].to_double_vector(), b = r64[1].to_double_vector();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_DOUBLE_EQ(a[i], 2 * b[i]);
}

TEST(GradConv, GradientOpsRejectMismatchedShapes) {
  ConvParams p;
  Var w = tensor(DType::Float64, {-1, -1, -1, -1});
  Var gy = tensor(DType::Float64, {-1, -1, -1, -1});
  Var hw = vector(DType::Int64);
  auto f = function({w, gy, hw}, {conv2d_grad_inputs(w, gy, hw, p)});
  // A 3x3 kernel over 5x5 gives 3x3, not 4x4.
  EXPECT_THROW((*f)({randu({2, 1, 3, 3}, 1), randu({1, 2, 4, 4}, 2), Array::from_vector<int64_t>({5, 5})}),
               std::invalid_argument);
  EXPECT_NO_THROW((*f)({randu({2, 1, 3, 3}, 1), randu({1, 2, 3, 3}, 2), Array::from_vector<int64_t>({5, 5})}));
  EXPECT_THROW(conv2d_grad_inputs(w, gy, matrix(DType::Int64), p), std::invalid_argument);
}
