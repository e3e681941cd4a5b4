// Gradients of the creation, join and rearranging ops (alloc, broadcast_to,
// fill, tril/triu, concatenate/stack/split, repeat, roll, flip, tile) against
// finite differences, and the disconnected inputs of eye/arange/linspace.
#include <gtest/gtest.h>
#include <theon/theon.h>

#include <random>

using namespace theon;

namespace {

Array randu(Shape s, uint64_t seed, double lo = -1, double hi = 1) {
  Array a = Array::empty(DType::Float64, s);
  std::mt19937_64 r(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  for (int64_t i = 0; i < a.size(); ++i) a.data_as<double>()[i] = u(r);
  return a;
}

Var i64(int64_t v) {
  return constant(double(v), DType::Int64);
}

using V = const std::vector<Var>&;

}  // namespace

TEST(GradJoin, AllocBroadcastToAndFill) {
  // verify_grad's inputs have unknown static shapes, so the length-1 axes
  // are only found at run time.
  verify_grad([](V x) { return alloc(x[0], std::vector<int64_t>{2, 3, 4}); }, {randu({3, 1}, 1)});
  verify_grad([](V x) { return alloc(x[0], std::vector<int64_t>{2, 3}); }, {randu({}, 2)});
  verify_grad(
      [](V x) {
        return broadcast_to(x[0], std::vector<int64_t>{3, 2, 4});
      },
      {randu({1, 4}, 3)});
  verify_grad([](V x) { return broadcast_to(x[0], shape_of(x[1])); },
              {randu({4}, 4), randu({2, 4}, 5)});
  verify_grad([](V x) { return fill(x[0], x[1]); }, {randu({2, 3}, 6), randu({3}, 7)});
  verify_grad([](V x) { return second(x[0], x[1]) * x[0]; }, {randu({2, 3}, 8), randu({2, 1}, 9)});
  verify_grad([](V x) { return full_like(x[0], x[1]); }, {randu({2, 3}, 10), randu({}, 11)});
  // Statically known broadcast axes take the keepdims path.
  Var v = tensor(DType::Float64, {1, 3}, "v");
  const FunctionOptions ignore{.on_unused_input = "ignore"};
  auto f = function({v}, {grad(sum(alloc(v, std::vector<int64_t>{4, 2, 3})), v)}, ignore);
  EXPECT_EQ((*f)({randu({1, 3}, 12)})[0].to_double_vector(), (std::vector<double>{8, 8, 8}));
}

TEST(GradJoin, TrilTriu) {
  verify_grad([](V x) { return tril(x[0]); }, {randu({3, 4}, 20)});
  verify_grad([](V x) { return triu(x[0], -1); }, {randu({4, 3}, 21)});
  verify_grad([](V x) { return tril(x[0], 2); }, {randu({2, 3, 3}, 22)});
  verify_grad([](V x) { return triu(x[0], 1); },
              {randu({3}, 23)});  // vector: rows of an n x n matrix
}

TEST(GradJoin, ConcatenateAndStack) {
  verify_grad(
      [](V x) {
        return concatenate({x[0], x[1], x[2]}, 1);
      },
      {randu({2, 3}, 30), randu({2, 1}, 31), randu({2, 4}, 32)});
  verify_grad(
      [](V x) {
        return concatenate({x[0], x[1]}, -1);
      },
      {randu({2, 2, 3}, 33), randu({2, 2, 2}, 34)});
  verify_grad([](V x) { return concatenate({x[0]}, 0); }, {randu({3}, 35)});
  // One input used twice: both pieces flow back to it.
  verify_grad(
      [](V x) {
        return join(0, {x[0], x[1], x[0]});
      },
      {randu({2, 3}, 36), randu({0, 3}, 37)});
  verify_grad([](V x) { return stack({x[0], x[1]}, 1); }, {randu({2, 3}, 38), randu({2, 3}, 39)});
  // An integer input is disconnected; the float one still gets its piece.
  Var a = vector(DType::Float64, "a");
  Var b = constant(Array::from_vector<int64_t>({1, 2}, {2}));
  auto f = function({a}, {grad(sum(concatenate({a, b}) * 2.0), a)});
  EXPECT_EQ((*f)({Array::from_vector<double>({5, 6, 7})})[0].to_double_vector(),
            (std::vector<double>{2, 2, 2}));
}

TEST(GradJoin, SplitWithUnusedPieces) {
  verify_grad(
      [](V x) {
        auto p = split(x[0], std::vector<int64_t>{2, 1, 3}, 1);
        return concatenate({p[2] * 2.0, p[0]}, 1);  // piece 1 gets no gradient: zeros
      },
      {randu({2, 6}, 40)});
  verify_grad(
      [](V x) {
        auto p = split(x[0], std::vector<int64_t>{1, 3}, 0);
        return p[1] * p[1];
      },
      {randu({4, 2}, 41)});
  verify_grad([](V x) { return split(x[0], std::vector<int64_t>{3}, -1)[0]; }, {randu({2, 3}, 42)});
  // Split then join is the identity, so the gradient is all ones.
  Var x = matrix(DType::Float64, "x");
  auto p = split(x, std::vector<int64_t>{1, 1}, 0);
  auto f = function({x}, {grad(sum(concatenate({p[1], p[0]}, 0)), x)});
  EXPECT_EQ((*f)({randu({2, 2}, 43)})[0].to_double_vector(), (std::vector<double>(4, 1.0)));
}

TEST(GradJoin, RepeatSumsOverCopies) {
  verify_grad([](V x) { return repeat(x[0], 3, 0); }, {randu({2, 3}, 50)});
  verify_grad([](V x) { return repeat(x[0], 2, -1); }, {randu({2, 3}, 51)});
  verify_grad([](V x) { return repeat(x[0], 2); }, {randu({2, 3}, 52)});  // flattened
  verify_grad([](V x) { return repeat(x[0], 0, 1); }, {randu({2, 3}, 53)});
  Var per = constant(Array::from_vector<int64_t>({1, 0, 3}, {3}));
  verify_grad([&](V x) { return repeat(x[0], per, 1); }, {randu({2, 3}, 54)});
  Var one = constant(Array::from_vector<int64_t>({2}, {1}));
  verify_grad([&](V x) { return repeat(x[0], one, 0); }, {randu({3, 2}, 55)});
  // Symbolic counts.
  Var x = vector(DType::Float64, "x");
  Var r = vector(DType::Int64, "r");
  auto f = function({x, r}, {grad(sum(repeat(x, r, 0) * 2.0), x)});
  EXPECT_EQ((*f)({Array::from_vector<double>({1, 1, 1}), Array::from_vector<int64_t>({2, 0, 1})})[0]
                .to_double_vector(),
            (std::vector<double>{4, 0, 2}));
}

TEST(GradJoin, RollFlipTile) {
  verify_grad([](V x) { return roll(x[0], i64(2), 1); }, {randu({2, 5}, 60)});
  verify_grad([](V x) { return roll(x[0], i64(-7), 0); }, {randu({3, 2}, 61)});
  verify_grad([](V x) { return roll(x[0], i64(4)); }, {randu({2, 3}, 62)});  // flattened
  verify_grad([](V x) { return roll(x[0], {i64(1), i64(-1)}, {0, 1}); }, {randu({3, 4}, 63)});
  verify_grad([](V x) { return flip(x[0]); }, {randu({2, 3}, 64)});
  verify_grad([](V x) { return flip(x[0], std::vector<int>{-1}); }, {randu({2, 3, 2}, 65)});
  verify_grad([](V x) { return tile(x[0], std::vector<int64_t>{2, 1, 3}); }, {randu({2, 3}, 66)});
  verify_grad([](V x) { return tile(x[0], std::vector<int64_t>{2}); }, {randu({3}, 67)});
}

TEST(GradJoin, RangesAndEyeAreDisconnected) {
  Var x = matrix(DType::Float64, "x");
  // Eye/Tri/ARange only shape the cost: x's gradient goes through the product.
  Var n = shape_i(x, 0);
  Var c = sum(x * eye(n, n, std::nullopt, DType::Float64)) +
          sum(x * tri(n, n, std::nullopt, DType::Float64)) +
          sum(x * cast(arange(n), DType::Float64));
  auto f = function({x}, {grad(c, x)});
  EXPECT_EQ((*f)({randu({2, 2}, 70)})[0].to_double_vector(), (std::vector<double>{2, 1, 1, 3}));
  // The end points of arange/linspace get no gradient (disconnected, as in Theano).
  Var a = scalar(DType::Float64, "a"), b = scalar(DType::Float64, "b");
  EXPECT_THROW(grad(sum(linspace(a, b, 5)), a), std::invalid_argument);
  EXPECT_THROW(grad(sum(arange(a, b, constant(0.5, DType::Float64))), b), std::invalid_argument);
  GradOptions ignore;
  ignore.disconnected_inputs = DisconnectedInputs::Ignore;
  auto fz = function({a, b}, grad(sum(linspace(a, b, 5)), {a, b}, ignore),
                     FunctionOptions{.on_unused_input = "ignore"});
  auto z = (*fz)({Array::scalar(DType::Float64, 0), Array::scalar(DType::Float64, 1)});
  EXPECT_EQ(z[0].item_double(), 0.0);
  EXPECT_EQ(z[1].item_double(), 0.0);
}
