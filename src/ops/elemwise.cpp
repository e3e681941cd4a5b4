// Elementwise ops: type rules, static broadcasting and the generic kernel.
#include "theon/ops/elemwise.h"
#include "theon/runtime/profiling.h"

#include "theon/runtime/thread_pool.h"

#include <optional>
#include <stdexcept>

#include "scalar_functions.h"
#include "vector_math.h"
#include "theon/ops/shape.h"
#include "theon/runtime/strided.h"

namespace theon {

const std::vector<ScalarOpInfo>& scalar_ops() {
  static const std::vector<ScalarOpInfo> table = {
#define THEON_ELEMWISE(name, arity, rule) {ScalarOpId::name, #name, arity, TypeRule::rule},
#include "theon/ops/elemwise.def"
#undef THEON_ELEMWISE
  };
  return table;
}

const ScalarOpInfo& scalar_op_info(ScalarOpId id) { return scalar_ops()[size_t(id)]; }

const ScalarOpInfo& scalar_op_info(const std::string& name) {
  for (const auto& info : scalar_ops())
    if (name == info.name) return info;
  throw std::invalid_argument("unknown elementwise op '" + name + "'");
}

namespace {

std::string dtypes_str(const std::vector<DType>& ds) {
  std::string s;
  for (size_t i = 0; i < ds.size(); ++i) s += (i ? ", " : "") + std::string(dtype_name(ds[i]));
  return s;
}

[[noreturn]] void no_loop(ScalarOpId id, const std::vector<DType>& ds, const char* why) {
  throw std::invalid_argument("[Elemwise{" + std::string(scalar_op_info(id).name) +
                              "}] not supported for input dtypes (" + dtypes_str(ds) + "): " + why);
}

DType promote_all(const std::vector<DType>& ds, size_t from = 0) {
  return promote_types(std::vector<DType>(ds.begin() + long(from), ds.end()));
}

bool is_shift(ScalarOpId id) { return id == ScalarOpId::left_shift || id == ScalarOpId::right_shift; }

}  // namespace

DType elemwise_compute_dtype(ScalarOpId id, const std::vector<DType>& ds) {
  const auto& info = scalar_op_info(id);
  if (int(ds.size()) != info.arity)
    throw std::invalid_argument("[Elemwise{" + std::string(info.name) + "}] expected " +
                                std::to_string(info.arity) + " inputs, got " +
                                std::to_string(ds.size()));
  DType p = info.rule == TypeRule::WHERE ? promote_all(ds, 1) : promote_all(ds);
  switch (info.rule) {
    case TypeRule::SAME:
    case TypeRule::CMP:
    case TypeRule::PRED:
    case TypeRule::WHERE:
      return p;
    case TypeRule::NOBOOL:
      if (p == DType::Bool)
        no_loop(id, ds, "NumPy does not support this on booleans; use logical_xor / invert instead");
      return p;
    case TypeRule::BOOL_INT8:
      return p == DType::Bool ? DType::Int8 : p;
    case TypeRule::FLOAT:
      return promote_to_float(ds);
    case TypeRule::DIV:
      return is_float(p) ? p : DType::Float64;
    case TypeRule::BITWISE:
      if (is_float(p)) no_loop(id, ds, "bitwise operations need bool or integer inputs");
      if (is_shift(id) && p == DType::Bool) return DType::Int8;
      return p;
  }
  return p;
}

DType elemwise_result_dtype(ScalarOpId id, const std::vector<DType>& ds) {
  DType c = elemwise_compute_dtype(id, ds);
  TypeRule r = scalar_op_info(id).rule;
  if (r == TypeRule::CMP || r == TypeRule::PRED) return DType::Bool;
  return c;
}

std::string Elemwise::name() const {
  return "Elemwise{" + std::string(scalar_op_info(id_).name) + (inplace_ >= 0 ? ",inplace}" : "}");
}
std::string Elemwise::props() const {
  std::string p = scalar_op_info(id_).name;
  return inplace_ >= 0 ? p + ",inplace=" + std::to_string(inplace_) : p;
}

// Static broadcasting of the input types: a known non-1 dim wins; two
// different known non-1 dims are an error that names both shapes.
std::vector<int64_t> broadcast_static_shape(const std::string& who, const std::vector<Var>& ins) {
  size_t nd = 0;
  for (const auto& v : ins) nd = std::max<size_t>(nd, v.ndim());
  std::vector<int64_t> out(nd, 1);
  for (size_t d = 0; d < nd; ++d) {
    bool unknown = false;
    int64_t known = 1;
    for (const auto& v : ins) {
      size_t lead = nd - v.ndim();
      if (d < lead) continue;
      int64_t s = v.type().shape[d - lead];
      if (s == kUnknownDim) unknown = true;
      else if (s != 1) {
        if (known != 1 && known != s) {
          std::string msg = "[" + who + "] shapes cannot be broadcast together:";
          for (const auto& w : ins) msg += " " + w.type().str();
          throw std::invalid_argument(msg);
        }
        known = s;
      }
    }
    out[d] = known != 1 ? known : (unknown ? kUnknownDim : 1);
  }
  return out;
}

std::vector<TensorType> Elemwise::infer_type(const std::vector<Var>& inputs) const {
  std::vector<DType> ds;
  for (const auto& v : inputs) ds.push_back(v.dtype());
  DType out = elemwise_result_dtype(id_, ds);
  if (inplace_ >= int(inputs.size()))
    throw std::invalid_argument("[" + name() + "] inplace input " + std::to_string(inplace_) + " out of range for " +
                                std::to_string(inputs.size()) + " inputs");
  return {TensorType(out, broadcast_static_shape(name(), inputs))};
}

std::optional<ShapeExprs> Elemwise::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  const auto& shp = node.outputs[0].type.shape;
  size_t nd = shp.size();
  std::vector<Var> out(nd);
  for (size_t d = 0; d < nd; ++d) {
    if (shp[d] != kUnknownDim) {
      out[d] = constant(double(shp[d]), DType::Int64);
      continue;
    }
    for (size_t k = 0; k < in.size(); ++k) {
      size_t lead = nd - in[k].size();
      if (d < lead) continue;
      if (node.inputs[k].type().shape[d - lead] == 1) continue;
      // NumPy's rule: a length-1 dim takes the other length, 0 included (so
      // not the maximum: (1,) with (0,) broadcasts to (0,)).
      const Var& len = in[k][d - lead];
      out[d] = out[d].defined() ? switch_(eq(out[d], constant(1.0, DType::Int64)), len, out[d]) : len;
    }
  }
  return ShapeExprs{out};
}

