// theon/runtime/dlpack.h — DLPack exchange of Arrays with other libraries.
//
// DLPack is the common in-memory tensor ABI (PyTorch, JAX, CuPy, NumPy).
// from_dlpack wraps a producer's tensor without copying and calls its deleter
// when the last theon view is gone; to_dlpack hands an Array out the same way.
// The struct layout below is the stable DLPack 0.8 ABI (DLManagedTensor).
#pragma once
#include <cstdint>

#include "theon/runtime/array.h"

extern "C" {
struct DLDevice {
  int32_t device_type;  // 1 = CPU
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;  // 0 int, 1 uint, 2 float, 4 bfloat, 6 bool
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; may be null for C-contiguous
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};
}

namespace theon {

// Takes ownership of `t`: the Array keeps it alive and calls t->deleter when done.
// Throws std::invalid_argument for a non-CPU device or an unsupported dtype
// (the tensor is then released).
Array from_dlpack(DLManagedTensor* t);
// A DLManagedTensor viewing `a`; the consumer must call its deleter.
DLManagedTensor* to_dlpack(const Array& a);

}  // namespace theon
