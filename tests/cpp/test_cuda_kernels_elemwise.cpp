// Device kernels of the elemwise family (src/backend/cuda/kernels/elemwise.cpp):
// Elemwise, Cast and Composite nodes run through their DeviceKernel on the
// GPU or the host emulator and compared with the CPU's perform, on
// contiguous, transposed, strided, offset and broadcast device inputs,
// 0-size and 0-d shapes, every dtype of the table's programs, the integer
// power error and exact signed/unsigned comparisons.
#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <set>

#include "cuda_kernel_test_util.h"
#include "cuda_test_programs.h"
#include "theon/ops/composite.h"
#include "theon/ops/composite_reduce.h"
#include "theon/ops/elemwise.h"

namespace theon::testing {
namespace {

using CudaElemwiseKernels = CudaDeviceTest;

// Values of dtype d: random in [-4, 4] (integers in [-40, 40], unsigned
// wrapping), with zeros, ones and NaN among them for floats.
Array values(DType d, const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-4, 4);
  std::vector<double> v(size_t(shape_size(shape)));
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = u(rng);
    if (!is_float(d)) v[i] = std::round(v[i] * 10);
    if (i % 7 == 3) v[i] = 0;
    if (i % 11 == 5) v[i] = 1;
    if (is_float(d) && i % 13 == 6) v[i] = std::numeric_limits<double>::quiet_NaN();
  }
  if (is_integer(d) && !is_float(d)) {
    std::vector<int64_t> iv(v.begin(), v.end());
    return Array::from_vector(iv, shape).astype(d);
  }
  return Array::from_vector(v, shape).astype(d);
}

// Tolerance for transcendental functions (host libm or CUDA's vs SLEEF).
double rtol_of(DType d) {
  switch (d) {
    case DType::Float64:
      return 1e-12;
    case DType::Float32:
      return 4e-6;
    case DType::Float16:
      return 2e-3;
    case DType::BFloat16:
      return 1e-2;
    default:
      return 0;
  }
}

const ApplyNode& node_of(const Var& v) {
  return *v.owner();
}

std::vector<Var> vars_for(const std::vector<Array>& ins) {
  std::vector<Var> vs;
  for (const Array& a : ins) vs.push_back(tensor(a.dtype(), a.shape()));
  return vs;
}

// Every table op, grouped into programs per dtype (ops whose kernel
// instantiation an earlier dtype covered are left out), on device inputs of
// different layouts: C-contiguous, transposed, strided, at an offset.
TEST_F(CudaElemwiseKernels, EveryTableOpInEveryDtypeMatchesTheCpu) {
  std::set<std::pair<int, int>> seen;
  const Shape shape = {5, 6};
  for (DType d : all_dtypes()) {
    for (const auto& c : table_programs(d, 44, /*skip_pow=*/true, &seen)) {
      std::vector<Array> host;
      for (int i = 0; i < c->num_inputs(); ++i)
        host.push_back(values(c->program().inputs[size_t(i)], shape, 100 + uint64_t(i)));
      std::vector<Var> outs = theon::apply(c, vars_for(host));
      const ApplyNode& node = node_of(outs[0]);
      const double rtol = rtol_of(d) > 0 ? rtol_of(d) : rtol_of(DType::Float32);
      SCOPED_TRACE(std::string(dtype_name(d)) + ": " + c->program_str().substr(0, 200));
      expect_matches_cpu(node, host, is_float(d) ? rtol : 4e-6);
      expect_matches_cpu(
          node,
          {device_transposed(host[0]), device_strided(host[1]), device_offset(host[2]), host[3]},
          is_float(d) ? rtol : 4e-6);
    }
  }
}

TEST_F(CudaElemwiseKernels, ElemwiseBroadcastsAndHandlesEmptyAndScalarShapes) {
  auto check = [](const std::vector<Array>& ins) {
    Var out = elemwise(ScalarOpId::add, vars_for(ins));
    expect_matches_cpu(node_of(out), ins);
  };
  const Array m = values(DType::Float32, {4, 7}, 1), row = values(DType::Float32, {7}, 2);
  const Array col = values(DType::Float32, {4, 1}, 3);
  check({m, row});
  check({col, row});                                             // both broadcast
  check({device_transposed(m), device_broadcast(row, {4, 7})});  // stride 0 on the device
  check({device_strided(m), device_offset(col)});
  check({values(DType::Float32, {0, 7}, 4), row});                        // 0-size dim
  check({values(DType::Float32, {}, 5), values(DType::Float32, {}, 6)});  // 0-d
  check({values(DType::Float32, {}, 5), m});
  // A negative-step view on the device.
  check({device_view(m, [](const Array& a) { return a.slice(1, 6, -8, -1); }), row});
  // Many dims that merge into few.
  const Array big = values(DType::Float32, {2, 1, 3, 2, 1, 2, 2, 1, 2, 2}, 7);
  check({big, values(DType::Float32, {2}, 8)});
}