namespace {

// The inner loop: p[0] is the output, p[1..N] the operands, s their byte strides.
template <class Fn, size_t N, class T>
void loop_typed(std::array<char*, N + 1> p, std::array<int64_t, N + 1> s, int64_t n) {
  using R = decltype([] {
    if constexpr (N == 1) return Fn::f(T{});
    else if constexpr (N == 2) return Fn::f(T{}, T{});
    else return Fn::f(T{}, T{}, T{});
  }());
  bool unit = s[0] == int64_t(sizeof(R));
  for (size_t k = 1; k <= N; ++k) unit = unit && s[k] == int64_t(sizeof(T));
  if constexpr (N == 1 && std::is_floating_point_v<T> && std::is_same_v<R, T> && detail::vec_fn_of<Fn> != detail::VecFn::none) {
    // Transcendentals go through SLEEF's vector functions, strided runs via a
    // contiguous block, so every value takes the same code path.
    if (unit) detail::vec_apply(detail::vec_fn_of<Fn>, reinterpret_cast<const T*>(p[1]), reinterpret_cast<T*>(p[0]), n);
    else detail::vec_apply_strided<T>(detail::vec_fn_of<Fn>, p[1], s[1], p[0], s[0], n);
    return;
  }
  if (unit) {
    // Unit strides (every scratch block of a Composite, contiguous arrays): an
    // indexed loop the compiler vectorizes where Fn allows (exact arithmetic,
    // comparisons, selects); per element the same Fn::f, so the same bits.
    // The output may be one of the operands (inplace), never a partial overlap.
    R* o = reinterpret_cast<R*>(p[0]);
    const T* a = reinterpret_cast<const T*>(p[1]);
    if constexpr (N == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = Fn::f(a[i]);
    } else if constexpr (N == 2) {
      const T* b = reinterpret_cast<const T*>(p[2]);
      for (int64_t i = 0; i < n; ++i) o[i] = Fn::f(a[i], b[i]);
    } else {
      const T* b = reinterpret_cast<const T*>(p[2]);
      const T* c = reinterpret_cast<const T*>(p[3]);
      for (int64_t i = 0; i < n; ++i) o[i] = Fn::f(a[i], b[i], c[i]);
    }
    return;
  }
  if constexpr (N == 2) {
    // One operand broadcast along the run (x * 2, maximum(x, 0)): the same
    // Fn::f per element with that operand held in a register, vectorized.
    const bool out_unit = s[0] == int64_t(sizeof(R));
    R* o = reinterpret_cast<R*>(p[0]);
    if (out_unit && s[1] == int64_t(sizeof(T)) && s[2] == 0) {
      const T* a = reinterpret_cast<const T*>(p[1]);
      const T b = *reinterpret_cast<const T*>(p[2]);
      for (int64_t i = 0; i < n; ++i) o[i] = Fn::f(a[i], b);
      return;
    }
    if (out_unit && s[1] == 0 && s[2] == int64_t(sizeof(T))) {
      const T a = *reinterpret_cast<const T*>(p[1]);
      const T* b = reinterpret_cast<const T*>(p[2]);
      for (int64_t i = 0; i < n; ++i) o[i] = Fn::f(a, b[i]);
      return;
    }
  }
  auto at = [&](size_t k, int64_t i) { return *reinterpret_cast<const T*>(p[k] + i * s[k]); };
  R* o = reinterpret_cast<R*>(p[0]);
  const int64_t so = s[0];
  for (int64_t i = 0; i < n; ++i) {
    R* dst = reinterpret_cast<R*>(reinterpret_cast<char*>(o) + i * so);
    if constexpr (N == 1) *dst = Fn::f(at(1, i));
    else if constexpr (N == 2) *dst = Fn::f(at(1, i), at(2, i));
    else *dst = Fn::f(at(1, i), at(2, i), at(3, i));
  }
}

template <class Fn, size_t N, class T>
void run_typed(const std::vector<Array>& ins, const Array& out) {
  std::array<char*, N + 1> ptrs;
  std::array<const Strides*, N + 1> strides;
  ptrs[0] = static_cast<char*>(out.data());
  strides[0] = &out.strides();
  for (size_t k = 0; k < N; ++k) {
    ptrs[k + 1] = static_cast<char*>(ins[k].data());
    strides[k + 1] = &ins[k].strides();
  }
  for_each_strided<N + 1>(out.shape(), ptrs, strides,
                          [](auto p, auto s, int64_t n) { loop_typed<Fn, N, T>(p, s, n); });
}

// One run of n elements given as raw pointers (the fused kernels' entry).
template <class Fn, size_t N, class T>
void run_typed_1d(int64_t n, char* out, int64_t so, const char* const* ins, const int64_t* si) {
  std::array<char*, N + 1> p;
  std::array<int64_t, N + 1> s;
  p[0] = out;
  s[0] = so;
  for (size_t k = 0; k < N; ++k) {
    p[k + 1] = const_cast<char*>(ins[k]);
    s[k + 1] = si[k];
  }
  loop_typed<Fn, N, T>(p, s, n);
}

// Calls run(T{}) with the storage type of compute dtype k, instantiating only
// the dtypes a row's type rule can produce.
template <TypeRule Rule, class Run>
void dispatch_rule(DType k, Run&& run) {
  constexpr bool floats = Rule != TypeRule::BITWISE;
  constexpr bool ints = Rule != TypeRule::FLOAT && Rule != TypeRule::DIV;
  constexpr bool bools = ints && Rule != TypeRule::NOBOOL && Rule != TypeRule::BOOL_INT8;
  bool done = visit_dtype(k, [&](auto t) {
    using T = decltype(t);
    constexpr bool is_f = std::is_floating_point_v<T>;
    constexpr bool is_b = std::is_same_v<T, bool>;
    constexpr bool is_i = std::is_integral_v<T> && !is_b;
    if constexpr ((is_f && floats) || (is_b && bools) || (is_i && ints)) {
      run(t);
      return true;
    }
    return false;
  });
  if (!done)
    throw std::logic_error("elemwise kernel: no loop for compute dtype " + std::string(dtype_name(k)));
}

template <class Fn, size_t N, TypeRule Rule>
void run_dispatch_1d(DType k, int64_t n, char* out, int64_t so, const char* const* ins, const int64_t* si) {
  dispatch_rule<Rule>(k, [&](auto t) { run_typed_1d<Fn, N, decltype(t)>(n, out, so, ins, si); });
}

template <class Fn, size_t N, TypeRule Rule>
void run_dispatch(DType k, const std::vector<Array>& ins, const Array& out) {
  dispatch_rule<Rule>(k, [&](auto t) { run_typed<Fn, N, decltype(t)>(ins, out); });
}

void run_kernel(ScalarOpId id, DType k, const std::vector<Array>& ins, const Array& out) {
  switch (id) {
#define THEON_ELEMWISE(name, arity, r) \
  case ScalarOpId::name:               \
    return run_dispatch<detail::ScalarFn<ScalarOpId::name>, arity, TypeRule::r>(k, ins, out);
#include "theon/ops/elemwise.def"
#undef THEON_ELEMWISE
  }
}

// NumPy compares int64 with uint64 exactly, while their promoted dtype is
// float64, where 2**63 - 1 == 2**63. Such comparisons get their own loop.
bool is_exact_int_cmp(ScalarOpId id, const std::vector<DType>& ds) {
  switch (id) {
    case ScalarOpId::eq:
    case ScalarOpId::neq:
    case ScalarOpId::lt:
    case ScalarOpId::le:
    case ScalarOpId::gt:
    case ScalarOpId::ge:
      break;
    default:
      return false;
  }
  DKind a = dtype_kind(ds[0]), b = dtype_kind(ds[1]);
  bool ints = (a == DKind::Int || a == DKind::UInt) && (b == DKind::Int || b == DKind::UInt);
  return ints && a != b && is_float(promote_types(ds[0], ds[1]));
}

// Three-way comparison of a signed with an unsigned value, without conversion loss.
int cmp3(int64_t a, uint64_t b) { return a < 0 || uint64_t(a) < b ? -1 : int(uint64_t(a) > b); }
int cmp3(uint64_t a, int64_t b) { return -cmp3(b, a); }

template <class Fn, class A, class B>
void run_exact_cmp(const Array& a, const Array& b, const Array& out) {
  std::array<char*, 3> ptrs{static_cast<char*>(out.data()), static_cast<char*>(a.data()),
                            static_cast<char*>(b.data())};
  std::array<const Strides*, 3> strides{&out.strides(), &a.strides(), &b.strides()};
  for_each_strided<3>(out.shape(), ptrs, strides, [](auto p, auto s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      A x = *reinterpret_cast<const A*>(p[1] + i * s[1]);
      B y = *reinterpret_cast<const B*>(p[2] + i * s[2]);
      *reinterpret_cast<bool*>(p[0] + i * s[0]) = Fn::f(cmp3(x, y), 0);
    }
  });
}

