// theon/backend/cuda_libs.h — cuBLAS matrix products and cuDNN convolution.
//
// Thin wrappers the CUDA backend's dot/gemm and conv2d kernels call: row-major
// operands already on the device, work queued on the device's stream
// (cuda_memory.h). They throw std::runtime_error naming the library's status
// on failure, std::invalid_argument for a dtype the library has no routine
// for, and "theon was built without CUDA/cuDNN" where that is the case.
#pragma once
#include <cstdint>

#include "theon/runtime/dtype.h"

namespace theon::cuda {

// How float32 products may use tensor cores (Theano had no such switch;
// config().float32_matmul_precision picks one, as PyTorch's
// set_float32_matmul_precision): exact float32 by default, TF32 or bfloat16.
enum class MathMode { exact, tf32, bf16 };

// C = alpha * op(A) @ op(B) + beta * C, row-major, op = transpose when
// trans_x: C is m x n, op(A) m x k, op(B) k x n; ld* are row strides in
// elements. dtype float16, bfloat16 (accumulated in float32), float32 or float64.
void gemm(int device, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c, int64_t ldc,
          DType dtype, MathMode mode = MathMode::exact);

// `batch` independent gemms in one call: product i reads a + i * stride_a,
// b + i * stride_b and writes c + i * stride_c (strides in elements, >= 0; 0
// reuses one operand for every product, a broadcast batch), each as gemm above.
void gemm_strided_batched(int device, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                          double alpha, const void* a, int64_t lda, int64_t stride_a, const void* b,
                          int64_t ldb, int64_t stride_b, double beta, void* c, int64_t ldc,
                          int64_t stride_c, int64_t batch, DType dtype,
                          MathMode mode = MathMode::exact);

// True when theon was built with cuDNN.
bool have_cudnn();

// A 2-D convolution in NCHW / KCRS layout: a cross-correlation, or with
// `flip` a true convolution (the filters' rows and columns reversed:
// CUDNN_CONVOLUTION, Theano's filter_flip=True), in all three calls.
struct Conv2dShape {
  int64_t n = 1, c = 1, h = 1, w = 1;  // input
  int64_t k = 1, r = 1, s = 1;         // filters: k outputs of c / groups channels, r x s
  int64_t pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  bool flip = false;
  int64_t out_h() const { return (h + 2 * pad_h - dilation_h * (r - 1) - 1) / stride_h + 1; }
  int64_t out_w() const { return (w + 2 * pad_w - dilation_w * (s - 1) - 1) / stride_w + 1; }
};

// y (n, k, out_h, out_w) = conv(x, w), contiguous device arrays of `dtype`
// (float16, bfloat16, float32, float64). The algorithm is chosen by cuDNN's
// heuristics once per shape and dtype and remembered.
// float32 uses tensor cores (TF32) only with MathMode::tf32.
void conv2d_forward(int device, const Conv2dShape& shape, DType dtype, const void* x, const void* w,
                    void* y, MathMode mode = MathMode::exact);
// The gradients: dx (n, c, h, w) from dy (n, k, out_h, out_w) and w, and
// dw (k, c / groups, r, s) from x and dy; both overwrite their output.
void conv2d_backward_data(int device, const Conv2dShape& shape, DType dtype, const void* dy,
                          const void* w, void* dx, MathMode mode = MathMode::exact);
void conv2d_backward_filter(int device, const Conv2dShape& shape, DType dtype, const void* x,
                            const void* dy, void* dw, MathMode mode = MathMode::exact);

}  // namespace theon::cuda
