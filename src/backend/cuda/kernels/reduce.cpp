// Device kernels: reductions (Reduce: sum, prod, mean, max, min, all, any,
// argmax, argmin) and autodiff's ReduceToShape; scan.cpp adds CumOp.
//
// One program per (kind, input dtype, output dtype); shapes, `initial`,
// strides and axes travel as words. The input's dims are split into a kept
// walk (indexing the C-contiguous output) and a reduced walk, each merged to
// as few dims as the strides allow. The kernels of a program:
//   theon_reduce_block: one block per output element (grid-stride), threads
//     stride over the reduced elements and combine through a shared-memory
//     tree written for any blockDim;
//   theon_reduce_thread: one thread per output element walking its reduced
//     elements alone, for short reductions or when the kept dims are the
//     input's innermost (neighbouring threads then read neighbouring memory);
//   theon_reduce_partial / theon_reduce_columns then theon_reduce_final: long
//     reductions split into chunks (a block or a thread per chunk), partial
//     results combined by one block per output.
// Accumulators follow Reduce::perform: floats sum and multiply in double,
// integers in 64 bits with wrapping, mean in double, max/min in the input's
// type (float16/bfloat16 in float) with NaN winning, argmax/argmin take the
// first index of the extreme or of the first NaN, and `initial` takes part
// in max/min as one more element compared in double.
#include "theon/ops/reduce.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "families.h"
#include "reduce_family.h"
#include "strided_words.h"

