// Device kernels of the nnet ops against the CPU's perform: Softmax and
// LogSoftmax along every axis (rows of infinities and NaN included), the
// one-hot cross-entropy and its gradient op, and the fused
// SoftmaxCrossentropy1Hot and its gradient op (with and without negative
// indices wrapping), over float dtypes, integer inputs and strided layouts.
// An index out of range sets the kernel error flag (run_on_device throws).
#include <gtest/gtest.h>

#include "cuda_kernel_random_inputs.h"
#include "theon/ops/nnet.h"
#include "theon/ops/nnet_fused.h"

namespace theon::testing {
namespace {

class CudaNnetKernels : public CudaDeviceTest {};

Var input_var(DType d, int ndim) {
  return tensor(d, std::vector<int64_t>(size_t(ndim), kUnknownDim));
}

double tolerance(DType d) {
  if (d == DType::Float16 || d == DType::BFloat16) return 1e-2;
  if (d == DType::Float32) return 1e-5;
  return 1e-12;
}

// A shape of 1..3 dims whose last dim (the classes) is at least 1.
Shape class_shape(std::mt19937& rng) {
  Shape s = random_shape(rng, 3);
  if (s.empty()) s.push_back(4);
  if (s.back() == 0) s.back() = 3;
  return s;
}

Array class_indices(const Shape& lead, int64_t k, std::mt19937& rng, DType d, bool negative) {
  std::vector<double> v(size_t(shape_size(lead)));
  std::uniform_int_distribution<int64_t> pick(negative ? -k : 0, k - 1);
  for (double& x : v) x = double(pick(rng));
  return Array::from_vector<double>(v, lead).astype(d);
}

TEST_F(CudaNnetKernels, SoftmaxAndLogSoftmaxAlongAnyAxis) {
  std::mt19937 rng(3);
  for (bool log : {false, true})
    for (DType d : {DType::Float32, DType::Float64, DType::Float16, DType::Int32}) {
      for (int c = 0; c < 10; ++c) {
        Shape s = random_shape(rng, 3);
        if (s.empty()) s.push_back(5);
        const int axis = int(rng() % s.size());
        Var x = input_var(d, int(s.size()));
        Var y = log ? log_softmax(x, axis) : softmax(x, axis);
        const Array host = random_values(d, s, rng, c % 3 == 0);
        const Array dev = device_layout(host, int(rng() % 5));
        SCOPED_TRACE(y.owner()->op->name() + " of " + std::string(dtype_name(d)) + " " +
                     shape_str(s));
        expect_matches_cpu(*y.owner(), {dev}, tolerance(nnet_float_dtype(d)));
      }
    }
  // Large logits stay finite; a row of -inf is NaN as on the CPU.
  Array big =
      Array::from_vector<double>({1000, 999, -1000, -INFINITY, -INFINITY, -INFINITY}, {2, 3});
  Var x = input_var(DType::Float64, 2);
  expect_matches_cpu(*softmax(x, 1).owner(), {big}, 1e-12);
  expect_matches_cpu(*log_softmax(x, 1).owner(), {big}, 1e-12);
}

TEST_F(CudaNnetKernels, CrossentropyCategorical1HotAndGrad) {
  std::mt19937 rng(5);
  for (DType d : {DType::Float32, DType::Float64, DType::Float16}) {
    for (int c = 0; c < 8; ++c) {
      const Shape s = class_shape(rng);
      const Shape lead(s.begin(), s.end() - 1);
      const int nd = int(s.size());
      Array coding = random_values(DType::Float64, s, rng);
      coding = Array::from_vector<double>(
                   [&] {
                     std::vector<double> v = coding.to_double_vector();
                     for (double& x : v) x = 0.05 + std::abs(x);
                     return v;
                   }(),
                   s)
                   .astype(d);
      const DType yd = c % 2 ? DType::Int32 : DType::Int64;
      const Array y = class_indices(lead, s.back(), rng, yd, false);
      Var cv = input_var(d, nd), yv = input_var(yd, nd - 1), gv = input_var(d, nd - 1);
      SCOPED_TRACE(std::string(dtype_name(d)) + " " + shape_str(s));
      Var out = crossentropy_categorical_1hot(cv, yv);
      expect_matches_cpu(*out.owner(),
                         {device_layout(coding, int(rng() % 4)), device_layout(y, int(rng() % 4))},
                         tolerance(d));
      Var grad = apply1(std::make_shared<CrossentropyCategorical1HotGrad>(), {gv, cv, yv});
      const Array g = random_values(d, lead, rng);
      expect_matches_cpu(
          *grad.owner(),
          {device_layout(g, int(rng() % 4)), device_layout(coding, int(rng() % 4)), y},
          tolerance(d));
    }
  }
  // An index out of range sets the error flag.
  Var cv = input_var(DType::Float32, 2), yv = input_var(DType::Int64, 1);
  Array coding = Array::full(DType::Float32, {2, 3}, 0.5);
  Array bad = Array::from_vector<int64_t>({0, 3}, {2});
  EXPECT_THROW(run_on_device(*crossentropy_categorical_1hot(cv, yv).owner(), {coding, bad}),
               std::invalid_argument);
  // No classes: every index is out of range, as on the CPU.
  Array none = Array::zeros(DType::Float32, {2, 0});
  Array zeros = Array::from_vector<int64_t>({0, 0}, {2});
  EXPECT_THROW(run_on_device(*crossentropy_categorical_1hot(cv, yv).owner(), {none, zeros}),
               std::out_of_range);
}

TEST_F(CudaNnetKernels, SoftmaxCrossentropy1HotAndGrad) {
  std::mt19937 rng(9);
  for (bool wraps : {false, true})
    for (DType d : {DType::Float32, DType::Float64, DType::BFloat16, DType::Int16}) {
      for (int c = 0; c < 8; ++c) {
        const Shape s = class_shape(rng);
        const Shape lead(s.begin(), s.end() - 1);
        const int nd = int(s.size());
        const Array z = random_values(d, s, rng, c == 3 && is_float(d));
        const Array y = class_indices(lead, s.back(), rng, DType::Int64, wraps);
        Var zv = input_var(d, nd), yv = input_var(DType::Int64, nd - 1);
        SCOPED_TRACE(std::string(dtype_name(d)) + " " + shape_str(s) + (wraps ? " wrap" : ""));
        Var out = softmax_crossentropy_1hot(zv, yv, wraps);
        expect_matches_cpu(*out.owner(),
                           {device_layout(z, int(rng() % 5)), device_layout(y, int(rng() % 4))},
                           tolerance(nnet_float_dtype(d)));
        if (!is_float(d)) continue;
        Var smv = input_var(d, nd), gv = input_var(d, nd - 1);
        Var grad = softmax_crossentropy_1hot_grad(gv, smv, yv, wraps);
        const Array g = random_values(d, lead, rng);
        const Array sm = random_values(d, s, rng);
        expect_matches_cpu(*grad.owner(),
                           {device_layout(g, int(rng() % 5)), device_layout(sm, int(rng() % 5)), y},
                           tolerance(d));
      }
    }
  Var zv = input_var(DType::Float32, 2), yv = input_var(DType::Int64, 1);
  Array z = Array::full(DType::Float32, {2, 3}, 0.5);
  Array neg = Array::from_vector<int64_t>({0, -1}, {2});
  EXPECT_THROW(run_on_device(*softmax_crossentropy_1hot(zv, yv, false).owner(), {z, neg}),
               std::invalid_argument);
  expect_matches_cpu(*softmax_crossentropy_1hot(zv, yv, true).owner(), {z, neg}, 1e-6);
}

}  // namespace
}  // namespace theon::testing
