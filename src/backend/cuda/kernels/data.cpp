// Device kernels: data family (see families.h). Filled in by the CUDA executor work.
#include "families.h"

namespace theon::cuda::kernels {

std::vector<DeviceKernel> data_kernels() { return {}; }

}  // namespace theon::cuda::kernels