template <class Fn>
void run_exact_cmp(const Array& a, const Array& b, const Array& out) {
  if (dtype_kind(a.dtype()) == DKind::Int) run_exact_cmp<Fn, int64_t, uint64_t>(a, b, out);
  else run_exact_cmp<Fn, uint64_t, int64_t>(a, b, out);
}

Array exact_int_cmp(ScalarOpId id, const std::vector<Array>& inputs, const Shape& shape) {
  auto widen = [&](const Array& x) {
    DType to = dtype_kind(x.dtype()) == DKind::Int ? DType::Int64 : DType::UInt64;
    return (x.dtype() == to ? x : x.astype(to)).broadcast_to(shape);
  };
  Array a = widen(inputs[0]), b = widen(inputs[1]);
  Array out = Array::empty(DType::Bool, shape);
  switch (id) {
#define THEON_CMP(name)                                                  \
  case ScalarOpId::name:                                                 \
    run_exact_cmp<detail::ScalarFn<ScalarOpId::name>>(a, b, out); \
    break;
    THEON_CMP(eq)
    THEON_CMP(neq)
    THEON_CMP(lt)
    THEON_CMP(le)
    THEON_CMP(gt)
    THEON_CMP(ge)
#undef THEON_CMP
    default:
      throw std::logic_error("exact_int_cmp: not a comparison");
  }
  return out;
}

}  // namespace

