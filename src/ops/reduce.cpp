// Reductions: one Op parameterised by kind, axes and keepdims.
#include "theon/ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"
#include "theon/runtime/strided.h"

namespace theon {

namespace {
const char* kind_name(ReduceKind k) {
  static const char* names[] = {"Sum", "Prod", "Mean", "Max", "Min", "All", "Any", "ArgMax", "ArgMin"};
  return names[int(k)];
}
bool is_arg(ReduceKind k) { return k == ReduceKind::ArgMax || k == ReduceKind::ArgMin; }
// Reductions without an identity refuse zero-size input, unless given an initial value.
bool no_identity(ReduceKind k, const std::optional<double>& initial) {
  return is_arg(k) || ((k == ReduceKind::Max || k == ReduceKind::Min) && !initial);
}
}  // namespace

std::vector<int> normalize_axes(const Axes& axis, int ndim, const char* who) {
  std::vector<int> r;
  if (!axis) {
    for (int i = 0; i < ndim; ++i) r.push_back(i);
    return r;
  }
  for (int a : *axis) r.push_back(normalize_axis(a, ndim, who));
  std::sort(r.begin(), r.end());
  if (std::adjacent_find(r.begin(), r.end()) != r.end())
    throw std::invalid_argument(std::string(who) + ": duplicate value in 'axis'");
  return r;
}

DType reduce_result_dtype(ReduceKind kind, DType d) {
  switch (kind) {
    case ReduceKind::Sum:
    case ReduceKind::Prod:
      if (d == DType::Bool || (is_signed_int(d) && itemsize(d) < 8)) return DType::Int64;
      if (dtype_kind(d) == DKind::UInt && itemsize(d) < 8) return DType::UInt64;
      return d;
    case ReduceKind::Mean:
      return is_float(d) ? d : DType::Float64;
    case ReduceKind::All:
    case ReduceKind::Any:
      return DType::Bool;
    case ReduceKind::ArgMax:
    case ReduceKind::ArgMin:
      return DType::Int64;
    default:
      return d;
  }
}

std::string Reduce::name() const {
  std::string s = std::string(kind_name(kind_)) + "{axis=(";
  for (size_t i = 0; i < axes_.size(); ++i) s += (i ? ", " : "") + std::to_string(axes_[i]);
  if (axes_.size() == 1) s += ",";
  s += ")";
  if (keepdims_) s += ", keepdims";
  if (initial_) s += ", initial=" + std::to_string(*initial_);
  return s + "}";
}

std::string Reduce::props() const { return name(); }

std::vector<TensorType> Reduce::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 1)
    throw std::invalid_argument("[" + name() + "] expected 1 input, got " + std::to_string(ins.size()));
  const auto& t = ins[0].type();
  for (int a : axes_)
    if (a < 0 || a >= t.ndim())
      throw std::invalid_argument("[" + name() + "] axis " + std::to_string(a) +
                                  " is out of bounds for " + t.str());
  std::vector<int64_t> shp;
  for (int i = 0; i < t.ndim(); ++i) {
    bool red = std::find(axes_.begin(), axes_.end(), i) != axes_.end();
    if (red && no_identity(kind_, initial_) && t.shape[i] == 0)
      throw std::invalid_argument("[" + name() + "] zero-size array to reduction operation which has no identity: " + t.str());
    if (!red) shp.push_back(t.shape[i]);
    else if (keepdims_) shp.push_back(1);
  }
  return {TensorType(reduce_result_dtype(kind_, t.dtype), shp)};
}

std::optional<ShapeExprs> Reduce::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  std::vector<Var> r;
  for (int i = 0; i < node.inputs[0].ndim(); ++i) {
    bool red = std::find(axes_.begin(), axes_.end(), i) != axes_.end();
    if (!red) r.push_back(in[0][i]);
    else if (keepdims_) r.push_back(constant(1.0, DType::Int64));
  }
  return ShapeExprs{r};
}

