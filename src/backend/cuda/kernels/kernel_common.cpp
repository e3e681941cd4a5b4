// Helpers of every device-kernel family (see kernel_common.h).
#include "kernel_common.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

namespace theon::cuda::kernels {

const KernelProgram& cached_program(const std::string& key,
                                    const std::function<KernelProgram()>& make) {
  static std::mutex mu;
  static auto* cache = new std::map<std::string, std::unique_ptr<KernelProgram>>;  // never freed
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache->find(key); it != cache->end()) return *it->second;
  }
  auto program = std::make_unique<KernelProgram>(make());  // outside the lock: may take a while
  std::lock_guard<std::mutex> lock(mu);
  auto [it, inserted] = cache->emplace(key, std::move(program));
  return *it->second;
}

LaunchShape grid_for(const DeviceRuntime& rt, int64_t n) {
  LaunchShape s;
  s.threads = 256;
  const int64_t want = (n + s.threads - 1) / s.threads;
  s.blocks =
      std::max<int64_t>(1, std::min<int64_t>(want, int64_t(std::max(rt.sm_count(), 1)) * 32));
  return s;
}

}  // namespace theon::cuda::kernels
