// conv2d forward through cuDNN (see cuda_libs.h); THEON_HAVE_CUDNN is set by
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

}  // namespace

bool have_cudnn() {
  return true;
}

void conv2d_forward(int device, const Conv2dShape& sh, DType dtype, const void* x, const void* w,
                    void* y) {
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
      throw std::invalid_argument("[cudnn] conv2d: no routine for dtype " +
                                  std::string(dtype_name(dtype)));
  }
  if (sh.groups < 1 || sh.c % sh.groups != 0 || sh.k % sh.groups != 0)
    throw std::invalid_argument("[cudnn] conv2d: channels " + std::to_string(sh.c) +
                                " and filters " + std::to_string(sh.k) +
                                " must be multiples of groups " + std::to_string(sh.groups));
  if (sh.out_h() < 1 || sh.out_w() < 1) throw std::invalid_argument("[cudnn] conv2d: empty output");
  detail::require_available("cudnn");
  cudnnHandle_t h = handle(device);
  check(cudnnSetStream(h, static_cast<cudaStream_t>(device_stream(device).handle())),
        "cudnnSetStream");
  Descs d;
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
            narrow(sh.dilation_w, "dilation"), CUDNN_CROSS_CORRELATION, compute),
        "cudnnSetConvolution2dDescriptor");
  check(cudnnSetConvolutionGroupCount(d.conv, narrow(sh.groups, "groups")),
        "cudnnSetConvolutionGroupCount");
  if (dtype == DType::Float16 || dtype == DType::BFloat16)
    check(cudnnSetConvolutionMathType(d.conv, CUDNN_TENSOR_OP_MATH), "cudnnSetConvolutionMathType");
  check(
      cudnnSetTensor4dDescriptor(d.y, CUDNN_TENSOR_NCHW, type, narrow(sh.n, "n"), narrow(sh.k, "k"),
                                 narrow(sh.out_h(), "out_h"), narrow(sh.out_w(), "out_w")),
      "cudnnSetTensor4dDescriptor(y)");

  // The algorithm: cuDNN's first heuristic choice, once per shape and dtype.
  static std::mutex mu;
  static auto* algos = new std::map<std::string, cudnnConvolutionFwdAlgo_t>;
  const std::string key = std::to_string(device) + "/" + std::string(dtype_name(dtype)) + "/" +
                          std::to_string(sh.n) + "," + std::to_string(sh.c) + "," +
                          std::to_string(sh.h) + "," + std::to_string(sh.w) + "," +
                          std::to_string(sh.k) + "," + std::to_string(sh.r) + "," +
                          std::to_string(sh.s) + "," + std::to_string(sh.pad_h) + "," +
                          std::to_string(sh.pad_w) + "," + std::to_string(sh.stride_h) + "," +
                          std::to_string(sh.stride_w) + "," + std::to_string(sh.dilation_h) + "," +
                          std::to_string(sh.dilation_w) + "," + std::to_string(sh.groups);
  cudnnConvolutionFwdAlgo_t algo;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = algos->find(key);
    if (it != algos->end()) {
      algo = it->second;
    } else {
      cudnnConvolutionFwdAlgoPerf_t perf[8];
      int found = 0;
      check(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, 8, &found, perf),
            "cudnnGetConvolutionForwardAlgorithm_v7");
      if (found < 1) throw std::runtime_error("[cudnn] conv2d: no forward algorithm for " + key);
      algo = perf[0].algo;
      algos->emplace(key, algo);
    }
  }
  size_t ws = 0;
  check(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, algo, &ws),
        "cudnnGetConvolutionForwardWorkspaceSize");
  DeviceBuffer workspace(ws, device);
  const float one_f = 1, zero_f = 0;
  const double one_d = 1, zero_d = 0;
  const void* one = dtype == DType::Float64 ? static_cast<const void*>(&one_d) : &one_f;
  const void* zero = dtype == DType::Float64 ? static_cast<const void*>(&zero_d) : &zero_f;
  check(cudnnConvolutionForward(h, one, d.x, x, d.w, w, d.conv, algo, workspace.data(), ws, zero,
                                d.y, y),
        "cudnnConvolutionForward");
}

#else  // built without cuDNN

bool have_cudnn() {
  return false;
}

void conv2d_forward(int, const Conv2dShape&, DType, const void*, const void*, void*) {
  throw std::runtime_error("[cudnn] conv2d: theon was built without cuDNN");
}

#endif

}  // namespace theon::cuda
