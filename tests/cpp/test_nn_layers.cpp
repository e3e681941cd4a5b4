// theon::nn layers: each forward pass against a reference written here in
// plain loops, gradients with verify_grad, and config round trips.
#include <gtest/gtest.h>

#include "nn_test_util.h"

using namespace theon;
using namespace nn_test;

namespace {

// Cross-correlation reference: x (N,C,H,W), w (F,C/g,KH,KW), explicit per-side pads.
std::vector<double> conv_ref(const Array& xa, const Array& wa, const std::vector<double>& bias, int64_t sh, int64_t sw,
                             int64_t dh, int64_t dw, int64_t groups, int64_t pt, int64_t pb, int64_t pl, int64_t pr,
                             std::vector<int64_t>* out_shape) {
  auto x = vals(xa), w = vals(wa);
  int64_t N = xa.shape()[0], C = xa.shape()[1], H = xa.shape()[2], W = xa.shape()[3];
  int64_t F = wa.shape()[0], Cg = wa.shape()[1], KH = wa.shape()[2], KW = wa.shape()[3];
  int64_t OH = (H + pt + pb - (dh * (KH - 1) + 1)) / sh + 1, OW = (W + pl + pr - (dw * (KW - 1) + 1)) / sw + 1;
  *out_shape = {N, F, OH, OW};
  std::vector<double> out(size_t(N * F * OH * OW), 0.0);
  int64_t Fg = F / groups;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t f = 0; f < F; ++f)
      for (int64_t i = 0; i < OH; ++i)
        for (int64_t j = 0; j < OW; ++j) {
          double s = bias.empty() ? 0 : bias[size_t(f)];
          int64_t g = f / Fg;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t a = 0; a < KH; ++a)
              for (int64_t b = 0; b < KW; ++b) {
                int64_t r = i * sh + a * dh - pt, q = j * sw + b * dw - pl;
                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                s += x[size_t(((n * C + g * Cg + c) * H + r) * W + q)] * w[size_t(((f * Cg + c) * KH + a) * KW + b)];
              }
          out[size_t(((n * F + f) * OH + i) * OW + j)] = s;
        }
  return out;
}

Array eval1(const Var& y, const Var& x, const Array& xv) { return eval(y, {{x, xv}}); }

}  // namespace

TEST(NnLayers, DenseMatchesLoops) {
  Array xv = randn({4, 5}, 1);
  Var x = input_like(xv);
  auto d = std::make_shared<nn::Dense>(3, nn::DenseOptions{.activation = "relu", .bias_initializer = nn::Initializer::constant(0.25)});
  Var y = (*d)(x);
  ASSERT_EQ(d->trainable_weights().size(), 2u);
  EXPECT_EQ(d->trainable_weights()[0].name(), d->name() + "/kernel");
  EXPECT_EQ(y.type().shape[1], 3);
  auto w = vals(get_value(d->trainable_weights()[0]));
  auto got = vals(eval1(y, x, xv));
  auto xs = vals(xv);
  std::vector<double> want;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) {
      double s = 0.25;
      for (int k = 0; k < 5; ++k) s += xs[size_t(i * 5 + k)] * w[size_t(k * 3 + j)];
      want.push_back(std::max(s, 0.0));
    }
  expect_close(got, want, 1e-12);
}

