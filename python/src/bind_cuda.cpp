// Bindings of the CUDA backend's availability queries (theon.cuda).
#include "common.h"
#include "theon/backend/cuda.h"
#include "theon/backend/cuda_device.h"

void init_cuda(nb::module_& m) {
  using namespace theon;
  m.def("cuda_built", &cuda::built_with_cuda, "True when theon was built with the CUDA backend.");
  m.def("cuda_device_count", &cuda::device_count, "Number of usable CUDA devices.");
  m.def("cuda_is_available", &cuda::is_available, "True when a CUDA device can be used.");
  m.def("cuda_unavailable_reason", &cuda::unavailable_reason,
        "Why CUDA cannot be used here ('' when it can).");
  m.def("cuda_device_name", &cuda::device_name, nb::arg("i"), "The name of CUDA device i.");
  m.def("cuda_set_emulation", &cuda::set_emulation, nb::arg("on"),
        "Runs device cuda:0 on the host emulator instead of a GPU.");
  m.def("cuda_emulation", &cuda::emulation, "True when cuda:0 runs on the host emulator.");
}
