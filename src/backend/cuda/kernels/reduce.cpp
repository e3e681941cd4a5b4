// Device kernels: reductions (Reduce: sum, prod, mean, max, min, all, any,
// argmax, argmin) and scans (CumOp: cumsum, cumprod).
//
// One program per (kind, input dtype, output dtype, initial or not); shapes,
// strides and axes travel as words. The input's dims are split into a kept
// walk (indexing the C-contiguous output) and a reduced walk, each merged to
// as few dims as the strides allow. Two kernels per program:
//   theon_reduce_block: one block per output element (grid-stride), threads
//     stride over the reduced elements and combine through a shared-memory
//     tree written for any blockDim;
//   theon_reduce_thread: one thread per output element walking its reduced
//     elements alone, for short reductions or when the kept dims are the
//     input's innermost (neighbouring threads then read neighbouring memory).
// Accumulators follow Reduce::perform: floats sum and multiply in double,
// integers in 64 bits with wrapping, mean in double, max/min in the input's
// type (float16/bfloat16 in float) with NaN winning, argmax/argmin take the
// first index of the extreme or of the first NaN, and `initial` takes part
// in max/min as one more element compared in double.
#include <algorithm>
#include <cstring>
#include <limits>

#include "families.h"
#include "program_sources.h"
#include "strided_words.h"
#include "theon/ops/reduce.h"
#include "theon/ops/sort.h"

