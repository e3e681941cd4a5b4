// Device kernels of the linalg family (matrix_inverse, det, cholesky, solve /
// solve_triangular, eigh, qr, svd, pinv) against their CPU perform: float32,
// float64 and integer inputs (computed in float64), stacks of matrices with
// broadcast batch dims, empty sizes, transposed device operands, and the
// errors perform raises (singular, not positive definite) with its text.
// Matrices are well conditioned (diagonally dominant, or SPD with a diagonal
// shift) and compared within a relative tolerance: the GPU's cuSOLVER does not
// round as LAPACK does. Eigenvectors and singular vectors are unique up to
// sign, so both sides are normalised the same way before comparing (each
// vector's largest-magnitude entry made positive; for the SVD, the sign of
// u_i and v_i flipped together); the columns of a full U (rows of a full Vh)
// beyond min(m, n) are any orthonormal basis of a complement, so only their
// orthonormality is checked. Runs on the GPU when there is one, else on the
// CUDA emulator (whose solver is LAPACK, so most results match exactly there).
#include <cmath>
#include <random>
#include <stdexcept>

#include "../../src/backend/cuda/kernels/families.h"
#include "cuda_kernel_test_util.h"
#include "theon/ops/linalg.h"

using namespace theon;
using theon::testing::CudaDeviceTest;
using theon::testing::device_offset;
using theon::testing::device_strided;
using theon::testing::device_transposed;
using theon::testing::expect_arrays_match;
using theon::testing::expect_matches_cpu;
using theon::testing::run_on_device;

namespace {

std::vector<int64_t> unknown(int ndim) {
  return std::vector<int64_t>(size_t(ndim), -1);
}

Var input(DType dt, int ndim) {
  return tensor(dt, unknown(ndim));
}

double rtol_of(DType dt) {
  return dt == DType::Float32 ? 5e-4 : 1e-9;
}

DType compute_dtype(DType dt) {
  return dt == DType::Float32 ? DType::Float32 : DType::Float64;
}

// Values in [-1, 1), as float64.
Array uniform(const Shape& shape, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<double> d(-1, 1);
  Array a = Array::empty(DType::Float64, shape);
  for (int64_t i = 0; i < a.size(); ++i) a.data_as<double>()[i] = d(g);
  return a;
}

// Random matrices with `shift` added to the diagonal (well conditioned), in dtype dt;
// integer dtypes get small integers.
Array dominant(DType dt, const Shape& shape, unsigned seed, double shift = 0) {
  Array a = uniform(shape, seed);
  const int64_t r = shape[shape.size() - 2], c = shape.back();
  if (shift == 0) shift = double(std::max<int64_t>(r, 1));
  double* p = a.data_as<double>();
  for (int64_t e = 0; e < a.size(); ++e) {
    if (!is_float(dt)) p[e] = std::round(p[e] * 3);
    if ((e / c) % r == e % c) p[e] += shift;
  }
  return a.astype(dt);
}

// Symmetric positive definite matrices: A A^T + n I, in dtype dt.
Array spd(DType dt, const Shape& shape, unsigned seed) {
  Array a = uniform(shape, seed), s = Array::empty(DType::Float64, shape);
  const int64_t n = shape.back(), count = n ? a.size() / (n * n) : 0;
  for (int64_t b = 0; b < count; ++b) {
    const double* x = a.data_as<double>() + b * n * n;
    double* y = s.data_as<double>() + b * n * n;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double v = i == j ? double(n) : 0;
        for (int64_t l = 0; l < n; ++l) v += x[i * n + l] * x[j * n + l];
        y[i * n + j] = v;
      }
  }
  return s.astype(dt);
}

// The message `f` throws (empty when it does not throw).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// node fails on the device with the CPU's exception type and text.
template <class E>
void expect_same_error(const ApplyNode& node, const std::vector<Array>& inputs) {
  std::vector<Array> want(node.outputs.size());
  const std::string cpu = error_of([&] { node.op->perform(inputs, want); });
  ASSERT_FALSE(cpu.empty()) << node.op->name() << ": the CPU did not fail";
  EXPECT_THROW(run_on_device(node, inputs), E);
  EXPECT_EQ(error_of([&] { run_on_device(node, inputs); }), cpu) << node.op->name();
}

