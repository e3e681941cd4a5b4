// The canonicalize phase: each rewrite fires on its pattern, stays away where
// it would change a result, and the optimized graph computes what the graph as
// written computes (float32, float64, integer dtypes, broadcasting shapes).
#include <gtest/gtest.h>

#include "rewrite_test_util.h"

using namespace theon;
using namespace theon::testing;

namespace {

// Merge and canonicalize only, so op counts see this phase's work and not fusion's.
Mode canon_only() { return Mode("FAST_RUN").excluding({"stabilize", "specialize", "fusion", "inplace"}); }

// Differential check in FAST_RUN, DebugMode (every replacement checked on these
// inputs), then the canonicalize-only function (for op counts).
std::shared_ptr<Function> check(const std::vector<Var>& ins, const std::vector<Var>& outs,
                                const std::vector<Array>& values) {
  expect_same_as_unoptimized(ins, outs, values, "FAST_RUN");
  EXPECT_NO_THROW((*compile(ins, outs, "DebugMode"))(values));
  return expect_same_as_unoptimized(ins, outs, values, canon_only());
}

void expect_bit_identical(const Array& a, const Array& b) {
  ASSERT_EQ(a.dtype(), b.dtype());
  ASSERT_EQ(a.shape(), b.shape());
  Array x = a.astype(DType::Float64), y = b.astype(DType::Float64);
  for (int64_t i = 0; i < x.size(); ++i) {
    double u = x.data_as<double>()[i], v = y.data_as<double>()[i];
    if (std::isnan(u) && std::isnan(v)) continue;
    ASSERT_EQ(u, v) << "element " << i;
  }
}

Var int64_scalar(const std::string& name) { return scalar(DType::Int64, name); }
Array int64_value(int64_t v) { return Array::scalar(DType::Int64, double(v)); }

const DType kDtypes[] = {DType::Float32, DType::Float64, DType::Int32, DType::Int8};

}  // namespace

// ---- neutral elements ----

TEST(CanonicalizeNeutral, DroppedForEveryDtype) {
  for (DType dt : kDtypes) {
    SCOPED_TRACE(dtype_name(dt));
    Var x = matrix(dt, "x");
    Array xv = random_array(dt, {3, 4}, 1);
    struct Case {
      const char* rewrite;
      Var y;
    };
    std::vector<Case> cases = {{"mul_by_one", x * 1},     {"mul_by_one", 1 * x},   {"add_zero", x + 0},
                               {"add_zero", 0 + x},       {"sub_zero", x - 0},     {"div_by_one", x / 1},
                               {"pow_one", pow(x, constant(1.0, dt))}, {"identity_removal", identity(x)}};
    for (const auto& c : cases) {
      SCOPED_TRACE(c.rewrite);
      auto f = check({x}, {c.y}, {xv});
      EXPECT_GE(fired(*f, c.rewrite), 1);
      // Integers divided by 1 are cast to float64, and nothing else is left.
      EXPECT_EQ(count_ops(*f, "Elemwise") - count_ops(*f, "Elemwise{Cast"), 0);
    }
  }
}

TEST(CanonicalizeNeutral, StrongConstantsCastInsteadOfComputing) {
  Var x = vector(DType::Float32, "x");
  // float32 * float64(1) is float64: x cast, no multiplication.
  auto f = check({x}, {constant(1.0, DType::Float64) * x}, {random_array(DType::Float32, {5}, 2)});
  EXPECT_GE(fired(*f, "mul_by_one"), 1);
  EXPECT_EQ(count_ops(*f, "Elemwise{mul}"), 0);
  EXPECT_EQ(count_ops(*f, "Elemwise{Cast"), 1);
  Var i = vector(DType::Int16, "i");
  auto g = check({i}, {i / 1}, {random_array(DType::Int16, {5}, 3)});
  EXPECT_GE(fired(*g, "div_by_one"), 1);
  EXPECT_EQ(count_ops(*g, "Elemwise{true_div}"), 0);
  EXPECT_EQ(count_ops(*g, "Elemwise{Cast{float64}}"), 1);
}

