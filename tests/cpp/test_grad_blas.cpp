// Gradients of dot, matmul, tensordot, outer and batched_dot against finite differences.
#include <gtest/gtest.h>

#include <random>
#include <theon/autodiff/grad.h>
#include <theon/autodiff/verify_grad.h>
#include <theon/ops/blas.h>
#include <theon/theon.h>

using namespace theon;

namespace {
Array randu(Shape s, uint64_t seed) {
  Array a = Array::empty(DType::Float64, s);
  std::mt19937_64 r(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int64_t i = 0; i < a.size(); ++i) a.data_as<double>()[i] = u(r);
  return a;
}

using Fn2 = Var (*)(const Var&, const Var&);

void check2(Fn2 f, Shape sa, Shape sb, uint64_t seed) {
  SCOPED_TRACE(shape_str(sa) + " with " + shape_str(sb));
  EXPECT_NO_THROW(verify_grad([f](const std::vector<Var>& x) { return f(x[0], x[1]); },
                              {randu(sa, seed), randu(sb, seed + 100)}));
}
}  // namespace

TEST(GradBlas, DotEveryRankCombination) {
  Fn2 d = [](const Var& a, const Var& b) { return dot(a, b); };
  check2(d, {}, {}, 1);
  check2(d, {}, {3, 4}, 2);
  check2(d, {2, 3}, {}, 3);
  check2(d, {3}, {3}, 4);
  check2(d, {3}, {3, 4}, 5);
  check2(d, {2, 3}, {3}, 6);
  check2(d, {2, 3}, {3, 4}, 7);
  check2(d, {2, 3, 4}, {4, 5}, 8);
  check2(d, {2, 3, 4}, {5, 4, 2}, 9);
  check2(d, {4}, {2, 4, 3}, 10);
}

TEST(GradBlas, MatmulWithBatchBroadcasting) {
  Fn2 m = [](const Var& a, const Var& b) { return matmul(a, b); };
  check2(m, {2, 3}, {3, 4}, 11);
  check2(m, {3}, {3, 4}, 12);
  check2(m, {2, 3}, {3}, 13);
  check2(m, {3}, {3}, 14);
  check2(m, {5, 2, 3}, {3, 4}, 15);   // b broadcast over the batch
  check2(m, {2, 3}, {5, 3, 4}, 16);   // a broadcast over the batch
  check2(m, {1, 2, 3}, {4, 3, 2}, 17);  // a length-1 batch axis
  check2(m, {3, 1, 2, 3}, {4, 3, 2}, 18);
  check2(m, {3}, {2, 3, 4}, 19);
  check2(m, {2, 4, 3}, {3}, 20);
}

TEST(GradBlas, TensordotAndOuter) {
  check2([](const Var& a, const Var& b) { return tensordot(a, b, 2); }, {2, 3, 4}, {3, 4, 5}, 21);
  check2([](const Var& a, const Var& b) { return tensordot(a, b, 0); }, {2, 3}, {4}, 22);
  check2([](const Var& a, const Var& b) { return tensordot(a, b, 1); }, {2, 3}, {3, 4}, 23);
  check2([](const Var& a, const Var& b) { return tensordot(a, b, {2, 0}, {1, 3}); }, {2, 3, 4}, {5, 4, 6, 2}, 24);
  check2([](const Var& a, const Var& b) { return tensordot(a, b, {-1, 1}, {0, 2}); }, {3, 4, 5}, {5, 2, 4}, 25);
  check2([](const Var& a, const Var& b) { return outer(a, b); }, {3}, {4}, 26);
  check2([](const Var& a, const Var& b) { return outer(a, b); }, {2, 2}, {3}, 27);
}

TEST(GradBlas, BatchedDot) {
  Fn2 bd = [](const Var& a, const Var& b) { return batched_dot(a, b); };
  check2(bd, {4, 2, 3}, {4, 3, 5}, 31);
  check2(bd, {4, 3}, {4, 3, 5}, 32);
  check2(bd, {4, 2, 3}, {4, 3}, 33);
  check2(bd, {4, 3}, {4, 3}, 34);
  check2(bd, {3, 2, 2, 3}, {3, 2, 3, 2}, 35);  // b's contracted axis is its second-to-last
  check2(bd, {3, 2, 3}, {3, 4, 2, 3, 2}, 37);
  check2(bd, {4}, {4, 2, 3}, 36);  // a vector scales each batch entry
}

TEST(GradBlas, SecondOrder) {
  // Differentiating a product's gradient differentiates the products it is made of.
  EXPECT_NO_THROW(verify_grad(
      [](const std::vector<Var>& x) { return grad(sum(sqr(matmul(x[0], x[1]))), x[0]); },
      {randu({2, 2, 3}, 41), randu({3, 2}, 42)}));
  EXPECT_NO_THROW(verify_grad(
      [](const std::vector<Var>& x) { return grad(sum(sqr(dot(x[0], x[1]))), x[1]); },
      {randu({2, 3}, 43), randu({3}, 44)}));
  EXPECT_NO_THROW(verify_grad(
      [](const std::vector<Var>& x) { return grad(sum(sqr(batched_dot(x[0], x[1]))), x[0]); },
      {randu({2, 2, 3}, 45), randu({2, 3, 2}, 46)}));
}

TEST(GradBlas, DtypesAndIntegerOperands) {
  Var a = matrix(DType::Float32, "a");
  Var k = matrix(DType::Int32, "k");
  GradOptions ig;
  ig.disconnected_inputs = DisconnectedInputs::Ignore;
  auto g = grad(sum(dot(a, k)), {a, k}, ig);
  EXPECT_EQ(g[0].dtype(), DType::Float32);
  auto f = function({a, k}, {g[0], g[1]});
  auto r = (*f)({Array::full(DType::Float32, {2, 3}, 1.0), Array::full(DType::Int32, {3, 2}, 2.0)});
  EXPECT_EQ(r[0].to_double_vector(), std::vector<double>(6, 4.0));
  EXPECT_EQ(r[1].to_double_vector(), std::vector<double>(6, 0.0));  // integers: zero, as in Theano
}
