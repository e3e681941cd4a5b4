// Linear algebra: reconstruction identities, known values and errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <theon/ops/blas.h>
#include <theon/ops/linalg.h>
#include <theon/theon.h>

using namespace theon;

namespace {

Array random_matrix(const Shape& shape, unsigned seed, DType dt = DType::Float64) {
  std::mt19937 g(seed);
  std::normal_distribution<double> d;
  std::vector<double> v(size_t(shape_size(shape)));
  for (auto& x : v) x = d(g);
  return Array::from_vector<double>(v, shape).astype(dt);
}

Array mm(const Array& a, const Array& b) {
  Array c = Array::empty(DType::Float64, {a.shape()[0], b.shape()[1]});
  matmul_2d(a, b, c);
  return c;
}

void expect_near(const Array& a, const Array& b, double tol) {
  ASSERT_EQ(a.shape(), b.shape());
  auto x = a.to_double_vector(), y = b.to_double_vector();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], tol) << "at " << i;
}

Array identity_array(int64_t n) {
  Array r = Array::zeros(DType::Float64, {n, n});
  for (int64_t i = 0; i < n; ++i) r.index(0, i).index(0, i).assign(Array::scalar(DType::Float64, 1));
  return r;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Linalg, InverseAndDet) {
  Var a = matrix(DType::Float64, "a");
  Array av = random_matrix({4, 4}, 1);
  Array inv = eval(matrix_inverse(a), {{a, av}});
  expect_near(mm(av, inv), identity_array(4), 1e-10);
  Array two = Array::from_vector<double>({2, 1, 1, 3}, {2, 2});
  EXPECT_NEAR(eval(det(a), {{a, two}}).item_double(), 5.0, 1e-12);
  // a Fortran-ordered (transposed) view gives the transpose's determinant, the same value
  EXPECT_NEAR(eval(det(a), {{a, two.transpose()}}).item_double(), 5.0, 1e-12);
  Array singular = Array::from_vector<double>({1, 2, 2, 4}, {2, 2});
  EXPECT_EQ(eval(det(a), {{a, singular}}).item_double(), 0.0);
  EXPECT_NE(message_of([&] { eval(matrix_inverse(a), {{a, singular}}); }).find("[matrix_inverse] singular matrix"),
            std::string::npos);
  EXPECT_NE(message_of([&] { det(tensor(DType::Float64, {3, 4})); })
                .find("[det] last 2 dimensions of the array must be square, got shape (3, 4)"),
            std::string::npos);
  EXPECT_NE(message_of([&] { det(vector(DType::Float64)); }).find("[det] expected a matrix"), std::string::npos);
  EXPECT_NE(message_of([&] { det(matrix(DType::Float16)); }).find("float16 is unsupported"), std::string::npos);
  EXPECT_EQ(det(matrix(DType::Int32)).dtype(), DType::Float64);
  EXPECT_EQ(det(tensor(DType::Float32, {5, -1, -1})).type(), TensorType(DType::Float32, {5}));
}

TEST(Linalg, StackedInverse) {
  Var a = tensor(DType::Float32, {-1, -1, -1}, "a");
  Array av = random_matrix({3, 5, 5}, 2, DType::Float32);
  Array inv = eval(matrix_inverse(a), {{a, av}});
  EXPECT_EQ(inv.dtype(), DType::Float32);
  for (int i = 0; i < 3; ++i) expect_near(mm(av.index(0, i), inv.index(0, i)), identity_array(5), 1e-3);
}

TEST(Linalg, CholeskyAndSolve) {
  Var a = matrix(DType::Float64, "a"), b = vector(DType::Float64, "b");
  Array m = random_matrix({4, 4}, 3);
  Array spd = mm(m, m.transpose());
  for (int i = 0; i < 4; ++i) spd.index(0, i).index(0, i).assign(Array::scalar(DType::Float64, spd.index(0, i).item_double(i) + 4));
  Array L = eval(cholesky(a), {{a, spd}});
  expect_near(mm(L, L.transpose()), spd, 1e-10);
  EXPECT_EQ(L.item_double(1), 0.0);  // upper part zeroed
  Array U = eval(cholesky(a, false), {{a, spd}});
  expect_near(mm(U.transpose(), U), spd, 1e-10);
  Array not_pd = Array::from_vector<double>({1, 2, 2, 1}, {2, 2});
  EXPECT_NE(message_of([&] { eval(cholesky(a), {{a, not_pd}}); }).find("[cholesky] matrix is not positive definite"),
            std::string::npos);

  Array bv = random_matrix({4}, 4);
  for (const char* kind : {"gen", "sym", "pos"}) {
    Array x = eval(solve(a, b, kind), {{a, spd}, {b, bv}});
    expect_near(mm(spd, x.reshape({4, 1})).reshape({4}), bv, 1e-9);
  }
  Array lower = L;
  Array x = eval(solve_triangular(a, b, 0, true), {{a, lower}, {b, bv}});
  expect_near(mm(lower, x.reshape({4, 1})).reshape({4}), bv, 1e-9);
  Array singular = Array::from_vector<double>({1, 2, 2, 4}, {2, 2});
  EXPECT_NE(message_of([&] { eval(solve(a, b), {{a, singular}, {b, Array::zeros(DType::Float64, {2})}}); })
                .find("[solve] singular matrix"),
            std::string::npos);
  EXPECT_NE(message_of([&] { solve(tensor(DType::Float64, {3, 3}), tensor(DType::Float64, {4})); })
                .find("[solve] shapes (3, 3) and (4,) are not aligned"),
            std::string::npos);
  EXPECT_THROW(solve(a, b, "banded"), std::invalid_argument);
}

