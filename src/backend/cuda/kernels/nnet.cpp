// Device kernels: the nnet family — Softmax / LogSoftmax along any axis, the
// one-hot categorical cross-entropy and its gradient op, and the fused
// SoftmaxCrossentropy1Hot and its gradient op (theon/ops/nnet.h, nnet_fused.h).
//
// Row-wise ops run one block per row (grid-stride), threads striding over the
// row and combining through block_reduce (any blockDim); the gradient ops are
// elementwise over the output. The arithmetic is perform()'s: softmax in
// float (double for float64 and integer inputs) with the max subtracted and
// the sum of exponentials in double; the cross-entropies in double, rounded
// once to the output dtype. A class index out of range sets the kernel error
// flag (kClassIndexError) where the CPU throws std::out_of_range.
#include "theon/ops/nnet.h"

#include "families.h"
#include "reduce_family.h"
#include "strided_words.h"
#include "theon/ops/nnet_fused.h"

namespace theon::cuda::kernels {

// The KernelError code of a class index outside [0, classes): the indexing
// kernels' KernelError::index_out_of_bounds (2), whose message fits it.
inline constexpr int kClassIndexError = 2;

namespace {

std::string header(int words, const std::vector<std::pair<std::string, DType>>& types,
                   const char* compute) {
  std::string s = fused_prelude();
  s += walk_prelude();
  s += "struct Args { long long w[" + std::to_string(words) + "]; };\n";
  for (const auto& [name, dt] : types)
    s += "typedef " + std::string(cuda_type(dt)) + " " + name + ";\n";
  s += "typedef " + std::string(compute) + " TC;\n";
  s += "#define CLASS_INDEX_ERROR " + std::to_string(kClassIndexError) + "\n";
  return s;
}

// ---- Softmax / LogSoftmax ----
// Words: [0] in, [1] out, [2] rows, [3] n, [4] in axis stride, [5] out axis
// stride, then the walk over the other dims (operand 0 in, 1 out).
constexpr int kSoftmaxWords = 6 + Walk::num_words(2);

std::string softmax_source(DType in, DType out, bool log) {
  const char* compute = out == DType::Float64 ? "double" : "float";
  std::string s = header(kSoftmaxWords, {{"TIn", in}, {"TOut", out}}, compute);
  s += log ? "#define LOG_SOFTMAX 1\n" : "#define LOG_SOFTMAX 0\n";
  s += R"CUDA(
__device__ __forceinline__ TC ld(const char* p, long long off) { return cvt<TC>(*(const TIn*)(p + off)); }
extern "C" __global__ void theon_softmax(const Args a) {
  const char* in = (const char*)a.w[0];
  char* out = (char*)a.w[1];
  const long long rows = a.w[2], n = a.w[3], sin = a.w[4], sout = a.w[5];
  const long long* walk = a.w + 6;
  __shared__ TC shm[1024];
  __shared__ double shs[1024];
  for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
    const char* p = in + walk_offset(row, walk, 0);
    char* q = out + walk_offset(row, walk, 1);
    TC m = -inf_v<TC>();
    for (long long j = threadIdx.x; j < n; j += blockDim.x) m = MaxNan()(m, ld(p, j * sin));
    m = block_reduce(m, shm, MaxNan());
    double s = 0;
    for (long long j = threadIdx.x; j < n; j += blockDim.x) s += (double)(TC)exp(ld(p, j * sin) - m);
    s = block_reduce(s, shs, AddOp());
#if LOG_SOFTMAX
    const TC ls = (TC)log(s);
    for (long long j = threadIdx.x; j < n; j += blockDim.x) *(TOut*)(q + j * sout) = cvt<TOut>(TC(ld(p, j * sin) - m) - ls);
#else
    const TC inv = (TC)(1.0 / s);
    for (long long j = threadIdx.x; j < n; j += blockDim.x)
      *(TOut*)(q + j * sout) = cvt<TOut>(TC((TC)exp(ld(p, j * sin) - m) * inv));
#endif
  }
}
)CUDA";
  return s;
}

