// The caching device allocator, streams and copies (see cuda_memory.h).
//
// Size classes: requests below 1 MiB round up to 512 bytes, larger ones to
// 1/16 of their power of two (as the host cache does), so a block serves any
// request of its class. Per device, released blocks wait in a multimap by
// class; when cudaMalloc fails the cache is returned to the driver and the
// request retried once before reporting out of memory.
#include <cuda_runtime.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "check.h"
#include "theon/backend/cuda_memory.h"

namespace theon::cuda {

namespace {

constexpr size_t kSmall = size_t(1) << 20;

size_t size_class(size_t n) {
  n = std::max<size_t>(n, 1);
  if (n < kSmall) return (n + 511) / 512 * 512;
  size_t p = 1;
  while (p < n) p <<= 1;
  const size_t step = p / 16;
  return (n + step - 1) / step * step;
}

struct DevicePool {
  std::mutex mu;
  std::multimap<size_t, void*> free_by_class;
  DeviceMemoryStats stats;
};

DevicePool& pool(int device) {
  static std::mutex mu;
  static auto* pools =
      new std::map<int, std::unique_ptr<DevicePool>>;  // never destroyed (exit-time frees)
  std::lock_guard<std::mutex> lock(mu);
  auto& p = (*pools)[device];
  if (!p) p = std::make_unique<DevicePool>();
  return *p;
}

// Makes `device` current for the calling thread.
void use_device(int device) {
  detail::require_available("cuda");
  detail::check(cudaSetDevice(device), "cudaSetDevice");
}

void release_all(DevicePool& p) {  // p.mu held
  for (auto& [cls, ptr] : p.free_by_class) cudaFree(ptr);
  p.free_by_class.clear();
  p.stats.cached_bytes = 0;
}

}  // namespace

Stream::Stream(int device) : device_(device) {
  use_device(device);
  cudaStream_t s = nullptr;
  detail::check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  stream_ = s;
}

Stream::~Stream() {
  if (stream_) cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
}

void Stream::synchronize() const {
  detail::check(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)), "cudaStreamSynchronize");
}

Stream& device_stream(int device) {
  static std::mutex mu;
  static auto* streams = new std::map<int, std::unique_ptr<Stream>>;
  std::lock_guard<std::mutex> lock(mu);
  auto& s = (*streams)[device];
  if (!s) s = std::make_unique<Stream>(device);
  return *s;
}

void* device_alloc(size_t nbytes, int device) {
  use_device(device);
  const size_t cls = size_class(nbytes);
  DevicePool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mu);
  auto note = [&] {
    p.stats.in_use_bytes += cls;
    p.stats.peak_in_use_bytes = std::max(p.stats.peak_in_use_bytes, p.stats.in_use_bytes);
  };
  if (auto it = p.free_by_class.find(cls); it != p.free_by_class.end()) {
    void* ptr = it->second;
    p.free_by_class.erase(it);
    p.stats.cached_bytes -= cls;
    ++p.stats.cache_hits;
    note();
    return ptr;
  }
  void* ptr = nullptr;
  cudaError_t e = cudaMalloc(&ptr, cls);
  if (e == cudaErrorMemoryAllocation && !p.free_by_class.empty()) {
    (void)cudaGetLastError();
    release_all(p);
    e = cudaMalloc(&ptr, cls);
  }
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::runtime_error("[cuda] cannot allocate " + std::to_string(nbytes) +
                             " bytes on cuda:" + std::to_string(device) + " (" +
                             detail::error_text(e) + ")");
  }
  ++p.stats.system_allocs;
  note();
  return ptr;
}

void device_free(void* ptr, size_t nbytes, int device) noexcept {
  if (!ptr) return;
  const size_t cls = size_class(nbytes);
  DevicePool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mu);
  p.stats.in_use_bytes -= std::min(cls, p.stats.in_use_bytes);
  p.free_by_class.emplace(cls, ptr);
  p.stats.cached_bytes += cls;
}

DeviceMemoryStats device_memory_stats(int device) {
  DevicePool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mu);
  return p.stats;
}

void device_empty_cache(int device) {
  DevicePool& p = pool(device);
  std::lock_guard<std::mutex> lock(p.mu);
  if (!p.free_by_class.empty()) {
    cudaSetDevice(device);
    release_all(p);
  }
}

DeviceBuffer::DeviceBuffer(size_t nbytes, int device)
    : p_(device_alloc(nbytes, device)), n_(nbytes), device_(device) {}
DeviceBuffer::~DeviceBuffer() {
  device_free(p_, n_, device_);
}
DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), n_(o.n_), device_(o.device_) {
  o.p_ = nullptr;
  o.n_ = 0;
}
DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    device_free(p_, n_, device_);
    p_ = o.p_;
    n_ = o.n_;
    device_ = o.device_;
    o.p_ = nullptr;
    o.n_ = 0;
  }
  return *this;
}

void* pinned_alloc(size_t nbytes) {
  detail::require_available("cuda");
  void* p = nullptr;
  detail::check(cudaMallocHost(&p, std::max<size_t>(nbytes, 1)), "cudaMallocHost");
  return p;
}

void pinned_free(void* p) noexcept {
  if (p) cudaFreeHost(p);
}

namespace {
void copy(void* dst, const void* src, size_t n, cudaMemcpyKind kind, int device, bool wait) {
  use_device(device);
  cudaStream_t s = static_cast<cudaStream_t>(device_stream(device).handle());
  detail::check(cudaMemcpyAsync(dst, src, n, kind, s), "cudaMemcpyAsync");
  if (wait) detail::check(cudaStreamSynchronize(s), "cudaStreamSynchronize");
}
}  // namespace

// Pageable host memory: the copy must finish before the caller may reuse it.
void copy_to_device(void* dst, const void* src, size_t n, int device) {
  copy(dst, src, n, cudaMemcpyHostToDevice, device, true);
}
void copy_to_host(void* dst, const void* src, size_t n, int device) {
  copy(dst, src, n, cudaMemcpyDeviceToHost, device, true);
}
void copy_on_device(void* dst, const void* src, size_t n, int device) {
  copy(dst, src, n, cudaMemcpyDeviceToDevice, device, false);
}

DeviceBuffer upload(const Array& a, int device) {
  const Array c = a.is_c_contiguous() ? a : a.copy();
  const size_t n = size_t(c.size()) * itemsize(c.dtype());
  DeviceBuffer b(n, device);
  if (n) copy_to_device(b.data(), c.data(), n, device);
  return b;
}

Array download(const DeviceBuffer& b, DType dtype, const Shape& shape) {
  Array out = Array::empty(dtype, shape);
  const size_t n = size_t(out.size()) * itemsize(dtype);
  if (n > b.size())
    throw std::invalid_argument("[cuda] download: " + std::to_string(n) +
                                " bytes requested from a buffer of " + std::to_string(b.size()));
  if (n) copy_to_host(out.data(), b.data(), n, b.device());
  return out;
}

}  // namespace theon::cuda
