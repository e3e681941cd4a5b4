// Gradients of indexing: basic and advanced reads, set/inc_subtensor in all
// forms, take, symbolic indices and second order (hessian), against finite
// differences (verify_grad) and closed forms.
#include <gtest/gtest.h>
#include <theon/ops/subtensor.h>
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

Var ivec(std::vector<int64_t> v) {
  int64_t n = int64_t(v.size());
  return constant(Array::from_vector<int64_t>(v, {n}));
}

using IT = IndexItem;
using Fn = std::function<Var(const std::vector<Var>&)>;
constexpr auto none = std::nullopt;

}  // namespace

TEST(GradIndex, BasicSlicesAndIntegers) {
  const std::vector<Index> cases = {
      {IT::slice(1, 3)},
      {IT::slice(none, none, -1)},
      {IT::slice(3, 0, -2), IT::integer(1)},
      {IT::newaxis(), IT::integer(2), IT::slice(none, none, 2)},
      {IT::ellipsis(), IT::integer(-1)},
      {IT::integer(-1)},
      {IT::slice(-2, none), IT::slice(4, 0, -3)},
      {IT::slice(10, none)},  // empty
  };
  for (size_t c = 0; c < cases.size(); ++c)
    EXPECT_NO_THROW(
        verify_grad([&](const std::vector<Var>& x) { return subtensor(x[0], cases[c]); },
                    {randu({4, 5}, 10 + c)}))
        << "case " << c;
  // A read used twice accumulates.
  verify_grad(
      [](const std::vector<Var>& x) {
        return subtensor(x[0], {IT::slice(0, 2)}) * subtensor(x[0], {IT::slice(1, 3)});
      },
      {randu({3, 2}, 20)});
}

TEST(GradIndex, SymbolicIntegerIndex) {
  Var x = vector(DType::Float64, "x");
  Var i = scalar(DType::Int64, "i");
  Var g = grad(sqr(subtensor(x, {IT::integer(i)})), x);
  auto f = function({x, i}, {g});
  Array xv = Array::from_vector<double>({1, 2, 3});
  EXPECT_EQ((*f)({xv, Array::scalar(DType::Int64, 1)})[0].to_double_vector(),
            (std::vector<double>{0, 4, 0}));
  EXPECT_EQ((*f)({xv, Array::scalar(DType::Int64, -1)})[0].to_double_vector(),
            (std::vector<double>{0, 0, 6}));
  // Symbolic slice bounds, negative step.
  Var a = scalar(DType::Int64, "a"), s = scalar(DType::Int64, "s");
  Var gs = grad(sum(subtensor(x, {IT::slice(a, Var(), s)}) * 2.0), x);
  auto fs = function({x, a, s}, {gs});
  EXPECT_EQ((*fs)({xv, Array::scalar(DType::Int64, 2), Array::scalar(DType::Int64, -2)})[0]
                .to_double_vector(),
            (std::vector<double>{2, 0, 2}));
}

TEST(GradIndex, AdvancedWithRepeatedIndices) {
  const std::vector<Index> cases = {
      {IT::array(ivec({0, 2, 0, 0}))},
      {IT::slice(), IT::array(ivec({1, 1, 3, -1}))},
      {IT::array(ivec({0, 1, 1})), IT::array(ivec({2, 2, 4}))},
      {IT::array(constant(Array::from_vector<int64_t>({0, 2, 2, 0}, {2, 2}))),
       IT::slice(none, none, -2)},
      {IT::array(ivec({2, 0, 2})), IT::array(ivec({1}))},  // a length-1 index broadcasts
  };
  for (size_t c = 0; c < cases.size(); ++c)
    EXPECT_NO_THROW(
        verify_grad([&](const std::vector<Var>& x) { return subtensor(x[0], cases[c]); },
                    {randu({3, 5}, 30 + c)}))
        << "case " << c;
  // 3-d x with indices separated by a slice (the broadcast dims go first).
  verify_grad(
      [](const std::vector<Var>& x) {
        return subtensor(x[0], {IT::array(ivec({1, 1})), IT::slice(), IT::array(ivec({0, 3}))});
      },
      {randu({2, 3, 4}, 36)});
  // A boolean mask.
  Array m = Array::from_vector<double>({1, 0, 1, 1, 0, 0}, {2, 3}).astype(DType::Bool);
  verify_grad([&](const std::vector<Var>& x) { return subtensor(x[0], {IT::array(constant(m))}); },
              {randu({2, 3}, 37)});
  // Closed form: every read adds one.
  Var x = vector(DType::Float64, "x");
  auto f = function({x}, {grad(sum(subtensor(x, {IT::array(ivec({0, 0, 1, 0}))})), x)});
  EXPECT_EQ((*f)({Array::from_vector<double>({5, 6, 7})})[0].to_double_vector(),
            (std::vector<double>{3, 1, 0}));
}

