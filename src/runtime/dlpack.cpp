#include "theon/runtime/dlpack.h"

#include <stdexcept>
#include <string>

namespace theon {

namespace {

DType dtype_from_dl(DLDataType t) {
  if (t.lanes != 1) throw std::invalid_argument("from_dlpack: vector lanes are not supported");
  switch (t.code) {
    case 6:
      if (t.bits == 8) return DType::Bool;
      break;
    case 0:
      switch (t.bits) {
        case 8: return DType::Int8;
        case 16: return DType::Int16;
        case 32: return DType::Int32;
        case 64: return DType::Int64;
      }
      break;
    case 1:
      switch (t.bits) {
        case 8: return DType::UInt8;
        case 16: return DType::UInt16;
        case 32: return DType::UInt32;
        case 64: return DType::UInt64;
      }
      break;
    case 2:
      switch (t.bits) {
        case 16: return DType::Float16;
        case 32: return DType::Float32;
        case 64: return DType::Float64;
      }
      break;
    case 4:
      if (t.bits == 16) return DType::BFloat16;
      break;
  }
  throw std::invalid_argument("from_dlpack: unsupported dtype (code " + std::to_string(t.code) + ", " +
                              std::to_string(t.bits) + " bits)");
}

DLDataType dl_from_dtype(DType d) {
  DLDataType t{0, uint8_t(itemsize(d) * 8), 1};
  switch (dtype_kind(d)) {
    case DKind::Bool: t.code = 6; break;
    case DKind::Int: t.code = 0; break;
    case DKind::UInt: t.code = 1; break;
    case DKind::Float: t.code = d == DType::BFloat16 ? 4 : 2; break;
  }
  return t;
}

struct Exported {
  DLManagedTensor managed;
  Array array;
  std::vector<int64_t> shape, strides;
};

}  // namespace

Array from_dlpack(DLManagedTensor* t) {
  if (!t) throw std::invalid_argument("from_dlpack: null tensor");
  std::shared_ptr<void> owner(t, [](void* p) {
    auto* m = static_cast<DLManagedTensor*>(p);
    if (m->deleter) m->deleter(m);
  });
  const DLTensor& dl = t->dl_tensor;
  if (dl.device.device_type != 1)
    throw std::invalid_argument("from_dlpack: only CPU tensors can be imported (device type " +
                                std::to_string(dl.device.device_type) + ")");
  if (dl.ndim < 0) throw std::invalid_argument("from_dlpack: negative ndim");
  DType d = dtype_from_dl(dl.dtype);
  int64_t isz = int64_t(itemsize(d));
  Shape shape(dl.shape, dl.shape + dl.ndim);
  Strides strides = c_strides(shape, size_t(isz));
  if (dl.strides)
    for (int i = 0; i < dl.ndim; ++i) strides[i] = dl.strides[i] * isz;
  int64_t lo = 0, hi = 0;
  bool empty = false;
  for (int i = 0; i < dl.ndim; ++i) {
    if (shape[i] < 0) throw std::invalid_argument("from_dlpack: negative dimension");
    if (shape[i] == 0) empty = true;
    int64_t ext = (shape[i] - 1) * strides[i];
    (ext < 0 ? lo : hi) += ext;
  }
  char* base = static_cast<char*>(dl.data) + dl.byte_offset;
  if (empty) return Array(d, shape, strides, 0, Buffer::wrap(base, 0, owner));
  auto buf = Buffer::wrap(base + lo, size_t(hi - lo + isz), owner);
  return Array(d, shape, strides, -lo, buf);
}

DLManagedTensor* to_dlpack(const Array& a) {
  auto* e = new Exported();
  e->array = a;
  int64_t isz = int64_t(a.itemsize());
  e->shape = a.shape();
  for (auto s : a.strides()) {
    if (s % isz != 0) {
      e->array = a.copy();
      break;
    }
  }
  for (auto s : e->array.strides()) e->strides.push_back(s / isz);
  DLTensor& dl = e->managed.dl_tensor;
  dl.data = e->array.data();
  dl.device = {1, 0};
  dl.ndim = e->array.ndim();
  dl.dtype = dl_from_dtype(a.dtype());
  dl.shape = e->shape.data();
  dl.strides = e->strides.data();
  dl.byte_offset = 0;
  e->managed.manager_ctx = e;
  e->managed.deleter = [](DLManagedTensor* self) { delete static_cast<Exported*>(self->manager_ctx); };
  return &e->managed;
}

}  // namespace theon
