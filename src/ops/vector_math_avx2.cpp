// The vector functions for AVX2 + FMA (this file is compiled with -mavx2 -mfma).
#include <immintrin.h>
#include <sleef.h>

#define THEON_VEC_ISA avx2
#define THEON_VEC_ISA_NAME "avx2"
#define THEON_VEC_TABLE kVecAvx2
#define VF __m256
#define VD __m256d
#define NF 8
#define ND 4
#define LOADF _mm256_loadu_ps
#define STOREF _mm256_storeu_ps
#define LOADD _mm256_loadu_pd
#define STORED _mm256_storeu_pd
#include "vector_math_isa.h"
