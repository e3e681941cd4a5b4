// theon/backend/device.h — where a compiled function runs: "cpu", "cuda", "cuda:N".
//
// config.device and function(..., device=...) name a device by a string, as
// Theano's device flag did. This header parses that string (the same rules
// whether or not theon was built with CUDA) and checks, when a function is
// compiled, that the device can be used: a CUDA device needs theon built
// with CUDA, a CUDA driver, and a GPU with that index. Each failure is a
// DeviceUnavailable naming the problem.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

namespace theon {

struct Device {
  enum class Kind { CPU, CUDA };
  Kind kind = Kind::CPU;
  int index = 0;  // the GPU's ordinal for CUDA ("cuda" is "cuda:0")
  // Canonical form: "cpu" or "cuda:N".
  std::string str() const;
  bool operator==(const Device&) const = default;
};

// Thrown when a well-formed device cannot be used here (Python: RuntimeError).
struct DeviceUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses "cpu", "cuda" or "cuda:N" (N a non-negative integer; Theano's "gpu"
// and "gpuN" are accepted as "cuda" and "cuda:N"); throws
// std::invalid_argument quoting the string for anything else.
Device parse_device(std::string_view text);

// Checks that functions can be compiled for `device`; throws DeviceUnavailable
// prefixed with [who] naming the reason (built without CUDA, no driver, no
// GPU, index out of range). The CPU is always available.
void require_device(const Device& device, const std::string& who);

// The device function() compiles for: `requested`, or config().device when
// it is empty. Throws std::invalid_argument for a malformed name and
// DeviceUnavailable when a CUDA device is not usable here (see
// require_device; under emulation, cuda_device.h, cuda:0 is always usable).
Device function_device(const std::string& requested);

}  // namespace theon
