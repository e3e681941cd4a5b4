// Device kernels: RandomOp's uniform, normal, random_integers and binomial
// draws, the same stream as the CPU's.
//
// The CPU draws from a Philox4x32-10 stream (src/ops/random_engine.h): word w
// of the stream is word w % 4 of the block at counter + w / 4, and the new
// state's counter is past the last block used. Uniform and random_integers
// draw two words per value except on a rare retry (a uniform value rounding
// up to `high`, Lemire's rejection), and normal draws one block per pair of
// values, so the device computes value i from its own words in parallel. A
// value that would retry records its index; a one-thread kernel then redoes
// the stream from the first such value on, sequentially as the CPU does (and
// fixes the new state). Binomial draws a variable number of words per value
// (rejection sampling), so it runs in that one-thread kernel from the start:
// bit-identical but serial. choice and permutation: random_choice.cpp.
//
// The state stays on the device; `size` and the distribution parameters are
// read on the host (host_input): their values are checked as perform()
// checks them and the parameters travel as scalars or float64/int64 arrays.
// Values are bit-identical to the CPU's in the emulator; on a GPU, CUDA's
// log/sqrt/sin/cos (normal, binomial) may differ from glibc's in the last bit.
#include <climits>
#include <cstring>

#include "../../../ops/random_internal.h"
#include "families.h"
#include "reduce_family.h"
#include "strided_words.h"

namespace theon::cuda::kernels {

namespace {

// Words: [0] state, [1] new state, [2] out, [3] n, [4] flag (int*), [5] mode
// (0 parallel, 1 all sequential), [6] blocks a parallel draw uses, then per
// parameter k (two): [7 + 3k] array (0: scalar), [8 + 3k] scalar bits, [9 + 3k] unused.
constexpr int kRandomWords = 13;

const char* kPhilox = R"CUDA(
__device__ __forceinline__ void philox(u32* c, u32 k0, u32 k1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
    const u64 p0 = 0xD2511F53ull * c[0], p1 = 0xCD9E8D57ull * c[2];
    const u32 n0 = u32(p1 >> 32) ^ c[1] ^ k0, n1 = u32(p1), n2 = u32(p0 >> 32) ^ c[3] ^ k1, n3 = u32(p0);
    c[0] = n0; c[1] = n1; c[2] = n2; c[3] = n3;
  }
}
__device__ __forceinline__ u64 mulhi64(u64 a, u64 b) {
#ifdef THEON_HOST_EMULATION
  return u64(((unsigned __int128)a * b) >> 64);
#else
  return __umul64hi(a, b);
#endif
}
// The CPU's PhiloxStream: `ctr` is the next counter to generate.
struct Stream {
  u64 key, ctr;
  u32 buf[4];
  int pos;
  __device__ void gen() {
    buf[0] = u32(ctr); buf[1] = u32(ctr >> 32); buf[2] = 0; buf[3] = 0;
    philox(buf, u32(key), u32(key >> 32));
    ++ctr;
    pos = 0;
  }
  // Positions the stream at word `word` after counter `base`.
  __device__ void seek(u64 k, u64 base, u64 word) {
    key = k; ctr = base + word / 4; pos = 4;
    if (word % 4) { gen(); pos = int(word % 4); }
  }
  __device__ u32 next_u32() { if (pos == 4) gen(); return buf[pos++]; }
  __device__ u64 next_u64() { u64 lo = next_u32(); return lo | (u64(next_u32()) << 32); }
  __device__ double next_double() { return double(next_u64() >> 11) * 1.1102230246251565404e-16; }
  __device__ double next_open() { return (double(next_u64() >> 11) + 0.5) * 1.1102230246251565404e-16; }
  // Lemire's method; with `strict` a draw that would be rejected returns false.
  __device__ bool next_below(u64 range, u64* r, bool strict) {
    u64 x = next_u64();
    u64 low = x * range, hi = mulhi64(x, range);
    if (low < range) {
      const u64 threshold = (0 - range) % range;
      while (low < threshold) {
        if (strict) return false;
        x = next_u64();
        low = x * range; hi = mulhi64(x, range);
      }
    }
    *r = hi;
    return true;
  }
};
__device__ __forceinline__ double pd(const Args& a, int k, long long i) {
  if (a.w[7 + 3 * k]) return ((const double*)a.w[7 + 3 * k])[i];
  union { long long b; double d; } u; u.b = a.w[8 + 3 * k]; return u.d;
}
__device__ __forceinline__ long long pi(const Args& a, int k, long long i) {
  if (a.w[7 + 3 * k]) return ((const long long*)a.w[7 + 3 * k])[i];
  return a.w[8 + 3 * k];
}
)CUDA";

