// ifelse: lazy evaluation (a counting op proves the other branch never runs),
// values, shapes, gradients and errors.
#include <gtest/gtest.h>

#include <atomic>
#include <theon/ops/ifelse.h>
#include <theon/theon.h>

using namespace theon;

namespace {

std::atomic<int> g_runs{0};

// Identity that counts how often it runs.
class Counting : public Op {
 public:
  std::string name() const override { return "Counting"; }
  std::vector<TensorType> infer_type(const std::vector<Var>& in) const override { return {in[0].type()}; }
  void perform(const std::vector<Array>& in, std::vector<Array>& out) const override {
    ++g_runs;
    out[0] = in[0].copy();
  }
};
Var counting(const Var& x) { return make1<Counting>({x}); }

Array f64(std::vector<double> v) { return Array::from_vector<double>(v); }

}  // namespace

TEST(IfElse, RunsOnlyTheBranchTaken) {
  Var c = scalar(DType::Int8, "c"), x = vector(DType::Float64, "x");
  Var expensive = sum(exp(counting(x) * 2.0));
  Var cheap = sum(x);
  for (const char* mode : {"FAST_RUN", "None"}) {
    FunctionOptions o;
    o.mode = mode;
    auto f = function({c, x}, {ifelse(c, cheap, expensive)}, o);
    g_runs = 0;
    Array r = (*f)({Array::scalar(DType::Int8, 1), f64({1, 2, 3})})[0];
    EXPECT_EQ(r.item_double(), 6.0);
    EXPECT_EQ(g_runs.load(), 0) << "the else branch ran in mode " << mode;
    r = (*f)({Array::scalar(DType::Int8, 0), f64({0, 0.5})})[0];
    EXPECT_DOUBLE_EQ(r.item_double(), 1.0 + std::exp(1.0));
    EXPECT_EQ(g_runs.load(), 1);
  }
}

TEST(IfElse, SeveralOutputsShapesAndNesting) {
  Var c = scalar(DType::Bool, "c"), d = scalar(DType::Float32, "d");
  Var a = vector(DType::Float64, "a"), b = matrix(DType::Float64, "b");
  auto outs = ifelse(c, {a * 2.0, sum(b)}, {concatenate({a, a}, 0), sum(b) + 1.0});
  Var nested = ifelse(d, outs[1], ifelse(c, sum(a), max(a)));
  auto f = function({c, d, a, b}, {outs[0], outs[1], nested, shape_i(outs[0], 0)});
  Array av = f64({1, 2}), bv = Array::full(DType::Float64, {2, 2}, 1.0);
  auto r = (*f)({Array::scalar(DType::Bool, 1), Array::scalar(DType::Float32, 0), av, bv});
  EXPECT_EQ(r[0].to_double_vector(), (std::vector<double>{2, 4}));
  EXPECT_EQ(r[1].item_double(), 4.0);
  EXPECT_EQ(r[2].item_double(), 3.0);
  EXPECT_EQ(r[3].item_double(), 2.0);
  r = (*f)({Array::scalar(DType::Bool, 0), Array::scalar(DType::Float32, 0.5), av, bv});
  EXPECT_EQ(r[0].to_double_vector(), (std::vector<double>{1, 2, 1, 2}));
  EXPECT_EQ(r[2].item_double(), 5.0);
  EXPECT_EQ(r[3].item_double(), 4.0);
}

TEST(IfElse, GradientGoesToTheBranchTaken) {
  Var c = scalar(DType::Int64, "c"), x = vector(DType::Float64, "x");
  Var y = sum(ifelse(c, x * x, 3.0 * x));
  Var g = grad(y, x);
  auto f = function({c, x}, {g});
  Array xv = f64({1, -2});
  EXPECT_EQ((*f)({Array::scalar(DType::Int64, 1), xv})[0].to_double_vector(), (std::vector<double>{2, -4}));
  EXPECT_EQ((*f)({Array::scalar(DType::Int64, 0), xv})[0].to_double_vector(), (std::vector<double>{3, 3}));
  for (double cv : {0.0, 1.0})
    verify_grad([&](const std::vector<Var>& in) { return ifelse(constant(cv, DType::Int64), tanh(in[0]), in[1] * in[0]); },
                {f64({0.3, -0.7}), f64({1.5, 2.0})});
}

TEST(IfElse, BadInputIsAClearError) {
  Var x = vector(DType::Float64, "x");
  EXPECT_THROW(ifelse(vector(DType::Bool, "c"), x, x), std::invalid_argument);
  EXPECT_THROW(ifelse(scalar(DType::Bool, "c"), x, cast(x, DType::Float32)), std::invalid_argument);
  EXPECT_THROW(ifelse(scalar(DType::Bool, "c"), x, matrix(DType::Float64)), std::invalid_argument);
  EXPECT_THROW(ifelse(scalar(DType::Bool, "c"), std::vector<Var>{x}, std::vector<Var>{}), std::invalid_argument);
}
