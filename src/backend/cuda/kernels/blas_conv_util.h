// Helpers shared by the blas, conv and pool device kernels (blas.cpp,
// blas_product.cpp, conv.cpp, pool.cpp): double words and strided views of
// merged dimensions (the helpers of every family are in kernel_common.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "kernel_common.h"
#include "theon/backend/cuda_device.h"

namespace theon::cuda::kernels::kblas {

// A double's bits as a kernel word (read back with __longlong_as_double).
int64_t double_word(double v);

// x with its dims merged into groups, group g holding dims [cuts[g-1], cuts[g])
// (cuts[-1] = 0, the last cut is x.ndim()): a view when the strides allow it,
// else a C-contiguous copy on the device, reshaped.
Array merged_dims(const Array& x, const std::vector<int>& cuts);

// The kernel programs of the blas and pool kernels for `dtype` (built once),
// for the tests that compile every one of them with NVRTC.
const KernelProgram& blas_program(DType dtype);  // blas_product.cpp
const KernelProgram& pool_program(DType dtype);  // pool.cpp

}  // namespace theon::cuda::kernels::kblas
