// Device kernels: linalg family (see families.h) — matrix_inverse, det,
// cholesky, solve / solve_triangular, eigh, qr, svd and pinv, computed as
// their perform() computes them (src/ops/linalg*.cpp): each matrix of the
// stack copied to a column-major work array in the compute dtype (float32,
// else float64), factored by the cuda_solver.h routines (cuSOLVER on a GPU,
// LAPACK in the emulator), and the results written back row-major.
//
// Where perform() differs from cuSOLVER: inverse solves against the identity
// with the LU factors (cuSOLVER has no getri); "sym"/"her" solves use LU of
// the matrix made symmetric from its `lower` (or upper) triangle, not LDL^T
// (the same solution; a matrix LAPACK's sysv finds exactly singular is found
// so by LU alike in practice); triangular solves are a substitution kernel
// here; svd uses gesvd (m >= n, so m < n is the SVD of the transpose), not
// gesdd: singular vectors agree up to sign.
//
// Failures perform() raises — a singular matrix, one that is not positive
// definite, an eigen/SVD iteration that does not converge — come from the
// routines' info values, which are read back once per op after every matrix
// of the stack was queued: those ops (inverse, cholesky, solve, eigh, svd,
// pinv) therefore wait for the device, unlike other kernels. det and qr do not.
#include "theon/ops/linalg.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "families.h"
#include "kernel_common.h"
#include "theon/backend/cuda_codegen.h"
#include "theon/backend/cuda_solver.h"

namespace theon::cuda::kernels {

namespace {

// Small kernels on stacks of column-major matrices, one per element type
// (suffix _f32 / _f64). All are grid-stride loops over elements or matrices.
const char* kLinalgSource = R"CUDA(
struct Args { long long w[8]; };
#define THEON_LINALG_KERNELS(T, S)                                                              \
/* w: [0] elements [1] n [2] lower [3] a: zero the strict upper (lower) or lower triangle */    \
extern "C" __global__ void theon_linalg_tri_zero_##S(const Args a) {                            \
  const i64 total = a.w[0], n = a.w[1]; const bool lower = a.w[2] != 0; T* p = (T*)a.w[3];      \
  for (i64 e = blockIdx.x * (i64)blockDim.x + threadIdx.x; e < total;                           \
       e += (i64)gridDim.x * blockDim.x) {                                                      \
    const i64 i = e % n, j = (e / n) % n;                                                       \
    if (lower ? i < j : i > j) p[e] = (T)0;                                                     \
  }                                                                                             \
}                                                                                               \
/* w: [0] elements [1] n [2] lower [3] a: the lower (upper) triangle mirrored onto the other */ \
extern "C" __global__ void theon_linalg_symmetrize_##S(const Args a) {                          \
  const i64 total = a.w[0], n = a.w[1]; const bool lower = a.w[2] != 0; T* p = (T*)a.w[3];      \
  for (i64 e = blockIdx.x * (i64)blockDim.x + threadIdx.x; e < total;                           \
       e += (i64)gridDim.x * blockDim.x) {                                                      \
    const i64 i = e % n, j = (e / n) % n;                                                       \
    if (lower ? i < j : i > j) p[e] = p[e - i - j * n + j + i * n];                             \
  }                                                                                             \
}                                                                                               \
/* w: [0] elements [1] rows [2] cols [3] a: identity matrices, row-major rows x cols */         \
extern "C" __global__ void theon_linalg_eye_##S(const Args a) {                                 \
  const i64 total = a.w[0], rows = a.w[1], cols = a.w[2]; T* p = (T*)a.w[3];                    \
  for (i64 e = blockIdx.x * (i64)blockDim.x + threadIdx.x; e < total;                           \
       e += (i64)gridDim.x * blockDim.x)                                                        \
    p[e] = (e / cols) % rows == e % cols ? (T)1 : (T)0;                                         \
}                                                                                               \
/* w: [0] matrices [1] n [2] LU factors [3] ipiv (int, 1-based) [4] out: det as perform() */    \
extern "C" __global__ void theon_linalg_det_##S(const Args a) {                                 \
  const i64 count = a.w[0], n = a.w[1];                                                         \
  for (i64 b = blockIdx.x * (i64)blockDim.x + threadIdx.x; b < count;                           \
       b += (i64)gridDim.x * blockDim.x) {                                                      \
    const T* p = (const T*)a.w[2] + b * n * n; const int* piv = (const int*)a.w[3] + b * n;     \
    T d = (T)1;                                                                                 \
    for (i64 i = 0; i < n; ++i) d *= piv[i] != i + 1 ? -p[i * n + i] : p[i * n + i];            \
    ((T*)a.w[4])[b] = d;                                                                        \
  }                                                                                             \
}                                                                                               \
/* w: [0] matrices [1] n [2] a [3] info: the first zero diagonal element (1-based), or 0 */     \
extern "C" __global__ void theon_linalg_diag_info_##S(const Args a) {                           \
  const i64 count = a.w[0], n = a.w[1];                                                         \
  for (i64 b = blockIdx.x * (i64)blockDim.x + threadIdx.x; b < count;                           \
       b += (i64)gridDim.x * blockDim.x) {                                                      \
    const T* p = (const T*)a.w[2] + b * n * n; int r = 0;                                       \
    for (i64 i = n - 1; i >= 0; --i) if (p[i * n + i] == (T)0) r = (int)i + 1;                  \
    ((int*)a.w[3])[b] = r;                                                                      \
  }                                                                                             \
}                                                                                               \
/* Triangular solve op(A) X = B in place, one thread per column of B:                          \
   w: [0] matrices*k [1] n [2] k [3] lower [4] trans [5] unit diagonal [6] a [7] b */           \
