// Sorting and scans: known values, NaN order, dtypes, strided inputs.
#include <gtest/gtest.h>

#include <cmath>

#include <theon/ops/sort.h>
#include <theon/theon.h>

using namespace theon;

TEST(Sort, ValuesAxesAndNaN) {
  Var x = matrix(DType::Float64, "x");
  const double nan = std::nan("");
  Array xv = Array::from_vector<double>({3, nan, 1, 2, 0, -1}, {2, 3});
  auto v = eval(sort(x), {{x, xv}}).to_double_vector();
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[1], 3);
  EXPECT_TRUE(std::isnan(v[2]));
  EXPECT_EQ((std::vector<double>(v.begin() + 3, v.end())), (std::vector<double>{-1, 0, 2}));
  EXPECT_EQ(eval(sort(x, 0), {{x, Array::from_vector<double>({3, 1, 2, 0}, {2, 2})}}).to_double_vector(),
            (std::vector<double>{2, 0, 3, 1}));
  Var flat = sort(x, std::nullopt);
  EXPECT_EQ(flat.ndim(), 1);
  Array s = eval(argsort(x), {{x, xv}});
  EXPECT_EQ(s.dtype(), DType::Int64);
  EXPECT_EQ(s.to_double_vector(), (std::vector<double>{2, 0, 1, 2, 1, 0}));
  EXPECT_THROW(sort(x, 2), std::invalid_argument);
}

TEST(Sort, ArgsortIsStableOnViews) {
  Var x = vector(DType::Int8, "x");
  Array base = Array::from_vector<int8_t>({1, 9, 0, 9, 1, 9, 0, 9});
  Array view = base.slice(0, 6, -1 - 8, -2);  // base[6::-2] = [0, 1, 0, 1]
  EXPECT_EQ(eval(argsort(x), {{x, view}}).to_double_vector(), (std::vector<double>{0, 2, 1, 3}));
}

TEST(Sort, CumsumCumprodDtypes) {
  Var x = matrix(DType::Int8, "x");
  Var c = cumsum(x, 1);
  EXPECT_EQ(c.dtype(), DType::Int64);
  Array xv = Array::from_vector<int8_t>({100, 100, 100, 1, 2, 3}, {2, 3});
  EXPECT_EQ(eval(c, {{x, xv}}).to_double_vector(), (std::vector<double>{100, 200, 300, 1, 3, 6}));
  EXPECT_EQ(eval(cumprod(x), {{x, xv}}).to_double_vector(),
            (std::vector<double>{100, 10000, 1000000, 1000000, 2000000, 6000000}));
  EXPECT_EQ(cumsum(matrix(DType::UInt16)).dtype(), DType::UInt64);
  EXPECT_EQ(cumsum(matrix(DType::Float16)).dtype(), DType::Float16);
  EXPECT_EQ(cumsum(matrix(DType::Bool)).dtype(), DType::Int64);
  Var s = scalar(DType::Float32);
  EXPECT_EQ(cumsum(s).type(), TensorType(DType::Float32, {1}));
}

TEST(Sort, Diff) {
  Var x = matrix(DType::UInt8, "x");
  Array xv = Array::from_vector<uint8_t>({1, 4, 2, 0, 0, 5}, {2, 3});
  Var d = diff(x);
  EXPECT_EQ(d.type(), TensorType(DType::UInt8, {-1, -1}));
  EXPECT_EQ(eval(d, {{x, xv}}).to_double_vector(), (std::vector<double>{3, 254, 0, 5}));
  EXPECT_EQ(eval(diff(x, 1, 0), {{x, xv}}).to_double_vector(), (std::vector<double>{255, 252, 3}));
  EXPECT_EQ(eval(diff(x, 5), {{x, xv}}).shape(), (Shape{2, 0}));
  EXPECT_EQ(diff(tensor(DType::Float32, {4, 7}), 2).type(), TensorType(DType::Float32, {4, 5}));
  Var b = vector(DType::Bool, "b");
  EXPECT_EQ(eval(diff(b), {{b, Array::from_vector<bool>({true, true, false})}}).to_double_vector(),
            (std::vector<double>{0, 1}));
  EXPECT_THROW(diff(scalar(DType::Float32)), std::invalid_argument);
  try {
    diff(x, -1);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[diff] order must be non-negative but got -1"), std::string::npos);
  }
  EXPECT_TRUE(shape_i(diff(tensor(DType::Float32, {-1, 3})), 1).is_constant());
}
