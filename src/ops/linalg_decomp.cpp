// Decompositions: symmetric eigendecomposition, QR, SVD, and the pseudo-inverse.
#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "linalg_util.h"
#include "theon/ops/blas.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/linalg.h"

namespace theon {

using namespace linalg_detail;

namespace {
std::vector<int64_t> batch_of(const std::vector<int64_t>& s, int core) {
  return std::vector<int64_t>(s.begin(), s.end() - core);
}
// min(m, n) of static dims: known when both are known or one is 0.
int64_t static_min(int64_t m, int64_t n) {
  if (m == 0 || n == 0) return 0;
  return m >= 0 && n >= 0 ? std::min(m, n) : kUnknownDim;
}
std::vector<int64_t> with(std::vector<int64_t> s, std::initializer_list<int64_t> tail) {
  s.insert(s.end(), tail);
  return s;
}
std::vector<Var> with(std::vector<Var> s, std::initializer_list<Var> tail) {
  s.insert(s.end(), tail);
  return s;
}
Var min_dim(const Var& a, const Var& b) { return minimum(a, b); }
void expect_one(const char* who, const std::vector<Var>& ins) {
  if (ins.size() != 1) throw std::invalid_argument(std::string("[") + who + "] expected 1 input");
}
}  // namespace

// ---- Eigh ----
std::vector<TensorType> Eigh::infer_type(const std::vector<Var>& ins) const {
  expect_one("eigh", ins);
  if (uplo_ != 'L' && uplo_ != 'U') throw std::invalid_argument("[eigh] UPLO must be 'L' or 'U'");
  DType dt = check_matrix(ins[0], true);
  const auto& s = ins[0].type().shape;
  int64_t n = s.back() >= 0 ? s.back() : s[s.size() - 2];
  return {TensorType(dt, with(batch_of(s, 2), {n})), TensorType(dt, with(batch_of(s, 2), {n, n}))};
}

void Eigh::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& a = in[0];
  if (a.shape().back() != a.shape()[a.ndim() - 2])
    throw std::invalid_argument("[eigh] last 2 dimensions of the array must be square, got shape " +
                                shape_str(a.shape()));
  const DType dt = linalg_dtype(a.dtype(), "eigh");
  const Shape batch = batch_shape(a);
  const int64_t n64 = a.shape().back();
  Array W = Array::empty(dt, with(batch, {n64})), V = Array::empty(dt, a.shape());
  visit_real(dt, [&](auto t) {
    using T = decltype(t);
    const f_int n = to_fint(n64, "eigh"), lda = std::max<f_int>(1, n);
    const char jobz = 'V';
    for (int64_t b = 0; n > 0 && b < shape_size(batch); ++b) {
      Array w = colmajor(matrix_at(a, batch, b), dt), ev = Array::empty(dt, {n64});
      f_int info = 0;
      with_workspaces<T>([&](T* work, f_int* lwork, f_int* iwork, f_int* liwork) {
        THEON_LAPACK(T, syevd, &jobz, &uplo_, &n, w.data_as<T>(), &lda, ev.data_as<T>(), work, lwork, iwork,
                     liwork, &info, 1, 1);
      });
      if (info > 0) throw std::runtime_error("[eigh] eigenvalues did not converge");
      matrix_at(W, batch, b).assign(ev);
      store(matrix_at(V, batch, b), w);
    }
  });
  out[0] = W;
  out[1] = V;
}

std::optional<ShapeExprs> Eigh::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  const int nd = node.inputs[0].ndim();
  std::vector<Var> batch(in[0].begin(), in[0].end() - 2);
  return ShapeExprs{with(batch, {in[0][nd - 1]}), in[0]};
}

// ---- QR ----
QR::QR(std::string mode) : mode_(std::move(mode)) {
  if (mode_ != "reduced" && mode_ != "complete" && mode_ != "r")
    throw std::invalid_argument("[qr] mode must be 'reduced', 'complete' or 'r', got '" + mode_ + "'");
}

std::vector<TensorType> QR::infer_type(const std::vector<Var>& ins) const {
  expect_one("qr", ins);
  DType dt = check_matrix(ins[0], false);
  const auto& s = ins[0].type().shape;
  const auto batch = batch_of(s, 2);
  const int64_t m = s[s.size() - 2], n = s.back(), k = static_min(m, n);
  if (mode_ == "r") return {TensorType(dt, with(batch, {k, n}))};
  if (mode_ == "complete") return {TensorType(dt, with(batch, {m, m})), TensorType(dt, with(batch, {m, n}))};
  return {TensorType(dt, with(batch, {m, k})), TensorType(dt, with(batch, {k, n}))};
}