// Random broadcasting shapes (0-size dims included) and random device layouts.
TEST_F(CudaElemwiseKernels, RandomShapesAndLayouts) {
  std::mt19937_64 rng(3);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  auto layout = [&](const Array& h) -> Array {
    switch (pick(0, 4)) {
      case 0:
        return device_transposed(h);
      case 1:
        return device_strided(h);
      case 2:
        return device_offset(h);
      case 3:  // every axis reversed
        return device_view(h, [](const Array& a) {
          Array r = a;
          for (int d = 0; d < a.ndim(); ++d)
            r = r.slice(d, a.shape()[size_t(d)] - 1, -a.shape()[size_t(d)] - 1, -1);
          return r;
        });
      default:
        return h;
    }
  };
  for (int trial = 0; trial < 30; ++trial) {
    const int nd = int(pick(0, 4));
    Shape full;
    for (int d = 0; d < nd; ++d) full.push_back(pick(trial % 6 == 5 ? 0 : 1, 5));
    std::vector<Array> host;
    for (int k = 0; k < 2; ++k) {
      Shape s;
      for (int d = int(pick(0, nd)); d < nd; ++d)
        s.push_back(pick(0, 2) == 0 ? 1 : full[size_t(d)]);
      host.push_back(values(trial % 2 ? DType::Float32 : DType::Int16, s, uint64_t(trial * 2 + k)));
    }
    SCOPED_TRACE(shape_str(host[0].shape()) + " and " + shape_str(host[1].shape()));
    const ScalarOpId id = trial % 2 ? ScalarOpId::add : ScalarOpId::int_div;
    expect_matches_cpu(node_of(elemwise(id, vars_for(host))), {layout(host[0]), layout(host[1])});
  }
}

TEST_F(CudaElemwiseKernels, SingleElemwiseNodesOfMixedDtypes) {
  const Array a = values(DType::Int8, {3, 5}, 1), b = values(DType::Float16, {5}, 2);
  expect_matches_cpu(node_of(elemwise(ScalarOpId::mul, vars_for({a, b}))), {a, b});
  const Array c = values(DType::UInt8, {3, 5}, 3), d = values(DType::Int32, {3, 1}, 4);
  expect_matches_cpu(node_of(elemwise(ScalarOpId::int_div, vars_for({c, d}))), {c, d});
  const Array e = values(DType::BFloat16, {3, 5}, 5);
  expect_matches_cpu(node_of(elemwise(ScalarOpId::exp, vars_for({e}))), {device_transposed(e)},
                     rtol_of(DType::BFloat16));
  const Array cond = values(DType::Bool, {3, 5}, 6);
  expect_matches_cpu(node_of(elemwise(ScalarOpId::switch_, vars_for({cond, a, c}))), {cond, a, c});
}

TEST_F(CudaElemwiseKernels, CastsMatchTheCpu) {
  const Array x = values(DType::Float64, {6, 5}, 9);
  for (DType to : {DType::Int8, DType::UInt64, DType::Float16, DType::BFloat16, DType::Bool}) {
    Var out = cast(tensor(DType::Float64, {6, 5}), to);
    expect_matches_cpu(node_of(out), {device_transposed(x)});
  }
  const Array h = values(DType::Float16, {7}, 10);
  expect_matches_cpu(node_of(cast(tensor(DType::Float16, {7}), DType::Int32)), {h});
}

TEST_F(CudaElemwiseKernels, IntegerPowerOfANegativeExponentRaisesAsTheCpu) {
  const Array a = Array::from_vector<int32_t>({2, 3, 4}),
              ok = Array::from_vector<int32_t>({3, 0, 2});
  Var out = elemwise(ScalarOpId::pow, vars_for({a, ok}));
  expect_matches_cpu(node_of(out), {a, ok});
  const Array bad = Array::from_vector<int32_t>({1, -1, 2});
  std::vector<Array> cpu(1);
  std::string cpu_msg;
  try {
    node_of(out).op->perform({a, bad}, cpu);
  } catch (const std::exception& e) {
    cpu_msg = e.what();
  }
  ASSERT_FALSE(cpu_msg.empty());
  try {
    run_on_device(node_of(out), {a, bad});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), cpu_msg);
  }
}