// One value: `sample(g, a, i, strict, &ok)`; with strict, ok = false when the
// value would need more than its fixed words. WPE: words per value in parallel.
const char* kUniform = R"CUDA(
#define WPE 2
template <class T> __device__ __forceinline__ double round_to(double x) {
  if constexpr (same<T, double>::v) return x;
  else if constexpr (same<T, float>::v) return (double)(float)x;
  else return (double)to_f32(from_f32<T>((float)x));
}
__device__ TOut sample(Stream& g, const Args& a, long long i, bool strict, bool* ok) {
  const double l = pd(a, 0, i), h = pd(a, 1, i);
  double x = l;
  for (int tries = 0; tries < 64 && h > l; ++tries) {
    x = round_to<TOut>(l + (h - l) * g.next_double());
    if (x < h) break;
    if (strict) { *ok = false; return TOut{}; }
    x = round_to<TOut>(l);
  }
  return cvt<TOut>(x);
}
)CUDA";

const char* kNormal = R"CUDA(
#define WPE 2  // four words per pair of values
__device__ TOut sample(Stream& g, const Args& a, long long i, bool strict, bool* ok) {
  const double r = sqrt(-2.0 * log(g.next_open()));
  const double t = 6.283185307179586 * g.next_double();
  const double z = (i % 2 == 0) ? r * cos(t) : r * sin(t);
  return cvt<TOut>(pd(a, 0, i) + pd(a, 1, i) * z);
}
)CUDA";

const char* kIntegers = R"CUDA(
#define WPE 2
__device__ TOut sample(Stream& g, const Args& a, long long i, bool strict, bool* ok) {
  const long long lo = pi(a, 0, i), hi = pi(a, 1, i);
  const u64 range = u64(hi) - u64(lo) + 1;
  u64 r;
  if (range == 0) r = g.next_u64();
  else if (!g.next_below(range, &r, strict)) { *ok = false; return TOut{}; }
  return cvt<TOut>((long long)(u64(lo) + r));
}
)CUDA";

// sample_binomial of random_engine.h (the p > 0.5 branch unrolled).
const char* kBinomial = R"CUDA(
#define WPE 0
__device__ double stirling_tail(double k) {
  const double table[] = {0.0810614667953272,  0.0413406959554092, 0.0276779256849983,
                          0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                          0.0118967099458917,  0.0104112652619720, 0.00925546218271273,
                          0.00833056343336287};
  if (k <= 9) return table[int(k)];
  double kp1sq = (k + 1) * (k + 1);
  return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1);
}
__device__ long long binomial_small(Stream& g, long long n, double p) {
  if (double(n) * p < 10) {
    double log1mp = log1p(-p);
    long long count = 0;
    double sum = 0;
    while (true) {
      sum += ceil(log(g.next_open()) / log1mp);
      if (sum > double(n)) return count;
      ++count;
    }
  }
  double dn = double(n), spq = sqrt(dn * p * (1 - p));
  double b = 1.15 + 2.53 * spq, a = -0.0873 + 0.0248 * b + 0.01 * p, c = dn * p + 0.5;
  double v_r = 0.92 - 4.2 / b, r = p / (1 - p), alpha = (2.83 + 5.1 / b) * spq;
  double m = floor((dn + 1) * p);
  while (true) {
    double u = g.next_double() - 0.5, v = g.next_open();
    double us = 0.5 - fabs(u);
    double k = floor((2 * a / us + b) * u + c);
    if (k < 0 || k > dn) continue;
    if (us >= 0.07 && v <= v_r) return (long long)k;
    v = log(v * alpha / (a / (us * us) + b));
    double bound = (m + 0.5) * log((m + 1) / (r * (dn - m + 1))) +
                   (dn + 1) * log((dn - m + 1) / (dn - k + 1)) +
                   (k + 0.5) * log(r * (dn - k + 1) / (k + 1)) + stirling_tail(m) +
                   stirling_tail(dn - m) - stirling_tail(k) - stirling_tail(dn - k);
    if (v <= bound) return (long long)k;
  }
}
__device__ TOut sample(Stream& g, const Args& a, long long i, bool strict, bool* ok) {
  const long long n = pi(a, 0, i);
  const double p = pd(a, 1, i);
  long long v;
  if (n == 0 || p <= 0) v = 0;
  else if (p >= 1) v = n;
  else if (p > 0.5) v = n - binomial_small(g, n, 1 - p);
  else v = binomial_small(g, n, p);
  return cvt<TOut>(v);
}
)CUDA";

