// The CUDA C of the reduce, nnet and random device kernels' programs, exposed
// so tests can compile every (kind, dtype) program with NVRTC for several
// architectures without running them.
#pragma once
#include <string>

#include "theon/ops/reduce.h"

namespace theon::cuda::kernels {

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

}  // namespace theon::cuda::kernels
