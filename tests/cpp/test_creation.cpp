// Creation ops: alloc, fill, zeros/ones(_like), eye, tri, tril/triu, arange, linspace.
#include <gtest/gtest.h>
#include <theon/ops/creation.h>
#include <theon/theon.h>

#include <cmath>

using namespace theon;

namespace {

std::vector<double> values(const Var& v, const std::vector<std::pair<Var, Array>>& in = {}) {
  return eval(v, in).to_double_vector();
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Creation, AllocBroadcastsValueToSymbolicShape) {
  Var x = matrix(DType::Float32, "x");
  Var v = vector(DType::Float32, "v");
  Var a = alloc(v, std::vector<Var>{shape_i(x, 0), shape_i(x, 1)});
  EXPECT_EQ(a.dtype(), DType::Float32);
  Array xv = Array::zeros(DType::Float32, {2, 3});
  Array vv = Array::from_vector<float>({1, 2, 3});
  Array r = eval(a, {{x, xv}, {v, vv}});
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  EXPECT_EQ(r.to_double_vector(), (std::vector<double>{1, 2, 3, 1, 2, 3}));
  // The result owns its memory.
  EXPECT_FALSE(r.shares_memory_with(vv));
  // Shape inferred without evaluating the value.
  auto f = function({x}, {shape_i(alloc(constant(1.0, DType::Float64), shape_of(x)), 1)});
  EXPECT_EQ((*f)({xv})[0].item_int(), 3);
}

TEST(Creation, AllocStaticErrors) {
  Var v = tensor(DType::Float64, {3}, "v");
  std::string m = error_of([&] { alloc(v, std::vector<int64_t>{2, 4}); });
  EXPECT_EQ(m.rfind("[Alloc]", 0), 0u) << m;
  EXPECT_NE(m.find("(3,)"), std::string::npos) << m;
  EXPECT_NE(m.find("(2, 4)"), std::string::npos) << m;
  m = error_of([&] { alloc(v, std::vector<int64_t>{-1, 3}); });
  EXPECT_NE(m.find("negative"), std::string::npos) << m;
  m = error_of([&] { alloc(matrix(DType::Float64), std::vector<int64_t>{3}); });
  EXPECT_NE(m.find("more dimensions"), std::string::npos) << m;
  m = error_of([&] { alloc(v, std::vector<Var>{constant(2.5, DType::Float64)}); });
  EXPECT_NE(m.find("integer scalar"), std::string::npos) << m;
  // Run-time mismatch.
  Var n = scalar(DType::Int64, "n");
  Var a = alloc(vector(DType::Float64, "w"), std::vector<Var>{n});
  EXPECT_THROW(eval(a, {{a.owner()->inputs[0], Array::from_vector<double>({1, 2})},
                        {n, Array::scalar(DType::Int64, 3)}}),
               std::invalid_argument);
}

TEST(Creation, FillTakesValueDtypeAndBroadcastShape) {
  Var m = tensor(DType::Float32, {2, 1}, "m");
  Var v = tensor(DType::Int32, {3}, "v");
  Var f = fill(m, v);
  EXPECT_EQ(f.dtype(), DType::Int32);
  EXPECT_EQ(f.type().shape, (std::vector<int64_t>{2, 3}));
  Array r = eval(
      f, {{m, Array::zeros(DType::Float32, {2, 1})}, {v, Array::from_vector<int32_t>({4, 5, 6})}});
  EXPECT_EQ(r.to_double_vector(), (std::vector<double>{4, 5, 6, 4, 5, 6}));
  EXPECT_THROW(fill(tensor(DType::Float32, {2, 4}), v), std::invalid_argument);
  // Symbolic broadcast shape: model (?,) and value (?,), one of them 1 at run time.
  Var a = vector(DType::Float64, "a"), b = vector(DType::Float64, "b");
  auto fn = function({a, b}, {shape_i(fill(a, b), 0)});
  EXPECT_EQ(
      (*fn)({Array::zeros(DType::Float64, {1}), Array::zeros(DType::Float64, {4})})[0].item_int(),
      4);
  EXPECT_EQ(
      (*fn)({Array::zeros(DType::Float64, {5}), Array::zeros(DType::Float64, {1})})[0].item_int(),
      5);
}

TEST(Creation, ZerosOnesLike) {
  Var x = tensor(DType::Int16, {-1, 2}, "x");
  Array xv = Array::from_vector<int16_t>({1, 2, 3, 4, 5, 6}, {3, 2});
  Var z = zeros_like(x), o = ones_like(x, DType::Float16),
      f = full_like(x, constant(7.9, DType::Float64));
  EXPECT_EQ(z.dtype(), DType::Int16);
  EXPECT_EQ(o.dtype(), DType::Float16);
  EXPECT_EQ(f.dtype(), DType::Int16);
  EXPECT_EQ(values(z, {{x, xv}}), std::vector<double>(6, 0.0));
  EXPECT_EQ(values(o, {{x, xv}}), std::vector<double>(6, 1.0));
  EXPECT_EQ(values(f, {{x, xv}}), std::vector<double>(6, 7.0));
  Var zz = zeros(std::vector<int64_t>{2, 0, 3}, DType::Bool);
  EXPECT_EQ(zz.type().shape, (std::vector<int64_t>{2, 0, 3}));
  EXPECT_EQ(eval(zz).shape(), (Shape{2, 0, 3}));
  EXPECT_EQ(eval(ones(std::vector<int64_t>{}, DType::UInt8)).item_int(), 1);
}

TEST(Creation, EyeTriAndIdentityLike) {
  EXPECT_EQ(values(eye(3, 4, 1)), (std::vector<double>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}));
  EXPECT_EQ(values(eye(2, std::nullopt, -1, DType::Int8)), (std::vector<double>{0, 0, 1, 0}));
  EXPECT_EQ(values(eye(2, 2, 5)), (std::vector<double>{0, 0, 0, 0}));
  EXPECT_EQ(values(tri(3, 2, 0)), (std::vector<double>{1, 0, 1, 1, 1, 1}));
  EXPECT_EQ(values(tri(2, 3, -1)), (std::vector<double>{0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(eval(eye(0)).shape(), (Shape{0, 0}));
  Var x = matrix(DType::Float32, "x");
  Var i = identity_like(x);
  EXPECT_EQ(i.dtype(), DType::Float32);
  EXPECT_EQ(values(i, {{x, Array::zeros(DType::Float32, {2, 3})}}),
            (std::vector<double>{1, 0, 0, 0, 1, 0}));
  std::string m = error_of([] { eye(-2); });
  EXPECT_EQ(m.rfind("[Eye{float64}]", 0), 0u) << m;
  EXPECT_THROW(identity_like(vector(DType::Float32)), std::invalid_argument);
  // Symbolic n at run time.
  Var n = scalar(DType::Int32, "n");
  EXPECT_THROW(eval(eye(n), {{n, Array::scalar(DType::Int32, -1)}}), std::invalid_argument);
  EXPECT_EQ(eval(eye(n), {{n, Array::scalar(DType::Int32, 2)}}).to_double_vector(),
            (std::vector<double>{1, 0, 0, 1}));
}

TEST(Creation, TrilTriuOnLastTwoAxesOfAnyLayout) {
  // A transposed (Fortran-ordered) 3x3 input.
  Array base = Array::from_vector<double>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3});
  Array t = base.transpose();  // [[1,4,7],[2,5,8],[3,6,9]]
  Var x = matrix(DType::Float64, "x");
  EXPECT_EQ(values(tril(x), {{x, t}}), (std::vector<double>{1, 0, 0, 2, 5, 0, 3, 6, 9}));
  EXPECT_EQ(values(triu(x, 1), {{x, t}}), (std::vector<double>{0, 4, 7, 0, 0, 8, 0, 0, 0}));
  EXPECT_EQ(values(tril(x, -5), {{x, t}}), std::vector<double>(9, 0.0));
  // Batched: 2 x 2 x 2.
  Var b = tensor(DType::Int8, {-1, 2, 2}, "b");
  Array bv = Array::from_vector<int8_t>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 2, 2});
  EXPECT_EQ(values(triu(b), {{b, bv}}), (std::vector<double>{1, 2, 0, 4, 5, 6, 0, 8}));
  // A vector is broadcast to n x n, as in NumPy.
  Var v = vector(DType::Int64, "v");
  EXPECT_EQ(values(tril(v), {{v, Array::from_vector<int64_t>({1, 2})}}),
            (std::vector<double>{1, 0, 1, 2}));
  std::string m = error_of([] { tril(scalar(DType::Float64)); });
  EXPECT_EQ(m.rfind("[tril]", 0), 0u) << m;
}

