// conv2d forward and its two gradients through cuDNN (see cuda_libs.h); THEON_HAVE_CUDNN is set by
// CMake when cuDNN was found. cuDNN 9 keeps the descriptor API used here
// (deprecated in favour of its graph API, which a later step may adopt for
// fused conv + bias + activation).
#include <stdexcept>
#include <string>

#include "theon/backend/cuda_libs.h"

#if THEON_HAVE_CUDNN
#include <cudnn.h>

#include <map>
#include <mutex>

#include "check.h"
#include "theon/backend/cuda_memory.h"
#endif

namespace theon::cuda {

#if THEON_HAVE_CUDNN

namespace {

void check(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS)
    throw std::runtime_error(std::string("[cudnn] ") + what + ": " + cudnnGetErrorString(s));
}

cudnnHandle_t handle(int device) {
  static std::mutex mu;
  static auto* handles = new std::map<int, cudnnHandle_t>;
  std::lock_guard<std::mutex> lock(mu);
  auto it = handles->find(device);
  if (it != handles->end()) return it->second;
  detail::check(cudaSetDevice(device), "cudaSetDevice");
  cudnnHandle_t h = nullptr;
  check(cudnnCreate(&h), "cudnnCreate");
  return handles->emplace(device, h).first->second;
}

// Descriptors of one call, destroyed on every path out.
struct Descs {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  ~Descs() {
    if (x) cudnnDestroyTensorDescriptor(x);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
  }
};

int narrow(int64_t v, const char* what) {
  if (v < 0 || v > INT32_MAX)
    throw std::invalid_argument(std::string("[cudnn] conv2d: ") + what + " out of range");
  return int(v);
}

// One call's handle, descriptors and scaling constants.
struct Call {
  cudnnHandle_t h = nullptr;
  Descs d;
  std::string key;  // device, dtype, shape and math: the algorithm caches' key
  float one_f = 1, zero_f = 0;
  double one_d = 1, zero_d = 0;
  const void* one = nullptr;
  const void* zero = nullptr;
};

void setup(Call& call, int device, const Conv2dShape& sh, DType dtype, MathMode mode,
           const char* who) {
  cudnnDataType_t type, compute;
  switch (dtype) {
    case DType::Float16:
      type = CUDNN_DATA_HALF;
      compute = CUDNN_DATA_FLOAT;
      break;
    case DType::BFloat16:
      type = CUDNN_DATA_BFLOAT16;
      compute = CUDNN_DATA_FLOAT;
      break;
    case DType::Float32:
      type = compute = CUDNN_DATA_FLOAT;
      break;
    case DType::Float64:
      type = compute = CUDNN_DATA_DOUBLE;
      break;
    default:
      throw std::invalid_argument(std::string("[cudnn] ") + who + ": no routine for dtype " +
                                  std::string(dtype_name(dtype)));
  }
  if (sh.groups < 1 || sh.c % sh.groups != 0 || sh.k % sh.groups != 0)
    throw std::invalid_argument(std::string("[cudnn] ") + who + ": channels " +
                                std::to_string(sh.c) + " and filters " + std::to_string(sh.k) +
                                " must be multiples of groups " + std::to_string(sh.groups));
  if (sh.out_h() < 1 || sh.out_w() < 1)
    throw std::invalid_argument(std::string("[cudnn] ") + who + ": empty output");
  detail::require_available("cudnn");
  call.h = handle(device);
  check(cudnnSetStream(call.h, static_cast<cudaStream_t>(device_stream(device).handle())),
        "cudnnSetStream");
  Descs& d = call.d;
  check(cudnnCreateTensorDescriptor(&d.x), "cudnnCreateTensorDescriptor");
  check(cudnnCreateTensorDescriptor(&d.y), "cudnnCreateTensorDescriptor");
  check(cudnnCreateFilterDescriptor(&d.w), "cudnnCreateFilterDescriptor");
  check(cudnnCreateConvolutionDescriptor(&d.conv), "cudnnCreateConvolutionDescriptor");
  check(cudnnSetTensor4dDescriptor(d.x, CUDNN_TENSOR_NCHW, type, narrow(sh.n, "n"),
                                   narrow(sh.c, "c"), narrow(sh.h, "h"), narrow(sh.w, "w")),
        "cudnnSetTensor4dDescriptor(x)");
  check(cudnnSetFilter4dDescriptor(d.w, type, CUDNN_TENSOR_NCHW, narrow(sh.k, "k"),
                                   narrow(sh.c / sh.groups, "c"), narrow(sh.r, "r"),
                                   narrow(sh.s, "s")),
        "cudnnSetFilter4dDescriptor");
  check(cudnnSetConvolution2dDescriptor(
            d.conv, narrow(sh.pad_h, "pad"), narrow(sh.pad_w, "pad"), narrow(sh.stride_h, "stride"),
            narrow(sh.stride_w, "stride"), narrow(sh.dilation_h, "dilation"),
            narrow(sh.dilation_w, "dilation"),
            sh.flip ? CUDNN_CONVOLUTION : CUDNN_CROSS_CORRELATION, compute),
        "cudnnSetConvolution2dDescriptor");
  check(cudnnSetConvolutionGroupCount(d.conv, narrow(sh.groups, "groups")),
        "cudnnSetConvolutionGroupCount");
  // Tensor cores for 16-bit data; for float32 only when the precision policy
  // allows TF32 (default math) or conversion to 16 bits (FMA math is exact).
  const bool f32 = dtype == DType::Float32;
  const cudnnMathType_t math =
      dtype == DType::Float16 || dtype == DType::BFloat16 ? CUDNN_TENSOR_OP_MATH
      : f32 && mode == MathMode::exact                    ? CUDNN_FMA_MATH
      : f32 && mode == MathMode::bf16                     ? CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION
                                                          : CUDNN_DEFAULT_MATH;
  check(cudnnSetConvolutionMathType(d.conv, math), "cudnnSetConvolutionMathType");
  check(
      cudnnSetTensor4dDescriptor(d.y, CUDNN_TENSOR_NCHW, type, narrow(sh.n, "n"), narrow(sh.k, "k"),
                                 narrow(sh.out_h(), "out_h"), narrow(sh.out_w(), "out_w")),
      "cudnnSetTensor4dDescriptor(y)");
  call.key = std::to_string(device) + "/" + std::string(dtype_name(dtype)) + "/" +
             std::to_string(int(math)) + "/" + std::to_string(sh.n) + "," + std::to_string(sh.c) +
             "," + std::to_string(sh.h) + "," + std::to_string(sh.w) + "," + std::to_string(sh.k) +
             "," + std::to_string(sh.r) + "," + std::to_string(sh.s) + "," +
             std::to_string(sh.pad_h) + "," + std::to_string(sh.pad_w) + "," +
             std::to_string(sh.stride_h) + "," + std::to_string(sh.stride_w) + "," +
             std::to_string(sh.dilation_h) + "," + std::to_string(sh.dilation_w) + "," +
             std::to_string(sh.groups) + (sh.flip ? ",flip" : "");
  call.one = dtype == DType::Float64 ? static_cast<const void*>(&call.one_d) : &call.one_f;
  call.zero = dtype == DType::Float64 ? static_cast<const void*>(&call.zero_d) : &call.zero_f;
}

// The first algorithm of cuDNN's ranked heuristics that it reports usable.
template <class Perf, class Algo>
bool first_usable(const Perf* perf, int found, Algo& algo) {
  for (int i = 0; i < found; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS) {
      algo = perf[i].algo;
      return true;
    }
  return false;
}

// cuDNN's first usable heuristic choice (`get`), once per key.
template <class Algo, class Get>
Algo cached_algo(const std::string& key, const char* who, Get get) {
  static std::mutex mu;
  static auto* algos = new std::map<std::string, Algo>;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = algos->find(key); it != algos->end()) return it->second;
  Algo algo;
  if (!get(algo))
    throw std::runtime_error(std::string("[cudnn] ") + who + ": no algorithm for " + key);
  algos->emplace(key, algo);
  return algo;
}

}  // namespace

