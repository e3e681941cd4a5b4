// The stabilize phase: each rewrite fires on its pattern and only there,
// computes what the graph as written computes, and stays finite where the
// written form overflows; the fused softmax cross-entropy ops against a
// reference computed here and verify_grad.
#include <gtest/gtest.h>

#include <limits>

#include "rewrite_test_util.h"

using namespace theon;
using namespace theon::testing;

namespace {

// FAST_RUN without elementwise fusion, so op counts see the elementwise ops.
Mode unfused() { return Mode("FAST_RUN").excluding({"fusion"}); }

void expect_no_warnings(const Function& f) {
  EXPECT_TRUE(f.rewrite_stats().warnings.empty())
      << (f.rewrite_stats().warnings.empty() ? "" : f.rewrite_stats().warnings[0]);
}

// Elementwise nodes of one scalar op, in place or not.
int count_elemwise(const Function& f, const std::string& op) {
  return count_ops(f, "Elemwise{" + op + "}") + count_ops(f, "Elemwise{" + op + ",");
}

double at(const Array& a, int64_t i) { return a.astype(DType::Float64).data_as<double>()[i]; }

Array f64(const std::vector<double>& v, Shape s = {}) {
  return Array::from_vector<double>(v, s.empty() ? Shape{int64_t(v.size())} : s);
}
Array i64(const std::vector<int64_t>& v) { return Array::from_vector<int64_t>(v, Shape{int64_t(v.size())}); }

// -log_softmax(z)[i, y[i]] in long double, the reference for the fused op.
std::vector<double> reference_xent(const Array& z, const std::vector<int64_t>& y) {
  Array zd = z.astype(DType::Float64);
  const int64_t k = z.shape()[1];
  std::vector<double> r;
  for (size_t i = 0; i < y.size(); ++i) {
    const double* p = zd.data_as<double>() + int64_t(i) * k;
    long double m = p[0], s = 0;
    for (int64_t j = 1; j < k; ++j) m = std::max<long double>(m, p[j]);
    for (int64_t j = 0; j < k; ++j) s += std::exp((long double)p[j] - m);
    int64_t c = y[i] < 0 ? y[i] + k : y[i];
    r.push_back(double(m + std::log(s) - p[c]));
  }
  return r;
}

}  // namespace

TEST(StabilizeLog1p, FiresOnOnePlusXOnly) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var x = vector(dt, "x");
    Array v = random_array(dt, {7}, 1, -0.9, 3);
    for (Var y : {log(1.0 + x), log(x + 1.0)}) {
      auto f = expect_same_as_unoptimized({x}, {y}, {v}, unfused());
      EXPECT_EQ(fired(*f, "log1p_from_log"), 1);
      EXPECT_EQ(count_elemwise(*f, "log1p"), 1);
      EXPECT_EQ(count_elemwise(*f, "log"), 0);
    }
    auto g = expect_same_as_unoptimized({x}, {log(2.0 + x)}, {v}, unfused());
    EXPECT_EQ(fired(*g, "log1p_from_log"), 0);
  }
  // Integers: 1 + x stays an integer add, log(int) is not log1p's business.
  Var i = vector(DType::Int32, "i");
  auto h = expect_same_as_unoptimized({i}, {log(1 + i)}, {random_array(DType::Int32, {5}, 2, 0, 9)}, unfused());
  EXPECT_EQ(fired(*h, "log1p_from_log"), 0);
  // A float64 constant promotes a float32 x: the sum is rounded in float64, log1p(x) would not be.
  Var x32 = vector(DType::Float32, "x32");
  auto k = compile({x32}, {log(add(constant(1.0, DType::Float64), x32))}, unfused());
  EXPECT_EQ(fired(*k, "log1p_from_log"), 0);
}

