// theon/ops/linalg.h — dense linear algebra over LAPACK: inverse,
// determinant, Cholesky, linear solves, symmetric eigendecomposition, QR,
// SVD, pseudo-inverse; and the diagonal helpers extract_diag, alloc_diag, trace.
//
// Every op accepts a matrix or a stack of matrices in the last two axes (like
// numpy.linalg) and computes in float32 for float32 input and in float64
// otherwise (integers and bool are promoted to float64; float16/bfloat16 are
// rejected as in NumPy). Failures NumPy reports as LinAlgError — a singular
// matrix, a matrix that is not positive definite — throw
// std::invalid_argument naming the op; non-convergence throws std::runtime_error.
#pragma once
#include "theon/graph/node.h"

namespace theon {

// The dtype a linalg op computes in for an input of dtype d (throws naming `who`).
DType linalg_dtype(DType d, const char* who);

// Base of the ops over stacks of matrices: checks ranks, dtypes and squareness.
class LinalgOp : public Op {
 protected:
  // Checks a (..., M, N) input (square when asked) and returns its compute dtype.
  DType check_matrix(const Var& x, bool square) const;
};

class MatrixInverse : public LinalgOp {
 public:
  std::string name() const override { return "matrix_inverse"; }
  THEON_OP_OVERRIDES
};

class Det : public LinalgOp {
 public:
  std::string name() const override { return "det"; }
  THEON_OP_OVERRIDES
};

class Cholesky : public LinalgOp {
 public:
  explicit Cholesky(bool lower) : lower_(lower) {}
  std::string name() const override { return "cholesky{" + props() + "}"; }
  std::string props() const override { return lower_ ? "lower=True" : "lower=False"; }
  THEON_OP_OVERRIDES

 private:
  bool lower_;
};

// solve(a, b): x with a x = b. assume_a: "gen" (LU), "sym"/"her" (LDL^T from
// the `lower` or upper triangle), "pos" (Cholesky), or "lower_triangular" /
// "upper_triangular". b is a vector (M,) or a stack (..., M, K).
class Solve : public LinalgOp {
 public:
  Solve(std::string assume_a, bool lower, bool unit_diagonal = false, int trans = 0);
  std::string name() const override { return "solve{" + props() + "}"; }
  std::string props() const override;
  THEON_OP_OVERRIDES

 private:
  std::string assume_a_;
  bool lower_, unit_diagonal_;
  int trans_;
};

// Symmetric eigendecomposition: w ascending and v with eigenvectors in columns.
class Eigh : public LinalgOp {
 public:
  explicit Eigh(char uplo) : uplo_(uplo) {}
  std::string name() const override { return "eigh{" + props() + "}"; }
  std::string props() const override { return std::string("UPLO=") + uplo_; }
  THEON_OP_OVERRIDES

 private:
  char uplo_;
};

// QR: mode "reduced" (Q, R), "complete" (Q, R) or "r" (R only).
class QR : public LinalgOp {
 public:
  explicit QR(std::string mode);
  std::string name() const override { return "qr{" + props() + "}"; }
  std::string props() const override { return "mode=" + mode_; }
  THEON_OP_OVERRIDES

 private:
  std::string mode_;
};

// SVD: (U, s, Vh) when compute_uv, otherwise s alone.
class SVD : public LinalgOp {
 public:
  SVD(bool full_matrices, bool compute_uv) : full_(full_matrices), uv_(compute_uv) {}
  std::string name() const override { return "svd{" + props() + "}"; }
  std::string props() const override;
  THEON_OP_OVERRIDES

 private:
  bool full_, uv_;
};

// Moore-Penrose pseudo-inverse via SVD; singular values <= rcond * max(s) are dropped.
class Pinv : public LinalgOp {
 public:
  explicit Pinv(double rcond) : rcond_(rcond) {}
  std::string name() const override { return "pinv{" + props() + "}"; }
  std::string props() const override;
  THEON_OP_OVERRIDES

 private:
  double rcond_;
};

// numpy.diagonal(x, offset, axis1, axis2) as a view; the diagonal is the last axis.
class ExtractDiag : public Op {
 public:
  ExtractDiag(int offset, int axis1, int axis2) : offset_(offset), axis1_(axis1), axis2_(axis2) {}
  std::string name() const override { return "ExtractDiag{" + props() + "}"; }
  std::string props() const override;
  THEON_OP_OVERRIDES
  std::vector<std::pair<int, int>> view_map() const override { return {{0, 0}}; }

 private:
  int offset_, axis1_, axis2_;
};

// numpy.diag(v, k) for a vector v: a square matrix with v on diagonal k.
class AllocDiag : public Op {
 public:
  explicit AllocDiag(int offset) : offset_(offset) {}
  std::string name() const override { return "AllocDiag{offset=" + props() + "}"; }
  std::string props() const override { return std::to_string(offset_); }
  THEON_OP_OVERRIDES

 private:
  int offset_;
};

// numpy.linalg.inv.
Var matrix_inverse(const Var& a);
// numpy.linalg.det.
Var det(const Var& a);
// Cholesky factor: L with a = L L^T (lower) or U with a = U^T U.
Var cholesky(const Var& a, bool lower = true);
// scipy.linalg.solve(a, b, assume_a, lower).
Var solve(const Var& a, const Var& b, const std::string& assume_a = "gen", bool lower = false);
// scipy.linalg.solve_triangular(a, b, trans, lower, unit_diagonal).
Var solve_triangular(const Var& a, const Var& b, int trans = 0, bool lower = false,
                     bool unit_diagonal = false);
// numpy.linalg.eigh: {w, v}; uplo is 'L' or 'U'.
std::vector<Var> eigh(const Var& a, char uplo = 'L');
// numpy.linalg.qr: {Q, R} for "reduced"/"complete", {R} for "r".
std::vector<Var> qr(const Var& a, const std::string& mode = "reduced");
// numpy.linalg.svd: {U, s, Vh} or {s}.
std::vector<Var> svd(const Var& a, bool full_matrices = true, bool compute_uv = true);
// numpy.linalg.pinv.
Var pinv(const Var& a, double rcond = 1e-15);
Var extract_diag(const Var& x, int offset = 0, int axis1 = 0, int axis2 = 1);
Var alloc_diag(const Var& v, int offset = 0);
// numpy.trace(x, offset, axis1, axis2): the sum of a diagonal.
Var trace(const Var& x, int offset = 0, int axis1 = 0, int axis2 = 1);

}  // namespace theon
