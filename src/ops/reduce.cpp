// Reductions: one Op parameterised by kind, axes and keepdims.
#include "theon/ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"
#include "theon/runtime/strided.h"
#include "theon/runtime/thread_pool.h"
#include "reduce_kernels.h"

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
        dst[r] = convert<Out>(reduce_kernels::sum_run<double>(p, n) / double(n));
        break;
      }
      case ReduceKind::Sum: {
        dst[r] = convert<Out>(reduce_kernels::sum_run<Acc>(p, n));
        break;
      }
      case ReduceKind::Prod: {
        dst[r] = convert<Out>(reduce_kernels::prod_run<Acc>(p, n));
        break;
      }
      case ReduceKind::Max:
      case ReduceKind::Min: {
        if (n == 0 && !initial) break;  // refused before the kernel runs
        if (!initial) {
          dst[r] = convert<Out>(reduce_kernels::extreme_run(p, n, kind == ReduceKind::Max));
          break;
        }
        // The initial value takes part like one more element (NaN still wins).
        double v = n ? double(reduce_kernels::extreme_run(p, n, kind == ReduceKind::Max)) : *initial;
        bool init_better = kind == ReduceKind::Max ? v < *initial : *initial < v;
        dst[r] = convert<Out>(init_better ? *initial : v);
        break;
      }
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

// Work per task: about this many input elements.
constexpr int64_t kGrainElems = 1 << 15;

// Rows in parallel; one huge row (a full reduction) in fixed chunks whose
// partial results are combined in order, so the bits never depend on the
// number of threads.
template <class Acc, class T, class Out>
void reduce_parallel(ReduceKind kind, const T* src, Out* dst, int64_t rows, int64_t n,
                     const std::optional<double>& initial) {
  constexpr int64_t kChunk = 1 << 16;
  bool splittable = kind == ReduceKind::Sum || kind == ReduceKind::Mean ||
                    ((kind == ReduceKind::Max || kind == ReduceKind::Min) && !initial);
  if constexpr (!std::is_same_v<T, bool>) if (rows == 1 && n > 2 * kChunk && splittable) {
    int64_t chunks = (n + kChunk - 1) / kChunk;
    using Part = std::conditional_t<std::is_floating_point_v<T> || std::is_integral_v<Acc>,
                                    std::conditional_t<std::is_floating_point_v<T>, double, Acc>, Acc>;
    std::vector<Part> part(static_cast<size_t>(chunks));
    std::vector<T> ext(static_cast<size_t>(chunks));
    parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) {
        int64_t len = std::min(kChunk, n - c * kChunk);
        if (kind == ReduceKind::Max || kind == ReduceKind::Min)
          ext[size_t(c)] = reduce_kernels::extreme_run(src + c * kChunk, len, kind == ReduceKind::Max);
        else if (kind == ReduceKind::Mean)
          part[size_t(c)] = Part(reduce_kernels::sum_run<double>(src + c * kChunk, len));
        else
          part[size_t(c)] = Part(reduce_kernels::sum_run<Acc>(src + c * kChunk, len));
      }
    });
    if (kind == ReduceKind::Max || kind == ReduceKind::Min) {
      dst[0] = convert<Out>(reduce_kernels::extreme_run(ext.data(), chunks, kind == ReduceKind::Max));
    } else if (kind == ReduceKind::Mean) {
      double acc = 0;
      for (auto v : part) acc += double(v);
      dst[0] = convert<Out>(acc / double(n));
    } else {
      dst[0] = convert<Out>(reduce_kernels::sum_run<Acc>(part.data(), chunks));
    }
    return;
  }
  int64_t grain = std::max<int64_t>(1, kGrainElems / std::max<int64_t>(n, 1));
  parallel_for(rows, grain, [&](int64_t b, int64_t e) {
    reduce_rows<Acc, T, Out>(kind, src + b * n, dst + b, e - b, n, initial);
  });
}

}  // namespace

// Reducing the leading axes of a C-contiguous array: whole rows are added
// into a row of accumulators (vectorized along the kept axes, threads over
// column ranges) instead of transposing the input first.
bool Reduce::leading_axes_fast_path(const Array& x, int64_t n, const Shape& kept, const Shape& out_shape,
                                    std::vector<Array>& out) const {
  bool kind_ok = kind_ == ReduceKind::Sum || kind_ == ReduceKind::Mean || kind_ == ReduceKind::Prod ||
                 ((kind_ == ReduceKind::Max || kind_ == ReduceKind::Min) && !initial_);
  if (!kind_ok || n < 2 || kept.empty() || !x.is_c_contiguous() || x.dtype() == DType::Float16 ||
      x.dtype() == DType::BFloat16 || x.dtype() == DType::Bool)
    return false;
  for (size_t i = 0; i < axes_.size(); ++i)
    if (axes_[i] != int(i)) return false;
  const int64_t cols = shape_size(kept);
  if (cols == 0) return false;
  DType res = reduce_result_dtype(kind_, x.dtype());
  Array dst = Array::empty(res, out_shape);
  visit_dtype(x.dtype(), [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16> || std::is_same_v<T, bool>) {
      throw std::logic_error("unreachable");
    } else {
      using Acc0 = std::conditional_t<std::is_floating_point_v<T>, double,
                                      std::conditional_t<std::is_unsigned_v<T> && !std::is_same_v<T, bool>,
                                                         uint64_t, int64_t>>;
      const T* src = x.data_as<T>();
      visit_dtype(res, [&](auto o) {
        using Out = decltype(o);
        Out* d = dst.data_as<Out>();
        // Wide column blocks: each task streams whole row segments.
        int64_t grain = std::max<int64_t>(1024, kGrainElems / n);
        parallel_for(cols, grain, [&](int64_t b, int64_t e) {
          const int64_t w = e - b;
          if (kind_ == ReduceKind::Max || kind_ == ReduceKind::Min) {
            std::vector<T> acc(src + b, src + e);
            for (int64_t i = 1; i < n; ++i)
              reduce_kernels::extreme_row(acc.data(), src + i * cols + b, w, kind_ == ReduceKind::Max);
            for (int64_t j = 0; j < w; ++j) d[b + j] = convert<Out>(acc[size_t(j)]);
          } else if (kind_ == ReduceKind::Mean) {
            std::vector<double> acc(size_t(w), 0.0);
            for (int64_t i = 0; i < n; ++i) reduce_kernels::add_row(acc.data(), src + i * cols + b, w);
            for (int64_t j = 0; j < w; ++j) d[b + j] = convert<Out>(acc[size_t(j)] / double(n));
          } else {
            using Acc = Acc0;
            std::vector<Acc> acc(size_t(w), Acc(kind_ == ReduceKind::Prod ? 1 : 0));
            for (int64_t i = 0; i < n; ++i) {
              if (kind_ == ReduceKind::Prod) reduce_kernels::mul_row(acc.data(), src + i * cols + b, w);
              else reduce_kernels::add_row(acc.data(), src + i * cols + b, w);
            }
            for (int64_t j = 0; j < w; ++j) d[b + j] = convert<Out>(acc[size_t(j)]);
          }
        });
      });
    }
  });
  out[0] = dst;
  return true;
}

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
  if (leading_axes_fast_path(x, n, kept, keepdims_ ? kept_keepdims : kept, out)) return;
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
        reduce_parallel<Acc, T, Out>(kind_, src.data_as<T>(), dst.data_as<Out>(), rows, n, initial_);
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
