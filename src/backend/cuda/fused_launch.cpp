// Launching NVRTC-compiled fused kernels (see cuda_codegen.h).
//
// Images are loaded with the runtime's library API (cudaLibraryLoadData,
// CUDA 12+), so theon never links the driver library itself and still starts
// on machines without one. Written and compiled without a GPU at hand: the
// tests that run it skip there.
#include <cuda_runtime.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "check.h"
#include "kernel_loader.h"
#include "theon/backend/cuda.h"
#include "theon/backend/cuda_codegen.h"
#include "theon/backend/cuda_memory.h"

namespace theon::cuda {

cudaKernel_t detail::load_kernel(const CompiledKernel& image, const std::string& name, int device) {
  static std::mutex mu;
  static auto* libs = new std::map<std::pair<const void*, int>, cudaLibrary_t>;  // never unloaded
  static auto* kernels = new std::map<std::tuple<const void*, int, std::string>, cudaKernel_t>;
  std::lock_guard<std::mutex> lock(mu);
  const auto kkey = std::make_tuple(static_cast<const void*>(image.image.data()), device, name);
  if (auto it = kernels->find(kkey); it != kernels->end()) return it->second;
  const auto lkey = std::make_pair(static_cast<const void*>(image.image.data()), device);
  auto it = libs->find(lkey);
  if (it == libs->end()) {
    detail::check(cudaSetDevice(device), "cudaSetDevice");
    cudaLibrary_t lib = nullptr;
    detail::check(
        cudaLibraryLoadData(&lib, image.image.data(), nullptr, nullptr, 0, nullptr, nullptr, 0),
        "cudaLibraryLoadData");
    it = libs->emplace(lkey, lib).first;
  }
  cudaKernel_t k = nullptr;
  detail::check(cudaLibraryGetKernel(&k, it->second, name.c_str()),
                ("cudaLibraryGetKernel " + name).c_str());
  kernels->emplace(kkey, k);
  return k;
}

int detail::multiprocessor_count(int device) {
  int n = 0;
  detail::check(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, device),
                "cudaDeviceGetAttribute");
  return std::max(n, 1);
}

void launch_fused(const CompiledKernel& image, const std::string& kernel, const FusedArgs& args,
                  int device) {
  detail::require_available("cuda");
  const int64_t n = args.words.at(0);
  if (n == 0) return;
  cudaKernel_t k = detail::load_kernel(image, kernel, device);
  constexpr int kThreads = 256;
  // Enough blocks to fill the device a few times over; the kernels loop (grid-stride) beyond that.
  const int64_t blocks = std::min<int64_t>((n + kThreads - 1) / kThreads,
                                           int64_t(detail::multiprocessor_count(device)) * 32);
  void* params[] = {const_cast<int64_t*>(args.words.data())};
  detail::check(cudaSetDevice(device), "cudaSetDevice");
  detail::check(
      cudaLaunchKernel(reinterpret_cast<const void*>(k), dim3(unsigned(blocks)), dim3(kThreads),
                       params, 0, static_cast<cudaStream_t>(device_stream(device).handle())),
      "cudaLaunchKernel");
}

std::vector<Array> run_composite(const Composite& c, const std::vector<Array>& inputs, int device) {
  const int ni = c.num_inputs();
  if (int(inputs.size()) != ni)
    throw std::invalid_argument("[Composite] CUDA: expected " + std::to_string(ni) +
                                " inputs, got " + std::to_string(inputs.size()));
  Shape full;
  for (const Array& a : inputs) full = broadcast_shapes(full, a.shape());
  if (full.size() > size_t(kMaxDims))
    throw std::invalid_argument("[Composite] CUDA: at most " + std::to_string(kMaxDims) + " dims");
  const FusedKernelSource src = fused_kernel_source(c);
  const std::string arch = "sm_" + std::to_string(compute_capability(device));
  std::shared_ptr<const CompiledKernel> image = compile_kernel(src.source, arch);

  std::vector<DeviceBuffer> bufs;
  std::vector<void*> ptrs;
  std::vector<std::vector<int64_t>> strides;
  bool contiguous = true;
  for (int i = 0; i < ni; ++i) {
    const Array& a = inputs[size_t(i)];
    if (a.dtype() != c.program().inputs[size_t(i)])
      throw std::invalid_argument("[Composite] CUDA: input " + std::to_string(i) + " must be " +
                                  std::string(dtype_name(c.program().inputs[size_t(i)])));
    bufs.push_back(upload(a, device));
    // C strides of the uploaded copy, 0 where the input is broadcast.
    std::vector<int64_t> st(full.size(), 0);
    int64_t step = int64_t(a.itemsize());
    for (int d = a.ndim() - 1; d >= 0; --d) {
      const size_t fd = full.size() - size_t(a.ndim()) + size_t(d);
      st[fd] = a.shape()[size_t(d)] == 1 ? 0 : step;
      step *= a.shape()[size_t(d)];
    }
    contiguous = contiguous && a.shape() == full;
    ptrs.push_back(bufs.back().data());
    strides.push_back(std::move(st));
  }
  std::vector<std::pair<DType, size_t>> outs;
  for (int v : c.program().outputs) {
    const DType d = c.value_dtype(v);
    bufs.emplace_back(size_t(shape_size(full)) * itemsize(d), device);
    std::vector<int64_t> st(full.size(), 0);
    int64_t step = int64_t(itemsize(d));
    for (int k = int(full.size()) - 1; k >= 0; --k) {
      st[size_t(k)] = step;
      step *= full[size_t(k)];
    }
    ptrs.push_back(bufs.back().data());
    strides.push_back(std::move(st));
    outs.emplace_back(d, bufs.size() - 1);
  }
  DeviceBuffer flag(sizeof(int), device);
  const int zero = 0;
  copy_to_device(flag.data(), &zero, sizeof zero, device);
  const FusedArgs args = pack_fused_args(full, ptrs, strides, static_cast<int*>(flag.data()));
  launch_fused(*image, src.name + (contiguous ? "_contig" : "_strided"), args, device);
  int err = 0;
  copy_to_host(&err, flag.data(), sizeof err, device);  // waits for the kernel
  if (err) throw std::invalid_argument(kernel_error_message(err));
  std::vector<Array> result;
  for (auto& [d, b] : outs) result.push_back(download(bufs[b], d, full));
  return result;
}

}  // namespace theon::cuda
