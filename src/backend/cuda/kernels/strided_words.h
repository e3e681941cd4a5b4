// Shared by the reduce, nnet and random device kernels: the compute type of
// dtypes (cuda_type, cuda_codegen.h, names their storage), strided index arithmetic (as CUDA C text
// and as argument words), and block reductions written for any blockDim. Programs are cached
// (kernel_common.h) one per op kind and dtypes, so shapes and strides travel
// as words and never create a new program.
#pragma once
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "../common/strided_walk.h"
#include "kernel_common.h"
#include "theon/backend/cuda_codegen.h"
#include "theon/backend/cuda_device.h"

namespace theon::cuda::kernels {

// The type a kernel computes a dtype's values in (float16/bfloat16 in float).
inline const char* cuda_compute_type(DType d) {
  return d == DType::Float16 || d == DType::BFloat16 ? "float" : cuda_type(d);
}

// The walk over every dim but `axis` of x and out (same rank): the lines
// along `axis`, merged.
inline Walk lines_walk(const Array& x, const Array& out, int axis) {
  Walk w(2);
  for (int i = 0; i < x.ndim(); ++i)
    if (i != axis) w.add(x.shape()[size_t(i)], {x.strides()[size_t(i)], out.strides()[size_t(i)]});
  w.merge();
  return w;
}

// A dtype's name as a std::string (for program cache keys).
inline std::string dname(DType d) {
  return std::string(dtype_name(d));
}

// CUDA C shared by the kernels of these families (after fused_prelude()):
//   walk_offset(i, w)     byte offset of flat index i in a walk's words at w
//                         (w[0] ndim, w[1..] extents, then operand k's strides
//                         at w[1 + kWalkDims * (k + 1)]);
//   block_reduce(v, sh, f) combines one value per thread with f over any
//                         blockDim.x (a shared-memory tree); all threads get it.
inline std::string walk_prelude() {
  return "#define THEON_WALK_DIMS " + std::to_string(kWalkDims) + R"CUDA(
__device__ __forceinline__ long long walk_offset(long long i, const long long* w, int operand) {
  const int nd = (int)w[0];
  const long long* ext = w + 1;
  const long long* st = w + 1 + THEON_WALK_DIMS * (operand + 1);
  if (nd == 1) return i * st[0];  // the common merged case: no division
  long long off = 0;
  for (int d = nd - 1; d >= 0; --d) {
    const long long e = ext[d], q = i / e;
    off += (i - q * e) * st[d];
    i = q;
  }
  return off;
}
template <class T, class F>
__device__ __forceinline__ T block_reduce(T v, T* sh, F f) {
  const unsigned t = threadIdx.x, nt = blockDim.x;
  sh[t] = v;
  __syncthreads();
  for (unsigned s = 1; s < nt; s *= 2) {
    if (t % (2 * s) == 0 && t + s < nt) sh[t] = f(sh[t], sh[t + s]);
    __syncthreads();
  }
  T r = sh[0];
  __syncthreads();
  return r;
}
template <class T> __device__ __forceinline__ bool is_nan_v(T v) { return v != v; }
struct MaxNan {  // maximum with NaN winning
  template <class T> __device__ __forceinline__ T operator()(T a, T b) const {
    return is_nan_v(a) ? a : ((is_nan_v(b) || b > a) ? b : a);
  }
};
struct AddOp {
  template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};
)CUDA";
}

// The start of a program of these families: the fused prelude, walk_prelude()
// when `walk`, `struct Args` of `words` words, then `typedef <type> <name>;`
// for each {name, CUDA C type}.
inline std::string program_head(int words,
                                std::initializer_list<std::pair<const char*, std::string>> types,
                                bool walk = true) {
  std::string s = fused_prelude();
  if (walk) s += walk_prelude();
  s += "struct Args { long long w[" + std::to_string(words) + "]; };\n";
  for (const auto& [name, type] : types) s += "typedef " + type + " " + name + ";\n";
  return s;
}

// Threads per block for a block that walks `n` elements: a power of two up to 256.
inline int block_threads(int64_t n) {
  int t = 32;
  while (t < 256 && t < n) t *= 2;
  return t;
}

// Blocks for `items` independent items (a grid-stride loop covers the rest).
inline int64_t grid_blocks(int64_t items) {
  return std::max<int64_t>(1, std::min<int64_t>(items, 1 << 20));
}

}  // namespace theon::cuda::kernels
