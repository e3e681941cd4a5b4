// Device kernels: elemwise family (see families.h) — Elemwise, Cast and
// Composite through the NVRTC code generator (cuda_codegen.h).
//
// A single Elemwise or Cast node runs as a one-instruction Composite built as
// the fusion rewrite builds one (src/rewrite/fusion.cpp), so the scalar
// semantics live in one place: the generated CUDA C of the prelude. Programs
// are generated once per composite program and kept (cached_program). The
// contiguous kernel runs when every operand is C-contiguous with the
// output's shape; otherwise the strided one, over byte strides with dims
// merged where every operand allows it (stride 0 broadcasts). A Composite
// output that depends on only some inputs (and so may have a smaller shape)
// runs as a program of its own over its shape, as Composite::perform does;
// so does every output of a composite with more operands than one kernel
// takes (kMaxOperands).
// Comparisons of a signed with an unsigned integer, which the CPU computes
// exactly in a loop of its own (never fused), have a small kernel here.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "families.h"
#include "launch_util.h"
#include "theon/backend/cuda_codegen.h"
#include "theon/ops/composite.h"
#include "theon/ops/composite_reduce.h"

namespace theon::cuda::kernels {

using namespace kdata;

namespace {

bool supports_elemwise(const Op& op) {
  return dynamic_cast<const Elemwise*>(&op) || dynamic_cast<const Cast*>(&op) ||
         dynamic_cast<const Composite*>(&op);
}

// Composites made here (one-instruction programs, a composite's outputs of
// smaller shape), kept for the life of the process under a key of their
// program: the code generator is keyed by them too.
std::shared_ptr<const Composite> cached_composite(const std::string& key,
                                                  const std::function<ScalarProgram()>& make) {
  static std::mutex mu;
  static auto* cache = new std::map<std::string, std::shared_ptr<const Composite>>;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache->find(key);
  if (it == cache->end()) it = cache->emplace(key, std::make_shared<Composite>(make())).first;
  return it->second;
}

std::string dtypes_key(const std::vector<Array>& ins) {
  std::string s;
  for (const Array& a : ins) s += std::string(dtype_name(a.dtype())) + ",";
  return s;
}

// Launches the fused kernels of `c` over `shape`: ins broadcast to it, outs
// fresh C-contiguous arrays of that shape.
void launch_composite(DeviceRuntime& rt, const Composite& c, const std::vector<Array>& ins,
                      const std::vector<Array>& outs, const Shape& shape) {
  const int nops = int(ins.size() + outs.size());
  const KernelProgram& prog = cached_program("fused|" + c.props(), [&] {
    FusedKernelSource src = fused_kernel_source(c, "theon_fused");
    return KernelProgram{std::move(src.source),
                         {src.name + "_contig", src.name + "_strided"},
                         int(FusedArgs::size_words(nops))};
  });
  const int64_t n = shape_size(shape);
  if (n == 0) return;
  std::vector<Array> ops = ins;
  ops.insert(ops.end(), outs.begin(), outs.end());
  bool contiguous = true;
  std::vector<void*> ptrs;
  for (const Array& a : ops) {
    contiguous = contiguous && a.shape() == shape && a.is_c_contiguous();
    ptrs.push_back(a.data());
  }
  int* err = rt.error_flag();
  if (contiguous) {
    const FusedArgs args =
        pack_fused_args({n}, ptrs, std::vector<std::vector<int64_t>>(ptrs.size(), {0}), err);
    rt.launch(prog, prog.kernels[0], grid_for(rt, n), args.words);
    return;
  }
  const StridedLoop loop = strided_loop(shape, ops);
  if (loop.shape.size() > size_t(kMaxDims))
    throw std::invalid_argument("[" + c.name() + "] CUDA: at most " + std::to_string(kMaxDims) +
                                " dims that cannot be merged, got " +
                                std::to_string(loop.shape.size()) + " for shape " +
                                shape_str(shape));
  const FusedArgs args = pack_fused_args(loop.shape, ptrs, loop.strides, err);
  rt.launch(prog, prog.kernels[1], grid_for(rt, n), args.words);
}

// The program computing only output k of `c` (its inputs renumbered to the ones it reads).
ScalarProgram output_program(const Composite& c, int k, const std::vector<int>& used) {
  const ScalarProgram& p = c.program();
  const int ni = c.num_inputs();
  std::vector<int> remap(size_t(ni) + p.instrs.size(), -1);
  ScalarProgram r;
  for (int i : used) {
    remap[size_t(i)] = int(r.inputs.size());
    r.inputs.push_back(p.inputs[size_t(i)]);
  }
  // Instructions reachable from the output, in order.
  std::vector<char> needed(p.instrs.size(), 0);
  std::vector<int> stack{p.outputs[size_t(k)]};
  while (!stack.empty()) {
    const int v = stack.back();
    stack.pop_back();
    if (v < ni || needed[size_t(v - ni)]) continue;
    needed[size_t(v - ni)] = 1;
    for (int a : p.instrs[size_t(v - ni)].args) stack.push_back(a);
  }
  const int nu = int(used.size());
  for (size_t j = 0; j < p.instrs.size(); ++j) {
    if (!needed[j]) continue;
    ScalarInstr ins = p.instrs[j];
    for (int& a : ins.args) a = remap[size_t(a)];
    remap[size_t(ni) + j] = nu + int(r.instrs.size());
    r.instrs.push_back(std::move(ins));
  }
  r.outputs.push_back(remap[size_t(p.outputs[size_t(k)])]);
  return r;
}

// The inputs value v depends on, ascending.
std::vector<int> inputs_of(const Composite& c, int v) {
  const ScalarProgram& p = c.program();
  const int ni = c.num_inputs();
  std::vector<char> seen(size_t(ni) + p.instrs.size(), 0);
  std::vector<int> stack{v}, r;
  while (!stack.empty()) {
    const int u = stack.back();
    stack.pop_back();
    if (seen[size_t(u)]) continue;
    seen[size_t(u)] = 1;
    if (u < ni) continue;
    for (int a : p.instrs[size_t(u - ni)].args) stack.push_back(a);
  }
  for (int i = 0; i < ni; ++i)
    if (seen[size_t(i)]) r.push_back(i);
  return r;
}

void run_composite_node(DeviceRuntime& rt, const Composite& c, const std::vector<Array>& inputs,
                        std::vector<Array>& outputs) {
  const int ni = c.num_inputs();
  if (int(inputs.size()) != ni)
    throw std::invalid_argument("[" + c.name() + "] expected " + std::to_string(ni) +
                                " inputs, got " + std::to_string(inputs.size()));
  Shape full;
  for (int i = 0; i < ni; ++i) {
    if (inputs[size_t(i)].dtype() != c.program().inputs[size_t(i)])
      throw std::invalid_argument("[" + c.name() + "] input " + std::to_string(i) + " must be " +
                                  std::string(dtype_name(c.program().inputs[size_t(i)])) +
                                  ", got " + std::string(dtype_name(inputs[size_t(i)].dtype())));
    full = broadcast_shapes(full, inputs[size_t(i)].shape());
  }
  const size_t no = c.program().outputs.size();
  outputs.assign(no, Array());
  // Too many operands for one kernel: each output by a program of its own.
  const bool split = ni + int(no) > kMaxOperands;
  bool any_main = false;
  for (size_t k = 0; k < no; ++k) {
    const int v = c.program().outputs[k];
    const DType dt = c.value_dtype(v);
    const std::vector<int> used = inputs_of(c, v);
    Shape sk;
    for (int i : used) sk = broadcast_shapes(sk, inputs[size_t(i)].shape());
    if (sk == full && !split) {
      outputs[k] = device_empty(rt, dt, full);
      any_main = true;
      continue;
    }
    outputs[k] = device_empty(rt, dt, sk);
    if (v < ni) {  // an input returned as is
      device_assign(outputs[k], inputs[size_t(v)]);
      continue;
    }
    auto sub = cached_composite("out" + std::to_string(k) + "|" + c.props(),
                                [&] { return output_program(c, int(k), used); });
    std::vector<Array> sub_in;
    for (int i : used) sub_in.push_back(inputs[size_t(i)]);
    launch_composite(rt, *sub, sub_in, {outputs[k]}, sk);
  }
  if (!any_main) return;
  if (std::all_of(outputs.begin(), outputs.end(),
                  [&](const Array& o) { return o.shape() == full; })) {
    launch_composite(rt, c, inputs, outputs, full);
    return;
  }
  // Some outputs were computed above: the main pass writes the others, and
  // scratch arrays stand in for those (the generated kernel stores every output).
  std::vector<Array> outs;
  for (size_t k = 0; k < no; ++k)
    outs.push_back(outputs[k].shape() == full ? outputs[k]
                                              : device_empty(rt, outputs[k].dtype(), full));
  launch_composite(rt, c, inputs, outs, full);
}

// ---- exact comparisons of signed with unsigned integers ----

const char* kExactCmpSource = R"CUDA(
struct Args { long long w[41]; };
// w: [0] n  [1] nd  [2..10) shape  [10] op  [11] a  [12] a dtype  [13] a signed
//    [14] b  [15] b dtype  [16] out  [17..25) a strides  [25..33) b strides  [33..41) out strides
__device__ __forceinline__ int theon_cmp3(i64 a, bool as, i64 b, bool bs) {
  if (as && !bs) return a < 0 || (u64)a < (u64)b ? -1 : (int)((u64)a > (u64)b);
  if (!as && bs) return b < 0 || (u64)b < (u64)a ? 1 : -(int)((u64)b > (u64)a);
  return a < b ? -1 : (int)(a > b);
}
extern "C" __global__ void theon_exact_cmp(const Args a) {
  const i64 n = a.w[0];
  const int nd = (int)a.w[1], op = (int)a.w[10];
  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * blockDim.x) {
    i64 r = i, oa = 0, ob = 0, oo = 0;
    for (int d = nd - 1; d >= 0; --d) {
      const i64 len = a.w[2 + d], ix = r % len;
      r /= len;
      oa += ix * a.w[17 + d];
      ob += ix * a.w[25 + d];
      oo += ix * a.w[33 + d];
    }
    const i64 x = theon_load_int((const char*)a.w[11] + oa, (int)a.w[12]);
    const i64 y = theon_load_int((const char*)a.w[14] + ob, (int)a.w[15]);
    const int c = theon_cmp3(x, a.w[13] != 0, y, a.w[13] == 0);
    bool v = false;
    switch (op) {
      case 0: v = c == 0; break;
      case 1: v = c != 0; break;
      case 2: v = c < 0; break;
      case 3: v = c <= 0; break;
      case 4: v = c > 0; break;
      default: v = c >= 0; break;
    }
    *(bool*)((char*)a.w[16] + oo) = v;
  }
}
)CUDA";