TEST(CanonicalizeNeutral, BroadcastingConstantsStay) {
  // x + zeros((3, 4)) with x of shape (4,) has shape (3, 4): the zeros stay.
  Var x = vector(DType::Float64, "x");
  Var z = constant(Array::zeros(DType::Float64, {3, 4}));
  Var o = constant(Array::full(DType::Float64, {3, 4}, 1.0));
  auto f = check({x}, {x + z, o * x}, {random_array(DType::Float64, {4}, 4)});
  EXPECT_EQ(fired(*f, "add_zero"), 0);
  EXPECT_EQ(fired(*f, "mul_by_one"), 0);
  EXPECT_EQ(count_ops(*f, "Elemwise{add}"), 1);
  EXPECT_EQ(count_ops(*f, "Elemwise{mul}"), 1);
  // The same constants against x of static shape (3, 4) do not broadcast it: dropped.
  Var m = tensor(DType::Float64, {3, 4}, "m");
  auto g = check({m}, {m + z, o * m}, {random_array(DType::Float64, {3, 4}, 5)});
  EXPECT_GE(fired(*g, "add_zero"), 1);
  EXPECT_GE(fired(*g, "mul_by_one"), 1);
  EXPECT_EQ(count_ops(*g, "Elemwise"), 0);
  // A size-1 constant of higher rank only adds leading axes of length 1.
  Var one11 = constant(Array::full(DType::Float64, {1, 1}, 1.0));
  auto h = check({x}, {x * one11}, {random_array(DType::Float64, {4}, 6)});
  EXPECT_GE(fired(*h, "mul_by_one"), 1);
  EXPECT_EQ(count_ops(*h, "Elemwise"), 0);
}

TEST(CanonicalizeNeutral, MinusOneAndDoubleNegation) {
  for (DType dt : kDtypes) {
    SCOPED_TRACE(dtype_name(dt));
    Var x = matrix(dt, "x");
    Array xv = random_array(dt, {2, 3}, 7);
    auto f = check({x}, {x * -1}, {xv});
    EXPECT_GE(fired(*f, "mul_by_minus_one"), 1);
    EXPECT_EQ(count_ops(*f, "Elemwise{mul}"), 0);
    EXPECT_EQ(count_ops(*f, "Elemwise{neg}"), 1);
    auto g = check({x}, {-(-x)}, {xv});
    EXPECT_GE(fired(*g, "neg_neg"), 1);
    EXPECT_EQ(count_ops(*g, "Elemwise"), 0);
  }
  // int8 -128 * -1 wraps to -128, as -(-128) does.
  Var b = vector(DType::Int8, "b");
  check({b}, {b * -1, -(-b)}, {Array::from_vector<int8_t>({-128, 127, 0, -1})});
}

TEST(CanonicalizeNeutral, ZeroProductsOnlyForIntegers) {
  Var i = matrix(DType::Int32, "i");
  auto f = check({i}, {i - i, i * 0, 0 * i}, {random_array(DType::Int32, {3, 2}, 8)});
  EXPECT_GE(fired(*f, "sub_self_int"), 1);
  EXPECT_GE(fired(*f, "mul_by_zero_int"), 2);
  EXPECT_EQ(count_ops(*f, "Elemwise"), 0);
  Var b = vector(DType::Bool, "b");
  auto g = check({b}, {b * constant(0.0, DType::Bool)}, {Array::from_vector<bool>({true, false})});
  EXPECT_GE(fired(*g, "mul_by_zero_int"), 1);
  // Floats keep x - x and x * 0: inf - inf and inf * 0 are nan.
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var x = vector(dt, "x");
    Array xv = Array::from_vector<double>({1.5, INFINITY, -INFINITY, NAN}).astype(dt);
    auto h = check({x}, {x - x, x * 0}, {xv});
    EXPECT_EQ(fired(*h, "sub_self_int"), 0);
    EXPECT_EQ(fired(*h, "mul_by_zero_int"), 0);
    EXPECT_EQ(count_ops(*h, "Elemwise{sub}"), 1);
    EXPECT_EQ(count_ops(*h, "Elemwise{mul}"), 1);
    auto out = (*h)({xv});
    EXPECT_TRUE(std::isnan(out[0].astype(DType::Float64).item_double(1)));
    EXPECT_TRUE(std::isnan(out[1].astype(DType::Float64).item_double(1)));
  }
}