bool supports_softmax(const Op& op) {
  return dynamic_cast<const Softmax*>(&op) != nullptr;
}

void run_softmax(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& inputs,
                 std::vector<Array>& outputs) {
  const auto& op = static_cast<const Softmax&>(*node.op);
  const Array& x = inputs[0];
  const int axis = op.axis();
  if (axis >= x.ndim())
    throw std::invalid_argument("[" + op.name() + "] axis is out of bounds for input of shape " +
                                shape_str(x.shape()));
  const DType od = nnet_float_dtype(x.dtype());
  Array out = device_empty(rt, od, x.shape());
  outputs[0] = out;
  if (x.size() == 0) return;
  Walk rows(2);
  for (int i = 0; i < x.ndim(); ++i)
    if (i != axis) rows.add(x.shape()[i], {x.strides()[i], out.strides()[i]});
  rows.merge();
  const bool log = op.is_log();
  const std::string key = std::string(log ? "log_softmax/" : "softmax/") + dname(x.dtype());
  const KernelProgram& prog = cached_program(key, [&] {
    return KernelProgram{softmax_source(x.dtype(), od, log), {"theon_softmax"}, kSoftmaxWords};
  });
  const int64_t n = x.shape()[axis], count = rows.size();
  std::vector<int64_t> w{ptr_word(x), ptr_word(out),     count,
                         n,           x.strides()[axis], out.strides()[axis]};
  rows.push_words(w, op.name().c_str());
  rt.launch(prog, "theon_softmax", LaunchShape{grid_blocks(count), block_threads(n), 0}, w);
}

// ---- the one-hot cross-entropies ----
// Every program's words: [0] values (coding / z / sm), [1] indices, [2] g (or 0),
// [3] out, [4] rows, [5] classes, [6] class stride of the values, [7] error
// flag, [8] negative indices wrap, then the walk over the leading dims
// (operand 0 values, 1 indices, 2 g).
constexpr int kXentWords = 9 + Walk::num_words(3);

const char* kXentCommon = R"CUDA(
#define WALK (a.w + 9)
// The class of a row, or -1 (flag set) when out of range.
__device__ __forceinline__ long long class_of(const Args& a, long long row) {
  const long long k = a.w[5];
  long long v = (long long)*(const TY*)((const char*)a.w[1] + walk_offset(row, WALK, 1));
  if (a.w[8] && v < 0) v += k;
  if (v < 0 || v >= k) { raise_error((int*)a.w[7], CLASS_INDEX_ERROR); return -1; }
  return v;
}
__device__ __forceinline__ double value_at(const Args& a, long long row, long long j) {
  return cvt<double>(*(const TV*)((const char*)a.w[0] + walk_offset(row, WALK, 0) + j * a.w[6]));
}
__device__ __forceinline__ double g_at(const Args& a, long long row) {
  return cvt<double>(*(const TG*)((const char*)a.w[2] + walk_offset(row, WALK, 2)));
}
)CUDA";

// -log(coding[row, y]) per row (one thread each).
const char* kXentBody = R"CUDA(
extern "C" __global__ void theon_xent(const Args a) {
  TOut* out = (TOut*)a.w[3];
  for (long long row = (long long)blockIdx.x * blockDim.x + threadIdx.x; row < a.w[4];
       row += (long long)gridDim.x * blockDim.x) {
    const long long c = class_of(a, row);
    out[row] = c < 0 ? cvt<TOut>(nan_v<double>()) : cvt<TOut>(-log(value_at(a, row, c)));
  }
}
)CUDA";

// -gz / coding at the indexed class, 0 elsewhere (one thread per output element).
const char* kXentGradBody = R"CUDA(
extern "C" __global__ void theon_xent_grad(const Args a) {
  TOut* out = (TOut*)a.w[3];
  const long long k = a.w[5], total = a.w[4] * k;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total;
       e += (long long)gridDim.x * blockDim.x) {
    const long long row = e / k, j = e - row * k;
    const long long c = class_of(a, row);
    out[e] = cvt<TOut>(j == c ? -g_at(a, row) / value_at(a, row, j) : 0.0);
  }
}
)CUDA";