// Columns (axis = last) or rows (axis = last - 1) of each matrix of the
// C-contiguous float64 stack x, the first `count` of them, flipped so that
// their largest-magnitude entry is positive; `partner` (same axis convention
// given by partner_axis) is flipped along.
void normalise_signs(Array& x, bool columns, int64_t count, Array* partner = nullptr,
                     bool partner_columns = false) {
  const int64_t r = x.shape()[size_t(x.ndim() - 2)], c = x.shape().back();
  const int64_t mats = r * c > 0 ? x.size() / (r * c) : 0;
  double* p = x.data_as<double>();
  for (int64_t b = 0; b < mats; ++b)
    for (int64_t v = 0; v < count; ++v) {
      const int64_t len = columns ? r : c;
      auto at = [&](int64_t i) -> double& {
        return columns ? p[b * r * c + i * c + v] : p[b * r * c + v * c + i];
      };
      int64_t best = 0;
      for (int64_t i = 1; i < len; ++i)
        if (std::abs(at(i)) > std::abs(at(best)) + 1e-6) best = i;
      if (at(best) >= 0) continue;
      for (int64_t i = 0; i < len; ++i) at(i) = -at(i);
      if (partner) {
        const int64_t pr = partner->shape()[size_t(partner->ndim() - 2)],
                      pc = partner->shape().back();
        double* q = partner->data_as<double>() + b * pr * pc;
        const int64_t plen = partner_columns ? pr : pc;
        for (int64_t i = 0; i < plen; ++i) {
          double& e = partner_columns ? q[i * pc + v] : q[v * pc + i];
          e = -e;
        }
      }
    }
}

// The first `count` columns (columns) or rows of each matrix of x.
Array leading(const Array& x, bool columns, int64_t count) {
  const int ax = x.ndim() - (columns ? 1 : 2);
  return x.slice(ax, 0, count, 1).copy();
}

// Each matrix q of the stack has orthonormal columns (columns) or rows.
void expect_orthonormal(const Array& q64, bool columns, double tol, const std::string& what) {
  const int64_t r = q64.shape()[size_t(q64.ndim() - 2)], c = q64.shape().back();
  const int64_t mats = r * c > 0 ? q64.size() / (r * c) : 0;
  const double* p = q64.data_as<double>();
  const int64_t len = columns ? r : c, count = columns ? c : r;
  double worst = 0;
  for (int64_t b = 0; b < mats; ++b)
    for (int64_t u = 0; u < count; ++u)
      for (int64_t v = 0; v < count; ++v) {
        double dot = 0;
        for (int64_t i = 0; i < len; ++i)
          dot += columns ? p[b * r * c + i * c + u] * p[b * r * c + i * c + v]
                         : p[b * r * c + u * c + i] * p[b * r * c + v * c + i];
        worst = std::max(worst, std::abs(dot - (u == v ? 1.0 : 0.0)));
      }
  EXPECT_LE(worst, tol) << what << " is not orthonormal";
}

class CudaLinalgKernels : public CudaDeviceTest {};

const std::vector<Shape> kSquareShapes{{3, 3}, {1, 1},    {2, 4, 4}, {2, 1, 5, 5},
                                       {0, 0}, {2, 0, 0}, {0, 3, 3}};

}  // namespace

TEST(CudaLinalgProgram, CompilesWithNvrtc) {
  if (!cuda::built_with_cuda()) GTEST_SKIP() << cuda::unavailable_reason();
  EXPECT_NO_THROW(cuda::compile_kernel(cuda::kernels::linalg_program().source, "sm_90"));
}

