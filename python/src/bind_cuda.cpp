// Bindings of the CUDA backend's availability queries (theon.cuda).
#include "common.h"
#include "theon/backend/cuda.h"

void init_cuda(nb::module_& m) {
  using namespace theon;
  m.def("cuda_built", &cuda::built_with_cuda, "True when theon was built with the CUDA backend.");
  m.def("cuda_device_count", &cuda::device_count, "Number of usable CUDA devices.");
  m.def("cuda_is_available", &cuda::is_available, "True when a CUDA device can be used.");
  m.def("cuda_unavailable_reason", &cuda::unavailable_reason,
        "Why CUDA cannot be used here ('' when it can).");
  m.def("cuda_device_name", &cuda::device_name, nb::arg("i"), "The name of CUDA device i.");
}
