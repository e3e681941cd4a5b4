// Row-major gemm through column-major cuBLAS (see cuda_libs.h).
//
// A row-major m x n matrix is the column-major n x m matrix of its
// transpose, so C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T: the
// operands swap places and keep their transpose flags.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <mutex>

#include "check.h"
#include "theon/backend/cuda_libs.h"
#include "theon/backend/cuda_memory.h"

namespace theon::cuda {

namespace {

void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("[cublas] ") + what + ": " + cublasGetStatusName(s) +
                             " (" + cublasGetStatusString(s) + ")");
}

// One handle per device, made on first use (handles are costly to create).
cublasHandle_t handle(int device) {
  static std::mutex mu;
  static auto* handles = new std::map<int, cublasHandle_t>;
  std::lock_guard<std::mutex> lock(mu);
  auto it = handles->find(device);
  if (it != handles->end()) return it->second;
  detail::check(cudaSetDevice(device), "cudaSetDevice");
  cublasHandle_t h = nullptr;
  check(cublasCreate(&h), "cublasCreate");
  return handles->emplace(device, h).first->second;
}

}  // namespace

void gemm(int device, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c, int64_t ldc,
          DType dtype, MathMode mode) {
  cudaDataType_t type;
  cublasComputeType_t compute;
  switch (dtype) {
    case DType::Float16:
      type = CUDA_R_16F;
      compute = CUBLAS_COMPUTE_32F;
      break;
    case DType::BFloat16:
      type = CUDA_R_16BF;
      compute = CUBLAS_COMPUTE_32F;
      break;
    case DType::Float32:
      type = CUDA_R_32F;
      compute = mode == MathMode::tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
      break;
    case DType::Float64:
      type = CUDA_R_64F;
      compute = CUBLAS_COMPUTE_64F;
      break;
    default:
      throw std::invalid_argument("[cublas] gemm: no routine for dtype " +
                                  std::string(dtype_name(dtype)) +
                                  " (float16, bfloat16, float32, float64)");
  }
  if (m < 0 || n < 0 || k < 0 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX)
    throw std::invalid_argument(
        "[cublas] gemm: sizes must be in [0, 2^31), got m=" + std::to_string(m) +
        " n=" + std::to_string(n) + " k=" + std::to_string(k));
  detail::require_available("cublas");
  cublasHandle_t h = handle(device);
  check(cublasSetStream(h, static_cast<cudaStream_t>(device_stream(device).handle())),
        "cublasSetStream");
  const float af = float(alpha), bf = float(beta);
  const void* pa = dtype == DType::Float64 ? static_cast<const void*>(&alpha) : &af;
  const void* pb = dtype == DType::Float64 ? static_cast<const void*>(&beta) : &bf;
  check(cublasGemmEx(h, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                     int(n), int(m), int(k), pa, b, type, int(ldb), a, type, int(lda), pb, c, type,
                     int(ldc), compute, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx");
}

}  // namespace theon::cuda