void QR::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& a = in[0];
  const DType dt = linalg_dtype(a.dtype(), "qr");
  const Shape batch = batch_shape(a);
  const int64_t m64 = a.shape()[a.ndim() - 2], n64 = a.shape().back(), k64 = std::min(m64, n64);
  const bool complete = mode_ == "complete";
  const int64_t r_rows = complete ? m64 : k64, q_cols = complete ? m64 : k64;
  Array R = Array::zeros(dt, with(batch, {r_rows, n64}));
  Array Q = Array::zeros(dt, with(batch, {m64, q_cols}));
  visit_real(dt, [&](auto t) {
    using T = decltype(t);
    const f_int m = to_fint(m64, "qr"), n = to_fint(n64, "qr"), k = f_int(k64), qc = f_int(q_cols);
    const f_int lda = std::max<f_int>(1, m);
    for (int64_t b = 0; b < shape_size(batch); ++b) {
      Array w = colmajor(matrix_at(a, batch, b), dt);
      std::vector<T> tau(static_cast<size_t>(std::max<f_int>(1, k)));
      f_int info = 0;
      if (k > 0)
        with_workspace<T>([&](T* work, f_int* lwork) {
          THEON_LAPACK(T, geqrf, &m, &n, w.data_as<T>(), &lda, tau.data(), work, lwork, &info);
        });
      const T* p = w.data_as<T>();
      Array rb = Array::zeros(dt, {r_rows, n64});
      T* pr = rb.data_as<T>();
      for (int64_t i = 0; i < std::min(r_rows, k64); ++i)
        for (int64_t j = i; j < n64; ++j) pr[i * n64 + j] = p[j * m64 + i];
      matrix_at(R, batch, b).assign(rb);
      if (mode_ == "r" || m == 0 || qc == 0) continue;
      Array qb = Array::zeros(dt, {q_cols, m64});  // column-major m x q_cols
      T* pq = qb.data_as<T>();
      if (k == 0) {
        for (int64_t j = 0; j < q_cols; ++j) pq[j * m64 + j] = 1;
      } else {
        std::copy(p, p + k64 * m64, pq);
        with_workspace<T>([&](T* work, f_int* lwork) {
          THEON_LAPACK(T, orgqr, &m, &qc, &k, pq, &lda, tau.data(), work, lwork, &info);
        });
      }
      store(matrix_at(Q, batch, b), qb);
    }
  });
  if (mode_ == "r") {
    out[0] = R;
  } else {
    out[0] = Q;
    out[1] = R;
  }
}

std::optional<ShapeExprs> QR::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  const int nd = node.inputs[0].ndim();
  std::vector<Var> batch(in[0].begin(), in[0].end() - 2);
  const Var &m = in[0][nd - 2], &n = in[0][nd - 1];
  if (mode_ == "complete") return ShapeExprs{with(batch, {m, m}), in[0]};
  Var k = min_dim(m, n);
  if (mode_ == "r") return ShapeExprs{with(batch, {k, n})};
  return ShapeExprs{with(batch, {m, k}), with(batch, {k, n})};
}

// ---- SVD ----
std::string SVD::props() const {
  return std::string("full_matrices=") + (full_ ? "True" : "False") + ", compute_uv=" + (uv_ ? "True" : "False");
}

std::vector<TensorType> SVD::infer_type(const std::vector<Var>& ins) const {
  expect_one("svd", ins);
  DType dt = check_matrix(ins[0], false);
  const auto& s = ins[0].type().shape;
  const auto batch = batch_of(s, 2);
  const int64_t m = s[s.size() - 2], n = s.back(), k = static_min(m, n);
  TensorType st(dt, with(batch, {k}));
  if (!uv_) return {st};
  return {TensorType(dt, with(batch, {m, full_ ? m : k})), st, TensorType(dt, with(batch, {full_ ? n : k, n}))};
}

namespace {
// One SVD of the column-major m x n work array w: s (k), U^T as a C array
// (ucols x m) and V as a C array (n x vrows), for jobz 'A', 'S' or 'N'.
template <class T>
void gesdd_one(char jobz, Array& w, f_int m, f_int n, T* s, T* u, f_int ldu, T* vt, f_int ldvt) {
  const f_int k = std::min(m, n), lda = std::max<f_int>(1, m);
  std::vector<f_int> iwork(static_cast<size_t>(std::max<f_int>(1, 8 * k)));
  f_int info = 0;
  with_workspace<T>([&](T* work, f_int* lwork) {
    THEON_LAPACK(T, gesdd, &jobz, &m, &n, w.data_as<T>(), &lda, s, u, &ldu, vt, &ldvt, work, lwork,
                 iwork.data(), &info, 1);
  });
  if (info > 0) throw std::runtime_error("[svd] SVD did not converge");
}
}  // namespace