TEST(GradIndex, TakeAlongAxesAndFlattened) {
  verify_grad(
      [](const std::vector<Var>& x) {
        return take(x[0], ivec({3, 0, 3}));
      },
      {randu({2, 3}, 40)});
  verify_grad(
      [](const std::vector<Var>& x) {
        return take(x[0], ivec({2, 2, 0}), 1);
      },
      {randu({2, 3}, 41)});
  verify_grad(
      [](const std::vector<Var>& x) {
        return take(x[0], ivec({-1, 0}), -2);
      },
      {randu({2, 3, 2}, 42)});
}

TEST(GradIndex, IncAndSetSubtensorWithBroadcastValues) {
  // (x shape, index, y shape): y broadcast to x[idx] along missing and length-1 axes.
  struct Case {
    Shape xs;
    Index idx;
    Shape ys;
  };
  const std::vector<Case> cases = {
      {{4, 5}, {IT::slice(1, 3)}, {2, 5}},
      {{4, 5}, {IT::slice(1, 3)}, {5}},
      {{4, 5}, {IT::slice(1, 3)}, {1, 5}},
      {{4, 5}, {IT::slice(1, 3)}, {2, 1}},
      {{4, 5}, {IT::slice(none, none, -2)}, {2, 5}},
      {{4, 5}, {IT::slice(3, 0, -2), IT::integer(-2)}, {}},
      {{4, 5}, {IT::integer(0)}, {5}},
      {{2, 3, 4}, {IT::ellipsis(), IT::slice(none, none, -1)}, {3, 1}},
      {{4, 5}, {IT::newaxis(), IT::slice(0, 2)}, {1, 2, 5}},
  };
  for (size_t c = 0; c < cases.size(); ++c) {
    const Case& k = cases[c];
    for (bool set : {false, true}) {
      Fn fn = [&](const std::vector<Var>& v) {
        return set ? set_subtensor(v[0], k.idx, v[1]) : inc_subtensor(v[0], k.idx, v[1]);
      };
      EXPECT_NO_THROW(verify_grad(fn, {randu(k.xs, 50 + c), randu(k.ys, 60 + c)}))
          << "case " << c << (set ? " set" : " inc");
    }
  }
  // Theano's form, from the result of indexing.
  verify_grad(
      [](const std::vector<Var>& v) {
        return set_subtensor(subtensor(v[0], {IT::slice(1, none)}), v[1]);
      },
      {randu({3, 2}, 70), randu({2}, 71)});
  // Closed form: set zeroes x's gradient in the region and routes it to y.
  Var x = matrix(DType::Float64, "x"), y = vector(DType::Float64, "y");
  Var out = set_subtensor(x, {IT::integer(1)}, y);
  auto g = grad(sum(out * 3.0), {x, y});
  auto f = function({x, y}, g);
  auto r = (*f)({Array::full(DType::Float64, {2, 2}, 1.0), Array::from_vector<double>({1, 2})});
  EXPECT_EQ(r[0].to_double_vector(), (std::vector<double>{3, 3, 0, 0}));
  EXPECT_EQ(r[1].to_double_vector(), (std::vector<double>{3, 3}));
}

TEST(GradIndex, AdvancedIncAndSetWithRepeatedIndices) {
  struct Case {
    Index idx;
    Shape ys;
  };
  const std::vector<Case> cases = {
      {{IT::array(ivec({0, 2, 0}))}, {3, 4}},
      {{IT::array(ivec({0, 2, 0}))}, {4}},
      {{IT::array(ivec({0, 2, 0}))}, {3, 1}},
      {{IT::array(ivec({3, 0}))}, {2, 4}},
      {{IT::slice(), IT::array(ivec({1, 1, -1}))}, {1, 3}},
      {{IT::array(ivec({1, 1})), IT::array(ivec({2, 2}))}, {}},
      {{IT::array(ivec({1, 0, 1})), IT::slice(none, none, -1)}, {3, 4}},
  };
  for (size_t c = 0; c < cases.size(); ++c)
    for (bool set : {false, true}) {
      Fn fn = [&](const std::vector<Var>& v) {
        return set ? set_subtensor(v[0], cases[c].idx, v[1])
                   : inc_subtensor(v[0], cases[c].idx, v[1]);
      };
      EXPECT_NO_THROW(verify_grad(fn, {randu({4, 4}, 80 + c), randu(cases[c].ys, 90 + c)}))
          << "case " << c << (set ? " set" : " inc");
    }
  // Closed forms: inc accumulates repeated writes; set keeps only the last one.
  Var x = vector(DType::Float64, "x"), y = vector(DType::Float64, "y");
  Index idx{IT::array(ivec({0, 1, 0}))};
  auto f = function({x, y}, grad(sum(inc_subtensor(x, idx, y) * 2.0), {x, y}));
  auto fs = function({x, y}, grad(sum(set_subtensor(x, idx, y) * 2.0), {x, y}));
  Array xv = Array::from_vector<double>({1, 1, 1}), yv = Array::from_vector<double>({1, 2, 3});
  EXPECT_EQ((*f)({xv, yv})[1].to_double_vector(), (std::vector<double>{2, 2, 2}));
  auto rs = (*fs)({xv, yv});
  EXPECT_EQ(rs[0].to_double_vector(), (std::vector<double>{0, 0, 2}));
  EXPECT_EQ(rs[1].to_double_vector(), (std::vector<double>{0, 2, 2}));
}

