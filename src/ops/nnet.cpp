// Softmax / log-softmax ops, the one-hot cross-entropy op and the activation
// functions composed from elementwise ops.
#include "theon/ops/nnet.h"

#include "reduce_kernels.h"
#include "vector_math.h"
#include "theon/runtime/thread_pool.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"

namespace theon {

DType nnet_float_dtype(DType d) { return is_float(d) ? d : DType::Float64; }

namespace {

// float64 computes in double, every other dtype in float.
DType compute_dtype(DType out) { return out == DType::Float64 ? DType::Float64 : DType::Float32; }

void check_numeric(const char* who, const char* what, const TensorType& t) {
  if (t.dtype == DType::Bool)
    throw std::invalid_argument(std::string("[") + who + "] " + what +
                                " must be a numeric tensor, got " + t.str());
}

// Rows in parallel; within a row the max and the sum use the vectorized
// reduction kernels (several accumulators; the sum in double).
template <class C>
void softmax_rows(const C* src, C* dst, int64_t rows, int64_t n, bool log) {
  if (n == 0) return;
  int64_t grain = std::max<int64_t>(1, (int64_t(1) << 14) / n);
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const C* p = src + r * n;
      C* q = dst + r * n;
      const C m = reduce_kernels::extreme_run(p, n, true);  // NaN anywhere makes the row NaN
      for (int64_t i = 0; i < n; ++i) q[i] = p[i] - m;
      detail::vec_apply(detail::VecFn::exp, q, q, n);  // the elementwise exp's vector code
      const double s = reduce_kernels::sum_run<double>(q, n);
      if (log) {
        const C ls = C(std::log(s));
        for (int64_t i = 0; i < n; ++i) q[i] = p[i] - m - ls;
      } else {
        const C inv = C(1.0 / s);
        for (int64_t i = 0; i < n; ++i) q[i] *= inv;
      }
    }
  });
}

}  // namespace

// ---- Softmax ----
std::string Softmax::name() const {
  return std::string(log_ ? "LogSoftmax" : "Softmax") + "{axis=" + std::to_string(axis_) + "}";
}
std::string Softmax::props() const { return name(); }

std::vector<TensorType> Softmax::infer_type(const std::vector<Var>& ins) const {
  const char* who = log_ ? "log_softmax" : "softmax";
  if (ins.size() != 1)
    throw std::invalid_argument(std::string("[") + who + "] expected 1 input, got " +
                                std::to_string(ins.size()));
  const TensorType& t = ins[0].type();
  check_numeric(who, "input", t);
  if (t.ndim() == 0 || axis_ < 0 || axis_ >= t.ndim())
    throw std::invalid_argument(std::string("[") + who + "] axis " + std::to_string(axis_) +
                                " is out of bounds for input " + t.str());
  return {TensorType(nnet_float_dtype(t.dtype), t.shape)};
}

std::optional<ShapeExprs> Softmax::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[0]};
}

void Softmax::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& x = in[0];
  const int nd = x.ndim();
  if (axis_ >= nd)
    throw std::invalid_argument("[" + name() + "] axis is out of bounds for input of shape " +
                                shape_str(x.shape()));
  DType out_dt = nnet_float_dtype(x.dtype());
  DType cdt = compute_dtype(out_dt);
  std::vector<int> perm;
  for (int i = 0; i < nd; ++i)
    if (i != axis_) perm.push_back(i);
  perm.push_back(axis_);
  Array src = x.transpose(perm).contiguous(cdt);
  Array buf = Array::empty(cdt, src.shape());
  const int64_t n = x.shape()[axis_];
  const int64_t rows = n == 0 ? 0 : x.size() / n;
  if (cdt == DType::Float64)
    softmax_rows(src.data_as<double>(), buf.data_as<double>(), rows, n, log_);
  else
    softmax_rows(src.data_as<float>(), buf.data_as<float>(), rows, n, log_);
  if (axis_ == nd - 1 && cdt == out_dt) {
    out[0] = buf;
    return;
  }
  Array r = Array::empty(out_dt, x.shape());
  r.transpose(perm).assign(buf);
  out[0] = r;
}

