// Internal: runtime checks of the creation ops shared with their CUDA device
// kernels (src/backend/cuda/kernels/data.cpp).
#pragma once
#include <string>
#include <vector>

#include "theon/runtime/array.h"

namespace theon::detail {

// Runtime shape of Alloc/BroadcastTo from the shape inputs in[1...], checked
// against the value in[0] (only its shape is read: it may be a device array).
// Throws std::invalid_argument prefixed with "[who]".
Shape alloc_shape(const std::string& who, const std::vector<Array>& in);

}  // namespace theon::detail
