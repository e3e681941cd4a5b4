// The advanced-indexing program (launch_util.h: index_program): gather,
// scatter (set, and add with atomics) and bounds checks over index arrays of
// any integer dtype, switching on the element dtype at run time so every
// dtype shares one program. Word layout in index_words.h.
#include <string>

#include "index_words.h"
#include "launch_util.h"
#include "theon/backend/cuda_codegen.h"

namespace theon::cuda::kernels::kdata {

namespace {

std::string index_source() {
  auto def = [](const char* name, int v) {
    return std::string("#define ") + name + " " + std::to_string(v) + "\n";
  };
  std::string s = std::string(fused_prelude()) + dtype_switch_source();
  s += def("W_N", W_N) + def("W_ND", W_ND) + def("W_SHAPE", W_SHAPE) + def("W_ERR", W_ERR) +
       def("W_DT", W_DT) + def("W_ISZ", W_ISZ) + def("W_DST", W_DST) + def("W_DSTST", W_DSTST) +
       def("W_SRC", W_SRC) + def("W_SRCST", W_SRCST) + def("W_K", W_K) + def("W_IDX", W_IDX) +
       def("IDX_WORDS", kIdxWords) + def("MAX_INDICES", kMaxIndices) +
       def("INDEX_ERROR", int(KernelError::index_out_of_bounds));
  s += "struct Args { long long w[" + std::to_string(kWords) + "]; };\n";
  s += R"CUDA(
// Index k's words: [0] data (or the index itself when [1] < 0)  [1] dtype
// [2] length of the indexed axis  [3] its byte stride  [4..) byte strides over the loop dims.
// Element i of the loop: the byte offsets of dst and src, and ox, the offset the indices select.
__device__ __forceinline__ bool theon_locate(const Args& a, i64 i, i64& od, i64& os, i64& ox) {
  const int nd = (int)a.w[W_ND], nk = (int)a.w[W_K];
  i64 io[MAX_INDICES];
  for (int k = 0; k < nk; ++k) io[k] = 0;
  od = 0; os = 0; ox = 0;
  i64 r = i;
  for (int d = nd - 1; d >= 0; --d) {
    const i64 len = a.w[W_SHAPE + d], ix = r % len;
    r /= len;
    od += ix * a.w[W_DSTST + d];
    os += ix * a.w[W_SRCST + d];
    for (int k = 0; k < nk; ++k) io[k] += ix * a.w[W_IDX + k * IDX_WORDS + 4 + d];
  }
  bool ok = true;
  for (int k = 0; k < nk; ++k) {
    const long long* e = a.w + W_IDX + k * IDX_WORDS;
    const int dt = (int)e[1];
    const i64 n = e[2];
    i64 v = dt < 0 ? e[0] : theon_load_int((const char*)e[0] + io[k], dt);
    if ((dt == DT_UInt64 && v < 0) || v < -n || v >= n) {
      raise_error((int*)a.w[W_ERR], INDEX_ERROR);
      ok = false;
      continue;
    }
    if (v < 0) v += n;
    ox += v * e[3];
  }
  return ok;
}
__device__ __forceinline__ void theon_copy_item(char* d, const char* s, int isz) {
  switch (isz) {
    case 1: *(u8*)d = *(const u8*)s; break;
    case 2: *(u16*)d = *(const u16*)s; break;
    case 4: *(u32*)d = *(const u32*)s; break;
    default: *(u64*)d = *(const u64*)s; break;
  }
}
// dst (the output) <- src (the indexed view) at the selected positions.
extern "C" __global__ void theon_gather(const Args a) {
  const i64 n = a.w[W_N];
  const int isz = (int)a.w[W_ISZ];
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 od, os, ox;
    if (!theon_locate(a, i, od, os, ox)) continue;
    theon_copy_item((char*)a.w[W_DST] + od, (const char*)a.w[W_SRC] + os + ox, isz);
  }
}
// The indexed view (dst) at the selected positions <- the values (src).
extern "C" __global__ void theon_scatter_set(const Args a) {
  const i64 n = a.w[W_N];
  const int isz = (int)a.w[W_ISZ];
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 od, os, ox;
    if (!theon_locate(a, i, od, os, ox)) continue;
    theon_copy_item((char*)a.w[W_DST] + od + ox, (const char*)a.w[W_SRC] + os, isz);
  }
}

// a + b as the CPU's scatter adds (16-bit floats in float32, rounded once; integers wrap).
template <class T> __device__ __forceinline__ T theon_add_value(T a, T b) {
  if constexpr (is16<T>::v) return cvt<T>(cvt<float>(a) + cvt<float>(b));
  else return op_add<T>(a, b);
}
template <class T> __device__ __forceinline__ unsigned theon_bits(T v) {
  if constexpr (sizeof(T) == 1) return (unsigned)*(const unsigned char*)&v;
  else return (unsigned)*(const unsigned short*)&v;
}
template <class T> __device__ __forceinline__ T theon_from_bits(unsigned b) {
  T v;
  if constexpr (sizeof(T) == 1) *(unsigned char*)&v = (unsigned char)b;
  else *(unsigned short*)&v = (unsigned short)b;
  return v;
}
template <class T> __device__ __forceinline__ void theon_atomic_add(T* p, T v) {
  if constexpr (same<T, float>::v || same<T, double>::v) {
    atomicAdd(p, v);
  } else if constexpr (sizeof(T) == 4) {
    atomicAdd((unsigned*)p, (unsigned)v);
  } else if constexpr (sizeof(T) == 8) {
    atomicAdd((unsigned long long*)p, (unsigned long long)v);
  } else {  // 1 and 2 bytes: compare-and-swap the aligned 32-bit word holding them
    unsigned* w = (unsigned*)((unsigned long long)p & ~3ull);
    const unsigned shift = (unsigned)((unsigned long long)p & 3ull) * 8u;
    const unsigned mask = (sizeof(T) == 1 ? 0xffu : 0xffffu) << shift;
    unsigned old = *w, assumed;
    do {
      assumed = old;
      const T cur = theon_from_bits<T>((assumed & mask) >> shift);
      const unsigned nb = theon_bits<T>(theon_add_value(cur, v));
      old = atomicCAS(w, assumed, (assumed & ~mask) | ((nb << shift) & mask));
    } while (assumed != old);
  }
}
#define THEON_ADD_CASE(E, T) case DT_##E: theon_atomic_add((T*)d, *(const T*)s); break;
// The indexed view (dst) at the selected positions += the values (src), atomically.
extern "C" __global__ void theon_scatter_add(const Args a) {
  const i64 n = a.w[W_N];
  const int dt = (int)a.w[W_DT];
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 od, os, ox;
    if (!theon_locate(a, i, od, os, ox)) continue;
    char* d = (char*)a.w[W_DST] + od + ox;
    const char* s = (const char*)a.w[W_SRC] + os;
    switch (dt) {
      THEON_ADD_CASE(Bool, bool) THEON_ADD_CASE(Int8, i8) THEON_ADD_CASE(Int16, i16)
      THEON_ADD_CASE(Int32, i32) THEON_ADD_CASE(Int64, i64) THEON_ADD_CASE(UInt8, u8)
      THEON_ADD_CASE(UInt16, u16) THEON_ADD_CASE(UInt32, u32) THEON_ADD_CASE(UInt64, u64)
      THEON_ADD_CASE(Float16, f16) THEON_ADD_CASE(BFloat16, bf16) THEON_ADD_CASE(Float32, float)
      default: THEON_ADD_CASE(Float64, double)
    }
  }
}
// Only the bounds checks (an empty result still checks its indices, as the CPU does).
extern "C" __global__ void theon_index_check(const Args a) {
  const i64 n = a.w[W_N];
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 od, os, ox;
    theon_locate(a, i, od, os, ox);
  }
}
)CUDA";
  return s;
}

}  // namespace

const KernelProgram& index_program() {
  return cached_program("indexing", [] {
    return KernelProgram{
        index_source(),
        {"theon_gather", "theon_scatter_set", "theon_scatter_add", "theon_index_check"},
        kWords};
  });
}

}  // namespace theon::cuda::kernels::kdata
