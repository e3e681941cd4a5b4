// Products of tensors: the 2-d kernel (BLAS or exact loop) and the ops on top of it.
#include "theon/ops/blas.h"
#include "theon/runtime/profiling.h"

#include <climits>
#include <cstdint>
#include <stdexcept>

#include "blas_lapack.h"
#include "blas_operands.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"

namespace theon {

namespace {
using namespace blas_operands;

void expect_two(const char* who, const std::vector<Var>& ins) {
  if (ins.size() != 2)
    throw std::invalid_argument(std::string("[") + who + "] expected 2 inputs, got " +
                                std::to_string(ins.size()));
}

// Throws when a contracted pair of (static or runtime) dims is known to differ.
void check_aligned(const char* who, const std::vector<int64_t>& sa, const std::vector<int64_t>& sb,
                   const std::vector<int>& axes_a, const std::vector<int>& axes_b) {
  for (size_t i = 0; i < axes_a.size(); ++i) {
    int64_t da = sa[axes_a[i]], db = sb[axes_b[i]];
    if (da >= 0 && db >= 0 && da != db)
      throw std::invalid_argument(std::string("[") + who + "] shapes " + static_shape_str(sa) + " and " +
                                  static_shape_str(sb) + " are not aligned: " + std::to_string(da) + " (dim " +
                                  std::to_string(axes_a[i]) + ") != " + std::to_string(db) + " (dim " +
                                  std::to_string(axes_b[i]) + ")");
  }
}

std::vector<int> free_axes(int ndim, const std::vector<int>& contracted) {
  std::vector<int> r;
  for (int i = 0; i < ndim; ++i) {
    bool c = false;
    for (int a : contracted) c = c || a == i;
    if (!c) r.push_back(i);
  }
  return r;
}

template <class T>
void gemm(const char* ta, const char* tb, f_int m, f_int n, f_int k, const T* a, f_int lda, const T* b,
          f_int ldb, T* c, f_int ldc) {
  const T one = 1, zero = 0;
  note_kernel(std::is_same_v<T, float> ? "openblas sgemm" : "openblas dgemm");
  if constexpr (std::is_same_v<T, float>)
    sgemm_(ta, tb, &m, &n, &k, &one, a, &lda, b, &ldb, &zero, c, &ldc, 1, 1);
  else
    dgemm_(ta, tb, &m, &n, &k, &one, a, &lda, b, &ldb, &zero, c, &ldc, 1, 1);
}

template <class T>
void gemv(const char* t, f_int m, f_int n, const T* a, f_int lda, const T* x, f_int incx, T* y) {
  const T one = 1, zero = 0;
  const f_int incy = 1;
  if constexpr (std::is_same_v<T, float>)
    sgemv_(t, &m, &n, &one, a, &lda, x, &incx, &zero, y, &incy, 1);
  else
    dgemv_(t, &m, &n, &one, a, &lda, x, &incx, &zero, y, &incy, 1);
}

// The positive element stride of a vector view, or 0 when BLAS cannot take it as is.
template <class T>
f_int vec_inc(const Array& v, int axis) {
  const int64_t st = v.strides()[axis], s = sizeof(T);
  if (v.dtype() != dtype_v<T> || st <= 0 || st % s || st / s > INT_MAX ||
      reinterpret_cast<uintptr_t>(v.data()) % alignof(T))
    return 0;
  return f_int(st / s);
}

// c (m x n, C-contiguous, dtype T) = a (m x k) @ b (k x n), all dims > 0.
template <class T>
void blas_product(const Array& a, const Array& b, const Array& c) {
  const int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
    throw std::invalid_argument("[dot] dimensions beyond 2^31-1 are not supported by BLAS");
  T* out = c.data_as<T>();
  if (n == 1 && vec_inc<T>(b, 0)) {  // matrix-vector: y = A x
    auto A = blas_mat<T>(a);
    if (A.row_major) gemv<T>("T", f_int(k), f_int(m), A.p, A.ld, b.data_as<T>(), vec_inc<T>(b, 0), out);
    else gemv<T>("N", f_int(m), f_int(k), A.p, A.ld, b.data_as<T>(), vec_inc<T>(b, 0), out);
    return;
  }
  if (m == 1 && vec_inc<T>(a, 1)) {  // vector-matrix: y = B^T x
    auto B = blas_mat<T>(b);
    if (B.row_major) gemv<T>("N", f_int(n), f_int(k), B.p, B.ld, a.data_as<T>(), vec_inc<T>(a, 1), out);
    else gemv<T>("T", f_int(k), f_int(n), B.p, B.ld, a.data_as<T>(), vec_inc<T>(a, 1), out);
    return;
  }
  // Column-major view of the row-major problem: C^T (n x m) = B^T (n x k) A^T (k x m).
  auto A = blas_mat<T>(a);
  auto B = blas_mat<T>(b);
  gemm<T>(B.row_major ? "N" : "T", A.row_major ? "N" : "T", f_int(n), f_int(m), f_int(k), B.p, B.ld, A.p,
          A.ld, out, f_int(n));
}

// Exact product for integer and bool dtypes, wrapping on overflow like NumPy.
template <class T>
void loop_product(const Array& a, const Array& b, const Array& c) {
  const int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
  Array A = a.contiguous(dtype_v<T>), B = b.contiguous(dtype_v<T>);
  const T* pa = A.data_as<T>();
  const T* pb = B.data_as<T>();
  T* pc = c.data_as<T>();
  if constexpr (std::is_same_v<T, bool>) {
    for (int64_t i = 0; i < m * n; ++i) pc[i] = false;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p)
        if (pa[i * k + p])
          for (int64_t j = 0; j < n; ++j) pc[i * n + j] = pc[i * n + j] || pb[p * n + j];
  } else {
    std::vector<uint64_t> acc(static_cast<size_t>(n));
    for (int64_t i = 0; i < m; ++i) {
      std::fill(acc.begin(), acc.end(), 0);
      for (int64_t p = 0; p < k; ++p) {
        const uint64_t x = uint64_t(int64_t(pa[i * k + p]));
        const T* row = pb + p * n;
        for (int64_t j = 0; j < n; ++j) acc[j] += x * uint64_t(int64_t(row[j]));
      }
      for (int64_t j = 0; j < n; ++j) pc[i * n + j] = static_cast<T>(acc[j]);
    }
  }
}

Array batch_view(Array x, const Shape& batch, int64_t flat) {
  for (int d = int(batch.size()) - 1; d >= 0; --d) {
    // index from the innermost batch axis so earlier axes keep their positions
    const int64_t i = flat % batch[d];
    flat /= batch[d];
    x = x.index(d, i);
  }
  return x;
}

}  // namespace