extern "C" __global__ void theon_linalg_trsm_##S(const Args a) {                                \
  const i64 total = a.w[0], n = a.w[1], k = a.w[2];                                             \
  const bool lower = a.w[3] != 0, trans = a.w[4] != 0, unit = a.w[5] != 0;                      \
  for (i64 t = blockIdx.x * (i64)blockDim.x + threadIdx.x; t < total;                           \
       t += (i64)gridDim.x * blockDim.x) {                                                      \
    const i64 b = t / k, c = t % k;                                                             \
    const T* A = (const T*)a.w[6] + b * n * n; T* x = (T*)a.w[7] + b * n * k + c * n;           \
    const i64 ri = trans ? n : 1, rj = trans ? 1 : n; /* op(A)(i, j) = A[i * ri + j * rj] */   \
    if (lower != trans) {                                                                       \
      for (i64 i = 0; i < n; ++i) {                                                             \
        T s = x[i];                                                                             \
        for (i64 j = 0; j < i; ++j) s -= A[i * ri + j * rj] * x[j];                             \
        x[i] = unit ? s : s / A[i * (n + 1)];                                                   \
      }                                                                                         \
    } else {                                                                                    \
      for (i64 i = n - 1; i >= 0; --i) {                                                        \
        T s = x[i];                                                                             \
        for (i64 j = i + 1; j < n; ++j) s -= A[i * ri + j * rj] * x[j];                         \
        x[i] = unit ? s : s / A[i * (n + 1)];                                                   \
      }                                                                                         \
    }                                                                                           \
  }                                                                                             \
}                                                                                               \
/* R of QR, row-major rows x n, from geqrf's column-major m x n result:                        \
   w: [0] elements [1] rows [2] n [3] m [4] k [5] geqrf result [6] R */                         \
extern "C" __global__ void theon_linalg_qr_r_##S(const Args a) {                                \
  const i64 total = a.w[0], rows = a.w[1], n = a.w[2], m = a.w[3], k = a.w[4];                  \
  for (i64 e = blockIdx.x * (i64)blockDim.x + threadIdx.x; e < total;                           \
       e += (i64)gridDim.x * blockDim.x) {                                                      \
    const i64 j = e % n, i = (e / n) % rows, b = e / (n * rows);                                \
    ((T*)a.w[6])[e] = i <= j && i < k ? ((const T*)a.w[5])[b * m * n + i + j * m] : (T)0;       \
  }                                                                                             \
}                                                                                               \
/* pinv: rows of Vh (k x n) divided by s, zero where s <= rcond * s[0]:                        \
   w: [0] elements [1] k [2] n [3] rcond (double bits) [4] s [5] vh */                          \
