// The vector functions for AVX-512F (this file is compiled with -mavx512f).
#include <immintrin.h>
#include <sleef.h>

#define THEON_VEC_ISA avx512f
#define THEON_VEC_ISA_NAME "avx512f"
#define THEON_VEC_TABLE kVecAvx512
#define VF __m512
#define VD __m512d
#define NF 16
#define ND 8
#define LOADF _mm512_loadu_ps
#define STOREF _mm512_storeu_ps
#define LOADD _mm512_loadu_pd
#define STORED _mm512_storeu_pd
#include "vector_math_isa.h"