void matmul_2d(const Array& a, const Array& b, const Array& c) {
  const int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
  if (m == 0 || n == 0) return;
  const DType out = c.dtype();
  if (k == 0) {
    c.assign(Array::scalar(out, 0.0));
    return;
  }
  if (out == DType::Float32) {
    blas_product<float>(a, b, c);
  } else if (out == DType::Float64) {
    blas_product<double>(a, b, c);
  } else if (out == DType::Float16 || out == DType::BFloat16) {
    Array tmp = Array::empty(DType::Float32, {m, n});
    blas_product<float>(a, b, tmp);
    c.assign(tmp);
  } else {
    visit_dtype(out, [&](auto t) {
      using T = decltype(t);
      if constexpr (std::is_integral_v<T>) loop_product<T>(a, b, c);
    });
  }
}

Array tensordot_arrays(const Array& a, const Array& b, const std::vector<int>& axes_a,
                       const std::vector<int>& axes_b, DType out) {
  std::vector<int> fa = free_axes(a.ndim(), axes_a), fb = free_axes(b.ndim(), axes_b);
  std::vector<int> pa = fa, pb = axes_b;
  pa.insert(pa.end(), axes_a.begin(), axes_a.end());
  pb.insert(pb.end(), fb.begin(), fb.end());
  int64_t P = 1, K = 1, Q = 1;
  Shape out_shape;
  for (int i : fa) P *= a.shape()[i], out_shape.push_back(a.shape()[i]);
  for (int i : fb) Q *= b.shape()[i], out_shape.push_back(b.shape()[i]);
  for (int i : axes_a) K *= a.shape()[i];
  // A 2-D operand stays a (possibly transposed) view: BLAS takes the transpose
  // flag, where reshape would copy it element by element.
  auto matrix = [](const Array& t, int64_t r, int64_t c) {
    return t.shape() == Shape{r, c} ? t : t.reshape({r, c});
  };
  Array A = matrix(a.transpose(pa), P, K), B = matrix(b.transpose(pb), K, Q);
  Array C = Array::empty(out, {P, Q});
  matmul_2d(A, B, C);
  return C.reshape(out_shape);
}

