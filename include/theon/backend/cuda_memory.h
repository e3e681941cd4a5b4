// theon/backend/cuda_memory.h — device memory, streams and host <-> device copies.
//
// device_alloc keeps released blocks in free lists by size class (as the
// host allocator of runtime/allocator.h does), so a function called again on
// the same shapes gets its memory back without cudaMalloc/cudaFree, which
// synchronize the device. The backend launches everything of a device on one
// stream (device_stream), so a block released after its last kernel was
// queued may be handed out to a kernel queued later on the same stream
// without waiting. Pinned host buffers make transfers asynchronous.
// Every function throws std::runtime_error naming the CUDA error (or that
// CUDA is unavailable) and never crashes without a GPU.
#pragma once
#include <cstddef>
#include <cstdint>

#include "theon/runtime/array.h"

namespace theon::cuda {

// A CUDA stream on one device; the handle is a cudaStream_t.
class Stream {
 public:
  // A new non-blocking stream on `device`.
  explicit Stream(int device);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  void* handle() const { return stream_; }
  int device() const { return device_; }
  // Waits for everything queued on the stream.
  void synchronize() const;

 private:
  void* stream_ = nullptr;
  int device_ = 0;
};

// The stream every kernel, copy and library call of `device` goes on.
Stream& device_stream(int device);

struct DeviceMemoryStats {
  size_t in_use_bytes = 0;
  size_t peak_in_use_bytes = 0;
  size_t cached_bytes = 0;     // released blocks kept for reuse
  uint64_t cache_hits = 0;     // requests served from the free lists
  uint64_t system_allocs = 0;  // requests that called cudaMalloc
};

// nbytes of device memory on `device` (256-byte aligned), from the free
// lists when a block of the size class is there. Free with device_free and
// the same nbytes and device.
void* device_alloc(size_t nbytes, int device);
void device_free(void* p, size_t nbytes, int device) noexcept;
DeviceMemoryStats device_memory_stats(int device);
// Returns every cached block of `device` to the driver.
void device_empty_cache(int device);

// Owns a block of device memory (returned to the allocator when destroyed).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(size_t nbytes, int device);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  void* data() const { return p_; }
  size_t size() const { return n_; }
  int device() const { return device_; }

 private:
  void* p_ = nullptr;
  size_t n_ = 0;
  int device_ = 0;
};

// Page-locked host memory (asynchronous copies need it).
void* pinned_alloc(size_t nbytes);
void pinned_free(void* p) noexcept;

// Copies on the device's stream; the host side must stay valid until the
// stream reaches the copy (synchronize, or pinned memory owned by the caller).
void copy_to_device(void* dst, const void* src, size_t nbytes, int device);
void copy_to_host(void* dst, const void* src, size_t nbytes, int device);
void copy_on_device(void* dst, const void* src, size_t nbytes, int device);

// An Array's elements in C order on the device (the array may be strided).
DeviceBuffer upload(const Array& a, int device);
// A new host Array of dtype and shape from C-ordered device memory; waits for the copy.
Array download(const DeviceBuffer& b, DType dtype, const Shape& shape);

}  // namespace theon::cuda