void conv2d_forward(int device, const Conv2dShape& sh, DType dtype, const void* x, const void* w,
                    void* y, MathMode mode) {
  Call c;
  setup(c, device, sh, dtype, mode, "conv2d");
  const Descs& d = c.d;
  auto algo = cached_algo<cudnnConvolutionFwdAlgo_t>(c.key, "conv2d", [&](auto& a) {
    cudnnConvolutionFwdAlgoPerf_t perf[8];
    int found = 0;
    check(cudnnGetConvolutionForwardAlgorithm_v7(c.h, d.x, d.w, d.conv, d.y, 8, &found, perf),
          "cudnnGetConvolutionForwardAlgorithm_v7");
    return first_usable(perf, found, a);
  });
  size_t ws = 0;
  check(cudnnGetConvolutionForwardWorkspaceSize(c.h, d.x, d.w, d.conv, d.y, algo, &ws),
        "cudnnGetConvolutionForwardWorkspaceSize");
  DeviceBuffer workspace(ws, device);
  check(cudnnConvolutionForward(c.h, c.one, d.x, x, d.w, w, d.conv, algo, workspace.data(), ws,
                                c.zero, d.y, y),
        "cudnnConvolutionForward");
}

void conv2d_backward_data(int device, const Conv2dShape& sh, DType dtype, const void* dy,
                          const void* w, void* dx, MathMode mode) {
  Call c;
  setup(c, device, sh, dtype, mode, "conv2d backward data");
  const Descs& d = c.d;
  auto algo =
      cached_algo<cudnnConvolutionBwdDataAlgo_t>(c.key, "conv2d backward data", [&](auto& a) {
        cudnnConvolutionBwdDataAlgoPerf_t perf[8];
        int found = 0;
        check(cudnnGetConvolutionBackwardDataAlgorithm_v7(c.h, d.w, d.y, d.conv, d.x, 8, &found,
                                                          perf),
              "cudnnGetConvolutionBackwardDataAlgorithm_v7");
        return first_usable(perf, found, a);
      });
  size_t ws = 0;
  check(cudnnGetConvolutionBackwardDataWorkspaceSize(c.h, d.w, d.y, d.conv, d.x, algo, &ws),
        "cudnnGetConvolutionBackwardDataWorkspaceSize");
  DeviceBuffer workspace(ws, device);
  check(cudnnConvolutionBackwardData(c.h, c.one, d.w, w, d.y, dy, d.conv, algo, workspace.data(),
                                     ws, c.zero, d.x, dx),
        "cudnnConvolutionBackwardData");
}

