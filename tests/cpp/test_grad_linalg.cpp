// Gradients of the linear-algebra ops against finite differences, at
// well-conditioned points: diagonally dominant matrices for inverses and
// solves, SPD matrices for cholesky, distinct eigen/singular values.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <theon/autodiff/grad.h>
#include <theon/autodiff/verify_grad.h>
#include <theon/ops/blas.h>
#include <theon/ops/linalg.h>
#include <theon/theon.h>

using namespace theon;

namespace {
using Fn = std::function<Var(const std::vector<Var>&)>;

Array randu(Shape s, uint64_t seed) {
  Array a = Array::empty(DType::Float64, s);
  std::mt19937_64 r(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int64_t i = 0; i < a.size(); ++i) a.data_as<double>()[i] = u(r);
  return a;
}

// Random matrices (a stack when s has more than 2 axes) plus `shift` on each diagonal.
Array shifted(Shape s, uint64_t seed, double shift) {
  Array a = randu(s, seed);
  const int64_t n = s.back(), count = a.size() / (n * n);
  for (int64_t b = 0; b < count; ++b)
    for (int64_t i = 0; i < n; ++i) a.data_as<double>()[b * n * n + i * n + i] += shift;
  return a;
}

// Symmetric positive definite: M M^T + n I, per matrix of the stack.
Array spd(Shape s, uint64_t seed) {
  Array m = randu(s, seed), r = Array::empty(DType::Float64, s);
  const int64_t n = s.back(), count = m.size() / (n * n);
  const double* p = m.data_as<double>();
  double* q = r.data_as<double>();
  for (int64_t b = 0; b < count; ++b)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = i == j ? double(n) : 0.0;
        for (int64_t k = 0; k < n; ++k) acc += p[b * n * n + i * n + k] * p[b * n * n + j * n + k];
        q[b * n * n + i * n + j] = acc;
      }
  return r;
}

// A symmetric matrix with well separated eigenvalues: diag(1, 3, 5, ...) plus a small symmetric part.
Array separated_symmetric(int64_t n, uint64_t seed) {
  Array s = spd({n, n}, seed);
  for (int64_t i = 0; i < n * n; ++i) s.data_as<double>()[i] *= 0.1;
  for (int64_t i = 0; i < n; ++i) s.data_as<double>()[i * n + i] += 2.0 * double(i) + 1.0;
  return s;
}

void check(const Fn& f, const std::vector<Array>& pt, const char* what) {
  SCOPED_TRACE(what);
  EXPECT_NO_THROW(verify_grad(f, pt));
}
}  // namespace

TEST(GradLinalg, InverseAndDet) {
  check([](const std::vector<Var>& x) { return matrix_inverse(x[0]); }, {shifted({3, 3}, 1, 3)}, "inv");
  check([](const std::vector<Var>& x) { return matrix_inverse(x[0]); }, {shifted({2, 3, 3}, 2, 3)}, "inv batch");
  check([](const std::vector<Var>& x) { return det(x[0]); }, {shifted({3, 3}, 3, 2)}, "det");
  check([](const std::vector<Var>& x) { return det(x[0]); }, {shifted({2, 3, 3}, 4, 2)}, "det batch");
  // second order: the gradient of det is built from det and matrix_inverse
  check([](const std::vector<Var>& x) { return grad(det(x[0]), x[0]); }, {shifted({3, 3}, 41, 2)}, "grad of det");
  // float32 inputs get float32 gradients
  Var a = matrix(DType::Float32, "a");
  EXPECT_EQ(grad(sum(matrix_inverse(a)), a).dtype(), DType::Float32);
}

TEST(GradLinalg, Cholesky) {
  for (bool lower : {true, false}) {
    // Only one triangle is read, so perturbing the other one changes nothing.
    check([lower](const std::vector<Var>& x) { return cholesky(x[0], lower); }, {spd({3, 3}, 5)}, "cholesky");
    check([lower](const std::vector<Var>& x) { return cholesky(x[0], lower); }, {spd({2, 3, 3}, 6)}, "batch");
  }
  check([](const std::vector<Var>& x) {
    return cholesky(matmul(x[0], transpose(x[0])) + 3.0 * identity_like(x[0]));
  }, {randu({3, 3}, 7)}, "cholesky of x x^T + 3 I");
}

TEST(GradLinalg, SolveGeneralSymmetricPositive) {
  auto solver = [](std::string kind, bool lower) {
    return [kind, lower](const std::vector<Var>& x) { return solve(x[0], x[1], kind, lower); };
  };
  const Array a = shifted({3, 3}, 8, 3), b = randu({3, 2}, 9), v = randu({3}, 10);
  check(solver("gen", false), {a, b}, "gen");
  check(solver("gen", false), {a, v}, "gen vector");
  check(solver("gen", false), {shifted({2, 3, 3}, 11, 3), b}, "gen, a batched");
  check(solver("gen", false), {a, randu({2, 3, 2}, 12)}, "gen, b batched");
  check(solver("gen", false), {shifted({2, 3, 3}, 13, 3), v}, "gen, vector b, a batched");
  // The point need not be symmetric: only the chosen triangle is read.
  for (bool lower : {true, false}) {
    check(solver("sym", lower), {a, b}, "sym");
    check(solver("pos", lower), {spd({3, 3}, 14), v}, "pos");
  }
}