void run_exact_cmp(DeviceRuntime& rt, ScalarOpId id, const std::vector<Array>& in,
                   std::vector<Array>& out) {
  const KernelProgram& prog = exact_cmp_program();
  const Shape shape = broadcast_shapes(in[0].shape(), in[1].shape());
  out.assign(1, device_empty(rt, DType::Bool, shape));
  const int64_t n = shape_size(shape);
  if (n == 0) return;
  const StridedLoop loop = strided_loop(shape, {in[0], in[1], out[0]});
  if (loop.shape.size() > 8)
    throw std::invalid_argument("[Elemwise] CUDA: at most 8 dims that cannot be merged");
  int op = 0;
  switch (id) {
    case ScalarOpId::eq:
      op = 0;
      break;
    case ScalarOpId::neq:
      op = 1;
      break;
    case ScalarOpId::lt:
      op = 2;
      break;
    case ScalarOpId::le:
      op = 3;
      break;
    case ScalarOpId::gt:
      op = 4;
      break;
    default:
      op = 5;
      break;
  }
  std::vector<int64_t> w(41, 0);
  w[0] = n;
  w[1] = int64_t(loop.shape.size());
  for (size_t d = 0; d < loop.shape.size(); ++d) {
    w[2 + d] = loop.shape[d];
    w[17 + d] = loop.strides[0][d];
    w[25 + d] = loop.strides[1][d];
    w[33 + d] = loop.strides[2][d];
  }
  w[10] = op;
  w[11] = word(in[0].data());
  w[12] = int(in[0].dtype());
  w[13] = dtype_kind(in[0].dtype()) == DKind::Int;
  w[14] = word(in[1].data());
  w[15] = int(in[1].dtype());
  w[16] = word(out[0].data());
  rt.launch(prog, "theon_exact_cmp", grid_for(rt, n), w);
}

