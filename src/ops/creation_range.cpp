// Ranges: ARange and Linspace, computed step by step as NumPy 2 does (the
// first two values placed, then start + i * delta in the result dtype;
// float16/bfloat16 computed in float32 and rounded after every step).
#include <cmath>
#include <limits>
#include <stdexcept>

#include "theon/ops/creation.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"
#include "theon/runtime/strided.h"

namespace theon {

namespace {

template <class T>
inline constexpr bool is_half_v = std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>;

void expect_scalar(const std::string& who, const Var& v, const char* what) {
  if (v.ndim() != 0)
    throw std::invalid_argument("[" + who + "] " + what + " must be a scalar, got " +
                                v.type().str());
}

bool int_like(DType d) {
  return d == DType::Bool || (is_integer(d) && d != DType::UInt64);
}

// Values of start, stop, step: exact int64 when all are integers, else doubles.
struct RangeArgs {
  bool ints;
  int64_t i0, i1, istop, istep;
  double d0, d1, dstop, dstep;
};

RangeArgs range_args(const Array& start, const Array& stop, const Array& step) {
  RangeArgs a{};
  a.ints = int_like(start.dtype()) && int_like(stop.dtype()) && int_like(step.dtype());
  a.d0 = start.item_double();
  a.dstop = stop.item_double();
  a.dstep = step.item_double();
  if (a.ints) {
    a.i0 = start.item_int();
    a.istop = stop.item_int();
    a.istep = step.item_int();
    a.i1 = int64_t(uint64_t(a.i0) + uint64_t(a.istep));
    a.d1 = double(a.i0) + double(a.istep);
  } else {
    // The second value is start + step in the dtype of the operands, as NumPy adds them.
    a.d1 = elemwise_eval(ScalarOpId::add, {start, step}).item_double();
  }
  return a;
}

int64_t range_length(const RangeArgs& a) {
  if (a.ints) {
    if (a.istep == 0)
      throw std::invalid_argument("[ARange] step must not be zero (division by zero)");
    int64_t diff;
    if (!__builtin_sub_overflow(a.istop, a.i0, &diff))
      return arange_length(0.0, double(diff), double(a.istep));
  }
  return arange_length(a.d0, a.dstop, a.dstep);
}

}  // namespace

int64_t arange_length(double start, double stop, double step) {
  if (step == 0) throw std::invalid_argument("[ARange] step must not be zero (division by zero)");
  double len = std::ceil((stop - start) / step);
  if (std::isnan(len)) throw std::invalid_argument("[ARange] cannot compute length");
  if (len <= 0) return 0;
  if (len > double(std::numeric_limits<int64_t>::max() / 2))
    throw std::invalid_argument("[ARange] maximum allowed size exceeded");
  return int64_t(len);
}

DType arange_dtype(DType start, DType stop, DType step) {
  if (start == DType::Bool && stop == DType::Bool && step == DType::Bool)
    throw std::invalid_argument(
        "[arange] start, stop and step are all bool; give a dtype or numbers");
  for (DType d : {start, stop, step})
    if (is_float(d) || d == DType::UInt64) return DType::Float64;
  return DType::Int64;
}

// ---- ARange ----
std::vector<TensorType> ARange::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 3)
    throw std::invalid_argument("[" + name() + "] expected 3 inputs (start, stop, step), got " +
                                std::to_string(ins.size()));
  expect_scalar(name(), ins[0], "start");
  expect_scalar(name(), ins[1], "stop");
  expect_scalar(name(), ins[2], "step");
  int64_t len = kUnknownDim;
  if (ins[2].is_constant() && ins[2].constant_value().item_double() == 0)
    throw std::invalid_argument("[" + name() + "] step must not be zero (division by zero)");
  if (ins[0].is_constant() && ins[1].is_constant() && ins[2].is_constant())
    len = range_length(
        range_args(ins[0].constant_value(), ins[1].constant_value(), ins[2].constant_value()));
  if (dtype_ == DType::Bool && len > 2)
    throw std::invalid_argument("[" + name() +
                                "] arange() is only supported for booleans when the result has "
                                "at most length 2, got length " +
                                std::to_string(len));
  return {TensorType(dtype_, {len})};
}

void ARange::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const RangeArgs a = range_args(in[0], in[1], in[2]);
  const int64_t n = range_length(a);
  if (dtype_ == DType::Bool && n > 2)
    throw std::invalid_argument("[" + name() +
                                "] arange() is only supported for booleans when the result has "
                                "at most length 2, got length " +
                                std::to_string(n));
  Array r = Array::empty(dtype_, {n});
  visit_dtype(dtype_, [&](auto t) {
    using T = decltype(t);
    T* p = r.data_as<T>();
    if (n == 0) return;
    if constexpr (std::is_same_v<T, bool>) {
      p[0] = a.ints ? a.i0 != 0 : a.d0 != 0;
      if (n > 1) p[1] = a.ints ? a.i1 != 0 : a.d1 != 0;
    } else if constexpr (std::is_integral_v<T>) {
      // NumPy places the first two values as Python ints and refuses ones the dtype cannot hold.
      auto check = [&](int64_t v) {
        if (a.ints && (v < int64_t(std::numeric_limits<T>::min()) ||
                       (v > 0 && uint64_t(v) > uint64_t(std::numeric_limits<T>::max()))))
          throw std::overflow_error("[" + name() + "] Python integer " + std::to_string(v) +
                                    " out of bounds for " + std::string(dtype_name(dtype_)));
      };
      check(a.i0);
      if (n > 1) check(a.i1);
      const T v0 = a.ints ? T(a.i0) : convert<T>(a.d0);
      const T v1 = a.ints ? T(a.i1) : convert<T>(a.d1);
      const uint64_t delta = uint64_t(v1) - uint64_t(v0);
      p[0] = v0;
      for (int64_t i = 1; i < n; ++i) p[i] = T(uint64_t(v0) + uint64_t(i) * delta);
    } else {
      // float16/bfloat16 are filled in float32 and rounded, as NumPy's HALF_fill.
      using C = std::conditional_t<is_half_v<T>, float, T>;
      const T v0 = a.ints ? convert<T>(a.i0) : convert<T>(a.d0);
      const T v1 = a.ints ? convert<T>(a.i1) : convert<T>(a.d1);
      const C start = C(v0), delta = C(v1) - start;
      p[0] = v0;
      if (n > 1) p[1] = v1;
      for (int64_t i = 2; i < n; ++i) p[i] = T(start + C(i) * delta);
    }
  });
  out[0] = r;
}

