// Device kernels of the blas family (dot, matmul, tensordot, batched_dot,
// Gemm, Gemv, Ger) against their CPU perform: every rank combination,
// transposed / strided / offset / broadcast device operands, empty sizes,
// float dtypes within a summation-order tolerance, integers and bool exactly.
// Runs on the GPU when there is one, else on the CUDA emulator.
#include <cmath>
#include <random>

#include "../../src/backend/cuda/kernels/blas_conv_util.h"
#include "cuda_kernel_test_util.h"
#include "theon/ops/blas.h"
#include "theon/ops/gemm.h"

using namespace theon;
using theon::testing::CudaDeviceTest;
using theon::testing::device_broadcast;
using theon::testing::device_offset;
using theon::testing::device_strided;
using theon::testing::device_transposed;
using theon::testing::device_view;
using theon::testing::expect_matches_cpu;
using theon::testing::run_on_device;

namespace {

// Values in [-1, 1) for floats; small integers (or wide ones, to overflow) otherwise.
Array random_array(DType dt, const Shape& shape, unsigned seed, int int_range = 4) {
  std::mt19937 g(seed);
  std::vector<double> v(size_t(shape_size(shape)));
  if (is_float(dt)) {
    std::uniform_real_distribution<double> d(-1, 1);
    for (auto& x : v) x = d(g);
  } else {
    std::uniform_int_distribution<int> d(
        dtype_kind(dt) == DKind::UInt || dt == DType::Bool ? 0 : -int_range, int_range);
    for (auto& x : v) x = d(g) % (dt == DType::Bool ? 2 : 1 << 30);
  }
  Array a = Array::empty(DType::Float64, shape);
  for (size_t i = 0; i < v.size(); ++i) a.data_as<double>()[i] = v[i];
  return a.astype(dt);
}

double rtol_of(DType dt) {
  switch (dt) {
    case DType::Float64:
      return 1e-12;
    case DType::Float32:
      return 2e-5;
    case DType::Float16:
      return 4e-3;
    case DType::BFloat16:
      return 3e-2;
    default:
      return 0;
  }
}

std::vector<int64_t> unknown(int ndim) {
  return std::vector<int64_t>(size_t(ndim), -1);
}

// The node of a binary op on symbolic inputs of the arrays' dtypes and ranks.
Var binary(Var (*f)(const Var&, const Var&), DType da, int na, DType db, int nb) {
  return f(tensor(da, unknown(na)), tensor(db, unknown(nb)));
}

class CudaBlasKernels : public CudaDeviceTest {};

}  // namespace

TEST_F(CudaBlasKernels, DotEveryRankCombinationFloat) {
  const std::vector<std::pair<Shape, Shape>> cases{
      {{7}, {7}},
      {{5, 7}, {7}},
      {{7}, {7, 4}},
      {{5, 7}, {7, 4}},
      {{2, 3, 7}, {7, 4}},
      {{5, 7}, {2, 7, 4}},
      {{2, 3, 7}, {3, 7, 2}},
      {{}, {3, 4}},
      {{3, 4}, {}},
      {{}, {}},
      {{0, 7}, {7, 4}},
      {{5, 0}, {0, 4}},
      {{5, 7}, {7, 0}},
      {{1, 7}, {7, 1}},
  };
  for (DType dt : {DType::Float32, DType::Float64, DType::Float16, DType::BFloat16}) {
    unsigned seed = 1;
    for (const auto& [sa, sb] : cases) {
      Var y = binary(dot, dt, int(sa.size()), dt, int(sb.size()));
      SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_str(sa) + " . " + shape_str(sb));
      expect_matches_cpu(*y.owner(), {random_array(dt, sa, seed), random_array(dt, sb, seed + 1)},
                         rtol_of(dt));
      seed += 2;
    }
  }
}

