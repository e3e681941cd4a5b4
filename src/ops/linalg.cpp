// Inverse, determinant, Cholesky, linear solves and the diagonal ops.
#include "theon/ops/linalg.h"

#include <algorithm>
#include <stdexcept>

#include "linalg_util.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"

namespace theon {

using namespace linalg_detail;

namespace {
// "cholesky{lower=True}" -> "cholesky"
std::string base_name(const Op& op) {
  std::string n = op.name();
  return n.substr(0, n.find('{'));
}

std::vector<int64_t> batch_of(const std::vector<int64_t>& s, int core) {
  return std::vector<int64_t>(s.begin(), s.end() - core);
}
}  // namespace

DType linalg_dtype(DType d, const char* who) {
  if (d == DType::Float16 || d == DType::BFloat16)
    throw std::invalid_argument(std::string("[") + who + "] array type " + std::string(dtype_name(d)) +
                                " is unsupported in linalg (use float32 or float64)");
  return d == DType::Float32 ? DType::Float32 : DType::Float64;
}

DType LinalgOp::check_matrix(const Var& x, bool square) const {
  const std::string who = base_name(*this);
  const auto& t = x.type();
  if (t.ndim() < 2)
    throw std::invalid_argument("[" + who + "] expected a matrix or a stack of matrices (at least 2 dimensions), got " +
                                t.str());
  int64_t r = t.shape[t.ndim() - 2], c = t.shape[t.ndim() - 1];
  if (square && r >= 0 && c >= 0 && r != c)
    throw std::invalid_argument("[" + who + "] last 2 dimensions of the array must be square, got shape " +
                                static_shape_str(t.shape));
  return linalg_dtype(t.dtype, who.c_str());
}

namespace {
void check_square_runtime(const std::string& who, const Array& a) {
  if (a.ndim() < 2 || a.shape()[a.ndim() - 1] != a.shape()[a.ndim() - 2])
    throw std::invalid_argument("[" + who + "] last 2 dimensions of the array must be square, got shape " +
                                shape_str(a.shape()));
}
}  // namespace

// ---- MatrixInverse ----
std::vector<TensorType> MatrixInverse::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 1) throw std::invalid_argument("[matrix_inverse] expected 1 input");
  return {TensorType(check_matrix(ins[0], true), ins[0].type().shape)};
}

void MatrixInverse::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  check_square_runtime("matrix_inverse", in[0]);
  const DType dt = linalg_dtype(in[0].dtype(), "matrix_inverse");
  const Shape batch = batch_shape(in[0]);
  const int64_t n64 = in[0].shape().back();
  Array r = Array::empty(dt, in[0].shape());
  visit_real(dt, [&](auto t) {
    using T = decltype(t);
    const f_int n = to_fint(n64, "matrix_inverse"), lda = std::max<f_int>(1, n);
    std::vector<f_int> ipiv(static_cast<size_t>(std::max<f_int>(1, n)));
    for (int64_t b = 0; n > 0 && b < shape_size(batch); ++b) {
      Array w = colmajor(matrix_at(in[0], batch, b), dt);
      f_int info = 0;
      THEON_LAPACK(T, getrf, &n, &n, w.data_as<T>(), &lda, ipiv.data(), &info);
      if (info > 0) throw std::invalid_argument("[matrix_inverse] singular matrix");
      with_workspace<T>([&](T* work, f_int* lwork) {
        THEON_LAPACK(T, getri, &n, w.data_as<T>(), &lda, ipiv.data(), work, lwork, &info);
      });
      if (info > 0) throw std::invalid_argument("[matrix_inverse] singular matrix");
      store(matrix_at(r, batch, b), w);
    }
  });
  out[0] = r;
}

std::optional<ShapeExprs> MatrixInverse::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[0]};
}

// ---- Det ----
std::vector<TensorType> Det::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 1) throw std::invalid_argument("[det] expected 1 input");
  const DType dt = check_matrix(ins[0], true);
  return {TensorType(dt, batch_of(ins[0].type().shape, 2))};
}

void Det::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  check_square_runtime("det", in[0]);
  const DType dt = linalg_dtype(in[0].dtype(), "det");
  const Shape batch = batch_shape(in[0]);
  const int64_t n64 = in[0].shape().back();
  Array r = Array::empty(dt, batch);
  visit_real(dt, [&](auto t) {
    using T = decltype(t);
    const f_int n = to_fint(n64, "det"), lda = std::max<f_int>(1, n);
    std::vector<f_int> ipiv(static_cast<size_t>(std::max<f_int>(1, n)));
    T* dst = r.data_as<T>();
    for (int64_t b = 0; b < shape_size(batch); ++b) {
      T d = 1;
      if (n > 0) {
        Array w = colmajor(matrix_at(in[0], batch, b), dt);
        f_int info = 0;
        THEON_LAPACK(T, getrf, &n, &n, w.data_as<T>(), &lda, ipiv.data(), &info);
        const T* p = w.data_as<T>();
        for (f_int i = 0; i < n; ++i) d *= ipiv[i] != i + 1 ? -p[i * n + i] : p[i * n + i];
      }
      dst[b] = d;
    }
  });
  out[0] = r;
}