// ---- add / mul chains ----

TEST(CanonicalizeChains, ConstantsCollected) {
  for (DType dt : kDtypes) {
    SCOPED_TRACE(dtype_name(dt));
    Var x = matrix(dt, "x");
    Array xv = random_array(dt, {3, 4}, 9);
    auto f = check({x}, {(x + 2) + 3}, {xv});
    EXPECT_GE(fired(*f, "add_collect_constants"), 1);
    EXPECT_EQ(count_ops(*f, "Elemwise{add}"), 1);
    auto g = check({x}, {2 * (x * 3)}, {xv});
    EXPECT_GE(fired(*g, "mul_collect_constants"), 1);
    EXPECT_EQ(count_ops(*g, "Elemwise{mul}"), 1);
    auto h = check({x}, {(x + 1) - 1}, {xv});
    EXPECT_GE(fired(*h, "add_collect_constants"), 1);
    EXPECT_EQ(count_ops(*h, "Elemwise"), 0);
    Var y = matrix(dt, "y");
    auto k = check({x, y}, {((x + 1) + y) + 4}, {xv, random_array(dt, {3, 4}, 10)});
    EXPECT_GE(fired(*k, "add_collect_constants"), 1);
    EXPECT_EQ(count_ops(*k, "Elemwise{add}"), 2);
  }
}

TEST(CanonicalizeChains, IntegersWrapAsTheChainDoes) {
  Var x = vector(DType::Int8, "x");
  Array xv = Array::from_vector<int8_t>({-128, -1, 0, 1, 100, 127});
  auto f = check({x}, {(x + 100) + 100, (x * 16) * 16, (x - 100) - 100}, {xv});
  EXPECT_GE(fired(*f, "add_collect_constants"), 2);
  EXPECT_GE(fired(*f, "mul_collect_constants"), 1);
  // Operands of a narrower dtype than the chain join it in the chain's dtype.
  Var a = vector(DType::Int8, "a"), b = vector(DType::Int8, "b");
  Var c = constant(5.0, DType::Int64);
  auto g = check({a, b}, {((a + c) + b) + 3}, {xv, Array::from_vector<int8_t>({127, 127, -128, 5, 100, 100})});
  EXPECT_GE(fired(*g, "add_collect_constants"), 1);
  // (a + b) wraps in int8 before meeting the int64 constants: not part of the chain.
  auto h = check({a, b}, {((a + b) + c) + 3}, {xv, Array::from_vector<int8_t>({127, 127, -128, 5, 100, 100})});
  EXPECT_GE(fired(*h, "add_collect_constants"), 1);
}

TEST(CanonicalizeChains, SharedIntermediatesAndBroadcastingStay) {
  Var x = matrix(DType::Float64, "x");
  Var a = x + 2;
  auto f = check({x}, {a + 3, a}, {random_array(DType::Float64, {2, 2}, 11)});
  EXPECT_EQ(fired(*f, "add_collect_constants"), 0);
  EXPECT_EQ(count_ops(*f, "Elemwise{add}"), 2);
  // Constants of more than one element are not collected.
  Var c = constant(Array::full(DType::Float64, {3, 1}, 2.0));
  Var v = vector(DType::Float64, "v");
  auto g = check({v}, {(v + c) + 3}, {random_array(DType::Float64, {4}, 12)});
  EXPECT_EQ(fired(*g, "add_collect_constants"), 0);
  EXPECT_EQ(count_ops(*g, "Elemwise{add}"), 2);
}

// ---- division by powers of two ----