namespace {

// Reduces each contiguous row of length n in `src` (rows x n) into dst[row].
template <class Acc, class T, class Out>
void reduce_rows(ReduceKind kind, const T* src, Out* dst, int64_t rows, int64_t n,
                 const std::optional<double>& initial) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* p = src + r * n;
    switch (kind) {
      case ReduceKind::Mean: {
        // In double for integers too, as NumPy: an int64 sum would wrap.
        double acc = 0;
        for (int64_t i = 0; i < n; ++i) acc += double(p[i]);
        dst[r] = convert<Out>(acc / double(n));
        break;
      }
      case ReduceKind::Sum: {
        Acc acc = 0;
        if constexpr (std::is_integral_v<Acc>) {
          using UA = std::make_unsigned_t<Acc>;
          UA u = 0;
          for (int64_t i = 0; i < n; ++i) u += UA(Acc(p[i]));
          acc = Acc(u);
        } else {
          for (int64_t i = 0; i < n; ++i) acc += Acc(p[i]);
        }
        dst[r] = convert<Out>(acc);
        break;
      }
      case ReduceKind::Prod: {
        if constexpr (std::is_integral_v<Acc>) {
          using UA = std::make_unsigned_t<Acc>;
          UA u = 1;
          for (int64_t i = 0; i < n; ++i) u *= UA(Acc(p[i]));
          dst[r] = convert<Out>(Acc(u));
        } else {
          Acc acc = 1;
          for (int64_t i = 0; i < n; ++i) acc *= Acc(p[i]);
          dst[r] = convert<Out>(acc);
        }
        break;
      }
      case ReduceKind::Max:
      case ReduceKind::Min:
      case ReduceKind::ArgMax:
      case ReduceKind::ArgMin: {
        bool want_max = kind == ReduceKind::Max || kind == ReduceKind::ArgMax;
        int64_t best = 0;
        for (int64_t i = 1; i < n; ++i) {
          if constexpr (std::is_floating_point_v<T>)
            if (std::isnan(p[best])) break;  // NaN propagates / first NaN wins
          bool better = want_max ? p[best] < p[i] : p[i] < p[best];
          if constexpr (std::is_floating_point_v<T>) better = better || std::isnan(p[i]);
          if (better) best = i;
        }
        if (is_arg(kind)) {
          dst[r] = convert<Out>(best);
        } else if (initial) {
          // The initial value takes part like one more element (NaN still wins).
          double v = n ? double(p[best]) : *initial;
          bool init_better = want_max ? v < *initial : *initial < v;
          dst[r] = convert<Out>(init_better ? *initial : v);
        } else {
          dst[r] = convert<Out>(p[best]);
        }
        break;
      }
      case ReduceKind::All: {
        bool acc = true;
        for (int64_t i = 0; i < n && acc; ++i) acc = p[i] != T(0);
        dst[r] = convert<Out>(acc);
        break;
      }
      case ReduceKind::Any: {
        bool acc = false;
        for (int64_t i = 0; i < n && !acc; ++i) acc = p[i] != T(0);
        dst[r] = convert<Out>(acc);
        break;
      }
    }
  }
}

}  // namespace

void Reduce::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  std::vector<int> perm;
  Shape kept, kept_keepdims;
  int64_t n = 1;
  for (int i = 0; i < x.ndim(); ++i) {
    bool red = std::find(axes_.begin(), axes_.end(), i) != axes_.end();
    if (!red) {
      perm.push_back(i);
      kept.push_back(x.shape()[i]);
      kept_keepdims.push_back(x.shape()[i]);
    } else {
      kept_keepdims.push_back(1);
      n *= x.shape()[i];
    }
  }
  for (int a : axes_) perm.push_back(a);
  if (n == 0 && no_identity(kind_, initial_))
    throw std::invalid_argument("[" + name() + "] zero-size array to reduction operation which has no identity (input shape " + shape_str(x.shape()) + ")");
  // float16/bfloat16 are read as float32.
  DType src_dtype = (x.dtype() == DType::Float16 || x.dtype() == DType::BFloat16) ? DType::Float32 : x.dtype();
  Array src = x.transpose(perm).contiguous(src_dtype);
  DType res = reduce_result_dtype(kind_, x.dtype());
  Array dst = Array::empty(res, keepdims_ ? kept_keepdims : kept);
  int64_t rows = shape_size(kept);
  visit_dtype(src_dtype, [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>) {
      throw std::logic_error("unreachable");
    } else {
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double,
                                     std::conditional_t<std::is_unsigned_v<T> && !std::is_same_v<T, bool>,
                                                        uint64_t, int64_t>>;
      visit_dtype(res, [&](auto o) {
        using Out = decltype(o);
        reduce_rows<Acc, T, Out>(kind_, src.data_as<T>(), dst.data_as<Out>(), rows, n, initial_);
      });
    }
  });
  out[0] = dst;
}

