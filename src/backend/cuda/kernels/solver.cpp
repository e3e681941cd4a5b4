// cuda_solver.h: LAPACK on the host emulator's memory, cuSOLVER on a GPU
// (src/backend/cuda/cusolver.cpp through common/cusolver_calls.h).
//
// In the emulator "device" memory is host memory and work runs when queued,
// so the LAPACK routines theon's CPU linalg ops call (src/ops/blas_lapack.h)
// run directly on the device pointers, workspace sized by LAPACK's queries.
#include <stdexcept>
#include <string>

#include "../../../ops/linalg_util.h"
#include "../common/cusolver_calls.h"
#include "theon/backend/cuda_solver.h"

namespace theon::cuda::solver {

namespace {

using linalg_detail::with_workspace;
using linalg_detail::with_workspaces;

// A size or leading dimension as the 32-bit int both LAPACK and cuSOLVER take.
int dim(int64_t v, const char* who) {
  if (v < 0 || v > 2147483647)
    throw std::invalid_argument(std::string("[cuda solver] ") + who + ": dimension " +
                                std::to_string(v) + " is outside [0, 2^31)");
  return int(v);
}

}  // namespace

void getrf(DeviceRuntime& rt, DType dtype, int64_t n64, void* a, int64_t lda64, int* ipiv,
           int* info) {
  const int n = dim(n64, "getrf"), lda = dim(lda64, "getrf");
  if (!rt.emulated()) return detail::cusolver_getrf(rt.index(), dtype, n, a, lda, ipiv, info);
  detail::visit_solver_dtype(dtype, "getrf", [&](auto t) {
    using T = decltype(t);
    THEON_LAPACK(T, getrf, &n, &n, static_cast<T*>(a), &lda, ipiv, info);
  });
}

void getrs(DeviceRuntime& rt, DType dtype, bool trans, int64_t n64, int64_t nrhs64, const void* a,
           int64_t lda64, const int* ipiv, void* b, int64_t ldb64, int* info) {
  const int n = dim(n64, "getrs"), nrhs = dim(nrhs64, "getrs"), lda = dim(lda64, "getrs"),
            ldb = dim(ldb64, "getrs");
  if (!rt.emulated())
    return detail::cusolver_getrs(rt.index(), dtype, trans, n, nrhs, a, lda, ipiv, b, ldb, info);
  detail::visit_solver_dtype(dtype, "getrs", [&](auto t) {
    using T = decltype(t);
    const char tr = trans ? 'T' : 'N';
    THEON_LAPACK(T, getrs, &tr, &n, &nrhs, static_cast<const T*>(a), &lda, ipiv, static_cast<T*>(b),
                 &ldb, info, 1);
  });
}

void potrf(DeviceRuntime& rt, DType dtype, bool lower, int64_t n64, void* a, int64_t lda64,
           int* info) {
  const int n = dim(n64, "potrf"), lda = dim(lda64, "potrf");
  if (!rt.emulated()) return detail::cusolver_potrf(rt.index(), dtype, lower, n, a, lda, info);
  detail::visit_solver_dtype(dtype, "potrf", [&](auto t) {
    using T = decltype(t);
    const char uplo = lower ? 'L' : 'U';
    THEON_LAPACK(T, potrf, &uplo, &n, static_cast<T*>(a), &lda, info, 1);
  });
}

void potrs(DeviceRuntime& rt, DType dtype, bool lower, int64_t n64, int64_t nrhs64, const void* a,
           int64_t lda64, void* b, int64_t ldb64, int* info) {
  const int n = dim(n64, "potrs"), nrhs = dim(nrhs64, "potrs"), lda = dim(lda64, "potrs"),
            ldb = dim(ldb64, "potrs");
  if (!rt.emulated())
    return detail::cusolver_potrs(rt.index(), dtype, lower, n, nrhs, a, lda, b, ldb, info);
  detail::visit_solver_dtype(dtype, "potrs", [&](auto t) {
    using T = decltype(t);
    const char uplo = lower ? 'L' : 'U';
    THEON_LAPACK(T, potrs, &uplo, &n, &nrhs, static_cast<const T*>(a), &lda, static_cast<T*>(b),
                 &ldb, info, 1);
  });
}

void syevd(DeviceRuntime& rt, DType dtype, bool lower, int64_t n64, void* a, int64_t lda64, void* w,
           int* info) {
  const int n = dim(n64, "syevd"), lda = dim(lda64, "syevd");
  if (!rt.emulated()) return detail::cusolver_syevd(rt.index(), dtype, lower, n, a, lda, w, info);
  detail::visit_solver_dtype(dtype, "syevd", [&](auto t) {
    using T = decltype(t);
    const char jobz = 'V', uplo = lower ? 'L' : 'U';
    T* pa = static_cast<T*>(a);
    T* pw = static_cast<T*>(w);
    with_workspaces<T>([&](T* work, int* lwork, int* iwork, int* liwork) {
      THEON_LAPACK(T, syevd, &jobz, &uplo, &n, pa, &lda, pw, work, lwork, iwork, liwork, info, 1,
                   1);
    });
  });
}

void geqrf(DeviceRuntime& rt, DType dtype, int64_t m64, int64_t n64, void* a, int64_t lda64,
           void* tau, int* info) {
  const int m = dim(m64, "geqrf"), n = dim(n64, "geqrf"), lda = dim(lda64, "geqrf");
  if (!rt.emulated()) return detail::cusolver_geqrf(rt.index(), dtype, m, n, a, lda, tau, info);
  detail::visit_solver_dtype(dtype, "geqrf", [&](auto t) {
    using T = decltype(t);
    T* pa = static_cast<T*>(a);
    T* pt = static_cast<T*>(tau);
    with_workspace<T>([&](T* work, int* lwork) {
      THEON_LAPACK(T, geqrf, &m, &n, pa, &lda, pt, work, lwork, info);
    });
  });
}

void orgqr(DeviceRuntime& rt, DType dtype, int64_t m64, int64_t n64, int64_t k64, void* a,
           int64_t lda64, const void* tau, int* info) {
  const int m = dim(m64, "orgqr"), n = dim(n64, "orgqr"), k = dim(k64, "orgqr"),
            lda = dim(lda64, "orgqr");
  if (!rt.emulated()) return detail::cusolver_orgqr(rt.index(), dtype, m, n, k, a, lda, tau, info);
  detail::visit_solver_dtype(dtype, "orgqr", [&](auto t) {
    using T = decltype(t);
    T* pa = static_cast<T*>(a);
    const T* pt = static_cast<const T*>(tau);
    with_workspace<T>([&](T* work, int* lwork) {
      THEON_LAPACK(T, orgqr, &m, &n, &k, pa, &lda, pt, work, lwork, info);
    });
  });
}

void gesvd(DeviceRuntime& rt, DType dtype, char job, int64_t m64, int64_t n64, void* a,
           int64_t lda64, void* s, void* u, int64_t ldu64, void* vt, int64_t ldvt64, int* info) {
  const int m = dim(m64, "gesvd"), n = dim(n64, "gesvd"), lda = dim(lda64, "gesvd"),
            ldu = dim(ldu64, "gesvd"), ldvt = dim(ldvt64, "gesvd");
  if (m < n)
    throw std::invalid_argument("[cuda solver] gesvd: m >= n required (got " + std::to_string(m) +
                                " x " + std::to_string(n) + ")");
  if (job != 'A' && job != 'S' && job != 'N')
    throw std::invalid_argument(std::string("[cuda solver] gesvd: job must be A, S or N, got ") +
                                job);
  if (!rt.emulated())
    return detail::cusolver_gesvd(rt.index(), dtype, job, m, n, a, lda, s, u, ldu, vt, ldvt, info);
  detail::visit_solver_dtype(dtype, "gesvd", [&](auto t) {
    using T = decltype(t);
    // VT is n x n for 'S' too (m >= n), as cusolver.cpp asks for it.
    const char jobu = job, jobvt = job == 'N' ? 'N' : 'A';
    T* pa = static_cast<T*>(a);
    T* ps = static_cast<T*>(s);
    T dummy[1] = {0};
    T* pu = job == 'N' ? dummy : static_cast<T*>(u);
    T* pv = job == 'N' ? dummy : static_cast<T*>(vt);
    with_workspace<T>([&](T* work, int* lwork) {
      THEON_LAPACK(T, gesvd, &jobu, &jobvt, &m, &n, pa, &lda, ps, pu, &ldu, pv, &ldvt, work, lwork,
                   info, 1, 1);
    });
  });
}

}  // namespace theon::cuda::solver
