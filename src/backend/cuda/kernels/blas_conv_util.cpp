// Helpers of the blas, conv and pool device kernels (see blas_conv_util.h).
#include "blas_conv_util.h"

#include <cstring>

namespace theon::cuda::kernels::kblas {

int64_t double_word(double v) {
  int64_t w;
  std::memcpy(&w, &v, sizeof w);
  return w;
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