// log(sum(exp(z - m))) - (z[y] - m) per row (one block each).
const char* kSoftmaxXentBody = R"CUDA(
extern "C" __global__ void theon_softmax_xent(const Args a) {
  TOut* out = (TOut*)a.w[3];
  const long long rows = a.w[4], k = a.w[5];
  __shared__ double sh[1024];
  for (long long row = blockIdx.x; row < rows; row += gridDim.x) {
    double m = -inf_v<double>();
    for (long long j = threadIdx.x; j < k; j += blockDim.x) m = MaxNan()(m, value_at(a, row, j));
    m = block_reduce(m, sh, MaxNan());
    double s = 0;
    for (long long j = threadIdx.x; j < k; j += blockDim.x) s += exp(value_at(a, row, j) - m);
    s = block_reduce(s, sh, AddOp());
    if (threadIdx.x == 0) {
      const long long c = class_of(a, row);
      out[row] = c < 0 ? cvt<TOut>(nan_v<double>()) : cvt<TOut>(log(s) - (value_at(a, row, c) - m));
    }
  }
}
)CUDA";

// sm * g, minus g at the indexed class (one thread per output element).
const char* kSoftmaxXentGradBody = R"CUDA(
extern "C" __global__ void theon_softmax_xent_grad(const Args a) {
  TOut* out = (TOut*)a.w[3];
  const long long k = a.w[5], total = a.w[4] * k;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total;
       e += (long long)gridDim.x * blockDim.x) {
    const long long row = e / k, j = e - row * k;
    const long long c = class_of(a, row);
    const double g = g_at(a, row);
    double v = value_at(a, row, j) * g;
    if (j == c) v -= g;
    out[e] = cvt<TOut>(v);
  }
}
)CUDA";

enum class Xent { OneHot, OneHotGrad, Softmax, SoftmaxGrad };

const char* xent_kernel(Xent x) {
  switch (x) {
    case Xent::OneHot:
      return "theon_xent";
    case Xent::OneHotGrad:
      return "theon_xent_grad";
    case Xent::Softmax:
      return "theon_softmax_xent";
    case Xent::SoftmaxGrad:
      return "theon_softmax_xent_grad";
  }
  return "";
}

std::string xent_source(Xent x, DType v, DType y, DType g, DType out) {
  std::string s = header(kXentWords, {{"TV", v}, {"TY", y}, {"TG", g}, {"TOut", out}}, "double");
  s += kXentCommon;
  switch (x) {
    case Xent::OneHot:
      s += kXentBody;
      break;
    case Xent::OneHotGrad:
      s += kXentGradBody;
      break;
    case Xent::Softmax:
      s += kSoftmaxXentBody;
      break;
    case Xent::SoftmaxGrad:
      s += kSoftmaxXentGradBody;
      break;
  }
  return s;
}

template <class OpT>
bool supports_xent(const Op& op) {
  return dynamic_cast<const OpT*>(&op) != nullptr;
}

