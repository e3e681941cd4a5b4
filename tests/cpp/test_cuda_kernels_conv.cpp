// Device kernels of the conv family (Conv2d, Conv2dGradInputs,
// Conv2dGradWeights, Pool2d, Pool2dGrad, MaxPool2dGradGrad) against their CPU
// perform: every border mode, strides, dilation, groups, filter_flip either
// way, empty batches, strided device inputs, float dtypes and integers (which
// convolve in float64). Pooling: every mode, ignore_border either way,
// padding, overlapping windows, ties and NaN, compared exactly with the CPU's
// reference kernels (oneDNN off). Runs on the GPU when there is one, else on
// the CUDA emulator.
#include <cmath>
#include <random>

#include "cuda_kernel_test_util.h"
#include "theon/ops/conv.h"
#include "theon/ops/pool.h"

using namespace theon;
using theon::testing::CudaDeviceTest;
using theon::testing::device_strided;
using theon::testing::device_transposed;
using theon::testing::device_view;
using theon::testing::expect_matches_cpu;
using theon::testing::run_on_device;

namespace {

// Values in [-1, 1) for floats, small integers otherwise; `grid` > 0 rounds
// floats to multiples of 1/grid (ties in pooling windows).
Array random_array(DType dt, const Shape& shape, unsigned seed, double grid = 0) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> d(-1, 1);
  Array a = Array::empty(DType::Float64, shape);
  for (int64_t i = 0; i < a.size(); ++i) {
    double v = d(g);
    if (!is_float(dt))
      v = dtype_kind(dt) == DKind::UInt ? std::floor(std::abs(v) * 9) : std::floor(v * 5);
    else if (grid > 0)
      v = std::round(v * grid) / grid;
    a.data_as<double>()[i] = v;
  }
  return a.astype(dt);
}

double rtol_of(DType dt) {
  switch (dt) {
    case DType::Float32:
      return 1e-4;
    case DType::Float16:
      return 4e-3;
    case DType::BFloat16:
      return 3e-2;
    default:
      return 1e-11;
  }
}

Var tensor4(DType dt) {
  return tensor(dt, {-1, -1, -1, -1});
}
Array pair(int64_t a, int64_t b) {
  return Array::from_vector<int64_t>({a, b});
}

struct ConvCase {
  ConvParams p;
  Shape x, w;
};

ConvParams params(const std::string& mode, std::array<int64_t, 2> sub = {1, 1},
                  std::array<int64_t, 2> dil = {1, 1}, int64_t groups = 1, bool flip = true) {
  ConvParams p;
  if (mode == "explicit")
    set_border_mode(p, 1, 2);
  else
    set_border_mode(p, mode);
  p.subsample = sub;
  p.dilation = dil;
  p.num_groups = groups;
  p.filter_flip = flip;
  return p;
}

std::vector<ConvCase> conv_cases() {
  std::vector<ConvCase> r;
  for (const char* mode : {"valid", "full", "half", "explicit"})
    for (bool flip : {true, false})
      r.push_back({params(mode, {1, 1}, {1, 1}, 1, flip), {2, 3, 7, 6}, {4, 3, 3, 2}});
  r.push_back({params("valid", {2, 1}), {2, 3, 8, 7}, {4, 3, 3, 3}});
  r.push_back({params("half", {2, 3}, {2, 1}), {1, 2, 9, 10}, {3, 2, 3, 3}});
  r.push_back({params("full", {1, 2}, {1, 2}, 2), {2, 4, 6, 7}, {6, 2, 2, 3}});
  r.push_back({params("explicit", {1, 1}, {2, 2}, 3, false), {1, 6, 7, 7}, {3, 2, 2, 2}});
  r.push_back({params("valid"), {0, 3, 5, 5}, {2, 3, 3, 3}});  // an empty batch
  r.push_back({params("valid"), {2, 3, 5, 5}, {0, 3, 3, 3}});  // no filters
  r.push_back({params("full"), {2, 0, 5, 5}, {2, 0, 3, 3}});   // no channels: zeros
  return r;
}

std::string str(const ConvCase& c) {
  return Conv2d(c.p).props() + " x" + shape_str(c.x) + " w" + shape_str(c.w);
}

class CudaConvKernels : public CudaDeviceTest {};
class CudaPoolKernels : public CudaDeviceTest {
 protected:
  void SetUp() override {
    CudaDeviceTest::SetUp();
    dnnl_ = dnnl_enabled();
    set_dnnl_enabled(false);  // the reference kernels, which the device kernels follow exactly
  }
  void TearDown() override {
    set_dnnl_enabled(dnnl_);
    CudaDeviceTest::TearDown();
  }

 private:
  bool dnnl_ = true;
};

}  // namespace

