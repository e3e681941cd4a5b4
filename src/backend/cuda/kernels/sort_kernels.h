// Device kernels for Sort/ArgSort and Diff (part of the data family, joined by data_kernels()).
#pragma once
#include <vector>

#include "theon/backend/cuda_kernels.h"

namespace theon::cuda::kernels {

std::vector<DeviceKernel> sort_kernels();

}  // namespace theon::cuda::kernels