TEST(StabilizeLog1p, AccurateWhereOnePlusXRoundsXAway) {
  Var x = vector(DType::Float64, "x");
  Array v = f64({1e-20, -1e-18});
  Array naive = (*compile({x}, {log(1.0 + x)}, "None"))({v})[0];
  Array stable = (*compile({x}, {log(1.0 + x)}))({v})[0];
  EXPECT_EQ(at(naive, 0), 0.0);
  EXPECT_DOUBLE_EQ(at(stable, 0), 1e-20);
  EXPECT_DOUBLE_EQ(at(stable, 1), -1e-18);
}

TEST(StabilizeExpm1, FiresOnExpMinusOneOnly) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var x = vector(dt, "x");
    Array v = random_array(dt, {6}, 3);
    auto f = expect_same_as_unoptimized({x}, {exp(x) - 1.0}, {v}, unfused());
    EXPECT_EQ(fired(*f, "expm1_from_exp"), 1);
    EXPECT_EQ(count_elemwise(*f, "expm1"), 1);
    EXPECT_EQ(count_elemwise(*f, "exp"), 0);
    auto g = expect_same_as_unoptimized({x}, {exp(x) - 2.0}, {v}, unfused());
    EXPECT_EQ(fired(*g, "expm1_from_exp"), 0);
  }
  Var x = vector(DType::Float64, "x");
  Array tiny = f64({1e-20});
  EXPECT_EQ(at((*compile({x}, {exp(x) - 1.0}, "None"))({tiny})[0], 0), 0.0);
  EXPECT_DOUBLE_EQ(at((*compile({x}, {exp(x) - 1.0}))({tiny})[0], 0), 1e-20);
}

TEST(StabilizeSigmoid, LogSigmoidIsSoftplus) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var x = vector(dt, "x");
    Array v = random_array(dt, {8}, 4, -4, 4);  // where the written form is accurate in float32
    auto f = expect_same_as_unoptimized({x}, {log(sigmoid(x))}, {v}, unfused());
    EXPECT_EQ(fired(*f, "log_sigmoid_to_softplus"), 1);
    EXPECT_EQ(count_elemwise(*f, "softplus"), 1);
    EXPECT_EQ(count_elemwise(*f, "sigmoid"), 0);
    auto g = expect_same_as_unoptimized({x}, {log(1.0 - sigmoid(x))}, {v}, unfused());
    EXPECT_EQ(fired(*g, "log1m_sigmoid_to_softplus"), 1);
    EXPECT_EQ(count_elemwise(*g, "softplus"), 1);
    EXPECT_EQ(count_elemwise(*g, "sigmoid"), 0);
    auto h = expect_same_as_unoptimized({x}, {log1p(-sigmoid(x))}, {v}, unfused());
    EXPECT_EQ(fired(*h, "log1m_sigmoid_to_softplus"), 1);
    // log(2 - sigmoid(x)) is something else.
    auto k = expect_same_as_unoptimized({x}, {log(2.0 - sigmoid(x))}, {v}, unfused());
    EXPECT_EQ(fired(*k, "log1m_sigmoid_to_softplus") + fired(*k, "log_sigmoid_to_softplus"), 0);
  }
}

