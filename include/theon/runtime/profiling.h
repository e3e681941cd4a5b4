// theon/runtime/profiling.h — which kernel an op ran, for the profiler.
//
// An op's perform() names the implementation it picked for this call
// ("openblas sgemm", "onednn conv fwd", "simd avx512f", ...) with
// note_kernel; a profiling Function reads the note after the op returns and
// lists it next to the op's time. The note is per thread and costs one store.
#pragma once

namespace theon {

// Records `kernel` (a string literal or other static string) for the op running on this thread.
void note_kernel(const char* kernel) noexcept;
// The last note on this thread, and clears it (nullptr when none).
const char* take_kernel_note() noexcept;

}  // namespace theon
