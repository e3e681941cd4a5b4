// Device kernels: data family (see families.h) — views, copies, joins and
// array creation. Indexing (Subtensor and friends) is in indexing.cpp.
//
// Ops whose perform only builds a view (DimShuffle, Flip, BroadcastTo,
// Split, ExtractDiag) run their own perform on the device array: views are metadata.
// Copies go through device_assign (strided copy with broadcast and cast),
// mirroring each perform's slices; shapes, shifts, repeats and sizes are read
// on the host (host_input). ARange and Linspace, whose inputs are all host
// scalars, are computed by their perform on the host and uploaded.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <typeinfo>

#include "families.h"
#include "launch_util.h"
#include "theon/backend/cuda_codegen.h"
#include "theon/ops/creation.h"
#include "theon/ops/join.h"
#include "theon/ops/linalg.h"
#include "theon/ops/shape.h"
#include "theon/ops/shape_extra.h"

namespace theon::cuda::kernels {

using namespace kdata;

namespace {

template <class T>
bool is(const Op& op) {
  return typeid(op) == typeid(T);
}

bool all_but_first(const Op&, int input) {
  return input > 0;
}
bool all_inputs(const Op&, int) {
  return true;
}

// A fresh C-contiguous copy of x (device_contiguous returns x itself when it already is one).
Array device_copy(DeviceRuntime& rt, const Array& x) {
  Array r = device_empty(rt, x.dtype(), x.shape());
  if (r.size() > 0) device_assign(r, x);
  return r;
}

// ---- views: the op's own perform ----

bool supports_view(const Op& op) {
  return is<DimShuffle>(op) || is<Flip>(op) || is<BroadcastTo>(op) || is<Split>(op) ||
         is<ExtractDiag>(op);
}
bool view_host_input(const Op& op, int i) {
  return (is<BroadcastTo>(op) || is<Split>(op)) && i > 0;
}
void run_view(DeviceRuntime&, const ApplyNode& node, const std::vector<Array>& in,
              std::vector<Array>& out) {
  node.op->perform(in, out);
}

// Reshape: a view of C-contiguous data, else of a contiguous copy.
void run_reshape(DeviceRuntime&, const ApplyNode& node, const std::vector<Array>& in,
                 std::vector<Array>& out) {
  if (in[0].is_c_contiguous()) return node.op->perform(in, out);
  node.op->perform({device_contiguous(in[0], in[0].dtype()), in[1]}, out);
}

// ---- copies ----

// Alloc(value, dims...): the checks of Alloc::perform, then a broadcast copy.
void run_alloc(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
               std::vector<Array>& out) {
  const std::string who = node.op->name();
  Shape shp;
  for (size_t i = 1; i < in.size(); ++i) shp.push_back(in[i].item_int());
  for (int64_t d : shp)
    if (d < 0)
      throw std::invalid_argument("[" + who + "] negative dimensions are not allowed: shape " +
                                  shape_str(shp));
  const Array& v = in[0];
  bool ok = v.ndim() <= int(shp.size());
  for (int j = 0; ok && j < v.ndim(); ++j) {
    const int64_t o = shp[shp.size() - size_t(v.ndim()) + size_t(j)];
    ok = v.shape()[size_t(j)] == 1 || v.shape()[size_t(j)] == o;
  }
  if (!ok)
    throw std::invalid_argument("[" + who + "] cannot broadcast a value of shape " +
                                shape_str(v.shape()) + " to shape " + shape_str(shp));
  Array r = device_empty(rt, v.dtype(), shp);
  if (r.size() > 0) device_assign(r, v);
  out.assign(1, r);
}

// Fill(model, value): value broadcast against the model's shape.
void run_fill(DeviceRuntime& rt, const ApplyNode&, const std::vector<Array>& in,
              std::vector<Array>& out) {
  Shape shp;
  try {
    shp = broadcast_shapes(in[0].shape(), in[1].shape());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("[Fill] ") + e.what());
  }
  Array r = device_empty(rt, in[1].dtype(), shp);
  if (r.size() > 0) device_assign(r, in[1]);
  out.assign(1, r);
}

void run_make_vector(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                     std::vector<Array>& out) {
  Array r = device_empty(rt, node.outputs[0].type.dtype, {int64_t(in.size())});
  for (size_t i = 0; i < in.size(); ++i) device_assign(r.index(0, int64_t(i)), in[i]);
  out.assign(1, r);
}

void run_join(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
              std::vector<Array>& out) {
  const auto& op = static_cast<const Join&>(*node.op);
  const int axis = op.axis();
  Shape shp = in[0].shape();
  shp[size_t(axis)] = 0;
  std::vector<DType> dts;
  for (const auto& a : in) dts.push_back(a.dtype());
  const DType dt = promote_types(dts);
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i].ndim() != int(shp.size()))
      throw std::invalid_argument("[" + op.name() + "] the array at index " + std::to_string(i) +
                                  " has shape " + shape_str(in[i].shape()) + ", expected " +
                                  std::to_string(shp.size()) + " dimensions like " +
                                  shape_str(in[0].shape()));
    for (size_t d = 0; d < shp.size(); ++d)
      if (int(d) != axis && in[i].shape()[d] != shp[d])
        throw std::invalid_argument(
            "[" + op.name() +
            "] all input array dimensions except for the concatenation axis must match exactly, "
            "but along dimension " +
            std::to_string(d) + ", the array at index 0 has size " + std::to_string(shp[d]) +
            " and the array at index " + std::to_string(i) + " has size " +
            std::to_string(in[i].shape()[d]) + ": shapes " + shape_str(in[0].shape()) + " and " +
            shape_str(in[i].shape()));
    shp[size_t(axis)] += in[i].shape()[size_t(axis)];
  }
  Array r = device_empty(rt, dt, shp);
  int64_t pos = 0;
  for (const auto& a : in) {
    const int64_t n = a.shape()[size_t(axis)];
    if (n > 0 && r.size() > 0) device_assign(r.slice(axis, pos, pos + n, 1), a);
    pos += n;
  }
  out.assign(1, r);
}

