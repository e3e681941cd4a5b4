// Compiling CUDA C as host C++ for the CUDA emulator (internal to the backend).
//
// The harness defines what the CUDA C of theon's kernels needs from CUDA on
// the host: the __device__/__global__ qualifiers, blockIdx/threadIdx/
// blockDim/gridDim as mutable thread-local variables, __syncthreads (a
// no-op: one thread per block), __shared__ memory (thread-local statics),
// THEON_DYNAMIC_SHARED, atomics, bit casts, warp functions of a one-lane
// warp, and hooks through which the float16 conversions and erfinv/erfcinv
// call theon's own (the .so cannot see theon's symbols). The text after the
// harness is compiled with `-DTHEON_HOST_EMULATION` into a shared library,
// cached on disk under a hash of the whole text and in memory per text.
#pragma once
#include <cstdint>
#include <string>

namespace theon::cuda::detail {

// The text placed before any CUDA C compiled for the host.
const char* emulator_harness();

// The C++ compiler the emulator runs: $CXX, else the first of c++, g++,
// clang++ on PATH; "" when there is none.
const std::string& host_compiler();

// Compiles `source` (which must start with emulator_harness()) into a shared
// library, loads it and connects its hooks; returns its dlopen handle, the
// same one for the same text. `what` names the kernels for error messages.
// Throws std::runtime_error with the compiler's log when it does not compile.
void* load_host_library(const std::string& source, const std::string& what);

// Where compiled libraries are kept: $THEON_CACHE_DIR/cuda-emulator, else
// $XDG_CACHE_HOME/theon/cuda-emulator, else ~/.cache/theon/cuda-emulator.
std::string emulator_cache_dir();

struct EmulatorCacheStats {
  uint64_t compiles = 0;     // texts the compiler actually compiled
  uint64_t memory_hits = 0;  // texts already loaded in this process
  uint64_t disk_hits = 0;    // texts loaded from the disk cache
};
EmulatorCacheStats emulator_cache_stats();
// Forgets the loaded libraries (the disk cache stays); for tests.
void clear_emulator_memory_cache();
// Counts the clears, so the emulator's own table of loaded programs follows them.
uint64_t emulator_cache_generation();

}  // namespace theon::cuda::detail
