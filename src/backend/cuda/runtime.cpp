// Availability and properties of CUDA devices through the CUDA runtime.
//
// The runtime library loads the driver (libcuda) lazily, so theon links and
// starts on machines without one; the first query here finds out and keeps
// the answer (the set of devices does not change while a process runs).
#include <mutex>
#include <stdexcept>

#include "check.h"
#include "theon/backend/cuda.h"

namespace theon::cuda {

namespace {

struct Probe {
  int count = 0;
  std::string reason;
};

const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    int driver = 0;
    if (cudaDriverGetVersion(&driver) != cudaSuccess || driver == 0) {
      r.reason =
          "no CUDA driver was found (libcuda.so.1 is not installed or not loadable; is there an "
          "NVIDIA GPU?)";
      return r;
    }
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorInsufficientDriver) {
      int rt = 0;
      cudaRuntimeGetVersion(&rt);
      r.reason = "the CUDA driver (version " + std::to_string(driver / 1000) + "." +
                 std::to_string(driver % 1000 / 10) +
                 ") is older than the CUDA runtime theon was built with (" +
                 std::to_string(rt / 1000) + "." + std::to_string(rt % 1000 / 10) + ")";
    } else if (e == cudaErrorNoDevice || (e == cudaSuccess && n == 0)) {
      r.reason =
          "no CUDA-capable device was found (the driver sees no GPU; check CUDA_VISIBLE_DEVICES)";
    } else if (e != cudaSuccess) {
      r.reason = "the CUDA driver could not be initialized (" + detail::error_text(e) + ")";
    } else {
      r.count = n;
    }
    (void)cudaGetLastError();
    return r;
  }();
  return p;
}

cudaDeviceProp props(int i) {
  const Probe& p = probe();
  if (!p.reason.empty())
    throw std::runtime_error("[cuda] device " + std::to_string(i) + ": " + p.reason);
  if (i < 0 || i >= p.count)
    throw std::out_of_range("[cuda] device " + std::to_string(i) + " does not exist (" +
                            std::to_string(p.count) + " device" + (p.count == 1 ? "" : "s") + ")");
  cudaDeviceProp prop{};
  detail::check(cudaGetDeviceProperties(&prop, i), "cudaGetDeviceProperties");
  return prop;
}

}  // namespace

bool built_with_cuda() {
  return true;
}
int device_count() {
  return probe().count;
}
bool is_available() {
  return probe().count > 0;
}
std::string unavailable_reason() {
  return probe().reason;
}
std::string device_name(int i) {
  return props(i).name;
}

int compute_capability(int i) {
  cudaDeviceProp p = props(i);
  return p.major * 10 + p.minor;
}

int runtime_version() {
  int v = 0;
  return cudaRuntimeGetVersion(&v) == cudaSuccess ? v : 0;
}

int driver_version() {
  int v = 0;
  return cudaDriverGetVersion(&v) == cudaSuccess ? v : 0;
}

void detail::require_available(const char* who) {
  const std::string why = unavailable_reason();
  if (!why.empty())
    throw std::runtime_error(std::string("[") + who + "] CUDA is not usable: " + why);
}

}  // namespace theon::cuda
