// The table of device kernels: every family's entries, in one list.
#include "families.h"

namespace theon::cuda {

const std::vector<DeviceKernel>& device_kernels() {
  static const std::vector<DeviceKernel> table = [] {
    std::vector<DeviceKernel> all;
    for (auto family : {kernels::elemwise_kernels, kernels::data_kernels, kernels::reduce_kernels,
                        kernels::nnet_kernels, kernels::blas_kernels, kernels::conv_kernels,
                        kernels::random_kernels, kernels::linalg_kernels})
      for (DeviceKernel& k : family()) all.push_back(k);
    return all;
  }();
  return table;
}

const DeviceKernel* find_device_kernel(const Op& op) {
  for (const DeviceKernel& k : device_kernels())
    if (k.supports(op)) return &k;
  return nullptr;
}

}  // namespace theon::cuda
