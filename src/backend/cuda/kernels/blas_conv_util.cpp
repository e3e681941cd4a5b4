// Helpers of the blas, conv and pool device kernels (see blas_conv_util.h).
#include "blas_conv_util.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

namespace theon::cuda::kernels::kblas {

const char* c_type(DType d) {
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

int64_t double_word(double v) {
  int64_t w;
  std::memcpy(&w, &v, sizeof w);
  return w;
}

const KernelProgram& cached_program(const std::string& key,
                                    const std::function<KernelProgram()>& make) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<KernelProgram>> programs;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = programs[key];
  if (!slot) slot = std::make_unique<KernelProgram>(make());
  return *slot;
}

LaunchShape grid_for(const DeviceRuntime& rt, int64_t n) {
  LaunchShape s;
  s.threads = 256;
  const int64_t wanted = (n + s.threads - 1) / s.threads;
  s.blocks =
      std::max<int64_t>(1, std::min<int64_t>(wanted, int64_t(std::max(rt.sm_count(), 1)) * 32));
  return s;
}

Array merged_dims(const Array& x, const std::vector<int>& cuts) {
  Shape shape;
  Strides strides;
  bool view = x.size() > 0;
  int start = 0;
  for (int end : cuts) {
    int64_t size = 1, base = int64_t(x.itemsize());
    bool have = false;
    for (int d = end - 1; d >= start; --d) {
      const int64_t len = x.shape()[size_t(d)], st = x.strides()[size_t(d)];
      size *= len;
      if (len == 1 || !view) continue;
      if (!have) {
        base = st;
        have = true;
      } else if (st != base * (size / len)) {
        view = false;
      }
    }
    shape.push_back(size);
    strides.push_back(base);
    start = end;
  }
  if (!view) return device_contiguous(x, x.dtype()).reshape(shape);
  return Array(x.dtype(), shape, strides, x.offset(), x.buffer());
}

}  // namespace theon::cuda::kernels::kblas
