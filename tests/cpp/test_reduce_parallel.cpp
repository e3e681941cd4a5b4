// The fast reduction paths: vectorized runs, threads over rows, chunked full
// reductions and leading-axis (column) reductions — against a plain reference,
// bit-identical for any thread count, NaN and integer wrap-around as NumPy.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <theon/runtime/thread_pool.h>
#include <theon/theon.h>

using namespace theon;

namespace {

Array random_f32(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(0, 1);
  Array a = Array::empty(DType::Float32, shape);
  for (int64_t i = 0; i < a.size(); ++i) a.data_as<float>()[i] = float(d(rng));
  return a;
}

Array run(ReduceKind kind, const Array& x, const Axes& axes) {
  Var v = tensor(x.dtype(), std::vector<int64_t>(size_t(x.ndim()), -1), "x");
  return eval(reduce(kind, v, axes), {{v, x}});
}

// Reference: float64 accumulation over the reduced axes of a 2-d array.
std::vector<double> reference(ReduceKind kind, const Array& x, int axis) {
  Array d = x.astype(DType::Float64);
  int64_t R = x.shape()[0], C = x.shape()[1];
  const double* p = d.data_as<double>();
  int64_t outer = axis == 0 ? C : R, inner = axis == 0 ? R : C;
  std::vector<double> out;
  for (int64_t o = 0; o < outer; ++o) {
    double acc = kind == ReduceKind::Max ? -INFINITY : 0;
    for (int64_t i = 0; i < inner; ++i) {
      double v = axis == 0 ? p[i * C + o] : p[o * C + i];
      if (kind == ReduceKind::Max) acc = std::max(acc, v);
      else acc += v;
    }
    out.push_back(kind == ReduceKind::Mean ? acc / double(inner) : acc);
  }
  return out;
}

void expect_bits_equal(const Array& a, const Array& b) {
  ASSERT_EQ(a.shape(), b.shape());
  ASSERT_EQ(std::memcmp(a.data(), b.data(), a.nbytes()), 0) << "results differ between thread counts";
}

}  // namespace

TEST(ReduceParallel, RowsColumnsAndFullAgreeWithReferenceForAnyThreadCount) {
  Array x = random_f32({300, 1031}, 7);
  for (ReduceKind kind : {ReduceKind::Sum, ReduceKind::Mean, ReduceKind::Max}) {
    for (int axis : {0, 1}) {
      set_num_threads(1);
      Array one = run(kind, x, std::vector<int>{axis});
      set_num_threads(2);
      Array two = run(kind, x, std::vector<int>{axis});
      expect_bits_equal(one, two);
      auto want = reference(kind, x, axis);
      ASSERT_EQ(size_t(two.size()), want.size());
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(two.item_double(int64_t(i)), want[i], 1e-4 * (1 + std::abs(want[i]))) << "axis " << axis;
    }
  }
  // A full reduction long enough to be split into chunks.
  Array big = random_f32({1 << 19}, 8);
  set_num_threads(1);
  Array s1 = run(ReduceKind::Sum, big, std::nullopt), m1 = run(ReduceKind::Max, big, std::nullopt);
  set_num_threads(2);
  Array s2 = run(ReduceKind::Sum, big, std::nullopt), m2 = run(ReduceKind::Max, big, std::nullopt);
  expect_bits_equal(s1, s2);
  expect_bits_equal(m1, m2);
  double ref = 0, mx = -INFINITY;
  for (int64_t i = 0; i < big.size(); ++i) {
    ref += big.data_as<float>()[i];
    mx = std::max(mx, double(big.data_as<float>()[i]));
  }
  EXPECT_NEAR(s2.item_double(), ref, 1e-3);
  EXPECT_EQ(m2.item_double(), mx);
  set_num_threads(0);
}

TEST(ReduceParallel, NanWinsOnEveryPath) {
  for (Shape shape : {Shape{64, 40}, Shape{1 << 18}}) {
    Array x = random_f32(shape, 9);
    x.data_as<float>()[x.size() - 3] = std::numeric_limits<float>::quiet_NaN();
    std::vector<Axes> axes_list{std::nullopt, std::vector<int>{0}};
    if (shape.size() == 2) axes_list.push_back(std::vector<int>{1});
    for (const Axes& axes : axes_list)
      for (ReduceKind kind : {ReduceKind::Max, ReduceKind::Min, ReduceKind::Sum}) {
        Array r = run(kind, x, axes);
        bool any_nan = false;
        for (int64_t i = 0; i < r.size(); ++i) any_nan |= std::isnan(r.item_double(i));
        EXPECT_TRUE(any_nan) << "shape " << shape_str(shape);
      }
  }
}

TEST(ReduceParallel, IntegerSumsWrapAndProductsOverLeadingAxes) {
  Array x = Array::full(DType::Int64, {4, 3}, double(std::numeric_limits<int64_t>::max() / 2 + 1));
  Array s = run(ReduceKind::Sum, x, std::vector<int>{0});  // 4 * 2^62 wraps to 0, as NumPy
  for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(s.data_as<int64_t>()[i], 0);
  Array y = Array::full(DType::Int32, {5, 2}, 3.0);
  Array p = run(ReduceKind::Prod, y, std::vector<int>{0});
  EXPECT_EQ(p.dtype(), DType::Int64);
  EXPECT_EQ(p.data_as<int64_t>()[1], 243);
  Array u = Array::full(DType::UInt8, {300, 2}, 200.0);
  EXPECT_EQ(run(ReduceKind::Sum, u, std::vector<int>{0}).item_double(0), 60000.0);
}