TEST_F(CudaElemwiseKernels, SignedUnsignedComparisonsAreExact) {
  const Array s = Array::from_vector<int64_t>(
      {-1, 0, 1, std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(), 5});
  const Array u =
      Array::from_vector<uint64_t>({0, 0, 1, uint64_t(std::numeric_limits<int64_t>::max()) + 1, 3,
                                    std::numeric_limits<uint64_t>::max()});
  for (ScalarOpId id : {ScalarOpId::eq, ScalarOpId::neq, ScalarOpId::lt, ScalarOpId::le,
                        ScalarOpId::gt, ScalarOpId::ge}) {
    expect_matches_cpu(node_of(elemwise(id, vars_for({s, u}))), {s, u});
    expect_matches_cpu(node_of(elemwise(id, vars_for({u, s}))), {u, s});
  }
  // A narrower signed type against uint64, broadcast.
  const Array s8 = Array::from_vector<int8_t>({-3, 0, 7}).reshape({3, 1});
  expect_matches_cpu(node_of(elemwise(ScalarOpId::lt, vars_for({s8, u}))), {s8, u});
}

// Outputs that read only some inputs have their own (smaller) shape, as in Composite::perform.
TEST_F(CudaElemwiseKernels, CompositeOutputsOfSmallerShapeAndPassedThroughInputs) {
  ScalarProgram p;
  p.inputs = {DType::Float32, DType::Float32, DType::Int16};
  ScalarInstr e{false, ScalarOpId::exp, DType::Float64, {1}};      // 3: exp(b)      shape (6,)
  ScalarInstr m{false, ScalarOpId::mul, DType::Float64, {0, 3}};   // 4: a * exp(b)  shape (4, 6)
  ScalarInstr c{true, ScalarOpId::identity, DType::Float32, {2}};  // 5: float(c)    shape (4, 1)
  ScalarInstr s{false, ScalarOpId::add, DType::Float64, {4, 5}};   // 6
  p.instrs = {e, m, c, s};
  p.outputs = {6, 3, 2, 5};
  auto comp = std::make_shared<Composite>(p);
  const Array a = values(DType::Float32, {4, 6}, 1), b = values(DType::Float32, {6}, 2);
  const Array ci = values(DType::Int16, {4, 1}, 3);
  std::vector<Var> outs = theon::apply(comp, vars_for({a, b, ci}));
  expect_matches_cpu(node_of(outs[0]), {device_transposed(a), b, ci}, rtol_of(DType::Float32));
}

// Runs the composite here and the reduction through the reduce family's kernel.
TEST_F(CudaElemwiseKernels, CompositeReduceRunsTheCompositeThenTheReduction) {
  auto red = std::make_shared<Reduce>(ReduceKind::Sum, std::vector<int>{1}, false);
  if (!cuda::find_device_kernel(*red)) GTEST_SKIP() << "no device kernel for " << red->name();
  ScalarProgram p;
  p.inputs = {DType::Float32, DType::Float32};
  p.instrs = {ScalarInstr{false, ScalarOpId::exp, DType::Float64, {0}},
              ScalarInstr{false, ScalarOpId::mul, DType::Float64, {2, 1}}};
  p.outputs = {3};
  auto op = std::make_shared<CompositeReduce>(std::make_shared<Composite>(p), red);
  const Array a = values(DType::Float32, {3, 8}, 1), b = values(DType::Float32, {8}, 2);
  Var out = theon::apply1(op, vars_for({a, b}));
  expect_matches_cpu(node_of(out), {device_transposed(a), b}, 1e-5);
}

// More inputs and outputs than one kernel takes: every output runs on its own.
TEST_F(CudaElemwiseKernels, CompositesWithMoreOperandsThanOneKernelTakes) {
  constexpr int n = 46;  // inputs; 3 outputs make 49 operands
  ScalarProgram p;
  p.inputs.assign(n, DType::Float32);
  for (int k = 1; k < n; ++k)
    p.instrs.push_back(
        ScalarInstr{false, ScalarOpId::add, DType::Float64, {k == 1 ? 0 : n + k - 2, k}});
  p.outputs = {2 * n - 2, n + 9, n + 20};
  auto comp = std::make_shared<Composite>(p);
  std::vector<Array> ins;
  for (int i = 0; i < n; ++i) ins.push_back(values(DType::Float32, {3, 4}, uint64_t(i)));
  ins[5] = device_transposed(ins[5]);
  std::vector<Var> outs = theon::apply(comp, vars_for(ins));
  expect_matches_cpu(node_of(outs[0]), ins);
}

}  // namespace
}  // namespace theon::testing