TEST_F(CudaConvKernels, ForwardAndGradientsEveryGeometry) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    unsigned seed = 1;
    for (const ConvCase& c : conv_cases()) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " " + str(c));
      const Array x = random_array(dt, c.x, seed++), w = random_array(dt, c.w, seed++);
      Var y = conv2d(tensor4(dt), tensor4(dt), c.p);
      expect_matches_cpu(*y.owner(), {x, w}, rtol_of(dt));
      const Conv2d fwd(c.p);
      const Shape ys{c.x[0], c.w[0], fwd.out_size(0, c.x[2], c.w[2]),
                     fwd.out_size(1, c.x[3], c.w[3])};
      const Array gy = random_array(dt, ys, seed++);
      Var gi = conv2d_grad_inputs(tensor4(dt), tensor4(dt), tensor(DType::Int64, {2}), c.p);
      expect_matches_cpu(*gi.owner(), {w, gy, pair(c.x[2], c.x[3])}, rtol_of(dt));
      Var gw = conv2d_grad_weights(tensor4(dt), tensor4(dt), tensor(DType::Int64, {2}), c.p);
      expect_matches_cpu(*gw.owner(), {x, gy, pair(c.w[2], c.w[3])}, rtol_of(dt));
    }
  }
}

TEST_F(CudaConvKernels, StridedInputsHalfAndIntegerDtypes) {
  const ConvCase c{params("half", {2, 1}, {1, 2}, 2), {2, 4, 7, 8}, {4, 2, 3, 2}};
  const Conv2d fwd(c.p);
  const Shape ys{2, 4, fwd.out_size(0, 7, 3), fwd.out_size(1, 8, 2)};
  for (DType dt : {DType::Float32, DType::Float16, DType::BFloat16, DType::Int32}) {
    SCOPED_TRACE(dtype_name(dt));
    const Array x = random_array(dt, c.x, 1), w = random_array(dt, c.w, 2),
                gy = random_array(dt, ys, 3);
    Var y = conv2d(tensor4(dt), tensor4(dt), c.p);
    expect_matches_cpu(*y.owner(), {device_transposed(x), device_strided(w)}, rtol_of(dt));
    Var gi = conv2d_grad_inputs(tensor4(dt), tensor4(dt), tensor(DType::Int64, {2}), c.p);
    expect_matches_cpu(*gi.owner(), {device_strided(w), device_transposed(gy), pair(7, 8)},
                       rtol_of(dt));
    Var gw = conv2d_grad_weights(tensor4(dt), tensor4(dt), tensor(DType::Int64, {2}), c.p);
    expect_matches_cpu(*gw.owner(), {device_strided(x), gy, pair(3, 2)}, rtol_of(dt));
  }
  // float32 input with float64 filters: computed in float64
  Var y = conv2d(tensor4(DType::Float32), tensor4(DType::Float64), c.p);
  expect_matches_cpu(*y.owner(),
                     {random_array(DType::Float32, c.x, 4), random_array(DType::Float64, c.w, 5)},
                     1e-11);
}

TEST_F(CudaConvKernels, ShapeErrors) {
  Var y = conv2d(tensor4(DType::Float32), tensor4(DType::Float32), params("valid"));
  EXPECT_THROW(run_on_device(*y.owner(), {random_array(DType::Float32, {1, 3, 5, 5}, 1),
                                          random_array(DType::Float32, {2, 2, 3, 3}, 2)}),
               std::invalid_argument);
  EXPECT_THROW(run_on_device(*y.owner(), {random_array(DType::Float32, {1, 3, 2, 5}, 1),
                                          random_array(DType::Float32, {2, 3, 3, 3}, 2)}),
               std::invalid_argument);
  Var gi = conv2d_grad_inputs(tensor4(DType::Float32), tensor4(DType::Float32),
                              tensor(DType::Int64, {2}), params("valid"));
  EXPECT_THROW(
      run_on_device(*gi.owner(), {random_array(DType::Float32, {2, 3, 3, 3}, 1),
                                  random_array(DType::Float32, {1, 2, 3, 3}, 2), pair(6, 5)}),
      std::invalid_argument);
}

namespace {

std::vector<PoolParams> pool_configurations(PoolMode mode) {
  std::vector<PoolParams> r;
  for (bool ib : {true, false}) {
    r.push_back({{2, 2}, std::nullopt, {0, 0}, ib, mode});
    r.push_back({{3, 2}, std::array<int64_t, 2>{1, 1}, {0, 0}, ib, mode});
    r.push_back({{2, 3}, std::array<int64_t, 2>{2, 1}, {0, 0}, ib, mode});
    r.push_back({{1, 3}, std::array<int64_t, 2>{3, 2}, {0, 0}, ib, mode});
  }
  r.push_back({{3, 3}, std::array<int64_t, 2>{2, 2}, {1, 2}, true, mode});
  r.push_back({{2, 2}, std::nullopt, {1, 1}, true, mode});
  r.push_back({{4, 4}, std::array<int64_t, 2>{1, 1}, {3, 3}, true, mode});
  return r;
}

const PoolMode kModes[] = {PoolMode::Max, PoolMode::Sum, PoolMode::AverageIncPad,
                           PoolMode::AverageExcPad};

std::string str(const PoolParams& p) {
  return Pool2d(p).props();
}

}  // namespace

