// Composite: a fused elementwise op interpreting a scalar program block by block.
//
// Every instruction replays one unfused node exactly as Elemwise / Cast run it
// (elemwise_eval): operands converted to the kernel dtype (a switch_ condition
// through bool first), Elemwise's own scalar loop (detail::elemwise_run_1d),
// the kernel's result converted to the node's dtype. The values of a block of
// the broadcast output live in scratch buffers that are reused once their
// last reader has run, so a long chain needs a handful of buffers, not one
// full-size array per node. Large outputs are split across the thread pool,
// each chunk with scratch of its own (elements are independent, so the split
// changes no bit); small ones run on the calling thread.
#include "theon/ops/composite.h"
#include "theon/runtime/profiling.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "theon/ops/shape.h"
#include "theon/runtime/strided.h"
#include "theon/runtime/thread_pool.h"

namespace theon {

namespace {

constexpr int64_t kBlock = 1024;          // elements per block
constexpr size_t kMaxText = 2000;         // longest program shown by name()
constexpr int kTemps = 5;                 // conversion buffers: 3 operands, a condition, a result
// Outputs longer than this are split across the thread pool in chunks of this many elements.
constexpr int64_t kParallelGrain = 32 * kBlock;

[[noreturn]] void bad(const std::string& msg) { throw std::invalid_argument("[Composite] " + msg); }

bool is_cmp_or_pred(ScalarOpId id) {
  TypeRule r = scalar_op_info(id).rule;
  return r == TypeRule::CMP || r == TypeRule::PRED;
}

const char* infix(ScalarOpId id) {
  switch (id) {
    case ScalarOpId::add: return " + ";
    case ScalarOpId::sub: return " - ";
    case ScalarOpId::mul: return " * ";
    case ScalarOpId::true_div: return " / ";
    case ScalarOpId::int_div: return " // ";
    case ScalarOpId::mod: return " % ";
    case ScalarOpId::pow: return " ** ";
    case ScalarOpId::eq: return " == ";
    case ScalarOpId::neq: return " != ";
    case ScalarOpId::lt: return " < ";
    case ScalarOpId::le: return " <= ";
    case ScalarOpId::gt: return " > ";
    case ScalarOpId::ge: return " >= ";
    case ScalarOpId::and_: return " & ";
    case ScalarOpId::or_: return " | ";
    case ScalarOpId::xor_: return " ^ ";
    case ScalarOpId::left_shift: return " << ";
    case ScalarOpId::right_shift: return " >> ";
    default: return nullptr;
  }
}

// Converts n values from one dtype to another (Array::astype's conversion).
void convert_run(DType from, const char* src, int64_t ss, DType to, char* dst, int64_t ds, int64_t n) {
  if (from == to && src == dst && ss == ds) return;
  if (from == to && ss == ds && ss == int64_t(itemsize(to))) {
    std::memcpy(dst, src, size_t(n) * itemsize(to));
    return;
  }
  visit_dtype(to, [&](auto t) {
    using To = decltype(t);
    visit_dtype(from, [&](auto f) {
      using From = decltype(f);
      if (ss == int64_t(sizeof(From)) && ds == int64_t(sizeof(To))) {  // vectorizable
        To* t_ = reinterpret_cast<To*>(dst);
        if constexpr (std::is_same_v<From, bool> && std::is_arithmetic_v<To>) {
          // bool holds 0 or 1: read as bytes, which GCC vectorizes (it does not for bool loads).
          const uint8_t* b_ = reinterpret_cast<const uint8_t*>(src);
          for (int64_t i = 0; i < n; ++i) t_[i] = To(b_[i]);
          return;
        }
        const From* f_ = reinterpret_cast<const From*>(src);
        for (int64_t i = 0; i < n; ++i) t_[i] = convert<To>(f_[i]);
        return;
      }
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<To*>(dst + i * ds) = convert<To>(*reinterpret_cast<const From*>(src + i * ss));
    });
  });
}

// Copies the element at src (itemsize bytes) to dst[0..n).
void fill_run(const char* src, size_t isz, char* dst, int64_t n) {
  auto fill = [&](auto t) {
    using T = decltype(t);
    T v;
    std::memcpy(&v, src, sizeof(T));
    std::fill_n(reinterpret_cast<T*>(dst), n, v);
  };
  switch (isz) {
    case 1: return fill(uint8_t{});
    case 2: return fill(uint16_t{});
    case 4: return fill(uint32_t{});
    default: return fill(uint64_t{});
  }
}

// The iteration space of a pass: for_each_strided's merged dims (innermost
// first, dims[0] the length of a run) with a number of operands known only at
// run time; st[d][k] is operand k's byte stride along dim d.
struct Layout {
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> st;
  int64_t total = 0;  // elements
};

Layout make_layout(const Shape& shape, const std::vector<const Strides*>& strides) {
  Layout L;
  for (int64_t d : shape)
    if (d == 0) return L;
  const size_t N = strides.size();
  std::vector<int64_t>& dims = L.dims;
  std::vector<std::vector<int64_t>>& st = L.st;
  for (int i = int(shape.size()) - 1; i >= 0; --i) {
    if (shape[size_t(i)] == 1) continue;
    std::vector<int64_t> s(N);
    for (size_t k = 0; k < N; ++k) s[k] = (*strides[k])[size_t(i)];
    if (!dims.empty()) {
      bool merge = true;
      for (size_t k = 0; k < N; ++k)
        if (s[k] != st.back()[k] * dims.back()) merge = false;
      if (merge) {
        dims.back() *= shape[size_t(i)];
        continue;
      }
    }
    dims.push_back(shape[size_t(i)]);
    st.push_back(std::move(s));
  }
  if (dims.empty()) {
    dims.push_back(1);
    st.push_back(std::vector<int64_t>(N, 0));
  }
  // Short innermost runs (a transposed operand) would pay the per-block cost
  // of every instruction for a few elements: the longest dim goes innermost.
  // Elements are independent, so the order does not change any result.
  size_t longest = size_t(std::max_element(dims.begin(), dims.end()) - dims.begin());
  if (dims[0] < kBlock && longest != 0) {
    std::swap(dims[0], dims[longest]);
    std::swap(st[0], st[longest]);
  }
  L.total = 1;
  for (int64_t d : dims) L.total *= d;
  return L;
}

// Calls kernel(ptrs, n) on the runs covering elements [begin, end) of the
// layout's order, ptrs the operands' addresses of the run's first element
// (each advancing by its stride st[0][k]).
template <class Kernel>
void for_each_run(const Layout& L, const std::vector<char*>& base, int64_t begin, int64_t end, Kernel&& kernel) {
  const size_t nd = L.dims.size(), N = base.size();
  std::vector<int64_t> idx(nd, 0);
  int64_t rest = begin;
  for (size_t d = 0; d < nd; ++d) {
    idx[d] = rest % L.dims[d];
    rest /= L.dims[d];
  }
  std::vector<char*> ptrs = base;  // at idx
  for (size_t k = 0; k < N; ++k)
    for (size_t d = 0; d < nd; ++d) ptrs[k] += idx[d] * L.st[d][k];
  int64_t left = end - begin;
  while (left > 0) {
    const int64_t n = std::min(L.dims[0] - idx[0], left);
    kernel(ptrs, n);
    left -= n;
    if (left == 0) return;
    for (size_t k = 0; k < N; ++k) ptrs[k] -= idx[0] * L.st[0][k];  // back to the run's start
    idx[0] = 0;
    for (size_t d = 1; d < nd; ++d) {
      for (size_t k = 0; k < N; ++k) ptrs[k] += L.st[d][k];
      if (++idx[d] < L.dims[d]) break;
      for (size_t k = 0; k < N; ++k) ptrs[k] -= L.st[d][k] * L.dims[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

struct Composite::Plan {
  std::vector<DType> kern;  // per instruction: the dtype its scalar loop runs in
  std::vector<DType> kout;  // per instruction: what the loop writes (bool or kern)
  std::vector<int> slot;    // per instruction: its scratch buffer
  int num_slots = 0;
};

Composite::Composite(ScalarProgram program, std::vector<int> inplace)
    : prog_(std::move(program)), inplace_(std::move(inplace)) {
  const int ni = num_inputs();
  const int nv = ni + int(prog_.instrs.size());
  auto plan = std::make_shared<Plan>();
  dtypes_ = prog_.inputs;
  std::vector<int> uses(size_t(nv), 0), last_use(size_t(nv), -1);
  for (size_t j = 0; j < prog_.instrs.size(); ++j) {
    const ScalarInstr& ins = prog_.instrs[j];
    const int self = ni + int(j);
    std::vector<DType> ds;
    for (int a : ins.args) {
      if (a < 0 || a >= self)
        bad("instruction " + std::to_string(j) + " reads value " + std::to_string(a) +
            ", which is not an input or an earlier instruction");
      ds.push_back(dtypes_[size_t(a)]);
      ++uses[size_t(a)];
      last_use[size_t(a)] = int(j);
    }
    if (ins.is_cast) {
      if (ins.args.size() != 1) bad("a cast takes 1 operand, got " + std::to_string(ins.args.size()));
      dtypes_.push_back(ins.to);
      plan->kern.push_back(ins.to);
      plan->kout.push_back(ins.to);
      continue;
    }
    if (elemwise_is_exact_int_cmp(ins.op, ds))
      bad(std::string("cannot fuse ") + scalar_op_info(ins.op).name + " of a signed with an unsigned integer");
    try {
      dtypes_.push_back(elemwise_result_dtype(ins.op, ds));  // checks the arity and the dtypes
      plan->kern.push_back(elemwise_kernel_dtype(ins.op, ds));
    } catch (const std::invalid_argument& e) {
      bad("instruction " + std::to_string(j) + ": " + e.what());
    }
    plan->kout.push_back(is_cmp_or_pred(ins.op) ? DType::Bool : plan->kern.back());
  }
  if (prog_.outputs.empty()) bad("a program needs at least one output");
  for (int o : prog_.outputs) {
    if (o < 0 || o >= nv) bad("output value " + std::to_string(o) + " does not exist");
    last_use[size_t(o)] = int(prog_.instrs.size());  // kept to the end of the block
  }
  if (!inplace_.empty()) {
    if (inplace_.size() != prog_.outputs.size())
      bad("inplace needs one entry per output, got " + std::to_string(inplace_.size()));
    std::vector<bool> taken(size_t(ni), false);
    for (size_t k = 0; k < inplace_.size(); ++k) {
      int i = inplace_[k];
      if (i < 0) continue;
      if (i >= ni || taken[size_t(i)]) bad("invalid inplace input " + std::to_string(i));
      if (dtypes_[size_t(i)] != dtypes_[size_t(prog_.outputs[k])])
        bad("inplace input " + std::to_string(i) + " has dtype " + std::string(dtype_name(dtypes_[size_t(i)])) +
            ", output " + std::to_string(k) + " has " + std::string(dtype_name(dtypes_[size_t(prog_.outputs[k])])));
      taken[size_t(i)] = true;
    }
    if (std::all_of(inplace_.begin(), inplace_.end(), [](int i) { return i < 0; })) inplace_.clear();
  }

  // Scratch slots: an instruction takes a free buffer before its operands'
  // buffers are released (a kernel of a wider dtype must not write over an
  // operand it has not read yet).
  std::vector<int> free_slots;
  std::vector<std::vector<int>> release_after(prog_.instrs.size());
  for (int v = ni; v < nv; ++v)
    if (last_use[size_t(v)] >= 0 && last_use[size_t(v)] < int(prog_.instrs.size()))
      release_after[size_t(last_use[size_t(v)])].push_back(v);
  for (size_t j = 0; j < prog_.instrs.size(); ++j) {
    int s;
    if (!free_slots.empty()) {
      s = free_slots.back();
      free_slots.pop_back();
    } else {
      s = plan->num_slots++;
    }
    plan->slot.push_back(s);
    // A value nothing reads frees its slot right away.
    if (last_use[size_t(ni) + j] < 0) free_slots.push_back(s);
    for (int v : release_after[j]) free_slots.push_back(plan->slot[size_t(v - ni)]);
  }
  plan_ = plan;

  // Which inputs each output depends on (its runtime shape is their broadcast).
  for (int o : prog_.outputs) {
    std::vector<char> seen(size_t(nv), 0);
    std::vector<int> stack{o}, ins;
    seen[size_t(o)] = 1;
    while (!stack.empty()) {
      int v = stack.back();
      stack.pop_back();
      if (v < ni) {
        ins.push_back(v);
        continue;
      }
      for (int a : prog_.instrs[size_t(v - ni)].args)
        if (!seen[size_t(a)]) {
          seen[size_t(a)] = 1;
          stack.push_back(a);
        }
    }
    std::sort(ins.begin(), ins.end());
    output_inputs_.push_back(std::move(ins));
  }

  // props: the whole program, canonical.
  props_ = "in=";
  for (int i = 0; i < ni; ++i) props_ += (i ? "," : "") + std::string(dtype_name(prog_.inputs[size_t(i)]));
  for (const ScalarInstr& ins : prog_.instrs) {
    props_ += ";";
    props_ += ins.is_cast ? "cast<" + std::string(dtype_name(ins.to)) + ">" : scalar_op_info(ins.op).name;
    props_ += "(";
    for (size_t k = 0; k < ins.args.size(); ++k) props_ += (k ? "," : "") + std::to_string(ins.args[k]);
    props_ += ")";
  }
  props_ += ";out=";
  for (size_t k = 0; k < prog_.outputs.size(); ++k) props_ += (k ? "," : "") + std::to_string(prog_.outputs[k]);
  if (!inplace_.empty()) {
    props_ += ";inplace=";
    for (size_t k = 0; k < inplace_.size(); ++k) props_ += (k ? "," : "") + std::to_string(inplace_[k]);
  }

  // The program as text. Values read more than once, or read and also
  // returned, are named t0, t1, ...; the others are written inline, so every
  // instruction is printed once (the text grows linearly with the program).
  std::vector<int> temp(size_t(nv), -1);
  std::vector<bool> is_out(size_t(nv), false);
  for (int o : prog_.outputs) is_out[size_t(o)] = true;
  int ntemps = 0;
  for (int v = ni; v < nv; ++v)
    if (uses[size_t(v)] > 1 || (is_out[size_t(v)] && uses[size_t(v)] > 0)) temp[size_t(v)] = ntemps++;
  auto leaf_name = [&](int v) -> std::string {
    if (v < ni) return "i" + std::to_string(v);
    if (temp[size_t(v)] >= 0) return "t" + std::to_string(temp[size_t(v)]);
    return "";
  };
  std::string& t = text_;
  struct Frame {
    int v;
    size_t next;
    bool paren;
  };
  auto emit = [&](int root) {
    if (!leaf_name(root).empty() && root < ni) {
      t += leaf_name(root);
      return;
    }
    std::vector<Frame> stack;
    auto open = [&](int v, bool paren) {
      const ScalarInstr& ins = prog_.instrs[size_t(v - ni)];
      if (ins.is_cast) t += std::string(dtype_name(ins.to)) + "(";
      else if (infix(ins.op)) t += paren ? "(" : "";
      else t += std::string(scalar_op_info(ins.op).name) + "(";
      stack.push_back({v, 0, paren});
    };
    open(root, false);
    while (!stack.empty() && t.size() <= kMaxText) {
      Frame& f = stack.back();
      const ScalarInstr& ins = prog_.instrs[size_t(f.v - ni)];
      const char* op = ins.is_cast ? nullptr : infix(ins.op);
      if (f.next == ins.args.size()) {
        if (!op || f.paren) t += ")";
        stack.pop_back();
        continue;
      }
      if (f.next > 0) t += op ? op : ", ";
      int a = ins.args[f.next++];
      std::string leaf = leaf_name(a);
      if (!leaf.empty()) {
        t += leaf;
        continue;
      }
      const ScalarInstr& child = prog_.instrs[size_t(a - ni)];
      open(a, op && !child.is_cast && infix(child.op));
    }
  };
  for (int v = ni; v < nv && t.size() <= kMaxText; ++v)
    if (temp[size_t(v)] >= 0) {
      t += "t" + std::to_string(temp[size_t(v)]) + " = ";
      emit(v);
      t += "; ";
    }
  for (size_t k = 0; k < prog_.outputs.size() && t.size() <= kMaxText; ++k) {
    if (k) t += ", ";
    int o = prog_.outputs[k];
    if (temp[size_t(o)] >= 0) t += leaf_name(o);
    else emit(o);
  }
  if (t.size() > kMaxText) t = t.substr(0, kMaxText) + " ...";
}

std::string Composite::name() const {
  std::string n = "Composite{" + text_ + "}";
  if (inplace_.empty()) return n;
  n += "(inplace";
  for (size_t k = 0; k < inplace_.size(); ++k) {
    if (inplace_[k] < 0) continue;
    n += " " + (prog_.outputs.size() > 1 ? std::to_string(k) + "<-" : std::string()) + std::to_string(inplace_[k]);
  }
  return n + ")";
}

std::vector<TensorType> Composite::infer_type(const std::vector<Var>& inputs) const {
  if (int(inputs.size()) != num_inputs())
    bad("expected " + std::to_string(num_inputs()) + " inputs, got " + std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].dtype() != prog_.inputs[i])
      bad("input " + std::to_string(i) + " must be " + std::string(dtype_name(prog_.inputs[i])) + ", got " +
          std::string(dtype_name(inputs[i].dtype())));
  broadcast_static_shape("Composite", inputs);  // all inputs must broadcast together
  std::vector<TensorType> out;
  for (size_t k = 0; k < prog_.outputs.size(); ++k) {
    std::vector<Var> ins;
    for (int i : output_inputs_[k]) ins.push_back(inputs[size_t(i)]);
    out.emplace_back(dtypes_[size_t(prog_.outputs[k])], broadcast_static_shape("Composite", ins));
  }
  return out;
}

std::optional<ShapeExprs> Composite::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  ShapeExprs result;
  for (size_t k = 0; k < prog_.outputs.size(); ++k) {
    const auto& shp = node.outputs[k].type.shape;
    const size_t nd = shp.size();
    std::vector<Var> out(nd);
    for (size_t d = 0; d < nd; ++d) {
      if (shp[d] != kUnknownDim) {
        out[d] = constant(double(shp[d]), DType::Int64);
        continue;
      }
      for (int i : output_inputs_[k]) {
        const auto& s = in[size_t(i)];
        size_t lead = nd - s.size();
        if (d < lead || node.inputs[size_t(i)].type().shape[d - lead] == 1) continue;
        // NumPy's rule: a length-1 dim takes the other length, 0 included.
        const Var& len = s[d - lead];
        out[d] = out[d].defined() ? switch_(eq(out[d], constant(1.0, DType::Int64)), len, out[d]) : len;
      }
      if (!out[d].defined()) out[d] = constant(1.0, DType::Int64);
    }
    result.push_back(std::move(out));
  }
  return result;
}

std::vector<InputGrad> Composite::L_op(const ApplyNode& node, const std::vector<Var>&) const {
  return std::vector<InputGrad>(node.inputs.size(),
                                InputGrad::undefined("Composite has no gradient (fusion runs after grad)"));
}

namespace {

// One pass of a program over `shape`: computes the instructions marked in
// `needed` (all when empty) and writes outputs `outs` into `arrays`.
struct Pass {
  const ScalarProgram& prog;
  const std::vector<DType>& dtypes;
  const std::vector<DType>& kern;
  const std::vector<DType>& kout;
  const std::vector<int>& slot;
  int num_slots;

  void run(const Shape& shape, const std::vector<Array>& inputs, const std::vector<int>& used_inputs,
           const std::vector<int>& outs, const std::vector<Array>& arrays, const std::vector<char>& needed) const {
    const int ni = int(prog.inputs.size());
    std::vector<Array> views;
    std::vector<char*> ptrs;
    std::vector<const Strides*> strides;
    views.reserve(used_inputs.size());
    for (int i : used_inputs) views.push_back(inputs[size_t(i)].broadcast_to(shape));
    for (const Array& v : views) {
      ptrs.push_back(static_cast<char*>(v.data()));
      strides.push_back(&v.strides());
    }
    for (int k : outs) {
      ptrs.push_back(static_cast<char*>(arrays[size_t(k)].data()));
      strides.push_back(&arrays[size_t(k)].strides());
    }
    const Layout layout = make_layout(shape, strides);
    if (layout.total == 0) return;
    const size_t nu = used_inputs.size();
    const std::vector<int64_t>& s = layout.st[0];  // the operands' strides along a run

    // An input repeated along the runs (a scalar, a column) is spread over a
    // scratch block of its own, so every instruction reading it gets the
    // contiguous (vectorized) loop.
    std::vector<size_t> spread;  // positions in used_inputs
    if (layout.dims[0] > 1)
      for (size_t u = 0; u < nu; ++u)
        if (s[u] == 0) spread.push_back(u);

    // The last instruction runs after every other has read its operands, so
    // when it is an output it writes straight into the output array.
    const size_t last = prog.instrs.size() - 1;
    int direct = -1;
    for (size_t q = 0; q < outs.size(); ++q)
      if (!prog.instrs.empty() && prog.outputs[size_t(outs[q])] == ni + int(last) && (needed.empty() || needed[last]))
        direct = int(q);

    // Elements [begin, end) of the layout, with scratch buffers of its own.
    auto work = [&](int64_t begin, int64_t end) {
      const size_t nslots = size_t(num_slots) + kTemps + spread.size();
      // No block is longer than the range, so small arrays (a loop step's rows)
      // get small scratch buffers instead of paying for kBlock-element ones.
      const size_t blk = size_t(std::min<int64_t>(kBlock, end - begin));
      // 8-byte aligned (the widest dtype); every value is written before it is
      // read. Kept per thread across calls: no allocation in steady state (a
      // Composite never runs another op while its blocks are computed).
      thread_local std::vector<uint64_t> scratch;
      if (scratch.size() < nslots * blk) scratch.resize(nslots * blk);
      auto buf = [&](size_t k) { return reinterpret_cast<char*>(scratch.data() + k * blk); };
      char* tmp[kTemps];
      for (int k = 0; k < kTemps; ++k) tmp[k] = buf(size_t(num_slots) + size_t(k));
      struct Ref {
        const char* p;
        int64_t s;
      };
      std::vector<Ref> vals(size_t(ni) + prog.instrs.size(), Ref{nullptr, 0});
      for (size_t j = 0; j < prog.instrs.size(); ++j)
        vals[size_t(ni) + j] = {buf(size_t(slot[j])), int64_t(itemsize(dtypes[size_t(ni) + j]))};

      auto block = [&](const std::vector<char*>& p, int64_t m) {
        for (size_t u = 0; u < nu; ++u) vals[size_t(used_inputs[u])] = {p[u], s[u]};
        for (size_t b = 0; b < spread.size(); ++b) {
          const size_t u = spread[b];
          const int v = used_inputs[u];
          char* dst = buf(size_t(num_slots) + kTemps + b);
          fill_run(p[u], itemsize(dtypes[size_t(v)]), dst, m);
          vals[size_t(v)] = {dst, int64_t(itemsize(dtypes[size_t(v)]))};
        }
        for (size_t j = 0; j < prog.instrs.size(); ++j) {
          if (!needed.empty() && !needed[j]) continue;
          const ScalarInstr& ins = prog.instrs[j];
          const DType dt = dtypes[size_t(ni) + j];
          char* dst = buf(size_t(slot[j]));
          int64_t dsz = int64_t(itemsize(dt));
          if (j == last && direct >= 0) {
            dst = p[nu + size_t(direct)];
            dsz = s[nu + size_t(direct)];
            vals[size_t(ni) + j] = {dst, dsz};
          }
          if (ins.is_cast) {
            const Ref& a = vals[size_t(ins.args[0])];
            convert_run(dtypes[size_t(ins.args[0])], a.p, a.s, dt, dst, dsz, m);
            continue;
          }
          const DType k = kern[j];
          const bool where = scalar_op_info(ins.op).rule == TypeRule::WHERE;
          const char* a[3];
          int64_t as[3];
          for (size_t q = 0; q < ins.args.size(); ++q) {
            const Ref& r = vals[size_t(ins.args[q])];
            const DType have = dtypes[size_t(ins.args[q])];
            const DType want = (where && q == 0) ? DType::Bool : k;
            a[q] = r.p;
            as[q] = r.s;
            if (have != want) {
              convert_run(have, r.p, r.s, want, tmp[q], int64_t(itemsize(want)), m);
              a[q] = tmp[q];
              as[q] = int64_t(itemsize(want));
            }
            if (where && q == 0 && k != DType::Bool) {  // the condition goes through bool, then the kernel dtype
              convert_run(DType::Bool, a[0], as[0], k, tmp[3], int64_t(itemsize(k)), m);
              a[0] = tmp[3];
              as[0] = int64_t(itemsize(k));
            }
          }
          const DType ko = kout[j];
          if (ko == dt) {
            detail::elemwise_run_1d(ins.op, k, m, dst, dsz, a, as);
          } else {
            detail::elemwise_run_1d(ins.op, k, m, tmp[4], int64_t(itemsize(ko)), a, as);
            convert_run(ko, tmp[4], int64_t(itemsize(ko)), dt, dst, dsz, m);
          }
        }
        // Outputs are written after every instruction of the block has read its
        // operands, so an output may reuse an input's buffer.
        for (size_t q = 0; q < outs.size(); ++q) {
          if (int(q) == direct) continue;
          int v = prog.outputs[size_t(outs[q])];
          const Ref& r = vals[size_t(v)];
          DType dt = dtypes[size_t(v)];
          convert_run(dt, r.p, r.s, dt, p[nu + q], s[nu + q], m);
        }
      };

      std::vector<char*> q(ptrs.size());
      for_each_run(layout, ptrs, begin, end, [&](const std::vector<char*>& p, int64_t n) {
        for (int64_t off = 0; off < n; off += kBlock) {
          for (size_t k = 0; k < q.size(); ++k) q[k] = p[k] + off * s[k];
          block(q, std::min(kBlock, n - off));
        }
      });
    };

    // Elements are independent (no reduction), so how the work is split
    // changes no result; small outputs stay on the calling thread.
    if (layout.total > kParallelGrain && !in_parallel_region())
      parallel_for(layout.total, kParallelGrain, work);
    else
      work(0, layout.total);
  }
};

}  // namespace

void Composite::perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const {
  note_kernel("fused blocks of 1024");
  const int ni = num_inputs();
  if (int(inputs.size()) != ni) bad("expected " + std::to_string(ni) + " inputs, got " + std::to_string(inputs.size()));
  // Decided before any view of the inputs is taken: only the caller holds these buffers.
  std::vector<bool> sole(size_t(ni), false);
  for (int i = 0; i < ni; ++i) sole[size_t(i)] = inputs[size_t(i)].buffer().use_count() == 1;
  Shape full;
  for (int i = 0; i < ni; ++i) {
    if (inputs[size_t(i)].dtype() != prog_.inputs[size_t(i)])
      bad("input " + std::to_string(i) + " must be " + std::string(dtype_name(prog_.inputs[size_t(i)])) +
          ", got " + std::string(dtype_name(inputs[size_t(i)].dtype())));
    full = broadcast_shapes(full, inputs[size_t(i)].shape());
  }
  const Plan& plan = *plan_;
  const Pass pass{prog_, dtypes_, plan.kern, plan.kout, plan.slot, plan.num_slots};
  std::vector<int> all_inputs(static_cast<size_t>(ni));
  for (int i = 0; i < ni; ++i) all_inputs[size_t(i)] = i;
  const size_t no = prog_.outputs.size();
  outputs.assign(no, Array());
  std::vector<int> main_outs;
  // An output that depends on only some inputs may have a smaller shape than
  // the broadcast of all of them; it gets a pass of its own over its shape,
  // run first, while every input still holds its value.
  for (size_t k = 0; k < no; ++k) {
    Shape sk;
    for (int i : output_inputs_[k]) sk = broadcast_shapes(sk, inputs[size_t(i)].shape());
    DType dt = dtypes_[size_t(prog_.outputs[k])];
    if (sk == full) {
      main_outs.push_back(int(k));
      continue;
    }
    outputs[k] = Array::empty(dt, sk);
    std::vector<char> needed(prog_.instrs.size(), 0);
    std::vector<int> stack{prog_.outputs[k]};
    while (!stack.empty()) {
      int v = stack.back();
      stack.pop_back();
      if (v < ni || needed[size_t(v - ni)]) continue;
      needed[size_t(v - ni)] = 1;
      for (int a : prog_.instrs[size_t(v - ni)].args) stack.push_back(a);
    }
    if (prog_.outputs[k] < ni) {  // an input returned as is
      outputs[k].assign(inputs[size_t(prog_.outputs[k])]);
      continue;
    }
    pass.run(sk, inputs, output_inputs_[k], {int(k)}, outputs, needed);
  }
  if (main_outs.empty()) return;
  for (int k : main_outs) {
    DType dt = dtypes_[size_t(prog_.outputs[size_t(k)])];
    int i = inplace_.empty() ? -1 : inplace_[size_t(k)];
    if (i >= 0 && sole[size_t(i)]) {
      const Array& in = inputs[size_t(i)];
      if (in.dtype() == dt && in.shape() == full && in.is_c_contiguous()) {
        outputs[size_t(k)] = in;
        continue;
      }
    }
    outputs[size_t(k)] = Array::empty(dt, full);
  }
  pass.run(full, inputs, all_inputs, main_outs, outputs, {});
}

std::vector<Var> composite(ScalarProgram program, std::vector<Var> inputs) {
  return theon::apply(std::make_shared<Composite>(std::move(program)), std::move(inputs));
}

}  // namespace theon