// ---- CrossentropyCategorical1Hot ----
std::vector<TensorType> CrossentropyCategorical1Hot::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 2)
    throw std::invalid_argument("[crossentropy_categorical_1hot] expected 2 inputs, got " +
                                std::to_string(ins.size()));
  const TensorType& c = ins[0].type();
  const TensorType& y = ins[1].type();
  check_numeric("crossentropy_categorical_1hot", "coding_dist", c);
  if (c.ndim() < 1)
    throw std::invalid_argument("[crossentropy_categorical_1hot] coding_dist must have at least "
                                "1 dimension, got " + c.str());
  if (!is_integer(y.dtype))
    throw std::invalid_argument("[crossentropy_categorical_1hot] class indices must be integers, got " +
                                y.str());
  if (y.ndim() != c.ndim() - 1)
    throw std::invalid_argument("[crossentropy_categorical_1hot] class indices must have " +
                                std::to_string(c.ndim() - 1) + " dimension(s) for coding_dist " +
                                c.str() + ", got " + y.str());
  std::vector<int64_t> shp;
  for (int i = 0; i < y.ndim(); ++i) {
    int64_t a = c.shape[i], b = y.shape[i];
    if (a >= 0 && b >= 0 && a != b)
      throw std::invalid_argument("[crossentropy_categorical_1hot] coding_dist " + c.str() +
                                  " and class indices " + y.str() + " disagree on dimension " +
                                  std::to_string(i));
    shp.push_back(a >= 0 ? a : b);
  }
  return {TensorType(nnet_float_dtype(c.dtype), shp)};
}

std::optional<ShapeExprs> CrossentropyCategorical1Hot::infer_shape(const ApplyNode&,
                                                                   const ShapeExprs& in) const {
  return ShapeExprs{in[1]};
}

void CrossentropyCategorical1Hot::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& c = in[0];
  const Array& y = in[1];
  Shape lead(c.shape().begin(), c.shape().end() - 1);
  if (lead != y.shape())
    throw std::invalid_argument("[crossentropy_categorical_1hot] coding_dist of shape " +
                                shape_str(c.shape()) + " needs class indices of shape " +
                                shape_str(lead) + ", got " + shape_str(y.shape()));
  DType out_dt = nnet_float_dtype(c.dtype());
  const int64_t k = c.shape().back();
  const int64_t rows = shape_size(lead);
  Array cd = c.contiguous(DType::Float64);
  Array yi = y.contiguous(DType::Int64);
  Array r = Array::empty(DType::Float64, lead);
  const double* cp = cd.data_as<double>();
  const int64_t* yp = yi.data_as<int64_t>();
  double* rp = r.data_as<double>();
  for (int64_t i = 0; i < rows; ++i) {
    if (yp[i] < 0 || yp[i] >= k)
      throw std::out_of_range("[crossentropy_categorical_1hot] class index " + std::to_string(yp[i]) +
                              " at position " + std::to_string(i) + " is out of range for " +
                              std::to_string(k) + " classes");
    rp[i] = -std::log(cp[i * k + yp[i]]);
  }
  out[0] = out_dt == DType::Float64 ? r : r.astype(out_dt);
}

// ---- builders ----
Var softmax(const Var& x, int axis) {
  if (x.ndim() == 0)
    throw std::invalid_argument("[softmax] expected an input with at least 1 dimension, got " +
                                x.type().str());
  return make1<Softmax>({x}, normalize_axis(axis, x.ndim(), "[softmax]"), false);
}

Var log_softmax(const Var& x, int axis) {
  if (x.ndim() == 0)
    throw std::invalid_argument("[log_softmax] expected an input with at least 1 dimension, got " +
                                x.type().str());
  return make1<Softmax>({x}, normalize_axis(axis, x.ndim(), "[log_softmax]"), true);
}