TEST_F(CudaBlasKernels, DotDeviceLayouts) {
  // Transposed, strided, offset and broadcast operands: gemm takes the first
  // as flags and leading dimensions, the broadcast one is copied.
  for (DType dt : {DType::Float32, DType::Float64}) {
    Var y = binary(dot, dt, 2, dt, 2);
    const Array a = random_array(dt, {6, 5}, 3), b = random_array(dt, {5, 4}, 4);
    const Array bt = random_array(dt, {5, 1}, 5);
    for (const Array& A : {device_transposed(a), device_strided(a), device_offset(a)})
      for (const Array& B : {device_transposed(b), device_strided(b), device_offset(b),
                             device_broadcast(bt, {5, 4})})
        expect_matches_cpu(*y.owner(), {A, B}, rtol_of(dt));
    // a negative-stride view and a row-vector times matrix with a strided row
    expect_matches_cpu(*y.owner(),
                       {device_view(a, [](const Array& x) { return x.slice(0, 5, -7, -1); }), b},
                       rtol_of(dt));
    Var v = binary(dot, dt, 1, dt, 2);
    expect_matches_cpu(*v.owner(), {device_strided(random_array(dt, {5}, 6)), device_transposed(b)},
                       rtol_of(dt));
    Var mv = binary(dot, dt, 2, dt, 1);
    expect_matches_cpu(
        *mv.owner(), {device_transposed(a), device_strided(random_array(dt, {5}, 7))}, rtol_of(dt));
  }
}

TEST_F(CudaBlasKernels, DotMixedDtypesPromote) {
  Var y = binary(dot, DType::Float32, 2, DType::Float64, 2);
  expect_matches_cpu(
      *y.owner(),
      {random_array(DType::Float32, {4, 3}, 1), random_array(DType::Float64, {3, 2}, 2)}, 1e-12);
  Var h = binary(dot, DType::Float16, 2, DType::Float32, 1);
  expect_matches_cpu(
      *h.owner(), {random_array(DType::Float16, {4, 3}, 3), random_array(DType::Float32, {3}, 4)},
      2e-5);
}

TEST_F(CudaBlasKernels, DotIntegersAndBoolExact) {
  for (DType dt : {DType::Int32, DType::Int8, DType::UInt16, DType::Bool}) {
    const std::vector<std::pair<Shape, Shape>> cases{
        {{9}, {9}}, {{5, 9}, {9}}, {{3, 5, 9}, {9, 4}}, {{5, 0}, {0, 3}}, {{}, {3, 2}}};
    unsigned seed = 10;
    for (const auto& [sa, sb] : cases) {
      Var y = binary(dot, dt, int(sa.size()), dt, int(sb.size()));
      SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_str(sa) + " . " + shape_str(sb));
      expect_matches_cpu(*y.owner(), {random_array(dt, sa, seed), random_array(dt, sb, seed + 1)});
      seed += 2;
    }
    // transposed and strided operands
    Var y = binary(dot, dt, 2, dt, 2);
    expect_matches_cpu(*y.owner(), {device_transposed(random_array(dt, {4, 6}, 1)),
                                    device_strided(random_array(dt, {6, 3}, 2))});
  }
  // int8 products that overflow wrap as on the CPU
  Var y = binary(dot, DType::Int8, 2, DType::Int8, 2);
  expect_matches_cpu(*y.owner(), {random_array(DType::Int8, {4, 40}, 1, 120),
                                  random_array(DType::Int8, {40, 3}, 2, 120)});
  // int32 . float32 promotes to float64 (through gemm)
  Var p = binary(dot, DType::Int32, 2, DType::Float32, 2);
  expect_matches_cpu(
      *p.owner(), {random_array(DType::Int32, {3, 4}, 1), random_array(DType::Float32, {4, 2}, 2)},
      1e-12);
}

TEST_F(CudaBlasKernels, DotShapeMismatchThrows) {
  Var y = binary(dot, DType::Float32, 2, DType::Float32, 2);
  EXPECT_THROW(run_on_device(*y.owner(), {random_array(DType::Float32, {3, 4}, 1),
                                          random_array(DType::Float32, {5, 2}, 2)}),
               std::invalid_argument);
}

TEST_F(CudaBlasKernels, MatmulBatchesBroadcastAndVectors) {
  const std::vector<std::pair<Shape, Shape>> cases{
      {{5}, {5}},
      {{3, 5}, {5}},
      {{5}, {5, 2}},
      {{2, 3, 5}, {5, 4}},
      {{2, 3, 5}, {5}},
      {{5}, {2, 5, 3}},
      {{3, 1, 4, 5}, {2, 5, 3}},
      {{2, 4, 5}, {2, 5, 3}},
      {{0, 3, 5}, {5, 2}},
      {{2, 3, 0}, {2, 0, 4}},
  };
  for (DType dt : {DType::Float32, DType::Int32}) {
    unsigned seed = 20;
    for (const auto& [sa, sb] : cases) {
      Var y = binary(matmul, dt, int(sa.size()), dt, int(sb.size()));
      SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_str(sa) + " @ " + shape_str(sb));
      expect_matches_cpu(*y.owner(), {random_array(dt, sa, seed), random_array(dt, sb, seed + 1)},
                         rtol_of(dt));
      seed += 2;
    }
  }
  // a transposed batch: merged rows are not a view, the batch loop takes it
  Var y = binary(matmul, DType::Float64, 3, DType::Float64, 2);
  expect_matches_cpu(*y.owner(),
                     {device_transposed(random_array(DType::Float64, {2, 3, 5}, 1)),
                      device_transposed(random_array(DType::Float64, {5, 4}, 2))},
                     1e-12);
}

