// The host allocator with a cache of large blocks (see allocator.h).
#include "theon/runtime/allocator.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <new>
#include <string>

namespace theon {
namespace {

constexpr size_t kLarge = size_t(1) << 20;      // cached from here on
constexpr size_t kHuge = size_t(4) << 20;       // 2 MiB aligned, huge pages advised
constexpr size_t kHugeAlign = size_t(2) << 20;
constexpr size_t kMaxBytes = size_t(1) << 46;    // 64 TiB

// The size class of a large request: rounded up to 1/8 of its power of two.
size_t size_class(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  const size_t step = std::max<size_t>(p / 16, 4096);
  return (n + step - 1) / step * step;
}

size_t default_limit() {
  if (const char* env = std::getenv("THEON_ALLOC_CACHE")) {
    try {
      return size_t(std::stoull(env)) << 20;
    } catch (...) {
    }
  }
  return size_t(1) << 30;
}

struct Cache {
  std::mutex mu;
  // Released blocks by size class; the list keeps release order (oldest first) for trimming.
  std::multimap<size_t, void*> free_by_class;
  std::list<std::pair<size_t, void*>> order;
  size_t cached = 0;
  size_t limit = default_limit();
  uint64_t hits = 0, system = 0;

  // Drops the oldest blocks until at most `keep` bytes remain (mu held).
  void trim(size_t keep) {
    while (cached > keep && !order.empty()) {
      auto [cls, p] = order.front();
      order.pop_front();
      auto range = free_by_class.equal_range(cls);
      for (auto it = range.first; it != range.second; ++it)
        if (it->second == p) {
          free_by_class.erase(it);
          break;
        }
      cached -= cls;
      std::free(p);
    }
  }
};

Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: buffers may be released during exit
  return *c;
}

std::atomic<size_t> g_in_use{0}, g_peak{0};

void note_alloc(size_t n) {
  const size_t now = g_in_use.fetch_add(n, std::memory_order_relaxed) + n;
  size_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void* system_alloc(size_t cls) {
  const size_t align = cls >= kHuge ? kHugeAlign : 64;
  void* p = std::aligned_alloc(align, (cls + align - 1) / align * align);
  if (!p) throw std::bad_alloc();
  if (cls >= kHuge) madvise(p, cls, MADV_HUGEPAGE);  // advice only: failure is harmless
  return p;
}

}  // namespace

void* detail::host_alloc(size_t nbytes) {
  const size_t n = std::max<size_t>(nbytes, 1);
  if (n < kLarge) {  // below kMaxBytes
    void* p = std::aligned_alloc(64, (n + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    note_alloc(nbytes);
    return p;
  }
  // Beyond any machine's memory (and beyond what the sanitizers' allocators
  // accept without aborting): refuse before asking the system.
  if (n > kMaxBytes) throw std::bad_alloc();
  const size_t cls = size_class(n);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free_by_class.find(cls);
    if (it != c.free_by_class.end()) {
      void* p = it->second;
      c.free_by_class.erase(it);
      for (auto o = c.order.begin(); o != c.order.end(); ++o)
        if (o->second == p) {
          c.order.erase(o);
          break;
        }
      c.cached -= cls;
      ++c.hits;
      note_alloc(nbytes);
      return p;
    }
    ++c.system;
  }
  void* p = system_alloc(cls);
  note_alloc(nbytes);
  return p;
}

void detail::host_free(void* p, size_t nbytes) noexcept {
  if (!p) return;
  g_in_use.fetch_sub(nbytes, std::memory_order_relaxed);
  const size_t n = std::max<size_t>(nbytes, 1);
  if (n < kLarge) return std::free(p);
  const size_t cls = size_class(n);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  if (cls > c.limit) return std::free(p);
  c.free_by_class.emplace(cls, p);
  c.order.emplace_back(cls, p);
  c.cached += cls;
  c.trim(c.limit);
}

MemoryStats memory_stats() {
  MemoryStats s;
  s.in_use_bytes = g_in_use.load();
  s.peak_in_use_bytes = g_peak.load();
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  s.cached_bytes = c.cached;
  s.cache_hits = c.hits;
  s.system_allocs = c.system;
  return s;
}

void reset_peak_memory() { g_peak.store(g_in_use.load()); }

void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.trim(0);
}

void set_cache_limit(size_t bytes) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.limit = bytes;
  c.trim(bytes);
}

size_t cache_limit() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.limit;
}

}  // namespace theon
