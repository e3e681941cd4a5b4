// Random host arrays and device layouts for the reduce / nnet / random
// device-kernel tests (test_cuda_kernels_{reduce,nnet,random}.cpp).
#pragma once
#include <cmath>
#include <limits>
#include <random>

#include "cuda_kernel_test_util.h"

namespace theon::testing {

// Values of `dtype`: small integers (non-negative for unsigned, 0/1 for
// bool), normal floats; with `specials` some floats are NaN or +-inf.
inline Array random_values(DType dtype, const Shape& shape, std::mt19937& rng,
                           bool specials = false) {
  std::vector<double> v(size_t(shape_size(shape)));
  std::normal_distribution<double> normal(0.0, 2.0);
  std::uniform_int_distribution<int> small(-20, 20), coin(0, 19);
  for (double& x : v) {
    if (dtype == DType::Bool)
      x = coin(rng) < 12 ? 1 : 0;
    else if (dtype_kind(dtype) == DKind::UInt)
      x = small(rng) + 20;
    else if (dtype_kind(dtype) == DKind::Int)
      x = small(rng);
    else
      x = normal(rng);
    if (specials && is_float(dtype)) {
      const int c = coin(rng);
      if (c == 0) x = std::numeric_limits<double>::quiet_NaN();
      if (c == 1) x = std::numeric_limits<double>::infinity();
      if (c == 2) x = -std::numeric_limits<double>::infinity();
    }
  }
  return Array::from_vector<double>(v, shape).astype(dtype);
}

// A shape of 0..max_ndim dims drawn from sizes with 0s and 1s.
inline Shape random_shape(std::mt19937& rng, int max_ndim = 4) {
  static const int64_t sizes[] = {0, 1, 1, 2, 3, 5, 7, 16, 33};
  std::uniform_int_distribution<int> nd(0, max_ndim), pick(0, 8), rare(0, 9);
  Shape s(size_t(nd(rng)));
  for (auto& d : s) d = sizes[pick(rng)];
  if (!s.empty() && rare(rng) == 0) s[size_t(rare(rng)) % s.size()] = 300;  // a long axis
  return s;
}

// `host` on the device in layout `which` (0 contiguous, 1 transposed,
// 2 strided, 3 offset, 4 broadcast of a slice of it); the returned array holds
// the values the kernel sees (compare with to_host of it).
inline Array device_layout(const Array& host, int which) {
  switch (which) {
    case 1:
      return device_transposed(host);
    case 2:
      return device_strided(host);
    case 3:
      return device_offset(host);
    case 4: {
      if (host.ndim() == 0) break;
      Array small = host;
      for (int d = 0; d < host.ndim(); d += 2)
        if (host.shape()[size_t(d)] > 0) small = small.slice(d, 0, 1, 1);
      return device_broadcast(small.copy(), host.shape());
    }
    default:
      break;
  }
  return cuda::to_device(host, cuda::device_runtime(0));
}

}  // namespace theon::testing