std::optional<ShapeExprs> ARange::infer_shape(const ApplyNode& node, const ShapeExprs&) const {
  const auto& t = node.outputs[0].type;
  if (t.shape[0] != kUnknownDim) return ShapeExprs{{constant(double(t.shape[0]), DType::Int64)}};
  auto f = [&](int i) { return cast(node.inputs[i], DType::Float64); };
  Var len = ceil(true_div(sub(f(1), f(0)), f(2)));
  return ShapeExprs{{cast(maximum(len, constant(0.0, DType::Float64)), DType::Int64)}};
}

// ---- Linspace ----
std::string Linspace::name() const {
  return "Linspace{num=" + std::to_string(num_) + ", endpoint=" + (endpoint_ ? "True" : "False") +
         ", dtype=" + std::string(dtype_name(dtype_)) + "}";
}

static DType linspace_compute_dtype(DType a, DType b) {
  DType p = promote_types(a, b);
  return is_float(p) ? p : DType::Float64;
}

std::vector<TensorType> Linspace::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 2)
    throw std::invalid_argument("[" + name() + "] expected 2 inputs (start, stop), got " +
                                std::to_string(ins.size()));
  expect_scalar(name(), ins[0], "start");
  expect_scalar(name(), ins[1], "stop");
  if (num_ < 0)
    throw std::invalid_argument("[" + name() + "] Number of samples, " + std::to_string(num_) +
                                ", must be non-negative.");
  return {TensorType(dtype_, {num_})};
}

void Linspace::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const DType dt = linspace_compute_dtype(in[0].dtype(), in[1].dtype());
  const int64_t num = num_, div = endpoint_ ? num - 1 : num;
  Array r = Array::empty(dtype_, {num});
  visit_dtype(dt, [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_floating_point_v<T> || is_half_v<T>) {
      using C = std::conditional_t<is_half_v<T>, float, T>;
      auto rnd = [](C v) { return C(T(v)); };  // rounds to T after each step
      const C start = C(in[0].astype(dt).data_as<T>()[0]);
      const C stop = C(in[1].astype(dt).data_as<T>()[0]);
      const C delta = rnd(stop - start);
      std::vector<C> y(static_cast<size_t>(num));
      for (int64_t i = 0; i < num; ++i) y[i] = rnd(C(i));
      if (div > 0) {
        const C step = rnd(delta / C(div));
        for (auto& v : y) v = step == 0 ? rnd(rnd(v / C(div)) * delta) : rnd(v * step);
      } else {
        for (auto& v : y) v = rnd(v * delta);
      }
      for (auto& v : y) v = rnd(v + start);
      if (endpoint_ && num > 1) y[num - 1] = stop;
      const bool floor_first = is_integer(dtype_);
      visit_dtype(dtype_, [&](auto o) {
        using O = decltype(o);
        O* p = r.data_as<O>();
        for (int64_t i = 0; i < num; ++i) p[i] = convert<O>(floor_first ? std::floor(y[i]) : y[i]);
      });
    } else {
      throw std::logic_error("[Linspace] non-float computation dtype");
    }
  });
  out[0] = r;
}

std::optional<ShapeExprs> Linspace::infer_shape(const ApplyNode&, const ShapeExprs&) const {
  return ShapeExprs{{constant(double(num_), DType::Int64)}};
}

// ---- free functions ----
Var arange(const Var& start, const Var& stop, const Var& step, std::optional<DType> dtype) {
  DType d = dtype ? *dtype : arange_dtype(start.dtype(), stop.dtype(), step.dtype());
  return make1<ARange>({start, stop, step}, d);
}

Var arange(const Var& stop, std::optional<DType> dtype) {
  return arange(constant(0.0, DType::Int64), stop, constant(1.0, DType::Int64), dtype);
}

Var linspace(const Var& start, const Var& stop, int64_t num, bool endpoint,
             std::optional<DType> dtype) {
  if (num < 0)
    throw std::invalid_argument("[linspace] Number of samples, " + std::to_string(num) +
                                ", must be non-negative.");
  DType d = dtype ? *dtype : linspace_compute_dtype(start.dtype(), stop.dtype());
  return make1<Linspace>({start, stop}, num, endpoint, d);
}

}  // namespace theon
