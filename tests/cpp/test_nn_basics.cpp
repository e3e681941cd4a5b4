// theon::nn JSON parser, initializers and losses/metrics against references written here.
#include <gtest/gtest.h>

#include "nn_test_util.h"

using namespace theon;
using namespace nn_test;

TEST(NnJson, RoundTripAndTypedAccess) {
  std::string text = R"({"a": [1, 2.5, -3e2, true, null], "b": {"s": "x\"\\\n\u00e9\ud83d\ude00"}, "c": false})";
  nn::Json j = nn::parse_json(text);
  EXPECT_EQ(j.at("a").as_array().size(), 5u);
  EXPECT_EQ(j.at("a").as_array()[2].as_double(), -300);
  EXPECT_EQ(j.at("b").at("s").as_string(), "x\"\\\n\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(nn::parse_json(j.dump()).dump(), j.dump());
  EXPECT_EQ(nn::parse_json(j.dump(2)).dump(), j.dump());
  EXPECT_THROW(j.at("c").as_int(), nn::JsonError);
  EXPECT_THROW(j.at("missing"), nn::JsonError);
  EXPECT_THROW(nn::Json(2.5).as_int(), nn::JsonError);
  // Copies are values: setting a key of a copy leaves the original alone.
  nn::Json k = j;
  k.set("c", 1);
  EXPECT_FALSE(j.at("c").as_bool());
}

TEST(NnJson, MalformedAndHostileInputAreErrors) {
  for (const char* bad : {"", "{", "[1,", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "tru", "01x", "\"abc", "\"\\x\"",
                          "\"\\ud800\"", "{\"a\":1,\"a\":2}", "[1] 2", "-", "1e999", "\"\x01\""}) {
    EXPECT_THROW(nn::parse_json(bad), nn::JsonError) << bad;
  }
  std::string deep(100000, '[');
  EXPECT_THROW(nn::parse_json(deep), nn::JsonError);  // depth limit, no stack overflow
  nn::JsonLimits small{.max_depth = 64, .max_bytes = 10};
  EXPECT_THROW(nn::parse_json("[1,2,3,4,5,6,7]", small), nn::JsonError);
  try {
    nn::parse_json("[1, 2, }");
  } catch (const nn::JsonError& e) {
    EXPECT_NE(std::string(e.what()).find("at byte"), std::string::npos);
  }
}