TEST(NnLayers, Conv2DValidSameStridesDilationGroups) {
  struct Case {
    int64_t filters, k, stride, dil, groups;
    const char* padding;
  };
  for (Case c : {Case{4, 3, 1, 1, 1, "same"}, Case{4, 3, 2, 1, 1, "same"}, Case{4, 2, 1, 1, 1, "same"},
                 Case{4, 3, 1, 2, 2, "valid"}, Case{6, 3, 2, 1, 3, "valid"}, Case{2, 3, 2, 2, 1, "same"}}) {
    Array xv = randn({2, 6, 7, 8}, 2);
    Var x = input_like(xv);
    auto conv = std::make_shared<nn::Conv2D>(
        c.filters, c.k,
        nn::Conv2DOptions{.strides = {c.stride, c.stride}, .padding = c.padding, .dilation_rate = {c.dil, c.dil},
                          .groups = c.groups, .bias_initializer = nn::Initializer::normal(0, 1)});
    Var y = (*conv)(x);
    Array wv = get_value(conv->trainable_weights()[0]);
    auto b = vals(get_value(conv->trainable_weights()[1]));
    int64_t pads[2][2] = {{0, 0}, {0, 0}};
    if (std::string(c.padding) == "same") {
      int64_t in[2] = {7, 8};
      for (int d = 0; d < 2; ++d) {
        int64_t eff = (c.k - 1) * c.dil + 1, out = (in[d] + c.stride - 1) / c.stride;
        int64_t total = std::max<int64_t>((out - 1) * c.stride + eff - in[d], 0);
        pads[d][0] = total / 2;
        pads[d][1] = total - total / 2;
      }
    }
    std::vector<int64_t> shape;
    auto want = conv_ref(xv, wv, b, c.stride, c.stride, c.dil, c.dil, c.groups, pads[0][0], pads[0][1], pads[1][0],
                         pads[1][1], &shape);
    Array got = eval1(y, x, xv);
    EXPECT_EQ(got.shape(), shape) << c.padding << " stride " << c.stride;
    expect_close(vals(got), want, 1e-10, c.padding);
    if (std::string(c.padding) == "same" && c.stride == 1) {
      EXPECT_EQ(got.shape()[2], 7);
    }
  }
}

TEST(NnLayers, PoolingMatchesLoops) {
  Array xv = randn({2, 3, 5, 6}, 3);
  Var x = input_like(xv);
  auto xs = vals(xv);
  for (bool is_max : {true, false}) {
    nn::LayerPtr l;
    if (is_max) l = std::make_shared<nn::MaxPool2D>(2);
    else l = std::make_shared<nn::AvgPool2D>(2);
    Array got = eval1((*l)(x), x, xv);
    ASSERT_EQ(got.shape(), (Shape{2, 3, 2, 3}));
    std::vector<double> want;
    for (int n = 0; n < 6; ++n)
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j) {
          double m = -1e300, s = 0;
          for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b) {
              double v = xs[size_t(n * 30 + (2 * i + a) * 6 + 2 * j + b)];
              m = std::max(m, v);
              s += v;
            }
          want.push_back(is_max ? m : s / 4);
        }
    expect_close(vals(got), want, 1e-12, is_max ? "max" : "avg");
  }
  // 'same' keeps the partial window: 5 rows -> 3.
  auto same = std::make_shared<nn::MaxPool2D>(std::array<int64_t, 2>{2, 2}, std::array<int64_t, 2>{0, 0}, "same");
  EXPECT_EQ(eval1((*same)(x), x, xv).shape(), (Shape{2, 3, 3, 3}));
  auto gap = std::make_shared<nn::GlobalAvgPool2D>();
  auto g = vals(eval1((*gap)(x), x, xv));
  ASSERT_EQ(g.size(), 6u);
  double s = 0;
  for (int k = 0; k < 30; ++k) s += xs[size_t(k)];
  EXPECT_NEAR(g[0], s / 30, 1e-12);
}

TEST(NnLayers, BatchNormTrainingAndInference) {
  Array xv = randn({6, 3, 2, 2}, 4, DType::Float64, 2.0);
  Var x = input_like(xv);
  auto bn = std::make_shared<nn::BatchNorm>(nn::BatchNormOptions{.momentum = 0.9, .epsilon = 1e-3});
  Var yt = bn->call(x, true);
  auto ups = bn->updates();
  ASSERT_EQ(ups.size(), 2u);
  auto f = function({x}, {yt}, FunctionOptions{.updates = ups});
  auto got = vals((*f)({xv})[0]);
  auto xs = vals(xv);
  std::vector<double> mean(3, 0), var(3, 0);
  for (int n = 0; n < 6; ++n)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 4; ++k) mean[size_t(c)] += xs[size_t((n * 3 + c) * 4 + k)] / 24;
  for (int n = 0; n < 6; ++n)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 4; ++k) var[size_t(c)] += std::pow(xs[size_t((n * 3 + c) * 4 + k)] - mean[size_t(c)], 2) / 24;
  std::vector<double> want;
  for (int n = 0; n < 6; ++n)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 4; ++k)
        want.push_back((xs[size_t((n * 3 + c) * 4 + k)] - mean[size_t(c)]) / std::sqrt(var[size_t(c)] + 1e-3));
  expect_close(got, want, 1e-9, "train");
  // Moving averages: 0.9 * init + 0.1 * batch statistic (unbiased variance).
  auto mm = vals(get_value(bn->non_trainable_weights()[0])), mv = vals(get_value(bn->non_trainable_weights()[1]));
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(mm[size_t(c)], 0.1 * mean[size_t(c)], 1e-12);
    EXPECT_NEAR(mv[size_t(c)], 0.9 + 0.1 * var[size_t(c)] * 24 / 23, 1e-12);
  }
  // Inference uses the moving statistics.
  auto inf = vals(eval1(bn->call(x, false), x, xv));
  for (int n = 0; n < 6; ++n)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 4; ++k) {
        size_t i = size_t((n * 3 + c) * 4 + k);
        ASSERT_NEAR(inf[i], (xs[i] - mm[size_t(c)]) / std::sqrt(mv[size_t(c)] + 1e-3), 1e-9);
      }
}