void run_scalar_op(DeviceRuntime& rt, ScalarOpId id, const std::vector<Array>& inputs,
                   std::vector<Array>& outputs) {
  std::vector<DType> ds;
  for (const Array& a : inputs) ds.push_back(a.dtype());
  if (elemwise_is_exact_int_cmp(id, ds)) return run_exact_cmp(rt, id, inputs, outputs);
  auto c = cached_composite(
      "elemwise|" + std::string(scalar_op_info(id).name) + "|" + dtypes_key(inputs), [&] {
        ScalarProgram p;
        p.inputs = ds;
        ScalarInstr ins;
        ins.op = id;
        for (int i = 0; i < int(ds.size()); ++i) ins.args.push_back(i);
        p.instrs.push_back(ins);
        p.outputs = {int(ds.size())};
        return p;
      });
  run_composite_node(rt, *c, inputs, outputs);
}

void run_elemwise(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& inputs,
                  std::vector<Array>& outputs) {
  const Op& op = *node.op;
  if (const auto* c = dynamic_cast<const Composite*>(&op))
    return run_composite_node(rt, *c, inputs, outputs);
  std::vector<DType> ds;
  for (const Array& a : inputs) ds.push_back(a.dtype());
  std::shared_ptr<const Composite> c;
  if (const auto* cast = dynamic_cast<const Cast*>(&op)) {
    if (inputs.size() != 1)
      throw std::invalid_argument("[" + op.name() + "] expected 1 input, got " +
                                  std::to_string(inputs.size()));
    c = cached_composite("cast|" + dtypes_key(inputs) + std::string(dtype_name(cast->to())), [&] {
      ScalarProgram p;
      p.inputs = ds;
      ScalarInstr ins;
      ins.is_cast = true;
      ins.to = cast->to();
      ins.args = {0};
      p.instrs.push_back(ins);
      p.outputs = {1};
      return p;
    });
  } else {
    return run_scalar_op(rt, static_cast<const Elemwise&>(op).scalar_op(), inputs, outputs);
  }
  run_composite_node(rt, *c, inputs, outputs);
}

