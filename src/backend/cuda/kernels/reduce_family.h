// Internals of the reduce, nnet and random device kernels shared between
// their files and with tests: the scan entries (joined into reduce_kernels())
// and the CUDA C of each program, so tests compile every (kind, dtype)
// program with NVRTC without running it.
#pragma once
#include <string>
#include <vector>

#include "theon/backend/cuda_kernels.h"
#include "theon/ops/reduce.h"

namespace theon::cuda::kernels {

// CumOp's entry (scan.cpp).
std::vector<DeviceKernel> scan_kernels();

// RandomOp's choice and permutation entries (random_choice.cpp).
std::vector<DeviceKernel> random_choice_kernels();
// CUDA C of random.cpp reused by random_choice.cpp: the Philox stream (Stream,
// pd/pi parameter readers; needs Args of at least 13 words), and the
// init / parallel / serial-redo kernels (need TOut, WPE, NORMAL and sample()).
std::string philox_stream_source();
std::string random_parallel_kernels_source();

// The Reduce program for `kind` over input dtype `in` (output per reduce_result_dtype).
std::string reduce_program_source(ReduceKind kind, DType in);
// The CumOp program (cumsum when `sum`, else cumprod) over input dtype `in`.
std::string cum_program_source(bool sum, DType in);
// The nnet programs: "softmax", "log_softmax", "xent_1hot", "xent_1hot_grad",
// "softmax_xent_1hot", "softmax_xent_1hot_grad", for value dtype `in`
// (indices int64).
std::string nnet_program_source(const std::string& which, DType in);
// The random program of one distribution ("uniform", "normal", "integers",
// "binomial") drawing values of `dtype`.
std::string random_program_source(const std::string& dist, DType dtype);
// The choice / permutation program drawing values of `dtype`.
std::string choice_program_source(DType dtype);

}  // namespace theon::cuda::kernels