namespace theon::cuda::kernels {

namespace {

// ---- Reduce ----------------------------------------------------------------

// Words: [0] in, [1] out, [2] rows, [3] n, [4] has_initial, [5] initial (double
// bits), then the kept walk (operand 0: input strides), then the reduced walk,
// then for the split kernels: chunks per row, chunk length, partials.
constexpr int kReduceHead = 6;
constexpr int kReduceSplit = kReduceHead + 2 * Walk::num_words(1);
constexpr int kReduceWords = kReduceSplit + 3;

bool is_arg(ReduceKind k) {
  return k == ReduceKind::ArgMax || k == ReduceKind::ArgMin;
}

// The CUDA C of the accumulator type.
std::string acc_type(ReduceKind kind, DType in) {
  switch (kind) {
    case ReduceKind::Sum:
    case ReduceKind::Prod:
      if (is_float(in)) return "double";
      return dtype_kind(in) == DKind::UInt ? "u64" : "i64";
    case ReduceKind::Mean:
      return "double";
    case ReduceKind::All:
    case ReduceKind::Any:
      return "bool";
    default:
      return cuda_compute_type(in);
  }
}

// The identity of max (lowest) or min (highest) in the compute type of `in`.
std::string extreme_identity(DType in, bool want_max) {
  switch (in) {
    case DType::Bool:
      return want_max ? "false" : "true";
    case DType::Float16:
    case DType::BFloat16:
    case DType::Float32:
      return want_max ? "-inf_v<float>()" : "inf_v<float>()";
    case DType::Float64:
      return want_max ? "-inf_v<double>()" : "inf_v<double>()";
    case DType::UInt8:
      return want_max ? "0" : "255";
    case DType::UInt16:
      return want_max ? "0" : "65535";
    case DType::UInt32:
      return want_max ? "0u" : "4294967295u";
    case DType::UInt64:
      return want_max ? "0ull" : "18446744073709551615ull";
    case DType::Int8:
      return want_max ? "-128" : "127";
    case DType::Int16:
      return want_max ? "-32768" : "32767";
    case DType::Int32:
      return want_max ? "(-2147483647 - 1)" : "2147483647";
    case DType::Int64:
      return want_max ? "(-9223372036854775807ll - 1)" : "9223372036854775807ll";
  }
  return "0";
}

std::string reduce_source(ReduceKind kind, DType in, DType out) {
  const bool want_max = kind == ReduceKind::Max || kind == ReduceKind::ArgMax;
  std::string s = fused_prelude();
  s += walk_prelude();
  s += "struct Args { long long w[" + std::to_string(kReduceWords) + "]; };\n";
  s += "typedef " + std::string(cuda_type(in)) + " TIn;\n";
  s += "typedef " + std::string(cuda_compute_type(in)) + " TC;\n";
  s += "typedef " + std::string(cuda_type(out)) + " TOut;\n";
  s += "typedef " + acc_type(kind, in) + " TAcc;\n";
  s += "#define KIND_" + std::string(is_arg(kind) ? "ARG" : "PLAIN") + "\n";
  s += "#define WANT_MAX " + std::string(want_max ? "1" : "0") + "\n";
  // identity, per-element step, combine of two partial results, finish.
  std::string identity, step, combine, finish;
  switch (kind) {
    case ReduceKind::Sum:
    case ReduceKind::Mean:
      identity = "TAcc(0)";
      step = "acc = op_add<TAcc>(acc, (TAcc)v);";
      combine = "return op_add<TAcc>(a, b);";
      finish = kind == ReduceKind::Mean ? "return cvt<TOut>(acc / (double)n);"
                                        : "return cvt<TOut>(acc);";
      break;
    case ReduceKind::Prod:
      identity = "TAcc(1)";
      step = "acc = op_mul<TAcc>(acc, (TAcc)v);";
      combine = "return op_mul<TAcc>(a, b);";
      finish = "return cvt<TOut>(acc);";
      break;
    case ReduceKind::All:
      identity = "true";
      step = "acc = acc && (v != TC(0));";
      combine = "return a && b;";
      finish = "return acc;";
      break;
    case ReduceKind::Any:
      identity = "false";
      step = "acc = acc || (v != TC(0));";
      combine = "return a || b;";
      finish = "return acc;";
      break;
    case ReduceKind::Max:
    case ReduceKind::Min: {
      const char* better = want_max ? "b > a" : "b < a";
      identity = extreme_identity(in, want_max);
      step = "acc = pick(acc, v);";
      combine = std::string("return pick(a, b);");
      finish =
          "if (a.w[4]) {\n"
          "    double init; memcpy_d(&init, a.w[5]);\n"
          "    double v = n ? (double)acc : init;\n"
          "    bool init_better = WANT_MAX ? v < init : init < v;\n"
          "    return cvt<TOut>(init_better ? init : v);\n"
          "  }\n"
          "  return cvt<TOut>(acc);";
      s += std::string(
               "__device__ __forceinline__ TC pick(TC a, TC b) { return is_nan_v(a) ? a : "
               "((is_nan_v(b) || ") +
           better + ") ? b : a); }\n";
      break;
    }
    case ReduceKind::ArgMax:
    case ReduceKind::ArgMin:
      s += std::string("__device__ __forceinline__ bool better(TC b, TC a) { return ") +
           (want_max ? "b > a" : "b < a") + "; }\n";
      break;
  }
  s += R"CUDA(
__device__ __forceinline__ void memcpy_d(double* d, long long bits) {
  union { long long i; double f; } u; u.i = bits; *d = u.f;
}
__device__ __forceinline__ TC load(const char* in, long long off) { return cvt<TC>(*(const TIn*)(in + off)); }
#ifdef KIND_ARG
// (value, index) pairs; index -1 is "nothing yet". The lower index wins ties
// and NaN wins over numbers (the first NaN among NaNs), as the CPU's scan.
struct Best { TC v; long long i; };
__device__ __forceinline__ Best take(Best a, Best b) {
  if (b.i < 0) return a;
  if (a.i < 0) return b;
  const bool an = is_nan_v(a.v), bn = is_nan_v(b.v);
  if (an || bn) return (an && bn) ? (b.i < a.i ? b : a) : (an ? a : b);
  if (better(b.v, a.v)) return b;
  if (better(a.v, b.v)) return a;
  return b.i < a.i ? b : a;
}
struct TakeOp { __device__ __forceinline__ Best operator()(Best a, Best b) const { return take(a, b); } };
__device__ __forceinline__ TOut finish(Best b, const Args& a, long long n) { return (TOut)b.i; }
#define ACC_T Best
#define IDENTITY Best{TC(0), -1}
#define STEP(acc, v, j) acc = take(acc, Best{v, j})
#define COMBINE_OP TakeOp()
#else
)CUDA";
  s += "#define ACC_T TAcc\n#define IDENTITY " + identity + "\n";
  s += "#define STEP(acc, v, j) { " + step + " }\n";
  s += "struct CombineOp { __device__ __forceinline__ TAcc operator()(TAcc a, TAcc b) const { " +
       combine + " } };\n#define COMBINE_OP CombineOp()\n";
  s += "__device__ __forceinline__ TOut finish(TAcc acc, const Args& a, long long n) {\n  " +
       finish + "\n}\n";
  s += R"CUDA(#endif
#define KEPT(a) ((a).w + 6)
#define RED(a) ((a).w + 6 + 1 + 2 * THEON_WALK_DIMS)
#define SPLIT(a) ((a).w + 6 + 2 * (1 + 2 * THEON_WALK_DIMS))

extern "C" __global__ void theon_reduce_block(const Args a) {
  const char* in = (const char*)a.w[0];
  TOut* out = (TOut*)a.w[1];
  const long long rows = a.w[2], n = a.w[3];
  __shared__ ACC_T sh[1024];
  for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
    const char* base = in + walk_offset(row, KEPT(a), 0);
    ACC_T acc = IDENTITY;
    for (long long j = threadIdx.x; j < n; j += blockDim.x) {
      TC v = load(base, walk_offset(j, RED(a), 0));
      STEP(acc, v, j);
    }
    acc = block_reduce(acc, sh, COMBINE_OP);
    if (threadIdx.x == 0) out[row] = finish(acc, a, n);
  }
}

extern "C" __global__ void theon_reduce_thread(const Args a) {
  const char* in = (const char*)a.w[0];
  TOut* out = (TOut*)a.w[1];
  const long long rows = a.w[2], n = a.w[3];
  for (long long row = (long long)blockIdx.x * blockDim.x + threadIdx.x; row < rows;
       row += (long long)gridDim.x * blockDim.x) {
    const char* base = in + walk_offset(row, KEPT(a), 0);
    ACC_T acc = IDENTITY;
    for (long long j = 0; j < n; ++j) {
      TC v = load(base, walk_offset(j, RED(a), 0));
      STEP(acc, v, j);
    }
    out[row] = finish(acc, a, n);
  }
}

// Few long reductions: each row's elements in chunks, one block per chunk
// writing a partial result, then one block per row combining its partials.
extern "C" __global__ void theon_reduce_partial(const Args a) {
  const char* in = (const char*)a.w[0];
  const long long rows = a.w[2], n = a.w[3], chunks = SPLIT(a)[0], len = SPLIT(a)[1];
  ACC_T* part = (ACC_T*)SPLIT(a)[2];
  __shared__ ACC_T sh[1024];
  for (long long b = blockIdx.x; b < rows * chunks; b += gridDim.x) {
    const long long row = b / chunks, j0 = (b - row * chunks) * len;
    const long long j1 = j0 + len < n ? j0 + len : n;
    const char* base = in + walk_offset(row, KEPT(a), 0);
    ACC_T acc = IDENTITY;
    for (long long j = j0 + threadIdx.x; j < j1; j += blockDim.x) {
      TC v = load(base, walk_offset(j, RED(a), 0));
      STEP(acc, v, j);
    }
    acc = block_reduce(acc, sh, COMBINE_OP);
    if (threadIdx.x == 0) part[b] = acc;
  }
}

// The same partials when the kept dims are the innermost: neighbouring
// threads take neighbouring outputs (coalesced reads), each a chunk of its
// reduced elements.
extern "C" __global__ void theon_reduce_columns(const Args a) {
  const char* in = (const char*)a.w[0];
  const long long rows = a.w[2], n = a.w[3], chunks = SPLIT(a)[0], len = SPLIT(a)[1];
  ACC_T* part = (ACC_T*)SPLIT(a)[2];
  for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < rows * chunks;
       t += (long long)gridDim.x * blockDim.x) {
    const long long c = t / rows, row = t - c * rows, j0 = c * len;
    const long long j1 = j0 + len < n ? j0 + len : n;
    const char* base = in + walk_offset(row, KEPT(a), 0);
    ACC_T acc = IDENTITY;
    for (long long j = j0; j < j1; ++j) {
      TC v = load(base, walk_offset(j, RED(a), 0));
      STEP(acc, v, j);
    }
    part[row * chunks + c] = acc;
  }
}

