// Helpers shared by the blas, conv and pool device kernels (blas.cpp,
// blas_product.cpp, conv.cpp, pool.cpp): CUDA C type names of dtypes, kernel
// programs built once per key, pointer words, grid-stride launch shapes and
// strided views of merged dimensions.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "theon/backend/cuda_device.h"

namespace theon::cuda::kernels::kblas {

// The prelude's name of dtype's storage type: "float", "f16", "i32", "bool" ...
const char* c_type(DType dtype);

// A pointer as a kernel word.
inline int64_t ptr_word(const void* p) {
  return int64_t(reinterpret_cast<intptr_t>(p));
}
// A double's bits as a kernel word (read back with __longlong_as_double).
int64_t double_word(double v);

// The program `make` builds for `key`, built once per process and kept.
const KernelProgram& cached_program(const std::string& key,
                                    const std::function<KernelProgram()>& make);

// Blocks and threads of a grid-stride loop over n > 0 items.
LaunchShape grid_for(const DeviceRuntime& rt, int64_t n);

// x with its dims merged into groups, group g holding dims [cuts[g-1], cuts[g])
// (cuts[-1] = 0, the last cut is x.ndim()): a view when the strides allow it,
// else a C-contiguous copy on the device, reshaped.
Array merged_dims(const Array& x, const std::vector<int>& cuts);

// The kernel programs of the blas and pool kernels for `dtype` (built once),
// for the tests that compile every one of them with NVRTC.
const KernelProgram& blas_program(DType dtype);  // blas_product.cpp
const KernelProgram& pool_program(DType dtype);  // pool.cpp

}  // namespace theon::cuda::kernels::kblas
