// Device kernels: conv family (see families.h). Filled in by the CUDA executor work.
#include "families.h"

namespace theon::cuda::kernels {

std::vector<DeviceKernel> conv_kernels() { return {}; }

}  // namespace theon::cuda::kernels
