// Helpers every device-kernel family uses: the process-wide cache of
// generated kernel programs, pointers as argument words, and the launch shape
// of a grid-stride loop. (A dtype's CUDA C name is cuda_type, cuda_codegen.h.)
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "theon/backend/cuda_device.h"

namespace theon::cuda::kernels {

// The program cached under `key`, made by `make` the first time (generating
// CUDA C is not free). One cache for all families: keys start with the op
// kind ("reduce/", "kblas.pool.", "indexing" ...). The reference stays valid
// for the life of the process.
const KernelProgram& cached_program(const std::string& key,
                                    const std::function<KernelProgram()>& make);

// A pointer as a kernel word.
inline int64_t ptr_word(const void* p) {
  return int64_t(reinterpret_cast<uintptr_t>(p));
}
inline int64_t ptr_word(const Array& a) {
  return ptr_word(a.data());
}

// A grid-stride launch over n > 0 items: 256 threads, enough blocks to fill
// the device a few times over.
LaunchShape grid_for(const DeviceRuntime& rt, int64_t n);

}  // namespace theon::cuda::kernels
