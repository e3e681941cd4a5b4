// The body of one ISA's vector-function table, included by
// vector_math_<isa>.cpp (each compiled for its instruction set). Before
// including, the file defines THEON_VEC_ISA (SLEEF's suffix),
// THEON_VEC_ISA_NAME, THEON_VEC_TABLE (the table's name), VF/VD (vector
// types), NF/ND (lanes) and LOADF/STOREF/LOADD/STORED.
#include <cstring>

#include "vector_math.h"

namespace theon::detail {
namespace {

// n values through Op::f, W lanes at a time; the last partial vector is
// padded (with ones: inside every function's domain) and computed the same way.
template <class T, int W, class Op>
void run(const T* in, T* out, int64_t n) {
  int64_t i = 0;
  for (; i + W <= n; i += W) Op::store(out + i, Op::f(Op::load(in + i)));
  if (i < n) {
    alignas(64) T buf[W];
    for (int k = 0; k < W; ++k) buf[k] = T(1);
    std::memcpy(buf, in + i, size_t(n - i) * sizeof(T));
    Op::store(buf, Op::f(Op::load(buf)));
    std::memcpy(out + i, buf, size_t(n - i) * sizeof(T));
  }
}

#define THEON_CAT5(a, b, c, d, e) a##b##c##d##e
#define THEON_SLEEF(sleef, kind, lanes, ulp, isa) THEON_CAT5(Sleef_##sleef, kind, lanes, _##ulp, isa)
#define THEON_VEC_OPS(name, sleef, ulp)                                                 \
  struct name##_f {                                                                     \
    static VF f(VF v) { return THEON_SLEEF(sleef, f, NF, ulp, THEON_VEC_ISA)(v); }      \
    static VF load(const float* p) { return LOADF(p); }                                 \
    static void store(float* p, VF v) { STOREF(p, v); }                                 \
  };                                                                                    \
  struct name##_d {                                                                     \
    static VD f(VD v) { return THEON_SLEEF(sleef, d, ND, ulp, THEON_VEC_ISA)(v); }      \
    static VD load(const double* p) { return LOADD(p); }                                \
    static void store(double* p, VD v) { STORED(p, v); }                                \
  };
THEON_VEC_FNS(THEON_VEC_OPS)
#undef THEON_VEC_OPS
#undef THEON_SLEEF
#undef THEON_CAT5

}  // namespace

#define THEON_VEC_F32(name, sleef, ulp) &run<float, NF, name##_f>,
#define THEON_VEC_F64(name, sleef, ulp) &run<double, ND, name##_d>,
extern const VecTable THEON_VEC_TABLE{
    THEON_VEC_ISA_NAME,
    {THEON_VEC_FNS(THEON_VEC_F32)},
    {THEON_VEC_FNS(THEON_VEC_F64)},
};
#undef THEON_VEC_F32
#undef THEON_VEC_F64

}  // namespace theon::detail
