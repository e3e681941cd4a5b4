// Gemm, Gemv and Ger: a product and an addition in one BLAS call (see theon/ops/gemm.h).
#include "theon/ops/gemm.h"
#include "theon/runtime/profiling.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <stdexcept>

#include "blas_lapack.h"
#include "blas_operands.h"
#include "theon/autodiff/grad.h"
#include "theon/ops/blas.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"

extern "C" {
void sger_(const f_int* m, const f_int* n, const float* alpha, const float* x, const f_int* incx, const float* y,
           const f_int* incy, float* a, const f_int* lda);
void dger_(const f_int* m, const f_int* n, const double* alpha, const double* x, const f_int* incx,
           const double* y, const f_int* incy, double* a, const f_int* lda);
}

namespace theon {

namespace {
using namespace blas_operands;

// ---- types ----
void check_inputs(const std::string& who, const std::vector<Var>& ins, size_t n, const std::vector<int>& ranks,
                  const char* names) {
  if (ins.size() != n)
    throw std::invalid_argument("[" + who + "] expected " + std::to_string(n) + " inputs (" + names + "), got " +
                                std::to_string(ins.size()));
  const DType dt = ins[0].dtype();
  if (dt != DType::Float32 && dt != DType::Float64)
    throw std::invalid_argument("[" + who + "] expected float32 or float64 inputs, got " + ins[0].type().str());
  for (size_t i = 0; i < n; ++i) {
    if (ins[i].dtype() != dt)
      throw std::invalid_argument("[" + who + "] inputs (" + names + ") must share one dtype, got " +
                                  ins[0].type().str() + " and " + ins[i].type().str() + " (input " +
                                  std::to_string(i) + ")");
    if (ins[i].ndim() != ranks[i])
      throw std::invalid_argument("[" + who + "] input " + std::to_string(i) + " of (" + names + ") must have " +
                                  std::to_string(ranks[i]) + " dimension(s), got " + ins[i].type().str());
  }
}

void check_static_aligned(const std::string& who, const TensorType& a, int da, const TensorType& b, int db) {
  int64_t x = a.shape[da], y = b.shape[db];
  if (x >= 0 && y >= 0 && x != y)
    throw std::invalid_argument("[" + who + "] shapes " + a.str() + " and " + b.str() + " are not aligned: " +
                                std::to_string(x) + " != " + std::to_string(y));
}

// The static shape of z broadcast against the product's static shape.
std::vector<int64_t> broadcast_static(const std::string& who, const TensorType& z, const std::vector<int64_t>& p) {
  std::vector<int64_t> r(p.size());
  for (size_t d = 0; d < p.size(); ++d) {
    int64_t a = z.shape[d], b = p[d];
    if (a == 1) r[d] = b;
    else if (b == 1) r[d] = a;
    else if (a >= 0 && b >= 0 && a != b)
      throw std::invalid_argument("[" + who + "] z " + z.str() + " does not broadcast against the product of shape " +
                                  TensorType(z.dtype, p).str());
    else r[d] = a >= 0 ? a : b;
  }
  return r;
}

// Symbolic broadcast of z's and the product's shapes (NumPy's rule, as Elemwise).
ShapeExprs broadcast_exprs(const ApplyNode& node, const std::vector<Var>& z, const std::vector<Var>& p) {
  const auto& out = node.outputs[0].type.shape;
  const auto& zs = node.inputs[0].type().shape;
  std::vector<Var> r(out.size());
  const Var one = constant(1.0, DType::Int64);
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] >= 0) r[d] = constant(double(out[d]), DType::Int64);
    else if (zs[d] == 1) r[d] = p[d];
    else r[d] = switch_(eq(p[d], one), z[d], switch_(eq(z[d], one), p[d], z[d]));
  }
  return ShapeExprs{r};
}


bool fits_int(std::initializer_list<int64_t> dims) {
  for (int64_t d : dims)
    if (d > INT_MAX) return false;
  return true;
}

Shape broadcast_runtime(const std::string& who, const Shape& z, const Shape& p) {
  try {
    return broadcast_shapes(z, p);
  } catch (const std::exception&) {
    throw std::invalid_argument("[" + who + "] z of shape " + shape_str(z) +
                                " does not broadcast against the product of shape " + shape_str(p));
  }
}

// beta * z + alpha * prod, elementwise: the exact expression, used when BLAS cannot run it in place.
Array scaled_sum(const Array& z, const Array& alpha, const Array& prod, const Array* beta) {
  Array bz = beta ? elemwise_eval(ScalarOpId::mul, {*beta, z}) : z;
  return elemwise_eval(ScalarOpId::add, {bz, elemwise_eval(ScalarOpId::mul, {alpha, prod})});
}

Array product(const Array& a, const Array& b) {
  std::vector<Array> out(1);
  Dot().perform({a, b}, out);
  return out[0];
}

