// Products: dot, matmul, tensordot, outer, batched_dot against naive loops.
#include <gtest/gtest.h>

#include <random>

#include <theon/ops/blas.h>
#include <theon/theon.h>

using namespace theon;

namespace {

Array random_array(DType dt, const Shape& shape, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_int_distribution<int> d(dtype_kind(dt) == DKind::UInt ? 0 : -4, 4);
  std::vector<double> v(size_t(shape_size(shape)));
  for (auto& x : v) x = d(g);
  Array a = Array::from_vector<double>(v, shape.empty() ? Shape{} : shape);
  if (shape.empty()) a = Array::scalar(DType::Float64, v[0]);
  return a.astype(dt);
}

// Naive C[i, j] = sum_p A[i, p] B[p, j] in double.
std::vector<double> naive(const Array& a, const Array& b) {
  int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
  std::vector<double> r(size_t(m * n), 0.0);
  Array A = a.contiguous(DType::Float64), B = b.contiguous(DType::Float64);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) r[i * n + j] += A.data_as<double>()[i * k + p] * B.data_as<double>()[p * n + j];
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

TEST(Blas, Matmul2dAllDtypesAndLayouts) {
  for (DType dt : {DType::Float64, DType::Float32, DType::Float16, DType::Int32, DType::Int8, DType::UInt16}) {
    Array a = random_array(dt, {5, 7}, 1), b = random_array(dt, {7, 3}, 2);
    std::vector<double> want = naive(a, b);
    // transposed (column-major) and strided views of the same values
    Array at = a.transpose().copy().transpose();
    Array bs = random_array(dt, {7, 6}, 2).slice(1, 0, 6, 2);
    bs.assign(b);
    for (const Array& A : {a, at})
      for (const Array& B : {b, bs, b.transpose().copy().transpose()}) {
        Array c = Array::empty(dt, {5, 3});
        matmul_2d(A, B, c);
        EXPECT_EQ(c.to_double_vector(), want) << dtype_name(dt);
      }
  }
}

TEST(Blas, DotShapesAndDtypes) {
  Var a = tensor(DType::Float32, {2, 3, 4}, "a");
  Var b = tensor(DType::Int16, {5, 4, 6}, "b");
  Var d = dot(a, b);
  EXPECT_EQ(d.type(), TensorType(DType::Float32, {2, 3, 5, 6}));
  Var v = vector(DType::Int64, "v");
  EXPECT_EQ(dot(v, v).type(), TensorType(DType::Int64, {}));
  Var s = scalar(DType::Int8, "s");
  EXPECT_EQ(dot(s, a).type(), TensorType(DType::Float32, {2, 3, 4}));
  Array av = random_array(DType::Float32, {2, 3, 4}, 3), bv = random_array(DType::Int16, {5, 4, 6}, 4);
  Array r = eval(d, {{a, av}, {b, bv}});
  EXPECT_EQ(r.shape(), (Shape{2, 3, 5, 6}));
  // r[1, 2, 3, 5] = sum_k a[1, 2, k] b[3, k, 5]
  double want = 0;
  for (int k = 0; k < 4; ++k)
    want += av.index(0, 1).index(0, 2).item_double(k) * bv.index(0, 3).index(1, 5).item_double(k);
  EXPECT_EQ(r.index(0, 1).index(0, 2).index(0, 3).item_double(5), want);
}

TEST(Blas, DotMisalignedAtBuildTime) {
  Var a = matrix(DType::Float64, "a");
  Var x = tensor(DType::Float64, {3, 4});
  Var y = tensor(DType::Float64, {5, 6});
  EXPECT_EQ(message_of([&] { dot(x, y); }), "[dot] shapes (3, 4) and (5, 6) are not aligned: 4 (dim 1) != 5 (dim 0)");
  EXPECT_NE(message_of([&] { matmul(x, y); }).find("[matmul] shapes (3, 4) and (5, 6) are not aligned"),
            std::string::npos);
  // runtime check when the static shapes are unknown
  Array v = Array::zeros(DType::Float64, {3, 4});
  EXPECT_NE(message_of([&] { eval(dot(a, a), {{a, v}}); }).find("[dot] shapes (3, 4) and (3, 4) are not aligned"),
            std::string::npos);
  EXPECT_NE(message_of([&] { tensordot(x, y, 3); }).find("[tensordot]"), std::string::npos);
  EXPECT_NE(message_of([&] { batched_dot(tensor(DType::Float64, {2, 3, 4}), tensor(DType::Float64, {3, 4, 5})); })
                .find("[batched_dot] batch sizes differ: 2 != 3"),
            std::string::npos);
}

TEST(Blas, MatmulBroadcastsBatches) {
  Var a = tensor(DType::Float64, {2, 1, 3, 4}, "a");
  Var b = tensor(DType::Float64, {5, 4, 2}, "b");
  Var c = matmul(a, b);
  EXPECT_EQ(c.type(), TensorType(DType::Float64, {2, 5, 3, 2}));
  Array av = random_array(DType::Float64, {2, 1, 3, 4}, 5), bv = random_array(DType::Float64, {5, 4, 2}, 6);
  Array r = eval(c, {{a, av}, {b, bv}});
  EXPECT_EQ(r.index(0, 1).index(0, 4).copy().to_double_vector(), naive(av.index(0, 1).index(0, 0), bv.index(0, 4)));
  EXPECT_EQ(matmul(vector(DType::Float32), tensor(DType::Float32, {3, 4, 5})).type(),
            TensorType(DType::Float32, {3, 5}));
  EXPECT_THROW(matmul(scalar(DType::Float32), vector(DType::Float32)), std::invalid_argument);
  EXPECT_EQ(shape_i(c, 1).is_constant(), true);
}

TEST(Blas, EmptyAndBoolProducts) {
  Var a = matrix(DType::Float64, "a"), b = matrix(DType::Float64, "b");
  Array r = eval(dot(a, b), {{a, Array::zeros(DType::Float64, {3, 0})}, {b, Array::zeros(DType::Float64, {0, 2})}});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  EXPECT_EQ(r.to_double_vector(), std::vector<double>(6, 0.0));
  Var p = matrix(DType::Bool, "p");
  Array pv = Array::from_vector<bool>({true, false, false, false}, {2, 2});
  Array q = eval(dot(p, p), {{p, pv}});
  EXPECT_EQ(q.dtype(), DType::Bool);
  EXPECT_EQ(q.to_double_vector(), (std::vector<double>{1, 0, 0, 0}));
}

TEST(Blas, OuterAndBatchedDot) {
  Var u = vector(DType::Int32, "u"), w = matrix(DType::Float32, "w");
  Var o = outer(u, w);
  EXPECT_EQ(o.type().dtype, DType::Float64);
  Array uv = Array::from_vector<int32_t>({1, 2}), wv = Array::from_vector<float>({1, 2, 3, 4}, {2, 2});
  EXPECT_EQ(eval(o, {{u, uv}, {w, wv}}).to_double_vector(), (std::vector<double>{1, 2, 3, 4, 2, 4, 6, 8}));
  Var x = tensor(DType::Float64, {-1, 3, 4}, "x"), y = tensor(DType::Float64, {-1, 4, 2}, "y");
  Var bd = batched_dot(x, y);
  EXPECT_EQ(bd.type(), TensorType(DType::Float64, {-1, 3, 2}));
  Array xv = random_array(DType::Float64, {3, 3, 4}, 7), yv = random_array(DType::Float64, {3, 4, 2}, 8);
  Array r = eval(bd, {{x, xv}, {y, yv}});
  EXPECT_EQ(r.index(0, 2).copy().to_double_vector(), naive(xv.index(0, 2), yv.index(0, 2)));
  EXPECT_EQ(batched_dot(x, matrix(DType::Float64)).type(), TensorType(DType::Float64, {-1, 3}));
}