// Inputs by op: OneHot (coding, y); OneHotGrad (gz, coding, y); Softmax (z, y);
// SoftmaxGrad (g, sm, y).
template <Xent X>
void run_xent(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& inputs,
              std::vector<Array>& outputs) {
  const bool grad = X == Xent::OneHotGrad || X == Xent::SoftmaxGrad;
  const Array& vals = grad ? inputs[1] : inputs[0];
  const Array& idx = grad ? inputs[2] : inputs[1];
  const Array* g = grad ? &inputs[0] : nullptr;
  const std::string who = node.op->name();
  if (vals.ndim() < 1)
    throw std::invalid_argument("[" + who + "] expected at least 1 dimension, got shape " +
                                shape_str(vals.shape()));
  const Shape lead(vals.shape().begin(), vals.shape().end() - 1);
  if (idx.shape() != lead || (g && g->shape() != lead))
    throw std::invalid_argument("[" + who + "] input of shape " + shape_str(vals.shape()) +
                                " needs class indices" + (g ? " and g" : "") + " of shape " +
                                shape_str(lead) + ", got " + shape_str(idx.shape()) +
                                (g ? " and " + shape_str(g->shape()) : ""));
  bool wraps = false;
  if constexpr (X == Xent::Softmax)
    wraps = static_cast<const SoftmaxCrossentropy1Hot&>(*node.op).negative_wraps();
  if constexpr (X == Xent::SoftmaxGrad)
    wraps = static_cast<const SoftmaxCrossentropy1HotGrad&>(*node.op).negative_wraps();
  const DType od = grad ? vals.dtype() : nnet_float_dtype(vals.dtype());
  Array out = device_empty(rt, od, grad ? vals.shape() : lead);
  outputs[0] = out;
  const int64_t rows = shape_size(lead), k = vals.shape().back();
  if (rows == 0) return;
  if (k == 0) throw std::out_of_range("[" + who + "] class indices are out of range for 0 classes");
  Walk walk(3);
  for (size_t i = 0; i < lead.size(); ++i)
    walk.add(lead[i], {vals.strides()[i], idx.strides()[i], g ? g->strides()[i] : 0});
  walk.merge();
  const DType gd = g ? g->dtype() : DType::Float64;
  const std::string key = std::string("xent/") + std::to_string(int(X)) + "/" +
                          dname(vals.dtype()) + "/" + dname(idx.dtype()) + "/" + dname(gd);
  const KernelProgram& prog = cached_program(key, [&] {
    return KernelProgram{
        xent_source(X, vals.dtype(), idx.dtype(), gd, od), {xent_kernel(X)}, kXentWords};
  });
  std::vector<int64_t> w{ptr_word(vals),
                         ptr_word(idx),
                         g ? ptr_word(*g) : 0,
                         ptr_word(out),
                         rows,
                         k,
                         vals.strides().back(),
                         ptr_word(rt.error_flag()),
                         wraps ? 1 : 0};
  walk.push_words(w, who.c_str());
  LaunchShape shape;
  if (X == Xent::Softmax)
    shape = LaunchShape{grid_blocks(rows), block_threads(k), 0};
  else if (X == Xent::OneHot)
    shape = LaunchShape{grid_blocks((rows + 255) / 256), 256, 0};
  else
    shape = LaunchShape{grid_blocks((rows * k + 255) / 256), 256, 0};
  rt.launch(prog, xent_kernel(X), shape, w);
}

}  // namespace

std::vector<DeviceKernel> nnet_kernels() {
  return {
      DeviceKernel{"softmax", supports_softmax, run_softmax},
      DeviceKernel{"crossentropy_1hot", supports_xent<CrossentropyCategorical1Hot>,
                   run_xent<Xent::OneHot>},
      DeviceKernel{"crossentropy_1hot_grad", supports_xent<CrossentropyCategorical1HotGrad>,
                   run_xent<Xent::OneHotGrad>},
      DeviceKernel{"softmax_crossentropy_1hot", supports_xent<SoftmaxCrossentropy1Hot>,
                   run_xent<Xent::Softmax>},
      DeviceKernel{"softmax_crossentropy_1hot_grad", supports_xent<SoftmaxCrossentropy1HotGrad>,
                   run_xent<Xent::SoftmaxGrad>},
  };
}

std::string nnet_program_source(const std::string& which, DType in) {
  const DType od = nnet_float_dtype(in);
  if (which == "softmax" || which == "log_softmax")
    return softmax_source(in, od, which == "log_softmax");
  if (which == "xent_1hot") return xent_source(Xent::OneHot, in, DType::Int64, DType::Float64, od);
  if (which == "xent_1hot_grad") return xent_source(Xent::OneHotGrad, in, DType::Int64, in, in);
  if (which == "softmax_xent_1hot")
    return xent_source(Xent::Softmax, in, DType::Int64, DType::Float64, od);
  if (which == "softmax_xent_1hot_grad")
    return xent_source(Xent::SoftmaxGrad, in, DType::Int64, in, in);
  throw std::invalid_argument("nnet_program_source: unknown program " + which);
}

}  // namespace theon::cuda::kernels