TEST(StabilizeSigmoid, FiniteAtLargeInputs) {
  Var x = vector(DType::Float64, "x");
  Array v = f64({-1000, 1000, 0});
  Array a = (*compile({x}, {log(sigmoid(x))}))({v})[0];
  Array b = (*compile({x}, {log(1.0 - sigmoid(x))}))({v})[0];
  EXPECT_EQ(at((*compile({x}, {log(sigmoid(x))}, "None"))({v})[0], 0), -std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(at(a, 0), -1000);
  EXPECT_DOUBLE_EQ(at(a, 1), 0);
  EXPECT_DOUBLE_EQ(at(a, 2), -std::log(2.0));
  EXPECT_DOUBLE_EQ(at(b, 0), 0);
  EXPECT_DOUBLE_EQ(at(b, 1), -1000);
  EXPECT_DOUBLE_EQ(at(b, 2), -std::log(2.0));
}

TEST(StabilizeSigmoid, BinaryCrossentropyOfSigmoidIsFinite) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var z = vector(dt, "z"), t = vector(dt, "t");
    // The literal form (binary_crossentropy(sigmoid(z), t) is built stable from the start).
    Var s = sigmoid(z);
    Var loss = neg(add(mul(t, log(s)), mul(1.0 - t, log(1.0 - s))));
    Array zv = f64({1000, -1000, 1000, -1000, 0.5}).astype(dt);
    Array tv = f64({0, 1, 1, 0, 0.25}).astype(dt);
    auto f = compile({z, t}, {loss});
    expect_no_warnings(*f);
    EXPECT_GE(fired(*f, "log_sigmoid_to_softplus"), 1);
    EXPECT_GE(fired(*f, "log1m_sigmoid_to_softplus"), 1);
    Array got = (*f)({zv, tv})[0];
    Array naive = (*compile({z, t}, {loss}, "None"))({zv, tv})[0];
    EXPECT_FALSE(std::isfinite(at(naive, 0)));
    // t * softplus(-z) + (1 - t) * softplus(z)
    auto sp = [](double a) { return std::max(a, 0.0) + std::log1p(std::exp(-std::abs(a))); };
    for (int64_t i = 0; i < 5; ++i) {
      double zi = at(zv, i), ti = at(tv, i);
      double want = ti * sp(-zi) + (1 - ti) * sp(zi);
      EXPECT_NEAR(at(got, i), want, 1e-5 * (1 + want)) << i;
    }
    expect_same_as_unoptimized({z, t}, {loss}, {random_array(dt, {9}, 5), random_array(dt, {9}, 6, 0, 1)});
    // The builder's form: finite without any rewrite, and so is its gradient (sigmoid(z) - t).
    Var built = binary_crossentropy(sigmoid(z), t);
    auto g = compile({z, t}, {built, grad(sum(built), z)}, "None");
    auto r = (*g)({zv, tv});
    for (int64_t i = 0; i < 5; ++i) {
      double zi = at(zv, i), ti = at(tv, i);
      EXPECT_NEAR(at(r[0], i), ti * sp(-zi) + (1 - ti) * sp(zi), 1e-4 * (1 + std::abs(zi))) << i;
      EXPECT_NEAR(at(r[1], i), 1 / (1 + std::exp(-zi)) - ti, 1e-6) << i;
    }
  }
}

TEST(StabilizeSoftmax, LogSoftmaxKeepsTheAxis) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var x = matrix(dt, "x");
    Array v = random_array(dt, {3, 5}, 7);
    for (int axis : {-1, 0}) {
      auto f = expect_same_as_unoptimized({x}, {log(softmax(x, axis))}, {v}, unfused());
      EXPECT_EQ(fired(*f, "log_softmax"), 1);
      EXPECT_EQ(count_ops(*f, "LogSoftmax{axis=" + std::to_string(axis < 0 ? 1 : 0) + "}"), 1);
      EXPECT_EQ(count_ops(*f, "Softmax{"), 0);
    }
    // exp(softmax) is no log of it.
    auto g = expect_same_as_unoptimized({x}, {exp(softmax(x))}, {v}, unfused());
    EXPECT_EQ(fired(*g, "log_softmax"), 0);
  }
  Var x = matrix(DType::Float64, "x");
  Array big = f64({2000, -2000, 0, 1}, {2, 2});
  Array got = (*compile({x}, {log(softmax(x))}))({big})[0];
  EXPECT_DOUBLE_EQ(at(got, 0), 0);
  EXPECT_DOUBLE_EQ(at(got, 1), -4000);
  EXPECT_FALSE(std::isfinite(at((*compile({x}, {log(softmax(x))}, "None"))({big})[0], 1)));
}