// ---- Dot ----
namespace {
int dot_axis_b(int ndim_b) { return ndim_b == 1 ? 0 : ndim_b - 2; }
}  // namespace

std::vector<TensorType> Dot::infer_type(const std::vector<Var>& ins) const {
  expect_two("dot", ins);
  const auto &ta = ins[0].type(), &tb = ins[1].type();
  DType out = promote_types(ta.dtype, tb.dtype);
  if (ta.ndim() == 0) return {TensorType(out, tb.shape)};
  if (tb.ndim() == 0) return {TensorType(out, ta.shape)};
  std::vector<int> ax_a{ta.ndim() - 1}, ax_b{dot_axis_b(tb.ndim())};
  check_aligned("dot", ta.shape, tb.shape, ax_a, ax_b);
  std::vector<int64_t> shp;
  for (int i : free_axes(ta.ndim(), ax_a)) shp.push_back(ta.shape[i]);
  for (int i : free_axes(tb.ndim(), ax_b)) shp.push_back(tb.shape[i]);
  return {TensorType(out, shp)};
}

void Dot::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array &a = in[0], &b = in[1];
  DType dt = promote_types(a.dtype(), b.dtype());
  if (a.ndim() == 0 || b.ndim() == 0) {
    out[0] = elemwise_eval(ScalarOpId::mul, {a, b}).contiguous(dt);
    return;
  }
  std::vector<int> ax_a{a.ndim() - 1}, ax_b{dot_axis_b(b.ndim())};
  check_aligned("dot", a.shape(), b.shape(), ax_a, ax_b);
  out[0] = tensordot_arrays(a, b, ax_a, ax_b, dt);
}

std::optional<ShapeExprs> Dot::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  int na = node.inputs[0].ndim(), nb = node.inputs[1].ndim();
  if (na == 0) return ShapeExprs{in[1]};
  if (nb == 0) return ShapeExprs{in[0]};
  std::vector<Var> r;
  for (int i : free_axes(na, {na - 1})) r.push_back(in[0][i]);
  for (int i : free_axes(nb, {dot_axis_b(nb)})) r.push_back(in[1][i]);
  return ShapeExprs{r};
}

// ---- TensorDot ----
std::string TensorDot::props() const {
  auto list = [](const std::vector<int>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
  };
  return "axes=(" + list(axes_a_) + ", " + list(axes_b_) + ")";
}

std::vector<TensorType> TensorDot::infer_type(const std::vector<Var>& ins) const {
  expect_two("tensordot", ins);
  const auto &ta = ins[0].type(), &tb = ins[1].type();
  if (axes_a_.size() != axes_b_.size())
    throw std::invalid_argument("[tensordot] axes lists differ in length: " + props());
  auto check = [&](const std::vector<int>& axes, int nd, const char* which) {
    for (size_t i = 0; i < axes.size(); ++i) {
      if (axes[i] < 0 || axes[i] >= nd)
        throw std::invalid_argument("[tensordot] axis " + std::to_string(axes[i]) + " is out of bounds for " +
                                    which + " of " + std::to_string(nd) + " dimensions");
      for (size_t j = 0; j < i; ++j)
        if (axes[j] == axes[i])
          throw std::invalid_argument(std::string("[tensordot] repeated axis in the axes of ") + which);
    }
  };
  check(axes_a_, ta.ndim(), "a");
  check(axes_b_, tb.ndim(), "b");
  check_aligned("tensordot", ta.shape, tb.shape, axes_a_, axes_b_);
  std::vector<int64_t> shp;
  for (int i : free_axes(ta.ndim(), axes_a_)) shp.push_back(ta.shape[i]);
  for (int i : free_axes(tb.ndim(), axes_b_)) shp.push_back(tb.shape[i]);
  return {TensorType(promote_types(ta.dtype, tb.dtype), shp)};
}