TEST(CanonicalizeDivision, PowersOfTwoBecomeExactProducts) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    SCOPED_TRACE(dtype_name(dt));
    Var x = matrix(dt, "x");
    Array xv = random_array(dt, {4, 5}, 13, -1e30, 1e30);
    for (double c : {4.0, -0.5, 1024.0, 0.125}) {
      auto f = check({x}, {x / c}, {xv});
      EXPECT_GE(fired(*f, "div_by_power_of_two"), 1) << c;
      EXPECT_EQ(count_ops(*f, "Elemwise{true_div}"), 0) << c;
      EXPECT_EQ(count_ops(*f, "Elemwise{mul}"), 1) << c;
      expect_bit_identical((*compile({x}, {x / c}, "None"))({xv})[0], (*f)({xv})[0]);
    }
    for (double c : {3.0, 0.1, 0.0}) {
      auto f = check({x}, {x / c}, {xv});
      EXPECT_EQ(fired(*f, "div_by_power_of_two"), 0) << c;
      EXPECT_EQ(count_ops(*f, "Elemwise{true_div}"), 1) << c;
    }
  }
  // Integers divide in float64: x / 8 -> float64(x) * 0.125.
  Var i = vector(DType::Int32, "i");
  Array iv = random_array(DType::Int32, {6}, 14, -1e9, 1e9);
  auto f = check({i}, {i / 8}, {iv});
  EXPECT_GE(fired(*f, "div_by_power_of_two"), 1);
  expect_bit_identical((*compile({i}, {i / 8}, "None"))({iv})[0], (*f)({iv})[0]);
}

// ---- DimShuffle / Reshape / Cast ----

TEST(CanonicalizeViews, DimShuffleChainsMerge) {
  Var x = tensor(DType::Float32, {-1, 1, -1}, "x");
  Array xv = random_array(DType::Float32, {2, 1, 3}, 15);
  auto f = check({x}, {transpose(transpose(x))}, {xv});
  EXPECT_GE(fired(*f, "dimshuffle_merge"), 1);
  EXPECT_EQ(count_ops(*f, "DimShuffle"), 0);
  auto g = check({x}, {expand_dims(transpose(x, {2, 0, 1}), 0), dimshuffle(dimshuffle(x, {0, 2}), {1, -1, 0})},
                 {xv});
  EXPECT_GE(fired(*g, "dimshuffle_merge"), 2);
  EXPECT_EQ(count_ops(*g, "DimShuffle"), 2);
  Var y = matrix(DType::Float64, "y");
  auto h = check({y}, {make1<DimShuffle>({y}, y.type().broadcastable(), std::vector<int>{0, 1}) * 2.0},
                 {random_array(DType::Float64, {2, 3}, 16)});
  EXPECT_GE(fired(*h, "dimshuffle_useless"), 1);
  EXPECT_EQ(count_ops(*h, "DimShuffle"), 0);
}

TEST(CanonicalizeViews, ReshapeChainsCollapse) {
  Var x = matrix(DType::Float64, "x");
  Array xv = random_array(DType::Float64, {3, 4}, 17);
  auto f = check({x}, {reshape(reshape(x, std::vector<int64_t>{6, 2}), std::vector<int64_t>{2, -1})}, {xv});
  EXPECT_GE(fired(*f, "reshape_merge"), 1);
  EXPECT_EQ(count_ops(*f, "Reshape"), 1);
  Var s = tensor(DType::Float64, {3, 4}, "s");
  auto g = check({s}, {reshape(s, std::vector<int64_t>{3, 4}) + 1.0}, {xv});
  EXPECT_GE(fired(*g, "reshape_useless"), 1);
  EXPECT_EQ(count_ops(*g, "Reshape"), 0);
  auto h = check({x}, {reshape(x, std::vector<Var>{shape_i(x, 0), shape_i(x, 1)}) + 1.0}, {xv});
  EXPECT_GE(fired(*h, "reshape_useless"), 1);
  EXPECT_EQ(count_ops(*h, "Reshape"), 0);
  // A real reshape stays.
  auto k = check({s}, {reshape(s, std::vector<int64_t>{4, 3}) + 1.0}, {xv});
  EXPECT_EQ(fired(*k, "reshape_useless"), 0);
  EXPECT_EQ(count_ops(*k, "Reshape"), 1);
}

