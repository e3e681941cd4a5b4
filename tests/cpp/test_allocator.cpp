// The host allocator: large blocks come back from the cache, the cache obeys
// its limit, statistics add up, absurd sizes fail cleanly.
#include <gtest/gtest.h>

#include <cstring>
#include <new>

#include "theon/runtime/allocator.h"
#include "theon/runtime/array.h"

using namespace theon;

TEST(Allocator, LargeBlocksAreReusedAcrossArrays) {
  const size_t saved = cache_limit();
  set_cache_limit(size_t(256) << 20);
  const int64_t n = 3 << 20;  // 12 MiB of float32
  void* first = nullptr;
  {
    Array a = Array::empty(DType::Float32, {n});
    first = a.data();
    std::memset(a.data(), 1, size_t(n) * 4);
  }
  const MemoryStats before = memory_stats();
  EXPECT_GE(before.cached_bytes, size_t(n) * 4);
  {
    Array b = Array::empty(DType::Float32, {n - 100});  // same size class
    EXPECT_EQ(b.data(), first);
  }
  const MemoryStats after = memory_stats();
  EXPECT_EQ(after.cache_hits, before.cache_hits + 1);
  EXPECT_EQ(after.system_allocs, before.system_allocs);
  set_cache_limit(saved);
}

TEST(Allocator, LimitZeroDisablesTheCacheAndEmptyCacheReleases) {
  const size_t saved = cache_limit();
  set_cache_limit(size_t(64) << 20);
  { Array a = Array::empty(DType::Float64, {1 << 20}); }
  EXPECT_GT(memory_stats().cached_bytes, 0u);
  empty_cache();
  EXPECT_EQ(memory_stats().cached_bytes, 0u);
  set_cache_limit(0);
  { Array a = Array::empty(DType::Float64, {1 << 20}); }
  EXPECT_EQ(memory_stats().cached_bytes, 0u);
  set_cache_limit(saved);
}

TEST(Allocator, InUseAndPeakFollowLiveBuffers) {
  reset_peak_memory();
  const size_t base = memory_stats().in_use_bytes;
  {
    Array a = Array::empty(DType::Int8, {5000});
    EXPECT_EQ(memory_stats().in_use_bytes, base + 5000);
    Array b = Array::empty(DType::Int8, {2 << 20});
    EXPECT_GE(memory_stats().peak_in_use_bytes, base + 5000 + (2 << 20));
  }
  EXPECT_EQ(memory_stats().in_use_bytes, base);
}

TEST(Allocator, AbsurdSizeThrowsBadAlloc) {
  EXPECT_THROW(detail::host_alloc(SIZE_MAX - 10), std::bad_alloc);
  EXPECT_THROW(detail::host_alloc(size_t(1) << 60), std::bad_alloc);
}