const char* kRandomKernels = R"CUDA(
#define BIG_INDEX 2147483647
extern "C" __global__ void theon_random_init(const Args a) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  const u64* st = (const u64*)a.w[0];
  u64* ns = (u64*)a.w[1];
  ns[0] = st[0];
  ns[1] = st[1] + u64(a.w[6]);
  *(int*)a.w[4] = a.w[5] ? 0 : BIG_INDEX;
}
extern "C" __global__ void theon_random_parallel(const Args a) {
  const u64* st = (const u64*)a.w[0];
  TOut* out = (TOut*)a.w[2];
  const long long n = a.w[3];
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    Stream g;
    g.seek(st[0], st[1], NORMAL ? u64(i / 2) * 4 : u64(i) * WPE);
    bool ok = true;
    TOut v = sample(g, a, i, true, &ok);
    if (ok) out[i] = v;
    else atomicMin((int*)a.w[4], i < BIG_INDEX ? int(i) : BIG_INDEX - 1);
  }
}
// Redoes the stream from the first value the parallel kernel could not draw.
extern "C" __global__ void theon_random_serial(const Args a) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  const long long start = *(const int*)a.w[4];
  if (start == BIG_INDEX) return;
  const u64* st = (const u64*)a.w[0];
  TOut* out = (TOut*)a.w[2];
  const long long n = a.w[3];
  Stream g;
  g.seek(st[0], st[1], u64(start) * WPE);
  bool ok = true;
  for (long long i = start; i < n; ++i) out[i] = sample(g, a, i, false, &ok);
  ((u64*)a.w[1])[1] = g.ctr;
}
)CUDA";

std::string random_source(RandomDist dist, DType dtype) {
  std::string s = fused_prelude();
  s += "struct Args { long long w[" + std::to_string(kRandomWords) + "]; };\n";
  s += "typedef " + std::string(cuda_type(dtype)) + " TOut;\n";
  s += dist == RandomDist::Normal ? "#define NORMAL 1\n" : "#define NORMAL 0\n";
  s += kPhilox;
  switch (dist) {
    case RandomDist::Uniform:
      s += kUniform;
      break;
    case RandomDist::Normal:
      s += kNormal;
      break;
    case RandomDist::Integers:
      s += kIntegers;
      break;
    case RandomDist::Binomial:
      s += kBinomial;
      break;
    default:
      throw std::invalid_argument("random_source: no device kernel for this distribution");
  }
  s += kRandomKernels;
  return s;
}

bool supports_random(const Op& op) {
  auto* r = dynamic_cast<const RandomOp*>(&op);
  return r && (r->dist() == RandomDist::Uniform || r->dist() == RandomDist::Normal ||
               r->dist() == RandomDist::Integers || r->dist() == RandomDist::Binomial);
}

bool random_host_input(const Op&, int input) {
  return input >= 1;
}

