// Device strings and the availability check of a function's device.
#include "theon/backend/device.h"

#include <charconv>

#include "theon/backend/cuda.h"
#include "theon/backend/cuda_device.h"
#include "theon/config.h"

namespace theon {

std::string Device::str() const {
  return kind == Kind::CPU ? "cpu" : "cuda:" + std::to_string(index);
}

Device parse_device(std::string_view text) {
  auto bad = [&]() -> Device {
    throw std::invalid_argument(
        "device: expected 'cpu', 'cuda' or 'cuda:N' (N = 0, 1, ...), got '" + std::string(text) +
        "'");
  };
  if (text == "cpu") return Device{};
  if (text == "cuda" || text == "gpu") return Device{Device::Kind::CUDA, 0};
  std::string_view num;
  if (text.substr(0, 5) == "cuda:")
    num = text.substr(5);
  else if (text.substr(0, 3) == "gpu" && text.size() > 3)
    num = text.substr(3);  // Theano's old "gpu0"
  else
    return bad();
  int n = -1;
  auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
  if (num.empty() || ec != std::errc() || end != num.data() + num.size() || n < 0) return bad();
  return Device{Device::Kind::CUDA, n};
}

void require_device(const Device& device, const std::string& who) {
  if (device.kind == Device::Kind::CPU) return;
  if (cuda::emulation()) {  // the host emulator serves cuda:0 whether or not there is a GPU
    if (device.index == 0) return;
    throw DeviceUnavailable("[" + who + "] device '" + device.str() +
                            "' is not usable: the CUDA emulator has only device cuda:0");
  }
  const std::string why = cuda::unavailable_reason();
  if (!why.empty())
    throw DeviceUnavailable("[" + who + "] device '" + device.str() + "' is not usable: " + why);
  const int n = cuda::device_count();
  if (device.index >= n)
    throw DeviceUnavailable("[" + who + "] device '" + device.str() +
                            "' does not exist: this machine has " + std::to_string(n) +
                            " CUDA device" + (n == 1 ? "" : "s"));
}

Device function_device(const std::string& requested) {
  const std::string& name = requested.empty() ? config().device : requested;
  Device d;
  try {
    d = parse_device(name);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("[function] ") + e.what());
  }
  require_device(d, "function");
  if (d.kind == Device::Kind::CPU) return d;
  try {
    cuda::device_runtime(d.index);
  } catch (const DeviceUnavailable& e) {
    const std::string what = e.what();
    throw DeviceUnavailable(what.rfind("[function]", 0) == 0 ? what : "[function] " + what);
  }
  return d;
}

}  // namespace theon
