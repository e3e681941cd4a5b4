// The specialize phase: constant powers, mean, sum of squares and the
// BLAS-shaped Gemm / Gemv / Ger nodes — each fires on its pattern and only
// there, and computes what the graph as written computes.
#include <gtest/gtest.h>

#include "rewrite_test_util.h"

using namespace theon;
using namespace theon::testing;

namespace {

Mode unfused() { return Mode("FAST_RUN").excluding({"fusion"}); }

int count_elemwise(const Function& f, const std::string& op) {
  return count_ops(f, "Elemwise{" + op + "}") + count_ops(f, "Elemwise{" + op + ",");
}

Var pow_c(const Var& x, double e, DType dt) { return pow(x, constant(e, dt)); }

}  // namespace

TEST(SpecializePow, FloatPowers) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var x = vector(dt, "x");
    Array v = random_array(dt, {9}, 1, -3, 3);
    Array pos = random_array(dt, {9}, 2, 0.1, 4);
    struct Case {
      double e;
      const char* op;
      Array in;
    };
    for (const Case& c : {Case{2, "sqr", v}, Case{0.5, "sqrt", pos}, Case{-1, "reciprocal", v}, Case{3, "mul", v},
                          Case{5, "mul", v}, Case{8, "sqr", v}}) {
      auto f = expect_same_as_unoptimized({x}, {pow_c(x, c.e, dt)}, {c.in}, unfused());
      EXPECT_EQ(fired(*f, "pow_specialize"), 1) << c.e;
      EXPECT_EQ(count_elemwise(*f, "pow"), 0) << c.e;
      EXPECT_GE(count_elemwise(*f, c.op), 1) << c.e;
    }
    // x ** 0 is 1 everywhere, NaN and inf included.
    Array odd = Array::from_vector<double>({NAN, INFINITY, 0, -2}, Shape{4}).astype(dt);
    auto z = expect_same_as_unoptimized({x}, {pow_c(x, 0, dt)}, {odd}, unfused());
    EXPECT_EQ(fired(*z, "pow_specialize"), 1);
    // x ** 0.5 at the infinities and at negatives: pow's values (inf at -inf, NaN below 0).
    auto s = expect_same_as_unoptimized({x}, {pow_c(x, 0.5, dt)}, {odd}, unfused());
    EXPECT_EQ(fired(*s, "pow_specialize"), 1);
    Array sv = (*s)({odd})[0].astype(DType::Float64);
    EXPECT_EQ(sv.data_as<double>()[1], INFINITY);
    // Other exponents stay pow.
    for (double e : {2.5, 9.0, -2.0, 1.5}) {
      auto g = expect_same_as_unoptimized({x}, {pow_c(x, e, dt)}, {pos}, unfused());
      EXPECT_EQ(fired(*g, "pow_specialize"), 0) << e;
      EXPECT_EQ(count_elemwise(*g, "pow"), 1) << e;
    }
  }
  // float32 ** float64 constant computes in float64: the square is taken in float64.
  Var x32 = vector(DType::Float32, "x32");
  auto f = expect_same_as_unoptimized({x32}, {pow(x32, constant(2.0, DType::Float64))},
                                      {random_array(DType::Float32, {5}, 3)}, unfused());
  EXPECT_EQ(fired(*f, "pow_specialize"), 1);
}

TEST(SpecializePow, IntegerPowersWrapLikePow) {
  for (DType dt : {DType::Int8, DType::Int32, DType::Int64, DType::UInt16}) {
    Var x = vector(dt, "x");
    Array v = random_array(dt, {11}, 4, is_integer(dt) && dt == DType::UInt16 ? 0 : -120, 120);
    for (double e : {0.0, 2.0, 3.0, 7.0}) {
      auto f = expect_same_as_unoptimized({x}, {pow(x, weak_scalar(e, ScalarKind::Int, dt))}, {v}, unfused());
      EXPECT_EQ(fired(*f, "pow_specialize"), 1) << dtype_name(dt) << " " << e;
      EXPECT_EQ(count_elemwise(*f, "pow"), 0);
    }
  }
  // int8 ** int64 computes in int64: 100 ** 2 is 10000, not int8's wrapped 16.
  Var b = vector(DType::Int8, "b");
  Array hundred = Array::from_vector<int64_t>({100, -100, 7}, Shape{3}).astype(DType::Int8);
  auto f = expect_same_as_unoptimized({b}, {pow(b, constant(2.0, DType::Int64))}, {hundred}, unfused());
  EXPECT_EQ(fired(*f, "pow_specialize"), 1);
  EXPECT_EQ((*f)({hundred})[0].item_double(0), 10000);
  // Negative integer powers raise at run time; the rewrite leaves them.
  Var i = vector(DType::Int32, "i");
  auto g = compile({i}, {pow(i, weak_scalar(-1, ScalarKind::Int, DType::Int32))}, unfused());
  EXPECT_EQ(fired(*g, "pow_specialize"), 0);
  EXPECT_ANY_THROW((*g)({Array::from_vector<int32_t>({2, 3}, Shape{2})}));
  // 0.5 and -1 are float-only.
  auto h = compile({i}, {pow(i, constant(0.5, DType::Float64))}, unfused());
  EXPECT_EQ(fired(*h, "pow_specialize"), 1);  // i is cast to float64 first, as pow does
  expect_same_as_unoptimized({i}, {pow(i, constant(0.5, DType::Float64))},
                             {random_array(DType::Int32, {6}, 5, 0, 50)}, unfused());
}