// ---- CompositeReduce: the composite, then the reduction's own device kernel ----

bool supports_composite_reduce(const Op& op) {
  const auto* cr = dynamic_cast<const CompositeReduce*>(&op);
  return cr && find_device_kernel(cr->reduce()) != nullptr;
}

void run_composite_reduce(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                          std::vector<Array>& out) {
  const auto& cr = static_cast<const CompositeReduce&>(*node.op);
  std::vector<Array> mid;
  run_composite_node(rt, cr.composite(), in, mid);
  const DeviceKernel* k = find_device_kernel(cr.reduce());
  if (!k)
    throw std::invalid_argument("[" + cr.name() + "] CUDA: no device kernel for " +
                                cr.reduce().name());
  // The reduction as a node of its own over the intermediate's type.
  const Var x = tensor(mid[0].dtype(), mid[0].shape());
  const Var r = theon::apply1(std::make_shared<Reduce>(cr.reduce()), {x});
  k->run(rt, *r.owner(), mid, out);
}

}  // namespace

const KernelProgram& kdata::exact_cmp_program() {
  return cached_program("exact_cmp", [] {
    return KernelProgram{std::string(fused_prelude()) + dtype_switch_source() + kExactCmpSource,
                         {"theon_exact_cmp"},
                         41};
  });
}

std::vector<DeviceKernel> elemwise_kernels() {
  return {{"elemwise", supports_elemwise, run_elemwise, nullptr},
          {"composite_reduce", supports_composite_reduce, run_composite_reduce, nullptr}};
}

}  // namespace theon::cuda::kernels