extern "C" __global__ void theon_linalg_pinv_scale_##S(const Args a) {                          \
  const i64 total = a.w[0], k = a.w[1], n = a.w[2];                                             \
  union { long long i; double d; } rc; rc.i = a.w[3];                                           \
  for (i64 e = blockIdx.x * (i64)blockDim.x + threadIdx.x; e < total;                           \
       e += (i64)gridDim.x * blockDim.x) {                                                      \
    const i64 l = (e / n) % k, b = e / (n * k);                                                 \
    const T* s = (const T*)a.w[4] + b * k; T* v = (T*)a.w[5];                                   \
    const T cutoff = (T)rc.d * s[0];                                                            \
    v[e] = s[l] > cutoff ? v[e] / s[l] : (T)0;                                                  \
  }                                                                                             \
}
THEON_LINALG_KERNELS(float, f32)
THEON_LINALG_KERNELS(double, f64)
)CUDA";

}  // namespace

const KernelProgram& linalg_program() {
  return cached_program("linalg", [] {
    KernelProgram p{std::string(fused_prelude()) + kLinalgSource, {}, 8};
    for (const char* k :
         {"tri_zero", "symmetrize", "eye", "det", "diag_info", "trsm", "qr_r", "pinv_scale"})
      for (const char* s : {"_f32", "_f64"})
        p.kernels.push_back(std::string("theon_linalg_") + k + s);
    return p;
  });
}

