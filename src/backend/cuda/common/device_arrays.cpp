// Arrays on a device: allocation, transfers, and the strided copy-and-cast
// kernel behind device_contiguous and device_assign (cuda_device.h).
//
// One small program per (destination, source) dtype pair: each element's
// offsets from its C-order index and both operands' byte strides (0 for a
// broadcast dim), the value converted with the prelude's cvt (Array::astype's
// rules). Dims are coalesced on the host first, so the common cases (a
// contiguous copy, a transpose of a matrix) index over one or two dims.
#include <algorithm>
#include <map>
#include <mutex>
#include <stdexcept>

#include "runtimes.h"
#include "theon/backend/cuda_codegen.h"
#include "theon/backend/cuda_device.h"

namespace theon::cuda {

namespace {

const char* storage_type(DType d) {
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
  throw std::logic_error("storage_type: invalid dtype");
}

// Args: [0] n, [1] ndim, [2] src, [3] dst, then shape, source strides and
// destination strides (bytes), kMaxDims each.
constexpr int kWords = 4 + 3 * kMaxDims;

}  // namespace

const KernelProgram& detail::copy_program(DType to, DType from) {
  static std::mutex mu;
  static auto* programs = new std::map<std::pair<DType, DType>, KernelProgram>;
  std::lock_guard<std::mutex> lock(mu);
  auto it = programs->find({to, from});
  if (it != programs->end()) return it->second;
  const std::string k = std::to_string(kMaxDims);
  KernelProgram p;
  p.source =
      std::string(fused_prelude()) + "typedef " + storage_type(to) + " D;\ntypedef " +
      storage_type(from) + " S;\n" + "struct Args { long long w[" + std::to_string(kWords) +
      "]; };\n"
      "extern \"C\" __global__ void theon_copy(const Args a) {\n"
      "  const long long n = a.w[0];\n"
      "  const int nd = (int)a.w[1];\n"
      "  const char* src = (const char*)a.w[2];\n"
      "  char* dst = (char*)a.w[3];\n"
      "  const long long* shape = a.w + 4;\n"
      "  const long long* ss = a.w + 4 + " +
      k +
      ";\n"
      "  const long long* ds = a.w + 4 + 2 * " +
      k +
      ";\n"
      "  const long long step = (long long)blockDim.x * gridDim.x;\n"
      "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {\n"
      "    long long r = i, so = 0, dof = 0;\n"
      "    for (int d = nd - 1; d >= 0; --d) {\n"
      "      const long long q = r % shape[d];\n"
      "      r /= shape[d];\n"
      "      so += q * ss[d];\n"
      "      dof += q * ds[d];\n"
      "    }\n"
      "    *(D*)(dst + dof) = cvt<D>(*(const S*)(src + so));\n"
      "  }\n"
      "}\n";
  p.kernels = {"theon_copy"};
  p.num_words = kWords;
  return programs->emplace(std::make_pair(to, from), std::move(p)).first->second;
}

namespace {

// Copies src (already of dst's shape, any strides) into dst, converting.
void strided_copy(DeviceRuntime& rt, const Array& dst, const Array& src) {
  const int64_t n = dst.size();
  if (n == 0) return;
  if (dst.dtype() == src.dtype() && dst.is_c_contiguous() && src.is_c_contiguous()) {
    rt.copy(dst.data(), src.data(), size_t(n) * dst.itemsize());
    return;
  }
  // Coalesce: drop dims of size 1, merge a dim into the next when both operands allow.
  std::vector<int64_t> shape, ss, ds;
  for (int d = 0; d < dst.ndim(); ++d) {
    const int64_t len = dst.shape()[size_t(d)];
    if (len == 1) continue;
    const int64_t s = src.strides()[size_t(d)], t = dst.strides()[size_t(d)];
    if (!shape.empty() && ss.back() == s * len && ds.back() == t * len) {
      shape.back() *= len;
      ss.back() = s;
      ds.back() = t;
      continue;
    }
    shape.push_back(len);
    ss.push_back(s);
    ds.push_back(t);
  }
  if (shape.size() > size_t(kMaxDims))
    throw std::invalid_argument("[cuda] device copy: at most " + std::to_string(kMaxDims) +
                                " dims that cannot be merged, got shape " + shape_str(dst.shape()));
  std::vector<int64_t> w(kWords, 0);
  w[0] = n;
  w[1] = int64_t(shape.size());
  w[2] = reinterpret_cast<int64_t>(src.data());
  w[3] = reinterpret_cast<int64_t>(dst.data());
  for (size_t d = 0; d < shape.size(); ++d) {
    w[4 + d] = shape[d];
    w[4 + kMaxDims + d] = ss[d];
    w[4 + 2 * kMaxDims + d] = ds[d];
  }
  LaunchShape ls;
  ls.threads = 256;
  ls.blocks = std::min<int64_t>((n + ls.threads - 1) / ls.threads, int64_t(rt.sm_count()) * 32);
  rt.launch(detail::copy_program(dst.dtype(), src.dtype()), "theon_copy", ls, w);
}

void require_on_device(const Array& a, const char* who) {
  if (!a.on_device())
    throw std::invalid_argument(std::string("[cuda] ") + who +
                                ": expected an array on a CUDA device, got a host array");
}

bool overlaps(const Array& a, const Array& b) {
  return a.buffer() && a.buffer() == b.buffer() && a.size() > 0 && b.size() > 0;
}

}  // namespace

Array device_empty(DeviceRuntime& rt, DType dtype, const Shape& shape) {
  for (int64_t d : shape)
    if (d < 0)
      throw std::invalid_argument("[cuda] device_empty: negative dimensions are not allowed: " +
                                  shape_str(shape));
  const size_t nbytes = size_t(shape_size(shape)) * itemsize(dtype);
  return Array(dtype, shape, c_strides(shape, itemsize(dtype)), 0, rt.allocate(nbytes));
}

Array to_device(const Array& host, DeviceRuntime& rt) {
  if (host.on_device())
    throw std::invalid_argument("[cuda] to_device: the array is already on cuda:" +
                                std::to_string(host.device()));
  Array out = device_empty(rt, host.dtype(), host.shape());
  if (out.size() == 0) return out;
  const Array c = host.contiguous();
  rt.upload(out.data(), c.data(), size_t(c.size()) * c.itemsize());
  return out;
}

Array to_host(const Array& device_array) {
  require_on_device(device_array, "to_host");
  DeviceRuntime& rt = device_runtime(device_array.device());
  const Array c = device_contiguous(device_array, device_array.dtype());
  Array out = Array::empty(c.dtype(), c.shape());
  if (out.size() > 0)
    rt.download(out.data(), c.data(), size_t(c.size()) * c.itemsize());
  else
    rt.synchronize();
  return out;
}

Array device_contiguous(const Array& device_array, DType dtype) {
  require_on_device(device_array, "device_contiguous");
  if (device_array.dtype() == dtype && device_array.is_c_contiguous()) return device_array;
  DeviceRuntime& rt = device_runtime(device_array.device());
  Array out = device_empty(rt, dtype, device_array.shape());
  strided_copy(rt, out, device_array);
  return out;
}

void device_assign(const Array& dst, const Array& src) {
  require_on_device(dst, "device_assign");
  DeviceRuntime& rt = device_runtime(dst.device());
  Array s = src.on_device() ? src : to_device(src, rt);
  if (s.device() != dst.device())
    throw std::invalid_argument(
        "[cuda] device_assign: source on cuda:" + std::to_string(s.device()) +
        ", destination on cuda:" + std::to_string(dst.device()));
  s = s.broadcast_to(dst.shape());
  // A source sharing the destination's memory is copied out first, so no element is
  // overwritten before it is read.
  if (overlaps(dst, s)) {
    Array tmp = device_empty(rt, s.dtype(), s.shape());
    strided_copy(rt, tmp, s);
    s = tmp;
  }
  strided_copy(rt, dst, s);
}

}  // namespace theon::cuda
