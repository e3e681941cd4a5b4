// One compiled function called from several threads at once: each call has its
// own value slots, so results are right; updates are applied whole (none is lost
// or torn) and profile counters add up.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "theon/theon.h"

using namespace theon;

TEST(FunctionThreads, ConcurrentCallsGiveEachCallerItsOwnResult) {
  Var x = vector(DType::Float64, "x");
  Var y = sum(exp(x) * 2.0 + x);  // large enough to use the thread pool inside
  FunctionOptions opt;
  opt.profile = true;
  auto f = function({x}, {y}, opt);
  const int64_t n = 1 << 17;
  constexpr int kThreads = 4, kCalls = 25;
  std::atomic<int> wrong{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      Array a = Array::zeros(DType::Float64, {n});
      double* p = a.data_as<double>();
      for (int64_t i = 0; i < n; ++i) p[i] = double(t) * 1e-6;
      const double want = double(n) * (2.0 * std::exp(double(t) * 1e-6) + double(t) * 1e-6);
      for (int c = 0; c < kCalls; ++c) {
        const double got = (*f)({a})[0].item_double();
        if (std::abs(got - want) > 1e-9 * want) ++wrong;
      }
    });
  }
  for (auto& th : ts) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(f->call_profile().calls, kThreads * kCalls);
  for (const OpProfile& p : f->profile()) EXPECT_EQ(p.calls, kThreads * kCalls) << p.op;
}

TEST(FunctionThreads, ConcurrentUpdatesAreAppliedWhole) {
  // Every call replaces both halves of the state with one consistent pair.
  Var a = shared(Array::zeros(DType::Float64, {256}), "a");
  Var b = shared(Array::zeros(DType::Float64, {256}), "b");
  Var k = scalar(DType::Float64, "k");
  FunctionOptions opt;
  opt.updates = {{a, zeros_like(a) + k}, {b, zeros_like(b) - k}};
  auto f = function({k}, {}, opt);
  std::vector<std::thread> ts;
  for (int t = 1; t <= 4; ++t)
    ts.emplace_back([&, t] {
      for (int c = 0; c < 50; ++c) (*f)({Array::scalar(DType::Float64, double(t * 100 + c))});
    });
  for (auto& th : ts) th.join();
  Array va = get_value(a), vb = get_value(b);
  const double ka = va.data_as<double>()[0];
  EXPECT_EQ(vb.data_as<double>()[0], -ka);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(va.data_as<double>()[i], ka);
}
