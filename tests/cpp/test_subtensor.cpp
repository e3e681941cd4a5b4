// Indexing: basic views, advanced (integer/boolean array) indexing, set/inc_subtensor, take.
#include <gtest/gtest.h>

#include <numeric>

#include <theon/theon.h>
#include <theon/ops/subtensor.h>

using namespace theon;

namespace {

Array iota(const Shape& shape, DType dtype = DType::Float64) {
  std::vector<double> v(shape_size(shape));
  std::iota(v.begin(), v.end(), 0.0);
  return Array::from_vector<double>(v, shape).astype(dtype);
}

Var ivar(int64_t i) { return constant(Array::from_vector<int64_t>({i})); }
Var ivec(std::vector<int64_t> v) {
  int64_t n = int64_t(v.size());
  return constant(Array::from_vector<int64_t>(v, {n}));
}

std::vector<double> run(const Var& out, const Var& x, const Array& xv) {
  return eval(out, {{x, xv}}).to_double_vector();
}

template <class E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no error>";
}

using IT = IndexItem;

}  // namespace

TEST(Subtensor, SlicesIntsNewaxisEllipsis) {
  Var x = tensor(DType::Float64, {4, 5}, "x");
  Array xv = iota({4, 5});
  Var a = subtensor(x, {IT::slice(1, 3), IT::slice(std::nullopt, std::nullopt, -2)});
  EXPECT_EQ(a.type().shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(run(a, x, xv), (std::vector<double>{9, 7, 5, 14, 12, 10}));
  Var b = subtensor(x, {IT::integer(-1)});
  EXPECT_EQ(b.type().shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(run(b, x, xv), (std::vector<double>{15, 16, 17, 18, 19}));
  Var c = subtensor(x, {IT::newaxis(), IT::ellipsis(), IT::integer(2)});
  EXPECT_EQ(c.type().shape, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(run(c, x, xv), (std::vector<double>{2, 7, 12, 17}));
  Var d = subtensor(x, {IT::slice(10, std::nullopt)});  // past the end: empty
  EXPECT_EQ(d.type().shape, (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(eval(d, {{x, xv}}).shape(), (Shape{0, 5}));
  Var e = subtensor(x, {});  // x[()]
  EXPECT_EQ(run(e, x, xv), xv.to_double_vector());
}

TEST(Subtensor, IsAViewForAnyStrides) {
  Array base = iota({5, 4});
  Array xv = base.transpose().slice(1, 4, -1 - 5, -1);  // Fortran-ordered, negative stride
  Var x = tensor(DType::Float64, {-1, -1}, "x");
  Var s = subtensor(x, {IT::slice(std::nullopt, std::nullopt, 2), IT::integer(1)});
  const ApplyNode* node = s.owner();
  std::vector<Array> out(1);
  node->op->perform({xv, node->inputs[1].constant_value(), node->inputs[2].constant_value()}, out);
  EXPECT_TRUE(out[0].shares_memory_with(base));
  EXPECT_EQ(out[0].copy().to_double_vector(), (std::vector<double>{12, 14}));
  EXPECT_EQ(node->op->view_map(), (std::vector<std::pair<int, int>>{{0, 0}}));
}

TEST(Subtensor, SymbolicBounds) {
  Var x = vector(DType::Int32, "x");
  Var lo = scalar(DType::Int64, "lo"), hi = scalar(DType::Int32, "hi"), st = scalar(DType::Int8, "st");
  Var s = subtensor(x, {IT::slice(lo, hi, st)});
  EXPECT_EQ(s.type().shape, (std::vector<int64_t>{-1}));
  EXPECT_EQ(s.dtype(), DType::Int32);
  auto f = function({x, lo, hi, st}, {s, shape_i(s, 0)});
  auto r = (*f)({iota({10}, DType::Int32), Array::scalar(DType::Int64, 8),
                 Array::scalar(DType::Int32, -9), Array::scalar(DType::Int8, -3)});
  EXPECT_EQ(r[0].to_double_vector(), (std::vector<double>{8, 5, 2}));
  EXPECT_EQ(r[1].item_int(), 3);
  EXPECT_THROW((*f)({iota({10}, DType::Int32), Array::scalar(DType::Int64, 0),
                     Array::scalar(DType::Int32, 1), Array::scalar(DType::Int8, 0)}),
               std::invalid_argument);
  Var i = scalar(DType::Int64, "i");
  auto g = function({x, i}, {subtensor(x, {IT::integer(i)})});
  EXPECT_EQ((*g)({iota({3}, DType::Int32), Array::scalar(DType::Int64, -3)})[0].item_int(), 0);
  EXPECT_NE(error_of<std::out_of_range>([&] {
              (*g)({iota({3}, DType::Int32), Array::scalar(DType::Int64, 5)});
            }).find("index 5 is out of bounds for axis 0 with size 3"),
            std::string::npos);
}

TEST(Subtensor, BuildTimeErrors) {
  Var x = tensor(DType::Float32, {3, 4}, "x");
  EXPECT_NE(error_of<std::out_of_range>([&] { subtensor(x, {IT::integer(0), IT::integer(5)}); })
                .find("index 5 is out of bounds for axis 1 with size 4"),
            std::string::npos);
  std::string m = error_of<std::out_of_range>(
      [&] { subtensor(x, {IT::integer(0), IT::integer(0), IT::integer(0)}); });
  EXPECT_NE(m.find("[Subtensor"), std::string::npos);
  EXPECT_NE(m.find("too many indices for array: array is 2-dimensional, but 3 were indexed"),
            std::string::npos);
  EXPECT_NE(error_of<std::invalid_argument>([&] { subtensor(x, {IT::slice(0, 2, 0)}); })
                .find("slice step cannot be zero"),
            std::string::npos);
  EXPECT_NE(error_of<std::invalid_argument>([&] { subtensor(x, {IT::integer(scalar(DType::Float64))}); })
                .find("must be an integer scalar"),
            std::string::npos);
  EXPECT_NE(error_of<std::out_of_range>([&] { subtensor(x, {IT::array(vector(DType::Float64))}); })
                .find("arrays used as indices must be of integer (or boolean) type"),
            std::string::npos);
  EXPECT_NE(error_of<std::out_of_range>([&] { subtensor(x, {IT::ellipsis(), IT::ellipsis()}); })
                .find("single ellipsis"),
            std::string::npos);
  EXPECT_THROW(subtensor(x, {IT::array(ivec({0, 3}))}), std::out_of_range);
  EXPECT_NE(error_of<std::out_of_range>([&] { subtensor(x, {IT::array(ivec({0, 1})), IT::array(ivec({0, 1, 2}))}); })
                .find("shape mismatch: indexing arrays could not be broadcast together with shapes (2,) (3,)"),
            std::string::npos);
  Var mask = constant(Array::zeros(DType::Bool, {4}));
  EXPECT_NE(error_of<std::out_of_range>([&] { subtensor(x, {IT::array(mask)}); })
                .find("boolean index did not match indexed array along axis 0; size of axis is 3 but "
                      "size of corresponding boolean axis is 4"),
            std::string::npos);
}

TEST(Subtensor, MakeVectorElement) {
  Var x = matrix(DType::Float64, "x");
  Var s0 = subtensor(shape(x), {IT::integer(0)});
  ASSERT_NE(s0.owner(), nullptr);
  EXPECT_NE(dynamic_cast<const ShapeI*>(s0.owner()->op.get()), nullptr);
  Var s1 = subtensor(shape(x), {IT::integer(-1)});
  EXPECT_EQ(eval(s1, {{x, iota({2, 7})}}).item_int(), 7);
  EXPECT_THROW(subtensor(shape(x), {IT::integer(2)}), std::out_of_range);
}

TEST(AdvancedSubtensor, IntegerArraysAndPlacement) {
  Var x = tensor(DType::Float64, {-1, -1, -1}, "x");
  Array xv = iota({2, 3, 4});
  Var a = subtensor(x, {IT::array(ivec({1, 0, 1}))});
  EXPECT_EQ(a.type().shape, (std::vector<int64_t>{3, -1, -1}));
  EXPECT_EQ(eval(a, {{x, xv}}).shape(), (Shape{3, 3, 4}));
  // adjacent advanced indices stay in place
  Var b = subtensor(x, {IT::slice(), IT::array(ivec({0, 2})), IT::array(ivec({1, -1}))});
  EXPECT_EQ(run(b, x, xv), (std::vector<double>{1, 11, 13, 23}));
  // separated by a slice: the index dims go first; the int counts as an advanced index
  Var c = subtensor(x, {IT::integer(1), IT::slice(), IT::array(ivec({3, 0}))});
  EXPECT_EQ(c.type().shape, (std::vector<int64_t>{2, -1}));
  EXPECT_EQ(run(c, x, xv), (std::vector<double>{15, 19, 23, 12, 16, 20}));
  // broadcasting of index arrays
  Var rows = constant(Array::from_vector<int64_t>({0, 1}, {2, 1}));
  Var d = subtensor(x, {IT::integer(0), IT::array(rows), IT::array(ivec({0, 3}))});
  EXPECT_EQ(d.type().shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(run(d, x, xv), (std::vector<double>{0, 3, 4, 7}));
  EXPECT_NE(error_of<std::out_of_range>([&] { eval(subtensor(x, {IT::array(ivec({2}))}), {{x, xv}}); })
                .find("index 2 is out of bounds for axis 0 with size 2"),
            std::string::npos);
  EXPECT_EQ(shape_i(a, 0).is_constant(), true);
  EXPECT_EQ(eval(shape_i(a, 1), {{x, xv}}).item_int(), 3);
}

TEST(AdvancedSubtensor, BooleanMasks) {
  Var x = matrix(DType::Int16, "x");
  Var m = matrix(DType::Bool, "m");
  Var s = subtensor(x, {IT::array(m)});
  EXPECT_EQ(s.type().shape, (std::vector<int64_t>{-1}));
  Array xv = iota({2, 3}, DType::Int16);
  Array mv = Array::from_vector<bool>({true, false, true, false, false, true}, {2, 3});
  auto f = function({x, m}, {s, shape_i(s, 0)});
  auto r = (*f)({xv, mv});
  EXPECT_EQ(r[0].dtype(), DType::Int16);
  EXPECT_EQ(r[0].to_double_vector(), (std::vector<double>{0, 2, 5}));
  EXPECT_EQ(r[1].item_int(), 3);
  EXPECT_THROW((*f)({xv, Array::zeros(DType::Bool, {3, 2})}), std::out_of_range);
  Var cmask = constant(Array::from_vector<bool>({false, true, true}, {3}));
  Var t = subtensor(x, {IT::slice(), IT::array(cmask)});
  EXPECT_EQ(t.type().shape, (std::vector<int64_t>{-1, 2}));
  EXPECT_EQ(run(t, x, xv), (std::vector<double>{1, 2, 4, 5}));
  Var u = subtensor(x, {IT::integer(constant(Array::from_vector<bool>({true})))});  // x[True]
  EXPECT_EQ(eval(u, {{x, xv}}).shape(), (Shape{1, 2, 3}));
}

TEST(IncSubtensor, RepeatedIndicesAccumulateSetLastWins) {
  Var x = vector(DType::Float32, "x");
  Var y = vector(DType::Float32, "y");
  Var idx = ivec({0, 0, 3, 0});
  Var inc = inc_subtensor(x, {IT::array(idx)}, y);
  Var set = set_subtensor(x, {IT::array(idx)}, y);
  auto f = function({x, y}, {inc, set});
  Array xv = Array::from_vector<float>({1, 1, 1, 1, 1});
  Array yv = Array::from_vector<float>({1, 2, 3, 4});
  auto r = (*f)({xv, yv});
  EXPECT_EQ(r[0].to_double_vector(), (std::vector<double>{8, 1, 1, 4, 1}));
  EXPECT_EQ(r[1].to_double_vector(), (std::vector<double>{4, 1, 1, 3, 1}));
  EXPECT_EQ(xv.to_double_vector(), (std::vector<double>{1, 1, 1, 1, 1}));  // x untouched
  EXPECT_THROW((*f)({xv, Array::from_vector<float>({1, 2})}), std::invalid_argument);
}

TEST(IncSubtensor, BasicAndTheanoForm) {
  Var x = matrix(DType::Int64, "x");
  Array xv = iota({3, 4}, DType::Int64);
  Var sub = subtensor(x, {IT::slice(1, std::nullopt), IT::slice(std::nullopt, std::nullopt, 2)});
  Var s = set_subtensor(sub, constant(7.0, DType::Float64));
  EXPECT_EQ(s.dtype(), DType::Int64);
  EXPECT_EQ(run(s, x, xv), (std::vector<double>{0, 1, 2, 3, 7, 5, 7, 7, 7, 9, 7, 11}));
  Var i = inc_subtensor(sub, constant(Array::from_vector<int64_t>({10, 20}, {2})));
  EXPECT_EQ(run(i, x, xv), (std::vector<double>{0, 1, 2, 3, 14, 5, 26, 7, 18, 9, 30, 11}));
  EXPECT_NE(error_of<std::invalid_argument>([&] { set_subtensor(x, constant(1.0, DType::Int64)); })
                .find("must be the result of indexing"),
            std::string::npos);
  EXPECT_NE(error_of<std::invalid_argument>([&] { set_subtensor(sub, tensor(DType::Int64, {1, 1, 1})); })
                .find("cannot set a 2-dimensional subtensor"),
            std::string::npos);
  Var xs = tensor(DType::Int64, {3, 4});
  EXPECT_THROW(set_subtensor(xs, {IT::slice(1, std::nullopt)}, tensor(DType::Int64, {3})),
               std::invalid_argument);
  // advanced, Theano form, mixed with a slice and repeated rows
  Var a = subtensor(x, {IT::array(ivec({2, 2})), IT::slice(1, 3)});
  Var ai = inc_subtensor(a, constant(Array::from_vector<int64_t>({1, 100}, {2})));
  EXPECT_EQ(run(ai, x, xv), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 210, 11}));
  Var b = set_subtensor(x, {IT::array(constant(Array::from_vector<bool>({true, false, true})))},
                        constant(-1.0, DType::Int64));
  EXPECT_EQ(run(b, x, xv), (std::vector<double>{-1, -1, -1, -1, 4, 5, 6, 7, -1, -1, -1, -1}));
}

TEST(Take, AxisNoneAndAxis) {
  Var a = matrix(DType::Float64, "a");
  Array av = iota({3, 4});
  EXPECT_EQ(run(take(a, ivec({5, -1})), a, av), (std::vector<double>{5, 11}));
  Var t = take(a, constant(Array::from_vector<int64_t>({3, 0, 0, 1}, {2, 2})), 1);
  EXPECT_EQ(t.ndim(), 3);
  EXPECT_EQ(eval(t, {{a, av}}).shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(run(take(a, ivar(2), -2), a, av), (std::vector<double>{8, 9, 10, 11}));
  EXPECT_THROW(take(a, vector(DType::Float32)), std::invalid_argument);
  EXPECT_THROW(take(a, ivar(0), 2), std::invalid_argument);
}