TEST(Creation, ArangeDtypesAndValues) {
  auto c = [](double v, DType d) { return constant(v, d); };
  Var a = arange(c(1, DType::Int32), c(10, DType::Int8), c(3, DType::Int64));
  EXPECT_EQ(a.dtype(), DType::Int64);
  EXPECT_EQ(a.type().shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(values(a), (std::vector<double>{1, 4, 7}));
  Var f = arange(c(0, DType::Float32), c(1, DType::Int64), c(0.25, DType::Float64));
  EXPECT_EQ(f.dtype(), DType::Float64);
  EXPECT_EQ(values(f), (std::vector<double>{0, 0.25, 0.5, 0.75}));
  EXPECT_EQ(arange(c(3, DType::UInt64)).dtype(), DType::Float64);
  EXPECT_EQ(values(arange(c(5, DType::Int64), c(1, DType::Int64), c(-2, DType::Int64))),
            (std::vector<double>{5, 3}));
  EXPECT_EQ(eval(arange(c(5, DType::Int64), c(1, DType::Int64), c(1, DType::Int64))).shape(),
            (Shape{0}));
  // Explicit dtype: the values are start and start + step cast, then extended.
  EXPECT_EQ(values(arange(c(0, DType::Float64), c(2, DType::Float64), c(0.5, DType::Float64),
                          DType::Int32)),
            (std::vector<double>{0, 0, 0, 0}));
  std::string m =
      error_of([&] { arange(c(0, DType::Int64), c(5, DType::Int64), c(0, DType::Int64)); });
  EXPECT_NE(m.find("step must not be zero"), std::string::npos) << m;
  EXPECT_THROW(arange(c(3, DType::Int64), DType::Bool), std::invalid_argument);
  EXPECT_EQ(values(arange(c(2, DType::Int64), DType::Bool)), (std::vector<double>{0, 1}));
  // Symbolic bounds: the length is inferred without computing the range.
  Var n = scalar(DType::Int64, "n");
  Var r = arange(n);
  auto fn = function({n}, {shape_i(r, 0)});
  EXPECT_EQ((*fn)({Array::scalar(DType::Int64, 7)})[0].item_int(), 7);
  EXPECT_EQ((*fn)({Array::scalar(DType::Int64, -3)})[0].item_int(), 0);
  EXPECT_EQ(values(r, {{n, Array::scalar(DType::Int64, 4)}}), (std::vector<double>{0, 1, 2, 3}));
}

TEST(Creation, LinspaceMatchesNumPy) {
  auto c = [](double v, DType d) { return constant(v, d); };
  Var l = linspace(c(0, DType::Int64), c(1, DType::Int64), 5);
  EXPECT_EQ(l.dtype(), DType::Float64);
  EXPECT_EQ(values(l), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(values(linspace(c(0, DType::Int64), c(1, DType::Int64), 4, false)),
            (std::vector<double>{0, 0.25, 0.5, 0.75}));
  EXPECT_EQ(linspace(c(0, DType::Float32), c(1, DType::Float32), 3).dtype(), DType::Float32);
  // Integer dtypes floor (NumPy 2): np.linspace(0, 1, 5, dtype=int32) == [0, 0, 0, 0, 1].
  EXPECT_EQ(values(linspace(c(0, DType::Int64), c(1, DType::Int64), 5, true, DType::Int32)),
            (std::vector<double>{0, 0, 0, 0, 1}));
  EXPECT_EQ(values(linspace(c(2, DType::Int64), c(3, DType::Int64), 1)), (std::vector<double>{2}));
  EXPECT_EQ(eval(linspace(c(2, DType::Int64), c(3, DType::Int64), 0)).shape(), (Shape{0}));
  std::string m = error_of([&] { linspace(c(0, DType::Int64), c(1, DType::Int64), -1); });
  EXPECT_NE(m.find("must be non-negative"), std::string::npos) << m;
}
