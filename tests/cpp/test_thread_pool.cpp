// The library's thread pool: coverage of ranges, nesting, exceptions, resizing.
#include <gtest/gtest.h>

#include <atomic>
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
