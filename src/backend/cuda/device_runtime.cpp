// The CUDA runtime of one GPU (see cuda_device.h), mirroring the emulator.
//
// Memory comes from the caching device allocator (cuda_memory.h); every
// copy, kernel and library call goes on the device's one stream. Uploads
// go through a ring of pinned staging blocks (PinnedStaging below) and do
// not wait, so they overlap the kernels queued before them; downloads wait
// for their copy (the caller reads the result at once).
// Kernel programs are compiled by NVRTC for the device's architecture
// (through the memory and disk caches) and loaded once per image and device.
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "check.h"
#include "common/runtimes.h"
#include "kernel_loader.h"
#include "theon/backend/cuda.h"
#include "theon/backend/cuda_codegen.h"
#include "theon/backend/cuda_memory.h"
#include "theon/backend/device.h"

namespace theon::cuda {

namespace {

MathMode math_mode() {
  return float32_math_mode();
}

// Host -> device copies through page-locked memory: the host data is copied
// into a staging block at memory speed, the DMA from the block is queued on
// the stream and an event recorded after it, and the call returns at once
// (the caller may reuse its memory). A block is reused once its event has
// completed; large uploads stream through the ring block by block.
class PinnedStaging {
 public:
  static constexpr size_t kBlockBytes = size_t(4) << 20;
  static constexpr size_t kBlocks = 4;

  explicit PinnedStaging(int device) : device_(device) {}
  ~PinnedStaging() {
    for (Block& b : blocks_) {
      if (b.event) cudaEventDestroy(b.event);
      pinned_free(b.data);
    }
  }
  PinnedStaging(const PinnedStaging&) = delete;
  PinnedStaging& operator=(const PinnedStaging&) = delete;

  void upload(void* dst, const void* src, size_t nbytes, cudaStream_t stream) {
    std::lock_guard<std::mutex> lock(mu_);
    detail::check(cudaSetDevice(device_), "cudaSetDevice");
    auto* d = static_cast<char*>(dst);
    const auto* h = static_cast<const char*>(src);
    for (size_t off = 0; off < nbytes; off += kBlockBytes) {
      const size_t len = std::min(kBlockBytes, nbytes - off);
      Block& b = next_block();
      std::memcpy(b.data, h + off, len);
      detail::check(cudaMemcpyAsync(d + off, b.data, len, cudaMemcpyHostToDevice, stream),
                    "cudaMemcpyAsync");
      detail::check(cudaEventRecord(b.event, stream), "cudaEventRecord");
    }
  }

 private:
  struct Block {
    void* data = nullptr;
    cudaEvent_t event = nullptr;
  };
  Block& next_block() {
    Block& b = blocks_[cursor_];
    cursor_ = (cursor_ + 1) % kBlocks;
    if (!b.data) {
      b.data = pinned_alloc(kBlockBytes);
      detail::check(cudaEventCreateWithFlags(&b.event, cudaEventDisableTiming),
                    "cudaEventCreateWithFlags");
    } else {
      detail::check(cudaEventSynchronize(b.event), "cudaEventSynchronize");  // its copy is done
    }
    return b;
  }

  int device_;
  std::mutex mu_;
  std::array<Block, kBlocks> blocks_{};
  size_t cursor_ = 0;
};

class GpuRuntime final : public DeviceRuntime {
 public:
  explicit GpuRuntime(int index)
      : index_(index),
        name_(device_name(index)),
        arch_("sm_" + std::to_string(compute_capability(index))),
        sm_count_(detail::multiprocessor_count(index)),
        staging_(index) {
    flag_ = allocate(sizeof(int));
    zero(flag_->data, sizeof(int));
  }
  int index() const override { return index_; }
  bool emulated() const override { return false; }
  std::string description() const override {
    return "cuda:" + std::to_string(index_) + " (" + name_ + ")";
  }
  int sm_count() const override { return sm_count_; }

  std::shared_ptr<Buffer> allocate(size_t nbytes) override {
    const size_t n = std::max<size_t>(nbytes, 1);
    const int dev = index_;
    void* p = device_alloc(n, dev);
    auto b = Buffer::wrap(p, nbytes,
                          std::shared_ptr<void>(p, [n, dev](void* q) { device_free(q, n, dev); }));
    b->device = dev;
    return b;
  }
  void upload(void* dst, const void* src, size_t nbytes) override {
    if (nbytes) staging_.upload(dst, src, nbytes, stream());
  }
  void download(void* dst, const void* src, size_t nbytes) override {
    if (nbytes) copy_to_host(dst, src, nbytes, index_);
  }
  void copy(void* dst, const void* src, size_t nbytes) override {
    if (nbytes) copy_on_device(dst, src, nbytes, index_);
  }
  void zero(void* dst, size_t nbytes) override {
    if (!nbytes) return;
    detail::check(cudaSetDevice(index_), "cudaSetDevice");
    detail::check(cudaMemsetAsync(dst, 0, nbytes, stream()), "cudaMemsetAsync");
  }