std::optional<ShapeExprs> Det::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  return ShapeExprs{std::vector<Var>(in[0].begin(), in[0].begin() + (node.inputs[0].ndim() - 2))};
}

// ---- Cholesky ----
std::vector<TensorType> Cholesky::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 1) throw std::invalid_argument("[cholesky] expected 1 input");
  return {TensorType(check_matrix(ins[0], true), ins[0].type().shape)};
}

void Cholesky::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  check_square_runtime("cholesky", in[0]);
  const DType dt = linalg_dtype(in[0].dtype(), "cholesky");
  const Shape batch = batch_shape(in[0]);
  const int64_t n64 = in[0].shape().back();
  Array r = Array::empty(dt, in[0].shape());
  visit_real(dt, [&](auto t) {
    using T = decltype(t);
    const f_int n = to_fint(n64, "cholesky"), lda = std::max<f_int>(1, n);
    const char uplo = lower_ ? 'L' : 'U';
    for (int64_t b = 0; n > 0 && b < shape_size(batch); ++b) {
      Array w = colmajor(matrix_at(in[0], batch, b), dt);
      f_int info = 0;
      THEON_LAPACK(T, potrf, &uplo, &n, w.data_as<T>(), &lda, &info, 1);
      if (info > 0)
        throw std::invalid_argument("[cholesky] matrix is not positive definite (leading minor of order " +
                                    std::to_string(info) + " is not positive)");
      T* p = w.data_as<T>();
      for (f_int j = 0; j < n; ++j)
        for (f_int i = 0; i < n; ++i)
          if (lower_ ? i < j : i > j) p[j * n + i] = 0;
      store(matrix_at(r, batch, b), w);
    }
  });
  out[0] = r;
}

std::optional<ShapeExprs> Cholesky::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[0]};
}

// ---- Solve ----
Solve::Solve(std::string assume_a, bool lower, bool unit_diagonal, int trans)
    : assume_a_(std::move(assume_a)), lower_(lower), unit_diagonal_(unit_diagonal), trans_(trans) {
  static const char* kinds[] = {"gen", "sym", "her", "pos", "lower_triangular", "upper_triangular"};
  if (std::find(std::begin(kinds), std::end(kinds), assume_a_) == std::end(kinds))
    throw std::invalid_argument("[solve] assume_a must be one of gen, sym, her, pos, lower_triangular, "
                                "upper_triangular; got '" + assume_a_ + "'");
  if (trans_ < 0 || trans_ > 1) throw std::invalid_argument("[solve] trans must be 0 or 1, got " + std::to_string(trans));
}

std::string Solve::props() const {
  return "assume_a=" + assume_a_ + ", lower=" + (lower_ ? "True" : "False") +
         ", unit_diagonal=" + (unit_diagonal_ ? "True" : "False") + ", trans=" + std::to_string(trans_);
}

std::vector<TensorType> Solve::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != 2) throw std::invalid_argument("[solve] expected 2 inputs (a, b)");
  check_matrix(ins[0], true);
  const auto &ta = ins[0].type(), &tb = ins[1].type();
  const DType dt = linalg_dtype(promote_types(ta.dtype, tb.dtype), "solve");
  if (tb.ndim() == 0) throw std::invalid_argument("[solve] b must be a vector or a (stack of) matrix, got " + tb.str());
  const int64_t n = ta.shape.back(), bn = tb.shape[tb.ndim() == 1 ? 0 : tb.ndim() - 2];
  if (n >= 0 && bn >= 0 && n != bn)
    throw std::invalid_argument("[solve] shapes " + static_shape_str(ta.shape) + " and " +
                                static_shape_str(tb.shape) + " are not aligned: a has " + std::to_string(n) +
                                " rows, b has " + std::to_string(bn));
  if (tb.ndim() == 1) {
    auto s = batch_of(ta.shape, 1);
    if (s.back() < 0) s.back() = bn;
    return {TensorType(dt, s)};
  }
  auto s = broadcast_static(batch_of(ta.shape, 2), batch_of(tb.shape, 2), "solve");
  s.push_back(n >= 0 ? n : bn);
  s.push_back(tb.shape.back());
  return {TensorType(dt, s)};
}

