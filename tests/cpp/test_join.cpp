// Join/concatenate, stack, split, tile, repeat, roll, broadcast_to, flip.
#include <gtest/gtest.h>
#include <theon/ops/join.h>
#include <theon/ops/shape_extra.h>
#include <theon/theon.h>

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

Array iota(DType d, const Shape& s) {
  Array a = Array::empty(d, s);
  std::vector<double> v(size_t(shape_size(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = double(i);
  a.assign(Array::from_vector<double>(v, s));
  return a;
}

}  // namespace

TEST(Join, ConcatenatePromotesAndChecksStaticShapes) {
  Var a = tensor(DType::Int8, {2, -1}, "a");
  Var b = tensor(DType::Float32, {-1, 3}, "b");
  Var j = concatenate({a, b}, 0);
  EXPECT_EQ(j.dtype(), DType::Float32);
  EXPECT_EQ(j.type().shape, (std::vector<int64_t>{-1, 3}));
  Array av = iota(DType::Int8, {2, 3}), bv = iota(DType::Float32, {1, 3});
  Array r = eval(j, {{a, av}, {b, bv}});
  EXPECT_EQ(r.shape(), (Shape{3, 3}));
  EXPECT_EQ(r.to_double_vector(), (std::vector<double>{0, 1, 2, 3, 4, 5, 0, 1, 2}));
  Var c = tensor(DType::Int8, {2, 4}, "c");
  std::string m = error_of([&] { concatenate({a, b, c}, 0); });
  EXPECT_EQ(m.rfind("[Join{axis=0}]", 0), 0u) << m;
  EXPECT_NE(m.find("(?, 3)"), std::string::npos) << m;
  EXPECT_NE(m.find("(2, 4)"), std::string::npos) << m;
  EXPECT_THROW(concatenate({a, vector(DType::Int8)}), std::invalid_argument);
  EXPECT_THROW(concatenate({scalar(DType::Int8)}), std::invalid_argument);
  EXPECT_THROW(concatenate({a, b}, 2), std::invalid_argument);
  // Run-time mismatch of the non-joined dims.
  EXPECT_THROW(eval(j, {{a, av}, {b, iota(DType::Float32, {1, 4})}}), std::invalid_argument);
}

TEST(Join, NegativeAxisViewsAndShapeInference) {
  Var a = matrix(DType::Float64, "a"), b = matrix(DType::Float64, "b");
  Var j = join(-1, {a, b});
  Array base = iota(DType::Float64, {3, 2});
  Array at = base.transpose();  // 2 x 3, Fortran order
  Array bv = iota(DType::Float64, {2, 1});
  EXPECT_EQ(values(j, {{a, at}, {b, bv}}), (std::vector<double>{0, 2, 4, 0, 1, 3, 5, 1}));
  auto f = function({a, b}, {shape_i(j, 1)});
  EXPECT_EQ((*f)({at, bv})[0].item_int(), 4);
  Var width = shape_i(j, 1);  // toposort returns raw nodes: keep the graph alive
  for (ApplyNode* n : toposort({width}))
    EXPECT_EQ(dynamic_cast<const Join*>(n->op.get()), nullptr);
  // Empty pieces.
  Array e = Array::zeros(DType::Float64, {2, 0});
  EXPECT_EQ(eval(j, {{a, e}, {b, e}}).shape(), (Shape{2, 0}));
}

TEST(Join, Stack) {
  Var a = vector(DType::Int32, "a"), b = vector(DType::Int64, "b");
  Array av = iota(DType::Int32, {3}), bv = iota(DType::Int64, {3});
  Var s0 = stack({a, b}), s1 = stack({a, b}, -1);
  EXPECT_EQ(s0.dtype(), DType::Int64);
  EXPECT_EQ(eval(s0, {{a, av}, {b, bv}}).shape(), (Shape{2, 3}));
  EXPECT_EQ(values(s1, {{a, av}, {b, bv}}), (std::vector<double>{0, 0, 1, 1, 2, 2}));
  std::string m = error_of([] {
    stack({tensor(DType::Float32, {2}), tensor(DType::Float32, {3})});
  });
  EXPECT_EQ(m.rfind("[stack]", 0), 0u) << m;
  EXPECT_NE(m.find("(2,)"), std::string::npos) << m;
}

TEST(Join, SplitReturnsViews) {
  Var x = matrix(DType::Float32, "x");
  auto parts = split(x, std::vector<int64_t>{1, 0, 2}, 1);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].type().shape, (std::vector<int64_t>{-1, 1}));
  auto f = function({x}, parts);
  Array xv = iota(DType::Float32, {2, 3});
  auto r = (*f)({xv});
  EXPECT_EQ(r[0].to_double_vector(), (std::vector<double>{0, 3}));
  EXPECT_EQ(r[1].shape(), (Shape{2, 0}));
  EXPECT_EQ(r[2].to_double_vector(), (std::vector<double>{1, 2, 4, 5}));
  EXPECT_THROW((*f)({iota(DType::Float32, {2, 4})}), std::invalid_argument);
  std::string m = error_of([] { split(tensor(DType::Float32, {4}), std::vector<int64_t>{1, 2}); });
  EXPECT_NE(m.find("sum to 3"), std::string::npos) << m;
  EXPECT_THROW(split(vector(DType::Float32), std::vector<int64_t>{-1, 2}), std::invalid_argument);
  // Symbolic sizes.
  Var s = vector(DType::Int64, "s");
  auto p2 = split(x, s, 2, 0);
  auto g = function({x, s}, p2);
  auto r2 = g->operator()({xv, Array::from_vector<int64_t>({2, 0})});
  EXPECT_EQ(r2[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(r2[1].shape(), (Shape{0, 3}));
  EXPECT_THROW(g->operator()({xv, Array::from_vector<int64_t>({1, 0})}), std::invalid_argument);
}

TEST(ShapeExtra, Tile) {
  Var x = vector(DType::Int16, "x");
  Array xv = iota(DType::Int16, {2});
  Var t = tile(x, std::vector<int64_t>{2, 3});
  EXPECT_EQ(t.dtype(), DType::Int16);
  Array r = eval(t, {{x, xv}});
  EXPECT_EQ(r.shape(), (Shape{2, 6}));
  EXPECT_EQ(r.to_double_vector(), (std::vector<double>{0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}));
  Var m = tensor(DType::Float64, {2, 2}, "m");
  Var t2 = tile(m, std::vector<int64_t>{2});
  EXPECT_EQ(t2.type().shape, (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(values(t2, {{m, iota(DType::Float64, {2, 2})}}),
            (std::vector<double>{0, 1, 0, 1, 2, 3, 2, 3}));
  EXPECT_EQ(eval(tile(x, std::vector<int64_t>{0}), {{x, xv}}).shape(), (Shape{0}));
  EXPECT_THROW(tile(x, std::vector<int64_t>{-1}), std::invalid_argument);
}

TEST(ShapeExtra, Repeat) {
  Var x = matrix(DType::Float64, "x");
  Array xv = iota(DType::Float64, {2, 2});
  EXPECT_EQ(values(repeat(x, 2), {{x, xv}}), (std::vector<double>{0, 0, 1, 1, 2, 2, 3, 3}));
  Var reps = constant(Array::from_vector<int64_t>({1, 2}));
  Var r1 = repeat(x, reps, 0);
  EXPECT_EQ(eval(r1, {{x, xv}}).shape(), (Shape{3, 2}));
  EXPECT_EQ(values(r1, {{x, xv}}), (std::vector<double>{0, 1, 2, 3, 2, 3}));
  EXPECT_EQ(values(repeat(x, 0, -1), {{x, xv}}).size(), 0u);
  std::string m = error_of([&] { repeat(tensor(DType::Float64, {3}), reps, 0); });
  EXPECT_EQ(m.rfind("[Repeat{axis=0}]", 0), 0u) << m;
  EXPECT_THROW(repeat(x, constant(-1.0, DType::Int64), 0), std::invalid_argument);
  EXPECT_THROW(repeat(x, constant(1.5, DType::Float64), 0), std::invalid_argument);
  EXPECT_THROW(eval(r1, {{x, iota(DType::Float64, {3, 2})}}), std::invalid_argument);
  auto f = function({x}, {shape_i(repeat(x, 3, 1), 1)});
  EXPECT_EQ((*f)({xv})[0].item_int(), 6);
}

TEST(ShapeExtra, Roll) {
  Var x = matrix(DType::Int32, "x");
  Array xv = iota(DType::Int32, {2, 3});
  Var s = scalar(DType::Int64, "s");
  EXPECT_EQ(values(roll(x, s, 1), {{x, xv}, {s, Array::scalar(DType::Int64, 1)}}),
            (std::vector<double>{2, 0, 1, 5, 3, 4}));
  EXPECT_EQ(values(roll(x, s, 1), {{x, xv}, {s, Array::scalar(DType::Int64, -4)}}),
            (std::vector<double>{1, 2, 0, 4, 5, 3}));
  EXPECT_EQ(values(roll(x, s), {{x, xv}, {s, Array::scalar(DType::Int64, 2)}}),
            (std::vector<double>{4, 5, 0, 1, 2, 3}));
  Var r2 = roll(x, std::vector<Var>{constant(1.0, DType::Int64)}, std::vector<int>{0, 1});
  EXPECT_EQ(values(r2, {{x, xv}}), (std::vector<double>{5, 3, 4, 2, 0, 1}));
  EXPECT_EQ(eval(roll(x, s, 0),
                 {{x, Array::zeros(DType::Int32, {0, 3})}, {s, Array::scalar(DType::Int64, 1)}})
                .shape(),
            (Shape{0, 3}));
  EXPECT_THROW(roll(x, s, 2), std::invalid_argument);
  EXPECT_THROW(roll(x, constant(1.0, DType::Float64), 0), std::invalid_argument);
}

TEST(ShapeExtra, BroadcastToIsAView) {
  Var x = tensor(DType::Float32, {3}, "x");
  Var b = broadcast_to(x, std::vector<int64_t>{2, 3});
  EXPECT_EQ(b.type().shape, (std::vector<int64_t>{2, 3}));
  Array xv = iota(DType::Float32, {3});
  In xin(x);
  xin.borrow = true;  // without borrow, an output aliasing an input is copied
  Array r = (*function({xin}, {b}))({xv})[0];
  EXPECT_EQ(r.strides()[0], 0);
  EXPECT_EQ(eval(b, {{x, xv}}).strides()[0], 12) << "an unborrowed view of an input is returned as a copy";
  EXPECT_EQ(r.to_double_vector(), (std::vector<double>{0, 1, 2, 0, 1, 2}));
  std::string m = error_of([&] { broadcast_to(x, std::vector<int64_t>{2, 4}); });
  EXPECT_EQ(m.rfind("[BroadcastTo]", 0), 0u) << m;
  EXPECT_NE(m.find("(3,)"), std::string::npos) << m;
  EXPECT_THROW(broadcast_to(x, std::vector<int64_t>{}), std::invalid_argument);
}

TEST(ShapeExtra, FlipIsAView) {
  Var x = tensor(DType::Float64, {-1, 3}, "x");
  Array xv = iota(DType::Float64, {2, 3});
  EXPECT_EQ(values(flip(x), {{x, xv}}), (std::vector<double>{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(values(flip(x, std::vector<int>{-1}), {{x, xv}}),
            (std::vector<double>{2, 1, 0, 5, 4, 3}));
  // Flipping a transposed view.
  EXPECT_EQ(values(flip(x, std::vector<int>{0}), {{x, iota(DType::Float64, {3, 2}).transpose()}}),
            (std::vector<double>{1, 3, 5, 0, 2, 4}));
  EXPECT_EQ(eval(flip(x), {{x, Array::zeros(DType::Float64, {0, 3})}}).shape(), (Shape{0, 3}));
  EXPECT_THROW(flip(x, std::vector<int>{2}), std::invalid_argument);
  EXPECT_THROW(flip(x, std::vector<int>{0, 0}), std::invalid_argument);
}