template <class T>
T scalar_of(const Array& a) {
  return static_cast<T>(a.item_double());
}

template <class T>
void run_gemm(const Array& x, const Array& y, T alpha, T beta, Array& out) {
  const int64_t m = x.shape()[0], k = x.shape()[1], n = y.shape()[1];
  auto A = blas_mat<T>(x);
  auto B = blas_mat<T>(y);
  const f_int fm = f_int(m), fn = f_int(n), fk = f_int(k), ldc = f_int(n);
  // Column-major view of the row-major problem: C^T (n x m) = B^T (n x k) A^T (k x m).
  const char* tb = B.row_major ? "N" : "T";
  const char* ta = A.row_major ? "N" : "T";
  const f_int ldb = B.ld, lda = A.ld;
  note_kernel(std::is_same_v<T, float> ? "openblas sgemm" : "openblas dgemm");
  if constexpr (std::is_same_v<T, float>)
    sgemm_(tb, ta, &fn, &fm, &fk, &alpha, B.p, &ldb, A.p, &lda, &beta, out.data_as<T>(), &ldc, 1, 1);
  else
    dgemm_(tb, ta, &fn, &fm, &fk, &alpha, B.p, &ldb, A.p, &lda, &beta, out.data_as<T>(), &ldc, 1, 1);
}

template <class T>
void run_gemv(const Array& a, const Array& x, T alpha, T beta, Array& out) {
  const int64_t m = a.shape()[0], k = a.shape()[1];
  auto A = blas_mat<T>(a);
  auto [xv, incx] = blas_vec<T>(x);
  const f_int incy = 1, lda = A.ld;
  // Row-major A is the column-major k x m matrix A^T, so A x is its transpose times x.
  const char* t = A.row_major ? "T" : "N";
  const f_int rows = A.row_major ? f_int(k) : f_int(m), cols = A.row_major ? f_int(m) : f_int(k);
  if constexpr (std::is_same_v<T, float>)
    sgemv_(t, &rows, &cols, &alpha, A.p, &lda, xv.template data_as<T>(), &incx, &beta, out.data_as<T>(), &incy, 1);
  else
    dgemv_(t, &rows, &cols, &alpha, A.p, &lda, xv.template data_as<T>(), &incx, &beta, out.data_as<T>(), &incy, 1);
}

template <class T>
void run_ger(const Array& x, const Array& y, T alpha, Array& out) {
  const int64_t m = x.shape()[0], n = y.shape()[0];
  auto [xv, incx] = blas_vec<T>(x);
  auto [yv, incy] = blas_vec<T>(y);
  // The row-major m x n output is the column-major n x m matrix out^T += alpha * y x^T.
  const f_int fm = f_int(n), fn = f_int(m), lda = f_int(std::max<int64_t>(n, 1));
  if constexpr (std::is_same_v<T, float>)
    sger_(&fm, &fn, &alpha, yv.template data_as<T>(), &incy, xv.template data_as<T>(), &incx, out.data_as<T>(), &lda);
  else
    dger_(&fm, &fn, &alpha, yv.template data_as<T>(), &incy, xv.template data_as<T>(), &incx, out.data_as<T>(), &lda);
}

std::vector<InputGrad> grads_of(const Var& expr, const ApplyNode& node, const Var& g) {
  std::vector<Var> ins(node.inputs.begin(), node.inputs.end());
  std::vector<InputGrad> r;
  for (const Var& d : Lop({expr}, ins, {g})) r.push_back(d.defined() ? InputGrad::of(d) : InputGrad::disconnected());
  return r;
}

}  // namespace

// ---- Gemm ----
std::vector<TensorType> Gemm::infer_type(const std::vector<Var>& ins) const {
  check_inputs(name(), ins, 5, {2, 0, 2, 2, 0}, "z, alpha, x, y, beta");
  const TensorType &x = ins[2].type(), &y = ins[3].type();
  check_static_aligned(name(), x, 1, y, 0);
  return {TensorType(x.dtype, broadcast_static(name(), ins[0].type(), {x.shape[0], y.shape[1]}))};
}

std::optional<ShapeExprs> Gemm::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  return broadcast_exprs(node, in[0], {in[2][0], in[3][1]});
}

void Gemm::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array &z = in[0], &alpha = in[1], &x = in[2], &y = in[3], &beta = in[4];
  if (x.shape()[1] != y.shape()[0])
    throw std::invalid_argument("[Gemm] shapes " + shape_str(x.shape()) + " and " + shape_str(y.shape()) +
                                " are not aligned");
  const int64_t m = x.shape()[0], k = x.shape()[1], n = y.shape()[1];
  const Shape p{m, n};
  const bool blas = broadcast_runtime(name(), z.shape(), p) == p && alpha.item_double() != 0 &&
                    beta.item_double() != 0 && m > 0 && n > 0 && k > 0 && fits_int({m, n, k});
  if (!blas) {
    out[0] = scaled_sum(z, alpha, product(x, y), &beta);
    return;
  }
  Array r = z.broadcast_to(p).copy();
  if (z.dtype() == DType::Float32) run_gemm<float>(x, y, scalar_of<float>(alpha), scalar_of<float>(beta), r);
  else run_gemm<double>(x, y, scalar_of<double>(alpha), scalar_of<double>(beta), r);
  out[0] = r;
}

