// Device kernels: Sort / ArgSort and Diff (theon/ops/sort.h), joined into the
// reduce family's entries.
//
// Sort and ArgSort run one thread per line: a bottom-up merge sort of the
// line's indices (stable, as the CPU's argsort) in a scratch buffer, keys
// compared in place through the input's strides with NaN last (float16 and
// bfloat16 compared as float). Correct for any layout, but a single long line
// sorts on one thread. Diff of order 1 is elementwise; higher orders iterate
// per line in a scratch copy, each step rounded to the dtype as the CPU does
// (bool: not_equal, integers wrap).
#include "theon/ops/sort.h"

#include <string>

#include "reduce_family.h"
#include "strided_words.h"

namespace theon::cuda::kernels {

namespace {

// Words: [0] in, [1] out, [2] lines, [3] n, [4] in axis stride, [5] out axis
// stride, [6] scratch (two int64 index buffers of lines * n; Diff: lines * n
// values), [7] order (Diff), then the walk over the other dims (in, out).
constexpr int kSortWords = 8 + Walk::num_words(2);

std::string sort_source(DType in, bool arg) {
  std::string s = program_head(kSortWords, {{"TIn", cuda_type(in)}, {"TC", cuda_compute_type(in)}});
  s += arg ? "#define ARGSORT 1\n" : "#define ARGSORT 0\n";
  s += R"CUDA(
__device__ __forceinline__ bool less_nan_last(TC x, TC y) {
  return x < y || (is_nan_v(y) && !is_nan_v(x));
}
extern "C" __global__ void theon_sort(const Args a) {
  const char* in = (const char*)a.w[0];
  char* out = (char*)a.w[1];
  const long long lines = a.w[2], n = a.w[3], sin = a.w[4], sout = a.w[5];
  const long long* walk = a.w + 8;
  for (long long line = (long long)blockIdx.x * blockDim.x + threadIdx.x; line < lines;
       line += (long long)gridDim.x * blockDim.x) {
    const char* p = in + walk_offset(line, walk, 0);
    char* q = out + walk_offset(line, walk, 1);
    long long* src = (long long*)a.w[6] + line * n;
    long long* dst = (long long*)a.w[6] + (lines + line) * n;
    for (long long i = 0; i < n; ++i) src[i] = i;
    for (long long width = 1; width < n; width *= 2) {
      for (long long lo = 0; lo < n; lo += 2 * width) {
        const long long mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
        long long i = lo, j = mid, k = lo;
        while (i < mid && j < hi) {
          // The right run's element goes first only when strictly less: stable.
          const TC x = cvt<TC>(*(const TIn*)(p + src[i] * sin)), y = cvt<TC>(*(const TIn*)(p + src[j] * sin));
          dst[k++] = less_nan_last(y, x) ? src[j++] : src[i++];
        }
        while (i < mid) dst[k++] = src[i++];
        while (j < hi) dst[k++] = src[j++];
      }
      long long* t = src; src = dst; dst = t;
    }
    for (long long i = 0; i < n; ++i) {
#if ARGSORT
      *(long long*)(q + i * sout) = src[i];
#else
      *(TIn*)(q + i * sout) = *(const TIn*)(p + src[i] * sin);
#endif
    }
  }
}
)CUDA";
  return s;
}

std::string diff_source(DType dt) {
  std::string s = program_head(kSortWords, {{"T", cuda_type(dt)}, {"TC", cuda_compute_type(dt)}});
  s += R"CUDA(
template <class U> __device__ __forceinline__ U step(U a, U b) {  // b - a as the CPU's Diff
  if constexpr (same<U, bool>::v) return a != b;
  else if constexpr (tr<U>::is_int) return op_sub<U>(b, a);
  else return cvt<U>(TC(cvt<TC>(b) - cvt<TC>(a)));
}
// Order 1: one thread per output element.
extern "C" __global__ void theon_diff1(const Args a) {
  const char* in = (const char*)a.w[0];
  char* out = (char*)a.w[1];
  const long long lines = a.w[2], m = a.w[3] - 1, sin = a.w[4], sout = a.w[5];
  const long long* walk = a.w + 8;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < lines * m;
       e += (long long)gridDim.x * blockDim.x) {
    const long long line = e / m, i = e - line * m;
    const char* p = in + walk_offset(line, walk, 0) + i * sin;
    *(T*)(out + walk_offset(line, walk, 1) + i * sout) = step(*(const T*)p, *(const T*)(p + sin));
  }
}
// Higher orders: one thread per line, differences taken in place in scratch.
extern "C" __global__ void theon_diffn(const Args a) {
  const char* in = (const char*)a.w[0];
  char* out = (char*)a.w[1];
  const long long lines = a.w[2], n = a.w[3], sin = a.w[4], sout = a.w[5], order = a.w[7];
  const long long* walk = a.w + 8;
  for (long long line = (long long)blockIdx.x * blockDim.x + threadIdx.x; line < lines;
       line += (long long)gridDim.x * blockDim.x) {
    const char* p = in + walk_offset(line, walk, 0);
    char* q = out + walk_offset(line, walk, 1);
    T* buf = (T*)a.w[6] + line * n;
    for (long long i = 0; i < n; ++i) buf[i] = *(const T*)(p + i * sin);
    for (long long s = 0; s < order; ++s)
      for (long long i = 0; i + 1 < n - s; ++i) buf[i] = step(buf[i], buf[i + 1]);
    for (long long i = 0; i < n - order; ++i) *(T*)(q + i * sout) = buf[i];
  }
}
)CUDA";
  return s;
}