TEST_F(CudaLinalgKernels, InverseDetCholesky) {
  unsigned seed = 1;
  for (DType dt : {DType::Float32, DType::Float64, DType::Int32}) {
    const double tol = rtol_of(compute_dtype(dt));
    for (const Shape& s : kSquareShapes) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_str(s));
      const Array a = dominant(dt, s, seed++);
      expect_matches_cpu(*matrix_inverse(input(dt, int(s.size()))).owner(), {a}, tol);
      expect_matches_cpu(*det(input(dt, int(s.size()))).owner(), {a}, tol);
      const Array p = spd(dt == DType::Int32 ? DType::Float64 : dt, s, seed++);
      for (bool lower : {true, false})
        expect_matches_cpu(*cholesky(input(p.dtype(), int(s.size())), lower).owner(), {p}, tol);
    }
  }
  // A transposed device operand, and det of a matrix with a zero pivot (0, not an error).
  for (DType dt : {DType::Float32, DType::Float64}) {
    const Array a = dominant(dt, {4, 4}, 99);
    expect_matches_cpu(*matrix_inverse(input(dt, 2)).owner(), {device_transposed(a)}, rtol_of(dt));
    expect_matches_cpu(*det(input(dt, 2)).owner(), {device_transposed(a)}, rtol_of(dt));
    const Array p = spd(dt, {4, 4}, 98);
    expect_matches_cpu(*cholesky(input(dt, 2)).owner(), {device_strided(p)}, rtol_of(dt));
    expect_matches_cpu(*cholesky(input(dt, 2), false).owner(), {device_offset(p)}, rtol_of(dt));
    const Array sing = Array::from_vector(std::vector<double>{1, 2, 2, 4}, {2, 2}).astype(dt);
    expect_matches_cpu(*det(input(dt, 2)).owner(), {sing}, rtol_of(dt));
  }
}

TEST_F(CudaLinalgKernels, SingularAndNotPositiveDefinite) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    SCOPED_TRACE(dtype_name(dt));
    // The second matrix of the stack fails: [[1, 2], [2, 4]] is singular, [[1, 2], [2, 1]]
    // indefinite.
    Array sing =
        Array::from_vector(std::vector<double>{2, 0, 0, 2, 1, 2, 2, 4}, {2, 2, 2}).astype(dt);
    Array indef =
        Array::from_vector(std::vector<double>{2, 0, 0, 2, 1, 2, 2, 1}, {2, 2, 2}).astype(dt);
    const Array b = Array::from_vector(std::vector<double>{1, 1}, {2}).astype(dt);
    expect_same_error<std::invalid_argument>(*matrix_inverse(input(dt, 3)).owner(), {sing});
    for (bool lower : {true, false})
      expect_same_error<std::invalid_argument>(*cholesky(input(dt, 3), lower).owner(), {indef});
    expect_same_error<std::invalid_argument>(*solve(input(dt, 3), input(dt, 1)).owner(), {sing, b});
    expect_same_error<std::invalid_argument>(
        *solve(input(dt, 3), input(dt, 1), "sym", true).owner(), {sing, b});
    expect_same_error<std::invalid_argument>(
        *solve(input(dt, 3), input(dt, 1), "pos", true).owner(), {indef, b});
    Array zero_diag =
        Array::from_vector(std::vector<double>{1, 0, 0, 0, 1, 0, 3, 2, 0}, {3, 3}).astype(dt);
    const Array b3 = Array::from_vector(std::vector<double>{1, 2, 3}, {3}).astype(dt);
    expect_same_error<std::invalid_argument>(
        *solve_triangular(input(dt, 2), input(dt, 1), 0, true).owner(), {zero_diag, b3});
    // With a unit diagonal the zero is not read: no error.
    expect_matches_cpu(*solve_triangular(input(dt, 2), input(dt, 1), 0, true, true).owner(),
                       {zero_diag, b3}, rtol_of(dt));
  }
  // float16 is rejected as on the CPU.
  const Array h = Array::zeros(DType::Float16, {2, 2});
  EXPECT_THROW(run_on_device(*matrix_inverse(tensor(DType::Float32, {-1, -1})).owner(), {h}),
               std::invalid_argument);
}