DType elemwise_kernel_dtype(ScalarOpId id, const std::vector<DType>& ds) {
  DType comp = elemwise_compute_dtype(id, ds);
  // float16/bfloat16 are computed in float32 and rounded once, as NumPy does.
  return (comp == DType::Float16 || comp == DType::BFloat16) ? DType::Float32 : comp;
}

bool elemwise_is_exact_int_cmp(ScalarOpId id, const std::vector<DType>& ds) {
  return ds.size() == 2 && is_exact_int_cmp(id, ds);
}

void detail::elemwise_run_1d(ScalarOpId id, DType kern, int64_t n, char* out, int64_t out_stride,
                             const char* const* ins, const int64_t* in_strides) {
  switch (id) {
#define THEON_ELEMWISE(name, arity, r)                                                                       \
  case ScalarOpId::name:                                                                                     \
    return run_dispatch_1d<detail::ScalarFn<ScalarOpId::name>, arity, TypeRule::r>(kern, n, out, out_stride, \
                                                                                   ins, in_strides);
#include "theon/ops/elemwise.def"
#undef THEON_ELEMWISE
  }
}

namespace {

// Large outputs are split along their first axis across the thread pool.
// Each element is computed the same way whatever the split, so the bits do
// not depend on the number of threads.
void run_kernel_parallel(ScalarOpId id, DType k, const std::vector<Array>& ins, const Array& out) {
  constexpr int64_t kMinParallel = int64_t(1) << 16, kGrainElems = int64_t(1) << 15;
  if (out.ndim() == 0 || out.size() < kMinParallel || out.shape()[0] < 2 || in_parallel_region() ||
      num_threads() == 1)
    return run_kernel(id, k, ins, out);
  const int64_t rows = out.shape()[0];
  const int64_t per_row = out.size() / rows;
  parallel_for(rows, std::max<int64_t>(1, kGrainElems / per_row), [&](int64_t b, int64_t e) {
    std::vector<Array> part;
    part.reserve(ins.size());
    for (const Array& a : ins) part.push_back(a.slice(0, b, e, 1));
    run_kernel(id, k, part, out.slice(0, b, e, 1));
  });
}

}  // namespace

