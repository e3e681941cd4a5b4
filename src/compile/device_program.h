// The device side of a Function compiled for a CUDA device (private to
// src/compile): where each step runs, the copies a call keeps of each value,
// and the transfers between host and device.
//
// Placement, decided once when the function is compiled:
//   - an op with a device kernel (cuda_kernels.h) runs on the device;
//   - shape computations stay on the host: Shape and Shape_i (which read only
//     the metadata of a device array), MakeVector, and integer scalar ops
//     whose inputs all live on the host;
//   - IfElse reads its condition on the host and forwards the branch it takes;
//   - any other op has no CUDA kernel: compiling fails naming it, or, with
//     config().allow_cpu_fallback, it runs on the CPU (one warning per op).
// A call keeps, per slot, a host copy and/or a device copy. A value is copied
// only where a reader needs it on the other side (arguments are uploaded by
// their first device reader, outputs downloaded at the end), and both copies
// are released after the last reader. Constants are uploaded at compile time.
#pragma once
#include <atomic>
#include <string>
#include <vector>

#include "theon/backend/cuda_kernels.h"
#include "theon/backend/device.h"
#include "theon/compile/function.h"

namespace theon::detail {

// One call's values: each slot may hold a host copy, a device copy, or both
// (a CPU function uses only `host`).
struct SlotValues {
  std::vector<Array> host, device;
};

class DeviceProgram {
 public:
  // Where a step reads one of its inputs.
  enum class Need : uint8_t { Host, Device, Either, None };

  // Plans f's steps for `device` (f's steps and slots are already built).
  // Throws DeviceUnavailable naming the first op without a CUDA kernel unless
  // config().allow_cpu_fallback is set.
  DeviceProgram(const Function& f, const Device& device);

  const Device& device() const { return device_; }
  cuda::DeviceRuntime& runtime() const { return *rt_; }
  // The kernel of step k, or null when it runs on the host.
  const cuda::DeviceKernel* kernel(size_t k) const { return kernel_[k]; }
  // The ops planned on the CPU for lack of a kernel.
  const std::vector<std::string>& fallback_ops() const { return fallback_ops_; }

  // Fills a new call's slots with the constants (both copies).
  void add_constants(SlotValues& v) const;
  // Whether shared variable j (f's shared_slots_ order) is fetched on the
  // host and/or on the device at the start of a call.
  bool shared_on_host(size_t j) const { return shared_host_[j]; }
  bool shared_on_device(size_t j) const { return shared_device_[j]; }

  // Input i of step k where the step reads it, copying it there once per call
  // (the copy stays in the slot for later readers).
  Array input(size_t k, size_t i, int slot, SlotValues& v);
  // The value of a slot on the host / on the device, copied once if needed.
  const Array& host(SlotValues& v, int slot);
  const Array& on_device(SlotValues& v, int slot);

  // Copies of arrays made by calls so far.
  TransferStats transfers() const;
  // An upload made outside input() (a shared variable's first device use).
  void count_upload(size_t nbytes);

 private:
  Device device_;
  cuda::DeviceRuntime* rt_ = nullptr;
  std::vector<const cuda::DeviceKernel*> kernel_;  // per step; null: host
  std::vector<std::vector<Need>> need_;            // per step, per input
  std::vector<std::pair<int, Array>> constants_;  // slot, device copy (undefined when unused there)
  std::vector<std::pair<int, Array>> host_constants_;
  std::vector<bool> shared_host_, shared_device_;
  std::vector<std::string> fallback_ops_;
  std::atomic<int64_t> uploads_{0}, downloads_{0}, upload_bytes_{0}, download_bytes_{0};
};

}  // namespace theon::detail