TEST(SpecializeMean, MeanBecomesSumOverN) {
  for (DType dt : {DType::Float32, DType::Float64, DType::Int16, DType::Int64, DType::Bool}) {
    Var x = tensor(dt, {3, 4, 5}, "x");
    Array v = random_array(dt, {3, 4, 5}, 6, dt == DType::Bool ? 0 : -50, dt == DType::Bool ? 1 : 50);
    for (Axes ax : {Axes{}, Axes{std::vector<int>{1}}, Axes{std::vector<int>{0, 2}}}) {
      for (bool keep : {false, true}) {
        auto f = expect_same_as_unoptimized({x}, {mean(x, ax, keep)}, {v}, unfused());
        EXPECT_EQ(fired(*f, "mean_to_sum"), 1) << dtype_name(dt);
        EXPECT_EQ(count_ops(*f, "Mean"), 0);
        EXPECT_EQ(count_ops(*f, "Sum"), 1);
      }
    }
  }
  // float64 results are bit-identical: the same sum divided by n.
  Var x = tensor(DType::Float64, {7}, "x");
  Array v = random_array(DType::Float64, {7}, 7);
  EXPECT_EQ((*compile({x}, {mean(x)}))({v})[0].item_double(), (*compile({x}, {mean(x)}, "None"))({v})[0].item_double());
  // Without a static length the mean stays.
  Var y = matrix(DType::Float64, "y");
  auto g = expect_same_as_unoptimized({y}, {mean(y, std::vector<int>{1})}, {random_array(DType::Float64, {2, 3}, 8)},
                                      unfused());
  EXPECT_EQ(fired(*g, "mean_to_sum"), 0);
  EXPECT_EQ(count_ops(*g, "Mean"), 1);
}

TEST(SpecializeSumOfSquares, VectorSumOfSquaresIsDot) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var x = vector(dt, "x");
    Array v = random_array(dt, {50}, 9);
    for (Var y : {sum(x * x), sum(sqr(x)), sum(pow_c(x, 2, dt)), sum(x * x, std::nullopt, true)}) {
      auto f = expect_same_as_unoptimized({x}, {y}, {v}, unfused());
      EXPECT_EQ(fired(*f, "sum_sqr_to_dot"), 1);
      EXPECT_EQ(count_ops(*f, "dot"), 1);
      EXPECT_EQ(count_ops(*f, "Sum"), 0);
    }
    // Not a square, not a vector, not a float: left alone.
    Var w = vector(dt, "w");
    Var m = matrix(dt, "m");
    auto a = expect_same_as_unoptimized({x, w}, {sum(x * w)}, {v, random_array(dt, {50}, 10)}, unfused());
    auto b = expect_same_as_unoptimized({m}, {sum(m * m)}, {random_array(dt, {3, 4}, 11)}, unfused());
    EXPECT_EQ(fired(*a, "sum_sqr_to_dot") + fired(*b, "sum_sqr_to_dot"), 0);
  }
  Var i = vector(DType::Int32, "i");
  auto c = expect_same_as_unoptimized({i}, {sum(i * i)}, {random_array(DType::Int32, {8}, 12)}, unfused());
  EXPECT_EQ(fired(*c, "sum_sqr_to_dot"), 0);
  // axis=() reduces nothing (found by the property tests: the shape must stay (n,) with keepdims).
  Var y = vector(DType::Float64, "y");
  auto d = expect_same_as_unoptimized({y}, {sum(y * y, std::vector<int>{}, true)}, {random_array(DType::Float64, {0}, 13)});
  EXPECT_EQ(fired(*d, "sum_sqr_to_dot"), 0);
}