TEST_F(CudaPoolKernels, ForwardEveryModeExact) {
  const std::vector<Shape> shapes{{2, 3, 7, 6},    {5, 4},       {3, 5, 5},
                                  {2, 1, 2, 3, 4}, {0, 3, 4, 4}, {2, 1, 5}};
  for (DType dt : {DType::Float32, DType::Float64, DType::Float16, DType::Int32, DType::UInt8}) {
    unsigned seed = 1;
    for (PoolMode mode : kModes)
      for (const PoolParams& p : pool_configurations(mode))
        for (const Shape& s : shapes) {
          SCOPED_TRACE(std::string(dtype_name(dt)) + " " + str(p) + " x" + shape_str(s));
          Var y = pool_2d(tensor(dt, std::vector<int64_t>(s.size(), -1)), p);
          expect_matches_cpu(*y.owner(), {random_array(dt, s, seed++, 4)});
        }
  }
}

TEST_F(CudaPoolKernels, ForwardStridedInputsAndNaN) {
  Array x = random_array(DType::Float32, {2, 3, 6, 7}, 7);
  x.data_as<float>()[3] = NAN;
  x.data_as<float>()[50] = NAN;
  for (PoolMode mode : kModes)
    for (const PoolParams& p : pool_configurations(mode)) {
      SCOPED_TRACE(str(p));
      Var y = pool_2d(tensor(DType::Float32, {-1, -1, -1, -1}), p);
      expect_matches_cpu(*y.owner(), {x});
      expect_matches_cpu(*y.owner(), {device_transposed(x)});
    }
}

TEST_F(CudaPoolKernels, GradientsTiesAndNaNExact) {
  for (DType dt : {DType::Float32, DType::Float64, DType::Float16}) {
    unsigned seed = 100;
    for (PoolMode mode : kModes)
      for (const PoolParams& p : pool_configurations(mode))
        for (const Shape& s : std::vector<Shape>{{2, 3, 7, 6}, {4, 5}, {0, 2, 4, 4}}) {
          SCOPED_TRACE(std::string(dtype_name(dt)) + " " + str(p) + " x" + shape_str(s));
          // values on a coarse grid: windows with tied maxima
          Array x = random_array(dt, s, seed++, 2);
          if (x.size() > 10) {
            Array x64 = x.astype(DType::Float64);
            x64.data_as<double>()[9] = NAN;
            x = x64.astype(dt);
          }
          const Pool2d fwd(p);
          Shape ys = s;
          ys[s.size() - 2] = fwd.out_size(0, s[s.size() - 2]);
          ys[s.size() - 1] = fwd.out_size(1, s[s.size() - 1]);
          Var xv = tensor(dt, std::vector<int64_t>(s.size(), -1));
          Var g = apply1(std::make_shared<Pool2dGrad>(p),
                         {xv, tensor(dt, std::vector<int64_t>(s.size(), -1))});
          expect_matches_cpu(*g.owner(), {x, random_array(dt, ys, seed++)});
          if (mode == PoolMode::Max) {
            Var gg = apply1(std::make_shared<MaxPool2dGradGrad>(p),
                            {xv, tensor(dt, std::vector<int64_t>(s.size(), -1))});
            expect_matches_cpu(*gg.owner(), {x, random_array(dt, s, seed++)});
          }
        }
  }
  // gz of another float dtype and strided device inputs
  const PoolParams p{{3, 2}, std::array<int64_t, 2>{1, 2}, {1, 1}, true, PoolMode::AverageExcPad};
  Var g = apply1(std::make_shared<Pool2dGrad>(p),
                 {tensor(DType::Float16, {-1, -1, -1}), tensor(DType::Float64, {-1, -1, -1})});
  const Array x = random_array(DType::Float16, {2, 5, 6}, 1);
  const Pool2d fwd(p);
  const Array gz = random_array(DType::Float64, {2, fwd.out_size(0, 5), fwd.out_size(1, 6)}, 2);
  expect_matches_cpu(*g.owner(), {device_transposed(x), device_strided(gz)});
}

