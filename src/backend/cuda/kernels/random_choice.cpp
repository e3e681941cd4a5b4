// Device kernels: RandomOp's choice and permutation, the CPU's Philox stream
// and algorithms (src/ops/random_sample.cpp), so the draws are bit-identical.
//
// Indices are drawn into an int64 scratch buffer, then gathered from `a` (or
// converted, for choice from range(a) and for permutation). choice with
// replacement draws two words per value — Lemire's method (a rejection
// redoes the stream serially, as in random.cpp) or a binary search of the
// cumulative probabilities — so it runs in parallel. Without replacement
// (a partial Fisher-Yates shuffle, a hash set of drawn values for large
// populations, or a Fenwick tree of the weights) and permutation are
// sequential by nature: they run in one thread.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "../../../ops/random_internal.h"
#include "reduce_family.h"
#include "strided_words.h"

namespace theon::cuda::kernels {

namespace {

// Words: [0..6] as random.cpp (state, new state, indices, n, flag, mode,
// blocks), [7..12] unused, then [13] population, [14] a's values (0: range),
// [15] cdf (replace) or weights (no replace), or 0, [16] last positive
// weight, [17] scratch, [18] permutation length, [19] hash set (no replace
// of a large population), [20] hash table size (a power of two), [21] out.
constexpr int kChoiceWords = 22;

const char* kChoiceSample = R"CUDA(
#define WPE 2
#define NORMAL 0
// One value with replacement: index of range(pop), uniform or weighted.
__device__ TOut sample(Stream& g, const Args& a, long long i, bool strict, bool* ok) {
  const long long pop = a.w[13];
  if (a.w[15]) {  // std::upper_bound(cdf, u * cdf.back()), capped at the last positive weight
    const double* cdf = (const double*)a.w[15];
    const double u = g.next_double() * cdf[pop - 1];
    long long lo = 0, hi = pop;
    while (lo < hi) {
      const long long mid = lo + (hi - lo) / 2;
      if (cdf[mid] > u) hi = mid; else lo = mid + 1;
    }
    return lo < a.w[16] ? lo : a.w[16];
  }
  u64 r;
  if (!g.next_below(u64(pop), &r, strict)) { *ok = false; return 0; }
  return (long long)r;
}
)CUDA";

const char* kChoiceSerial = R"CUDA(
// Without replacement, as choice_indices / weighted_no_replace on the CPU.
extern "C" __global__ void theon_choice_noreplace(const Args a) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  const u64* st = (const u64*)a.w[0];
  long long* idx = (long long*)a.w[2];
  const long long k = a.w[3], pop = a.w[13];
  Stream g;
  g.seek(st[0], st[1], 0);
  if (a.w[15]) {  // weighted: a Fenwick tree of the weights
    double* w = (double*)a.w[17];
    double* tree = w + pop;
    const double* p = (const double*)a.w[15];
    const long long n = pop;
    for (long long i = 0; i < n; ++i) w[i] = p[i];
    for (long long j = 0; j <= n; ++j) tree[j] = 0;
    for (long long i = 0; i < n; ++i)
      for (long long j = i + 1; j <= n; j += j & -j) tree[j] += w[i];
    long long top = 1;
    while (top * 2 <= n) top *= 2;
    for (long long s = 0; s < k; ++s) {
      double total = 0;
      for (long long j = n; j > 0; j -= j & -j) total += tree[j];
      double u = g.next_double() * total;
      long long pos = 0;
      for (long long step = top; step > 0; step /= 2)
        if (pos + step <= n && tree[pos + step] <= u) { pos += step; u -= tree[pos]; }
      while (pos < n && w[pos] <= 0) ++pos;
      if (pos == n) { pos = 0; while (pos < n && !(w[pos] > 0)) ++pos; }
      idx[s] = pos;
      for (long long j = pos + 1; j <= n; j += j & -j) tree[j] -= w[pos];
      w[pos] = 0;
    }
  } else if (!a.w[19]) {  // a partial Fisher-Yates shuffle of range(pop)
    long long* perm = (long long*)a.w[17];
    for (long long i = 0; i < pop; ++i) perm[i] = i;
    for (long long i = 0; i < k; ++i) {
      u64 r;
      g.next_below(u64(pop - i), &r, false);
      const long long j = i + (long long)r;
      const long long t = perm[i]; perm[i] = perm[j]; perm[j] = t;
      idx[i] = perm[i];
    }
  } else {  // draws until unseen, the seen set an open-addressing hash table
    long long* table = (long long*)a.w[17];
    const u64 mask = u64(a.w[20]) - 1;
    for (u64 j = 0; j <= mask; ++j) table[j] = -1;
    for (long long i = 0; i < k; ++i) {
      while (true) {
        u64 r;
        g.next_below(u64(pop), &r, false);
        u64 h = (r * 0x9E3779B97F4A7C15ull) & mask;
        while (table[h] != -1 && table[h] != (long long)r) h = (h + 1) & mask;
        if (table[h] == (long long)r) continue;
        table[h] = (long long)r;
        idx[i] = (long long)r;
        break;
      }
    }
  }
  ((u64*)a.w[1])[1] = g.ctr;
}