extern "C" __global__ void theon_reduce_final(const Args a) {
  TOut* out = (TOut*)a.w[1];
  const long long rows = a.w[2], n = a.w[3], chunks = SPLIT(a)[0];
  const ACC_T* part = (const ACC_T*)SPLIT(a)[2];
  __shared__ ACC_T sh[1024];
  for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
    ACC_T acc = IDENTITY;
    for (long long c = threadIdx.x; c < chunks; c += blockDim.x) acc = COMBINE_OP(acc, part[row * chunks + c]);
    acc = block_reduce(acc, sh, COMBINE_OP);
    if (threadIdx.x == 0) out[row] = finish(acc, a, n);
  }
}
)CUDA";
  return s;
}

bool supports_reduce(const Op& op) {
  return dynamic_cast<const Reduce*>(&op) != nullptr;
}

// Reduces x over `axes` into `out` (C-contiguous, one element per kept
// position in order, of any dtype: the accumulator is converted to it).
void reduce_into(DeviceRuntime& rt, ReduceKind kind, const std::vector<int>& axes,
                 std::optional<double> initial, const Array& x, const Array& out,
                 const std::string& who) {
  Walk kept(1), red(1);
  for (int i = 0; i < x.ndim(); ++i) {
    const bool r = std::find(axes.begin(), axes.end(), i) != axes.end();
    (r ? red : kept).add(x.shape()[i], {x.strides()[i]});
  }
  const int64_t n = red.size(), rows = kept.size();
  const bool extreme = kind == ReduceKind::Max || kind == ReduceKind::Min;
  if (n == 0 && (is_arg(kind) || (extreme && !initial)))
    throw std::invalid_argument(
        "[" + who + "] zero-size array to reduction operation which has no identity (input shape " +
        shape_str(x.shape()) + ")");
  if (rows == 0) return;
  kept.merge();
  red.merge();
  const bool with_initial = extreme && initial.has_value();
  const DType res = out.dtype();
  const std::string key =
      "reduce/" + std::to_string(int(kind)) + "/" + dname(x.dtype()) + "/" + dname(res);
  const KernelProgram& prog = cached_program(key, [&] {
    return KernelProgram{reduce_source(kind, x.dtype(), res),
                         {"theon_reduce_block", "theon_reduce_thread", "theon_reduce_partial",
                          "theon_reduce_columns", "theon_reduce_final"},
                         kReduceWords};
  });
  std::vector<int64_t> w{ptr_word(x), ptr_word(out), rows, n, with_initial ? 1 : 0, 0};
  if (with_initial) {
    double init = *initial;
    std::memcpy(&w[5], &init, sizeof init);
  }
  kept.push_words(w, who.c_str());
  red.push_words(w, who.c_str());
  // Threads share one output when the reduction is long and the kept dims are
  // not the innermost ones (or there are few outputs to spread over threads).
  auto innermost = [](const Walk& wk) {
    int64_t m = std::numeric_limits<int64_t>::max();
    for (int64_t st : wk.strides[0]) m = std::min(m, st < 0 ? -st : st);
    return m;
  };
  const bool kept_inner = !kept.shape.empty() && innermost(kept) < innermost(red);
  const bool per_thread = n <= 16 || (kept_inner && rows >= 4096 && n <= 4096);
  // Long reductions of innermost kept dims: a thread per (output, chunk) so
  // that about 64K threads read coalesced; few long rows otherwise: a block
  // per (row, chunk) so that about 1024 blocks work.
  const bool columns = !per_thread && kept_inner && rows >= 32;
  const int64_t chunks = per_thread ? 1
                         : columns  ? std::min((n + 63) / 64, std::max<int64_t>(1, 65536 / rows))
                                   : std::min((n + 4095) / 4096, std::max<int64_t>(1, 1024 / rows));
  w.insert(w.end(), {chunks, (n + chunks - 1) / chunks, 0});
  if (chunks > 1) {
    std::shared_ptr<Buffer> part =
        rt.allocate(size_t(rows * chunks) * 16);  // 16: the largest accumulator
    w.back() = ptr_word(part->data);
    if (columns)
      rt.launch(prog, "theon_reduce_columns",
                LaunchShape{grid_blocks((rows * chunks + 255) / 256), 256, 0}, w);
    else
      rt.launch(prog, "theon_reduce_partial", LaunchShape{grid_blocks(rows * chunks), 256, 0}, w);
    rt.launch(prog, "theon_reduce_final", LaunchShape{grid_blocks(rows), block_threads(chunks), 0},
              w);
  } else if (per_thread || columns) {
    rt.launch(prog, "theon_reduce_thread", LaunchShape{grid_blocks((rows + 255) / 256), 256, 0}, w);
  } else {
    rt.launch(prog, "theon_reduce_block", LaunchShape{grid_blocks(rows), block_threads(n), 0}, w);
  }
}

