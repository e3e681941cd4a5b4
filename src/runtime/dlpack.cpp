#include "theon/runtime/dlpack.h"

#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "theon/backend/cuda_device.h"
#include "theon/backend/device.h"

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

std::string dlpack_device_name(int32_t device_type) {
  // DLDeviceType's values 1..17 (5 and 6 are unused).
  static const char* const names[] = {
      nullptr,   "CPU", "CUDA", "CUDA pinned host", "OpenCL",  nullptr,        nullptr,  "Vulkan",
      "Metal",   "VPI", "ROCm", "ROCm pinned host", "ext_dev", "CUDA managed", "oneAPI", "WebGPU",
      "Hexagon", "MAIA"};
  if (device_type >= 0 && device_type < int32_t(std::size(names)) && names[device_type])
    return names[device_type];
  return "device type " + std::to_string(device_type);
}

Array from_dlpack(DLManagedTensor* t) {
  if (!t) throw std::invalid_argument("from_dlpack: null tensor");
  std::shared_ptr<void> owner(t, [](void* p) {
    auto* m = static_cast<DLManagedTensor*>(p);
    if (m->deleter) m->deleter(m);
  });
  const DLTensor& dl = t->dl_tensor;
  const int32_t type = dl.device.device_type;
  const int32_t id = dl.device.device_id;
  int device = -1;  // Buffer::device of the result
  switch (type) {
    case dl::kCPU:
    // Pinned and managed (unified) CUDA memory is addressable from the host
    // at the same pointer, so it is imported as host memory, as NumPy does.
    // (Managed memory is safe to read here once the producer's GPU work on
    // it is finished, which DLPack requires of the producer anyway.)
    case dl::kCUDAHost:
    case dl::kCUDAManaged:
      break;
    case dl::kCUDA:
      try {
        // The real runtime of cuda:id, or under the emulator cuda:0, whose
        // memory is host memory (a test facility: see dlpack.h).
        cuda::device_runtime(id);
      } catch (const DeviceUnavailable& e) {
        throw DeviceUnavailable(std::string("from_dlpack: ") + e.what());
      }
      device = id;
      break;
    default:
      throw std::invalid_argument(
          "from_dlpack: cannot import a tensor in " + dlpack_device_name(type) +
          " memory (DLPack device type " + std::to_string(type) +
          "); theon imports CPU, CUDA, CUDA pinned host and CUDA managed tensors");
  }
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
  // Pointer arithmetic only: device memory is never touched here.
  char* base = static_cast<char*>(dl.data) + dl.byte_offset;
  if (empty) {
    auto buf = Buffer::wrap(base, 0, owner);
    buf->device = device;
    return Array(d, shape, strides, 0, buf);
  }
  auto buf = Buffer::wrap(base + lo, size_t(hi - lo + isz), owner);
  buf->device = device;
  return Array(d, shape, strides, -lo, buf);
}

DLManagedTensor* to_dlpack(const Array& a) {
  cuda::DeviceRuntime* rt = nullptr;
  if (a.on_device()) {
    rt = &cuda::device_runtime(a.device());
    if (rt->emulated())
      throw std::invalid_argument(
          "to_dlpack: the array lives on the CUDA emulator, whose memory is host memory; other "
          "libraries "
          "would read it as GPU memory (copy it to the host with cuda::to_host and export that)");
  }
  auto e = std::make_unique<Exported>();
  e->array = a;
  int64_t isz = int64_t(a.itemsize());
  e->shape = a.shape();
  for (auto s : a.strides()) {
    if (s % isz != 0) {
      e->array = rt ? cuda::device_contiguous(a, a.dtype()) : a.copy();
      break;
    }
  }
  // DLPack carries no stream: what theon queued must be done before the
  // consumer reads.
  if (rt) rt->synchronize();
  for (auto s : e->array.strides()) e->strides.push_back(s / isz);
  DLTensor& dl = e->managed.dl_tensor;
  dl.data = e->array.data();
  dl.device = rt ? DLDevice{dl::kCUDA, a.device()} : DLDevice{dl::kCPU, 0};
  dl.ndim = e->array.ndim();
  dl.dtype = dl_from_dtype(a.dtype());
  dl.shape = e->shape.data();
  dl.strides = e->strides.data();
  dl.byte_offset = 0;
  e->managed.manager_ctx = e.get();
  e->managed.deleter = [](DLManagedTensor* self) { delete static_cast<Exported*>(self->manager_ctx); };
  return &e.release()->managed;
}

}  // namespace theon