// Repeat and Roll keep their axis private; it is the number in their props.
int axis_of(const Op& op) {
  return std::stoi(op.props());
}

void run_repeat(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                std::vector<Array>& out) {
  const std::string who = node.op->name();
  const int axis = axis_of(*node.op);
  const Array& x = in[0];
  const int64_t n = x.shape()[size_t(axis)];
  auto reps = in[1].to_int_vector();
  if (reps.size() == 1) reps.assign(size_t(n), reps[0]);
  if (int64_t(reps.size()) != n)
    throw std::invalid_argument(
        "[" + who + "] operands could not be broadcast together: " + std::to_string(reps.size()) +
        " repeats for axis " + std::to_string(axis) + " of length " + std::to_string(n) +
        " (shape " + shape_str(x.shape()) + ")");
  Shape shp = x.shape();
  shp[size_t(axis)] = 0;
  for (int64_t r : reps) {
    if (r < 0)
      throw std::invalid_argument("[" + who + "] negative dimensions are not allowed: repeats " +
                                  shape_str(reps));
    shp[size_t(axis)] += r;
  }
  Array r = device_empty(rt, x.dtype(), shp);
  if (r.size() > 0) {
    int64_t pos = 0;
    for (int64_t j = 0; j < n; ++j) {
      if (reps[size_t(j)] > 0)
        device_assign(r.slice(axis, pos, pos + reps[size_t(j)], 1), x.slice(axis, j, j + 1, 1));
      pos += reps[size_t(j)];
    }
  }
  out.assign(1, r);
}

void run_roll(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
              std::vector<Array>& out) {
  const int axis = axis_of(*node.op);
  const Array& x = in[0];
  Array r = device_empty(rt, x.dtype(), x.shape());
  const int64_t n = x.shape()[size_t(axis)];
  if (r.size() > 0) {
    int64_t s = in[1].item_int() % n;
    if (s < 0) s += n;
    if (s > 0) device_assign(r.slice(axis, 0, s, 1), x.slice(axis, n - s, n, 1));
    device_assign(r.slice(axis, s, n, 1), x.slice(axis, 0, n - s, 1));
  }
  out.assign(1, r);
}

// ---- creation ----

// AllocDiag{offset}(v): zeros with v copied onto a diagonal (AllocDiag::perform's view).
void run_alloc_diag(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                    std::vector<Array>& out) {
  const int64_t offset = std::stoll(node.op->props());
  const Array& v = in[0];
  const int64_t n = v.shape()[0], d = n + std::abs(offset);
  Array r = device_empty(rt, v.dtype(), {d, d});
  out.assign(1, r);
  if (r.size() == 0) return;
  rt.zero(r.data(), r.nbytes());
  const int64_t s0 = r.strides()[0], s1 = r.strides()[1];
  const int64_t start = offset >= 0 ? offset * s1 : -offset * s0;
  if (n > 0) device_assign(Array(v.dtype(), {n}, {s0 + s1}, r.offset() + start, r.buffer()), v);
}

// Ops computed from host scalars only: the CPU's perform, uploaded.
void run_on_host(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                 std::vector<Array>& out) {
  std::vector<Array> host(node.outputs.size());
  node.op->perform(in, host);
  out.clear();
  for (const Array& h : host) out.push_back(to_device(h, rt));
}