namespace {

// Launches theon_linalg_<kernel>_<f32|f64> over `n` elements (nothing when n == 0).
void launch(DeviceRuntime& rt, const char* kernel, DType dt, int64_t n,
            std::vector<int64_t> words) {
  if (n <= 0) return;
  words.resize(8, 0);
  rt.launch(linalg_program(),
            std::string("theon_linalg_") + kernel + (dt == DType::Float32 ? "_f32" : "_f64"),
            grid_for(rt, n), words);
}

template <class O>
bool is(const Op& op) {
  return dynamic_cast<const O*>(&op) != nullptr;
}

// The value of `key` in the op's props() ("lower=True, trans=0" ...).
std::string prop(const Op& op, const std::string& key) {
  const std::string p = op.props();
  size_t at = 0;
  while ((at = p.find(key + "=", at)) != std::string::npos) {
    if (at == 0 || p[at - 1] == ' ' || p[at - 1] == ',') {
      const size_t start = at + key.size() + 1;
      return p.substr(start, p.find(',', start) - start);
    }
    ++at;
  }
  throw std::logic_error("[cuda linalg] " + op.name() + " has no property " + key);
}

Shape batch_of(const Array& x, int core = 2) {
  return Shape(x.shape().begin(), x.shape().end() - core);
}

Shape with(Shape s, std::initializer_list<int64_t> tail) {
  s.insert(s.end(), tail);
  return s;
}

// x with its last two axes swapped (a view).
Array swap_last(const Array& x) {
  std::vector<int> perm(size_t(x.ndim()));
  for (int i = 0; i < x.ndim(); ++i) perm[size_t(i)] = i;
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  return x.transpose(perm);
}

// The stack x (broadcast to batch + (r, c)) as column-major r x c matrices in
// dtype dt: a new C-contiguous array of shape batch + (c, r).
Array colmajor(DeviceRuntime& rt, const Array& x, DType dt, const Shape& batch) {
  const int64_t r = x.shape()[size_t(x.ndim() - 2)], c = x.shape().back();
  Array w = device_empty(rt, dt, with(batch, {c, r}));
  if (w.size() > 0) device_assign(w, swap_last(x.broadcast_to(with(batch, {r, c}))));
  return w;
}

// Writes the column-major stack w (batch + (c, r)) to the row-major out (batch + (r, c)).
void store(const Array& out, const Array& w) {
  if (out.size() > 0) device_assign(out, swap_last(w));
}

// Matrix b of the C-contiguous stack w of `count` matrices.
void* mat(const Array& w, int64_t count, int64_t b) {
  return static_cast<char*>(w.data()) + size_t(b) * size_t(w.size() / count) * w.itemsize();
}

// Per-matrix info values of the solver routines, zeroed.
struct Infos {
  Infos(DeviceRuntime& rt, int64_t count)
      : count(count), a(device_empty(rt, DType::Int32, {count})) {
    if (count > 0) rt.zero(a.data(), size_t(count) * sizeof(int));
  }
  int* at(int64_t b) const { return static_cast<int*>(a.data()) + b; }
  // Waits for the device and returns the first positive info (0 when none);
  // a negative one (an invalid argument) is a bug here.
  int first_failure(DeviceRuntime& rt, const char* who) const {
    if (count == 0) return 0;
    std::vector<int> v(static_cast<size_t>(count));
    rt.download(v.data(), a.data(), v.size() * sizeof(int));
    for (int i : v) {
      if (i < 0)
        throw std::logic_error(std::string("[") + who + "] solver argument " + std::to_string(-i) +
                               " is invalid");
      if (i > 0) return i;
    }
    return 0;
  }
  int64_t count;
  Array a;
};

void check_square(const std::string& who, const Array& a) {
  if (a.ndim() < 2 || a.shape()[size_t(a.ndim() - 1)] != a.shape()[size_t(a.ndim() - 2)])
    throw std::invalid_argument("[" + who +
                                "] last 2 dimensions of the array must be square, got shape " +
                                shape_str(a.shape()));
}

// ---- inverse, det, cholesky ----

void run_inverse(DeviceRuntime& rt, const ApplyNode&, const std::vector<Array>& in,
                 std::vector<Array>& out) {
  const Array& a = in[0];
  check_square("matrix_inverse", a);
  const DType dt = linalg_dtype(a.dtype(), "matrix_inverse");
  const Shape batch = batch_of(a);
  const int64_t n = a.shape().back(), nb = shape_size(batch);
  out[0] = device_empty(rt, dt, a.shape());
  if (n == 0 || nb == 0) return;
  Array w = colmajor(rt, a, dt, batch), x = device_empty(rt, dt, a.shape());
  launch(rt, "eye", dt, x.size(), {x.size(), n, n, ptr_word(x.data())});
  Array ipiv = device_empty(rt, DType::Int32, {nb, n});
  Infos lu(rt, nb), solved(rt, nb);
  for (int64_t b = 0; b < nb; ++b) {
    int* piv = static_cast<int*>(mat(ipiv, nb, b));
    solver::getrf(rt, dt, n, mat(w, nb, b), n, piv, lu.at(b));
    solver::getrs(rt, dt, false, n, n, mat(w, nb, b), n, piv, mat(x, nb, b), n, solved.at(b));
  }
  store(out[0], x);
  if (lu.first_failure(rt, "matrix_inverse"))
    throw std::invalid_argument("[matrix_inverse] singular matrix");
  solved.first_failure(rt, "matrix_inverse");
}

void run_det(DeviceRuntime& rt, const ApplyNode&, const std::vector<Array>& in,
             std::vector<Array>& out) {
  const Array& a = in[0];
  check_square("det", a);
  const DType dt = linalg_dtype(a.dtype(), "det");
  const Shape batch = batch_of(a);
  const int64_t n = a.shape().back(), nb = shape_size(batch);
  out[0] = device_empty(rt, dt, batch);
  if (nb == 0) return;
  Array w = colmajor(rt, a, dt, batch);
  Array ipiv = device_empty(rt, DType::Int32, {nb, std::max<int64_t>(n, 1)});
  Infos lu(rt, nb);  // a zero pivot gives det 0, as on the CPU: not an error
  for (int64_t b = 0; n > 0 && b < nb; ++b)
    solver::getrf(rt, dt, n, mat(w, nb, b), n, static_cast<int*>(mat(ipiv, nb, b)), lu.at(b));
  launch(rt, "det", dt, nb,
         {nb, n, ptr_word(w.data()), ptr_word(ipiv.data()), ptr_word(out[0].data())});
}

void run_cholesky(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
                  std::vector<Array>& out) {
  const Array& a = in[0];
  check_square("cholesky", a);
  const bool lower = prop(*node.op, "lower") == "True";
  const DType dt = linalg_dtype(a.dtype(), "cholesky");
  const Shape batch = batch_of(a);
  const int64_t n = a.shape().back(), nb = shape_size(batch);
  out[0] = device_empty(rt, dt, a.shape());
  if (n == 0 || nb == 0) return;
  Array w = colmajor(rt, a, dt, batch);
  Infos info(rt, nb);
  for (int64_t b = 0; b < nb; ++b) solver::potrf(rt, dt, lower, n, mat(w, nb, b), n, info.at(b));
  launch(rt, "tri_zero", dt, w.size(), {w.size(), n, lower, ptr_word(w.data())});
  store(out[0], w);
  if (const int i = info.first_failure(rt, "cholesky"))
    throw std::invalid_argument(
        "[cholesky] matrix is not positive definite (leading minor of order " + std::to_string(i) +
        " is not positive)");
}

// ---- solve ----

void run_solve(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
               std::vector<Array>& out) {
  const Op& op = *node.op;
  const std::string kind = prop(op, "assume_a");
  const bool lower = prop(op, "lower") == "True", unit = prop(op, "unit_diagonal") == "True";
  const bool trans = prop(op, "trans") == "1";
  const Array& a = in[0];
  check_square("solve", a);
  const DType dt = linalg_dtype(promote_types(a.dtype(), in[1].dtype()), "solve");
  const bool vec = in[1].ndim() == 1;
  const Array bm = vec ? in[1].expand_dims(1) : in[1];
  const int64_t n = a.shape().back(), k = bm.shape().back();
  if (bm.shape()[size_t(bm.ndim() - 2)] != n)
    throw std::invalid_argument("[solve] shapes " + shape_str(a.shape()) + " and " +
                                shape_str(in[1].shape()) + " are not aligned: a has " +
                                std::to_string(n) + " rows, b has " +
                                std::to_string(bm.shape()[size_t(bm.ndim() - 2)]));
  const Shape batch = vec ? batch_of(a) : broadcast_shapes(batch_of(a), batch_of(bm));
  const int64_t nb = shape_size(batch);
  Array r = device_empty(rt, dt, with(batch, {n, k}));
  out[0] = vec ? r.reshape(with(batch, {n})) : r;
  if (n == 0 || k == 0 || nb == 0) return;
  Array wa = colmajor(rt, a, dt, batch), wb = colmajor(rt, bm, dt, batch);
  Infos info(rt, nb), solved(rt, nb);
  int failed = 0;
  std::string why;
  if (kind == "lower_triangular" || kind == "upper_triangular") {
    if (!unit) launch(rt, "diag_info", dt, nb, {nb, n, ptr_word(wa.data()), ptr_word(info.at(0))});
    launch(rt, "trsm", dt, nb * k,
           {nb * k, n, k, kind == "lower_triangular", trans, unit, ptr_word(wa.data()),
            ptr_word(wb.data())});
    store(r, wb);
    if ((failed = info.first_failure(rt, "solve_triangular")))
      throw std::invalid_argument("[solve_triangular] singular matrix: diagonal element " +
                                  std::to_string(failed - 1) + " is zero");
    return;
  }
  if (kind == "pos") {
    for (int64_t b = 0; b < nb; ++b) {
      solver::potrf(rt, dt, lower, n, mat(wa, nb, b), n, info.at(b));
      solver::potrs(rt, dt, lower, n, k, mat(wa, nb, b), n, mat(wb, nb, b), n, solved.at(b));
    }
    why = "[solve] matrix is not positive definite";
  } else {  // gen, sym, her: LU (of the matrix made symmetric for sym / her)
    const bool sym = kind != "gen";
    if (sym) launch(rt, "symmetrize", dt, wa.size(), {wa.size(), n, lower, ptr_word(wa.data())});
    Array ipiv = device_empty(rt, DType::Int32, {nb, n});
    for (int64_t b = 0; b < nb; ++b) {
      int* piv = static_cast<int*>(mat(ipiv, nb, b));
      solver::getrf(rt, dt, n, mat(wa, nb, b), n, piv, info.at(b));
      solver::getrs(rt, dt, trans && !sym, n, k, mat(wa, nb, b), n, piv, mat(wb, nb, b), n,
                    solved.at(b));
    }
    why = "[solve] singular matrix";
  }
  store(r, wb);
  if (info.first_failure(rt, "solve")) throw std::invalid_argument(why);
  solved.first_failure(rt, "solve");
}

// ---- eigh, qr ----

void run_eigh(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
              std::vector<Array>& out) {
  const Array& a = in[0];
  check_square("eigh", a);
  const bool lower = prop(*node.op, "UPLO") == "L";
  const DType dt = linalg_dtype(a.dtype(), "eigh");
  const Shape batch = batch_of(a);
  const int64_t n = a.shape().back(), nb = shape_size(batch);
  out[0] = device_empty(rt, dt, with(batch, {n}));
  out[1] = device_empty(rt, dt, a.shape());
  if (n == 0 || nb == 0) return;
  Array w = colmajor(rt, a, dt, batch);
  Infos info(rt, nb);
  for (int64_t b = 0; b < nb; ++b)
    solver::syevd(rt, dt, lower, n, mat(w, nb, b), n, mat(out[0], nb, b), info.at(b));
  store(out[1], w);
  if (info.first_failure(rt, "eigh"))
    throw std::runtime_error("[eigh] eigenvalues did not converge");
}

void run_qr(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
            std::vector<Array>& out) {
  const std::string mode = prop(*node.op, "mode");
  const Array& a = in[0];
  const DType dt = linalg_dtype(a.dtype(), "qr");
  const Shape batch = batch_of(a);
  const int nd = a.ndim();
  const int64_t m = a.shape()[size_t(nd - 2)], n = a.shape().back(), k = std::min(m, n);
  const int64_t nb = shape_size(batch);
  const bool complete = mode == "complete";
  const int64_t r_rows = complete ? m : k, q_cols = complete ? m : k;
  Array R = device_empty(rt, dt, with(batch, {r_rows, n}));
  Array Q = mode == "r" ? Array() : device_empty(rt, dt, with(batch, {m, q_cols}));
  if (mode == "r")
    out[0] = R;
  else
    out = {Q, R};
  if (nb == 0) return;
  Array w = colmajor(rt, a, dt, batch);
  Array tau = device_empty(rt, dt, {nb, std::max<int64_t>(k, 1)});
  Infos info(rt, nb);  // only an invalid argument fails geqrf / orgqr
  for (int64_t b = 0; k > 0 && b < nb; ++b)
    solver::geqrf(rt, dt, m, n, mat(w, nb, b), std::max<int64_t>(m, 1), mat(tau, nb, b),
                  info.at(b));
  launch(rt, "qr_r", dt, R.size(),
         {R.size(), r_rows, n, m, k, ptr_word(w.data()), ptr_word(R.data())});
  if (mode == "r" || Q.size() == 0) return;
  // Q as column-major m x q_cols: the reflectors (w's first k columns), then orgqr.
  Array qb = device_empty(rt, dt, with(batch, {q_cols, m}));
  if (k == 0) {
    launch(rt, "eye", dt, qb.size(), {qb.size(), q_cols, m, ptr_word(qb.data())});
  } else {
    rt.zero(qb.data(), size_t(qb.size()) * qb.itemsize());
    const int ax = nd - 2;
    device_assign(qb.slice(ax, 0, k, 1), w.slice(ax, 0, k, 1));
    for (int64_t b = 0; b < nb; ++b)
      solver::orgqr(rt, dt, m, q_cols, k, mat(qb, nb, b), m, mat(tau, nb, b), info.at(b));
  }
  store(Q, qb);
}

// ---- svd, pinv ----

struct SvdResult {
  Array U, S, Vh;  // row-major: batch + (m, ucols), batch + (k), batch + (vrows, n)
};

// The SVD of every matrix of a (m x n, k = min(m, n) > 0) as perform() returns it
// (U and Vh only when uv). Raises perform()'s error when an SVD does not converge.
SvdResult svd_stack(DeviceRuntime& rt, const Array& a, DType dt, const Shape& batch, bool uv,
                    bool full) {
  const int64_t m = a.shape()[size_t(a.ndim() - 2)], n = a.shape().back(), k = std::min(m, n);
  const int64_t nb = shape_size(batch);
  SvdResult r;
  r.S = device_empty(rt, dt, with(batch, {k}));
  r.U = device_empty(rt, dt, with(batch, {m, uv ? (full ? m : k) : 0}));
  r.Vh = device_empty(rt, dt, with(batch, {uv ? (full ? n : k) : 0, n}));
  if (nb == 0) return r;
  // gesvd needs rows >= cols: X = a, or a^T when m < n (a = X^T = VX^T S UX^T).
  const bool tr = m < n;
  const Array X = tr ? swap_last(a) : a;
  const int64_t M = std::max(m, n), N = k;
  const char job = uv ? (full ? 'A' : 'S') : 'N';
  Array w = colmajor(rt, X, dt, batch);
  Array ub = device_empty(rt, dt, with(batch, {uv ? (full ? M : N) : 0, M}));  // UX column-major
  Array vb = device_empty(rt, dt, with(batch, {uv ? N : 0, N}));               // VX^T column-major
  Infos info(rt, nb);
  for (int64_t b = 0; b < nb; ++b)
    solver::gesvd(rt, dt, job, M, N, mat(w, nb, b), M, mat(r.S, nb, b),
                  uv ? mat(ub, nb, b) : nullptr, M, uv ? mat(vb, nb, b) : nullptr, N, info.at(b));
  if (uv && !tr) {
    store(r.U, ub);
    store(r.Vh, vb);
  } else if (uv) {  // U = (VX^T)^T and Vh = UX^T: the column-major buffers read row-major
    device_assign(r.U, vb);
    device_assign(r.Vh, ub);
  }
  if (info.first_failure(rt, "svd")) throw std::runtime_error("[svd] SVD did not converge");
  return r;
}

void run_svd(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
             std::vector<Array>& out) {
  const bool full = prop(*node.op, "full_matrices") == "True";
  const bool uv = prop(*node.op, "compute_uv") == "True";
  const Array& a = in[0];
  const DType dt = linalg_dtype(a.dtype(), "svd");
  const Shape batch = batch_of(a);
  const int64_t m = a.shape()[size_t(a.ndim() - 2)], n = a.shape().back(), k = std::min(m, n);
  SvdResult r;
  if (k > 0) {
    r = svd_stack(rt, a, dt, batch, uv, full);
  } else {  // perform(): identity U and Vh, no singular values
    r.S = device_empty(rt, dt, with(batch, {0}));
    r.U = device_empty(rt, dt, with(batch, {m, full ? m : k}));
    r.Vh = device_empty(rt, dt, with(batch, {full ? n : k, n}));
    launch(rt, "eye", dt, r.U.size(), {r.U.size(), m, full ? m : k, ptr_word(r.U.data())});
    launch(rt, "eye", dt, r.Vh.size(), {r.Vh.size(), full ? n : k, n, ptr_word(r.Vh.data())});
  }
  if (uv)
    out = {r.U, r.S, r.Vh};
  else
    out[0] = r.S;
}

void run_pinv(DeviceRuntime& rt, const ApplyNode& node, const std::vector<Array>& in,
              std::vector<Array>& out) {
  const double rcond = std::strtod(prop(*node.op, "rcond").c_str(), nullptr);
  const Array& a = in[0];
  const DType dt = linalg_dtype(a.dtype(), "pinv");
  const Shape batch = batch_of(a);
  const int64_t m = a.shape()[size_t(a.ndim() - 2)], n = a.shape().back(), k = std::min(m, n);
  const int64_t nb = shape_size(batch);
  Array R = device_empty(rt, dt, with(batch, {n, m}));
  out[0] = R;
  if (R.size() == 0) return;
  if (k == 0 || nb == 0) {
    rt.zero(R.data(), size_t(R.size()) * R.itemsize());
    return;
  }
  SvdResult s = svd_stack(rt, a, dt, batch, true, false);
  double rc = rcond;
  int64_t bits = 0;
  std::memcpy(&bits, &rc, sizeof bits);
  launch(rt, "pinv_scale", dt, s.Vh.size(),
         {s.Vh.size(), k, n, bits, ptr_word(s.S.data()), ptr_word(s.Vh.data())});
  // R = (Vh / s)^T U^T: n x m from Vh (k x n) and U (m x k), both transposed.
  for (int64_t b = 0; b < nb; ++b)
    rt.gemm(true, true, n, m, k, 1.0, mat(s.Vh, nb, b), n, mat(s.U, nb, b), k, 0.0, mat(R, nb, b),
            m, dt);
}

}  // namespace

std::vector<DeviceKernel> linalg_kernels() {
  return {
      {"matrix_inverse", is<MatrixInverse>, run_inverse},
      {"det", is<Det>, run_det},
      {"cholesky", is<Cholesky>, run_cholesky},
      {"solve", is<Solve>, run_solve},
      {"eigh", is<Eigh>, run_eigh},
      {"qr", is<QR>, run_qr},
      {"svd", is<SVD>, run_svd},
      {"pinv", is<Pinv>, run_pinv},
  };
}

}  // namespace theon::cuda::kernels
