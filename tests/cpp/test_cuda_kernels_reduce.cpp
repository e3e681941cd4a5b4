// Device kernels of the reductions (Reduce), scans (CumOp) and ReduceToShape against the
// CPU's perform: random shapes with 0- and 1-sized dims, random axis sets and
// keepdims, transposed / strided / offset / broadcast device inputs, NaN and
// infinities for max, min, argmax and argmin, `initial`, and the dtypes each
// kind accepts (a few per kind: each (kind, dtype) is one emulator program).
// Runs on the GPU when there is one, else on the host emulator (blockDim 1;
// the block tree is compiled for every blockDim by the NVRTC tests).
#include <gtest/gtest.h>

#include "cuda_kernel_random_inputs.h"
#include "theon/autodiff/grad.h"
#include "theon/ops/reduce.h"
#include "theon/ops/sort.h"

namespace theon::testing {
namespace {

class CudaReduceKernels : public CudaDeviceTest {};

double tolerance(ReduceKind k, DType d) {
  if (k == ReduceKind::Max || k == ReduceKind::Min || k == ReduceKind::ArgMax ||
      k == ReduceKind::ArgMin || (!is_float(d) && k != ReduceKind::Mean))
    return 0;
  if (d == DType::Float16 || d == DType::BFloat16) return 1e-2;
  if (d == DType::Float32) return 2e-5;
  return 1e-10;
}

Var input_var(DType d, int ndim) {
  return tensor(d, std::vector<int64_t>(size_t(ndim), kUnknownDim));
}

// `cases` random reductions of kind k over dtype d.
void check_reduce(ReduceKind k, DType d, int cases, unsigned seed,
                  std::optional<double> initial = {}) {
  std::mt19937 rng(seed);
  const bool arg = k == ReduceKind::ArgMax || k == ReduceKind::ArgMin;
  const bool specials = k == ReduceKind::Max || k == ReduceKind::Min || arg || k == ReduceKind::Any;
  for (int c = 0; c < cases; ++c) {
    const Shape shape = random_shape(rng);
    const int nd = int(shape.size());
    std::vector<int> axes;
    if (arg) {
      if (nd == 0) continue;
      axes.push_back(int(rng() % unsigned(nd)));
    } else {
      for (int i = 0; i < nd; ++i)
        if (rng() % 2) axes.push_back(i);
    }
    const bool keepdims = rng() % 3 == 0;
    Var x = input_var(d, nd);
    Var y = make1<Reduce>({x}, k, axes, keepdims, initial);
    const Array host = random_values(d, shape, rng, specials);
    const Array dev = device_layout(host, int(rng() % 5));
    SCOPED_TRACE(y.owner()->op->name() + " of " + std::string(dtype_name(d)) + " " +
                 shape_str(shape) + " strides " + shape_str(dev.strides()));
    int64_t n = 1;
    for (int a : axes) n *= shape[size_t(a)];
    const bool no_identity = arg || ((k == ReduceKind::Max || k == ReduceKind::Min) && !initial);
    if (n == 0 && no_identity) {
      EXPECT_THROW(run_on_device(*y.owner(), {dev}), std::invalid_argument);
      continue;
    }
    expect_matches_cpu(*y.owner(), {dev}, tolerance(k, d));
  }
}

TEST_F(CudaReduceKernels, SumEveryDtype) {
  unsigned seed = 1;
  for (DType d : {DType::Bool, DType::Int8, DType::Int16, DType::Int32, DType::Int64, DType::UInt8,
                  DType::UInt16, DType::UInt32, DType::UInt64, DType::Float16, DType::BFloat16,
                  DType::Float32, DType::Float64})
    check_reduce(ReduceKind::Sum, d, 12, seed++);
}

TEST_F(CudaReduceKernels, ProdAndMean) {
  for (DType d : {DType::Int8, DType::UInt32, DType::Float16, DType::Float32})
    check_reduce(ReduceKind::Prod, d, 12, 20);
  for (DType d : {DType::Int32, DType::Float16, DType::Float64})
    check_reduce(ReduceKind::Mean, d, 12, 30);
}

TEST_F(CudaReduceKernels, MaxMinPropagateNaN) {
  for (DType d :
       {DType::Bool, DType::Int8, DType::UInt64, DType::Float32, DType::BFloat16, DType::Float64})
    check_reduce(ReduceKind::Max, d, 12, 40);
  for (DType d : {DType::Int64, DType::Float32, DType::Float16})
    check_reduce(ReduceKind::Min, d, 12, 50);
}

TEST_F(CudaReduceKernels, MaxWithInitialReducesNothingToIt) {
  check_reduce(ReduceKind::Max, DType::Float32, 16, 60, -std::numeric_limits<double>::infinity());
  check_reduce(ReduceKind::Min, DType::Int64, 16, 61, 5.0);
}

TEST_F(CudaReduceKernels, AllAny) {
  for (DType d : {DType::Bool, DType::Float32, DType::Int16})
    check_reduce(ReduceKind::All, d, 12, 70);
  for (DType d : {DType::Bool, DType::Float32}) check_reduce(ReduceKind::Any, d, 12, 80);
}

TEST_F(CudaReduceKernels, ArgMaxArgMinFirstIndex) {
  for (DType d : {DType::Int32, DType::Float32, DType::Float16, DType::Float64})
    check_reduce(ReduceKind::ArgMax, d, 14, 90);
  for (DType d : {DType::UInt8, DType::Float64}) check_reduce(ReduceKind::ArgMin, d, 14, 100);
  // Ties: the first index wins; NaN wins, the first NaN among NaNs.
  Array t = Array::from_vector<double>({1, 3, 3, 0, std::nan(""), 2, std::nan(""), 1, 5, 5, 5, 5},
                                       {3, 4});
  Var x = input_var(DType::Float64, 2);
  for (ReduceKind k : {ReduceKind::ArgMax, ReduceKind::ArgMin})
    for (int axis : {0, 1})
      expect_matches_cpu(*make1<Reduce>({x}, k, std::vector<int>{axis}, false).owner(), {t});
  Array got = run_on_device(
      *make1<Reduce>({x}, ReduceKind::ArgMax, std::vector<int>{1}, false).owner(), {t})[0];
  EXPECT_EQ(got.to_int_vector(), (std::vector<int64_t>{1, 0, 0}));
}

TEST_F(CudaReduceKernels, LongReductionsAndManyRows) {
  std::mt19937 rng(7);
  Var x = input_var(DType::Float32, 2);
  for (const Shape& s : {Shape{3, 100000}, Shape{5000, 40}, Shape{40, 5000}, Shape{9000, 300}}) {
    const Array host = random_values(DType::Float32, s, rng);
    for (int axis : {0, 1}) {
      SCOPED_TRACE(shape_str(s) + " axis " + std::to_string(axis));
      expect_matches_cpu(*sum(x, std::vector<int>{axis}).owner(), {host}, 2e-5);
      expect_matches_cpu(*max(x, std::vector<int>{axis}).owner(), {device_transposed(host)});
    }
  }
  // Whole-array reductions split into chunks (partials, then one combine).
  for (auto [k, d] : std::vector<std::pair<ReduceKind, DType>>{{ReduceKind::Sum, DType::Int8},
                                                               {ReduceKind::Mean, DType::Float16},
                                                               {ReduceKind::Max, DType::Float64},
                                                               {ReduceKind::ArgMax, DType::Float32},
                                                               {ReduceKind::All, DType::Bool}}) {
    const Array host = random_values(d, {2, 150001}, rng, k == ReduceKind::Max);
    Var v = input_var(d, 2);
    SCOPED_TRACE(std::string(dtype_name(d)));
    expect_matches_cpu(*make1<Reduce>({v}, k, std::vector<int>{1}, false).owner(),
                       {device_strided(host)}, tolerance(k, d));
    if (k != ReduceKind::ArgMax)
      expect_matches_cpu(*make1<Reduce>({v}, k, std::vector<int>{0, 1}, true).owner(), {host},
                         tolerance(k, d));
  }
  Var xi = input_var(DType::Int64, 1);
  Array big = Array::full(DType::Int64, {1000}, double(int64_t(1) << 62));
  expect_matches_cpu(*sum(xi).owner(), {big});  // wraps as NumPy
}

// ---- CumOp ----

void check_cum(bool is_sum, DType d, int cases, unsigned seed) {
  std::mt19937 rng(seed);
  for (int c = 0; c < cases; ++c) {
    const Shape shape = random_shape(rng);
    if (shape.empty()) continue;
    const int axis = int(rng() % shape.size());
    Var x = input_var(d, int(shape.size()));
    Var y = make1<CumOp>({x}, is_sum ? CumKind::Sum : CumKind::Prod, axis);
    const Array host = random_values(d, shape, rng);
    const Array dev = device_layout(host, int(rng() % 5));
    SCOPED_TRACE(y.owner()->op->name() + " of " + std::string(dtype_name(d)) + " " +
                 shape_str(shape));
    expect_matches_cpu(*y.owner(), {dev}, d == DType::Float64 || d == DType::Float32 ? 1e-6 : 0);
  }
}

TEST_F(CudaReduceKernels, CumSumCumProd) {
  unsigned seed = 200;
  for (DType d :
       {DType::Bool, DType::Int8, DType::UInt16, DType::Int64, DType::Float32, DType::Float16})
    check_cum(true, d, 10, seed++);
  for (DType d : {DType::Int32, DType::Float64}) check_cum(false, d, 10, seed++);
}

// ---- ReduceToShape (autodiff's sum over broadcast axes) ----

TEST_F(CudaReduceKernels, ReduceToShapeSumsBroadcastAxesInTheGradientDtype) {
  std::mt19937 rng(500);
  for (DType d : {DType::Float32, DType::Int8, DType::Float16, DType::Bool}) {
    Var g = input_var(d, 3), like = input_var(d, 3);
    Var r = sum_to_like(g, like);
    ASSERT_EQ(r.owner()->op->name(), "ReduceToShape");
    for (const auto& [gs, target] :
         std::vector<std::pair<Shape, std::vector<int64_t>>>{{{4, 5, 6}, {4, 1, 6}},
                                                             {{4, 5, 6}, {1, 1, 1}},
                                                             {{2, 3, 7}, {3, 1}},
                                                             {{2, 3, 7}, {7}},
                                                             {{0, 3, 2}, {3, 2}},
                                                             {{3, 0, 2}, {1, 0, 1}},
                                                             {{2, 3, 4}, {2, 3, 4}}}) {
      SCOPED_TRACE(std::string(dtype_name(d)) + " " + shape_str(gs) + " to " + shape_str(target));
      const Array host = random_values(d, gs, rng);
      const Array t = Array::from_vector<int64_t>(target, {int64_t(target.size())});
      expect_matches_cpu(*r.owner(), {device_layout(host, int(rng() % 5)), t},
                         tolerance(ReduceKind::Sum, d));
    }
  }
}

}  // namespace
}  // namespace theon::testing