TEST(Linalg, EighQrSvdPinv) {
  Var a = matrix(DType::Float64, "a");
  Array m = random_matrix({5, 5}, 5);
  Array sym = Array::empty(DType::Float64, {5, 5});
  sym.assign(elemwise_eval(ScalarOpId::add, {m, m.transpose()}));
  auto wv = eigh(a);
  auto f = function({a}, wv);
  auto r = (*f)({sym});
  // sym v = v diag(w)
  Array vw = elemwise_eval(ScalarOpId::mul, {r[1], r[0].expand_dims(0)});
  expect_near(mm(sym, r[1]), vw, 1e-9);
  auto w = r[0].to_double_vector();
  EXPECT_TRUE(std::is_sorted(w.begin(), w.end()));

  Array rect = random_matrix({6, 4}, 6);
  for (std::string mode : {"reduced", "complete"}) {
    auto qrv = function({a}, qr(a, mode));
    auto o = (*qrv)({rect});
    EXPECT_EQ(o[0].shape(), (Shape{6, mode == "reduced" ? 4 : 6}));
    expect_near(mm(o[0], o[1]), rect, 1e-10);
  }
  EXPECT_EQ(qr(a, "r").size(), 1u);
  EXPECT_THROW(qr(a, "raw"), std::invalid_argument);

  auto s = function({a}, svd(a, false));
  auto usv = (*s)({rect});
  Array us = elemwise_eval(ScalarOpId::mul, {usv[0], usv[1].expand_dims(0)});
  expect_near(mm(us, usv[2]), rect, 1e-10);
  Array only_s = eval(svd(a, true, false)[0], {{a, rect}});
  expect_near(only_s, usv[1], 1e-10);
  Array pi = eval(pinv(a), {{a, rect}});
  EXPECT_EQ(pi.shape(), (Shape{4, 6}));
  expect_near(mm(pi, rect), identity_array(4), 1e-10);
}

TEST(Linalg, EmptyMatrices) {
  Var a = matrix(DType::Float64, "a");
  Array e = Array::zeros(DType::Float64, {0, 0});
  EXPECT_EQ(eval(det(a), {{a, e}}).item_double(), 1.0);
  EXPECT_EQ(eval(matrix_inverse(a), {{a, e}}).shape(), (Shape{0, 0}));
  auto s = eval(svd(a, true, false)[0], {{a, Array::zeros(DType::Float64, {3, 0})}});
  EXPECT_EQ(s.shape(), (Shape{0}));
}

TEST(Linalg, Diagonals) {
  Var x = matrix(DType::Int32, "x");
  Array xv = Array::from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(eval(extract_diag(x), {{x, xv}}).to_double_vector(), (std::vector<double>{1, 5}));
  EXPECT_EQ(eval(extract_diag(x, 1), {{x, xv}}).to_double_vector(), (std::vector<double>{2, 6}));
  EXPECT_EQ(eval(extract_diag(x, -1), {{x, xv}}).to_double_vector(), (std::vector<double>{4}));
  EXPECT_EQ(eval(extract_diag(x, 5), {{x, xv}}).shape(), (Shape{0}));
  Var t = trace(x);
  EXPECT_EQ(t.dtype(), DType::Int64);
  EXPECT_EQ(eval(t, {{x, xv}}).item_double(), 6.0);
  Var v = vector(DType::Float32, "v");
  Array d = eval(alloc_diag(v, -1), {{v, Array::from_vector<float>({7, 8})}});
  EXPECT_EQ(d.to_double_vector(), (std::vector<double>{0, 0, 0, 7, 0, 0, 0, 8, 0}));
  EXPECT_EQ(extract_diag(tensor(DType::Float32, {3, 5}), 1).type(), TensorType(DType::Float32, {3}));
}
