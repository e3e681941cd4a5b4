// Device kernels of the data family (src/backend/cuda/kernels/data.cpp and
// indexing.cpp): views, reshapes, joins, allocation and creation, basic and
// advanced indexing and their set/inc forms, run through their DeviceKernel
// on the GPU or the host emulator and compared with the CPU's perform on
// strided, transposed, offset and negative-step device inputs, 0-size dims,
// every dtype, repeated and bad indices.
#include <gtest/gtest.h>

#include <random>

#include "../../src/backend/cuda/kernels/launch_util.h"
#include "cuda_kernel_test_util.h"
#include "cuda_test_programs.h"
#include "theon/ops/creation.h"
#include "theon/ops/join.h"
#include "theon/ops/linalg.h"
#include "theon/ops/shape.h"
#include "theon/ops/shape_extra.h"
#include "theon/ops/subtensor.h"

namespace theon::testing {
namespace {

using CudaDataKernels = CudaDeviceTest;

Array values(DType d, const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> u(-60, 60);
  std::vector<double> v(size_t(shape_size(shape)));
  for (double& x : v) x = double(u(rng)) / (is_float(d) ? 8.0 : 1.0);
  return Array::from_vector(v, shape).astype(d);
}

Array i64(int64_t v) {
  return Array::scalar(DType::Int64, double(v));
}
Array ivec(std::vector<int64_t> v, Shape shape = {}) {
  return Array::from_vector(v, shape);
}

// The node of op applied to inputs of the arrays' types (the Var keeps it alive).
Var apply_op(std::shared_ptr<const Op> op, const std::vector<Array>& ins) {
  std::vector<Var> vs;
  for (const Array& a : ins) vs.push_back(tensor(a.dtype(), a.shape()));
  return theon::apply(std::move(op), vs)[0];
}

void check(std::shared_ptr<const Op> op, const std::vector<Array>& ins, double rtol = 0) {
  Var v = apply_op(std::move(op), ins);
  expect_matches_cpu(*v.owner(), ins, rtol);
}

// The CPU's message for op on ins (empty when it does not throw).
std::string cpu_error(const ApplyNode& node, const std::vector<Array>& ins) {
  std::vector<Array> host, out(node.outputs.size());
  for (const Array& a : ins) host.push_back(a.on_device() ? cuda::to_host(a) : a);
  try {
    node.op->perform(host, out);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Both the CPU and the device raise for ins; the device's message says "out of bounds" too.
void expect_index_error(std::shared_ptr<const Op> op, const std::vector<Array>& ins) {
  Var v = apply_op(std::move(op), ins);
  const std::string cpu = cpu_error(*v.owner(), ins);
  ASSERT_NE(cpu.find("out of bounds"), std::string::npos) << cpu;
  try {
    run_on_device(*v.owner(), ins);
    ADD_FAILURE() << "the device kernel did not raise; CPU: " << cpu;
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("out of bounds"), std::string::npos) << e.what();
  }
}

Array negative_steps(const Array& host) {  // host's values, on the device reversed twice
  Array rev = host;
  for (int d = 0; d < host.ndim(); ++d)
    rev = rev.slice(d, host.shape()[size_t(d)] - 1, -host.shape()[size_t(d)] - 1, -1);
  return device_view(rev.copy(), [](const Array& a) {
    Array r = a;
    for (int d = 0; d < a.ndim(); ++d)
      r = r.slice(d, a.shape()[size_t(d)] - 1, -a.shape()[size_t(d)] - 1, -1);
    return r;
  });
}

// The fixed programs of the family compile for the GPU (NVRTC needs no device).
TEST(CudaDataKernelPrograms, CompileWithNvrtc) {
  for (const cuda::KernelProgram* p :
       {&cuda::kernels::kdata::index_program(), &cuda::kernels::kdata::creation_program(),
        &cuda::kernels::kdata::exact_cmp_program()}) {
    try {
      cuda::compile_kernel(p->source, "sm_90");
    } catch (const std::runtime_error& e) {
      if (std::string(e.what()).find("without CUDA") != std::string::npos) GTEST_SKIP() << e.what();
      FAIL() << e.what();
    }
  }
}

TEST_F(CudaDataKernels, ViewsOfStridedDeviceInputs) {
  const Array x = values(DType::Float32, {3, 1, 4}, 1);
  check(std::make_shared<DimShuffle>(std::vector<bool>{false, true, false},
                                     std::vector<int>{2, -1, 0}),
        {device_transposed(x)});
  check(std::make_shared<Flip>(std::vector<int>{0, 2}), {device_strided(x)});
  check(std::make_shared<BroadcastTo>(), {device_offset(x), i64(2), i64(3), i64(5), i64(4)});
  Var parts = apply_op(std::make_shared<Split>(3, 2), {x, ivec({1, 0, 3})});
  expect_matches_cpu(*parts.owner(), {negative_steps(x), ivec({1, 0, 3})});
}

TEST_F(CudaDataKernels, ReshapeIsAViewOfContiguousDataAndCopiesOtherwise) {
  const Array x = values(DType::Int16, {4, 6}, 2);
  auto op = std::make_shared<Reshape>(3);
  check(op, {x, ivec({2, -1, 3})});
  check(op, {device_transposed(x), ivec({3, 2, 4})});
  check(op, {negative_steps(x), ivec({6, 4, 1})});
  Var v = apply_op(op, {x, ivec({5, -1, 3})});
  EXPECT_THROW(run_on_device(*v.owner(), {x, ivec({5, -1, 3})}), std::invalid_argument);
}

TEST_F(CudaDataKernels, JoinPromotesAndCopiesEveryPiece) {
  const Array a = values(DType::Int8, {2, 3}, 3), b = values(DType::Float32, {2, 0}, 4);
  const Array c = values(DType::Int32, {2, 4}, 5);
  check(std::make_shared<Join>(1), {device_transposed(a), b, device_strided(c)});
  check(std::make_shared<Join>(0), {values(DType::Bool, {1, 3}, 6), a});
}

TEST_F(CudaDataKernels, AllocFillAndMakeVector) {
  for (DType d : {DType::Float16, DType::UInt64, DType::Bool}) {
    const Array v = values(d, {3, 1}, 7);
    check(std::make_shared<Alloc>(), {device_transposed(v), i64(2), i64(3), i64(4)});
    check(std::make_shared<Alloc>(), {v, i64(0), i64(3), i64(5)});
  }
  check(std::make_shared<Fill>(),
        {values(DType::Float64, {2, 5}, 8), values(DType::Int32, {5}, 9)});
  check(std::make_shared<MakeVector>(DType::Int64), {i64(3), Array::scalar(DType::Int8, -2)});
}

TEST_F(CudaDataKernels, RepeatAndRoll) {
  const Array x = values(DType::Float64, {3, 4}, 10);
  check(std::make_shared<Repeat>(1), {device_transposed(x), ivec({2, 0, 1, 3})});
  check(std::make_shared<Repeat>(0), {x, ivec({2})});
  check(std::make_shared<Roll>(1), {negative_steps(x), i64(-5)});
  check(std::make_shared<Roll>(0), {values(DType::Int8, {0, 2}, 1), i64(3)});
}

TEST_F(CudaDataKernels, CreationOps) {
  for (DType d : {DType::Float32, DType::Int64, DType::Bool, DType::BFloat16}) {
    for (bool tri : {false, true}) {
      auto op = std::make_shared<Eye>(d, tri);
      check(op, {i64(4), i64(6), i64(1)});
      check(op, {i64(5), i64(3), i64(-2)});
      check(op, {i64(0), i64(3), i64(0)});
    }
  }
  const Array m = values(DType::Int32, {2, 4, 5}, 11);
  for (bool upper : {false, true})
    for (int64_t k : {-2, 0, 1, 9}) check(std::make_shared<Tril>(k, upper), {device_transposed(m)});
  for (int off : {0, 2, -1}) {
    check(std::make_shared<AllocDiag>(off), {device_strided(values(DType::Float16, {3}, 12))});
    check(std::make_shared<ExtractDiag>(off, 2, 0), {device_transposed(m)});
  }
  check(std::make_shared<AllocDiag>(1), {values(DType::Int8, {0}, 1)});
  check(std::make_shared<ARange>(DType::Int64), {i64(-3), i64(17), i64(4)});
  check(std::make_shared<ARange>(DType::Float32),
        {Array::scalar(DType::Float64, 0.5), Array::scalar(DType::Float64, 3),
         Array::scalar(DType::Float64, 0.25)});
  check(std::make_shared<Linspace>(7, true, DType::Float64),
        {Array::scalar(DType::Float64, -1), Array::scalar(DType::Float64, 2)});
}

IndexEntry slice_entry(bool start, bool stop, bool step) {
  IndexEntry e;
  e.kind = IndexEntry::Kind::Slice;
  e.has_start = start;
  e.has_stop = stop;
  e.has_step = step;
  return e;
}
IndexEntry entry(IndexEntry::Kind k) {
  IndexEntry e;
  e.kind = k;
  return e;
}
const IndexEntry kInt = entry(IndexEntry::Kind::Int), kArr = entry(IndexEntry::Kind::Array),
                 kNew = entry(IndexEntry::Kind::NewAxis), kAll = slice_entry(false, false, false);

TEST_F(CudaDataKernels, BasicSubtensorViewsWithNegativeSteps) {
  const Array x = values(DType::UInt16, {5, 6, 3}, 12);
  // x[1:, ::-2, None, 2]
  IndexPattern p = {slice_entry(true, false, false), slice_entry(false, false, true), kNew, kInt};
  check(std::make_shared<Subtensor>(p), {device_transposed(x), i64(1), i64(-2), i64(2)});
  check(std::make_shared<Subtensor>(p), {x, i64(9), i64(-1), i64(-1)});  // empty slice
}

TEST_F(CudaDataKernels, BasicSetAndIncSubtensorInEveryDtype) {
  // x[1:4, ::2] = y / += y, y broadcast along the first axis.
  IndexPattern p = {slice_entry(true, true, false), slice_entry(false, false, true)};
  for (DType d : all_dtypes()) {
    SCOPED_TRACE(std::string(dtype_name(d)));
    // y of x's dtype, except once (the CPU casts y to x's dtype).
    const Array x = values(d, {5, 6}, 13);
    const Array y = values(d == DType::Int16 ? DType::Float64 : d, {3}, 14);
    for (bool set : {true, false})
      check(std::make_shared<IncSubtensor>(p, set),
            {device_transposed(x), y, i64(1), i64(4), i64(2)});
  }
}

TEST_F(CudaDataKernels, AdvancedSubtensorGathers) {
  const Array x = values(DType::Float32, {5, 4, 6}, 15);
  // x[idx] with negative indices, every index dtype.
  for (DType id : {DType::Int8, DType::Int32, DType::Int64, DType::UInt8, DType::UInt64}) {
    const Array idx = ivec({4, 0, 2, 2, 1, 3}, {2, 3}).astype(id);
    check(std::make_shared<AdvancedSubtensor>(IndexPattern{kArr}), {device_transposed(x), idx});
  }
  const Array neg = ivec({-1, -5, 3});
  check(std::make_shared<AdvancedSubtensor>(IndexPattern{kArr}), {x, device_strided(neg)});
  // x[:, a, b]: adjacent index arrays broadcast, their dims in place.
  check(std::make_shared<AdvancedSubtensor>(IndexPattern{kAll, kArr, kArr}),
        {negative_steps(x), ivec({0, 3, -2}, {3, 1}), ivec({5, 1}, {2})});
  // x[a, 1:3, b]: separated by a slice, the broadcast dims go first.
  check(
      std::make_shared<AdvancedSubtensor>(IndexPattern{kArr, slice_entry(true, true, false), kArr}),
      {x, ivec({1, 2}), i64(1), i64(3), ivec({0, -1})});
  // x[2, :, a] (an integer among arrays) and x[None, a].
  check(std::make_shared<AdvancedSubtensor>(IndexPattern{kInt, kAll, kArr}),
        {x, i64(2), ivec({5, 0})});
  check(std::make_shared<AdvancedSubtensor>(IndexPattern{kNew, kArr}), {x, ivec({3})});
  // Empty index arrays, a 0-size dim.
  check(std::make_shared<AdvancedSubtensor>(IndexPattern{kArr}), {x, ivec({}, {0})});
  check(std::make_shared<AdvancedSubtensor>(IndexPattern{kAll, kArr}),
        {values(DType::Int16, {0, 4}, 1), ivec({1, 2})});
}

// Random shapes (0-size dims included), random patterns of slices (negative
// steps), integers and index arrays (negative indices, broadcasting
// shapes), gathered and scatter-added, every element size.
TEST_F(CudaDataKernels, RandomAdvancedIndexingMatchesTheCpu) {
  std::mt19937_64 rng(7);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const std::vector<DType> dts = {DType::Int64, DType::Float32, DType::Int16,
                                  DType::UInt8, DType::Float64, DType::Bool};
  for (int trial = 0; trial < 24; ++trial) {
    const DType d = dts[size_t(trial) % dts.size()];
    const int nd = int(pick(1, 3));
    Shape shape;
    for (int i = 0; i < nd; ++i) shape.push_back(pick(trial % 5 == 4 ? 0 : 1, 5));
    IndexPattern p;
    std::vector<Array> ins = {values(d, shape, uint64_t(trial))};
    const Shape ishape = pick(0, 1) ? Shape{pick(0, 4)} : Shape{2, 1};
    bool any_array = false;
    for (int ax = 0; ax < nd; ++ax) {
      const int64_t n = shape[size_t(ax)];
      const int kind = int(pick(0, 3));
      if (n > 0 && (kind == 0 || (ax == nd - 1 && !any_array))) {
        std::vector<int64_t> ix(size_t(shape_size(ishape)));
        for (auto& v : ix) v = pick(-n, n - 1);
        Array a = Array::from_vector(ix, ishape);
        if (ax % 2) a = a.astype(DType::Int32);
        p.push_back(kArr);
        ins.push_back(a);
        any_array = true;
      } else if (n > 0 && kind == 1) {
        p.push_back(kInt);
        ins.push_back(i64(pick(-n, n - 1)));
      } else if (kind == 2) {
        p.push_back(slice_entry(true, false, true));
        ins.push_back(i64(pick(-3, 3)));
        ins.push_back(i64(pick(0, 1) ? -1 : 2));
      } else {
        p.push_back(kAll);
      }
    }
    if (!any_array) continue;
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + shape_str(shape) + " [" +
                 pattern_str(p) + "] " + std::string(dtype_name(d)));
    std::vector<Array> dev = ins;
    dev[0] = trial % 2 ? device_transposed(ins[0]) : negative_steps(ins[0]);
    Var g = apply_op(std::make_shared<AdvancedSubtensor>(p), ins);
    expect_matches_cpu(*g.owner(), dev);
    // inc_subtensor with a value of the result's shape.
    std::vector<Array> cpu_out(1);
    g.owner()->op->perform(ins, cpu_out);
    std::vector<Array> inc = {dev[0], values(d, cpu_out[0].shape(), 99)};
    inc.insert(inc.end(), ins.begin() + 1, ins.end());
    std::vector<Array> inc_host = {ins[0], inc[1]};
    inc_host.insert(inc_host.end(), ins.begin() + 1, ins.end());
    Var s = apply_op(std::make_shared<IncSubtensor>(p, false), inc_host);
    expect_matches_cpu(*s.owner(), inc, d == DType::Float32 ? 1e-6 : 1e-12);
  }
}

// Random joins (0-size pieces, mixed dtypes) and random basic slices (negative
// steps, empty results) of random device layouts, with set/inc through them.
TEST_F(CudaDataKernels, RandomJoinsAndSlices) {
  std::mt19937_64 rng(11);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const std::vector<DType> dts = {DType::Float32, DType::Int32, DType::Float64};
  for (int trial = 0; trial < 12; ++trial) {
    const int nd = int(pick(1, 3)), axis = int(pick(0, nd - 1));
    Shape base;
    for (int d = 0; d < nd; ++d) base.push_back(pick(1, 4));
    std::vector<Array> pieces;
    for (int k = 0, m = int(pick(1, 3)); k < m; ++k) {
      Shape s = base;
      s[size_t(axis)] = pick(0, 3);
      pieces.push_back(values(dts[size_t(pick(0, 2))], s, uint64_t(trial * 5 + k)));
    }
    std::vector<Array> dev;
    for (const Array& a : pieces)
      dev.push_back(pick(0, 1) ? device_transposed(a) : negative_steps(a));
    SCOPED_TRACE("join trial " + std::to_string(trial));
    check(std::make_shared<Join>(axis), dev);

    // x[a:b:c] on every axis.
    const Array x = values(DType::Int64, base, uint64_t(100 + trial));
    IndexPattern p;
    std::vector<Array> ins = {negative_steps(x)};
    for (int d = 0; d < nd; ++d) {
      p.push_back(slice_entry(true, true, true));
      ins.push_back(i64(pick(-5, 5)));
      ins.push_back(i64(pick(-5, 5)));
      ins.push_back(i64(pick(0, 1) ? pick(1, 3) : -pick(1, 3)));
    }
    check(std::make_shared<Subtensor>(p), ins);
    std::vector<Array> inc = {ins[0], Array::scalar(DType::Int64, 7)};
    inc.insert(inc.end(), ins.begin() + 1, ins.end());
    check(std::make_shared<IncSubtensor>(p, trial % 2 == 0), inc);
  }
}

TEST_F(CudaDataKernels, GatherEveryDtype) {
  for (DType d : all_dtypes()) {
    SCOPED_TRACE(std::string(dtype_name(d)));
    check(std::make_shared<AdvancedSubtensor>(IndexPattern{kAll, kArr}),
          {values(d, {3, 5}, 30), ivec({4, -5, 2, 2})});
  }
}

TEST_F(CudaDataKernels, BooleanMasksSelectAsTheCpu) {
  const Array x = values(DType::Int64, {3, 4}, 16);
  const Array mask = values(DType::Int8, {3, 4}, 17).astype(DType::Bool);
  check(std::make_shared<AdvancedSubtensor>(IndexPattern{kArr}), {x, mask});
  const Array rows = Array::from_vector<bool>({true, false, true});
  check(std::make_shared<AdvancedSubtensor>(IndexPattern{kArr, kAll}),
        {device_transposed(x), rows});
  check(std::make_shared<AdvancedSubtensor>(IndexPattern{kArr}),
        {x, Array::scalar(DType::Bool, 1)});
  check(std::make_shared<AdvancedSubtensor>(IndexPattern{kArr}),
        {x, Array::scalar(DType::Bool, 0)});
}

TEST_F(CudaDataKernels, OutOfBoundsIndicesRaiseAsTheCpu) {
  const Array x = values(DType::Float64, {4, 3}, 18);
  expect_index_error(std::make_shared<AdvancedSubtensor>(IndexPattern{kArr}), {x, ivec({0, 4})});
  expect_index_error(std::make_shared<AdvancedSubtensor>(IndexPattern{kArr}), {x, ivec({-5})});
  expect_index_error(std::make_shared<AdvancedSubtensor>(IndexPattern{kAll, kArr}),
                     {x, ivec({1, 3}).astype(DType::UInt64)});
  const Array huge = Array::from_vector<uint64_t>({~uint64_t(0)});
  expect_index_error(std::make_shared<AdvancedSubtensor>(IndexPattern{kArr}), {x, huge});
  // An empty result still checks its indices.
  expect_index_error(std::make_shared<AdvancedSubtensor>(IndexPattern{kArr, kAll}),
                     {values(DType::Float64, {4, 0}, 1), ivec({7})});
  expect_index_error(std::make_shared<IncSubtensor>(IndexPattern{kArr}, false),
                     {x, values(DType::Float64, {3}, 2), ivec({1, 9})});
  // Integer scalars are checked on the host, with the CPU's message.
  Var v = apply_op(std::make_shared<Subtensor>(IndexPattern{kInt}), {x, i64(4)});
  const std::string cpu = cpu_error(*v.owner(), {x, i64(4)});
  try {
    run_on_device(*v.owner(), {x, i64(4)});
    ADD_FAILURE() << "expected " << cpu;
  } catch (const std::out_of_range& e) {
    EXPECT_EQ(cpu, e.what());
  }
}

TEST_F(CudaDataKernels, AdvancedIncSubtensorAccumulatesRepeatedIndicesInEveryDtype) {
  const Array idx = ivec({1, -4, 3, 1, 1, 0});
  for (DType d : all_dtypes()) {
    SCOPED_TRACE(std::string(dtype_name(d)));
    const Array x = values(d, {4, 3}, 19), y = values(d, {6, 3}, 20);
    // Sums of up to 4 values in any order: exact for integers, rounding for floats.
    const double rtol = d == DType::Float16 || d == DType::BFloat16 ? 2e-2 : 1e-6;
    check(std::make_shared<IncSubtensor>(IndexPattern{kArr}, false), {device_transposed(x), y, idx},
          rtol);
    check(std::make_shared<IncSubtensor>(IndexPattern{kAll, kArr}, false),
          {x, values(d, {4, 1}, 21), ivec({2, 2, 0, 2})}, rtol);
  }
  // set with distinct indices (repeated ones: any of the values may win).
  for (DType d : {DType::Float32, DType::Int8, DType::BFloat16}) {
    check(std::make_shared<IncSubtensor>(IndexPattern{kArr, kArr}, true),
          {values(d, {4, 3}, 22), values(d, {2}, 23), ivec({3, 0}), ivec({2, -1})});
  }
  // An empty value.
  check(std::make_shared<IncSubtensor>(IndexPattern{kArr}, false),
        {values(DType::Float32, {4, 3}, 24), values(DType::Float32, {0, 3}, 25), ivec({}, {0})});
}

}  // namespace
}  // namespace theon::testing