TEST(NnLayers, LayerNormEmbeddingActivationsReshape) {
  Array xv = randn({3, 5}, 5, DType::Float64, 3.0);
  Var x = input_like(xv);
  auto ln = std::make_shared<nn::LayerNorm>(1e-5);
  auto got = vals(eval1((*ln)(x), x, xv));
  auto xs = vals(xv);
  for (int i = 0; i < 3; ++i) {
    double m = 0, v = 0;
    for (int k = 0; k < 5; ++k) m += xs[size_t(i * 5 + k)] / 5;
    for (int k = 0; k < 5; ++k) v += std::pow(xs[size_t(i * 5 + k)] - m, 2) / 5;
    for (int k = 0; k < 5; ++k) ASSERT_NEAR(got[size_t(i * 5 + k)], (xs[size_t(i * 5 + k)] - m) / std::sqrt(v + 1e-5), 1e-9);
  }
  auto act = [&](const char* name) { return vals(eval1((*std::make_shared<nn::Activation>(name))(x), x, xv)); };
  auto gelu = act("gelu"), swish = act("swish"), leaky = act("leaky_relu"), sm = act("softmax");
  for (size_t i = 0; i < xs.size(); ++i) {
    double v = xs[i];
    ASSERT_NEAR(gelu[i], 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))), 1e-12);
    ASSERT_NEAR(swish[i], v / (1 + std::exp(-v)), 1e-12);
    ASSERT_NEAR(leaky[i], v > 0 ? v : 0.2 * v, 1e-12);
  }
  for (int i = 0; i < 3; ++i) {
    double s = 0;
    for (int k = 0; k < 5; ++k) s += sm[size_t(i * 5 + k)];
    EXPECT_NEAR(s, 1.0, 1e-12);
  }
  EXPECT_THROW(nn::Activation("nope"), std::invalid_argument);

  Var idx = tensor(DType::Int64, {2, 3}, "idx");
  auto emb = std::make_shared<nn::Embedding>(7, 4);
  Array iv = Array::from_vector(std::vector<int64_t>{0, 6, 2, 2, 5, 1}, {2, 3});
  Array e = eval1((*emb)(idx), idx, iv);
  ASSERT_EQ(e.shape(), (Shape{2, 3, 4}));
  auto table = vals(get_value(emb->trainable_weights()[0]));
  auto ev = vals(e);
  std::vector<int64_t> ids{0, 6, 2, 2, 5, 1};
  for (size_t p = 0; p < 6; ++p)
    for (size_t k = 0; k < 4; ++k) ASSERT_EQ(ev[p * 4 + k], table[size_t(ids[p]) * 4 + k]);

  Array cube = randn({2, 3, 4}, 6);
  Var c = input_like(cube);
  auto rs = std::make_shared<nn::Reshape>(std::vector<int64_t>{4, -1});
  EXPECT_EQ(eval1((*rs)(c), c, cube).shape(), (Shape{2, 4, 3}));
  auto fl = std::make_shared<nn::Flatten>();
  Var flat = (*fl)(c);
  EXPECT_EQ(flat.type().shape[1], 12);
  EXPECT_EQ(vals(eval1(flat, c, cube)), vals(cube));
}