void SVD::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& a = in[0];
  const DType dt = linalg_dtype(a.dtype(), "svd");
  const Shape batch = batch_shape(a);
  const int64_t m64 = a.shape()[a.ndim() - 2], n64 = a.shape().back(), k64 = std::min(m64, n64);
  const int64_t ucols = full_ ? m64 : k64, vrows = full_ ? n64 : k64;
  Array S = Array::empty(dt, with(batch, {k64}));
  Array U = Array::zeros(dt, with(batch, {m64, ucols})), Vh = Array::zeros(dt, with(batch, {vrows, n64}));
  visit_real(dt, [&](auto t) {
    using T = decltype(t);
    const f_int m = to_fint(m64, "svd"), n = to_fint(n64, "svd");
    const char jobz = uv_ ? (full_ ? 'A' : 'S') : 'N';
    for (int64_t b = 0; b < shape_size(batch); ++b) {
      Array ub = Array::zeros(dt, {ucols, m64}), vb = Array::zeros(dt, {n64, vrows}), sb = Array::empty(dt, {k64});
      if (k64 == 0) {
        for (int64_t i = 0; i < std::min(ucols, m64); ++i) ub.data_as<T>()[i * m64 + i] = 1;
        for (int64_t i = 0; i < std::min(vrows, n64); ++i) vb.data_as<T>()[i * vrows + i] = 1;
      } else {
        Array w = colmajor(matrix_at(a, batch, b), dt);
        T dummy[1] = {0};
        gesdd_one<T>(jobz, w, m, n, sb.data_as<T>(), uv_ ? ub.data_as<T>() : dummy, std::max<f_int>(1, m),
                     uv_ ? vb.data_as<T>() : dummy, std::max<f_int>(1, f_int(vrows)));
      }
      matrix_at(S, batch, b).assign(sb);
      if (uv_) {
        store(matrix_at(U, batch, b), ub);
        store(matrix_at(Vh, batch, b), vb);
      }
    }
  });
  if (uv_) {
    out[0] = U;
    out[1] = S;
    out[2] = Vh;
  } else {
    out[0] = S;
  }
}

std::optional<ShapeExprs> SVD::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  const int nd = node.inputs[0].ndim();
  std::vector<Var> batch(in[0].begin(), in[0].end() - 2);
  const Var &m = in[0][nd - 2], &n = in[0][nd - 1];
  Var k = min_dim(m, n);
  if (!uv_) return ShapeExprs{with(batch, {k})};
  return ShapeExprs{with(batch, {m, full_ ? m : k}), with(batch, {k}), with(batch, {full_ ? n : k, n})};
}

// ---- Pinv ----
std::string Pinv::props() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "rcond=%.17g", rcond_);
  return buf;
}

std::vector<TensorType> Pinv::infer_type(const std::vector<Var>& ins) const {
  expect_one("pinv", ins);
  DType dt = check_matrix(ins[0], false);
  const auto& s = ins[0].type().shape;
  return {TensorType(dt, with(batch_of(s, 2), {s.back(), s[s.size() - 2]}))};
}

void Pinv::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  const Array& a = in[0];
  const DType dt = linalg_dtype(a.dtype(), "pinv");
  const Shape batch = batch_shape(a);
  const int64_t m64 = a.shape()[a.ndim() - 2], n64 = a.shape().back(), k64 = std::min(m64, n64);
  Array R = Array::zeros(dt, with(batch, {n64, m64}));
  visit_real(dt, [&](auto t) {
    using T = decltype(t);
    const f_int m = to_fint(m64, "pinv"), n = to_fint(n64, "pinv");
    for (int64_t b = 0; k64 > 0 && b < shape_size(batch); ++b) {
      Array w = colmajor(matrix_at(a, batch, b), dt);
      Array ut = Array::empty(dt, {k64, m64}), v = Array::empty(dt, {n64, k64});
      std::vector<T> s(static_cast<size_t>(k64));
      gesdd_one<T>('S', w, m, n, s.data(), ut.data_as<T>(), std::max<f_int>(1, m), v.data_as<T>(),
                   std::max<f_int>(1, f_int(k64)));
      const T cutoff = T(rcond_) * s[0];
      T* pv = v.data_as<T>();
      for (int64_t i = 0; i < n64; ++i)
        for (int64_t l = 0; l < k64; ++l) pv[i * k64 + l] = s[l] > cutoff ? pv[i * k64 + l] / s[l] : T(0);
      matmul_2d(v, ut, matrix_at(R, batch, b));
    }
  });
  out[0] = R;
}

std::optional<ShapeExprs> Pinv::infer_shape(const ApplyNode& node, const ShapeExprs& in) const {
  const int nd = node.inputs[0].ndim();
  std::vector<Var> batch(in[0].begin(), in[0].end() - 2);
  return ShapeExprs{with(batch, {in[0][nd - 1], in[0][nd - 2]})};
}

// ---- builders ----
std::vector<Var> eigh(const Var& a, char uplo) { return apply(std::make_shared<Eigh>(uplo), {a}); }
std::vector<Var> qr(const Var& a, const std::string& mode) { return apply(std::make_shared<QR>(mode), {a}); }
std::vector<Var> svd(const Var& a, bool full_matrices, bool compute_uv) {
  return apply(std::make_shared<SVD>(full_matrices, compute_uv), {a});
}
Var pinv(const Var& a, double rcond) { return make1<Pinv>({a}, rcond); }

}  // namespace theon