TEST(CanonicalizeViews, CastsMergeOnlyWhenLossless) {
  Var x = vector(DType::Int8, "x");
  Array xv = Array::from_vector<int8_t>({-128, -3, 0, 7, 127});
  auto f = check({x}, {cast(cast(x, DType::Int32), DType::Float64)}, {xv});
  EXPECT_GE(fired(*f, "cast_merge"), 1);
  EXPECT_EQ(count_ops(*f, "Elemwise{Cast"), 1);
  auto same = check({x}, {make1<Cast>({x}, DType::Int8) + 1}, {xv});
  EXPECT_GE(fired(*same, "cast_useless"), 1);
  EXPECT_EQ(count_ops(*same, "Elemwise{Cast"), 0);
  // float64 -> float32 -> float64 rounds: both casts stay.
  Var d = vector(DType::Float64, "d");
  Array dv = Array::from_vector<double>({0.1, 1e300, -1e-300, 3.0});
  auto g = check({d}, {cast(cast(d, DType::Float32), DType::Float64)}, {dv});
  EXPECT_EQ(fired(*g, "cast_merge"), 0);
  EXPECT_EQ(count_ops(*g, "Elemwise{Cast"), 2);
  // int16 -> float32 -> int8: exact first cast, but 300.0 -> int8 is not 300 -> int8.
  Var s = vector(DType::Int16, "s");
  auto h = check({s}, {cast(cast(s, DType::Float32), DType::Int8)}, {Array::from_vector<int16_t>({1, -5, 100})});
  EXPECT_EQ(fired(*h, "cast_merge"), 0);
  // int32 -> int64 -> int8 wraps alike.
  Var w = vector(DType::Int32, "w");
  auto k = check({w}, {cast(cast(w, DType::Int64), DType::Int8)}, {Array::from_vector<int32_t>({300, -129, 5})});
  EXPECT_GE(fired(*k, "cast_merge"), 1);
  EXPECT_EQ(count_ops(*k, "Elemwise{Cast"), 1);
}

// ---- alloc ----

TEST(CanonicalizeAlloc, ElemwiseOfAllocComputesOnce) {
  Var c = scalar(DType::Float32, "c");
  Var n = int64_scalar("n"), m = int64_scalar("m");
  std::vector<Array> vals{Array::scalar(DType::Float32, 0.7), int64_value(3), int64_value(4)};
  auto f = check({c, n, m}, {exp(alloc(c, {n, m})) * 2.0}, vals);
  EXPECT_GE(fired(*f, "elemwise_of_alloc"), 2);
  EXPECT_EQ(count_ops(*f, "Alloc"), 1);
  // exp and mul now read the scalar: the alloc is last.
  EXPECT_EQ(f->nodes().back()->op->name(), "Alloc");
  // Two allocs of one shape meet in one alloc.
  Var d = scalar(DType::Float32, "d");
  auto g = check({c, d, n, m}, {alloc(c, {n, m}) + alloc(d, {n, m})},
                 {vals[0], Array::scalar(DType::Float32, -2.0), vals[1], vals[2]});
  EXPECT_GE(fired(*g, "elemwise_of_alloc"), 1);
  EXPECT_EQ(count_ops(*g, "Alloc"), 1);
  // fill(x, c): exp computed on c.
  Var x = matrix(DType::Float64, "x");
  Var e = scalar(DType::Float64, "e");
  auto h = check({x, e}, {exp(fill(x, e))}, {random_array(DType::Float64, {2, 3}, 18), Array::scalar(DType::Float64, 0.5)});
  EXPECT_GE(fired(*h, "elemwise_of_alloc"), 1);
}