void TensorDot::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  check_aligned("tensordot", in[0].shape(), in[1].shape(), axes_a_, axes_b_);
  out[0] = tensordot_arrays(in[0], in[1], axes_a_, axes_b_, promote_types(in[0].dtype(), in[1].dtype()));
}

std::optional<ShapeExprs> TensorDot::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  std::vector<Var> r;
  for (int i : free_axes(node.inputs[0].ndim(), axes_a_)) r.push_back(in[0][i]);
  for (int i : free_axes(node.inputs[1].ndim(), axes_b_)) r.push_back(in[1][i]);
  return ShapeExprs{r};
}

// ---- MatMul ----
namespace {
// Static shapes of the operands with vectors promoted to matrices.
std::pair<std::vector<int64_t>, std::vector<int64_t>> promoted(std::vector<int64_t> a, std::vector<int64_t> b) {
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  return {a, b};
}

// Broadcast of the batch parts of two static shapes (-1 unknown).
std::vector<int64_t> static_batch(const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                                  const std::vector<int64_t>& fa, const std::vector<int64_t>& fb) {
  size_t na = a.size() - 2, nb = b.size() - 2, n = std::max(na, nb);
  std::vector<int64_t> r(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = i + na >= n ? a[i + na - n] : 1, y = i + nb >= n ? b[i + nb - n] : 1;
    if (x == 1) r[i] = y;
    else if (y == 1) r[i] = x;
    else if (x >= 0 && y >= 0 && x != y)
      throw std::invalid_argument("[matmul] batch dimensions of shapes " + static_shape_str(fa) + " and " +
                                  static_shape_str(fb) + " cannot be broadcast together");
    else r[i] = x >= 0 ? x : y;
  }
  return r;
}
}  // namespace

std::vector<TensorType> MatMul::infer_type(const std::vector<Var>& ins) const {
  expect_two("matmul", ins);
  for (int i = 0; i < 2; ++i)
    if (ins[i].ndim() == 0)
      throw std::invalid_argument("[matmul] input " + std::to_string(i) +
                                  " is 0-d; matmul needs operands of at least 1 dimension");
  const auto &ta = ins[0].type(), &tb = ins[1].type();
  auto [a, b] = promoted(ta.shape, tb.shape);
  check_aligned("matmul", ta.shape, tb.shape, {ta.ndim() - 1}, {dot_axis_b(tb.ndim())});
  auto shp = static_batch(a, b, ta.shape, tb.shape);
  if (ta.ndim() > 1) shp.push_back(a[a.size() - 2]);
  if (tb.ndim() > 1) shp.push_back(b.back());
  return {TensorType(promote_types(ta.dtype, tb.dtype), shp)};
}