bool supports_sort(const Op& op) {
  return dynamic_cast<const Sort*>(&op) != nullptr;
}
bool supports_diff(const Op& op) {
  return dynamic_cast<const Diff*>(&op) != nullptr;
}

// Sort keeps its axis and kind private: props() is the axis, name() starts with "ArgSort" for
// argsort.
void run_sort(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& inputs,
              std::vector<Array>& outputs) {
  const Op& op = *node.op;
  const int axis = std::stoi(op.props());
  const bool arg = op.name().rfind("ArgSort", 0) == 0;
  const Array& x = inputs[0];
  Array out = device_empty(rt, arg ? DType::Int64 : x.dtype(), x.shape());
  outputs[0] = out;
  if (x.size() == 0) return;
  Walk walk = lines_walk(x, out, axis);
  const int64_t lines = walk.size(), n = x.shape()[axis];
  std::shared_ptr<Buffer> scratch = rt.allocate(size_t(2 * lines * n) * sizeof(int64_t));
  const KernelProgram& prog =
      cached_program(std::string(arg ? "argsort/" : "sort/") + dname(x.dtype()), [&] {
        return KernelProgram{sort_source(x.dtype(), arg), {"theon_sort"}, kSortWords};
      });
  std::vector<int64_t> w{ptr_word(x),         ptr_word(out),           lines, n, x.strides()[axis],
                         out.strides()[axis], ptr_word(scratch->data), 0};
  walk.push_words(w, op.name().c_str());
  rt.launch(prog, "theon_sort", LaunchShape{grid_blocks((lines + 127) / 128), 128, 0}, w);
}

// Diff's props() are "n=<order>, axis=<axis>".
void run_diff(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& inputs,
              std::vector<Array>& outputs) {
  const std::string props = node.op->props();
  const int64_t order = std::stoll(props.substr(2));
  const int axis = std::stoi(props.substr(props.find("axis=") + 5));
  const Array& x = inputs[0];
  Shape shape = x.shape();
  const int64_t n = shape[size_t(axis)];
  shape[size_t(axis)] = std::max<int64_t>(0, n - order);
  Array out = device_empty(rt, x.dtype(), shape);
  outputs[0] = out;
  if (out.size() == 0) return;
  Walk walk = lines_walk(x, out, axis);
  const int64_t lines = walk.size();
  std::shared_ptr<Buffer> scratch;
  if (order > 1) scratch = rt.allocate(size_t(lines * n) * x.itemsize());
  const KernelProgram& prog = cached_program("diff/" + dname(x.dtype()), [&] {
    return KernelProgram{diff_source(x.dtype()), {"theon_diff1", "theon_diffn"}, kSortWords};
  });
  std::vector<int64_t> w{ptr_word(x),
                         ptr_word(out),
                         lines,
                         n,
                         x.strides()[axis],
                         out.strides()[axis],
                         scratch ? ptr_word(scratch->data) : 0,
                         order};
  walk.push_words(w, node.op->name().c_str());
  if (order == 1)
    rt.launch(prog, "theon_diff1", LaunchShape{grid_blocks((lines * (n - 1) + 255) / 256), 256, 0},
              w);
  else
    rt.launch(prog, "theon_diffn", LaunchShape{grid_blocks((lines + 127) / 128), 128, 0}, w);
}

}  // namespace

std::vector<DeviceKernel> sort_kernels() {
  return {DeviceKernel{"sort", supports_sort, run_sort},
          DeviceKernel{"diff", supports_diff, run_diff}};
}

std::string sort_program_source(DType in, bool arg) {
  return sort_source(in, arg);
}
std::string diff_program_source(DType dt) {
  return diff_source(dt);
}

}  // namespace theon::cuda::kernels
