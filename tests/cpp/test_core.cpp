// Core: dtypes, arrays, types, graph building, functions and shared state.
#include <gtest/gtest.h>

#include <cmath>

#include <theon/theon.h>

using namespace theon;

TEST(DType, PromotionMatchesNumPy2) {
  EXPECT_EQ(promote_types(DType::Int8, DType::UInt8), DType::Int16);
  EXPECT_EQ(promote_types(DType::UInt64, DType::Int64), DType::Float64);
  EXPECT_EQ(promote_types(DType::Float16, DType::Int16), DType::Float32);
  EXPECT_EQ(promote_types(DType::Float32, DType::Int32), DType::Float64);
  EXPECT_EQ(promote_types(DType::Bool, DType::Int8), DType::Int8);
  EXPECT_EQ(promote_types(DType::Float16, DType::BFloat16), DType::Float32);
  EXPECT_TRUE(can_cast_safely(DType::Int32, DType::Float64));
  EXPECT_FALSE(can_cast_safely(DType::Float64, DType::Float32));
  EXPECT_THROW(dtype_from_name("float128"), std::invalid_argument);
}

TEST(Half, RoundTrip) {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1e-5f, 1e-7f}) {
    float16 h(f);
    EXPECT_NEAR(float(h), f, std::abs(f) * 1e-3 + 6e-8);
  }
  EXPECT_TRUE(std::isinf(float(float16(1e6f))));
  EXPECT_EQ(float(bfloat16(1.0f)), 1.0f);
}

TEST(Array, ViewsShareMemory) {
  Array a = Array::from_vector<double>({0, 1, 2, 3, 4, 5}, {2, 3});
  Array t = a.transpose();
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_TRUE(t.shares_memory_with(a));
  EXPECT_FALSE(t.is_c_contiguous());
  EXPECT_TRUE(t.is_f_contiguous());
  EXPECT_EQ(t.copy().to_double_vector(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  Array s = a.slice(1, 2, -1 - 3, -1);  // a[:, 2::-1]
  EXPECT_EQ(s.copy().to_double_vector(), (std::vector<double>{2, 1, 0, 5, 4, 3}));
  Array b = Array::from_vector<double>({1, 2, 3}, {3}).broadcast_to({2, 3});
  EXPECT_EQ(b.strides()[0], 0);
  EXPECT_THROW(a.reshape({4, 2}), std::invalid_argument);
  EXPECT_EQ(a.reshape({3, -1}).shape(), (Shape{3, 2}));
}

TEST(Graph, StaticShapeMismatchFailsAtBuild) {
  Var a = tensor(DType::Float32, {3, 4}, "a");
  Var b = tensor(DType::Float32, {5, 4}, "b");
  try {
    add(a, b);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("(3, 4)"), std::string::npos) << m;
    EXPECT_NE(m.find("(5, 4)"), std::string::npos) << m;
  }
  EXPECT_THROW(sum(a, std::vector<int>{2}), std::invalid_argument);
}

TEST(Graph, ShapeInferenceNeedsNoEvaluation) {
  Var x = matrix(DType::Float64, "x");
  Var y = exp(x) + 1.0;
  Var s0 = shape_i(y, 0);
  // The inferred shape depends on x only through Shape_i(x), not on exp.
  for (ApplyNode* n : toposort({s0})) EXPECT_EQ(dynamic_cast<const Elemwise*>(n->op.get()), nullptr);
  auto f = function({x}, {s0});
  EXPECT_EQ((*f)({Array::zeros(DType::Float64, {4, 7})})[0].item_int(), 4);
}

TEST(Function, ComputesAndUpdatesAtomically) {
  Var x = vector(DType::Float64, "x");
  Var acc = shared(Array::zeros(DType::Float64, {3}), "acc");
  auto f = function({x}, {sum(x)}, FunctionOptions{.updates = {{acc, acc + x}}});
  auto r = (*f)({Array::from_vector<double>({1, 2, 3})});
  EXPECT_EQ(r[0].item_double(), 6.0);
  EXPECT_EQ(get_value(acc).to_double_vector(), (std::vector<double>{1, 2, 3}));
  // Wrong shape at run time: the call fails and acc keeps its value.
  EXPECT_THROW((*f)({Array::from_vector<double>({1, 2})}), std::invalid_argument);
  EXPECT_EQ(get_value(acc).to_double_vector(), (std::vector<double>{1, 2, 3}));
  // Wrong rank, wrong arity, unsafe downcast.
  EXPECT_THROW((*f)({Array::zeros(DType::Float64, {2, 2})}), std::invalid_argument);
  EXPECT_THROW((*f)({}), std::invalid_argument);
  Var xf = vector(DType::Float32, "xf");
  auto g = function({xf}, {xf * 2.0});
  EXPECT_THROW((*g)({Array::from_vector<double>({1.0}, {1})}), std::invalid_argument);
  EXPECT_EQ((*g)({Array::from_vector<float>({1.5f}, {1})})[0].dtype(), DType::Float32);
}

TEST(Function, MissingAndUnusedInputs) {
  Var x = scalar(DType::Float64, "x"), y = scalar(DType::Float64, "y");
  EXPECT_THROW(function({x}, {x + y}), std::invalid_argument);
  EXPECT_THROW(function({x, y}, {x * 2.0}), std::invalid_argument);
  EXPECT_NO_THROW(function({x, y}, {x * 2.0}, FunctionOptions{.on_unused_input = "ignore"}));
}

TEST(Elemwise, WeakScalarsKeepArrayDtype) {
  Var x = vector(DType::Float32, "x");
  EXPECT_EQ((x * 2.0).dtype(), DType::Float32);
  Var i = vector(DType::Int8, "i");
  EXPECT_EQ((i + 2).dtype(), DType::Int8);
  EXPECT_EQ((i + 2.0).dtype(), DType::Float64);
  EXPECT_THROW(i + 1000, std::overflow_error);
  EXPECT_EQ(exp(i).dtype(), DType::Float16);
}

TEST(Printing, DebugprintShowsTree) {
  Var x = matrix(DType::Float64, "x");
  Var y = exp(x) + x;
  std::string s = debugprint({y});
  EXPECT_NE(s.find("Elemwise{add} [id A]"), std::string::npos) << s;
  EXPECT_NE(s.find(" |Elemwise{exp} [id B]"), std::string::npos) << s;
  EXPECT_NE(s.find("x [id C]"), std::string::npos) << s;
  EXPECT_NE(graph_to_dot({y}).find("digraph"), std::string::npos);
}