  void launch(const KernelProgram& program, const std::string& kernel, const LaunchShape& shape,
              const std::vector<int64_t>& words) override {
    detail::check_launch(program, kernel, shape, words);
    if (shape.blocks == 0) return;
    std::shared_ptr<const CompiledKernel> image = compile_kernel(program.source, arch_);
    cudaKernel_t k = detail::load_kernel(*image, kernel, index_);
    // Args by value: the words, zero-padded to the program's Args.
    std::vector<int64_t> w(size_t(std::max(program.num_words, 1)), 0);
    std::copy(words.begin(), words.end(), w.begin());
    void* params[] = {w.data()};
    detail::check(cudaSetDevice(index_), "cudaSetDevice");
    if (shape.shared_bytes > 48 * 1024)  // beyond the default limit a kernel must opt in
      detail::check(cudaFuncSetAttribute(reinterpret_cast<const void*>(k),
                                         cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         int(shape.shared_bytes)),
                    "cudaFuncSetAttribute");
    detail::check(
        cudaLaunchKernel(reinterpret_cast<const void*>(k), dim3(unsigned(shape.blocks)),
                         dim3(unsigned(shape.threads)), params, shape.shared_bytes, stream()),
        ("cudaLaunchKernel " + kernel).c_str());
  }
  void synchronize() override { device_stream(index_).synchronize(); }

  int* error_flag() override { return static_cast<int*>(flag_->data); }
  int take_error() override {
    int err = 0;
    download(&err, flag_->data, sizeof err);  // waits for the kernels queued before
    if (err) zero(flag_->data, sizeof(int));
    return err;
  }

  void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
            const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c,
            int64_t ldc, DType dtype) override {
    cuda::gemm(index_, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, dtype,
               math_mode());
  }
  void gemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                            double alpha, const void* a, int64_t lda, int64_t stride_a,
                            const void* b, int64_t ldb, int64_t stride_b, double beta, void* c,
                            int64_t ldc, int64_t stride_c, int64_t batch, DType dtype) override {
    cuda::gemm_strided_batched(index_, trans_a, trans_b, m, n, k, alpha, a, lda, stride_a, b, ldb,
                               stride_b, beta, c, ldc, stride_c, batch, dtype, math_mode());
  }
  void conv2d_forward(const Conv2dShape& s, DType dtype, const void* x, const void* w,
                      void* y) override {
    cuda::conv2d_forward(index_, s, dtype, x, w, y, math_mode());
  }
  void conv2d_backward_data(const Conv2dShape& s, DType dtype, const void* dy, const void* w,
                            void* dx) override {
    cuda::conv2d_backward_data(index_, s, dtype, dy, w, dx, math_mode());
  }
  void conv2d_backward_filter(const Conv2dShape& s, DType dtype, const void* x, const void* dy,
                              void* dw) override {
    cuda::conv2d_backward_filter(index_, s, dtype, x, dy, dw, math_mode());
  }

 private:
  cudaStream_t stream() const { return static_cast<cudaStream_t>(device_stream(index_).handle()); }

  int index_;
  std::string name_, arch_;
  int sm_count_;
  PinnedStaging staging_;
  std::shared_ptr<Buffer> flag_;
};

}  // namespace

DeviceRuntime& detail::gpu_runtime(int index) {
  const std::string who = "[cuda] device 'cuda:" + std::to_string(index) + "'";
  if (const std::string why = unavailable_reason(); !why.empty())
    throw DeviceUnavailable(who + " is not usable: " + why);
  const int n = device_count();
  if (index < 0 || index >= n)
    throw DeviceUnavailable(who + " does not exist: this machine has " + std::to_string(n) +
                            " CUDA device" + (n == 1 ? "" : "s"));
  static std::mutex mu;
  static auto* runtimes = new std::map<int, std::unique_ptr<GpuRuntime>>;  // never destroyed
  std::lock_guard<std::mutex> lock(mu);
  auto& rt = (*runtimes)[index];
  if (!rt) rt = std::make_unique<GpuRuntime>(index);
  return *rt;
}

}  // namespace theon::cuda