void MatMul::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array A = in[0].ndim() == 1 ? in[0].expand_dims(0) : in[0];
  const Array B = in[1].ndim() == 1 ? in[1].expand_dims(1) : in[1];
  check_aligned("matmul", in[0].shape(), in[1].shape(), {in[0].ndim() - 1}, {dot_axis_b(in[1].ndim())});
  const int64_t m = A.shape()[A.ndim() - 2], k = A.shape().back(), n = B.shape().back();
  Shape ba(A.shape().begin(), A.shape().end() - 2), bb(B.shape().begin(), B.shape().end() - 2);
  Shape batch = broadcast_shapes(ba, bb);
  Shape full = batch;
  full.push_back(m);
  full.push_back(n);
  const DType dt = promote_types(A.dtype(), B.dtype());
  Array C = Array::empty(dt, full);
  const int64_t nbatch = shape_size(batch);
  if (B.ndim() == 2 && ba == batch) {
    matmul_2d(A.reshape({nbatch * m, k}), B, C.reshape({nbatch * m, n}));
  } else if (nbatch > 0) {
    Shape fa = batch, fb = batch;
    fa.insert(fa.end(), {m, k});
    fb.insert(fb.end(), {k, n});
    Array Ab = A.broadcast_to(fa), Bb = B.broadcast_to(fb);
    for (int64_t i = 0; i < nbatch; ++i)
      matmul_2d(batch_view(Ab, batch, i), batch_view(Bb, batch, i), batch_view(C, batch, i));
  }
  Shape final_shape = batch;
  if (in[0].ndim() > 1) final_shape.push_back(m);
  if (in[1].ndim() > 1) final_shape.push_back(n);
  out[0] = C.reshape(final_shape);
}

std::optional<ShapeExprs> MatMul::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  const auto& ts = node.outputs[0].type.shape;
  const int na = node.inputs[0].ndim(), nb = node.inputs[1].ndim();
  const int nbatch = int(ts.size()) - (na > 1) - (nb > 1);
  const auto &sa = node.inputs[0].type().shape, &sb = node.inputs[1].type().shape;
  std::vector<Var> r(ts.size());
  for (int i = 0; i < nbatch; ++i) {
    if (ts[i] >= 0) {
      r[i] = constant(double(ts[i]), DType::Int64);
      continue;
    }
    // the batch dim is an input's dim when the other operand is known to broadcast
    int ia = na - 2 - (nbatch - i), ib = nb - 2 - (nbatch - i);
    bool a_one = ia < 0 || sa[ia] == 1, b_one = ib < 0 || sb[ib] == 1;
    if (b_one && ia >= 0) r[i] = in[0][ia];
    else if (a_one && ib >= 0) r[i] = in[1][ib];
  }
  int j = nbatch;
  if (na > 1) r[j++] = in[0][na - 2];
  if (nb > 1) r[j++] = in[1][nb - 1];
  return ShapeExprs{r};
}

// ---- BatchedDot ----
std::vector<TensorType> BatchedDot::infer_type(const std::vector<Var>& ins) const {
  expect_two("batched_dot", ins);
  const auto &ta = ins[0].type(), &tb = ins[1].type();
  if (ta.ndim() < 2 || tb.ndim() < 2)
    throw std::invalid_argument("[batched_dot] the op needs operands of at least 2 dimensions, got " +
                                ta.str() + " and " + tb.str());
  if (ta.shape[0] >= 0 && tb.shape[0] >= 0 && ta.shape[0] != tb.shape[0])
    throw std::invalid_argument("[batched_dot] batch sizes differ: " + std::to_string(ta.shape[0]) +
                                " != " + std::to_string(tb.shape[0]) + " (shapes " + static_shape_str(ta.shape) +
                                " and " + static_shape_str(tb.shape) + ")");
  std::vector<int> ax_a{ta.ndim() - 1}, ax_b{1 + dot_axis_b(tb.ndim() - 1)};
  check_aligned("batched_dot", ta.shape, tb.shape, ax_a, ax_b);
  std::vector<int64_t> shp{ta.shape[0] >= 0 ? ta.shape[0] : tb.shape[0]};
  for (int i : free_axes(ta.ndim(), ax_a))
    if (i) shp.push_back(ta.shape[i]);
  for (int i : free_axes(tb.ndim(), ax_b))
    if (i) shp.push_back(tb.shape[i]);
  return {TensorType(promote_types(ta.dtype, tb.dtype), shp)};
}

