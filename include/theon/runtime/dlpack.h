// theon/runtime/dlpack.h — DLPack exchange of Arrays with other libraries.
//
// DLPack is the common in-memory tensor ABI (PyTorch, JAX, CuPy, NumPy).
// from_dlpack wraps a producer's tensor without copying and calls its deleter
// when the last theon view is gone; to_dlpack hands an Array out the same way.
// The struct layout below is the stable DLPack 0.8 ABI (DLManagedTensor).
//
// Devices. Host memory (kDLCPU) and the host-accessible CUDA memories
// (kDLCUDAHost: pinned, kDLCUDAManaged: unified) become host Arrays; GPU
// memory (kDLCUDA, device N) becomes a device Array of cuda:N (Buffer::device
// == N, backend/cuda_device.h), still without a copy. DLPack's C ABI carries
// no stream: the producer's writes to a CUDA tensor must be finished before
// theon's work reads it (Python's __dlpack__(stream=...) protocol arranges
// that; python/theon/_dlpack.py passes theon's stream), and to_dlpack waits
// for theon's work on the array before handing it out.
//
// The CUDA emulator (cuda::emulation()) serves cuda:0 with host memory, so
// under it a kDLCUDA tensor of device 0 is taken to be emulator memory, that
// is host memory: a test facility for running the device path without a GPU,
// never to be fed real GPU pointers. For the same reason to_dlpack refuses
// emulator arrays: other libraries would read them as GPU memory.
#pragma once
#include <cstdint>
#include <string>

#include "theon/runtime/array.h"

extern "C" {
struct DLDevice {
  int32_t device_type;  // DLDeviceType: 1 CPU, 2 CUDA, 3 CUDA pinned host, 13 CUDA managed, ...
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;  // 0 int, 1 uint, 2 float, 4 bfloat, 6 bool
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; may be null for C-contiguous
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};
}

namespace theon {

// DLPack's device types (DLDeviceType) that theon imports or exports.
namespace dl {
constexpr int32_t kCPU = 1;
constexpr int32_t kCUDA = 2;
constexpr int32_t kCUDAHost = 3;      // pinned host memory
constexpr int32_t kCUDAManaged = 13;  // unified memory
}  // namespace dl

// Takes ownership of `t`: the Array keeps it alive and calls t->deleter when done.
// kDLCPU, kDLCUDAHost and kDLCUDAManaged tensors become host Arrays, kDLCUDA
// tensors of device N device Arrays of cuda:N. Throws std::invalid_argument
// for another device type (naming it) or an unsupported dtype, and
// DeviceUnavailable (backend/device.h) when cuda:N cannot be used here (no
// CUDA, no such GPU; under the emulator, any N but 0); the tensor is then
// released.
Array from_dlpack(DLManagedTensor* t);
// A DLManagedTensor viewing `a` (device {kDLCPU, 0} or {kDLCUDA, N}); the
// consumer must call its deleter. Byte strides that are not a multiple of the
// itemsize are made contiguous first (a copy). For a device array, waits for
// the work theon queued on the device. Throws std::invalid_argument for an
// array on the CUDA emulator (see above).
DLManagedTensor* to_dlpack(const Array& a);
// "CUDA", "ROCm", ... for a DLPack device type; "device type N" when unknown.
std::string dlpack_device_name(int32_t device_type);

}  // namespace theon
