// CUDA C for a Composite's scalar program (see cuda_codegen.h).
//
// Each program value becomes a local of its dtype's storage type; each
// instruction converts its operands to the kernel dtype exactly where the
// CPU's Composite does (so float16 chains round after every instruction, as
// the unfused graph does), calls the prelude's op_<name>, and converts the
// result to the value's dtype. Generation needs no CUDA toolkit.
#include <stdexcept>

#include "theon/backend/cuda_codegen.h"

namespace theon::cuda {

namespace {

[[noreturn]] void bad(const std::string& msg) {
  throw std::invalid_argument("[Composite] CUDA: " + msg);
}

// The kernel-side storage type of each dtype (the prelude's typedefs).
const char* ctype(DType d) {
  switch (d) {
    case DType::Bool:
      return "bool";
    case DType::Int8:
      return "i8";
    case DType::Int16:
      return "i16";
    case DType::Int32:
      return "i32";
    case DType::Int64:
      return "i64";
    case DType::UInt8:
      return "u8";
    case DType::UInt16:
      return "u16";
    case DType::UInt32:
      return "u32";
    case DType::UInt64:
      return "u64";
    case DType::Float16:
      return "f16";
    case DType::BFloat16:
      return "bf16";
    case DType::Float32:
      return "float";
    case DType::Float64:
      return "double";
  }
  throw std::logic_error("ctype: invalid dtype");
}

std::string cvt(DType from, DType to, const std::string& e) {
  if (from == to) return e;
  return std::string("cvt<") + ctype(to) + ">(" + e + ")";
}

std::string val(int v) {
  return "v" + std::to_string(v);
}

// The body: loads the inputs at q0.., runs the program, stores the outputs.
std::string body(const Composite& c) {
  const ScalarProgram& prog = c.program();
  const int ni = c.num_inputs();
  const int no = int(prog.outputs.size());
  std::string s = "__device__ __forceinline__ void theon_body(";
  for (int k = 0; k < ni + no; ++k)
    s +=
        (k < ni ? "const char* __restrict__ q" : "char* __restrict__ q") + std::to_string(k) + ", ";
  s += "int* err) {\n  (void)err;\n";
  for (int i = 0; i < ni; ++i) {
    const char* t = ctype(prog.inputs[size_t(i)]);
    s += "  const " + std::string(t) + " " + val(i) + " = *reinterpret_cast<const " + t + "*>(q" +
         std::to_string(i) + ");\n";
  }
  for (size_t j = 0; j < prog.instrs.size(); ++j) {
    const ScalarInstr& ins = prog.instrs[j];
    const int self = ni + int(j);
    const DType dt = c.value_dtype(self);
    std::string e;
    if (ins.is_cast) {
      e = cvt(c.value_dtype(ins.args[0]), dt, val(ins.args[0]));
    } else {
      const ScalarOpInfo& info = scalar_op_info(ins.op);
      std::vector<DType> ds;
      for (int a : ins.args) ds.push_back(c.value_dtype(a));
      const DType k = elemwise_kernel_dtype(ins.op, ds);
      const bool where = info.rule == TypeRule::WHERE;
      e = std::string("op_") + info.name + "<" + ctype(k) + ">(";
      for (size_t q = 0; q < ins.args.size(); ++q) {
        const DType want = (where && q == 0) ? DType::Bool : k;
        std::string a = cvt(ds[q], want, val(ins.args[q]));
        if (where && q == 0) a = cvt(DType::Bool, k, a);  // the condition goes through bool
        e += (q ? ", " : "") + a;
      }
      if (ins.op == ScalarOpId::pow) e += ", err";
      e += ")";
      const DType kout =
          (info.rule == TypeRule::CMP || info.rule == TypeRule::PRED) ? DType::Bool : k;
      e = cvt(kout, dt, e);
    }
    s += "  const " + std::string(ctype(dt)) + " " + val(self) + " = " + e + ";\n";
  }
  for (int o = 0; o < no; ++o) {
    const int v = prog.outputs[size_t(o)];
    s += "  *reinterpret_cast<" + std::string(ctype(c.value_dtype(v))) + "*>(q" +
         std::to_string(ni + o) + ") = " + val(v) + ";\n";
  }
  return s + "}\n";
}

}  // namespace

std::string kernel_error_message(int code) {
  switch (code) {
    case int(KernelError::none):
      return "";
    case int(KernelError::negative_int_power):
      return "Integers to negative integer powers are not allowed.";
    case int(KernelError::index_out_of_bounds):
      return "index is out of bounds for the axis it indexes";
    default:
      return "unknown CUDA kernel error " + std::to_string(code);
  }
}

void throw_kernel_error(int code, const std::string& suffix) {
  if (code == int(KernelError::index_out_of_bounds))
    throw std::out_of_range(kernel_error_message(code) + suffix);
  throw std::invalid_argument(kernel_error_message(code) + suffix);
}

FusedKernelSource fused_kernel_source(const Composite& c, const std::string& name) {
  const ScalarProgram& prog = c.program();
  FusedKernelSource out;
  out.name = name;
  out.num_inputs = c.num_inputs();
  out.num_outputs = int(prog.outputs.size());
  const int nops = out.num_inputs + out.num_outputs;
  if (nops > kMaxOperands)
    bad("a fused kernel takes at most " + std::to_string(kMaxOperands) +
        " inputs and outputs, got " + std::to_string(nops));
  const size_t words = FusedArgs::size_words(nops);
  const int ptr0 = 3 + kMaxDims;  // first data pointer
  const int str0 = ptr0 + nops;   // first stride
  std::string s = fused_prelude();
  s += "// program: " + c.props() + "\n";
  s += "struct Args { long long w[" + std::to_string(words) + "]; };\n";
  s += body(c);
  auto call = [&](auto&& at) {
    std::string r = "    theon_body(";
    for (int k = 0; k < nops; ++k)
      r += std::string(k < out.num_inputs ? "(const char*)" : "") + at(k) + ", ";
    return r + "err);\n";
  };
  auto ptr = [&](int k) { return "(char*)a.w[" + std::to_string(ptr0 + k) + "]"; };
  const std::string loop =
      "  const i64 n = a.w[0];\n"
      "  int* err = (int*)a.w[" +
      std::to_string(2 + kMaxDims) +
      "];\n"
      "  for (i64 i = blockIdx.x * (i64)blockDim.x + threadIdx.x; i < n; i += (i64)gridDim.x * "
      "blockDim.x) {\n";
  // Contiguous: element i of every operand is at i * itemsize.
  s += "extern \"C\" __global__ void " + out.name + "_contig(const Args a) {\n" + loop;
  s += call([&](int k) {
    const DType d = k < out.num_inputs ? prog.inputs[size_t(k)]
                                       : c.value_dtype(prog.outputs[size_t(k - out.num_inputs)]);
    return ptr(k) + " + i * " + std::to_string(itemsize(d));
  });
  s += "  }\n}\n";
  // Strided: the row-major index of i, dot each operand's byte strides.
  s += "extern \"C\" __global__ void " + out.name + "_strided(const Args a) {\n" + loop;
  s += "    const int nd = (int)a.w[1];\n    i64 r = i;\n";
  for (int k = 0; k < nops; ++k) s += "    i64 o" + std::to_string(k) + " = 0;\n";
  s += "    for (int d = nd - 1; d >= 0; --d) {\n      const i64 len = a.w[2 + d], ix = r % len;\n "
       "     r /= len;\n";
  for (int k = 0; k < nops; ++k)
    s += "      o" + std::to_string(k) + " += ix * a.w[" + std::to_string(str0 + k * kMaxDims) +
         " + d];\n";
  s += "    }\n";
  s += call([&](int k) { return ptr(k) + " + o" + std::to_string(k); });
  s += "  }\n}\n";
  out.source = std::move(s);
  return out;
}

FusedArgs pack_fused_args(const std::vector<int64_t>& shape, const std::vector<void*>& ptrs,
                          const std::vector<std::vector<int64_t>>& strides, int* error_flag) {
  if (shape.size() > size_t(kMaxDims))
    throw std::invalid_argument("[Composite] CUDA: at most " + std::to_string(kMaxDims) +
                                " dims, got " + std::to_string(shape.size()));
  if (strides.size() != ptrs.size() || ptrs.size() > size_t(kMaxOperands))
    throw std::invalid_argument("[Composite] CUDA: one stride vector per operand expected");
  const int nops = int(ptrs.size());
  FusedArgs a;
  a.words.assign(FusedArgs::size_words(nops), 0);
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  a.words[0] = n;
  a.words[1] = int64_t(shape.size());
  for (size_t d = 0; d < shape.size(); ++d) a.words[2 + d] = shape[d];
  a.words[2 + kMaxDims] = int64_t(reinterpret_cast<intptr_t>(error_flag));
  for (int k = 0; k < nops; ++k) {
    if (strides[size_t(k)].size() != shape.size())
      throw std::invalid_argument("[Composite] CUDA: operand " + std::to_string(k) + " has " +
                                  std::to_string(strides[size_t(k)].size()) + " strides for " +
                                  std::to_string(shape.size()) + " dims");
    a.words[size_t(3 + kMaxDims + k)] = int64_t(reinterpret_cast<intptr_t>(ptrs[size_t(k)]));
    for (size_t d = 0; d < shape.size(); ++d)
      a.words[size_t(3 + kMaxDims + nops + k * kMaxDims) + d] = strides[size_t(k)][d];
  }
  return a;
}

}  // namespace theon::cuda
