// NVRTC compiles the programs of the reduce, nnet and random device kernels
// (src/backend/cuda/kernels/{reduce,nnet,random}.cpp) for sm_90 (one of each
// family for sm_80 too): every reduction kind in float16 and float64, sums of
// the other dtype kinds, the scans, softmax and the cross-entropies, and each
// random distribution (NVRTC takes ~0.4 s a program, so dtypes are sampled). Their block reductions
// use blockDim.x at run time, so one compile covers every block size. NVRTC needs no GPU; without
// the CUDA toolkit these tests skip.
#include <gtest/gtest.h>

#include "../../src/backend/cuda/kernels/reduce_family.h"
#include "theon/backend/cuda.h"
#include "theon/backend/cuda_codegen.h"

namespace theon::testing {
namespace {

#define SKIP_WITHOUT_NVRTC() \
  if (!cuda::built_with_cuda()) GTEST_SKIP() << cuda::unavailable_reason()

void compiles(const std::string& src, const std::string& what, bool sm80 = false) {
  for (const char* arch : {"sm_90", "sm_80"}) {
    if (!sm80 && std::string(arch) == "sm_80") break;
    try {
      cuda::compile_kernel(src, arch);
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << " for " << arch << ": " << e.what();
      return;
    }
  }
}

TEST(CudaKernelsNvrtc, ReductionsCompile) {
  SKIP_WITHOUT_NVRTC();
  using K = ReduceKind;
  for (K k : {K::Sum, K::Prod, K::Mean, K::Max, K::Min, K::All, K::Any, K::ArgMax, K::ArgMin})
    for (DType d : {DType::Float16, DType::Float64})
      compiles(cuda::kernels::reduce_program_source(k, d),
               "reduce " + std::to_string(int(k)) + " " + std::string(dtype_name(d)),
               k == K::ArgMax);
  for (DType d : {DType::Bool, DType::Int8, DType::UInt64, DType::BFloat16, DType::Float32})
    compiles(cuda::kernels::reduce_program_source(K::Sum, d), "sum " + std::string(dtype_name(d)));
  for (bool sum : {true, false})
    for (DType d : {DType::Int32, DType::Float16})
      compiles(cuda::kernels::cum_program_source(sum, d),
               std::string(sum ? "cumsum " : "cumprod ") + std::string(dtype_name(d)), sum);
}

TEST(CudaKernelsNvrtc, NnetCompile) {
  SKIP_WITHOUT_NVRTC();
  for (const char* which : {"softmax", "log_softmax", "xent_1hot", "xent_1hot_grad",
                            "softmax_xent_1hot", "softmax_xent_1hot_grad"})
    for (DType d : {DType::Float16, DType::Float64})
      compiles(cuda::kernels::nnet_program_source(which, d),
               std::string(which) + " " + std::string(dtype_name(d)), d == DType::Float16);
  compiles(cuda::kernels::nnet_program_source("softmax", DType::Int32), "softmax int32");
}

TEST(CudaKernelsNvrtc, RandomCompile) {
  SKIP_WITHOUT_NVRTC();
  for (DType d : {DType::Float16, DType::Float64}) {
    compiles(cuda::kernels::random_program_source("uniform", d),
             "uniform " + std::string(dtype_name(d)), d == DType::Float16);
    compiles(cuda::kernels::random_program_source("normal", d),
             "normal " + std::string(dtype_name(d)));
  }
  compiles(cuda::kernels::choice_program_source(DType::Int64), "choice int64", true);
  compiles(cuda::kernels::choice_program_source(DType::Float16), "choice float16");
  for (DType d : {DType::Int8, DType::Float32}) {
    compiles(cuda::kernels::random_program_source("integers", d),
             "integers " + std::string(dtype_name(d)));
    compiles(cuda::kernels::random_program_source("binomial", d),
             "binomial " + std::string(dtype_name(d)));
  }
}

}  // namespace
}  // namespace theon::testing
