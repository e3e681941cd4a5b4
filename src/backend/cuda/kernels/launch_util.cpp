// Helpers shared by the elementwise and data-movement device kernels (launch_util.h).
#include "launch_util.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

namespace theon::cuda::kernels::kdata {

const KernelProgram& cached_program(const std::string& key,
                                    const std::function<KernelProgram()>& make) {
  static std::mutex mu;
  static auto* cache = new std::map<std::string, std::unique_ptr<KernelProgram>>;  // never freed
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache->find(key); it != cache->end()) return *it->second;
  }
  auto program = std::make_unique<KernelProgram>(make());  // outside the lock: may take a while
  std::lock_guard<std::mutex> lock(mu);
  auto [it, inserted] = cache->emplace(key, std::move(program));
  return *it->second;
}

LaunchShape grid_for(DeviceRuntime& rt, int64_t n) {
  LaunchShape s;
  s.threads = 256;
  const int64_t want = (n + s.threads - 1) / s.threads;
  s.blocks = std::max<int64_t>(1, std::min<int64_t>(want, int64_t(rt.sm_count()) * 32));
  return s;
}

StridedLoop strided_loop(const Shape& shape, const std::vector<Array>& operands) {
  StridedLoop r;
  r.size = shape_size(shape);
  const size_t nops = operands.size();
  std::vector<Strides> full;
  for (const Array& a : operands) {
    // Right-aligned as in broadcasting; 0 where the operand has length 1 (or lacks the dim).
    Strides st(shape.size(), 0);
    const size_t lead = shape.size() - size_t(a.ndim());
    for (int d = 0; d < a.ndim(); ++d)
      if (a.shape()[size_t(d)] != 1) st[lead + size_t(d)] = a.strides()[size_t(d)];
    full.push_back(std::move(st));
  }
  r.strides.assign(nops, {});
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !r.shape.empty();
    for (size_t k = 0; merge && k < nops; ++k) merge = r.strides[k].back() == full[k][d] * shape[d];
    if (merge) {
      r.shape.back() *= shape[d];
      for (size_t k = 0; k < nops; ++k) r.strides[k].back() = full[k][d];
    } else {
      r.shape.push_back(shape[d]);
      for (size_t k = 0; k < nops; ++k) r.strides[k].push_back(full[k][d]);
    }
  }
  return r;
}

const char* kernel_ctype(DType d) {
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
  throw std::logic_error("kernel_ctype: invalid dtype");
}

std::string dtype_switch_source() {
  std::string s;
#define THEON_X(E, T, N) s += "#define DT_" #E " " + std::to_string(int(DType::E)) + "\n";
  THEON_DTYPES(THEON_X)
#undef THEON_X
  s += R"CUDA(__device__ __forceinline__ i64 theon_load_int(const char* p, int dt) {
  switch (dt) {
    case DT_Bool: return *(const bool*)p ? 1 : 0;
    case DT_Int8: return *(const i8*)p;
    case DT_Int16: return *(const i16*)p;
    case DT_Int32: return *(const i32*)p;
    case DT_UInt8: return *(const u8*)p;
    case DT_UInt16: return *(const u16*)p;
    case DT_UInt32: return *(const u32*)p;
    default: return *(const i64*)p;  // int64, uint64 (its bits)
  }
}
)CUDA";
  return s;
}

}  // namespace theon::cuda::kernels::kdata
