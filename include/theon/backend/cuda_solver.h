// theon/backend/cuda_solver.h — dense LAPACK routines on a CUDA device.
//
// The routines the linalg device kernels (src/backend/cuda/kernels/linalg.cpp)
// build theon's linalg ops from: LU, Cholesky, symmetric eigendecomposition,
// QR and SVD of one column-major matrix in device memory. Each is queued on
// the device's stream like a kernel and writes LAPACK's `info` (0: success,
// > 0: the routine's failure, e.g. the first zero pivot of getrf) to a device
// int; reading it back is the caller's business (a download, which waits).
//
// On the host emulator (DeviceRuntime::emulated()) device memory is host
// memory and the routines are the LAPACK ones theon's CPU ops call; on a GPU
// they are cuSOLVER's (one handle per device, bound to the device's stream,
// workspace from the caching allocator). dtype is Float32 or Float64; sizes
// must be below 2^31; a leading dimension is >= max(1, rows).
#pragma once
#include <cstdint>

#include "theon/backend/cuda_device.h"

namespace theon::cuda::solver {

// LU with partial pivoting of the n x n matrix a (in place); ipiv: n ints (1-based).
void getrf(DeviceRuntime& rt, DType dtype, int64_t n, void* a, int64_t lda, int* ipiv, int* info);
// Solves op(A) X = B with getrf's factors (op: transpose when `trans`); B is n x nrhs, in place.
void getrs(DeviceRuntime& rt, DType dtype, bool trans, int64_t n, int64_t nrhs, const void* a,
           int64_t lda, const int* ipiv, void* b, int64_t ldb, int* info);
// Cholesky factor of the n x n matrix a in its lower (or upper) triangle, in place;
// the other triangle is left as it was.
void potrf(DeviceRuntime& rt, DType dtype, bool lower, int64_t n, void* a, int64_t lda, int* info);
// Solves A X = B with potrf's factor; B is n x nrhs, in place.
void potrs(DeviceRuntime& rt, DType dtype, bool lower, int64_t n, int64_t nrhs, const void* a,
           int64_t lda, void* b, int64_t ldb, int* info);
// Eigenvalues w (ascending, n) and eigenvectors (overwriting a, in columns) of the
// symmetric n x n matrix given by a's lower (or upper) triangle.
void syevd(DeviceRuntime& rt, DType dtype, bool lower, int64_t n, void* a, int64_t lda, void* w,
           int* info);
// QR of the m x n matrix a: R in its upper triangle, the Householder vectors below
// and their scalars in tau (min(m, n)).
void geqrf(DeviceRuntime& rt, DType dtype, int64_t m, int64_t n, void* a, int64_t lda, void* tau,
           int* info);
// The m x n matrix Q (m >= n >= k) with orthonormal columns from geqrf's first k
// reflectors (in a's first k columns) and tau, in place.
void orgqr(DeviceRuntime& rt, DType dtype, int64_t m, int64_t n, int64_t k, void* a, int64_t lda,
           const void* tau, int* info);
// SVD a = U diag(s) VT of the m x n matrix a with m >= n (cuSOLVER's restriction;
// transpose first for m < n), destroying a. job 'A': U m x m and VT n x n; 'S':
// U m x n and VT n x n; 'N': s only (u and vt unused). s descending.
void gesvd(DeviceRuntime& rt, DType dtype, char job, int64_t m, int64_t n, void* a, int64_t lda,
           void* s, void* u, int64_t ldu, void* vt, int64_t ldvt, int* info);

}  // namespace theon::cuda::solver
