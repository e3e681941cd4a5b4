// elemwise_reduce_fusion: a reduction over trailing axes and its elementwise
// producer become one CompositeReduce, with the same bits as the unfused pair.
#include <cstring>

#include "rewrite_test_util.h"

using namespace theon;
using namespace theon::testing;

namespace {

void expect_same_bits(const Array& a, const Array& b, const std::string& what) {
  ASSERT_EQ(a.dtype(), b.dtype()) << what;
  ASSERT_EQ(a.shape(), b.shape()) << what;
  Array ac = a.copy(), bc = b.copy();
  EXPECT_EQ(std::memcmp(ac.data(), bc.data(), size_t(a.size()) * a.itemsize()), 0) << what;
}

Mode without_reduce_fusion() { return Mode("FAST_RUN").excluding({"elemwise_reduce_fusion"}); }

}  // namespace

TEST(ReduceFusion, SumOfCompositeOverRowsFusesWithTheSameBits) {
  Var x = matrix(DType::Float32, "x"), y = matrix(DType::Float32, "y");
  Var out = sum(exp(x) * y + x, std::vector<int>{1});
  // Shapes around the chunking: one chunk, many chunks, a ragged last chunk, long rows.
  for (Shape shp : {Shape{3, 5}, Shape{1000, 77}, Shape{333, 1024}, Shape{4, 70000}}) {
    std::vector<Array> vals{random_array(DType::Float32, shp, 1), random_array(DType::Float32, shp, 2)};
    auto f = compile({x, y}, {out});
    auto g = compile({x, y}, {out}, without_reduce_fusion());
    EXPECT_EQ(fired(*f, "elemwise_reduce_fusion"), 1);
    EXPECT_EQ(count_ops(*f, "Sum"), 1);  // the fused op prints as Sum{...}(Composite{...})
    EXPECT_EQ(count_ops(*f, "Composite"), 0);
    EXPECT_EQ(fired(*g, "elemwise_reduce_fusion"), 0);
    expect_same_bits((*g)(vals)[0], (*f)(vals)[0], "shape " + shape_str(shp));
    expect_same_as_unoptimized({x, y}, {out}, vals);
  }
}

TEST(ReduceFusion, SingleElemwiseMaxAndKeepdimsAndBroadcastInputs) {
  Var x = tensor(DType::Float64, {-1, -1, -1}, "x");
  Var b = vector(DType::Float64, "b");  // broadcast along the leading axes
  Var m = max(tanh(x), std::vector<int>{2}, true);
  Var s = mean(x * b, std::vector<int>{1, 2});
  std::vector<Array> vals{random_array(DType::Float64, {6, 40, 30}, 3), random_array(DType::Float64, {30}, 4)};
  auto f = compile({x, b}, {m, s});
  auto g = compile({x, b}, {m, s}, without_reduce_fusion());
  EXPECT_EQ(fired(*f, "elemwise_reduce_fusion"), 2);
  auto got = (*f)(vals), want = (*g)(vals);
  expect_same_bits(want[0], got[0], "max keepdims");
  expect_same_bits(want[1], got[1], "mean over two trailing axes");
  expect_same_as_unoptimized({x, b}, {m, s}, vals);
}

TEST(ReduceFusion, DoesNotFireWhereItWouldDuplicateWorkOrChangeOrder) {
  Var x = matrix(DType::Float32, "x");
  Var e = exp(x);
  // The elementwise value is also an output: it must be materialized anyway.
  auto f1 = compile({x}, {sum(e, std::vector<int>{1}), e});
  EXPECT_EQ(fired(*f1, "elemwise_reduce_fusion"), 0);
  // Leading axis reduced: rows are not contiguous, the chunking would change the order.
  auto f2 = compile({x}, {sum(exp(x), std::vector<int>{0})});
  EXPECT_EQ(fired(*f2, "elemwise_reduce_fusion"), 0);
  // A full reduction: partial results would be combined differently.
  auto f3 = compile({x}, {sum(exp(x))});
  EXPECT_EQ(fired(*f3, "elemwise_reduce_fusion"), 0);
}

TEST(ReduceFusion, IntegerAndBoolProducersKeepNumPyResults) {
  Var a = matrix(DType::Int32, "a");
  Var s = sum(a * a, std::vector<int>{1});            // int64 accumulation of int32 squares
  Var c = sum(gt(a, constant(0.0, DType::Int32)), std::vector<int>{1});  // counting through bool
  std::vector<Array> vals{random_array(DType::Int32, {50, 9}, 5, -1000, 1000)};
  auto f = compile({a}, {s, c});
  EXPECT_EQ(fired(*f, "elemwise_reduce_fusion"), 2);
  expect_same_as_unoptimized({a}, {s, c}, vals);
}