TEST(CanonicalizeAlloc, ElemwiseOfAllocStaysWhenAnOperandBroadcasts) {
  Var c = scalar(DType::Float64, "c");
  Var x = matrix(DType::Float64, "x");
  Var n = int64_scalar("n");
  // alloc(c, n, 1) + x broadcasts to x's columns: the sum is not an alloc of c + x.
  auto f = check({c, x, n}, {alloc(c, {n, constant(1.0, DType::Int64)}) + x},
                 {Array::scalar(DType::Float64, 1.5), random_array(DType::Float64, {3, 4}, 19), int64_value(3)});
  EXPECT_EQ(fired(*f, "elemwise_of_alloc"), 0);
  EXPECT_EQ(count_ops(*f, "Elemwise{add}"), 1);
  // Allocs of different shapes stay.
  Var m = int64_scalar("m");
  auto g = check({c, n, m}, {alloc(c, {n, m}) * alloc(c, {m, n})}, {Array::scalar(DType::Float64, 1.5), int64_value(2), int64_value(2)});
  EXPECT_EQ(fired(*g, "elemwise_of_alloc"), 0);
}

TEST(CanonicalizeAlloc, UselessAllocRemoved) {
  Var x = matrix(DType::Float64, "x");
  Array xv = random_array(DType::Float64, {3, 4}, 20);
  auto f = check({x}, {alloc(x, {shape_i(x, 0), shape_i(x, 1)}) * 2.0}, {xv});
  EXPECT_GE(fired(*f, "alloc_useless"), 1);
  EXPECT_EQ(count_ops(*f, "Alloc"), 0);
  Var s = tensor(DType::Float64, {3, 4}, "s");
  auto g = check({s}, {alloc(s, std::vector<int64_t>{3, 4}) * 2.0}, {xv});
  EXPECT_GE(fired(*g, "alloc_useless"), 1);
  EXPECT_EQ(count_ops(*g, "Alloc"), 0);
  // A real broadcast stays.
  auto h = check({s}, {alloc(s, std::vector<int64_t>{2, 3, 4}) * 2.0}, {xv});
  EXPECT_EQ(fired(*h, "alloc_useless"), 0);
  EXPECT_EQ(count_ops(*h, "Alloc"), 1);
}

TEST(CanonicalizeAlloc, SumOfAllocIsAProduct) {
  Var n = int64_scalar("n"), m = int64_scalar("m");
  for (DType dt : kDtypes) {
    SCOPED_TRACE(dtype_name(dt));
    Var c = scalar(dt, "c");
    Array cv = random_array(dt, {}, 21);
    auto f = check({c, n, m}, {sum(alloc(c, {n, m}))}, {cv, int64_value(3), int64_value(5)});
    EXPECT_GE(fired(*f, "sum_of_alloc"), 1);
    EXPECT_EQ(count_ops(*f, "Sum"), 0);
    EXPECT_EQ(count_ops(*f, "Alloc"), 0);
    // Over the axes the value is broadcast along; kept axes stay an alloc.
    Var row = vector(dt, "row");
    Array rv = random_array(dt, {4}, 22);
    auto g = check({row, n}, {sum(alloc(row, {n, constant(4.0, DType::Int64)}), std::vector<int>{0}),
                              sum(alloc(row, {n, constant(4.0, DType::Int64)}), std::vector<int>{0}, true)},
                   {rv, int64_value(6)});
    EXPECT_GE(fired(*g, "sum_of_alloc"), 2);
    EXPECT_EQ(count_ops(*g, "Sum"), 0);
    // Not along an axis the value varies on.
    auto h = check({row, n}, {sum(alloc(row, {n, constant(4.0, DType::Int64)}), std::vector<int>{1})},
                   {rv, int64_value(6)});
    EXPECT_EQ(fired(*h, "sum_of_alloc"), 0);
    EXPECT_EQ(count_ops(*h, "Sum"), 1);
  }
  // An empty sum is 0 even of inf and nan.
  Var c = scalar(DType::Float64, "c");
  for (double v : {double(INFINITY), double(NAN), 2.0}) {
    auto f = check({c, n, m}, {sum(alloc(c, {n, m}), std::vector<int>{1})},
                   {Array::scalar(DType::Float64, v), int64_value(2), int64_value(0)});
    EXPECT_GE(fired(*f, "sum_of_alloc"), 1);
    auto out = (*f)({Array::scalar(DType::Float64, v), int64_value(2), int64_value(0)});
    EXPECT_EQ(out[0].item_double(0), 0.0);
  }
}

