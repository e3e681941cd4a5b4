// Error checking of CUDA runtime calls (internal to the CUDA backend).
#pragma once
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace theon::cuda::detail {

// "cudaErrorNoDevice: no CUDA-capable device is detected".
inline std::string error_text(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

// Throws std::runtime_error "[cuda] <what>: <error>" unless e is cudaSuccess.
inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // reset the last-error state so later calls are not blamed for this one
    throw std::runtime_error(std::string("[cuda] ") + what + ": " + error_text(e));
  }
}

// Throws DeviceUnavailable-like runtime_error unless CUDA is usable (see cuda.h).
void require_available(const char* who);

}  // namespace theon::cuda::detail
