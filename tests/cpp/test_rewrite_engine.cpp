// The rewrite engine: FunctionGraph, the driver, merge, constant folding,
// modes, DebugMode and NanGuardMode.
#include <gtest/gtest.h>

#include <chrono>

#include "rewrite_test_util.h"

using namespace theon;
using namespace theon::testing;

TEST(FunctionGraph, ClonesSoTheUserGraphIsUntouched) {
  Var x = vector(DType::Float64, "x");
  Var y = exp(x) + exp(x);
  ApplyNode* add_node = y.owner();
  Var first = add_node->inputs[0], second = add_node->inputs[1];
  auto f = compile({x}, {y}, "FAST_COMPILE");
  EXPECT_GE(fired(*f, "merge"), 1);
  EXPECT_EQ(count_ops(*f, "Elemwise{exp}"), 1);
  EXPECT_TRUE(add_node->inputs[0].is(first));
  EXPECT_TRUE(add_node->inputs[1].is(second));
  EXPECT_FALSE(first.is(second));
}

TEST(FunctionGraph, ReplaceChecksTypesAndCycles) {
  Var x = vector(DType::Float64, "x");
  Var y = exp(x);
  FunctionGraph fg({y});
  Var cy = fg.outputs()[0];
  Var bad = cast(x, DType::Float32);
  EXPECT_THROW(fg.replace(cy, bad, "test"), std::logic_error);
  EXPECT_THROW(fg.replace(cy, exp(cy), "test"), std::logic_error);
  EXPECT_EQ(fg.num_nodes(), 1u);  // a refused replacement leaves nothing behind
  Var other = vector(DType::Float64, "other");
  EXPECT_THROW(fg.replace(cy, exp(other), "test"), std::logic_error);  // not an input of the graph
  fg.replace(cy, log(x), "test");
  EXPECT_EQ(fg.num_nodes(), 1u);
  EXPECT_EQ(fg.outputs()[0].owner()->op->name(), "Elemwise{log}");
  EXPECT_EQ(fg.clients(x).size(), 1u);
}

TEST(Merge, EqualConstantsAndNodesMerge) {
  Var x = matrix(DType::Float32, "x");
  Var a = x * 2.0, b = x * 2.0;
  auto f = expect_same_as_unoptimized({x}, {a + b, tanh(a) - tanh(b)}, {random_array(DType::Float32, {3, 4}, 1)},
                                      "FAST_COMPILE");
  EXPECT_EQ(count_ops(*f, "Elemwise{tanh}"), 1) << "tanh(a) and tanh(b) are one computation";
  EXPECT_EQ(count_ops(*f, "Elemwise{mul}"), 1);
  EXPECT_GE(fired(*f, "merge"), 2);
  expect_same_as_unoptimized({x}, {a + b, tanh(a) - tanh(b)}, {random_array(DType::Float32, {3, 4}, 1)});
}

TEST(ConstantFolding, FoldsSmallResultsOnly) {
  Var x = vector(DType::Float64, "x");
  Var c = constant(2.0, DType::Float64) + constant(3.0, DType::Float64);
  auto f = expect_same_as_unoptimized({x}, {x * c}, {random_array(DType::Float64, {5}, 2)}, "FAST_COMPILE");
  EXPECT_EQ(fired(*f, "constant_folding"), 1);
  EXPECT_EQ(count_ops(*f, "Elemwise{add}"), 0);
  // A 4000x4000 array of zeros would be 128 MB as a constant: it stays an alloc.
  Var big = zeros({4000, 4000}, DType::Float64);
  auto g = compile({x}, {sum(big) + sum(x)}, "FAST_COMPILE");
  EXPECT_EQ(fired(g.get() ? *g : *f, "constant_folding"), 0);
}

TEST(ConstantFolding, ErrorsAreLeftToTheCall) {
  Var x = vector(DType::Float64, "x");
  // Cholesky of a matrix that is not positive definite fails when it runs.
  Var bad = cholesky(constant(Array::full(DType::Float64, {1, 1}, -1.0)));
  auto f = compile({x}, {bad + sum(x)}, "FAST_COMPILE");
  EXPECT_EQ(fired(*f, "constant_folding"), 0);
  EXPECT_ANY_THROW((*f)({random_array(DType::Float64, {2}, 0)}));
}

