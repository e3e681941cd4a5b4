// The vector functions for SSE2, the x86-64 baseline.
#include <emmintrin.h>
#include <sleef.h>

#define THEON_VEC_ISA sse2
#define THEON_VEC_ISA_NAME "sse2"
#define THEON_VEC_TABLE kVecSse2
#define VF __m128
#define VD __m128d
#define NF 4
#define ND 2
#define LOADF _mm_loadu_ps
#define STOREF _mm_storeu_ps
#define LOADD _mm_loadu_pd
#define STORED _mm_storeu_pd
#include "vector_math_isa.h"
