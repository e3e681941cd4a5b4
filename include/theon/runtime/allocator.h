// theon/runtime/allocator.h — host memory for Array buffers.
//
// Every Buffer theon allocates comes from here. Small blocks go to the C
// library's allocator; blocks of 1 MiB and more are kept in a cache when
// released and handed out again for the next request of the same size class
// (sizes rounded up by at most 1/8). A compiled function called repeatedly on
// fixed shapes thus reuses the same memory from its second call on, instead of
// mapping fresh pages (and taking a page fault per 4 KiB) on every call, as
// glibc does for blocks above its mmap threshold. Blocks of 4 MiB and more
// are 2 MiB aligned and advised to use transparent huge pages.
//
// The cache holds at most cache_limit() bytes of released blocks (default
// 1 GiB; THEON_ALLOC_CACHE=<MiB> or set_cache_limit; 0 disables it); beyond
// that the oldest released blocks go back to the system. Thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>

namespace theon {

struct MemoryStats {
  size_t in_use_bytes = 0;       // bytes of live buffers (requested sizes)
  size_t peak_in_use_bytes = 0;  // the most in_use_bytes reached since the last reset_peak_memory()
  size_t cached_bytes = 0;       // released large blocks kept for reuse
  uint64_t cache_hits = 0;       // large requests served from the cache
  uint64_t system_allocs = 0;    // large requests that went to the system
};

MemoryStats memory_stats();
// Starts a new peak measurement at the current in_use_bytes.
void reset_peak_memory();
// Returns every cached block to the system.
void empty_cache();
// The most bytes the cache keeps (0: no caching); shrinks the cache at once when lowered.
void set_cache_limit(size_t bytes);
size_t cache_limit();

namespace detail {
// `nbytes` bytes, 64-byte aligned (2 MiB for large blocks); throws
// std::bad_alloc when the system has no memory. Free with host_free and the same nbytes.
void* host_alloc(size_t nbytes);
void host_free(void* p, size_t nbytes) noexcept;
}  // namespace detail

}  // namespace theon
