// The CUDA backend of a build without CUDA (THEON_CUDA=OFF): no devices, and
// every operation throws "theon was built without CUDA". The code generator
// (codegen.cpp) is built either way.
#include <stdexcept>

#include "common/runtimes.h"
#include "theon/backend/cuda.h"
#include "theon/backend/cuda_codegen.h"
#include "theon/backend/cuda_libs.h"
#include "theon/backend/cuda_memory.h"
#include "theon/backend/device.h"

namespace theon::cuda {

namespace {
constexpr const char* kWhy =
    "theon was built without CUDA (configure with the CUDA toolkit and -DTHEON_CUDA=ON)";
[[noreturn]] void off(const char* what) {
  throw std::runtime_error(std::string("[cuda] ") + what + ": " + kWhy);
}
}  // namespace

bool built_with_cuda() {
  return false;
}
int device_count() {
  return 0;
}
bool is_available() {
  return false;
}
std::string unavailable_reason() {
  return kWhy;
}
std::string device_name(int) {
  off("device_name");
}
int compute_capability(int) {
  off("compute_capability");
}
int runtime_version() {
  return 0;
}
int driver_version() {
  return 0;
}

std::shared_ptr<const CompiledKernel> compile_kernel(const std::string&, const std::string&) {
  off("compile_kernel");
}
std::string nvrtc_version() {
  off("nvrtc_version");
}
std::vector<std::string> nvrtc_architectures() {
  return {};
}
KernelCacheStats kernel_cache_stats() {
  return {};
}
void clear_kernel_memory_cache() {}
void set_kernel_cache_dir(const std::string&) {}
std::string kernel_cache_dir() {
  return "";
}
void set_kernel_disk_cache(bool) {}
std::string kernel_cache_path(const std::string&, const std::string&) {
  return "";
}
void launch_fused(const CompiledKernel&, const std::string&, const FusedArgs&, int) {
  off("launch_fused");
}
std::vector<Array> run_composite(const Composite&, const std::vector<Array>&, int) {
  off("run_composite");
}

Stream::Stream(int) {
  off("Stream");
}
Stream::~Stream() = default;
void Stream::synchronize() const {}
Stream& device_stream(int) {
  off("device_stream");
}
void* device_alloc(size_t, int) {
  off("device_alloc");
}
void device_free(void*, size_t, int) noexcept {}
DeviceMemoryStats device_memory_stats(int) {
  return {};
}
void device_empty_cache(int) {}
DeviceBuffer::DeviceBuffer(size_t, int) {
  off("DeviceBuffer");
}
DeviceBuffer::~DeviceBuffer() = default;
DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), n_(o.n_), device_(o.device_) {}
DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&&) noexcept {
  return *this;
}
void* pinned_alloc(size_t) {
  off("pinned_alloc");
}
void pinned_free(void*) noexcept {}
void copy_to_device(void*, const void*, size_t, int) {
  off("copy_to_device");
}
void copy_to_host(void*, const void*, size_t, int) {
  off("copy_to_host");
}
void copy_on_device(void*, const void*, size_t, int) {
  off("copy_on_device");
}
DeviceBuffer upload(const Array&, int) {
  off("upload");
}
Array download(const DeviceBuffer&, DType, const Shape&) {
  off("download");
}

void gemm(int, bool, bool, int64_t, int64_t, int64_t, double, const void*, int64_t, const void*,
          int64_t, double, void*, int64_t, DType, MathMode) {
  off("gemm");
}
bool have_cudnn() {
  return false;
}
void conv2d_forward(int, const Conv2dShape&, DType, const void*, const void*, void*, MathMode) {
  off("conv2d_forward");
}
void conv2d_backward_data(int, const Conv2dShape&, DType, const void*, const void*, void*,
                          MathMode) {
  off("conv2d_backward_data");
}
void conv2d_backward_filter(int, const Conv2dShape&, DType, const void*, const void*, void*,
                            MathMode) {
  off("conv2d_backward_filter");
}

DeviceRuntime& detail::gpu_runtime(int index) {
  throw DeviceUnavailable("[cuda] device 'cuda:" + std::to_string(index) +
                          "' is not usable: " + kWhy);
}

}  // namespace theon::cuda