void BatchedDot::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array &a = in[0], &b = in[1];
  if (a.shape()[0] != b.shape()[0])
    throw std::invalid_argument("[batched_dot] batch sizes differ: " + std::to_string(a.shape()[0]) +
                                " != " + std::to_string(b.shape()[0]));
  std::vector<int> ax_a{a.ndim() - 1}, ax_b{1 + dot_axis_b(b.ndim() - 1)};
  check_aligned("batched_dot", a.shape(), b.shape(), ax_a, ax_b);
  const DType dt = promote_types(a.dtype(), b.dtype());
  Shape shp{a.shape()[0]};
  for (int i : free_axes(a.ndim(), ax_a))
    if (i) shp.push_back(a.shape()[i]);
  for (int i : free_axes(b.ndim(), ax_b))
    if (i) shp.push_back(b.shape()[i]);
  Array C = Array::empty(dt, shp);
  const std::vector<int> ia{a.ndim() - 2}, ib{ax_b[0] - 1};
  for (int64_t i = 0; i < shp[0]; ++i) {
    Array ai = a.index(0, i), bi = b.index(0, i), ci = C.index(0, i);
    if (a.ndim() == 3 && b.ndim() == 3) matmul_2d(ai, bi, ci);
    else ci.assign(tensordot_arrays(ai, bi, ia, ib, dt));
  }
  out[0] = C;
}

std::optional<ShapeExprs> BatchedDot::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  const int na = node.inputs[0].ndim(), nb = node.inputs[1].ndim();
  std::vector<Var> r{in[0][0]};
  for (int i : free_axes(na, {na - 1}))
    if (i) r.push_back(in[0][i]);
  for (int i : free_axes(nb, {1 + dot_axis_b(nb - 1)}))
    if (i) r.push_back(in[1][i]);
  return ShapeExprs{r};
}

// ---- builders ----
Var dot(const Var& a, const Var& b) { return make1<Dot>({a, b}); }
Var matmul(const Var& a, const Var& b) { return make1<MatMul>({a, b}); }

Var tensordot(const Var& a, const Var& b, const std::vector<int>& axes_a, const std::vector<int>& axes_b) {
  std::vector<int> na, nb;
  for (int x : axes_a) na.push_back(normalize_axis(x, a.ndim(), "tensordot"));
  for (int x : axes_b) nb.push_back(normalize_axis(x, b.ndim(), "tensordot"));
  return make1<TensorDot>({a, b}, na, nb);
}

Var tensordot(const Var& a, const Var& b, int axes) {
  if (axes < 0 || axes > a.ndim() || axes > b.ndim())
    throw std::invalid_argument("[tensordot] axes=" + std::to_string(axes) +
                                " must be between 0 and the operands' ranks (" + std::to_string(a.ndim()) +
                                " and " + std::to_string(b.ndim()) + ")");
  std::vector<int> aa, ab;
  for (int i = 0; i < axes; ++i) {
    aa.push_back(a.ndim() - axes + i);
    ab.push_back(i);
  }
  return make1<TensorDot>({a, b}, aa, ab);
}

Var outer(const Var& a, const Var& b) {
  Var fa = a.ndim() == 1 ? a : flatten(a, 1);
  Var fb = b.ndim() == 1 ? b : flatten(b, 1);
  return dot(dimshuffle(fa, {0, -1}), dimshuffle(fb, {-1, 0}));
}

Var batched_dot(const Var& a, const Var& b) {
  if (a.ndim() == 0 || b.ndim() == 0)
    throw std::invalid_argument("[batched_dot] operands need a batch axis, got " + a.type().str() +
                                " and " + b.type().str());
  if (a.ndim() == 1 || b.ndim() == 1) {
    const Var& v = a.ndim() == 1 ? a : b;
    const Var& other = a.ndim() == 1 ? b : a;
    std::vector<int> order{0};
    for (int i = 1; i < other.ndim(); ++i) order.push_back(-1);
    return a.ndim() == 1 ? mul(dimshuffle(v, order), other) : mul(other, dimshuffle(v, order));
  }
  return make1<BatchedDot>({a, b});
}

}  // namespace theon