TEST(GradLinalg, SolveTriangular) {
  const Array a = shifted({3, 3}, 15, 3), b = randu({3, 2}, 16);
  for (int trans : {0, 1})
    for (bool lower : {true, false})
      for (bool unit : {false, true}) {
        check([=](const std::vector<Var>& x) { return solve_triangular(x[0], x[1], trans, lower, unit); }, {a, b},
              "solve_triangular");
      }
  check([](const std::vector<Var>& x) { return solve_triangular(x[0], x[1], 0, true); }, {a, randu({3}, 17)},
        "solve_triangular vector");
}

TEST(GradLinalg, Eigh) {
  const Array a = separated_symmetric(4, 18);
  for (char uplo : {'L', 'U'}) {
    check([uplo](const std::vector<Var>& x) { return eigh(x[0], uplo)[0]; }, {a}, "w");
    // Eigenvectors are defined up to sign: test sign-free functions of them.
    check([uplo](const std::vector<Var>& x) { return sqr(eigh(x[0], uplo)[1]); }, {a}, "v^2");
    check([uplo](const std::vector<Var>& x) {
      auto wv = eigh(x[0], uplo);
      return mul(sqr(wv[1]), expand_dims(wv[0], 0));
    }, {a}, "v^2 w");
  }
}

TEST(GradLinalg, QR) {
  for (Shape s : {Shape{4, 3}, Shape{3, 3}, Shape{3, 5}, Shape{2, 4, 3}}) {
    const Array a = randu(s, 19);
    check([](const std::vector<Var>& x) { return qr(x[0])[1]; }, {a}, "R");
    check([](const std::vector<Var>& x) { return qr(x[0])[0]; }, {a}, "Q");
    check([](const std::vector<Var>& x) { auto f = qr(x[0]); return add(sum(f[0]), sum(f[1])); }, {a}, "Q and R");
    check([](const std::vector<Var>& x) { return qr(x[0], "r")[0]; }, {a}, "mode r");
  }
  // mode complete with a static shape of no more rows than columns
  check([](const std::vector<Var>& x) { return qr(reshape(x[0], std::vector<int64_t>{3, 4}), "complete")[0]; },
        {randu({3, 4}, 20)}, "complete");
  Var m = matrix(DType::Float64, "m");
  EXPECT_THROW(grad(sum(qr(m, "complete")[0]), m), std::invalid_argument);
}

TEST(GradLinalg, SVD) {
  for (Shape s : {Shape{4, 3}, Shape{3, 3}, Shape{3, 5}, Shape{2, 3, 4}}) {
    const Array a = randu(s, 21);
    check([](const std::vector<Var>& x) { return svd(x[0], false, false)[0]; }, {a}, "s, compute_uv=False");
    check([](const std::vector<Var>& x) { return svd(x[0], true, true)[1]; }, {a}, "s of full");
    // Singular vectors are defined up to a common sign per pair: test sign-free functions.
    check([](const std::vector<Var>& x) { return sqr(svd(x[0], false)[0]); }, {a}, "U^2");
    check([](const std::vector<Var>& x) { return sqr(svd(x[0], false)[2]); }, {a}, "Vh^2");
    check([](const std::vector<Var>& x) {
      auto f = svd(x[0], false);
      return matmul(mul(f[0], expand_dims(sqr(f[1]), f[1].ndim() - 1)), f[2]);
    }, {a}, "U s^2 Vh");
  }
  check([](const std::vector<Var>& x) { return sqr(svd(reshape(x[0], std::vector<int64_t>{3, 3}), true)[0]); },
        {randu({3, 3}, 22)}, "full_matrices, square");
  Var m = matrix(DType::Float64, "m");
  try {
    grad(sum(svd(m, true)[0]), m);
    ADD_FAILURE() << "expected an undefined gradient";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[svd]"), std::string::npos) << e.what();
  }
}

TEST(GradLinalg, Pinv) {
  check([](const std::vector<Var>& x) { return pinv(x[0]); }, {randu({4, 3}, 23)}, "tall");
  check([](const std::vector<Var>& x) { return pinv(x[0]); }, {randu({3, 4}, 24)}, "wide");
  check([](const std::vector<Var>& x) { return pinv(x[0]); }, {shifted({2, 3, 3}, 25, 2)}, "square batch");
}

TEST(GradLinalg, Diagonals) {
  for (int k : {0, 1, -1, 3})
    check([k](const std::vector<Var>& x) { return extract_diag(x[0], k); }, {randu({3, 4}, 26)}, "extract_diag");
  check([](const std::vector<Var>& x) { return extract_diag(x[0], 1, 1, 2); }, {randu({2, 3, 4}, 27)}, "axes 1, 2");
  check([](const std::vector<Var>& x) { return extract_diag(x[0], -1, 2, 0); }, {randu({3, 2, 4}, 28)}, "axes 2, 0");
  for (int k : {0, 2, -1})
    check([k](const std::vector<Var>& x) { return alloc_diag(x[0], k); }, {randu({3}, 29)}, "alloc_diag");
  check([](const std::vector<Var>& x) { return trace(x[0]); }, {randu({3, 3}, 30)}, "trace");
  Var x = matrix(DType::Float64, "x");
  auto f = function({x}, {grad(trace(x, 1), x)});
  auto r = (*f)({randu({2, 3}, 31)})[0].to_double_vector();
  EXPECT_EQ(r, (std::vector<double>{0, 1, 0, 0, 0, 1}));
}
