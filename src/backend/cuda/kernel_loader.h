// Loading NVRTC images into a device (internal to the CUDA backend).
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "theon/backend/cuda_codegen.h"

namespace theon::cuda::detail {

// Kernel `name` of a compiled image on `device`, loaded once per image and
// device with the runtime's library API (cudaLibraryLoadData) and kept for
// the life of the process.
cudaKernel_t load_kernel(const CompiledKernel& image, const std::string& name, int device);

// The device's number of multiprocessors (at least 1).
int multiprocessor_count(int device);

}  // namespace theon::cuda::detail