TEST_F(CudaBlasKernels, TensordotAxes) {
  struct Case {
    Shape a, b;
    std::vector<int> axa, axb;
  };
  const std::vector<Case> cases{{{3, 4, 5}, {4, 5, 2}, {1, 2}, {0, 1}},
                                {{3, 4, 5}, {2, 3}, {0}, {1}},
                                {{3, 4}, {5, 2}, {}, {}},
                                {{2, 3, 4}, {4, 3, 2}, {0, 1, 2}, {2, 1, 0}}};
  for (const Case& c : cases) {
    Var y = tensordot(tensor(DType::Float32, unknown(int(c.a.size()))),
                      tensor(DType::Float32, unknown(int(c.b.size()))), c.axa, c.axb);
    expect_matches_cpu(*y.owner(),
                       {random_array(DType::Float32, c.a, 1),
                        device_transposed(random_array(DType::Float32, c.b, 2))},
                       2e-5);
  }
}

TEST_F(CudaBlasKernels, BatchedDotRanks) {
  const std::vector<std::pair<Shape, Shape>> cases{
      {{3, 4, 5}, {3, 5, 6}}, {{3, 5}, {3, 5, 6}},       {{3, 4, 5}, {3, 5}},
      {{3, 5}, {3, 5}},       {{2, 3, 4, 5}, {2, 5, 6}}, {{2, 4, 5}, {2, 3, 5, 6}},
      {{0, 4, 5}, {0, 5, 6}},
  };
  for (DType dt : {DType::Float32, DType::Int32}) {
    unsigned seed = 40;
    for (const auto& [sa, sb] : cases) {
      Var y = binary(batched_dot, dt, int(sa.size()), dt, int(sb.size()));
      SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_str(sa) + " x " + shape_str(sb));
      expect_matches_cpu(
          *y.owner(),
          {random_array(dt, sa, seed), device_transposed(random_array(dt, sb, seed + 1))},
          rtol_of(dt));
      seed += 2;
    }
  }
}

TEST_F(CudaBlasKernels, GemmGemvGer) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    const double tol = rtol_of(dt);
    auto s = [dt](double v) { return Array::scalar(dt, v); };
    Var g = gemm(tensor(dt, {-1, -1}), scalar(dt), tensor(dt, {-1, -1}), tensor(dt, {-1, -1}),
                 scalar(dt));
    const Array x = random_array(dt, {4, 6}, 1), y = random_array(dt, {6, 3}, 2),
                z = random_array(dt, {4, 3}, 3);
    // in place through gemm, with transposed operands
    expect_matches_cpu(*g.owner(), {z, s(0.5), x, y, s(-2)}, tol);
    expect_matches_cpu(
        *g.owner(),
        {device_transposed(z), s(1.5), device_transposed(x), device_strided(y), s(0.25)}, tol);
    // the elementwise forms: alpha or beta 0 (NaN in z propagates), a broadcast z, k = 0
    Array zn = z.copy();
    zn.slice(0, 0, 1, 1).assign(Array::scalar(dt, NAN));
    expect_matches_cpu(*g.owner(), {zn, s(0), x, y, s(2)}, tol);
    expect_matches_cpu(*g.owner(), {zn, s(3), x, y, s(0)}, tol);
    expect_matches_cpu(*g.owner(), {random_array(dt, {1, 3}, 4), s(0.5), x, y, s(-1)}, tol);
    expect_matches_cpu(*g.owner(), {random_array(dt, {4, 1}, 5), s(0.5), x, y, s(2)}, tol);
    // a one-row product broadcast against z
    expect_matches_cpu(*g.owner(), {z, s(0.5), random_array(dt, {1, 6}, 19), y, s(2)}, tol);
    expect_matches_cpu(*g.owner(),
                       {z, s(0.5), random_array(dt, {4, 0}, 6), random_array(dt, {0, 3}, 7), s(2)},
                       tol);
    expect_matches_cpu(*g.owner(),
                       {random_array(dt, {0, 3}, 8), s(0.5), random_array(dt, {0, 6}, 9), y, s(2)},
                       tol);

    Var v = gemv(tensor(dt, {-1}), scalar(dt), tensor(dt, {-1, -1}), tensor(dt, {-1}), scalar(dt));
    const Array a = random_array(dt, {5, 6}, 10), xv = random_array(dt, {6}, 11),
                zv = random_array(dt, {5}, 12);
    expect_matches_cpu(*v.owner(), {zv, s(0.5), a, xv, s(-2)}, tol);
    expect_matches_cpu(*v.owner(),
                       {device_strided(zv), s(1), device_transposed(a), device_strided(xv), s(3)},
                       tol);
    expect_matches_cpu(*v.owner(), {random_array(dt, {1}, 13), s(0.5), a, xv, s(2)}, tol);
    expect_matches_cpu(*v.owner(), {zv, s(0.5), a, xv, s(0)}, tol);
    expect_matches_cpu(*v.owner(), {zv, s(0.5), random_array(dt, {1, 6}, 20), xv, s(2)}, tol);
    expect_matches_cpu(*v.owner(),
                       {zv, s(0.5), random_array(dt, {5, 0}, 14), random_array(dt, {0}, 15), s(2)},
                       tol);

    Var r = ger(tensor(dt, {-1, -1}), scalar(dt), tensor(dt, {-1}), tensor(dt, {-1}));
    const Array gx = random_array(dt, {4}, 16), gy = random_array(dt, {3}, 17);
    expect_matches_cpu(*r.owner(), {z, s(0.5), gx, gy}, tol);
    expect_matches_cpu(*r.owner(),
                       {device_transposed(z), s(-1), device_strided(gx), device_strided(gy)}, tol);
    expect_matches_cpu(*r.owner(), {random_array(dt, {1, 3}, 18), s(0.5), gx, gy}, tol);
    expect_matches_cpu(*r.owner(), {z, s(0), gx, gy}, tol);
  }
}

