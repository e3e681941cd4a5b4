// Device kernels of RandomOp against the CPU's perform: the same Philox
// stream, so the samples and the new state are bit-identical in the emulator
// (on a GPU, CUDA's log/sin/cos may move normal and binomial draws by an ulp).
// Uniform in every float dtype with scalar and broadcast parameters, values
// that round up to `high` (the serial redo of the stream), empty ranges;
// normal of odd and even sizes; random_integers including the full int64
// range and ranges with frequent rejections; binomial on both of its samplers;
// choice with and without replacement and weights, and permutation.
#include <gtest/gtest.h>

#include "cuda_kernel_random_inputs.h"
#include "theon/ops/random.h"

namespace theon::testing {
namespace {

class CudaRandomKernels : public CudaDeviceTest {
 protected:
  double rtol() { return rt().emulated() ? 0 : 1e-12; }
};

Var param_var(DType d, const Array& value) {
  return tensor(d, std::vector<int64_t>(size_t(value.ndim()), kUnknownDim));
}

// Draws dist(size, p0, p1) of dtype on both sides and compares (state, sample).
void check_draw(double rtol, RandomDist dist, DType dtype, const std::vector<int64_t>& size,
                const Array& p0, const Array& p1, uint64_t counter = 0) {
  const int ndim =
      size.empty() ? int(broadcast_shapes(p0.shape(), p1.shape()).size()) : int(size.size());
  Array st = random_state(1234, 7);
  st = Array::from_vector<uint64_t>({uint64_t(st.item_int(0)), counter}, {2});
  Var state = tensor(DType::UInt64, {2});
  Var sz = tensor(DType::Int64, {int64_t(size.size())});
  std::vector<Var> outs = random_variable(
      dist, state, sz, {param_var(p0.dtype(), p0), param_var(p1.dtype(), p1)}, dtype, ndim);
  Array size_arr = size.empty() ? Array::empty(DType::Int64, {0})
                                : Array::from_vector<int64_t>(size, {int64_t(size.size())});
  SCOPED_TRACE(outs[1].owner()->op->name() + " size " + shape_str(size) + " counter " +
               std::to_string(counter));
  expect_matches_cpu(*outs[1].owner(), {st, size_arr, p0, p1}, rtol);
}

// Draws choice / permutation (params: {a} or {a, p}; {n}) on both sides and compares.
void check_choice(RandomDist dist, DType dtype, const std::vector<int64_t>& size,
                  const std::vector<Array>& params, bool replace = true, uint64_t counter = 0) {
  Array st = random_state(99, 3);
  st = Array::from_vector<uint64_t>({uint64_t(st.item_int(0)), counter}, {2});
  Var state = tensor(DType::UInt64, {2});
  Var sz = tensor(DType::Int64, {int64_t(size.size())});
  std::vector<Var> pv;
  for (const Array& p : params) pv.push_back(param_var(p.dtype(), p));
  const int ndim = int(size.size()) + (dist == RandomDist::Permutation ? 1 : 0);
  std::vector<Var> outs = random_variable(dist, state, sz, pv, dtype, ndim, replace);
  Array size_arr = Array::from_vector<int64_t>(size, {int64_t(size.size())});
  if (size.empty()) size_arr = Array::empty(DType::Int64, {0});
  std::vector<Array> ins{st, size_arr};
  ins.insert(ins.end(), params.begin(), params.end());
  SCOPED_TRACE(outs[1].owner()->op->name() + " size " + shape_str(size));
  expect_matches_cpu(*outs[1].owner(), ins, 0);
}

Array f64(double v) {
  return Array::scalar(DType::Float64, v);
}
Array i64(int64_t v) {
  return Array::from_vector<int64_t>({v}, {});
}

TEST_F(CudaRandomKernels, UniformMatchesTheCpuStream) {
  for (DType d : {DType::Float32, DType::Float64, DType::Float16, DType::BFloat16})
    for (const std::vector<int64_t>& size : {std::vector<int64_t>{0}, {1}, {7}, {3, 333}})
      for (uint64_t counter : {0, 5})
        check_draw(0, RandomDist::Uniform, d, size, f64(-2), f64(3), counter);
  // Broadcast parameters, one empty range among them (drawn serially), and none.
  std::mt19937 rng(1);
  Array lo = random_values(DType::Float64, {4, 1}, rng),
        hi = Array::from_vector<double>({10, 11, 12}, {3});
  check_draw(0, RandomDist::Uniform, DType::Float32, {4, 3}, lo, hi);
  check_draw(0, RandomDist::Uniform, DType::Float32, {}, lo, hi);
  Array lo2 = Array::from_vector<double>({0, 1, 2}, {3}),
        hi2 = Array::from_vector<double>({1, 1, 3}, {3});
  check_draw(0, RandomDist::Uniform, DType::Float64, {5, 3}, lo2, hi2, 2);
  check_draw(0, RandomDist::Uniform, DType::Float64, {6}, f64(1.5), f64(1.5), 3);
}

TEST_F(CudaRandomKernels, UniformValuesRoundingToHighRedoTheStream) {
  // float16 [1, 1 + 2^-10): about half the draws round up to high and retry.
  check_draw(0, RandomDist::Uniform, DType::Float16, {2000}, f64(1.0), f64(1.0009765625));
  // float16 [0, 1): a retry every few thousand values.
  check_draw(0, RandomDist::Uniform, DType::Float16, {50000}, f64(0.0), f64(1.0), 11);
}

TEST_F(CudaRandomKernels, NormalMatchesTheCpuStream) {
  for (DType d : {DType::Float32, DType::Float64, DType::BFloat16})
    for (const std::vector<int64_t>& size : {std::vector<int64_t>{0}, {1}, {7}, {10, 25}})
      for (uint64_t counter : {0, 9})
        check_draw(rtol(), RandomDist::Normal, d, size, f64(1), f64(2), counter);
  std::mt19937 rng(2);
  check_draw(rtol(), RandomDist::Normal, DType::Float64, {5, 4},
             random_values(DType::Float64, {4}, rng),
             Array::from_vector<double>({1, 2, 3, 4, 5}, {5, 1}));
}

TEST_F(CudaRandomKernels, IntegersIncludingRejections) {
  for (DType d : {DType::Int64, DType::Int8, DType::UInt32})
    for (uint64_t counter : {0, 1})
      check_draw(0, RandomDist::Integers, d, {9, 11}, i64(0), i64(100), counter);
  const int64_t big = int64_t(1) << 62;
  check_draw(0, RandomDist::Integers, DType::Int64, {1001}, i64(-big), i64(big));  // ~half rejected
  check_draw(0, RandomDist::Integers, DType::Int64, {33}, i64(std::numeric_limits<int64_t>::min()),
             i64(std::numeric_limits<int64_t>::max()));  // the whole range: no rejection
  check_draw(0, RandomDist::Integers, DType::Int64, {4, 3},
             Array::from_vector<int64_t>({-5, 0, 5}, {3}), i64(9));
}

TEST_F(CudaRandomKernels, BinomialBothSamplers) {
  check_draw(rtol(), RandomDist::Binomial, DType::Int64, {500}, i64(1), f64(0.5));  // dropout masks
  check_draw(rtol(), RandomDist::Binomial, DType::Int32, {300}, i64(100),
             f64(0.7));  // BTRS, p > 0.5
  check_draw(rtol(), RandomDist::Binomial, DType::Float32, {3, 4},
             Array::from_vector<int64_t>({0, 5, 50, 500}, {4}), f64(0.2), 4);
  check_draw(rtol(), RandomDist::Binomial, DType::Int64, {0}, i64(3), f64(0.2));
}

TEST_F(CudaRandomKernels, ChoiceEveryVariant) {
  const Array vals = Array::from_vector<double>({1.5, -2, 3, 7, 0.25}, {5}).astype(DType::Float32);
  const Array p = Array::from_vector<double>({0.1, 0.0, 0.4, 0.5, 0.0}, {5});
  for (uint64_t counter : {0, 6}) {
    check_choice(RandomDist::Choice, DType::Int64, {4, 7}, {i64(10)}, true, counter);  // range(a)
    check_choice(RandomDist::Choice, DType::Float32, {33}, {vals}, true, counter);     // from a
    check_choice(RandomDist::Choice, DType::Float32, {40}, {vals, p}, true, counter);  // weighted
    check_choice(RandomDist::Choice, DType::Int32, {8}, {i64(20)}, false, counter);    // no replace
    check_choice(RandomDist::Choice, DType::Float32, {2}, {vals, p}, false, counter);  // weighted
  }
  check_choice(RandomDist::Choice, DType::Int64, {200}, {i64((int64_t(1) << 62) + 1)},
               true);  // rejections
  check_choice(RandomDist::Choice, DType::Int64, {50}, {i64(int64_t(1) << 21)},
               false);  // the hash set
  check_choice(RandomDist::Choice, DType::Int64, {0}, {i64(3)}, false);
}

TEST_F(CudaRandomKernels, PermutationRows) {
  check_choice(RandomDist::Permutation, DType::Int64, {}, {i64(17)});
  check_choice(RandomDist::Permutation, DType::Int16, {3, 2}, {i64(9)}, true, 5);
  check_choice(RandomDist::Permutation, DType::Int64, {4}, {i64(0)});
}

}  // namespace
}  // namespace theon::testing