TEST(Modes, NoneRunsNothingAndQueriesSelect) {
  Var x = vector(DType::Float64, "x");
  Var y = exp(x) + exp(x);
  EXPECT_TRUE(compile({x}, {y}, "None")->rewrites_applied().empty());
  EXPECT_EQ(compile({x}, {y}, "None")->mode(), "None");
  EXPECT_EQ(fired(*compile({x}, {y}, Mode("FAST_RUN").excluding({"merge"})), "merge"), 0);
  EXPECT_EQ(compile({x}, {y}, Mode("FAST_COMPILE"))->mode(), "FAST_COMPILE");
  EXPECT_THROW(compile({x}, {y}, "FASTEST"), std::invalid_argument);
  for (const auto& r : rewrite_db().all()) {
    EXPECT_FALSE(r.doc.empty()) << r.name;
    EXPECT_FALSE(r.tags.empty()) << r.name;
  }
}

TEST(Modes, DebugModeNamesAWrongRewrite) {
  // A deliberately wrong rewrite, selected only by its own tag: exp(x) -> x.
  if (!rewrite_db().find("test_wrong_exp")) {
    rewrite_db().local("test_wrong_exp", Phase::Canonicalize, {key(ScalarOpId::exp)}, {"test_only"},
                       "exp(x) -> x (wrong on purpose)",
                       [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> { return {n.inputs[0]}; });
  }
  Var x = vector(DType::Float64, "x");
  Var y = exp(x) * 2.0;
  Array v = random_array(DType::Float64, {4}, 3);
  auto f = compile({x}, {y}, Mode("DebugMode").including({"test_only"}));
  try {
    (*f)({v});
    FAIL() << "DebugMode accepted a wrong rewrite";
  } catch (const BadOptimization& e) {
    EXPECT_NE(std::string(e.what()).find("test_wrong_exp"), std::string::npos) << e.what();
  }
  // Without the wrong rewrite DebugMode passes and returns the right values.
  auto g = compile({x}, {y}, "DebugMode");
  expect_same_values((*compile({x}, {y}, "None"))({v})[0], (*g)({v})[0], "DebugMode output");
}

TEST(Modes, NanGuardNamesTheOp) {
  Var x = vector(DType::Float64, "x");
  auto f = compile({x}, {sqrt(x) + 1.0}, "NanGuardMode");
  EXPECT_NO_THROW((*f)({Array::from_vector<double>({1, 4})}));
  try {
    (*f)({Array::from_vector<double>({1, -4})});
    FAIL() << "NanGuardMode let a NaN through";
  } catch (const NanGuardError& e) {
    EXPECT_NE(std::string(e.what()).find("sqrt"), std::string::npos) << e.what();
  }
}

TEST(Driver, DeepGraphsOptimizeWithoutRecursion) {
  Var x = vector(DType::Float64, "x");
  Var y = x;
  for (int i = 0; i < 20000; ++i) y = (i % 2) ? y * 1.0001 : y + 0.5;
  auto f = compile({x}, {y});
  Array v = random_array(DType::Float64, {3}, 4);
  expect_same_values((*compile({x}, {y}, "None"))({v})[0], (*f)({v})[0], "deep chain");
}

TEST(ShapeInference, DeepBroadcastingChainsStayLinear) {
  // Each level's shape reads the previous level's shape twice; without the
  // per-node cache, building the gradient took exponential time.
  Var c = tensor(DType::Float64, {1, 1}, "c");
  Var x = matrix(DType::Float64, "x");
  Var t = x;
  for (int i = 0; i < 40; ++i) t = switch_(gt(c, constant(3.0, DType::Float64)), t, t * 2.0);
  auto t0 = std::chrono::steady_clock::now();
  Var g = grad(sum(minimum(t, constant(2.0, DType::Float64))), x);
  auto f = compile({c, x}, {g});
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 5.0);
  Array r = (*f)({Array::full(DType::Float64, {1, 1}, 0.0), Array::full(DType::Float64, {2, 3}, 1e-13)})[0];
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  EXPECT_DOUBLE_EQ(r.item_double(0), std::ldexp(1.0, 40));
}
