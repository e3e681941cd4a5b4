// Helpers shared by the elementwise and data-movement device kernels (launch_util.h).
#include "launch_util.h"

namespace theon::cuda::kernels::kdata {

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