TEST(GradIndex, SecondOrderThroughIndexing) {
  // verify_grad of a gradient checks the gradient of the gradient graph
  // (IncSubtensor of zeros, then Subtensor again).
  verify_grad(
      [](const std::vector<Var>& v) {
        Var x = v[0];
        Var c = sum(sqr(subtensor(x, {IT::slice(1, none)})) * subtensor(x, {IT::slice(none, -1)}));
        return grad(c, x);
      },
      {randu({5}, 100)});
  verify_grad(
      [](const std::vector<Var>& v) {
        Var x = v[0];
        Var w =
            set_subtensor(x, {IT::array(ivec({0, 2, 0}))}, sqr(subtensor(x, {IT::slice(1, 4)})));
        return grad(sum(w * w * x), x);
      },
      {randu({5}, 101)});
}

TEST(GradIndex, HessianOfScalarCostWrtVector) {
  Var x = vector(DType::Float64, "x");
  // c = sum_i x_i^2 x_{i+1}: H[i][i] = 2 x_{i+1}, H[i][i+1] = H[i+1][i] = 2 x_i.
  Var c = sum(sqr(subtensor(x, {IT::slice(none, -1)})) * subtensor(x, {IT::slice(1, none)}));
  auto f = function({x}, {hessian(c, x)});
  auto h = (*f)({Array::from_vector<double>({1, 2, 3})})[0];
  ASSERT_EQ(h.shape(), (Shape{3, 3}));
  EXPECT_EQ(h.to_double_vector(), (std::vector<double>{4, 2, 0, 2, 6, 4, 0, 4, 0}));
  // Jacobian of an expression built from advanced indexing.
  Var e = subtensor(x, {IT::array(ivec({2, 0, 2}))}) * 3.0;
  auto fj = function({x}, {jacobian(e, x)});
  EXPECT_EQ((*fj)({Array::from_vector<double>({1, 2, 3})})[0].to_double_vector(),
            (std::vector<double>{0, 0, 3, 3, 0, 0, 0, 0, 3}));
}

TEST(GradIndex, IndexInputsGetNoGradient) {
  // Integer positions only select: an integer input reached only through an
  // index gets a zero gradient, as in Theano.
  Var x = vector(DType::Float64, "x");
  Var i = scalar(DType::Int64, "i");
  auto g = grad(sum(subtensor(x, {IT::slice(i, Var())})), {x, i});
  auto f = function({x, i}, g);
  auto r = (*f)({Array::from_vector<double>({1, 2, 3}), Array::scalar(DType::Int64, 1)});
  EXPECT_EQ(r[0].to_double_vector(), (std::vector<double>{0, 1, 1}));
  EXPECT_EQ(r[1].item_double(), 0.0);
}

TEST(GradIndex, DtypesAndRop) {
  // Gradients keep each input's dtype when x and y differ.
  Var x = tensor(DType::Float32, {4, 3}, "x");
  Var y = vector(DType::Float64, "y");
  auto g = grad(sum(set_subtensor(x, {IT::array(ivec({0, 3}))}, y)), {x, y});
  EXPECT_EQ(g[0].dtype(), DType::Float32);
  EXPECT_EQ(g[1].dtype(), DType::Float64);
  // Rop goes through the L_op of the L_op: the JVP of x[idx] is v[idx].
  Var u = vector(DType::Float64, "u"), v = vector(DType::Float64, "v");
  Var r = Rop({subtensor(u, {IT::array(ivec({2, 0, 2}))})}, {u}, {v})[0];
  auto f = function({u, v}, {r}, FunctionOptions{.on_unused_input = "ignore"});
  EXPECT_EQ((*f)({Array::from_vector<double>({1, 2, 3}), Array::from_vector<double>({4, 5, 6})})[0]
                .to_double_vector(),
            (std::vector<double>{6, 4, 6}));
}
