// cuSOLVER behind cuda_solver.h on a GPU (common/cusolver_calls.h): one
// handle per device bound to the device's stream, workspace from the caching
// allocator. A block is given back as soon as the call is queued: all of a
// device's work is on one stream, so the next user of the block runs after
// the routine (cuda_device.h).
#include <cuda_runtime.h>
#include <cusolverDn.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "check.h"
#include "common/cusolver_calls.h"
#include "theon/backend/cuda_memory.h"

namespace theon::cuda::detail {

namespace {

void check_status(cusolverStatus_t s, const char* what) {
  if (s != CUSOLVER_STATUS_SUCCESS)
    throw std::runtime_error(std::string("[cusolver] ") + what + ": status " +
                             std::to_string(int(s)));
}

// The handle of `device`, bound to its stream (made on first use); makes
// `device` current, as the routines run on the current device.
cusolverDnHandle_t handle(int device) {
  static std::mutex mu;
  static auto* handles = new std::map<int, cusolverDnHandle_t>;  // never freed
  std::lock_guard<std::mutex> lock(mu);
  auto it = handles->find(device);
  if (it == handles->end()) require_available("cusolver");
  check(cudaSetDevice(device), "cudaSetDevice");
  if (it == handles->end()) {
    cusolverDnHandle_t h = nullptr;
    check_status(cusolverDnCreate(&h), "cusolverDnCreate");
    it = handles->emplace(device, h).first;
  }
  check_status(
      cusolverDnSetStream(it->second, static_cast<cudaStream_t>(device_stream(device).handle())),
      "cusolverDnSetStream");
  return it->second;
}

// `elems` elements of T from the caching allocator, given back on destruction.
template <class T>
struct Workspace {
  Workspace(int device, int elems)
      : n_(sizeof(T) * size_t(elems > 0 ? elems : 1)),
        device_(device),
        p_(static_cast<T*>(device_alloc(n_, device))) {}
  ~Workspace() { device_free(p_, n_, device_); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  T* get() const { return p_; }

 private:
  size_t n_;
  int device_;
  T* p_;
};

// Runs a routine that takes a workspace: size(&lwork) (its <name>_bufferSize),
// then run(work, lwork) with a workspace of lwork elements of T.
template <class T, class Size, class Run>
void with_workspace(int device, const char* name, Size&& size, Run&& run) {
  int lwork = 0;
  if (cusolverStatus_t s = size(&lwork); s != CUSOLVER_STATUS_SUCCESS)
    check_status(s, (std::string(name) + "_bufferSize").c_str());
  Workspace<T> work(device, lwork);
  check_status(run(work.get(), lwork), name);
}

cublasFillMode_t fill(bool lower) {
  return lower ? CUBLAS_FILL_MODE_LOWER : CUBLAS_FILL_MODE_UPPER;
}

}  // namespace

// cusolverDnS<name> for float, cusolverDnD<name> for double (the other branch
// is discarded by if constexpr); the call sites cast their pointers to T*.
#define THEON_CUSOLVER(T, name, ...)         \
  [&] {                                      \
    if constexpr (std::is_same_v<T, float>)  \
      return cusolverDnS##name(__VA_ARGS__); \
    else                                     \
      return cusolverDnD##name(__VA_ARGS__); \
  }()

void cusolver_getrf(int device, DType dtype, int n, void* a, int lda, int* ipiv, int* info) {
  visit_solver_dtype(dtype, "getrf", [&](auto t) {
    using T = decltype(t);
    cusolverDnHandle_t h = handle(device);
    T* pa = static_cast<T*>(a);
    with_workspace<T>(
        device, "getrf",
        [&](int* lwork) { return THEON_CUSOLVER(T, getrf_bufferSize, h, n, n, pa, lda, lwork); },
        [&](T* work, int) { return THEON_CUSOLVER(T, getrf, h, n, n, pa, lda, work, ipiv, info); });
  });
}

void cusolver_getrs(int device, DType dtype, bool trans, int n, int nrhs, const void* a, int lda,
                    const int* ipiv, void* b, int ldb, int* info) {
  visit_solver_dtype(dtype, "getrs", [&](auto t) {
    using T = decltype(t);
    check_status(
        THEON_CUSOLVER(T, getrs, handle(device), trans ? CUBLAS_OP_T : CUBLAS_OP_N, n, nrhs,
                       static_cast<const T*>(a), lda, ipiv, static_cast<T*>(b), ldb, info),
        "getrs");
  });
}

void cusolver_potrf(int device, DType dtype, bool lower, int n, void* a, int lda, int* info) {
  visit_solver_dtype(dtype, "potrf", [&](auto t) {
    using T = decltype(t);
    cusolverDnHandle_t h = handle(device);
    T* pa = static_cast<T*>(a);
    with_workspace<T>(
        device, "potrf",
        [&](int* lwork) {
          return THEON_CUSOLVER(T, potrf_bufferSize, h, fill(lower), n, pa, lda, lwork);
        },
        [&](T* work, int lwork) {
          return THEON_CUSOLVER(T, potrf, h, fill(lower), n, pa, lda, work, lwork, info);
        });
  });
}

void cusolver_potrs(int device, DType dtype, bool lower, int n, int nrhs, const void* a, int lda,
                    void* b, int ldb, int* info) {
  visit_solver_dtype(dtype, "potrs", [&](auto t) {
    using T = decltype(t);
    check_status(THEON_CUSOLVER(T, potrs, handle(device), fill(lower), n, nrhs,
                                static_cast<const T*>(a), lda, static_cast<T*>(b), ldb, info),
                 "potrs");
  });
}

void cusolver_syevd(int device, DType dtype, bool lower, int n, void* a, int lda, void* w,
                    int* info) {
  visit_solver_dtype(dtype, "syevd", [&](auto t) {
    using T = decltype(t);
    cusolverDnHandle_t h = handle(device);
    T *pa = static_cast<T*>(a), *pw = static_cast<T*>(w);
    with_workspace<T>(
        device, "syevd",
        [&](int* lwork) {
          return THEON_CUSOLVER(T, syevd_bufferSize, h, CUSOLVER_EIG_MODE_VECTOR, fill(lower), n,
                                pa, lda, pw, lwork);
        },
        [&](T* work, int lwork) {
          return THEON_CUSOLVER(T, syevd, h, CUSOLVER_EIG_MODE_VECTOR, fill(lower), n, pa, lda, pw,
                                work, lwork, info);
        });
  });
}

void cusolver_geqrf(int device, DType dtype, int m, int n, void* a, int lda, void* tau, int* info) {
  visit_solver_dtype(dtype, "geqrf", [&](auto t) {
    using T = decltype(t);
    cusolverDnHandle_t h = handle(device);
    T* pa = static_cast<T*>(a);
    with_workspace<T>(
        device, "geqrf",
        [&](int* lwork) { return THEON_CUSOLVER(T, geqrf_bufferSize, h, m, n, pa, lda, lwork); },
        [&](T* work, int lwork) {
          return THEON_CUSOLVER(T, geqrf, h, m, n, pa, lda, static_cast<T*>(tau), work, lwork,
                                info);
        });
  });
}

void cusolver_orgqr(int device, DType dtype, int m, int n, int k, void* a, int lda, const void* tau,
                    int* info) {
  visit_solver_dtype(dtype, "orgqr", [&](auto t) {
    using T = decltype(t);
    cusolverDnHandle_t h = handle(device);
    T* pa = static_cast<T*>(a);
    const T* pt = static_cast<const T*>(tau);
    with_workspace<T>(
        device, "orgqr",
        [&](int* lwork) {
          return THEON_CUSOLVER(T, orgqr_bufferSize, h, m, n, k, pa, lda, pt, lwork);
        },
        [&](T* work, int lwork) {
          return THEON_CUSOLVER(T, orgqr, h, m, n, k, pa, lda, pt, work, lwork, info);
        });
  });
}

void cusolver_gesvd(int device, DType dtype, char job, int m, int n, void* a, int lda, void* s,
                    void* u, int ldu, void* vt, int ldvt, int* info) {
  visit_solver_dtype(dtype, "gesvd", [&](auto t) {
    using T = decltype(t);
    cusolverDnHandle_t h = handle(device);
    // VT is n x n for 'S' too (m >= n), so jobvt 'A' there.
    const signed char jobu = static_cast<signed char>(job);
    const signed char jobvt = static_cast<signed char>(job == 'N' ? 'N' : 'A');
    with_workspace<T>(
        device, "gesvd",
        [&](int* lwork) { return THEON_CUSOLVER(T, gesvd_bufferSize, h, m, n, lwork); },
        [&](T* work, int lwork) {
          return THEON_CUSOLVER(T, gesvd, h, jobu, jobvt, m, n, static_cast<T*>(a), lda,
                                static_cast<T*>(s), static_cast<T*>(u), ldu, static_cast<T*>(vt),
                                ldvt, work, lwork, static_cast<T*>(nullptr), info);
        });
  });
}

}  // namespace theon::cuda::detail
