// theon/backend/cuda.h — the CUDA backend: is there a usable GPU, and which.
//
// theon's CUDA backend is optional at build time (CMake option THEON_CUDA,
// on when the toolkit is found) and at run time (a machine may have no
// driver or no GPU). These functions answer without throwing in every case:
// a build without CUDA reports zero devices and the reason "theon was built
// without CUDA". The backend's parts have headers of their own:
// cuda_codegen.h (fused elementwise kernels through NVRTC, which works
// without a GPU), cuda_memory.h (device allocator, streams, copies) and
// cuda_libs.h (cuBLAS gemm, cuDNN convolution).
#pragma once
#include <string>

namespace theon::cuda {

// True when theon was compiled with the CUDA backend.
bool built_with_cuda();
// Number of usable CUDA devices (0 without CUDA, driver or GPU).
int device_count();
// True when at least one CUDA device can be used.
bool is_available();
// Why CUDA cannot be used here ("" when it can): "theon was built without
// CUDA", "no CUDA driver ...", "no CUDA-capable device ...".
std::string unavailable_reason();
// The name of device i ("NVIDIA H100 80GB HBM3"); throws std::out_of_range
// for an index without a device and std::runtime_error when CUDA is unavailable.
std::string device_name(int i);
// Compute capability of device i as major * 10 + minor (90 for sm_90); throws as device_name.
int compute_capability(int i);
// Versions as CUDA encodes them (13000 = 13.0); 0 when absent.
int runtime_version();
int driver_version();

}  // namespace theon::cuda