TEST_F(CudaBlasKernels, MatmulRandomBroadcasts) {
  std::mt19937 g(5);
  auto pick = [&g](int lo, int hi) {
    return int64_t(std::uniform_int_distribution<int>(lo, hi)(g));
  };
  for (int trial = 0; trial < 30; ++trial) {
    const int64_t m = pick(0, 4), k = pick(0, 5), n = pick(0, 4);
    Shape sa, sb;
    const int nbatch = int(pick(0, 3));
    for (int d = 0; d < nbatch; ++d) {
      const int64_t b = pick(0, 3);
      const int which = int(pick(0, 2));  // both b, or one of them 1 (broadcast), or missing in a
      sa.push_back(which == 1 ? 1 : b);
      sb.push_back(which == 2 ? 1 : b);
    }
    if (nbatch > 0 && pick(0, 1)) sa.erase(sa.begin());
    if (pick(0, 4) > 0)
      sa.insert(sa.end(), {m, k});
    else
      sa = {k};
    if (pick(0, 4) > 0)
      sb.insert(sb.end(), {k, n});
    else
      sb = {k};
    SCOPED_TRACE(shape_str(sa) + " @ " + shape_str(sb));
    Var y = binary(matmul, DType::Float32, int(sa.size()), DType::Float32, int(sb.size()));
    const Array a = random_array(DType::Float32, sa, unsigned(trial)),
                b = random_array(DType::Float32, sb, unsigned(trial) + 99);
    expect_matches_cpu(*y.owner(), {a, pick(0, 1) ? device_transposed(b) : device_strided(b)},
                       2e-5);
  }
}

// The programs of the blas and pool kernels compile with NVRTC (the emulator
// compiles them as host C++; this checks the CUDA side), for dtypes covering
// every branch of their generated text (16-bit floats, wide floats, signed,
// unsigned, bool).
TEST(CudaBlasConvPrograms, CompileWithNvrtc) {
  if (!cuda::built_with_cuda()) GTEST_SKIP() << cuda::unavailable_reason();
  for (DType dt : {DType::Float16, DType::BFloat16, DType::Float32, DType::Float64, DType::Int8,
                   DType::UInt64, DType::Bool}) {
    SCOPED_TRACE(dtype_name(dt));
    EXPECT_NO_THROW(cuda::compile_kernel(cuda::kernels::kblas::blas_program(dt).source, "sm_90"));
    if (dt != DType::Bool) {  // pooling rejects bool
      EXPECT_NO_THROW(cuda::compile_kernel(cuda::kernels::kblas::pool_program(dt).source, "sm_80"));
    }
  }
}