TEST_F(CudaLinalgKernels, SolveEveryStructure) {
  unsigned seed = 100;
  struct Case {
    Shape a, b;
  };
  const std::vector<Case> cases{{{4, 4}, {4}},          {{4, 4}, {4, 3}},          {{2, 3, 3}, {3}},
                                {{2, 3, 3}, {2, 3, 2}}, {{2, 1, 3, 3}, {4, 3, 1}}, {{3, 3}, {3, 0}},
                                {{0, 0}, {0, 2}},       {{0, 2, 2}, {2, 2}}};
  for (DType dt : {DType::Float32, DType::Float64}) {
    const double tol = rtol_of(dt);
    for (const Case& c : cases) {
      const int na = int(c.a.size()), nb = int(c.b.size());
      const Array a = dominant(dt, c.a, seed++), b = uniform(c.b, seed++).astype(dt);
      const Array p = spd(dt, c.a, seed++);
      for (bool lower : {false, true}) {
        SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_str(c.a) + " " + shape_str(c.b) +
                     (lower ? " lower" : " upper"));
        for (const char* kind : {"gen", "sym", "her"})
          expect_matches_cpu(*solve(input(dt, na), input(dt, nb), kind, lower).owner(), {a, b},
                             tol);
        expect_matches_cpu(*solve(input(dt, na), input(dt, nb), "pos", lower).owner(), {p, b}, tol);
        for (int trans : {0, 1})
          for (bool unit : {false, true})
            expect_matches_cpu(
                *solve_triangular(input(dt, na), input(dt, nb), trans, lower, unit).owner(), {a, b},
                tol);
      }
      expect_matches_cpu(
          *make1<Solve>({input(dt, na), input(dt, nb)}, "gen", false, false, 1).owner(), {a, b},
          tol);
    }
  }
  // Mixed and integer dtypes compute in float64; a transposed device operand.
  const Array ai = dominant(DType::Int64, {3, 3}, 7),
              bf = uniform({3, 2}, 8).astype(DType::Float32);
  expect_matches_cpu(*solve(input(DType::Int64, 2), input(DType::Float32, 2)).owner(), {ai, bf},
                     1e-9);
  const Array a = dominant(DType::Float64, {5, 5}, 9), b = uniform({5, 2}, 10);
  expect_matches_cpu(*solve(input(DType::Float64, 2), input(DType::Float64, 2)).owner(),
                     {device_transposed(a), device_transposed(b)}, 1e-9);
}

TEST_F(CudaLinalgKernels, EighUpToEigenvectorSigns) {
  unsigned seed = 200;
  for (DType dt : {DType::Float32, DType::Float64, DType::Int16}) {
    const DType ct = compute_dtype(dt);
    for (const Shape& s : kSquareShapes)
      for (char uplo : {'L', 'U'}) {
        SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_str(s) + " " + uplo);
        // Not symmetric: only the uplo triangle is read.
        const Array a = dominant(dt, s, seed++, 0.5);
        const Var w = eigh(input(dt, int(s.size())), uplo)[0];
        const ApplyNode& node = *w.owner();
        std::vector<Array> want(2);
        node.op->perform({a}, want);
        const std::vector<Array> got = run_on_device(node, {a});
        ASSERT_EQ(got.size(), 2u);
        expect_arrays_match(want[0], got[0], rtol_of(ct), "eigenvalues");
        ASSERT_EQ(dtype_name(got[1].dtype()), dtype_name(ct));
        Array vw = want[1].astype(DType::Float64).copy(), vg = got[1].astype(DType::Float64).copy();
        const int64_t n = s.back();
        normalise_signs(vw, true, n);
        normalise_signs(vg, true, n);
        expect_arrays_match(vw, vg, ct == DType::Float32 ? 2e-3 : 1e-8, "eigenvectors");
      }
  }
}

TEST_F(CudaLinalgKernels, QrEveryMode) {
  unsigned seed = 300;
  const std::vector<Shape> shapes{{5, 3},       {3, 5}, {4, 4}, {2, 5, 3},
                                  {2, 2, 3, 4}, {0, 3}, {3, 0}, {0, 4, 4}};
  for (DType dt : {DType::Float32, DType::Float64, DType::Int8})
    for (const Shape& s : shapes) {
      const Array a = dominant(dt, s, seed++);
      for (const char* mode : {"reduced", "complete", "r"}) {
        SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_str(s) + " " + mode);
        expect_matches_cpu(*qr(input(dt, int(s.size())), mode)[0].owner(), {a},
                           rtol_of(compute_dtype(dt)) * 10);
      }
    }
  const Array a = dominant(DType::Float64, {6, 4}, 9);
  expect_matches_cpu(*qr(input(DType::Float64, 2))[0].owner(), {device_transposed(a)}, 1e-8);
}

