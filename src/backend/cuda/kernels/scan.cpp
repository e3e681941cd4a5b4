// Device kernels: CumOp (cumsum, cumprod along an axis), part of the reduce
// family's entries (reduce_kernels()). One thread per line walks it in order,
// rounding each partial result to the output dtype as the CPU's scan does
// (NumPy's dtypes: small integers and bool widen to int64, float16 computes
// in float); lines are the other dims as a merged walk, so any layout works.
#include <string>

#include "reduce_family.h"
#include "strided_words.h"
#include "theon/ops/sort.h"

namespace theon::cuda::kernels {

namespace {

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

bool supports_cum(const Op& op) {
  return dynamic_cast<const CumOp*>(&op) != nullptr;
}

// CumOp keeps its kind and axis private; its props() are "sum,<axis>" / "prod,<axis>".
void run_cum(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& inputs,
             std::vector<Array>& outputs) {
  const Op& op = *node.op;
  const std::string props = op.props();
  const CumKind kind = props.rfind("sum", 0) == 0 ? CumKind::Sum : CumKind::Prod;
  const int axis = std::stoi(props.substr(props.find(',') + 1));
  const Array& x = inputs[0];
  const DType od =
      reduce_result_dtype(kind == CumKind::Sum ? ReduceKind::Sum : ReduceKind::Prod, x.dtype());
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
  std::vector<int64_t> w{ptr_word(x),     ptr_word(out),     count,
                         x.shape()[axis], x.strides()[axis], out.strides()[axis]};
  lines.push_words(w, "CumOp");
  rt.launch(prog, "theon_cum", LaunchShape{grid_blocks((count + 127) / 128), 128, 0}, w);
}

}  // namespace

std::vector<DeviceKernel> scan_kernels() {
  return {DeviceKernel{"cumop", supports_cum, run_cum}};
}

std::string cum_program_source(bool sum, DType in) {
  const CumKind k = sum ? CumKind::Sum : CumKind::Prod;
  return cum_source(k, in, reduce_result_dtype(sum ? ReduceKind::Sum : ReduceKind::Prod, in));
}

}  // namespace theon::cuda::kernels