void conv2d_backward_filter(int device, const Conv2dShape& sh, DType dtype, const void* x,
                            const void* dy, void* dw, MathMode mode) {
  Call c;
  setup(c, device, sh, dtype, mode, "conv2d backward filter");
  const Descs& d = c.d;
  auto algo =
      cached_algo<cudnnConvolutionBwdFilterAlgo_t>(c.key, "conv2d backward filter", [&](auto& a) {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[8];
        int found = 0;
        check(cudnnGetConvolutionBackwardFilterAlgorithm_v7(c.h, d.x, d.y, d.conv, d.w, 8, &found,
                                                            perf),
              "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
        return first_usable(perf, found, a);
      });
  size_t ws = 0;
  check(cudnnGetConvolutionBackwardFilterWorkspaceSize(c.h, d.x, d.y, d.conv, d.w, algo, &ws),
        "cudnnGetConvolutionBackwardFilterWorkspaceSize");
  DeviceBuffer workspace(ws, device);
  check(cudnnConvolutionBackwardFilter(c.h, c.one, d.x, x, d.y, dy, d.conv, algo, workspace.data(),
                                       ws, c.zero, d.w, dw),
        "cudnnConvolutionBackwardFilter");
}

bool have_cudnn() {
  return true;
}

#else  // built without cuDNN

bool have_cudnn() {
  return false;
}

void conv2d_forward(int, const Conv2dShape&, DType, const void*, const void*, void*, MathMode) {
  throw std::runtime_error("[cudnn] conv2d: theon was built without cuDNN");
}
void conv2d_backward_data(int, const Conv2dShape&, DType, const void*, const void*, void*,
                          MathMode) {
  throw std::runtime_error("[cudnn] conv2d backward data: theon was built without cuDNN");
}
void conv2d_backward_filter(int, const Conv2dShape&, DType, const void*, const void*, void*,
                            MathMode) {
  throw std::runtime_error("[cudnn] conv2d backward filter: theon was built without cuDNN");
}

#endif

}  // namespace theon::cuda