Var reduce(ReduceKind kind, const Var& x, const Axes& axis, bool keepdims) {
  std::string who = "[" + std::string(kind_name(kind)) + "]";
  auto axes = normalize_axes(axis, x.ndim(), who.c_str());
  return make1<Reduce>({x}, kind, axes, keepdims);
}

Var sum(const Var& x, const Axes& a, bool k) { return reduce(ReduceKind::Sum, x, a, k); }
Var prod(const Var& x, const Axes& a, bool k) { return reduce(ReduceKind::Prod, x, a, k); }
Var mean(const Var& x, const Axes& a, bool k) { return reduce(ReduceKind::Mean, x, a, k); }
Var max(const Var& x, const Axes& a, bool k) { return reduce(ReduceKind::Max, x, a, k); }
Var min(const Var& x, const Axes& a, bool k) { return reduce(ReduceKind::Min, x, a, k); }
Var all(const Var& x, const Axes& a, bool k) { return reduce(ReduceKind::All, x, a, k); }
Var any(const Var& x, const Axes& a, bool k) { return reduce(ReduceKind::Any, x, a, k); }

static Var arg_reduce(ReduceKind kind, const Var& x, std::optional<int> axis, bool keepdims) {
  if (!axis) {
    Var flat = flatten(x, 1);
    Var r = reduce(kind, flat, std::vector<int>{0}, false);
    if (keepdims) {
      std::vector<int> order(x.ndim(), -1);
      r = dimshuffle(r, order);
    }
    return r;
  }
  return reduce(kind, x, std::vector<int>{*axis}, keepdims);
}
Var argmax(const Var& x, std::optional<int> axis, bool k) { return arg_reduce(ReduceKind::ArgMax, x, axis, k); }
Var argmin(const Var& x, std::optional<int> axis, bool k) { return arg_reduce(ReduceKind::ArgMin, x, axis, k); }

// Number of elements reduced, as a symbolic float of the given dtype.
static Var count_reduced(const Var& x, const std::vector<int>& axes, DType dtype) {
  Var n = constant(1.0, DType::Int64);
  for (int a : axes) n = mul(n, shape_i(x, a));
  return cast(n, dtype);
}

Var var(const Var& x, const Axes& axis, bool keepdims, int ddof) {
  auto axes = normalize_axes(axis, x.ndim(), "[var]");
  Var xf = is_float(x.dtype()) ? x : cast(x, DType::Float64);
  Var centered = sub(xf, mean(xf, axes, true));
  Var ss = sum(sqr(centered), axes, keepdims);
  Var n = count_reduced(x, axes, xf.dtype());
  // NumPy divides by max(n - ddof, 0): nan for too few values, never a negative count.
  Var denom = ddof ? maximum(sub(n, constant(double(ddof), xf.dtype())), constant(0.0, xf.dtype())) : n;
  return true_div(ss, denom);
}

Var std(const Var& x, const Axes& axis, bool keepdims, int ddof) {
  return sqrt(var(x, axis, keepdims, ddof));
}

Var logsumexp(const Var& x, const Axes& axis, bool keepdims) {
  auto axes = normalize_axes(axis, x.ndim(), "[logsumexp]");
  // SciPy's dtypes: floats kept, integers in float64.
  Var xf = is_float(x.dtype()) ? x : cast(x, DType::Float64);
  // initial=-inf: over nothing the sum is 0 and the result -inf, as SciPy.
  Var m = make1<Reduce>({xf}, ReduceKind::Max, axes, true, -std::numeric_limits<double>::infinity());
  // An infinite max would give inf - inf = nan; shift by 0 there instead.
  Var safe = switch_(isinf(m), constant(0.0, xf.dtype()), m);
  Var r = add(log(sum(exp(sub(xf, safe)), axes, true)), safe);
  if (!keepdims) {
    std::vector<int> order;
    for (int i = 0; i < x.ndim(); ++i)
      if (std::find(axes.begin(), axes.end(), i) == axes.end()) order.push_back(i);
    r = dimshuffle(r, order);
  }
  return r;
}

}  // namespace theon
