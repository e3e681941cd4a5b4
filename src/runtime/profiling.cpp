#include "theon/runtime/profiling.h"

namespace theon {
namespace {
thread_local const char* g_note = nullptr;
}  // namespace

void note_kernel(const char* kernel) noexcept { g_note = kernel; }

const char* take_kernel_note() noexcept {
  const char* k = g_note;
  g_note = nullptr;
  return k;
}

}  // namespace theon