TEST(StabilizeLogsumexp, FiresAndStaysFinite) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var x = matrix(dt, "x");
    Array v = random_array(dt, {4, 3}, 8);
    for (bool keep : {false, true}) {
      auto f = expect_same_as_unoptimized({x}, {log(sum(exp(x), std::vector<int>{1}, keep))}, {v}, unfused());
      EXPECT_EQ(fired(*f, "logsumexp_stable"), 1);
      EXPECT_EQ(count_ops(*f, "Max{"), 1);
    }
    auto g = expect_same_as_unoptimized({x}, {log(sum(exp(x)))}, {v}, unfused());
    EXPECT_EQ(fired(*g, "logsumexp_stable"), 1);
    // Already stable: theon's logsumexp is left alone (and the phase reaches its fixed point).
    auto h = expect_same_as_unoptimized({x}, {logsumexp(x, std::vector<int>{0})}, {v}, unfused());
    EXPECT_EQ(fired(*h, "logsumexp_stable"), 0);
    // log(sum(x)) has no exp to shift.
    auto k = expect_same_as_unoptimized({x}, {log(sum(sqr(x)))}, {v}, unfused());
    EXPECT_EQ(fired(*k, "logsumexp_stable"), 0);
  }
  Var x = matrix(DType::Float64, "x");
  Array big = f64({1000, 1000, -1000, -1000}, {2, 2});
  Array got = (*compile({x}, {log(sum(exp(x), std::vector<int>{1}))}))({big})[0];
  EXPECT_DOUBLE_EQ(at(got, 0), 1000 + std::log(2.0));
  EXPECT_DOUBLE_EQ(at(got, 1), -1000 + std::log(2.0));
  EXPECT_FALSE(std::isfinite(at((*compile({x}, {log(sum(exp(x), std::vector<int>{1}))}, "None"))({big})[0], 0)));
}

TEST(StabilizeCrossentropy, SoftmaxAndOneHotFuse) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var z = matrix(dt, "z"), y = vector(DType::Int64, "y");
    Var loss = crossentropy_categorical_1hot(softmax(z), y);
    Array zv = random_array(dt, {4, 5}, 9);
    Array yv = i64({0, 4, 2, 2});
    auto f = expect_same_as_unoptimized({z, y}, {loss}, {zv, yv});
    EXPECT_EQ(fired(*f, "softmax_crossentropy_1hot"), 1);
    EXPECT_EQ(count_ops(*f, "SoftmaxCrossentropy1Hot"), 1);
    EXPECT_EQ(count_ops(*f, "CrossentropyCategorical1Hot"), 0);
    EXPECT_EQ(count_ops(*f, "Softmax{"), 0);
    // Softmax along another axis is not this loss.
    auto g = expect_same_as_unoptimized({z, y}, {crossentropy_categorical_1hot(softmax(z, 0), y)}, {zv, yv});
    EXPECT_EQ(fired(*g, "softmax_crossentropy_1hot"), 0);
  }
}

TEST(StabilizeCrossentropy, FusedOpMatchesReferenceAndIsFiniteAtLargeLogits) {
  Var z = matrix(DType::Float64, "z"), y = vector(DType::Int64, "y");
  Var loss = crossentropy_categorical_1hot(softmax(z), y);
  Array zv = f64({2000, -2000, 0, -2000, 2000, 1, 3, 1, 2}, {3, 3});
  std::vector<int64_t> ys{1, 1, 2};
  Array got = (*compile({z, y}, {loss}))({zv, i64(ys)})[0];
  Array naive = (*compile({z, y}, {loss}, "None"))({zv, i64(ys)})[0];
  EXPECT_FALSE(std::isfinite(at(naive, 0)));
  auto want = reference_xent(zv, ys);
  EXPECT_DOUBLE_EQ(at(got, 0), 4000);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(at(got, i), want[i], 1e-12 * (1 + want[i])) << i;
  // float32 against the same reference.
  Var z32 = matrix(DType::Float32, "z32");
  Array zr = random_array(DType::Float32, {6, 4}, 10, -30, 30);
  std::vector<int64_t> yr{0, 1, 2, 3, 3, 0};
  Array g32 = (*compile({z32, y}, {crossentropy_categorical_1hot(softmax(z32), y)}))({zr, i64(yr)})[0];
  EXPECT_EQ(g32.dtype(), DType::Float32);
  auto w32 = reference_xent(zr, yr);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(at(g32, i), w32[i], 1e-5 * (1 + w32[i])) << i;
}

