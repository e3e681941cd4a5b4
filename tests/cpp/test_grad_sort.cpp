// Gradients of sort, argsort, cumsum, cumprod and diff.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <theon/autodiff/grad.h>
#include <theon/autodiff/verify_grad.h>
#include <theon/ops/sort.h>
#include <theon/theon.h>

using namespace theon;

namespace {
using Fn = std::function<Var(const std::vector<Var>&)>;

// Distinct values (a shuffled grid plus jitter far below the grid step), so
// sorting is stable under the finite-difference steps.
Array distinct(Shape s, uint64_t seed) {
  Array a = Array::empty(DType::Float64, s);
  std::mt19937_64 r(seed);
  std::vector<double> v(size_t(a.size()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.1 * double(i) - 1.0;
  std::shuffle(v.begin(), v.end(), r);
  for (int64_t i = 0; i < a.size(); ++i) a.data_as<double>()[i] = v[size_t(i)];
  return a;
}

Array randu(Shape s, uint64_t seed, double lo = -1, double hi = 1) {
  Array a = Array::empty(DType::Float64, s);
  std::mt19937_64 r(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  for (int64_t i = 0; i < a.size(); ++i) a.data_as<double>()[i] = u(r);
  return a;
}

void check(const Fn& f, const std::vector<Array>& pt, const char* what) {
  SCOPED_TRACE(what);
  EXPECT_NO_THROW(verify_grad(f, pt));
}

std::vector<double> grad_at(const std::function<Var(const Var&)>& cost_of, const Array& value) {
  Var x = tensor(DType::Float64, std::vector<int64_t>(value.ndim(), kUnknownDim), "x");
  return (*function({x}, {grad(cost_of(x), x)}))({value})[0].to_double_vector();
}
}  // namespace

TEST(GradSort, Sort) {
  check([](const std::vector<Var>& x) { return sort(x[0]); }, {distinct({6}, 1)}, "1-d");
  check([](const std::vector<Var>& x) { return sort(x[0], 0); }, {distinct({3, 4}, 2)}, "axis 0");
  check([](const std::vector<Var>& x) { return sort(x[0], -1); }, {distinct({3, 4}, 3)}, "axis -1");
  check([](const std::vector<Var>& x) { return sort(x[0], std::nullopt); }, {distinct({3, 4}, 4)}, "flattened");
  check([](const std::vector<Var>& x) { return sort(x[0], 1); }, {distinct({2, 3, 4}, 5)}, "3-d axis 1");
  // The largest element receives the gradient of the last position.
  auto g = grad_at([](const Var& x) { return sum(subtensor(sort(x), {IndexItem::integer(-1)})); },
                   Array::from_vector<double>({3, 9, 1}));
  EXPECT_EQ(g, (std::vector<double>{0, 1, 0}));
}

TEST(GradSort, ArgsortIsDisconnected) {
  Var x = vector(DType::Float64, "x");
  EXPECT_THROW(grad(sum(cast(argsort(x), DType::Float64)), x), std::invalid_argument);
  // Through the values only: d sum(x * argsort(x)) / dx = argsort(x).
  auto g = grad_at([](const Var& v) { return sum(v * cast(argsort(v), DType::Float64)); },
                   Array::from_vector<double>({3, 9, 1}));
  EXPECT_EQ(g, (std::vector<double>{2, 0, 1}));
}

TEST(GradSort, Cumsum) {
  check([](const std::vector<Var>& x) { return cumsum(x[0]); }, {randu({3, 4}, 6)}, "flattened");
  check([](const std::vector<Var>& x) { return cumsum(x[0], 0); }, {randu({3, 4}, 7)}, "axis 0");
  check([](const std::vector<Var>& x) { return cumsum(x[0], -1); }, {randu({2, 3, 4}, 8)}, "axis -1");
  EXPECT_EQ(grad_at([](const Var& x) { return sum(cumsum(x)); }, Array::from_vector<double>({1, 1, 1})),
            (std::vector<double>{3, 2, 1}));
}

TEST(GradSort, Cumprod) {
  check([](const std::vector<Var>& x) { return cumprod(x[0]); }, {randu({5}, 9, 0.5, 1.5)}, "1-d");
  check([](const std::vector<Var>& x) { return cumprod(x[0], 1); }, {randu({3, 4}, 10, -1.5, 1.5)}, "axis 1");
  check([](const std::vector<Var>& x) { return cumprod(x[0], 0); }, {randu({3, 4}, 11, -1.5, 1.5)}, "axis 0");
  // Zeros: one, two, and a lane starting with one.
  Array z = randu({3, 5}, 12, 0.5, 1.5);
  double* p = z.data_as<double>();
  p[2] = 0;            // lane 0: one zero
  p[6] = p[8] = 0;     // lane 1: two zeros
  p[10] = 0;           // lane 2: a zero first
  check([](const std::vector<Var>& x) { return cumprod(x[0], 1); }, {z}, "with zeros");
  EXPECT_EQ(grad_at([](const Var& x) { return sum(cumprod(x)); }, Array::from_vector<double>({2, 0, 3, 0, 5})),
            (std::vector<double>{1, 8, 0, 0, 0}));
}

TEST(GradSort, Diff) {
  check([](const std::vector<Var>& x) { return diff(x[0]); }, {randu({5}, 13)}, "n=1");
  check([](const std::vector<Var>& x) { return diff(x[0], 2, 0); }, {randu({5, 3}, 14)}, "n=2 axis 0");
  check([](const std::vector<Var>& x) { return diff(x[0], 3, -1); }, {randu({2, 3, 5}, 15)}, "n=3");
  check([](const std::vector<Var>& x) { return add(sum(diff(x[0], 4)), sum(x[0])); }, {randu({3}, 16)}, "n > len");
  EXPECT_EQ(grad_at([](const Var& x) { return sum(diff(x, 5)); }, Array::from_vector<double>({1, 2, 3})),
            (std::vector<double>{0, 0, 0}));
  // static length no larger than n: the gradient is zero
  Var s = tensor(DType::Float64, {2}, "s");
  auto f = function({s}, {grad(sum(diff(s, 2)) + sum(s), s)}, FunctionOptions{.on_unused_input = "ignore"});
  EXPECT_EQ((*f)({Array::from_vector<double>({1, 2})})[0].to_double_vector(), (std::vector<double>{1, 1}));
}