void run_reduce(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& inputs,
                std::vector<Array>& outputs) {
  const auto& op = static_cast<const Reduce&>(*node.op);
  const Array& x = inputs[0];
  const auto& axes = op.axes();
  Shape out_shape;
  int64_t n = 1;
  for (int i = 0; i < x.ndim(); ++i) {
    const bool r = std::find(axes.begin(), axes.end(), i) != axes.end();
    if (!r)
      out_shape.push_back(x.shape()[i]);
    else if (op.keepdims())
      out_shape.push_back(1);
    if (r) n *= x.shape()[i];
  }
  const ReduceKind kind = op.kind();
  const bool extreme = kind == ReduceKind::Max || kind == ReduceKind::Min;
  if (n == 0 && (is_arg(kind) || (extreme && !op.initial())))  // before allocating, as the CPU
    throw std::invalid_argument(
        "[" + op.name() +
        "] zero-size array to reduction operation which has no identity (input shape " +
        shape_str(x.shape()) + ")");
  outputs[0] = device_empty(rt, reduce_result_dtype(kind, x.dtype()), out_shape);
  reduce_into(rt, kind, axes, op.initial(), x, outputs[0], op.name());
}

// ---- ReduceToShape (autodiff's sum of a gradient over broadcast axes) ----

// The op is private to src/autodiff/core_grads.cpp: known by its name.
bool supports_reduce_to_shape(const Op& op) {
  return op.name() == "ReduceToShape";
}
bool reduce_to_shape_host_input(const Op&, int input) {
  return input == 1;
}