TEST(StabilizeCrossentropy, FusedOpErrors) {
  Var z = matrix(DType::Float64, "z"), y = vector(DType::Int64, "y");
  auto f = compile({z, y}, {softmax_crossentropy_1hot(z, y)});
  Array zv = random_array(DType::Float64, {2, 3}, 11);
  try {
    (*f)({zv, i64({0, 3})});
    FAIL() << "class index 3 of 3 classes accepted";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("SoftmaxCrossentropy1Hot"), std::string::npos) << e.what();
  }
  EXPECT_THROW((*f)({zv, i64({0, -1})}), std::out_of_range);  // only the indexing form wraps
  EXPECT_THROW((*f)({zv, i64({0, 1, 2})}), std::invalid_argument);
  EXPECT_THROW(softmax_crossentropy_1hot(z, matrix(DType::Int64, "m")), std::invalid_argument);
  EXPECT_THROW(softmax_crossentropy_1hot(z, vector(DType::Float64, "f")), std::invalid_argument);
  EXPECT_THROW(softmax_crossentropy_1hot(tensor(DType::Float64, {2, 3}), tensor(DType::Int64, {3})),
               std::invalid_argument);
  // Through the rewrite the error names the fused op, not a crash.
  auto g = compile({z, y}, {crossentropy_categorical_1hot(softmax(z), y)});
  EXPECT_THROW((*g)({zv, i64({0, 7})}), std::out_of_range);
}

TEST(StabilizeCrossentropy, FusedOpGradients) {
  Array y = i64({2, 0, 1, 2});
  auto fun = [&](const std::vector<Var>& in) { return softmax_crossentropy_1hot(in[0], constant(y)); };
  verify_grad(fun, {random_array(DType::Float64, {4, 3}, 12)});
  // The gradient op's own gradient (second order).
  auto gfun = [&](const std::vector<Var>& in) {
    return softmax_crossentropy_1hot_grad(in[0], softmax(in[1]), constant(y));
  };
  verify_grad(gfun, {random_array(DType::Float64, {4}, 13), random_array(DType::Float64, {4, 3}, 14)});
  // Gradient of the fused op equals the gradient of the naive graph on moderate logits.
  Var z = matrix(DType::Float64, "z"), yv = vector(DType::Int64, "y");
  Var gf = grad(mean(softmax_crossentropy_1hot(z, yv)), z);
  Var gn = grad(mean(crossentropy_categorical_1hot(softmax(z), yv)), z);
  Array zv = random_array(DType::Float64, {4, 3}, 15);
  expect_same_values((*compile({z, yv}, {gn}, "None"))({zv, y})[0], (*compile({z, yv}, {gf}, "None"))({zv, y})[0],
                     "fused gradient");
}

TEST(StabilizeCrossentropy, GradientBeforeCompileIsStable) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var z = matrix(dt, "z"), y = vector(DType::Int64, "y");
    Var loss = mean(crossentropy_categorical_1hot(softmax(z), y));
    Var gz = grad(loss, z);
    Array zv = f64({2000, -2000, 0, -2000, 2000, 0, 0, 0, 2000}, {3, 3}).astype(dt);
    Array yv = i64({1, 1, 0});
    auto f = compile({z, y}, {loss, gz});
    expect_no_warnings(*f);
    EXPECT_EQ(fired(*f, "softmax_crossentropy_1hot_grad"), 1);
    EXPECT_EQ(count_ops(*f, "CrossentropyCategorical1HotGrad"), 0);
    EXPECT_EQ(count_ops(*f, "SoftmaxCrossentropy1HotGrad"), 1);
    auto out = (*f)({zv, yv});
    auto naive = (*compile({z, y}, {loss, gz}, "None"))({zv, yv});
    EXPECT_FALSE(std::isfinite(at(naive[1], 0)));
    EXPECT_NEAR(at(out[0], 0), (4000.0 + 0.0 + 2000.0) / 3, 1e-3);
    // d mean / dz = (softmax(z) - onehot(y)) / n; softmax of these rows is one-hot at the max.
    const double want[9] = {1, -1, 0, 0, 0, 0, -1, 0, 1};
    for (int i = 0; i < 9; ++i) {
      ASSERT_TRUE(std::isfinite(at(out[1], i))) << i;
      EXPECT_NEAR(at(out[1], i), want[i] / 3, 1e-6) << i;
    }
    // Random logits: the same values as the graph as written.
    expect_same_as_unoptimized({z, y}, {loss, gz}, {random_array(dt, {5, 4}, 16), i64({0, 3, 1, 1, 2})});
  }
}

