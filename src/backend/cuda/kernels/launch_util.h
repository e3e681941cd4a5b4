// Helpers shared by the elementwise and data-movement device kernels
// (elemwise.cpp, data.cpp, indexing.cpp), in namespace kdata (the other
// families keep their helpers in namespaces of their own): the cache of generated kernel
// programs, grid sizes, byte strides of operands broadcast to one shape with
// their dims merged where every operand allows it, and the CUDA C names of
// dtypes for kernels that switch on a dtype at run time.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "theon/backend/cuda_device.h"
#include "theon/backend/cuda_kernels.h"

namespace theon::cuda::kernels::kdata {

// The program cached under `key`, made by `make` the first time (generating
// CUDA C is not free). The reference stays valid for the life of the process.
const KernelProgram& cached_program(const std::string& key,
                                    const std::function<KernelProgram()>& make);

// A grid-stride launch over n elements: 256 threads, enough blocks to fill
// the device a few times over.
LaunchShape grid_for(DeviceRuntime& rt, int64_t n);

inline int64_t word(const void* p) {
  return int64_t(reinterpret_cast<intptr_t>(p));
}

// Operands (arrays whose shapes broadcast to `shape`) as byte strides over
// `shape`, 0 along broadcast dims, with dims of length 1 dropped and
// neighbouring dims merged where every operand is contiguous across them.
struct StridedLoop {
  Shape shape;                   // the merged shape ({} for one element)
  std::vector<Strides> strides;  // one per operand, shape.size() entries
  int64_t size = 0;              // elements
};
StridedLoop strided_loop(const Shape& shape, const std::vector<Array>& operands);

// The prelude's storage type of a dtype ("float", "i64", "f16" ...).
const char* kernel_ctype(DType d);

// CUDA C (after the fused prelude) for kernels that switch on a dtype at run
// time: `#define DT_<Name> <int(DType::Name)>` for every dtype, and
// theon_load_int(p, dt): the integer at p of dtype dt as a 64-bit value
// (uint64 keeps its bits), for index arrays and exact comparisons.
std::string dtype_switch_source();

// The fixed programs of this family's kernels (for tests that compile them with NVRTC).
const KernelProgram& index_program();      // indexing.cpp: gather, scatter, bounds checks
const KernelProgram& creation_program();   // data.cpp: eye/tri, tril/triu
const KernelProgram& exact_cmp_program();  // elemwise.cpp: signed/unsigned comparisons

// Subtensor, AdvancedSubtensor and IncSubtensor (indexing.cpp), joined by data_kernels().
std::vector<DeviceKernel> indexing_kernels();

}  // namespace theon::cuda::kernels::kdata
