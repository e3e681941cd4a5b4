// Device kernels for Sort/ArgSort and Diff (ops/sort.h), joined into the data
// family by data_kernels(). CumOp (cumsum/cumprod) belongs to the reduce family.
//
// Sort is a rank sort: the element at i of a row goes to position
// #{j : x_j < x_i} + #{j < i : x_j ~ x_i} (NaNs last and equivalent to each
// other), which is the stable order NumPy's argsort(kind='stable') gives and
// the order of sort. One thread per element reads its whole row: O(n) work
// per element, fine for the rows of a few thousand elements graphs sort; rows
// longer than kMaxRankSortRow are sorted by the CPU through the host (a
// device merge sort would be the next step). Rows are the
// sorted axis moved last and made contiguous, as Sort::perform does. Diff is
// n steps of Elemwise sub (neq for bool) of two slices, as its perform.
#include "theon/ops/sort.h"

#include <numeric>
#include <typeinfo>

#include "launch_util.h"
#include "sort_kernels.h"
#include "theon/backend/cuda_codegen.h"

namespace theon::cuda::kernels {

namespace {

// Longer rows are sorted on the host: the rank sort's O(n^2) work per row would be slower
// than the round trip.
constexpr int64_t kMaxRankSortRow = 16384;

const char* kSortSource = R"CUDA(
struct Args { long long w[6]; };
// w: [0] rows * n  [1] n  [2] src (C-contiguous rows)  [3] dst  [4] dtype  [5] arg (int64 indices)
template <class T> __device__ __forceinline__ bool theon_nan(T v) {
  if constexpr (is16<T>::v) { const float f = cvt<float>(v); return f != f; }
  else if constexpr (tr<T>::is_float) return v != v;
  else return false;
}
template <class T> __device__ __forceinline__ bool theon_less(T a, T b) {
  if constexpr (is16<T>::v) {
    const float x = cvt<float>(a), y = cvt<float>(b);
    return x < y || (y != y && x == x);
  } else if constexpr (tr<T>::is_float) {
    return a < b || (b != b && a == a);
  } else {
    return a < b;
  }
}
template <class T> __device__ void theon_rank_sort(const Args& a) {
  const i64 total = a.w[0], n = a.w[1];
  const T* src = (const T*)a.w[2];
  for (i64 e = blockIdx.x * (i64)blockDim.x + threadIdx.x; e < total; e += (i64)gridDim.x * blockDim.x) {
    const i64 r = e / n, i = e % n;
    const T* row = src + r * n;
    const T v = row[i];
    i64 rank = 0;
    for (i64 j = 0; j < n; ++j) {
      const T u = row[j];
      if (theon_less(u, v) || (j < i && !theon_less(v, u))) ++rank;
    }
    if (a.w[5]) ((i64*)a.w[3])[r * n + rank] = i;
    else ((T*)a.w[3])[r * n + rank] = v;
  }
}
#define THEON_SORT_CASE(E, T) case DT_##E: theon_rank_sort<T>(a); break;
extern "C" __global__ void theon_sort(const Args a) {
  switch ((int)a.w[4]) {
    THEON_SORT_CASE(Bool, bool) THEON_SORT_CASE(Int8, i8) THEON_SORT_CASE(Int16, i16)
    THEON_SORT_CASE(Int32, i32) THEON_SORT_CASE(Int64, i64) THEON_SORT_CASE(UInt8, u8)
    THEON_SORT_CASE(UInt16, u16) THEON_SORT_CASE(UInt32, u32) THEON_SORT_CASE(UInt64, u64)
    THEON_SORT_CASE(Float16, f16) THEON_SORT_CASE(BFloat16, bf16) THEON_SORT_CASE(Float32, float)
    default: THEON_SORT_CASE(Float64, double)
  }
}
)CUDA";

// The axes with `axis` moved last (Sort::perform's permutation).
std::vector<int> axis_last(int ndim, int axis) {
  std::vector<int> p;
  for (int i = 0; i < ndim; ++i)
    if (i != axis) p.push_back(i);
  p.push_back(axis);
  return p;
}

// `rows` (C-contiguous, axis last) as an array of `shape`, C-contiguous.
Array unpermute(DeviceRuntime& rt, const Array& rows, const Shape& shape,
                const std::vector<int>& p) {
  std::vector<int> id(p.size());
  std::iota(id.begin(), id.end(), 0);
  if (p == id) return rows;
  Array r = device_empty(rt, rows.dtype(), shape);
  if (r.size() > 0) device_assign(r.transpose(p), rows);
  return r;
}

// The axis of Sort{axis=A} / Diff{n=N, axis=A}: the number after the last '='.
int axis_of(const Op& op) {
  const std::string s = op.props();
  return std::stoi(s.substr(s.rfind('=') == std::string::npos ? 0 : s.rfind('=') + 1));
}

bool supports_sort(const Op& op) {
  return typeid(op) == typeid(Sort);
}
void run_sort(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
              std::vector<Array>& out) {
  const Array& x = in[0];
  const bool arg = node.op->name().rfind("ArgSort", 0) == 0;
  const int axis = axis_of(*node.op);
  const std::vector<int> p = axis_last(x.ndim(), axis);
  const Array src = device_contiguous(x.transpose(p), x.dtype());
  Array dst = device_empty(rt, arg ? DType::Int64 : x.dtype(), src.shape());
  const int64_t n = x.ndim() ? x.shape()[size_t(axis)] : 1;
  if (n > kMaxRankSortRow) {  // the CPU's sort, through the host (waits for the device)
    std::vector<Array> host(1);
    node.op->perform({to_host(x)}, host);
    out.assign(1, to_device(host[0], rt));
    return;
  }
  if (dst.size() > 0)
    rt.launch(sort_program(), "theon_sort", grid_for(rt, dst.size()),
              {dst.size(), n, word(src.data()), word(dst.data()), int(x.dtype()), arg});
  out.assign(1, unpermute(rt, dst, x.shape(), p));
}

bool supports_diff(const Op& op) {
  return typeid(op) == typeid(Diff);
}
void run_diff(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
              std::vector<Array>& out) {
  const std::string props = node.op->props();  // "n=N, axis=A"
  const int n = std::stoi(props.substr(2));
  const int axis = axis_of(*node.op);
  const Array& x = in[0];
  const ScalarOpId op = x.dtype() == DType::Bool ? ScalarOpId::neq : ScalarOpId::sub;
  Array cur = x;
  for (int step = 0; step < n && cur.shape()[size_t(axis)] > 0; ++step) {
    const int64_t len = cur.shape()[size_t(axis)];
    cur = device_elemwise(rt, op, {cur.slice(axis, 1, len, 1), cur.slice(axis, 0, len - 1, 1)});
  }
  if (cur.shape()[size_t(axis)] == 0 || n == 0) {  // nothing computed: a fresh array
    Shape shape = x.shape();
    shape[size_t(axis)] = std::max<int64_t>(0, shape[size_t(axis)] - n);
    Array r = device_empty(rt, x.dtype(), shape);
    if (r.size() > 0) device_assign(r, x);
    cur = r;
  }
  out.assign(1, cur);
}

}  // namespace

const KernelProgram& sort_program() {
  return cached_program("sort", [] {
    return KernelProgram{
        std::string(fused_prelude()) + dtype_switch_source() + kSortSource, {"theon_sort"}, 6};
  });
}

std::vector<DeviceKernel> sort_kernels() {
  return {{"sort", supports_sort, run_sort, nullptr}, {"diff", supports_diff, run_diff, nullptr}};
}

}  // namespace theon::cuda::kernels