TEST(StabilizeCrossentropy, IndexingFormFuses) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var z = matrix(dt, "z"), y = vector(DType::Int64, "y");
    Array zv = random_array(dt, {4, 5}, 17);
    Array yv = i64({0, 4, -1, 2});  // -1 is the last class, as indexing reads it
    Var rows_y = arange(shape_i(y, 0)), rows_z = arange(shape_i(z, 0));
    for (Var loss : {-subtensor(log(softmax(z)), {IndexItem::array(rows_y), IndexItem::array(y)}),
                     -subtensor(log(softmax(z)), {IndexItem::array(rows_z), IndexItem::array(y)}),
                     subtensor(-log_softmax(z), {IndexItem::array(rows_y), IndexItem::array(y)})}) {
      auto f = expect_same_as_unoptimized({z, y}, {loss}, {zv, yv});
      EXPECT_EQ(fired(*f, "softmax_crossentropy_1hot_indexing"), 1);
      EXPECT_EQ(count_ops(*f, "SoftmaxCrossentropy1Hot"), 1);
      EXPECT_EQ(count_ops(*f, "AdvancedSubtensor"), 0);
    }
    // arange(y.shape[0]) with fewer labels than rows reads the first rows.
    Var part = -subtensor(log(softmax(z)), {IndexItem::array(rows_y), IndexItem::array(y)});
    auto p = expect_same_as_unoptimized({z, y}, {part}, {zv, i64({3, 1})});
    EXPECT_EQ(fired(*p, "softmax_crossentropy_1hot_indexing"), 1);
    // arange(z.shape[0]) broadcasts one label over the rows.
    Var one = -subtensor(log(softmax(z)), {IndexItem::array(rows_z), IndexItem::array(y)});
    expect_same_as_unoptimized({z, y}, {one}, {zv, i64({3})});
    // Not a row range: arange(1, n) and a constant length other than the rows.
    Var shifted = arange(constant(1.0, DType::Int64), shape_i(y, 0), constant(1.0, DType::Int64));
    Var zs = tensor(dt, {4, 5}, "zs");
    for (Var idx : {shifted, arange(constant(2.0, DType::Int64))}) {
      Var loss = -subtensor(log(softmax(zs)), {IndexItem::array(idx), IndexItem::array(y)});
      auto g = expect_same_as_unoptimized({zs, y}, {loss}, {zv, i64({1, 2})});
      EXPECT_EQ(fired(*g, "softmax_crossentropy_1hot_indexing"), 0);
    }
  }
  // Logits of +-2000: finite, where the graph as written gives inf.
  Var z = matrix(DType::Float64, "z"), y = vector(DType::Int64, "y");
  Var loss = -subtensor(log(softmax(z)), {IndexItem::array(arange(shape_i(y, 0))), IndexItem::array(y)});
  Array zv = f64({2000, -2000, -2000, 2000}, {2, 2});
  Array got = (*compile({z, y}, {loss}))({zv, i64({1, 1})})[0];
  EXPECT_DOUBLE_EQ(at(got, 0), 4000);
  EXPECT_DOUBLE_EQ(at(got, 1), 0);
  EXPECT_FALSE(std::isfinite(at((*compile({z, y}, {loss}, "None"))({zv, i64({1, 1})})[0], 0)));
}

