// Shared by the reduce, nnet and random device kernels: CUDA C type names of
// dtypes, strided index arithmetic (as CUDA C text and as argument words),
// block reductions written for any blockDim, and a cache of generated
// programs (one per op kind and dtypes, so shapes and strides travel as words
// and never create a new program).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "theon/backend/cuda_codegen.h"
#include "theon/backend/cuda_device.h"

namespace theon::cuda::kernels {

// Dims a strided walk may take after merging (kept or reduced side each).
inline constexpr int kWalkDims = 12;

// The CUDA C storage type of a dtype in the fused prelude.
inline const char* cuda_type(DType d) {
  switch (d) {
    case DType::Bool:
      return "bool";
    case DType::Int8:
      return "i8";
    case DType::Int16:
      return "i16";
    case DType::Int32:
      return "i32";
    case DType::Int64:
      return "i64";
    case DType::UInt8:
      return "u8";
    case DType::UInt16:
      return "u16";
    case DType::UInt32:
      return "u32";
    case DType::UInt64:
      return "u64";
    case DType::Float16:
      return "f16";
    case DType::BFloat16:
      return "bf16";
    case DType::Float32:
      return "float";
    case DType::Float64:
      return "double";
  }
  return "?";
}

// The type a kernel computes a dtype's values in (float16/bfloat16 in float).
inline const char* cuda_compute_type(DType d) {
  return d == DType::Float16 || d == DType::BFloat16 ? "float" : cuda_type(d);
}

// A walk over some dims of one or more operands: a shape and, per operand,
// byte strides. merge() drops size-1 dims and joins neighbours that every
// operand lays out contiguously, so most walks take one or two dims.
struct Walk {
  std::vector<int64_t> shape;
  std::vector<std::vector<int64_t>> strides;  // [operand][dim]

  explicit Walk(size_t operands) : strides(operands) {}
  void add(int64_t extent, const std::vector<int64_t>& st) {
    shape.push_back(extent);
    for (size_t k = 0; k < strides.size(); ++k) strides[k].push_back(st[k]);
  }
  int64_t size() const {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return n;
  }
  void merge() {
    Walk m(strides.size());
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;
      bool join = !m.shape.empty();
      for (size_t k = 0; join && k < strides.size(); ++k)
        join = m.strides[k].back() == strides[k][d] * shape[d];
      if (join) {
        m.shape.back() *= shape[d];
        for (size_t k = 0; k < strides.size(); ++k) m.strides[k].back() = strides[k][d];
      } else {
        std::vector<int64_t> st;
        for (size_t k = 0; k < strides.size(); ++k) st.push_back(strides[k][d]);
        m.add(shape[d], st);
      }
    }
    *this = m;
  }
  // Appends ndim, then kWalkDims extents, then kWalkDims strides per operand.
  void push_words(std::vector<int64_t>& w, const char* who) const {
    if (shape.size() > size_t(kWalkDims))
      throw std::invalid_argument(std::string("[") + who + "] more than " +
                                  std::to_string(kWalkDims) +
                                  " non-mergeable dims are not supported on the device");
    w.push_back(int64_t(shape.size()));
    for (int d = 0; d < kWalkDims; ++d) w.push_back(d < int(shape.size()) ? shape[d] : 1);
    for (const auto& st : strides)
      for (int d = 0; d < kWalkDims; ++d) w.push_back(d < int(st.size()) ? st[d] : 0);
  }
  // Words push_words appends for `operands` operands.
  static constexpr int num_words(int operands) { return 1 + kWalkDims * (1 + operands); }
};

// A dtype's name as a std::string (for program cache keys).
inline std::string dname(DType d) {
  return std::string(dtype_name(d));
}

inline int64_t ptr_word(const void* p) {
  return int64_t(reinterpret_cast<uintptr_t>(p));
}
inline int64_t ptr_word(const Array& a) {
  return ptr_word(a.data());
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

// The program cached under `key`, made once by `make`. The reference stays valid.
inline const KernelProgram& cached_program(const std::string& key,
                                           const std::function<KernelProgram()>& make) {
  static std::mutex mu;
  static std::map<std::string, KernelProgram> programs;
  std::lock_guard<std::mutex> lock(mu);
  auto it = programs.find(key);
  if (it == programs.end()) it = programs.emplace(key, make()).first;
  return it->second;
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