// Permutations of range(len), one per row, as the CPU's backward Fisher-Yates.
extern "C" __global__ void theon_permutation(const Args a) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  const u64* st = (const u64*)a.w[0];
  long long* idx = (long long*)a.w[2];
  const long long rows = a.w[3], len = a.w[18];
  Stream g;
  g.seek(st[0], st[1], 0);
  for (long long r = 0; r < rows; ++r) {
    long long* row = idx + r * len;
    for (long long i = 0; i < len; ++i) row[i] = i;
    for (long long i = len - 1; i > 0; --i) {
      u64 j;
      g.next_below(u64(i + 1), &j, false);
      const long long t = row[i]; row[i] = row[j]; row[j] = t;
    }
  }
  ((u64*)a.w[1])[1] = g.ctr;
}

// out[i] = a[idx[i]] (a's values as the sample dtype), or idx[i] converted.
extern "C" __global__ void theon_choice_gather(const Args a) {
  const long long* idx = (const long long*)a.w[2];
  TV* out = (TV*)a.w[21];
  const TV* src = (const TV*)a.w[14];
  const long long total = a.w[3] * (a.w[18] ? a.w[18] : 1);
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x)
    out[i] = src ? src[idx[i]] : cvt<TV>(idx[i]);
}
)CUDA";

std::string choice_source(DType dtype) {
  std::string s = fused_prelude();
  s += "struct Args { long long w[" + std::to_string(kChoiceWords) + "]; };\n";
  s += "typedef i64 TOut;\n";
  s += "typedef " + std::string(cuda_type(dtype)) + " TV;\n";
  s += philox_stream_source();
  s += kChoiceSample;
  s += random_parallel_kernels_source();
  s += kChoiceSerial;
  return s;
}

bool supports_choice(const Op& op) {
  auto* r = dynamic_cast<const RandomOp*>(&op);
  return r && (r->dist() == RandomDist::Choice || r->dist() == RandomDist::Permutation);
}

bool choice_host_input(const Op&, int input) {
  return input >= 1;
}