TEST_F(CudaLinalgKernels, SvdUpToSingularVectorSigns) {
  unsigned seed = 400;
  const std::vector<Shape> shapes{{5, 3},       {3, 5}, {4, 4}, {2, 5, 3},
                                  {2, 1, 3, 4}, {0, 3}, {3, 0}, {0, 4, 4}};
  for (DType dt : {DType::Float32, DType::Float64, DType::Int32}) {
    const DType ct = compute_dtype(dt);
    const double tol = rtol_of(ct) * 10, vtol = ct == DType::Float32 ? 2e-3 : 1e-8;
    for (const Shape& s : shapes) {
      const Array a = uniform(s, seed++).astype(dt == DType::Int32 ? DType::Float64 : dt);
      const int nd = int(s.size());
      const int64_t m = s[size_t(nd - 2)], n = s.back(), k = std::min(m, n);
      {
        SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_str(s) + " s only");
        expect_matches_cpu(*svd(input(a.dtype(), nd), true, false)[0].owner(), {a}, tol);
      }
      for (bool full : {true, false}) {
        SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_str(s) +
                     (full ? " full" : " reduced"));
        const std::vector<Var> outs = svd(input(a.dtype(), nd), full, true);
        const ApplyNode& node = *outs[0].owner();
        std::vector<Array> want(3);
        node.op->perform({a}, want);
        const std::vector<Array> got = run_on_device(node, {a});
        ASSERT_EQ(got.size(), 3u);
        for (int i = 0; i < 3; ++i) {
          ASSERT_EQ(dtype_name(got[size_t(i)].dtype()), dtype_name(want[size_t(i)].dtype()));
          ASSERT_EQ(shape_str(got[size_t(i)].shape()), shape_str(want[size_t(i)].shape()));
        }
        expect_arrays_match(want[1], got[1], tol, "singular values");
        Array uw = leading(want[0].astype(DType::Float64), true, k);
        Array vw = leading(want[2].astype(DType::Float64), false, k);
        Array ug = leading(got[0].astype(DType::Float64), true, k);
        Array vg = leading(got[2].astype(DType::Float64), false, k);
        normalise_signs(uw, true, k, &vw, false);
        normalise_signs(ug, true, k, &vg, false);
        expect_arrays_match(uw, ug, vtol, "U (first min(m, n) columns)");
        expect_arrays_match(vw, vg, vtol, "Vh (first min(m, n) rows)");
        expect_orthonormal(got[0].astype(DType::Float64), true, vtol, "U");
        expect_orthonormal(got[2].astype(DType::Float64), false, vtol, "Vh");
      }
    }
  }
}

TEST_F(CudaLinalgKernels, Pinv) {
  unsigned seed = 500;
  const std::vector<Shape> shapes{{5, 3}, {3, 5}, {2, 4, 4}, {2, 1, 3, 2},
                                  {0, 3}, {3, 0}, {0, 2, 2}};
  for (DType dt : {DType::Float32, DType::Float64, DType::Int32}) {
    const DType ct = compute_dtype(dt);
    for (const Shape& s : shapes) {
      SCOPED_TRACE(std::string(dtype_name(dt)) + " " + shape_str(s));
      const Array a = dominant(dt, s, seed++);
      expect_matches_cpu(*pinv(input(dt, int(s.size()))).owner(), {a}, rtol_of(ct) * 10);
    }
  }
  // Rank 2 of 4 x 5: singular values below rcond * max are dropped.
  for (DType dt : {DType::Float32, DType::Float64}) {
    const Array l = uniform({4, 2}, 1), r = uniform({2, 5}, 2);
    Array a = Array::zeros(DType::Float64, {4, 5});
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 5; ++j)
        for (int t = 0; t < 2; ++t)
          a.data_as<double>()[i * 5 + j] +=
              l.data_as<double>()[i * 2 + t] * r.data_as<double>()[t * 5 + j];
    expect_matches_cpu(*pinv(input(dt, 2), 1e-3).owner(), {a.astype(dt)}, rtol_of(dt) * 100);
  }
}