TEST(SpecializeGemm, ScaledAddsOfDotBecomeGemm) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var z = matrix(dt, "z"), x = matrix(dt, "x"), y = matrix(dt, "y"), a = scalar(dt, "a");
    Array zv = random_array(dt, {3, 5}, 13), xv = random_array(dt, {3, 4}, 14), yv = random_array(dt, {4, 5}, 15);
    Array yt = random_array(dt, {5, 4}, 16), av = Array::scalar(dt, 0.75);
    Var d = dot(x, y);
    for (Var e : {z + d, d + z, z + d * 2.0, 0.5 * z + 2.0 * d, z - d, d - z, z - 3.0 * d, a * z + a * d, -d + z}) {
      auto f = expect_same_as_unoptimized({z, x, y, a}, {e}, {zv, xv, yv, av}, unfused());
      EXPECT_EQ(fired(*f, "gemm_from_dot"), 1);
      EXPECT_EQ(count_ops(*f, "Gemm"), 1);
      EXPECT_EQ(count_ops(*f, "dot"), 0);
    }
    // A transposed operand is a view BLAS reads with a flag.
    Var yt_v = matrix(dt, "yt");
    auto t = expect_same_as_unoptimized({z, x, yt_v}, {z + dot(x, transpose(yt_v))}, {zv, xv, yt}, unfused());
    EXPECT_EQ(count_ops(*t, "Gemm"), 1);
    auto tt = expect_same_as_unoptimized({z, x, y}, {transpose(z) + dot(transpose(y), transpose(x))},
                                         {random_array(dt, {3, 5}, 17), xv, yv}, unfused());
    EXPECT_EQ(count_ops(*tt, "Gemm"), 1);
    // z broadcasting at run time (one row given for a (?, ?) matrix): the expression's values.
    auto r = expect_same_as_unoptimized({z, x, y}, {z + 2.0 * dot(x, y)}, {random_array(dt, {1, 5}, 18), xv, yv},
                                        unfused());
    EXPECT_EQ(count_ops(*r, "Gemm"), 1);
  }
}

TEST(SpecializeGemm, LeftAloneWhereItWouldBeWrongOrWasteful) {
  Var x = matrix(DType::Float64, "x"), y = matrix(DType::Float64, "y");
  Var bias = vector(DType::Float64, "b"), row = tensor(DType::Float64, {1, 5}, "row");
  Array xv = random_array(DType::Float64, {3, 4}, 19), yv = random_array(DType::Float64, {4, 5}, 20);
  Var d = dot(x, y);
  // A bias vector or a static row broadcast over the product.
  auto a = expect_same_as_unoptimized({bias, x, y}, {bias + d}, {random_array(DType::Float64, {5}, 21), xv, yv},
                                      unfused());
  auto b = expect_same_as_unoptimized({row, x, y}, {row + d}, {random_array(DType::Float64, {1, 5}, 22), xv, yv},
                                      unfused());
  // The product is also an output: it is computed once, by dot.
  Var z = matrix(DType::Float64, "z");
  Array zv = random_array(DType::Float64, {3, 5}, 23);
  auto c = expect_same_as_unoptimized({z, x, y}, {z + d, d}, {zv, xv, yv}, unfused());
  // Integers, mixed dtypes, and a matrix multiplier are not BLAS's.
  Var xi = matrix(DType::Int32, "xi"), zi = matrix(DType::Int32, "zi");
  auto e = expect_same_as_unoptimized({zi, xi}, {zi + dot(xi, xi)},
                                      {random_array(DType::Int32, {3, 3}, 24), random_array(DType::Int32, {3, 3}, 25)},
                                      unfused());
  Var z32 = matrix(DType::Float32, "z32");
  auto g = expect_same_as_unoptimized({z32, x, y}, {z32 + d}, {random_array(DType::Float32, {3, 5}, 26), xv, yv},
                                      unfused());
  auto h = expect_same_as_unoptimized({z, x, y}, {z + z * d}, {zv, xv, yv}, unfused());
  for (auto* f : {&a, &b, &c, &e, &g, &h}) EXPECT_EQ(fired(**f, "gemm_from_dot"), 0);
}