void run_choice(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                std::vector<Array>& out) {
  const auto& op = static_cast<const RandomOp&>(*node.op);
  const RandomDist dist = op.dist();
  const bool perm = dist == RandomDist::Permutation;
  const std::string props = op.props();  // "...|<replace><has_p>"
  const bool replace = props[props.size() - 2] == '1', has_p = props.back() == '1';
  const std::string t = detail::random_tag(dist);
  if (in[0].size() != 2)
    throw std::invalid_argument(t + " expected a random state of 2 uint64 values, got shape " +
                                shape_str(in[0].shape()));
  Array st = device_contiguous(in[0], DType::UInt64);
  const std::vector<int64_t> size = in[1].to_int_vector();
  for (int64_t v : size)
    if (v < 0)
      throw std::invalid_argument(t + " size must be non-negative, got " + shape_str(size));
  Shape shape = size;
  if (int(shape.size()) != (perm ? op.ndim() - 1 : op.ndim()))
    throw std::invalid_argument(t + " the sample has shape " + shape_str(shape) +
                                ", but the op was built for ndim=" + std::to_string(op.ndim()));
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n))
      throw std::invalid_argument(t + " size " + shape_str(shape) + " is too large");
  const std::vector<Array> params(in.begin() + 2, in.end());
  std::vector<std::optional<Array>> known(params.begin(), params.end());
  detail::check_random_params(dist, op.dtype(), replace, known, n, t);

  int64_t len = 0, pop = 0;
  if (perm) {
    len = params[0].item_int();
    shape.push_back(len);
    int64_t total;
    if (__builtin_mul_overflow(n, len, &total))
      throw std::invalid_argument(t + " size " + shape_str(shape) + " is too large");
  } else {
    pop = params[0].ndim() == 0 ? params[0].item_int() : params[0].size();
  }
  Array new_state = device_empty(rt, DType::UInt64, {2});
  Array sample = device_empty(rt, op.dtype(), shape);
  out[0] = new_state;
  out[1] = sample;
  const int64_t total = perm ? n * len : n;

  std::vector<Array> keep;  // device copies the kernels read
  std::vector<int64_t> w(kChoiceWords, 0);
  std::shared_ptr<Buffer> idx = rt.allocate(size_t(std::max<int64_t>(total, 1)) * 8);
  std::shared_ptr<Buffer> flag = rt.allocate(256), scratch;
  w[0] = ptr_word(st);
  w[1] = ptr_word(new_state);
  w[2] = ptr_word(idx->data);
  w[3] = n;
  w[4] = ptr_word(flag->data);
  w[13] = pop;
  w[18] = len;
  w[21] = ptr_word(sample);
  if (!perm && params[0].ndim() > 0) {
    keep.push_back(to_device(params[0].contiguous(op.dtype()), rt));
    w[14] = ptr_word(keep.back());
  }
  if (!perm && has_p) {
    std::vector<double> p = params[1].to_double_vector();
    if (replace) {
      std::vector<double> cdf(p.size());
      std::partial_sum(p.begin(), p.end(), cdf.begin());
      w[16] = int64_t(std::find_if(p.rbegin(), p.rend(), [](double x) { return x > 0; }).base() -
                      p.begin()) -
              1;
      p = cdf;
    } else {
      scratch = rt.allocate(size_t(2 * pop + 1) * 8);  // weights and the Fenwick tree
    }
    keep.push_back(to_device(Array::from_vector<double>(p, {int64_t(p.size())}), rt));
    w[15] = ptr_word(keep.back());
  } else if (!perm && !replace) {
    if (pop <= 8 * n || pop <= (int64_t(1) << 20)) {
      scratch = rt.allocate(size_t(std::max<int64_t>(pop, 1)) * 8);
    } else {
      int64_t table = 2;
      while (table < 2 * n) table *= 2;
      w[19] = 1;
      w[20] = table;
      scratch = rt.allocate(size_t(table) * 8);
    }
  }
  if (scratch) w[17] = ptr_word(scratch->data);
  const bool parallel = !perm && replace;
  w[5] = parallel ? 0 : 1;
  w[6] = parallel ? (2 * n + 3) / 4 : 0;

  const KernelProgram& prog = cached_program("random_choice/" + dname(op.dtype()), [&] {
    return KernelProgram{choice_source(op.dtype()),
                         {"theon_random_init", "theon_random_parallel", "theon_random_serial",
                          "theon_choice_noreplace", "theon_permutation", "theon_choice_gather"},
                         kChoiceWords};
  });
  rt.launch(prog, "theon_random_init", LaunchShape{1, 1, 0}, w);
  if (parallel) {
    if (n > 0)
      rt.launch(prog, "theon_random_parallel", LaunchShape{grid_blocks((n + 255) / 256), 256, 0},
                w);
    rt.launch(prog, "theon_random_serial", LaunchShape{1, 1, 0}, w);
  } else {
    rt.launch(prog, perm ? "theon_permutation" : "theon_choice_noreplace", LaunchShape{1, 1, 0}, w);
  }
  if (total > 0)
    rt.launch(prog, "theon_choice_gather", LaunchShape{grid_blocks((total + 255) / 256), 256, 0},
              w);
}

}  // namespace

std::string choice_program_source(DType dtype) { return choice_source(dtype); }

std::vector<DeviceKernel> random_choice_kernels() {
  return {DeviceKernel{"random_choice", supports_choice, run_choice, choice_host_input}};
}

}  // namespace theon::cuda::kernels