void run_random(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                std::vector<Array>& out) {
  const auto& op = static_cast<const RandomOp&>(*node.op);
  const RandomDist dist = op.dist();
  const std::string t = detail::random_tag(dist);
  if (in[0].size() != 2)
    throw std::invalid_argument(t + " expected a random state of 2 uint64 values, got shape " +
                                shape_str(in[0].shape()));
  Array st = device_contiguous(in[0], DType::UInt64);
  // The sample's shape and the parameter checks, as RandomOp::perform.
  std::vector<int64_t> size = in[1].to_int_vector();
  for (int64_t v : size)
    if (v < 0)
      throw std::invalid_argument(t + " size must be non-negative, got " + shape_str(size));
  Shape shape = size;
  std::vector<Array> params(in.begin() + 2, in.end());
  if (size.empty()) {
    for (const Array& p : params) {
      try {
        shape = broadcast_shapes(shape, p.shape());
      } catch (const std::invalid_argument&) {
        throw std::invalid_argument(
            t + " parameter shapes do not broadcast together: " + shape_str(params[0].shape()) +
            " and " + shape_str(params[1].shape()));
      }
    }
  } else {
    for (int i = 0; i < int(params.size()); ++i) {
      const Array& p = params[i];
      bool ok = p.ndim() <= int(shape.size());
      for (int k = 0; ok && k < p.ndim(); ++k) {
        int64_t d = p.shape()[k], o = shape[shape.size() - p.ndim() + k];
        ok = d == 1 || d == o;
      }
      if (!ok)
        throw std::invalid_argument(t + " parameter " + (i ? "2" : "1") + " of shape " +
                                    shape_str(p.shape()) + " cannot be broadcast to size " +
                                    shape_str(shape));
    }
  }
  if (int(shape.size()) != op.ndim())
    throw std::invalid_argument(t + " the sample has shape " + shape_str(shape) +
                                ", but the op was built for ndim=" + std::to_string(op.ndim()));
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n))
      throw std::invalid_argument(t + " size " + shape_str(shape) + " is too large");
  std::vector<std::optional<Array>> known(params.begin(), params.end());
  detail::check_random_params(dist, op.dtype(), true, known, n, t);

  Array sample = device_empty(rt, op.dtype(), shape);
  Array new_state = device_empty(rt, DType::UInt64, {2});
  out[0] = new_state;
  out[1] = sample;

  // Parameters: a scalar travels as a word, an array as float64/int64 on the device.
  std::vector<int64_t> w{ptr_word(st), ptr_word(new_state), ptr_word(sample), n, 0, 0, 0};
  std::vector<Array> keep;
  for (int k = 0; k < 2; ++k) {
    const bool as_int = dist == RandomDist::Integers || (dist == RandomDist::Binomial && k == 0);
    const DType pdt = as_int ? DType::Int64 : DType::Float64;
    const Array& p = params[size_t(k)];
    if (p.size() == 1) {
      Array v = p.contiguous(pdt);
      int64_t bits;
      std::memcpy(&bits, v.data(), 8);
      w.insert(w.end(), {0, bits, 0});
    } else {
      keep.push_back(to_device(p.broadcast_to(shape).contiguous(pdt), rt));
      w.insert(w.end(), {ptr_word(keep.back()), 0, 0});
    }
  }
  // Parallel draws need each value's words known in advance: uniform draws
  // nothing where high <= low, so those run serially.
  bool serial = dist == RandomDist::Binomial;
  if (dist == RandomDist::Uniform) {
    std::vector<double> lo = params[0].size() == 1
                                 ? params[0].to_double_vector()
                                 : params[0].broadcast_to(shape).to_double_vector();
    std::vector<double> hi = params[1].size() == 1
                                 ? params[1].to_double_vector()
                                 : params[1].broadcast_to(shape).to_double_vector();
    for (size_t i = 0; i < std::max(lo.size(), hi.size()) && !serial; ++i)
      serial = !(hi[hi.size() == 1 ? 0 : i] > lo[lo.size() == 1 ? 0 : i]);
  }
  w[5] = serial ? 1 : 0;
  w[6] = serial ? 0 : (dist == RandomDist::Normal ? (n + 1) / 2 : (2 * n + 3) / 4);
  std::shared_ptr<Buffer> flag = rt.allocate(256);
  w[4] = ptr_word(flag->data);

  const std::string key = "random/" + std::string(random_dist_name(dist)) + "/" + dname(op.dtype());
  const KernelProgram& prog = cached_program(key, [&] {
    return KernelProgram{random_source(dist, op.dtype()),
                         {"theon_random_init", "theon_random_parallel", "theon_random_serial"},
                         kRandomWords};
  });
  rt.launch(prog, "theon_random_init", LaunchShape{1, 1, 0}, w);
  if (!serial && n > 0)
    rt.launch(prog, "theon_random_parallel", LaunchShape{grid_blocks((n + 255) / 256), 256, 0}, w);
  if (dist != RandomDist::Normal) rt.launch(prog, "theon_random_serial", LaunchShape{1, 1, 0}, w);
}

}  // namespace

std::vector<DeviceKernel> random_kernels() {
  std::vector<DeviceKernel> k{
      DeviceKernel{"random", supports_random, run_random, random_host_input}};
  for (const DeviceKernel& e : random_choice_kernels()) k.push_back(e);
  return k;
}

std::string philox_stream_source() {
  return kPhilox;
}
std::string random_parallel_kernels_source() {
  return kRandomKernels;
}

std::string random_program_source(const std::string& dist, DType dtype) {
  if (dist == "uniform") return random_source(RandomDist::Uniform, dtype);
  if (dist == "normal") return random_source(RandomDist::Normal, dtype);
  if (dist == "integers") return random_source(RandomDist::Integers, dtype);
  if (dist == "binomial") return random_source(RandomDist::Binomial, dtype);
  throw std::invalid_argument("random_program_source: unknown distribution " + dist);
}

}  // namespace theon::cuda::kernels
