// The cuSOLVER side of cuda_solver.h (internal to the CUDA backend): the same
// routines on device `device`'s memory and stream. Implemented in
// src/backend/cuda/cusolver.cpp in CUDA builds and by stubs.cpp (throwing
// "theon was built without CUDA") otherwise; solver.cpp dispatches to them
// when the runtime is not the emulator.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

#include "theon/runtime/dtype.h"

namespace theon::cuda::detail {

// Calls f(T{}) with float for Float32 and double for Float64, the dtypes both
// sides have routines for; any other dtype throws std::invalid_argument naming
// the routine `who`.
template <class F>
void visit_solver_dtype(DType d, const char* who, F&& f) {
  if (d == DType::Float32)
    f(float{});
  else if (d == DType::Float64)
    f(double{});
  else
    throw std::invalid_argument(std::string("[cuda solver] ") + who + ": dtype " +
                                std::string(dtype_name(d)) + " (float32 or float64 expected)");
}

void cusolver_getrf(int device, DType dtype, int n, void* a, int lda, int* ipiv, int* info);
void cusolver_getrs(int device, DType dtype, bool trans, int n, int nrhs, const void* a, int lda,
                    const int* ipiv, void* b, int ldb, int* info);
void cusolver_potrf(int device, DType dtype, bool lower, int n, void* a, int lda, int* info);
void cusolver_potrs(int device, DType dtype, bool lower, int n, int nrhs, const void* a, int lda,
                    void* b, int ldb, int* info);
void cusolver_syevd(int device, DType dtype, bool lower, int n, void* a, int lda, void* w,
                    int* info);
void cusolver_geqrf(int device, DType dtype, int m, int n, void* a, int lda, void* tau, int* info);
void cusolver_orgqr(int device, DType dtype, int m, int n, int k, void* a, int lda, const void* tau,
                    int* info);
void cusolver_gesvd(int device, DType dtype, char job, int m, int n, void* a, int lda, void* s,
                    void* u, int ldu, void* vt, int ldvt, int* info);

}  // namespace theon::cuda::detail
