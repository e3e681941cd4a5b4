// Helpers shared by the elementwise and data-movement device kernels (launch_util.h).
#include "launch_util.h"

#include "../common/strided_walk.h"

namespace theon::cuda::kernels::kdata {

StridedLoop strided_loop(const Shape& shape, const std::vector<Array>& operands) {
  Walk w = Walk::broadcast(shape, operands);
  w.merge();
  return StridedLoop{std::move(w.shape), std::move(w.strides), shape_size(shape)};
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
