// Which runtime serves cuda:N, and the process-wide CUDA switches (cuda_device.h).
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "runtimes.h"
#include "theon/backend/device.h"
#include "theon/config.h"

namespace theon::cuda {

namespace {

std::atomic<int> emulation_set{-1};  // -1: as the environment says

bool emulation_from_env() {
  static const bool on = [] {
    const char* v = std::getenv("THEON_CUDA_EMULATOR");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}

}  // namespace

void set_emulation(bool on) {
  emulation_set = on ? 1 : 0;
}

bool emulation() {
  const int s = emulation_set.load();
  return s < 0 ? emulation_from_env() : s == 1;
}

MathMode float32_math_mode() {
  const std::string& p = config().float32_matmul_precision;
  return p == "high" ? MathMode::tf32 : p == "medium" ? MathMode::bf16 : MathMode::exact;
}

DeviceRuntime& device_runtime(int index) {
  if (emulation()) {
    if (index != 0)
      throw DeviceUnavailable("[cuda] device 'cuda:" + std::to_string(index) +
                              "' is not usable: the CUDA emulator has only device cuda:0");
    return detail::emulator_runtime();
  }
  if (index < 0)
    throw DeviceUnavailable("[cuda] device index " + std::to_string(index) + " is negative");
  return detail::gpu_runtime(index);
}

}  // namespace theon::cuda