TEST(NnLayers, DropoutOnlyInTraining) {
  Array xv = Array::full(DType::Float64, {200, 50}, 1.0);
  Var x = input_like(xv);
  auto dr = std::make_shared<nn::Dropout>(0.4, 7);
  EXPECT_EQ(vals(eval1(dr->call(x, false), x, xv)), vals(xv));
  auto f = function({x}, {dr->call(x, true)});
  auto a = vals((*f)({xv})[0]), b = vals((*f)({xv})[0]);
  double kept = 0;
  for (double v : a) {
    ASSERT_TRUE(v == 0.0 || std::fabs(v - 1 / 0.6) < 1e-12);
    kept += v != 0;
  }
  EXPECT_NEAR(kept / double(a.size()), 0.6, 0.03);
  EXPECT_NE(a, b);  // a fresh mask per call
}

TEST(NnLayers, GradientsMatchFiniteDifferences) {
  nn::set_global_seed(11);
  VerifyGradOptions vo{.n_tests = 1, .abs_tol = 1e-5, .rel_tol = 1e-5};
  auto dense = std::make_shared<nn::Dense>(3, "tanh");
  verify_grad([&](const std::vector<Var>& in) { return dense->call(reshape(in[0], {2, 4}), false); }, {randn({2, 4}, 8)}, vo);
  auto conv = std::make_shared<nn::Conv2D>(2, 2, nn::Conv2DOptions{.strides = {2, 2}, .padding = "same"});
  verify_grad([&](const std::vector<Var>& in) { return conv->call(reshape(in[0], {1, 2, 5, 5}), false); },
              {randn({1, 2, 5, 5}, 9)}, vo);
  auto ln = std::make_shared<nn::LayerNorm>();
  verify_grad([&](const std::vector<Var>& in) { return ln->call(reshape(in[0], {3, 4}), false); }, {randn({3, 4}, 10)}, vo);
  auto bn = std::make_shared<nn::BatchNorm>(nn::BatchNormOptions{.axis = -1});
  verify_grad([&](const std::vector<Var>& in) { return bn->call(reshape(in[0], {5, 3}), true); }, {randn({5, 3}, 12)}, vo);
}

TEST(NnLayers, ConfigRoundTripsThroughRegistry) {
  std::vector<nn::LayerPtr> layers{
      std::make_shared<nn::Dense>(5, nn::DenseOptions{.activation = "elu", .kernel_regularizer = nn::l2(1e-3)}),
      std::make_shared<nn::Conv2D>(8, std::array<int64_t, 2>{3, 5},
                                   nn::Conv2DOptions{.strides = {1, 2}, .padding = "same", .groups = 2}),
      std::make_shared<nn::MaxPool2D>(3), std::make_shared<nn::AvgPool2D>(2), std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Reshape>(std::vector<int64_t>{2, -1}), std::make_shared<nn::Dropout>(0.25, 3),
      std::make_shared<nn::BatchNorm>(), std::make_shared<nn::LayerNorm>(), std::make_shared<nn::Embedding>(10, 3),
      std::make_shared<nn::Activation>("swish"), std::make_shared<nn::Add>(), std::make_shared<nn::Concatenate>(1),
      std::make_shared<nn::GlobalAvgPool2D>()};
  for (const auto& l : layers) {
    nn::Json j = nn::layer_to_json(*l);
    auto back = nn::layer_from_json(nn::parse_json(j.dump()));
    EXPECT_EQ(back->class_name(), l->class_name());
    EXPECT_EQ(nn::layer_to_json(*back).dump(), j.dump());
  }
  EXPECT_THROW(nn::layer_from_config("NoSuchLayer", nn::Json::object()), std::invalid_argument);
  EXPECT_THROW(nn::layer_from_config("Dense", nn::parse_json(R"({"units": "ten"})")), std::invalid_argument);
}

TEST(NnLayers, BadArgumentsAreClearErrors) {
  EXPECT_THROW(nn::Dense(0), std::invalid_argument);
  EXPECT_THROW(nn::Conv2D(4, 3, nn::Conv2DOptions{.padding = "full"}), std::invalid_argument);
  EXPECT_THROW(nn::Conv2D(4, 3, nn::Conv2DOptions{.groups = 3}), std::invalid_argument);
  EXPECT_THROW(nn::Dropout(1.0), std::invalid_argument);
  auto conv = std::make_shared<nn::Conv2D>(4, 3);
  Var m = matrix(DType::Float32, "m");
  try {
    (*conv)(m);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("rank 4"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(conv->built());
  auto dense = std::make_shared<nn::Dense>(3);
  EXPECT_THROW((*dense)(matrix(DType::Float32, "unknown")), std::invalid_argument);  // no static feature size
}