// ---- shapes ----

TEST(CanonicalizeShape, ShapeIDoesNotComputeTheTensor) {
  Var x = matrix(DType::Float64, "x");
  Array xv = random_array(DType::Float64, {3, 4}, 23);
  Var y = exp(x) * 2.0;
  auto f = check({x}, {make1<ShapeI>({y}, 1)}, {xv});
  EXPECT_GE(fired(*f, "shape_i_from_op"), 1);
  EXPECT_EQ(count_ops(*f, "Elemwise"), 0);
  EXPECT_EQ(count_ops(*f, "Shape_i"), 1);
  auto g = check({x}, {make1<ShapeOp>({transpose(y)})}, {xv});
  EXPECT_GE(fired(*g, "shape_from_op"), 1);
  EXPECT_EQ(count_ops(*g, "Elemwise"), 0);
  EXPECT_EQ(count_ops(*g, "DimShuffle"), 0);
  // Broadcasting shapes: the length follows NumPy's rule (1 takes the other side).
  Var a = matrix(DType::Float32, "a"), b = matrix(DType::Float32, "b");
  auto h = check({a, b}, {make1<ShapeOp>({a + b})},
                 {random_array(DType::Float32, {1, 4}, 24), random_array(DType::Float32, {3, 1}, 25)});
  EXPECT_GE(fired(*h, "shape_from_op"), 1);
  EXPECT_EQ(count_ops(*h, "Elemwise{add}"), 0);
}

TEST(CanonicalizeShape, StaticDimsBecomeConstants) {
  Var x = tensor(DType::Float64, {3, -1}, "x");
  auto f = check({x}, {make1<ShapeOp>({x})}, {random_array(DType::Float64, {3, 5}, 26)});
  EXPECT_GE(fired(*f, "shape_from_op"), 1);
  EXPECT_EQ(count_ops(*f, "Shape_i"), 1);
  EXPECT_EQ(count_ops(*f, "Shape{"), 0);
  // Shape_i of a leaf without static dims stays.
  Var m = matrix(DType::Float64, "m");
  auto g = check({m}, {make1<ShapeI>({m}, 0)}, {random_array(DType::Float64, {2, 5}, 27)});
  EXPECT_EQ(fired(*g, "shape_i_from_op"), 0);
  EXPECT_EQ(count_ops(*g, "Shape_i"), 1);
}

// ---- subtensor ----

TEST(CanonicalizeSubtensor, ConstantSlicesMerge) {
  Var x = vector(DType::Float64, "x");
  Array xv = random_array(DType::Float64, {12}, 28);
  using S = IndexItem;
  auto f = check({x}, {subtensor(subtensor(x, {S::slice(1, 9)}), {S::slice(2, 5)})}, {xv});
  EXPECT_GE(fired(*f, "subtensor_merge"), 1);
  EXPECT_EQ(count_ops(*f, "Subtensor"), 1);
  auto g = check({x}, {subtensor(subtensor(x, {S::slice(1, std::nullopt, 2)}), {S::integer(3)})}, {xv});
  EXPECT_GE(fired(*g, "subtensor_merge"), 1);
  EXPECT_EQ(count_ops(*g, "Subtensor"), 1);
  // Negative bounds need the length: without a static length they stay.
  auto h = check({x}, {subtensor(subtensor(x, {S::slice(-5, std::nullopt)}), {S::slice(1, std::nullopt)})}, {xv});
  EXPECT_EQ(fired(*h, "subtensor_merge"), 0);
  EXPECT_EQ(count_ops(*h, "Subtensor"), 2);
  Var s = tensor(DType::Float64, {12}, "s");
  auto k = check({s}, {subtensor(subtensor(s, {S::slice(-5, std::nullopt)}), {S::slice(1, std::nullopt)})}, {xv});
  EXPECT_GE(fired(*k, "subtensor_merge"), 1);
  EXPECT_EQ(count_ops(*k, "Subtensor"), 1);
}