const char* kCreationSource = R"CUDA(
struct Args { long long w[8]; };
// Eye/Tri: w = [0] n*m  [1] m  [2] k  [3] tri  [4] itemsize  [5] the bits of one  [6] out
extern "C" __global__ void theon_eye(const Args a) {
  const i64 total = a.w[0], m = a.w[1], k = a.w[2], isz = a.w[4];
  char* out = (char*)a.w[6];
  for (i64 e = blockIdx.x * (i64)blockDim.x + threadIdx.x; e < total; e += (i64)gridDim.x * blockDim.x) {
    const i64 i = e / m, j = e % m;
    const bool on = a.w[3] ? j < i + k + 1 : j == i + k;
    const long long bits = on ? a.w[5] : 0;
    char* p = out + e * isz;
    switch (isz) {
      case 1: *(u8*)p = (u8)bits; break;
      case 2: *(u16*)p = (u16)bits; break;
      case 4: *(u32*)p = (u32)bits; break;
      default: *(u64*)p = (u64)bits; break;
    }
  }
}
// Tril/Triu in place on a C-contiguous array:
// w = [0] size  [1] rows  [2] cols  [3] k  [4] upper  [5] itemsize  [6] data
extern "C" __global__ void theon_tril(const Args a) {
  const i64 total = a.w[0], rows = a.w[1], cols = a.w[2], k = a.w[3], isz = a.w[5];
  char* base = (char*)a.w[6];
  for (i64 e = blockIdx.x * (i64)blockDim.x + threadIdx.x; e < total; e += (i64)gridDim.x * blockDim.x) {
    const i64 j = e % cols, i = (e / cols) % rows;
    const bool zero = a.w[4] ? j < i + k : j > i + k;
    if (!zero) continue;
    char* p = base + e * isz;
    for (i64 b = 0; b < isz; ++b) p[b] = 0;
  }
}
)CUDA";

// The bits of 1 in dtype d (as the CPU's convert<T>(1)).
int64_t one_bits(DType d) {
  const Array one = Array::full(d, {}, 1.0);
  int64_t bits = 0;
  std::memcpy(&bits, one.data(), one.itemsize());
  return bits;
}

void run_eye(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
             std::vector<Array>& out) {
  const std::string who = node.op->name();
  const int64_t n = in[0].item_int(), m = in[1].item_int();
  if (n < 0 || m < 0)
    throw std::invalid_argument("[" + who + "] negative dimensions are not allowed: (" +
                                std::to_string(n) + ", " + std::to_string(m) + ")");
  const int64_t k = std::clamp<int64_t>(in[2].item_int(), -n - 1, m + 1);
  const DType dt = node.outputs[0].type.dtype;
  Array r = device_empty(rt, dt, {n, m});
  out.assign(1, r);
  if (r.size() == 0) return;
  const bool tri = who.rfind("Tri", 0) == 0;
  rt.launch(creation_program(), "theon_eye", grid_for(rt, r.size()),
            {r.size(), m, k, tri, int64_t(r.itemsize()), one_bits(dt), word(r.data()), 0});
}

void run_tril(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
              std::vector<Array>& out) {
  // Tril{k=K} / Triu{k=K}: k and the side are in the name.
  const std::string who = node.op->name();
  const bool upper = who.rfind("Triu", 0) == 0;
  const int64_t k_prop = std::stoll(who.substr(who.find('=') + 1));
  Array r = device_copy(rt, in[0]);
  out.assign(1, r);
  const int nd = r.ndim();
  const int64_t rows = r.shape()[size_t(nd - 2)], cols = r.shape()[size_t(nd - 1)];
  if (rows * cols == 0) return;
  const int64_t k = std::clamp<int64_t>(k_prop, -rows - 1, cols + 1);
  rt.launch(creation_program(), "theon_tril", grid_for(rt, r.size()),
            {r.size(), rows, cols, k, upper, int64_t(r.itemsize()), word(r.data()), 0});
}

}  // namespace

const KernelProgram& kdata::creation_program() {
  return cached_program("creation", [] {
    return KernelProgram{
        std::string(fused_prelude()) + kCreationSource, {"theon_eye", "theon_tril"}, 8};
  });
}

std::vector<DeviceKernel> data_kernels() {
  std::vector<DeviceKernel> k = {
      {"view", supports_view, run_view, view_host_input},
      {"reshape", is<Reshape>, run_reshape, all_but_first},
      {"alloc", is<Alloc>, run_alloc, all_but_first},
      {"fill", is<Fill>, run_fill, nullptr},
      {"make_vector", is<MakeVector>, run_make_vector, nullptr},
      {"join", is<Join>, run_join, nullptr},
      {"repeat", is<Repeat>, run_repeat, all_but_first},
      {"roll", is<Roll>, run_roll, all_but_first},
      {"eye", is<Eye>, run_eye, all_inputs},
      {"tril", is<Tril>, run_tril, nullptr},
      {"alloc_diag", is<AllocDiag>, run_alloc_diag, nullptr},
      {"arange", [](const Op& op) { return is<ARange>(op) || is<Linspace>(op); }, run_on_host,
       all_inputs},
  };
  for (const DeviceKernel& e : indexing_kernels()) k.push_back(e);
  return k;
}

}  // namespace theon::cuda::kernels
