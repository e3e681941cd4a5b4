// The device kernels of each family of ops (cuda_kernels.h), one function per
// family returning its entries; registry.cpp joins them into the table.
#pragma once
#include <vector>

#include "theon/backend/cuda_kernels.h"

namespace theon::cuda::kernels {

std::vector<DeviceKernel> elemwise_kernels();  // Elemwise, Composite (NVRTC fused kernels)
std::vector<DeviceKernel> data_kernels();      // views, copies, joins, allocation, indexing
std::vector<DeviceKernel> reduce_kernels();    // sum/prod/max/min/any/all, argmax, cumsum
std::vector<DeviceKernel> nnet_kernels();      // softmax family, cross-entropy
std::vector<DeviceKernel> blas_kernels();      // dot, gemm, gemv, batched_dot (cuBLAS)
std::vector<DeviceKernel> conv_kernels();      // conv2d and its gradients, pooling (cuDNN)
std::vector<DeviceKernel> random_kernels();    // Philox random streams
std::vector<DeviceKernel>
linalg_kernels();  // inverse, det, cholesky, solve, eigh, qr, svd, pinv (cuSOLVER)
const KernelProgram& linalg_program();  // linalg.cpp's small kernels (for NVRTC tests)

}  // namespace theon::cuda::kernels