Array elemwise_eval(ScalarOpId id, const std::vector<Array>& inputs, int inplace_input) {
  const auto& info = scalar_op_info(id);
  // Only the caller holds an inplace candidate's buffer: nothing else can see it overwritten.
  bool sole_owner = inplace_input >= 0 && size_t(inplace_input) < inputs.size() &&
                    inputs[size_t(inplace_input)].buffer().use_count() == 1;
  std::vector<DType> ds;
  Shape shape;
  for (const auto& a : inputs) {
    ds.push_back(a.dtype());
    shape = broadcast_shapes(shape, a.shape());
  }
  DType res = elemwise_result_dtype(id, ds);
  if (is_exact_int_cmp(id, ds)) return exact_int_cmp(id, inputs, shape);
  DType kern = elemwise_kernel_dtype(id, ds);
  std::vector<Array> ins;
  for (size_t i = 0; i < inputs.size(); ++i) {
    DType want = (info.rule == TypeRule::WHERE && i == 0) ? DType::Bool : kern;
    Array a = inputs[i].dtype() == want ? inputs[i] : inputs[i].astype(want);
    if (info.rule == TypeRule::WHERE && i == 0 && kern != DType::Bool) a = a.astype(kern);
    ins.push_back(a.broadcast_to(shape));
  }
  bool bool_out = info.rule == TypeRule::CMP || info.rule == TypeRule::PRED;
  DType out_dtype = bool_out ? DType::Bool : kern;
  Array out;
  if (sole_owner) {
    // The loop reads each element before writing it, at the same place (or
    // reads a converted copy), so it may write over that operand.
    const Array& in = inputs[size_t(inplace_input)];
    if (in.dtype() == out_dtype && out_dtype == res && in.shape() == shape && in.is_c_contiguous()) out = in;
  }
  if (!out.defined()) out = Array::empty(out_dtype, shape);
  run_kernel_parallel(id, kern, ins, out);
  return out.dtype() == res ? out : out.astype(res);
}