// Sums g over its leading axes and the axes where the target has 1, into g's
// dtype (the CPU sums in NumPy's dtype, then astype: the same conversion).
void run_reduce_to_shape(DeviceRuntime& rt, const ApplyNode&, const std::vector<Array>& inputs,
                         std::vector<Array>& outputs) {
  const Array& g = inputs[0];
  const std::vector<int64_t> target = inputs[1].to_int_vector();
  const int lead = g.ndim() - int(target.size());
  std::vector<int> axes;
  for (int i = 0; i < lead; ++i) axes.push_back(i);
  for (size_t i = 0; i < target.size(); ++i) {
    const int64_t gs = g.shape()[size_t(lead) + i];
    if (target[i] == gs) continue;
    if (target[i] != 1)
      throw std::invalid_argument("[ReduceToShape] gradient of shape " + shape_str(g.shape()) +
                                  " cannot be reduced to shape " + shape_str(target));
    axes.push_back(lead + int(i));
  }
  if (axes.empty()) {  // a view (view_map {0: 0})
    outputs[0] = g;
    return;
  }
  outputs[0] = device_empty(rt, g.dtype(), target);
  reduce_into(rt, ReduceKind::Sum, axes, std::nullopt, g, outputs[0], "ReduceToShape");
}

}  // namespace

std::vector<DeviceKernel> reduce_kernels() {
  std::vector<DeviceKernel> k{
      DeviceKernel{"reduce", supports_reduce, run_reduce},
      DeviceKernel{"reduce_to_shape", supports_reduce_to_shape, run_reduce_to_shape,
                   reduce_to_shape_host_input},
  };
  for (const DeviceKernel& e : scan_kernels()) k.push_back(e);
  return k;
}

// For tests: the CUDA C of one reduction program.
std::string reduce_program_source(ReduceKind kind, DType in) {
  return reduce_source(kind, in, reduce_result_dtype(kind, in));
}
}  // namespace theon::cuda::kernels
