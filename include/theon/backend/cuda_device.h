// theon/backend/cuda_device.h — one CUDA device as theon's graph executor sees it.
//
// A compiled function with device='cuda:N' keeps its values in device memory
// (Arrays whose Buffer::device is N) and runs each op through a device kernel
// (cuda_kernels.h). Everything a kernel does to the device goes through a
// DeviceRuntime: memory, copies, launches of CUDA C kernels, cuBLAS and cuDNN.
// Two runtimes implement it:
//   - the CUDA runtime (src/backend/cuda/device_runtime.cpp): the caching
//     device allocator, one stream per device, NVRTC-compiled kernels
//     (cached in memory and on disk), cuBLAS and cuDNN;
//   - the host emulator (src/backend/cuda/emulator/): "device" memory is host
//     memory, and each kernel program's CUDA C is compiled by the system C++
//     compiler as host code (THEON_HOST_EMULATION) and run block by block with
//     one thread per block; gemm and convolution use theon's CPU kernels.
//     It is how CI, which has no GPU, runs the whole executor and every
//     generated kernel. Turned on by set_emulation(true) or the environment
//     variable THEON_CUDA_EMULATOR=1; it then serves device cuda:0 (and only
//     that index), whether or not a GPU or the CUDA toolkit is present.
//
// Kernel conventions (both runtimes rely on them):
//   - every kernel is `extern "C" __global__ void name(const Args a)` where
//     the program declares `struct Args { long long w[N]; };` with N =
//     KernelProgram::num_words; pointers and sizes travel as 64-bit words;
//   - kernels are correct for any blockDim.x >= 1 and any gridDim.x >= 1
//     (grid-stride loops; block reductions over blockDim threads with shared
//     memory and __syncthreads()), since the emulator runs blocks one after
//     another with blockDim.x == 1; only the x dimension is used;
//   - dynamic shared memory is declared with the prelude's macro
//     THEON_DYNAMIC_SHARED(type, name) (extern __shared__ on a GPU, a per-thread
//     buffer in the emulator) and sized by LaunchShape::shared_bytes for the
//     requested threads; static `__shared__` arrays work in both;
//   - a kernel reports a bad value (an index out of bounds, a negative
//     integer power) by atomicCAS-ing a KernelError code (cuda_codegen.h) into
//     the runtime's error flag, whose device address it gets as a word.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "theon/backend/cuda_libs.h"
#include "theon/runtime/array.h"

namespace theon::cuda {

// CUDA C source holding one or more kernels that share an Args layout.
struct KernelProgram {
  std::string source;                // complete CUDA C (include fused_prelude() if needed)
  std::vector<std::string> kernels;  // the names of its extern "C" kernels
  int num_words = 0;                 // Args is struct { long long w[num_words]; }
};

struct LaunchShape {
  int64_t blocks = 1;       // gridDim.x
  int threads = 256;        // blockDim.x (the emulator runs 1)
  size_t shared_bytes = 0;  // dynamic shared memory for `threads` threads
};

class DeviceRuntime {
 public:
  virtual ~DeviceRuntime() = default;
  virtual int index() const = 0;                // N of cuda:N
  virtual bool emulated() const = 0;            // true for the host emulator
  virtual std::string description() const = 0;  // "cuda:0 (NVIDIA H100 80GB HBM3)"
  virtual int sm_count() const = 0;             // multiprocessors (the emulator says 1)

  // nbytes of device memory (256-byte aligned) as a Buffer with device ==
  // index(); its owner gives the block back to the caching allocator. Work
  // queued earlier on the device's stream may still read a block handed out
  // again: all of a device's work goes on one stream, so that is safe.
  virtual std::shared_ptr<Buffer> allocate(size_t nbytes) = 0;
  // Host -> device; `src` may be reused as soon as the call returns.
  virtual void upload(void* dst, const void* src, size_t nbytes) = 0;
  // Device -> host; waits for the work queued before it.
  virtual void download(void* dst, const void* src, size_t nbytes) = 0;
  virtual void copy(void* dst, const void* src, size_t nbytes) = 0;  // device -> device
  virtual void zero(void* dst, size_t nbytes) = 0;
  // Queues `kernel` of `program` (compiled once per program and device).
  virtual void launch(const KernelProgram& program, const std::string& kernel,
                      const LaunchShape& shape, const std::vector<int64_t>& words) = 0;
  // Waits for everything queued.
  virtual void synchronize() = 0;

  // The device address of this device's kernel error flag (an int, 0 when no
  // kernel failed), passed to kernels as a word.
  virtual int* error_flag() = 0;
  // Waits, reads the flag and clears it; returns the KernelError code.
  virtual int take_error() = 0;

  // Library calls on device memory, row-major, queued like kernels
  // (cuda_libs.h documents the arguments).
  virtual void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                    const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c,
                    int64_t ldc, DType dtype) = 0;
  // `batch` gemms at element strides stride_a / stride_b / stride_c (0: the
  // same operand for every product): cublasGemmStridedBatchedEx on a GPU.
  virtual void gemm_strided_batched(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                                    double alpha, const void* a, int64_t lda, int64_t stride_a,
                                    const void* b, int64_t ldb, int64_t stride_b, double beta,
                                    void* c, int64_t ldc, int64_t stride_c, int64_t batch,
                                    DType dtype) = 0;
  // Convolution y = conv(x, w) in NCHW / KCRS layout (a cross-correlation, a
  // true convolution when shape.flip),
  // contiguous operands, and its two gradients: dx from dy and w, dw from x
  // and dy (both overwrite their output). cuDNN on a GPU, the algorithm
  // chosen once per shape; theon's CPU convolution in the emulator.
  virtual void conv2d_forward(const Conv2dShape& shape, DType dtype, const void* x, const void* w,
                              void* y) = 0;
  virtual void conv2d_backward_data(const Conv2dShape& shape, DType dtype, const void* dy,
                                    const void* w, void* dx) = 0;
  virtual void conv2d_backward_filter(const Conv2dShape& shape, DType dtype, const void* x,
                                      const void* dy, void* dw) = 0;
};

// The runtime of cuda:N: the emulator when emulation is on (N must be 0),
// else the CUDA runtime. Throws DeviceUnavailable (backend/device.h) naming
// why the device cannot be used.
DeviceRuntime& device_runtime(int index);

// Runs device cuda:0 on the host emulator (see above) instead of a GPU.
void set_emulation(bool on);
// True when set_emulation(true) was called or THEON_CUDA_EMULATOR=1 is set.
bool emulation();

// How float32 gemm and convolution may use tensor cores, from
// config().float32_matmul_precision: exact by default (as on the CPU),
// TF32 for "high", bfloat16 for "medium".
MathMode float32_math_mode();

// ---- Arrays on the device ----------------------------------------------------

// A new uninitialised C-contiguous array on the device.
Array device_empty(DeviceRuntime& rt, DType dtype, const Shape& shape);
// A C-contiguous copy of a host array on the device (any strides on the host).
Array to_device(const Array& host, DeviceRuntime& rt);
// A C-contiguous host copy of a device array; waits for the work queued.
// Device arrays that are not C-contiguous are made so on the device first.
Array to_host(const Array& device_array);
// A C-contiguous copy of a device array of `dtype` on the same device (the
// array itself when it already is one); works on any strides and broadcasts.
Array device_contiguous(const Array& device_array, DType dtype);
// Copies `src` (broadcast to dst's shape, cast to dst's dtype) into the
// device array `dst`, which may be any view.
void device_assign(const Array& dst, const Array& src);

}  // namespace theon::cuda
