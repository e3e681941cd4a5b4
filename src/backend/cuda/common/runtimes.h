// The two DeviceRuntime implementations and what they share (internal to the backend).
#pragma once
#include <string>
#include <vector>

#include "theon/backend/cuda_device.h"

namespace theon::cuda::detail {

// The host emulator (src/backend/cuda/emulator/), serving cuda:0.
DeviceRuntime& emulator_runtime();
// The CUDA runtime of device `index` (src/backend/cuda/device_runtime.cpp);
// throws DeviceUnavailable naming why it cannot be used (in a build without
// CUDA: always).
DeviceRuntime& gpu_runtime(int index);

// The strided copy-and-cast program behind device_contiguous / device_assign:
// kernel "theon_copy" converting `from` elements into `to` ones.
const KernelProgram& copy_program(DType to, DType from);

// "kernels [a, b]" for error messages.
std::string kernel_names(const KernelProgram& program);
// Checks a launch as both runtimes do: a declared kernel, at most num_words
// words, blocks in [0, 2^31) (0 launches nothing), threads in [1, 1024] and
// dynamic shared memory within what a GPU gives a block; throws
// std::invalid_argument naming the kernel.
void check_launch(const KernelProgram& program, const std::string& kernel, const LaunchShape& shape,
                  const std::vector<int64_t>& words);
// The emulator's host C++ for a program: the harness, the program, and one
// entry point theon_emu_<kernel>(words, blocks, dynamic shared memory) per kernel.
std::string host_source(const KernelProgram& program);

}  // namespace theon::cuda::detail
