// Device kernels: elemwise family (see families.h). Filled in by the CUDA executor work.
#include "families.h"

namespace theon::cuda::kernels {

std::vector<DeviceKernel> elemwise_kernels() { return {}; }

}  // namespace theon::cuda::kernels