TEST_F(CudaPoolKernels, GradShapeError) {
  const PoolParams p{{2, 2}, std::nullopt, {0, 0}, true, PoolMode::Max};
  Var g = apply1(std::make_shared<Pool2dGrad>(p),
                 {tensor(DType::Float32, {-1, -1}), tensor(DType::Float32, {-1, -1})});
  EXPECT_THROW(run_on_device(*g.owner(), {random_array(DType::Float32, {4, 4}, 1),
                                          random_array(DType::Float32, {3, 2}, 2)}),
               std::invalid_argument);
}

TEST_F(CudaConvKernels, RandomGeometries) {
  std::mt19937 g(7);
  auto pick = [&g](int lo, int hi) {
    return int64_t(std::uniform_int_distribution<int>(lo, hi)(g));
  };
  int run = 0;
  for (int trial = 0; trial < 200 && run < 40; ++trial) {
    ConvParams p;
    const int mode = int(pick(0, 3));
    if (mode == 3)
      set_border_mode(p, pick(0, 2), pick(0, 2));
    else
      set_border_mode(p, mode == 0 ? "valid" : mode == 1 ? "full" : "half");
    p.subsample = {pick(1, 3), pick(1, 3)};
    p.dilation = {pick(1, 2), pick(1, 2)};
    p.num_groups = pick(1, 3);
    p.filter_flip = pick(0, 1) == 1;
    const Shape w{p.num_groups * pick(1, 2), pick(1, 2), pick(1, 3), pick(1, 3)};
    const Shape x{pick(0, 3), w[1] * p.num_groups, pick(1, 9), pick(1, 9)};
    const Conv2d fwd(p);
    Shape y;
    try {
      y = {x[0], w[0], fwd.out_size(0, x[2], w[2]), fwd.out_size(1, x[3], w[3])};
    } catch (const std::invalid_argument&) {
      continue;  // the filter does not fit
    }
    ++run;
    const ConvCase c{p, x, w};
    SCOPED_TRACE(str(c));
    const Array xa = random_array(DType::Float32, x, 3 * unsigned(trial)),
                wa = random_array(DType::Float32, w, 3 * unsigned(trial) + 1),
                ga = random_array(DType::Float32, y, 3 * unsigned(trial) + 2);
    Var yv = conv2d(tensor4(DType::Float32), tensor4(DType::Float32), p);
    expect_matches_cpu(*yv.owner(), {xa, wa}, 1e-4);
    Var gi = conv2d_grad_inputs(tensor4(DType::Float32), tensor4(DType::Float32),
                                tensor(DType::Int64, {2}), p);
    expect_matches_cpu(*gi.owner(), {wa, ga, pair(x[2], x[3])}, 1e-4);
    Var gw = conv2d_grad_weights(tensor4(DType::Float32), tensor4(DType::Float32),
                                 tensor(DType::Int64, {2}), p);
    expect_matches_cpu(*gw.owner(), {xa, ga, pair(w[2], w[3])}, 1e-4);
  }
  EXPECT_EQ(run, 40);
}

TEST_F(CudaPoolKernels, RandomGeometriesExact) {
  std::mt19937 g(11);
  auto pick = [&g](int lo, int hi) {
    return int64_t(std::uniform_int_distribution<int>(lo, hi)(g));
  };
  for (int trial = 0; trial < 60; ++trial) {
    PoolParams p;
    p.ws = {pick(1, 4), pick(1, 4)};
    p.stride = std::array<int64_t, 2>{pick(1, 4), pick(1, 4)};
    p.ignore_border = pick(0, 1) == 1;
    if (p.ignore_border) p.pad = {pick(0, p.ws[0] - 1), pick(0, p.ws[1] - 1)};
    p.mode = kModes[pick(0, 3)];
    Shape s;
    for (int64_t d = pick(0, 3); d > 0; --d) s.push_back(pick(0, 3));
    s.push_back(pick(1, 9));
    s.push_back(pick(1, 9));
    const DType dt = trial % 2 ? DType::Float64 : DType::Float32;
    SCOPED_TRACE(str(p) + " x" + shape_str(s));
    const Array x = random_array(dt, s, unsigned(trial), 3);
    Var xv = tensor(dt, std::vector<int64_t>(s.size(), -1));
    Var y = pool_2d(xv, p);
    expect_matches_cpu(*y.owner(), {x});
    const Pool2d fwd(p);
    Shape ys = s;
    ys[s.size() - 2] = fwd.out_size(0, s[s.size() - 2]);
    ys[s.size() - 1] = fwd.out_size(1, s[s.size() - 1]);
    Var gz = apply1(std::make_shared<Pool2dGrad>(p),
                    {xv, tensor(dt, std::vector<int64_t>(s.size(), -1))});
    expect_matches_cpu(*gz.owner(), {x, random_array(dt, ys, unsigned(trial) + 1000)});
  }
}
