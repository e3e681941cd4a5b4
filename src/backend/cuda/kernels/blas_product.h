// Matrix products on a CUDA device for the blas family's kernels (blas.cpp),
// computed as the CPU's matmul_2d does: float dtypes through the runtime's
// gemm (cuBLAS; float16 / bfloat16 accumulated in float32), integers and bool
// with an exact generated kernel that wraps on overflow like NumPy. Operands
// are used in place when a row or column stride is 1 (a transposed view goes
// to gemm as a flag), and copied to C-contiguous otherwise.
#pragma once
#include <optional>

#include "theon/backend/cuda_device.h"

namespace theon::cuda::kernels::kblas {

// c = a @ b for 2-d device arrays; c has the product's dtype and unit column
// stride (a C-contiguous matrix or a row block of one); a and b any dtypes and strides.
void matmul_2d(DeviceRuntime& rt, const Array& a, const Array& b, const Array& c);

// c[i] = a[i] @ b[i] for 3-d device arrays (batch, rows, cols), c C-contiguous.
void batched_matmul(DeviceRuntime& rt, const Array& a, const Array& b, const Array& c);

// c = alpha * a @ b + beta * c through gemm (float dtypes; c as in matmul_2d,
// a and b converted to c's dtype when they differ). All sizes > 0.
void gemm_into(DeviceRuntime& rt, const Array& a, const Array& b, const Array& c, double alpha,
               double beta);

// A new C-contiguous array of `dtype`: a * b elementwise with NumPy broadcasting.
Array multiply(DeviceRuntime& rt, const Array& a, const Array& b, DType dtype);

// A new C-contiguous array of `dtype` (float32 or float64): beta * z + alpha * p
// with NumPy broadcasting, or z + alpha * p without beta, rounded as the CPU's
// elementwise ops round each step.
Array scaled_sum(DeviceRuntime& rt, const Array& z, double alpha, const Array& p,
                 std::optional<double> beta, DType dtype);

}  // namespace theon::cuda::kernels::kblas