TEST(NnInitializers, StatisticsAndDeterminism) {
  auto stats = [](const Array& a) {
    auto v = vals(a);
    double m = 0, s = 0, mx = 0;
    for (double x : v) m += x / double(v.size());
    for (double x : v) {
      s += (x - m) * (x - m) / double(v.size());
      mx = std::max(mx, std::fabs(x));
    }
    return std::array<double, 3>{m, std::sqrt(s), mx};
  };
  std::vector<int64_t> shape{400, 300};
  double fan_in = 400, fan_out = 300;
  auto gu = stats(nn::Initializer("glorot_uniform")(shape, DType::Float64, 1));
  double lim = std::sqrt(6 / (fan_in + fan_out));
  EXPECT_LE(gu[2], lim);
  EXPECT_NEAR(gu[1], lim / std::sqrt(3.0), 0.01 * lim);
  auto gn = stats(nn::Initializer("xavier_normal")(shape, DType::Float64, 2));
  EXPECT_NEAR(gn[1], std::sqrt(2 / (fan_in + fan_out)), 0.02 * std::sqrt(2 / (fan_in + fan_out)));
  auto hn = stats(nn::Initializer("he_normal")(shape, DType::Float64, 3));
  EXPECT_NEAR(hn[1], std::sqrt(2 / fan_in), 0.02 * std::sqrt(2 / fan_in));
  EXPECT_LE(hn[2], 2 * std::sqrt(2 / fan_in) / 0.8796 + 1e-12);  // truncated at 2 sigma
  auto hu = stats(nn::Initializer("kaiming_uniform")(shape, DType::Float64, 4));
  EXPECT_LE(hu[2], std::sqrt(6 / fan_in));
  auto lu = stats(nn::Initializer("lecun_uniform")(shape, DType::Float64, 4));
  EXPECT_NEAR(lu[1], std::sqrt(1 / fan_in), 0.02 * std::sqrt(1 / fan_in));
  // Convolution fans: (out, in, kh, kw) -> fan_in = in * kh * kw.
  auto f = nn::compute_fans({16, 8, 3, 3});
  EXPECT_EQ(f.first, 72);
  EXPECT_EQ(f.second, 144);
  EXPECT_EQ(vals(nn::Initializer("zeros")({3}, DType::Float32, 0)), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(vals(nn::Initializer("ones")({2}, DType::Float32, 0)), (std::vector<double>{1, 1}));
  EXPECT_EQ(vals(nn::Initializer::constant(0.5)({2}, DType::Float64, 0)), (std::vector<double>{0.5, 0.5}));
  // Orthogonal: rows (or columns) orthonormal, scaled by the gain.
  for (auto sh : {std::vector<int64_t>{6, 4}, std::vector<int64_t>{4, 6}}) {
    auto q = vals(nn::Initializer::orthogonal(2.0)(sh, DType::Float64, 5));
    int64_t r = sh[0], c = sh[1], k = std::min(r, c);
    bool cols = r >= c;
    for (int64_t a = 0; a < k; ++a)
      for (int64_t b = 0; b < k; ++b) {
        double dot = 0;
        for (int64_t i = 0; i < (cols ? r : c); ++i)
          dot += cols ? q[size_t(i * c + a)] * q[size_t(i * c + b)] : q[size_t(a * c + i)] * q[size_t(b * c + i)];
        ASSERT_NEAR(dot, a == b ? 4.0 : 0.0, 1e-10);
      }
  }
  EXPECT_THROW(nn::Initializer::orthogonal()({5}, DType::Float64, 0), std::invalid_argument);
  EXPECT_THROW(nn::Initializer("glorot"), std::invalid_argument);
  // Same seed, same values; another seed, other values.
  auto a = vals(nn::Initializer("he_uniform")({50}, DType::Float32, 42));
  EXPECT_EQ(a, vals(nn::Initializer("he_uniform")({50}, DType::Float32, 42)));
  EXPECT_NE(a, vals(nn::Initializer("he_uniform")({50}, DType::Float32, 43)));
  nn::set_global_seed(7);
  auto s1 = nn::next_seed();
  nn::set_global_seed(7);
  EXPECT_EQ(s1, nn::next_seed());
}

TEST(NnLosses, ValuesMatchReferences) {
  Array zv = randn({4, 3}, 21, DType::Float64, 3.0);
  Array yi = Array::from_vector(std::vector<int64_t>{0, 2, 1, 2});
  Var z = input_like(zv, "z"), y = input_like(yi, "y");
  auto zs = vals(zv);
  std::vector<double> lse(4), ce(4);
  for (int i = 0; i < 4; ++i) {
    double m = std::max({zs[size_t(i * 3)], zs[size_t(i * 3 + 1)], zs[size_t(i * 3 + 2)]}), s = 0;
    for (int k = 0; k < 3; ++k) s += std::exp(zs[size_t(i * 3 + k)] - m);
    lse[size_t(i)] = m + std::log(s);
  }
  std::vector<int64_t> yl{0, 2, 1, 2};
  double want = 0;
  for (int i = 0; i < 4; ++i) want += (lse[size_t(i)] - zs[size_t(i * 3 + yl[size_t(i)])]) / 4;
  auto ev = [&](const Var& v, std::vector<std::pair<Var, Array>> in) { return vals(eval(v, in))[0]; };
  Var sce = nn::sparse_categorical_crossentropy(y, z, true);
  EXPECT_NEAR(ev(sce, {{z, zv}, {y, yi}}), want, 1e-12);
  // The fused, stable op is what the from_logits loss compiles to.
  Var zd = matrix(DType::Float64, "zd"), yd = vector(DType::Int64, "yd");
  auto f = function({zd, yd}, {nn::sparse_categorical_crossentropy(yd, zd, true)});
  EXPECT_NEAR(vals((*f)({zv, yi})[0])[0], want, 1e-12);
  bool fused = false;
  for (auto* n : f->nodes()) fused = fused || n->op->name().find("SoftmaxCrossentropy1Hot") != std::string::npos;
  EXPECT_TRUE(fused);
  Array huge = Array::from_vector(std::vector<double>{1000, -1000, 0, 0, 0, 2000}, {2, 3});
  Array hy = Array::from_vector(std::vector<int64_t>{1, 0});
  EXPECT_NEAR(vals((*f)({huge, hy})[0])[0], (2000 + 2000) / 2.0, 1e-9);  // finite for huge logits
  // Probabilities: the same value from softmax outputs.
  EXPECT_NEAR(ev(nn::sparse_categorical_crossentropy(y, softmax(z)), {{z, zv}, {y, yi}}), want, 1e-9);
  // Categorical with one-hot targets equals the sparse one.
  std::vector<double> oh(12, 0);
  for (int i = 0; i < 4; ++i) oh[size_t(i * 3 + yl[size_t(i)])] = 1;
  Array ohv = Array::from_vector(oh, {4, 3});
  Var t = input_like(ohv, "t");
  EXPECT_NEAR(ev(nn::categorical_crossentropy(t, z, true), {{z, zv}, {t, ohv}}), want, 1e-12);
  EXPECT_NEAR(ev(nn::categorical_crossentropy(t, softmax(z)), {{z, zv}, {t, ohv}}), want, 1e-9);
  // Binary from logits vs the plain formula; MSE, MAE, Huber.
  Array tb = Array::from_vector(std::vector<double>{1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0}, {4, 3});
  Var tv = input_like(tb, "tb");
  auto ts = vals(tb);
  double bce = 0, mse = 0, mae = 0, hub = 0;
  for (size_t i = 0; i < 12; ++i) {
    double p = 1 / (1 + std::exp(-zs[i]));
    bce += -(ts[i] * std::log(p) + (1 - ts[i]) * std::log(1 - p)) / 12;
    double d = zs[i] - ts[i];
    mse += d * d / 12;
    mae += std::fabs(d) / 12;
    hub += (std::fabs(d) <= 1.5 ? 0.5 * d * d : 1.5 * (std::fabs(d) - 0.75)) / 12;
  }
  EXPECT_NEAR(ev(nn::binary_crossentropy(tv, z, true), {{z, zv}, {tv, tb}}), bce, 1e-9);
  EXPECT_NEAR(ev(nn::binary_crossentropy(tv, sigmoid(z)), {{z, zv}, {tv, tb}}), bce, 1e-6);
  EXPECT_NEAR(ev(nn::mean_squared_error(tv, z), {{z, zv}, {tv, tb}}), mse, 1e-12);
  EXPECT_NEAR(ev(nn::mean_absolute_error(tv, z), {{z, zv}, {tv, tb}}), mae, 1e-12);
  EXPECT_NEAR(ev(nn::huber(tv, z, 1.5), {{z, zv}, {tv, tb}}), hub, 1e-12);
  EXPECT_THROW(nn::sparse_categorical_crossentropy(t, z), std::invalid_argument);  // float one-hot as sparse
  EXPECT_THROW(nn::loss_by_name("cross_entropy"), std::invalid_argument);
}

TEST(NnMetrics, AccuracyAndTopK) {
  Array zv = Array::from_vector(std::vector<double>{0.1, 0.5, 0.4, 3, 1, 2, 0, 0, 1, 5, 6, 4}, {4, 3});
  Array yi = Array::from_vector(std::vector<int64_t>{1, 1, 2, 2});
  Var z = input_like(zv, "z"), y = input_like(yi, "y");
  auto ev = [&](const Var& v) { return vals(eval(v, {{z, zv}, {y, yi}}))[0]; };
  EXPECT_DOUBLE_EQ(ev(nn::sparse_categorical_accuracy(y, z)), 0.5);  // rows 0 and 2 right
  // top-2: row0 (1 best) yes, row1 (1 third) no, row2 yes, row3 (2 third) no.
  EXPECT_DOUBLE_EQ(ev(nn::sparse_top_k_categorical_accuracy(y, z, 2)), 0.5);
  EXPECT_DOUBLE_EQ(ev(nn::sparse_top_k_categorical_accuracy(y, z, 3)), 1.0);
  auto m = nn::metric_by_name("top_2_accuracy", nn::loss_by_name("sparse_categorical_crossentropy"));
  EXPECT_EQ(m.name, "top_2_accuracy");
  EXPECT_DOUBLE_EQ(ev(m.fn(y, z)), 0.5);
  EXPECT_THROW(nn::metric_by_name("f1", nn::loss_by_name("mse")), std::invalid_argument);
}