namespace {
template <class T>
void solve_one(const std::string& kind, bool lower, bool unit, int trans, T* a, T* b, f_int n, f_int k) {
  const f_int ld = std::max<f_int>(1, n);
  const char uplo = lower ? 'L' : 'U', tr = trans ? 'T' : 'N';
  f_int info = 0;
  std::vector<f_int> ipiv(static_cast<size_t>(ld));
  if (kind == "gen") {
    THEON_LAPACK(T, getrf, &n, &n, a, &ld, ipiv.data(), &info);
    if (info > 0) throw std::invalid_argument("[solve] singular matrix");
    THEON_LAPACK(T, getrs, &tr, &n, &k, a, &ld, ipiv.data(), b, &ld, &info, 1);
  } else if (kind == "sym" || kind == "her") {
    with_workspace<T>([&](T* work, f_int* lwork) {
      THEON_LAPACK(T, sysv, &uplo, &n, &k, a, &ld, ipiv.data(), b, &ld, work, lwork, &info, 1);
    });
    if (info > 0) throw std::invalid_argument("[solve] singular matrix");
  } else if (kind == "pos") {
    THEON_LAPACK(T, potrf, &uplo, &n, a, &ld, &info, 1);
    if (info > 0) throw std::invalid_argument("[solve] matrix is not positive definite");
    THEON_LAPACK(T, potrs, &uplo, &n, &k, a, &ld, b, &ld, &info, 1);
  } else {
    const char tri = kind == "lower_triangular" ? 'L' : 'U', diag = unit ? 'U' : 'N';
    THEON_LAPACK(T, trtrs, &tri, &tr, &diag, &n, &k, a, &ld, b, &ld, &info, 1, 1, 1);
    if (info > 0)
      throw std::invalid_argument("[solve_triangular] singular matrix: diagonal element " + std::to_string(info - 1) +
                                  " is zero");
  }
  if (info < 0) throw std::logic_error("[solve] LAPACK argument " + std::to_string(-info) + " is invalid");
}
}  // namespace

void Solve::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& a = in[0];
  check_square_runtime("solve", a);
  const DType dt = linalg_dtype(promote_types(a.dtype(), in[1].dtype()), "solve");
  const bool vec = in[1].ndim() == 1;
  const Array b = vec ? in[1].expand_dims(1) : in[1];
  const int64_t n = a.shape().back(), k = b.shape().back();
  if (b.shape()[b.ndim() - 2] != n)
    throw std::invalid_argument("[solve] shapes " + shape_str(a.shape()) + " and " + shape_str(in[1].shape()) +
                                " are not aligned: a has " + std::to_string(n) + " rows, b has " +
                                std::to_string(b.shape()[b.ndim() - 2]));
  const Shape batch = vec ? batch_shape(a) : broadcast_shapes(batch_shape(a), batch_shape(b));
  Shape fa = batch, fb = batch;
  fa.insert(fa.end(), {n, n});
  fb.insert(fb.end(), {n, k});
  const Array A = a.broadcast_to(fa), B = b.broadcast_to(fb);
  Array r = Array::empty(dt, fb);
  visit_real(dt, [&](auto t) {
    using T = decltype(t);
    const f_int nn = to_fint(n, "solve"), kk = to_fint(k, "solve");
    for (int64_t i = 0; n > 0 && k > 0 && i < shape_size(batch); ++i) {
      Array wa = colmajor(matrix_at(A, batch, i), dt), wb = colmajor(matrix_at(B, batch, i), dt);
      solve_one<T>(assume_a_, lower_, unit_diagonal_, trans_, wa.data_as<T>(), wb.data_as<T>(), nn, kk);
      store(matrix_at(r, batch, i), wb);
    }
  });
  if (vec) {
    Shape s = batch;
    s.push_back(n);
    r = r.reshape(s);
  }
  out[0] = r;
}

std::optional<ShapeExprs> Solve::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  const int na = node.inputs[0].ndim(), nb = node.inputs[1].ndim();
  if (nb == 1) return ShapeExprs{std::vector<Var>(in[0].begin(), in[0].end() - 1)};
  if (na != nb) return std::nullopt;
  std::vector<Var> r;
  const auto& ts = node.outputs[0].type.shape;
  const auto &sa = node.inputs[0].type().shape, &sb = node.inputs[1].type().shape;
  for (int i = 0; i < na - 2; ++i) {
    if (ts[i] >= 0) r.push_back(constant(double(ts[i]), DType::Int64));
    else if (sa[i] == 1) r.push_back(in[1][i]);
    else if (sb[i] == 1) r.push_back(in[0][i]);
    else r.push_back(Var());  // decided by broadcasting at run time
  }
  r.push_back(in[0][na - 1]);
  r.push_back(in[1][nb - 1]);
  return ShapeExprs{r};
}

// ---- builders ----
Var matrix_inverse(const Var& a) { return make1<MatrixInverse>({a}); }
Var det(const Var& a) { return make1<Det>({a}); }
Var cholesky(const Var& a, bool lower) { return make1<Cholesky>({a}, lower); }
Var solve(const Var& a, const Var& b, const std::string& assume_a, bool lower) {
  return make1<Solve>({a, b}, assume_a, lower);
}
Var solve_triangular(const Var& a, const Var& b, int trans, bool lower, bool unit_diagonal) {
  return make1<Solve>({a, b}, lower ? "lower_triangular" : "upper_triangular", lower, unit_diagonal, trans);
}

}  // namespace theon