TEST(StabilizeDebugMode, EveryReplacementKeepsTheValues) {
  // DebugMode recomputes each replaced variable and names a rewrite that changed a value.
  Var x = matrix(DType::Float64, "x"), y = vector(DType::Int64, "y");
  Var loss = mean(crossentropy_categorical_1hot(softmax(x), y));
  std::vector<Var> outs{log(1.0 + x), exp(x) - 1.0, log(sigmoid(x)), log(1.0 - sigmoid(x)), log(softmax(x)),
                        log(sum(exp(x), std::vector<int>{1})), loss, grad(loss, x),
                        -subtensor(log(softmax(x)), {IndexItem::array(arange(shape_i(y, 0))), IndexItem::array(y)})};
  auto f = compile({x, y}, outs, "DebugMode");
  EXPECT_NO_THROW((*f)({random_array(DType::Float64, {3, 4}, 18, -0.5, 2), i64({1, 0, 3})}));
  for (const char* r : {"log1p_from_log", "expm1_from_exp", "log_sigmoid_to_softplus", "log1m_sigmoid_to_softplus",
                        "log_softmax", "logsumexp_stable", "softmax_crossentropy_1hot",
                        "softmax_crossentropy_1hot_grad", "softmax_crossentropy_1hot_indexing"})
    EXPECT_GE(fired(*f, r), 1) << r;
}

TEST(StabilizeSoftplus, LogOnePlusExpBecomesSoftplus) {
  Var x = vector(DType::Float64, "x");
  auto f = theon::testing::compile({x}, {log(1.0 + exp(x))});
  EXPECT_GE(theon::testing::fired(*f, "softplus_from_log1p_exp"), 1);
  Array r = (*f)({Array::from_vector<double>({1000.0, -1000.0, 0.0})})[0];
  EXPECT_DOUBLE_EQ(r.item_double(0), 1000.0);
  EXPECT_DOUBLE_EQ(r.item_double(1), 0.0);
  EXPECT_DOUBLE_EQ(r.item_double(2), std::log(2.0));
  // log1p(exp(x)) in float32 of a float64 exp is a different computation: left alone.
  Var y = cast(exp(x), DType::Float32);
  auto g = theon::testing::compile({x}, {log1p(y)});
  EXPECT_EQ(theon::testing::fired(*g, "softplus_from_log1p_exp"), 0);
}

TEST(StabilizeSoftmax, GradientOfLogSoftmaxIndexingIsFinite) {
  // -log(softmax(z))[arange(n), y]: the gradient grad builds divides by softmax.
  Var z = matrix(DType::Float64, "z");
  Var y = vector(DType::Int64, "y");
  Var lsm = log(softmax(z));
  Var picked = subtensor(lsm, Index{IndexItem::array(arange(shape_i(y, 0))), IndexItem::array(y)});
  Var loss = mean(neg(picked));
  Var g = grad(loss, z);
  auto f = theon::testing::compile({z, y}, {g});
  EXPECT_GE(theon::testing::fired(*f, "log_softmax_grad"), 1);
  Array zv = Array::from_vector<double>({2000, -2000, 0, -2000, 2000, 0}).reshape({2, 3});
  Array yv = Array::from_vector<int64_t>({1, 2});
  Array r = (*f)({zv, yv})[0];
  // d/dz mean(-log_softmax(z)[i, y_i]) = (softmax(z) - onehot(y)) / n
  std::vector<double> want{0.5, -0.5, 0, 0, 0.5, -0.5};
  for (int64_t i = 0; i < 6; ++i) EXPECT_NEAR(r.item_double(i), want[size_t(i)], 1e-12) << i;
  Array naive = (*theon::testing::compile({z, y}, {g}, "None"))({zv, yv})[0];
  bool finite = true;
  for (int64_t i = 0; i < 6; ++i) finite &= std::isfinite(naive.item_double(i));
  EXPECT_FALSE(finite) << "the naive gradient should divide by an underflowed softmax";
  theon::testing::expect_same_as_unoptimized({z, y}, {g}, {theon::testing::random_array(DType::Float64, {4, 5}, 3),
                                                          Array::from_vector<int64_t>({0, 4, 2, 1})});
}
