// Fortran BLAS/LAPACK entry points used by the linear-algebra ops.
//
// Declared here (not through cblas.h / lapacke.h) so the library needs only
// what find_package(BLAS) and find_package(LAPACK) provide. All matrices are
// column-major; character arguments carry their hidden Fortran length.
#pragma once
#include <cstddef>

extern "C" {
using f_int = int;
using f_len = size_t;

void sgemm_(const char* ta, const char* tb, const f_int* m, const f_int* n, const f_int* k,
            const float* alpha, const float* a, const f_int* lda, const float* b, const f_int* ldb,
            const float* beta, float* c, const f_int* ldc, f_len, f_len);
void dgemm_(const char* ta, const char* tb, const f_int* m, const f_int* n, const f_int* k,
            const double* alpha, const double* a, const f_int* lda, const double* b, const f_int* ldb,
            const double* beta, double* c, const f_int* ldc, f_len, f_len);
void sgemv_(const char* t, const f_int* m, const f_int* n, const float* alpha, const float* a,
            const f_int* lda, const float* x, const f_int* incx, const float* beta, float* y,
            const f_int* incy, f_len);
void dgemv_(const char* t, const f_int* m, const f_int* n, const double* alpha, const double* a,
            const f_int* lda, const double* x, const f_int* incx, const double* beta, double* y,
            const f_int* incy, f_len);

void sgetrf_(const f_int* m, const f_int* n, float* a, const f_int* lda, f_int* ipiv, f_int* info);
void dgetrf_(const f_int* m, const f_int* n, double* a, const f_int* lda, f_int* ipiv, f_int* info);
void sgetri_(const f_int* n, float* a, const f_int* lda, const f_int* ipiv, float* work,
             const f_int* lwork, f_int* info);
void dgetri_(const f_int* n, double* a, const f_int* lda, const f_int* ipiv, double* work,
             const f_int* lwork, f_int* info);
void sgetrs_(const char* t, const f_int* n, const f_int* nrhs, const float* a, const f_int* lda,
             const f_int* ipiv, float* b, const f_int* ldb, f_int* info, f_len);
void dgetrs_(const char* t, const f_int* n, const f_int* nrhs, const double* a, const f_int* lda,
             const f_int* ipiv, double* b, const f_int* ldb, f_int* info, f_len);
void spotrf_(const char* uplo, const f_int* n, float* a, const f_int* lda, f_int* info, f_len);
void dpotrf_(const char* uplo, const f_int* n, double* a, const f_int* lda, f_int* info, f_len);
void spotrs_(const char* uplo, const f_int* n, const f_int* nrhs, const float* a, const f_int* lda,
             float* b, const f_int* ldb, f_int* info, f_len);
void dpotrs_(const char* uplo, const f_int* n, const f_int* nrhs, const double* a, const f_int* lda,
             double* b, const f_int* ldb, f_int* info, f_len);
void ssysv_(const char* uplo, const f_int* n, const f_int* nrhs, float* a, const f_int* lda,
            f_int* ipiv, float* b, const f_int* ldb, float* work, const f_int* lwork, f_int* info, f_len);
void dsysv_(const char* uplo, const f_int* n, const f_int* nrhs, double* a, const f_int* lda,
            f_int* ipiv, double* b, const f_int* ldb, double* work, const f_int* lwork, f_int* info,
            f_len);
void strtrs_(const char* uplo, const char* trans, const char* diag, const f_int* n, const f_int* nrhs,
             const float* a, const f_int* lda, float* b, const f_int* ldb, f_int* info, f_len, f_len,
             f_len);
void dtrtrs_(const char* uplo, const char* trans, const char* diag, const f_int* n, const f_int* nrhs,
             const double* a, const f_int* lda, double* b, const f_int* ldb, f_int* info, f_len, f_len,
             f_len);
void ssyevd_(const char* jobz, const char* uplo, const f_int* n, float* a, const f_int* lda, float* w,
             float* work, const f_int* lwork, f_int* iwork, const f_int* liwork, f_int* info, f_len,
             f_len);
void dsyevd_(const char* jobz, const char* uplo, const f_int* n, double* a, const f_int* lda, double* w,
             double* work, const f_int* lwork, f_int* iwork, const f_int* liwork, f_int* info, f_len,
             f_len);
void sgeqrf_(const f_int* m, const f_int* n, float* a, const f_int* lda, float* tau, float* work,
             const f_int* lwork, f_int* info);
void dgeqrf_(const f_int* m, const f_int* n, double* a, const f_int* lda, double* tau, double* work,
             const f_int* lwork, f_int* info);
void sorgqr_(const f_int* m, const f_int* n, const f_int* k, float* a, const f_int* lda,
             const float* tau, float* work, const f_int* lwork, f_int* info);
void dorgqr_(const f_int* m, const f_int* n, const f_int* k, double* a, const f_int* lda,
             const double* tau, double* work, const f_int* lwork, f_int* info);
void sgesdd_(const char* jobz, const f_int* m, const f_int* n, float* a, const f_int* lda, float* s,
             float* u, const f_int* ldu, float* vt, const f_int* ldvt, float* work, const f_int* lwork,
             f_int* iwork, f_int* info, f_len);
void dgesdd_(const char* jobz, const f_int* m, const f_int* n, double* a, const f_int* lda, double* s,
             double* u, const f_int* ldu, double* vt, const f_int* ldvt, double* work,
             const f_int* lwork, f_int* iwork, f_int* info, f_len);
// gesvd: the CUDA emulator's stand-in for cuSOLVER's gesvd (backend/cuda/kernels/solver.cpp).
void sgesvd_(const char* jobu, const char* jobvt, const f_int* m, const f_int* n, float* a,
             const f_int* lda, float* s, float* u, const f_int* ldu, float* vt, const f_int* ldvt,
             float* work, const f_int* lwork, f_int* info, f_len, f_len);
void dgesvd_(const char* jobu, const char* jobvt, const f_int* m, const f_int* n, double* a,
             const f_int* lda, double* s, double* u, const f_int* ldu, double* vt, const f_int* ldvt,
             double* work, const f_int* lwork, f_int* info, f_len, f_len);
}