Var crossentropy_categorical_1hot(const Var& coding_dist, const Var& true_idx) {
  return apply1(std::make_shared<CrossentropyCategorical1Hot>(), {coding_dist, true_idx});
}

Var categorical_crossentropy(const Var& coding_dist, const Var& true_dist) {
  const int n = coding_dist.ndim();
  if (n >= 1 && true_dist.ndim() == n) {
    if (true_dist.dtype() == DType::Bool || coding_dist.dtype() == DType::Bool)
      throw std::invalid_argument("[categorical_crossentropy] expected numeric distributions, got " +
                                  coding_dist.type().str() + " and " + true_dist.type().str());
    return neg(sum(mul(true_dist, log(coding_dist)), std::vector<int>{n - 1}));
  }
  if (n >= 1 && true_dist.ndim() == n - 1) return crossentropy_categorical_1hot(coding_dist, true_dist);
  throw std::invalid_argument("[categorical_crossentropy] true_dist must have the rank of coding_dist " +
                              coding_dist.type().str() + " (probabilities) or one less (class "
                              "indices), got " + true_dist.type().str());
}

Var binary_crossentropy(const Var& output, const Var& target) {
  if (output.dtype() == DType::Bool)
    throw std::invalid_argument("[binary_crossentropy] output must be numeric, got " + output.type().str());
  // Of a sigmoid, the loss is built from its logits: t*softplus(-z) + (1-t)*softplus(z)
  // is the same value without overflow, and its gradient (sigmoid(z) - t) stays
  // finite where the literal form divides by a sigmoid that rounded to 0 or 1.
  if (auto* e = output.owner() ? dynamic_cast<const Elemwise*>(output.owner()->op.get()) : nullptr;
      e && e->scalar_op() == ScalarOpId::sigmoid) {
    const Var& z = output.owner()->inputs[0];
    return cast(add(mul(target, softplus(neg(z))), mul(1.0 - target, softplus(z))),
                promote_types(output.dtype(), target.dtype()));
  }
  return neg(add(mul(target, log(output)), mul(1.0 - target, log(1.0 - output))));
}

namespace {
Var zero_like(const Var& x) { return weak_scalar(0.0, ScalarKind::Int, x.dtype()); }
Var as_float(const Var& x) { return is_float(x.dtype()) ? x : cast(x, DType::Float64); }
}  // namespace

Var relu(const Var& x, double alpha) {
  if (x.dtype() == DType::Bool)
    throw std::invalid_argument("[relu] expected a numeric tensor, got " + x.type().str());
  if (alpha == 0.0) return maximum(x, zero_like(x));
  return switch_(gt(x, zero_like(x)), x, x * alpha);
}

Var relu(const Var& x, const Var& alpha) {
  if (x.dtype() == DType::Bool)
    throw std::invalid_argument("[relu] expected a numeric tensor, got " + x.type().str());
  return switch_(gt(x, zero_like(x)), x, mul(alpha, x));
}

Var elu(const Var& x, double alpha) {
  if (x.dtype() == DType::Bool)
    throw std::invalid_argument("[elu] expected a numeric tensor, got " + x.type().str());
  Var xf = as_float(x);
  return switch_(gt(xf, zero_like(xf)), xf, expm1(xf) * alpha);
}

Var elu(const Var& x, const Var& alpha) {
  if (x.dtype() == DType::Bool)
    throw std::invalid_argument("[elu] expected a numeric tensor, got " + x.type().str());
  Var xf = as_float(x);
  return switch_(gt(xf, zero_like(xf)), xf, mul(alpha, expm1(xf)));
}

Var selu(const Var& x) {
  if (x.dtype() == DType::Bool)
    throw std::invalid_argument("[selu] expected a numeric tensor, got " + x.type().str());
  constexpr double kAlpha = 1.6732632423543772848170429916717;
  constexpr double kScale = 1.0507009873554804934193349852946;
  return elu(x, kAlpha) * kScale;
}

}  // namespace theon