TEST(CanonicalizeSubtensor, OutOfRangeIndexStillRaises) {
  Var x = vector(DType::Float64, "x");
  using S = IndexItem;
  // x[0:3][5] raises even when x has 12 elements.
  auto f = compile({x}, {subtensor(subtensor(x, {S::slice(0, 3)}), {S::integer(5)})}, canon_only());
  EXPECT_EQ(fired(*f, "subtensor_merge"), 0);
  EXPECT_ANY_THROW((*f)({random_array(DType::Float64, {12}, 29)}));
}

TEST(CanonicalizeSubtensor, FullSlicesAndSymbolicBounds) {
  Var x = matrix(DType::Float64, "x");
  Var a = int64_scalar("a"), b = int64_scalar("b");
  using S = IndexItem;
  Array xv = random_array(DType::Float64, {6, 7}, 30);
  // x[a:b][:, 2] -> x[a:b, 2]; x[:, 1:][a] -> x[a, 1:].
  auto f = check({x, a, b},
                 {subtensor(subtensor(x, {S::slice(a, b)}), {S::slice(), S::integer(2)}),
                  subtensor(subtensor(x, {S::slice(), S::slice(1, std::nullopt)}), {S::integer(a)})},
                 {xv, int64_value(-4), int64_value(5)});
  EXPECT_GE(fired(*f, "subtensor_merge"), 2);
  EXPECT_EQ(count_ops(*f, "Subtensor"), 2);
  auto g = check({x}, {subtensor(x, {S::slice(), S::slice()}) * 2.0}, {xv});
  EXPECT_GE(fired(*g, "subtensor_useless"), 1);
  EXPECT_EQ(count_ops(*g, "Subtensor"), 0);
}

TEST(CanonicalizeSubtensor, RandomSlicesAgreeWithTheUnoptimizedGraph) {
  std::mt19937 rng(31);
  std::uniform_int_distribution<int> bound(-13, 13), step(-3, 3), coin(0, 2);
  auto rand_slice = [&](bool nonneg) {
    auto b = [&]() -> std::optional<int64_t> {
      if (coin(rng) == 0) return std::nullopt;
      int v = bound(rng);
      return nonneg ? std::abs(v) : v;
    };
    std::optional<int64_t> st;
    if (coin(rng)) {
      int s = step(rng);
      if (s == 0) s = 1;
      st = nonneg ? std::abs(s) : s;
    }
    return IndexItem::slice(b(), b(), st);
  };
  Array xv = random_array(DType::Float32, {10}, 32);
  int merged = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const bool static_len = trial % 2 == 0;
    Var x = static_len ? tensor(DType::Float32, {10}, "x") : vector(DType::Float32, "x");
    Var y = subtensor(subtensor(x, {rand_slice(!static_len)}), {rand_slice(!static_len)});
    auto f = check({x}, {y}, {xv});
    merged += fired(*f, "subtensor_merge");
  }
  EXPECT_GE(merged, 40);
}

// ---- everything at once ----

TEST(CanonicalizeDifferential, MixedExpressionsOverDtypesAndBroadcasting) {
  for (DType dt : kDtypes) {
    SCOPED_TRACE(dtype_name(dt));
    Var x = matrix(dt, "x");
    Var r = tensor(dt, {1, -1}, "r");  // a row that broadcasts over x's rows
    Var y = (((x * 1) + 2) + r) * 1 - 0;
    Var z = sum(alloc(constant(3.0, dt), {shape_i(x, 0), shape_i(x, 1)})) + sum(-(-y));
    Var w = cast(cast(transpose(transpose(x + r)), DType::Float64), DType::Float64);
    Var u = 2 * ((x + 1) * 3) + (r - r);
    check({x, r}, {y, z, w, u}, {random_array(dt, {3, 4}, 33), random_array(dt, {1, 4}, 34)});
  }
}