std::vector<InputGrad> Gemm::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const auto& i = node.inputs;
  return grads_of(add(mul(i[4], i[0]), mul(i[1], dot(i[2], i[3]))), node, og[0]);
}

// ---- Gemv ----
std::vector<TensorType> Gemv::infer_type(const std::vector<Var>& ins) const {
  check_inputs(name(), ins, 5, {1, 0, 2, 1, 0}, "z, alpha, a, x, beta");
  const TensorType &a = ins[2].type(), &x = ins[3].type();
  check_static_aligned(name(), a, 1, x, 0);
  return {TensorType(a.dtype, broadcast_static(name(), ins[0].type(), {a.shape[0]}))};
}

std::optional<ShapeExprs> Gemv::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  return broadcast_exprs(node, in[0], {in[2][0]});
}

void Gemv::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array &z = in[0], &alpha = in[1], &a = in[2], &x = in[3], &beta = in[4];
  if (a.shape()[1] != x.shape()[0])
    throw std::invalid_argument("[Gemv] shapes " + shape_str(a.shape()) + " and " + shape_str(x.shape()) +
                                " are not aligned");
  const int64_t m = a.shape()[0], k = a.shape()[1];
  const Shape p{m};
  const bool blas = broadcast_runtime(name(), z.shape(), p) == p && alpha.item_double() != 0 &&
                    beta.item_double() != 0 && m > 0 && k > 0 && fits_int({m, k});
  if (!blas) {
    out[0] = scaled_sum(z, alpha, product(a, x), &beta);
    return;
  }
  Array r = z.broadcast_to(p).copy();
  if (z.dtype() == DType::Float32) run_gemv<float>(a, x, scalar_of<float>(alpha), scalar_of<float>(beta), r);
  else run_gemv<double>(a, x, scalar_of<double>(alpha), scalar_of<double>(beta), r);
  out[0] = r;
}

std::vector<InputGrad> Gemv::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const auto& i = node.inputs;
  return grads_of(add(mul(i[4], i[0]), mul(i[1], dot(i[2], i[3]))), node, og[0]);
}

// ---- Ger ----
std::vector<TensorType> Ger::infer_type(const std::vector<Var>& ins) const {
  check_inputs(name(), ins, 4, {2, 0, 1, 1}, "z, alpha, x, y");
  const TensorType &x = ins[2].type(), &y = ins[3].type();
  return {TensorType(x.dtype, broadcast_static(name(), ins[0].type(), {x.shape[0], y.shape[0]}))};
}

std::optional<ShapeExprs> Ger::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  return broadcast_exprs(node, in[0], {in[2][0], in[3][0]});
}

void Ger::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array &z = in[0], &alpha = in[1], &x = in[2], &y = in[3];
  const int64_t m = x.shape()[0], n = y.shape()[0];
  const Shape p{m, n};
  const bool blas = broadcast_runtime(name(), z.shape(), p) == p && alpha.item_double() != 0 && m > 0 && n > 0 &&
                    fits_int({m, n});
  if (!blas) {
    Array outer = elemwise_eval(ScalarOpId::mul, {x.reshape({m, 1}), y.reshape({1, n})});
    out[0] = scaled_sum(z, alpha, outer, nullptr);
    return;
  }
  Array r = z.broadcast_to(p).copy();
  if (z.dtype() == DType::Float32) run_ger<float>(x, y, scalar_of<float>(alpha), r);
  else run_ger<double>(x, y, scalar_of<double>(alpha), r);
  out[0] = r;
}

std::vector<InputGrad> Ger::L_op(const ApplyNode& node, const std::vector<Var>& og) const {
  const auto& i = node.inputs;
  return grads_of(add(i[0], mul(i[1], outer(i[2], i[3]))), node, og[0]);
}

// ---- builders ----
Var gemm(const Var& z, const Var& alpha, const Var& x, const Var& y, const Var& beta) {
  return apply1(std::make_shared<Gemm>(), {z, alpha, x, y, beta});
}
Var gemv(const Var& z, const Var& alpha, const Var& a, const Var& x, const Var& beta) {
  return apply1(std::make_shared<Gemv>(), {z, alpha, a, x, beta});
}
Var ger(const Var& z, const Var& alpha, const Var& x, const Var& y) {
  return apply1(std::make_shared<Ger>(), {z, alpha, x, y});
}

}  // namespace theon