namespace theon::cuda::kernels {

namespace {

// ---- Reduce ----------------------------------------------------------------

// Words: [0] in, [1] out, [2] rows, [3] n, [4] has_initial, [5] initial (double
// bits), then the kept walk (operand 0: input strides), then the reduced walk,
// then for the split kernels: chunks per row, chunk length, partials.
constexpr int kReduceHead = 6;
constexpr int kReduceSplit = kReduceHead + 2 * Walk::num_words(1);
constexpr int kReduceWords = kReduceSplit + 3;

bool is_arg(ReduceKind k) { return k == ReduceKind::ArgMax || k == ReduceKind::ArgMin; }

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
    case DType::Bool: return want_max ? "false" : "true";
    case DType::Float16:
    case DType::BFloat16:
    case DType::Float32: return want_max ? "-inf_v<float>()" : "inf_v<float>()";
    case DType::Float64: return want_max ? "-inf_v<double>()" : "inf_v<double>()";
    case DType::UInt8: return want_max ? "0" : "255";
    case DType::UInt16: return want_max ? "0" : "65535";
    case DType::UInt32: return want_max ? "0u" : "4294967295u";
    case DType::UInt64: return want_max ? "0ull" : "18446744073709551615ull";
    case DType::Int8: return want_max ? "-128" : "127";
    case DType::Int16: return want_max ? "-32768" : "32767";
    case DType::Int32: return want_max ? "(-2147483647 - 1)" : "2147483647";
    case DType::Int64: return want_max ? "(-9223372036854775807ll - 1)" : "9223372036854775807ll";
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
      finish = kind == ReduceKind::Mean ? "return cvt<TOut>(acc / (double)n);" : "return cvt<TOut>(acc);";
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
      s += std::string("__device__ __forceinline__ TC pick(TC a, TC b) { return is_nan_v(a) ? a : ((is_nan_v(b) || ") +
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
  s += "struct CombineOp { __device__ __forceinline__ TAcc operator()(TAcc a, TAcc b) const { " + combine +
       " } };\n#define COMBINE_OP CombineOp()\n";
  s += "__device__ __forceinline__ TOut finish(TAcc acc, const Args& a, long long n) {\n  " + finish + "\n}\n";
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

bool supports_reduce(const Op& op) { return dynamic_cast<const Reduce*>(&op) != nullptr; }

void run_reduce(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& inputs,
                std::vector<Array>& outputs) {
  const auto& op = static_cast<const Reduce&>(*node.op);
  const Array& x = inputs[0];
  const ReduceKind kind = op.kind();
  const auto& axes = op.axes();
  Walk kept(1), red(1);
  Shape out_shape;
  for (int i = 0; i < x.ndim(); ++i) {
    const bool r = std::find(axes.begin(), axes.end(), i) != axes.end();
    (r ? red : kept).add(x.shape()[i], {x.strides()[i]});
    if (!r) out_shape.push_back(x.shape()[i]);
    else if (op.keepdims()) out_shape.push_back(1);
  }
  const int64_t n = red.size(), rows = kept.size();
  const bool extreme = kind == ReduceKind::Max || kind == ReduceKind::Min;
  if (n == 0 && (is_arg(kind) || (extreme && !op.initial())))
    throw std::invalid_argument("[" + op.name() +
                                "] zero-size array to reduction operation which has no identity (input shape " +
                                shape_str(x.shape()) + ")");
  const DType res = reduce_result_dtype(kind, x.dtype());
  outputs[0] = device_empty(rt, res, out_shape);
  if (rows == 0) return;
  kept.merge();
  red.merge();
  const bool with_initial = extreme && op.initial().has_value();
  const std::string key = "reduce/" + std::to_string(int(kind)) + "/" + dname(x.dtype()) + "/" +
                          dname(res);
  const KernelProgram& prog = cached_program(key, [&] {
    return KernelProgram{reduce_source(kind, x.dtype(), res), {"theon_reduce_block", "theon_reduce_thread", "theon_reduce_partial", "theon_reduce_final"},
                         kReduceWords};
  });
  std::vector<int64_t> w{ptr_word(x), ptr_word(outputs[0]), rows, n, with_initial ? 1 : 0, 0};
  if (with_initial) {
    double init = *op.initial();
    std::memcpy(&w[5], &init, sizeof init);
  }
  kept.push_words(w, "Reduce");
  red.push_words(w, "Reduce");
  // Threads share one output when the reduction is long and the kept dims are
  // not the innermost ones (or there are few outputs to spread over threads).
  auto innermost = [](const Walk& wk) {
    int64_t m = std::numeric_limits<int64_t>::max();
    for (int64_t st : wk.strides[0]) m = std::min(m, st < 0 ? -st : st);
    return m;
  };
  const bool kept_inner = !kept.shape.empty() && innermost(kept) < innermost(red);
  const bool per_thread = n <= 16 || (kept_inner && rows >= 4096 && n <= 4096);
  // Few long rows: split each into chunks so that about 1024 blocks work.
  const int64_t chunks = per_thread ? 1 : std::min((n + 4095) / 4096, std::max<int64_t>(1, 1024 / rows));
  w.insert(w.end(), {chunks, (n + chunks - 1) / chunks, 0});
  if (chunks > 1) {
    std::shared_ptr<Buffer> part = rt.allocate(size_t(rows * chunks) * 16);  // 16: the largest accumulator
    w.back() = ptr_word(part->data);
    rt.launch(prog, "theon_reduce_partial", LaunchShape{grid_blocks(rows * chunks), 256, 0}, w);
    rt.launch(prog, "theon_reduce_final", LaunchShape{grid_blocks(rows), block_threads(chunks), 0}, w);
  } else if (per_thread) {
    rt.launch(prog, "theon_reduce_thread", LaunchShape{grid_blocks((rows + 255) / 256), 256, 0}, w);
  } else {
    rt.launch(prog, "theon_reduce_block", LaunchShape{grid_blocks(rows), block_threads(n), 0}, w);
  }
}

// ---- CumOp ---------------------------------------------------------------

// Words: [0] in, [1] out, [2] lines, [3] n, [4] in axis stride, [5] out axis
// stride, then the walk over the other dims (operand 0 in, 1 out).
constexpr int kCumHead = 6;
constexpr int kCumWords = kCumHead + 1 + 3 * kWalkDims;

std::string cum_source(CumKind kind, DType in, DType out) {
  std::string s = fused_prelude();
  s += walk_prelude();
  s += "struct Args { long long w[" + std::to_string(kCumWords) + "]; };\n";
  s += "typedef " + std::string(cuda_type(in)) + " TIn;\n";
  s += "typedef " + std::string(cuda_type(out)) + " TOut;\n";
  s += "typedef " + std::string(cuda_compute_type(out)) + " TC;\n";
  s += std::string("#define CUM_OP ") + (kind == CumKind::Sum ? "op_add" : "op_mul") + "\n";
  s += R"CUDA(
// One thread per line, in order: each partial result is rounded to the output
// dtype as the CPU's scan does (float16 computes in float).
extern "C" __global__ void theon_cum(const Args a) {
  const char* in = (const char*)a.w[0];
  char* out = (char*)a.w[1];
  const long long lines = a.w[2], n = a.w[3], sin = a.w[4], sout = a.w[5];
  const long long* walk = a.w + 6;
  for (long long line = (long long)blockIdx.x * blockDim.x + threadIdx.x; line < lines;
       line += (long long)gridDim.x * blockDim.x) {
    const char* p = in + walk_offset(line, walk, 0);
    char* q = out + walk_offset(line, walk, 1);
    TOut acc{};
    for (long long i = 0; i < n; ++i) {
      TOut v = cvt<TOut>(*(const TIn*)(p + i * sin));
      acc = i == 0 ? v : cvt<TOut>(CUM_OP<TC>(cvt<TC>(acc), cvt<TC>(v)));
      *(TOut*)(q + i * sout) = acc;
    }
  }
}
)CUDA";
  return s;
}

bool supports_cum(const Op& op) { return dynamic_cast<const CumOp*>(&op) != nullptr; }

// CumOp keeps its kind and axis private; its props() are "sum,<axis>" / "prod,<axis>".
void run_cum(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& inputs,
             std::vector<Array>& outputs) {
  const Op& op = *node.op;
  const std::string props = op.props();
  const CumKind kind = props.rfind("sum", 0) == 0 ? CumKind::Sum : CumKind::Prod;
  const int axis = std::stoi(props.substr(props.find(',') + 1));
  const Array& x = inputs[0];
  const DType od = reduce_result_dtype(kind == CumKind::Sum ? ReduceKind::Sum : ReduceKind::Prod, x.dtype());
  Array out = device_empty(rt, od, x.shape());
  outputs[0] = out;
  if (x.size() == 0) return;
  Walk lines(2);
  for (int i = 0; i < x.ndim(); ++i)
    if (i != axis) lines.add(x.shape()[i], {x.strides()[i], out.strides()[i]});
  lines.merge();
  const std::string key = std::string("cum/") + (kind == CumKind::Sum ? "sum/" : "prod/") +
                          dname(x.dtype()) + "/" + dname(od);
  const KernelProgram& prog = cached_program(key, [&] {
    return KernelProgram{cum_source(kind, x.dtype(), od), {"theon_cum"}, kCumWords};
  });
  const int64_t count = lines.size();
  std::vector<int64_t> w{ptr_word(x), ptr_word(out), count, x.shape()[axis], x.strides()[axis],
                         out.strides()[axis]};
  lines.push_words(w, "CumOp");
  rt.launch(prog, "theon_cum", LaunchShape{grid_blocks((count + 127) / 128), 128, 0}, w);
}

}  // namespace

std::vector<DeviceKernel> reduce_kernels() {
  return {
      DeviceKernel{"reduce", supports_reduce, run_reduce},
      DeviceKernel{"cumop", supports_cum, run_cum},
  };
}

// For tests: the CUDA C of one reduction and one scan program.
std::string reduce_program_source(ReduceKind kind, DType in) {
  return reduce_source(kind, in, reduce_result_dtype(kind, in));
}
std::string cum_program_source(bool sum, DType in) {
  const CumKind k = sum ? CumKind::Sum : CumKind::Prod;
  return cum_source(k, in, reduce_result_dtype(sum ? ReduceKind::Sum : ReduceKind::Prod, in));
}

}  // namespace theon::cuda::kernels
