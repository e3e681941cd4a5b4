// OpFromGraph: evaluation as a unit, inlining in FAST_RUN, gradients, errors.
#include <gtest/gtest.h>

#include <theon/ops/op_from_graph.h>
#include <theon/theon.h>

using namespace theon;

namespace {
Array f64(std::vector<double> v) { return Array::from_vector<double>(v); }
std::shared_ptr<Function> compile(std::vector<Var> ins, std::vector<Var> outs, const char* mode) {
  FunctionOptions o;
  o.mode = mode;
  return function(std::vector<In>(ins.begin(), ins.end()), outs, o);
}
}  // namespace

TEST(OpFromGraph, RunsAsAUnitOrInlined) {
  Var x = vector(DType::Float64, "x"), y = vector(DType::Float64, "y");
  Var w = shared(f64({10, 20}), "w");
  auto op = op_from_graph({x, y}, {x * y + w, sum(x)}, "axpy");
  Var a = vector(DType::Float64, "a"), b = vector(DType::Float64, "b");
  auto outs = (*op)({a, exp(b)});
  EXPECT_EQ(outs[0].type().ndim(), 1);
  for (const char* mode : {"None", "FAST_COMPILE", "FAST_RUN"}) {
    auto f = compile({a, b}, {outs[0], outs[1] * 2.0}, mode);
    auto r = (*f)({f64({1, 2}), f64({0, 0})});
    EXPECT_EQ(r[0].to_double_vector(), (std::vector<double>{11, 22})) << mode;
    EXPECT_EQ(r[1].item_double(), 6.0) << mode;
    bool has_op = false;
    for (auto* n : f->nodes()) has_op |= n->op->name() == "OpFromGraph{axpy}";
    EXPECT_EQ(has_op, std::string(mode) != "FAST_RUN") << mode;
  }
}

TEST(OpFromGraph, GradientThroughTheInnerGraph) {
  Var x = vector(DType::Float64, "x"), y = vector(DType::Float64, "y");
  auto op = op_from_graph({x, y}, {tanh(x) * y});
  verify_grad([&](const std::vector<Var>& in) { return (*op)({in[0], in[1]})[0]; },
              {f64({0.3, -0.4}), f64({2.0, 0.5})});
  Var a = vector(DType::Float64, "a");
  Var g = grad(sum((*op)({a, a})[0]), a);  // d/da tanh(a) a = (1 - tanh^2) a + tanh
  auto f = compile({a}, {g}, "None");
  double t = std::tanh(0.5);
  EXPECT_NEAR((*f)({f64({0.5, 0.5})})[0].item_double(0), (1 - t * t) * 0.5 + t, 1e-12);
}

TEST(OpFromGraph, BadUseIsAClearError) {
  Var x = vector(DType::Float64, "x"), z = vector(DType::Float64, "z");
  EXPECT_THROW(op_from_graph({x}, {x + z}), std::invalid_argument);  // z is not an input
  EXPECT_THROW(op_from_graph({exp(x)}, {x}), std::invalid_argument);
  auto op = op_from_graph({x}, {x * 2.0});
  EXPECT_THROW((*op)({matrix(DType::Float64)}), std::invalid_argument);
  EXPECT_THROW((*op)({vector(DType::Float64), vector(DType::Float64)}), std::invalid_argument);
}