TEST(SpecializeGemm, GemvAndGer) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var v = vector(dt, "v"), m = matrix(dt, "m"), x = vector(dt, "x"), w = vector(dt, "w");
    Array vv = random_array(dt, {3}, 27), mv = random_array(dt, {3, 4}, 28), xv = random_array(dt, {4}, 29);
    Array wv = random_array(dt, {3}, 30);
    auto f = expect_same_as_unoptimized({v, m, x}, {v + 2.0 * dot(m, x)}, {vv, mv, xv}, unfused());
    EXPECT_EQ(count_ops(*f, "Gemv"), 1);
    auto g = expect_same_as_unoptimized({x, m, w}, {0.5 * x - dot(w, m)}, {xv, mv, wv}, unfused());
    EXPECT_EQ(count_ops(*g, "Gemv"), 1);
    auto t = expect_same_as_unoptimized({v, m, w}, {v + dot(transpose(m), w)}, {xv, mv, wv}, unfused());
    EXPECT_EQ(count_ops(*t, "Gemv"), 1);
    Var z = matrix(dt, "z");
    auto o = expect_same_as_unoptimized({z, w, x}, {z + 0.3 * outer(w, x)}, {mv, wv, xv}, unfused());
    EXPECT_EQ(count_ops(*o, "Ger"), 1);
    EXPECT_EQ(count_ops(*o, "dot"), 0);
    EXPECT_GE(fired(*o, "gemm_from_dot"), 1);
    // With a factor on z the outer product is a Gemm of rank one.
    auto q = expect_same_as_unoptimized({z, w, x}, {2.0 * z - outer(w, x)}, {mv, wv, xv}, unfused());
    EXPECT_EQ(count_ops(*q, "Gemm"), 1);
  }
}

TEST(SpecializeGemm, OpsCheckShapesAndMatchBlasFreeValues) {
  Var z = matrix(DType::Float64, "z"), x = matrix(DType::Float64, "x"), y = matrix(DType::Float64, "y");
  Var one = constant(1.0, DType::Float64);
  EXPECT_THROW(gemm(tensor(DType::Float64, {2, 3}), one, tensor(DType::Float64, {2, 4}), tensor(DType::Float64, {5, 3}), one),
               std::invalid_argument);
  EXPECT_THROW(gemm(tensor(DType::Float64, {2, 3}), one, tensor(DType::Float64, {4, 5}), tensor(DType::Float64, {5, 3}), one),
               std::invalid_argument);
  EXPECT_THROW(gemm(z, one, matrix(DType::Float32, "x32"), y, one), std::invalid_argument);
  EXPECT_THROW(gemv(z, one, x, y, one), std::invalid_argument);
  EXPECT_THROW(ger(z, one, x, y), std::invalid_argument);
  try {
    auto f = compile({z, x, y}, {gemm(z, one, x, y, one)}, "None");
    (*f)({random_array(DType::Float64, {2, 2}, 31), random_array(DType::Float64, {2, 3}, 32),
          random_array(DType::Float64, {4, 2}, 33)});
    FAIL() << "unaligned shapes accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("Gemm"), std::string::npos) << e.what();
  }
  // beta = 0 and alpha = 0 keep the NaNs of z and of the product, as the expression does.
  Var zero = constant(0.0, DType::Float64);
  auto f = compile({z, x, y}, {gemm(z, zero, x, y, zero)}, "None");
  Array zn = Array::full(DType::Float64, {2, 2}, NAN);
  Array r = (*f)({zn, random_array(DType::Float64, {2, 3}, 34), random_array(DType::Float64, {3, 2}, 35)})[0];
  EXPECT_TRUE(std::isnan(r.item_double(0)));
  // verify_grad through the nodes' L_op.
  verify_grad([&](const std::vector<Var>& in) { return gemm(in[0], constant(0.5, DType::Float64), in[1], in[2], constant(2.0, DType::Float64)); },
              {random_array(DType::Float64, {2, 3}, 36), random_array(DType::Float64, {2, 4}, 37),
               random_array(DType::Float64, {4, 3}, 38)});
  verify_grad([&](const std::vector<Var>& in) { return ger(in[0], constant(0.5, DType::Float64), in[1], in[2]); },
              {random_array(DType::Float64, {2, 3}, 39), random_array(DType::Float64, {2}, 40),
               random_array(DType::Float64, {3}, 41)});
}

TEST(SpecializeDebugMode, EveryReplacementKeepsTheValues) {
  Var z = matrix(DType::Float64, "z"), x = matrix(DType::Float64, "x"), v = vector(DType::Float64, "v");
  Var s = tensor(DType::Float64, {3, 4}, "s");
  std::vector<Var> outs{z + 2.0 * dot(x, transpose(z)), v - dot(x, v), z + outer(v, v), sum(v * v),
                        mean(s, std::vector<int>{1}), pow_c(s, 3, DType::Float64), pow_c(s, 0.5, DType::Float64)};
  auto f = compile({z, x, v, s}, outs, "DebugMode");
  EXPECT_NO_THROW((*f)({random_array(DType::Float64, {3, 3}, 42), random_array(DType::Float64, {3, 3}, 43),
                        random_array(DType::Float64, {3}, 44), random_array(DType::Float64, {3, 4}, 45, 0, 2)}));
  for (const char* r : {"gemm_from_dot", "sum_sqr_to_dot", "mean_to_sum", "pow_specialize"})
    EXPECT_GE(fired(*f, r), 1) << r;
}
