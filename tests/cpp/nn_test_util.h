// Helpers of the theon::nn tests: random arrays, element access, closeness checks.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include <theon/nn.h>
#include <theon/theon.h>

namespace nn_test {

inline theon::Array randn(const std::vector<int64_t>& shape, uint64_t seed, theon::DType dt = theon::DType::Float64,
                          double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0.0, scale);
  int64_t size = 1;
  for (int64_t d : shape) size *= d;
  std::vector<double> v(static_cast<size_t>(size));
  for (auto& x : v) x = n(rng);
  theon::Array a = theon::Array::from_vector(v, shape);
  return dt == theon::DType::Float64 ? a : a.astype(dt);
}

inline std::vector<double> vals(const theon::Array& a) { return a.to_double_vector(); }

inline void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol,
                         const char* what = "") {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1 + std::fabs(want[i]))) << what << " at flat index " << i;
}

// A float64 input variable with a fully static shape (layers build from static shapes).
inline theon::Var input_like(const theon::Array& a, const char* name = "x") {
  return theon::tensor(a.dtype(), a.shape(), name);
}

}  // namespace nn_test
