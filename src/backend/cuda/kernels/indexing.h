// Device kernels for indexing (part of the data family, joined by data_kernels()):
// Subtensor, AdvancedSubtensor and IncSubtensor (basic and advanced).
#pragma once
#include <vector>

#include "theon/backend/cuda_kernels.h"

namespace theon::cuda::kernels {

std::vector<DeviceKernel> indexing_kernels();

}  // namespace theon::cuda::kernels
