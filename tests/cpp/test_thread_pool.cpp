// The library's thread pool: coverage of ranges, nesting, exceptions, resizing.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <theon/theon.h>
#include <theon/runtime/thread_pool.h>
#include <vector>

using namespace theon;

TEST(ThreadPool, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    EXPECT_EQ(num_threads(), threads);
    for (int64_t n : {0, 1, 7, 1000, 12345}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      parallel_for(n, 100, [&](int64_t b, int64_t e) {
        EXPECT_LE(e - b, 100);
        for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[size_t(i)].load(), 1) << "n=" << n << " i=" << i;
    }
  }
  set_num_threads(0);
}

TEST(ThreadPool, NestedCallsRunSeriallyAndExceptionsPropagate) {
  set_num_threads(2);
  std::atomic<int64_t> total{0};
  parallel_for(8, 1, [&](int64_t, int64_t) {
    EXPECT_TRUE(in_parallel_region());
    parallel_for(100, 10, [&](int64_t b, int64_t e) { total += e - b; });
  });
  EXPECT_EQ(total.load(), 800);
  EXPECT_FALSE(in_parallel_region());
  EXPECT_THROW(parallel_for(100, 1, [](int64_t b, int64_t) {
                 if (b == 57) throw std::runtime_error("chunk 57");
               }),
               std::runtime_error);
  // The pool still works after a failed job.
  std::atomic<int64_t> n{0};
  parallel_for(1000, 10, [&](int64_t b, int64_t e) { n += e - b; });
  EXPECT_EQ(n.load(), 1000);
  EXPECT_THROW(set_num_threads(-1), std::invalid_argument);
  EXPECT_THROW(config().set("num_threads", "two"), std::invalid_argument);
  set_num_threads(0);
}

TEST(ThreadedElemwise, LargeOutputsGiveTheSameBitsForAnyThreadCount) {
  // A lone Elemwise (FAST_COMPILE does not fuse) over a transposed view and a
  // broadcast row, large enough to be split across threads.
  Array base = Array::empty(DType::Float32, {1000, 301});
  for (int64_t i = 0; i < base.size(); ++i) base.data_as<float>()[i] = float(i % 977) * 0.01f - 3.0f;
  Array xt = base.transpose({1, 0});  // (301, 1000), not contiguous
  Array row = Array::empty(DType::Float32, {1, 1000});
  for (int64_t i = 0; i < 1000; ++i) row.data_as<float>()[i] = float(i) * 0.001f;
  Var x = matrix(DType::Float32, "x"), r = tensor(DType::Float32, {1, -1}, "r");
  FunctionOptions o;
  o.mode = "FAST_COMPILE";
  auto f = function({x, r}, {exp(x) + 0 * r, arctan2(x, r)}, o);
  set_num_threads(1);
  auto one = (*f)({xt, row});
  set_num_threads(2);
  auto two = (*f)({xt, row});
  set_num_threads(0);
  for (size_t k = 0; k < one.size(); ++k) {
    ASSERT_EQ(one[k].shape(), (Shape{301, 1000}));
    EXPECT_EQ(std::memcmp(one[k].data(), two[k].data(), one[k].nbytes()), 0) << "output " << k;
  }
  for (int64_t i : {int64_t(0), int64_t(12345), int64_t(301 * 1000 - 1)}) {
    int64_t a = i / 1000, b = i % 1000;
    float xv = base.data_as<float>()[b * 301 + a];
    EXPECT_EQ(two[1].data_as<float>()[i], std::atan2(xv, row.data_as<float>()[b])) << i;
  }
}