namespace {
// Whether the op's float loop runs on the vector functions (vector_math.h).
bool uses_vector_math(ScalarOpId id) {
  switch (id) {
#define THEON_ELEMWISE(name, arity, r) \
  case ScalarOpId::name:               \
    return detail::vec_fn_of<detail::ScalarFn<ScalarOpId::name>> != detail::VecFn::none;
#include "theon/ops/elemwise.def"
#undef THEON_ELEMWISE
  }
  return false;
}
}  // namespace

void Elemwise::perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const {
  outputs[0] = elemwise_eval(id_, inputs, inplace_);
  static const std::string sleef = std::string("sleef ") + detail::vec_isa();
  note_kernel(is_float(outputs[0].dtype()) && uses_vector_math(id_) ? sleef.c_str() : "c++ loop");
}

Var elemwise(ScalarOpId id, std::vector<Var> inputs) {
  return apply1(std::make_shared<Elemwise>(id), std::move(inputs));
}

#define THEON_ELEMWISE(name, arity, rule) THEON_ELEMWISE_DEF_##arity(name)
#define THEON_ELEMWISE_DEF_1(name) \
  Var name(const Var& a) { return elemwise(ScalarOpId::name, {a}); }
#define THEON_ELEMWISE_DEF_2(name) \
  Var name(const Var& a, const Var& b) { return elemwise(ScalarOpId::name, {a, b}); }
#define THEON_ELEMWISE_DEF_3(name)                     \
  Var name(const Var& a, const Var& b, const Var& c) { \
    return elemwise(ScalarOpId::name, {a, b, c});      \
  }
#include "theon/ops/elemwise.def"
#undef THEON_ELEMWISE

Var operator+(const Var& a, const Var& b) { return add(a, b); }
Var operator-(const Var& a, const Var& b) { return sub(a, b); }
Var operator*(const Var& a, const Var& b) { return mul(a, b); }
Var operator/(const Var& a, const Var& b) { return true_div(a, b); }
Var operator%(const Var& a, const Var& b) { return mod(a, b); }
Var operator-(const Var& a) { return neg(a); }

#define THEON_SCALAR_OPS(T, KIND)                                                              \
  Var operator+(const Var& a, T b) { return add(a, weak_scalar(b, KIND, a.dtype())); }        \
  Var operator+(T a, const Var& b) { return add(weak_scalar(a, KIND, b.dtype()), b); }        \
  Var operator-(const Var& a, T b) { return sub(a, weak_scalar(b, KIND, a.dtype())); }        \
  Var operator-(T a, const Var& b) { return sub(weak_scalar(a, KIND, b.dtype()), b); }        \
  Var operator*(const Var& a, T b) { return mul(a, weak_scalar(b, KIND, a.dtype())); }        \
  Var operator*(T a, const Var& b) { return mul(weak_scalar(a, KIND, b.dtype()), b); }        \
  Var operator/(const Var& a, T b) { return true_div(a, weak_scalar(b, KIND, a.dtype())); }   \
  Var operator/(T a, const Var& b) { return true_div(weak_scalar(a, KIND, b.dtype()), b); }
THEON_SCALAR_OPS(double, ScalarKind::Float)
THEON_SCALAR_OPS(int, ScalarKind::Int)
#undef THEON_SCALAR_OPS

// ---- Cast ----
std::string Cast::name() const { return "Elemwise{Cast{" + std::string(dtype_name(to_)) + "}}"; }

std::vector<TensorType> Cast::infer_type(const std::vector<Var>& inputs) const {
  if (inputs.size() != 1)
    throw std::invalid_argument("[" + name() + "] expected 1 input, got " + std::to_string(inputs.size()));
  return {TensorType(to_, inputs[0].type().shape)};
}

void Cast::perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const {
  outputs[0] = inputs[0].astype(to_);
}

std::optional<ShapeExprs> Cast::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[0]};
}

Var cast(const Var& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  return make1<Cast>({x}, dtype);
}

}  // namespace theon
