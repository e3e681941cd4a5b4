// theon/backend/cuda_kernels.h — the device kernels of ops, looked up by the executor.
//
// A device kernel computes one op's outputs from its inputs on a CUDA device
// (cuda_device.h): inputs are device Arrays (any strides, views, broadcasts),
// except those the entry asks to receive on the host (shape operands such as
// Reshape's target shape or Alloc's dims, read on the host without a device
// round trip). A kernel allocates its outputs with device_empty, or returns
// views of its inputs for ops whose view_map says so, and queues its work on
// the runtime without waiting for it.
//
// The table is declared once (src/backend/cuda/kernels/registry.cpp), one
// group of entries per family of ops (elementwise, data movement, reductions,
// nnet, BLAS, convolution, random ...). An op without an entry has no CUDA
// kernel: function(device='cuda') then fails at compile time naming it, or
// runs it on the CPU with a warning when config().allow_cpu_fallback is set.
#pragma once
#include <string>
#include <vector>

#include "theon/backend/cuda_device.h"
#include "theon/graph/node.h"

namespace theon::cuda {

struct DeviceKernel {
  const char* name;  // "elemwise", "sum", "gemm" ... (for profiles and errors)
  // True when this entry computes `op` (checks the op's class and props).
  bool (*supports)(const Op& op);
  // Computes outputs[i] for every output. inputs[i] is on the device unless host_input(op, i).
  void (*run)(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& inputs,
              std::vector<Array>& outputs);
  // True for inputs the kernel reads on the host (null: all inputs on the device).
  bool (*host_input)(const Op& op, int input) = nullptr;
};

// The entry computing `op`, or null when it has no CUDA kernel.
const DeviceKernel* find_device_kernel(const Op& op);
// Every entry (for documentation and the conformance suite).
const std::vector<DeviceKernel>& device_kernels();

}  // namespace theon::cuda
