// Row-major gemm through column-major cuBLAS (see cuda_libs.h).
//
// A row-major m x n matrix is the column-major n x m matrix of its
// transpose, so C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T: the
// operands swap places and keep their transpose flags. The strided batched
// form does the same per product, with cublasGemmStridedBatchedEx.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

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

// The cuBLAS data and compute types of a gemm in `dtype` (float16 / bfloat16
// accumulate in float32; float32 on TF32 / bfloat16 tensor cores only with
// MathMode::tf32 / bf16).
struct GemmTypes {
  cudaDataType_t type;
  cublasComputeType_t compute;
};

GemmTypes gemm_types(DType dtype, MathMode mode, const char* who) {
  switch (dtype) {
    case DType::Float16:
      return {CUDA_R_16F, CUBLAS_COMPUTE_32F};
    case DType::BFloat16:
      return {CUDA_R_16BF, CUBLAS_COMPUTE_32F};
    case DType::Float32:
      return {CUDA_R_32F, mode == MathMode::tf32   ? CUBLAS_COMPUTE_32F_FAST_TF32
                          : mode == MathMode::bf16 ? CUBLAS_COMPUTE_32F_FAST_16BF
                                                   : CUBLAS_COMPUTE_32F};
    case DType::Float64:
      return {CUDA_R_64F, CUBLAS_COMPUTE_64F};
    default:
      throw std::invalid_argument(std::string("[cublas] ") + who + ": no routine for dtype " +
                                  std::string(dtype_name(dtype)) +
                                  " (float16, bfloat16, float32, float64)");
  }
}

void check_sizes(const char* who, int64_t m, int64_t n, int64_t k) {
  if (m < 0 || n < 0 || k < 0 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX)
    throw std::invalid_argument(std::string("[cublas] ") + who +
                                ": sizes must be in [0, 2^31), got m=" + std::to_string(m) +
                                " n=" + std::to_string(n) + " k=" + std::to_string(k));
}

// The device's handle, on the device's stream.
cublasHandle_t stream_handle(int device) {
  detail::require_available("cublas");
  cublasHandle_t h = handle(device);
  check(cublasSetStream(h, static_cast<cudaStream_t>(device_stream(device).handle())),
        "cublasSetStream");
  return h;
}

// alpha and beta as cuBLAS reads them: double for float64, float otherwise.
struct Scalars {
  float af, bf;
  double ad, bd;
  const void* alpha;
  const void* beta;
  Scalars(double a, double b, DType dtype) : af(float(a)), bf(float(b)), ad(a), bd(b) {
    const bool wide = dtype == DType::Float64;
    alpha = wide ? static_cast<const void*>(&ad) : &af;
    beta = wide ? static_cast<const void*>(&bd) : &bf;
  }
  Scalars(const Scalars&) = delete;
};

}  // namespace

void gemm(int device, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c, int64_t ldc,
          DType dtype, MathMode mode) {
  const GemmTypes t = gemm_types(dtype, mode, "gemm");
  check_sizes("gemm", m, n, k);
  cublasHandle_t h = stream_handle(device);
  const Scalars s(alpha, beta, dtype);
  check(cublasGemmEx(h, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                     int(n), int(m), int(k), s.alpha, b, t.type, int(ldb), a, t.type, int(lda),
                     s.beta, c, t.type, int(ldc), t.compute, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx");
}

void gemm_strided_batched(int device, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                          double alpha, const void* a, int64_t lda, int64_t stride_a, const void* b,
                          int64_t ldb, int64_t stride_b, double beta, void* c, int64_t ldc,
                          int64_t stride_c, int64_t batch, DType dtype, MathMode mode) {
  const GemmTypes t = gemm_types(dtype, mode, "gemm_strided_batched");
  check_sizes("gemm_strided_batched", m, n, k);
  if (batch < 0 || batch > INT32_MAX || stride_a < 0 || stride_b < 0 || stride_c < 0)
    throw std::invalid_argument(
        "[cublas] gemm_strided_batched: batch must be in [0, 2^31) and strides >= 0, got batch=" +
        std::to_string(batch) + " strides " + std::to_string(stride_a) + ", " +
        std::to_string(stride_b) + ", " + std::to_string(stride_c));
  if (batch == 0) return;
  cublasHandle_t h = stream_handle(device);
  const Scalars s(alpha, beta, dtype);
  check(cublasGemmStridedBatchedEx(
            h, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, int(n),
            int(m), int(k), s.alpha, b, t.type, int(ldb), static_cast<long long>(stride_b), a,
            t.type, int(lda), static_cast<long long>(stride_a), s.beta, c, t.type, int(ldc),
            static_cast<long long>(stride_c), int(batch), t.compute, CUBLAS_GEMM_DEFAULT),
        "cublasGemmStridedBatchedEx");
}

}  // namespace theon::cuda
