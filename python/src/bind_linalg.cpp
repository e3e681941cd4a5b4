// Python bindings of the products (blas.h) and linear algebra (linalg.h).
#include <theon/ops/blas.h>
#include <theon/ops/linalg.h>

#include "common.h"

using namespace theon;

namespace {

std::pair<Var, Var> two(nb::handle a, nb::handle b) {
  auto v = py::to_vars({a, b});
  return {v[0], v[1]};
}

std::vector<int> int_list(nb::handle h) {
  std::vector<int> r;
  if (nb::isinstance<nb::int_>(h)) {
    r.push_back(nb::cast<int>(h));
    return r;
  }
  for (nb::handle x : h) r.push_back(nb::cast<int>(x));
  return r;
}

nb::object vars_out(const std::vector<Var>& vs) {
  if (vs.size() == 1) return nb::cast(vs[0]);
  nb::list l;
  for (const auto& v : vs) l.append(nb::cast(v));
  return nb::tuple(l);
}

}  // namespace

void init_linalg(nb::module_& m) {
  m.def("dot", [](nb::handle a, nb::handle b) { auto [x, y] = two(a, b); return dot(x, y); });
  m.def("matmul", [](nb::handle a, nb::handle b) { auto [x, y] = two(a, b); return matmul(x, y); });
  m.def("outer", [](nb::handle a, nb::handle b) { auto [x, y] = two(a, b); return outer(x, y); });
  m.def("batched_dot", [](nb::handle a, nb::handle b) { auto [x, y] = two(a, b); return batched_dot(x, y); });
  m.def("tensordot",
        [](nb::handle a, nb::handle b, nb::handle axes) {
          auto [x, y] = two(a, b);
          if (nb::isinstance<nb::int_>(axes)) return tensordot(x, y, nb::cast<int>(axes));
          if (nb::len(axes) != 2)
            throw nb::value_error("[tensordot] axes must be an int or a pair (axes_a, axes_b)");
          auto aa = int_list(axes[0]), ab = int_list(axes[1]);
          if (aa.size() != ab.size())
            throw nb::value_error("[tensordot] axes_a and axes_b must have the same length");
          return tensordot(x, y, aa, ab);
        },
        nb::arg("a"), nb::arg("b"), nb::arg("axes") = 2);

  m.def("matrix_inverse", [](nb::handle a) { return matrix_inverse(py::to_var(a)); });
  m.def("det", [](nb::handle a) { return det(py::to_var(a)); });
  m.def("cholesky", [](nb::handle a, bool lower) { return cholesky(py::to_var(a), lower); }, nb::arg("a"),
        nb::arg("lower") = true);
  m.def("solve",
        [](nb::handle a, nb::handle b, const std::string& assume_a, bool lower) {
          auto [x, y] = two(a, b);
          return solve(x, y, assume_a, lower);
        },
        nb::arg("a"), nb::arg("b"), nb::arg("assume_a") = "gen", nb::arg("lower") = false);
  m.def("solve_triangular",
        [](nb::handle a, nb::handle b, nb::handle trans, bool lower, bool unit_diagonal) {
          auto [x, y] = two(a, b);
          int t = 0;
          if (nb::isinstance<nb::str>(trans)) {
            std::string s = nb::cast<std::string>(trans);
            if (s == "N") t = 0;
            else if (s == "T" || s == "C") t = 1;
            else throw nb::value_error("[solve_triangular] trans must be 0, 1, 2, 'N', 'T' or 'C'");
          } else {
            t = nb::cast<int>(trans);
            if (t == 2) t = 1;  // conjugate transpose of a real matrix
          }
          return solve_triangular(x, y, t, lower, unit_diagonal);
        },
        nb::arg("a"), nb::arg("b"), nb::arg("trans") = 0, nb::arg("lower") = false,
        nb::arg("unit_diagonal") = false);
  m.def("eigh",
        [](nb::handle a, const std::string& uplo) {
          if (uplo != "L" && uplo != "U") throw nb::value_error("[eigh] UPLO must be 'L' or 'U'");
          return vars_out(eigh(py::to_var(a), uplo[0]));
        },
        nb::arg("a"), nb::arg("UPLO") = "L");
  m.def("qr", [](nb::handle a, const std::string& mode) { return vars_out(qr(py::to_var(a), mode)); },
        nb::arg("a"), nb::arg("mode") = "reduced");
  m.def("svd",
        [](nb::handle a, bool full_matrices, bool compute_uv) {
          return vars_out(svd(py::to_var(a), full_matrices, compute_uv));
        },
        nb::arg("a"), nb::arg("full_matrices") = true, nb::arg("compute_uv") = true);
  m.def("pinv", [](nb::handle a, double rcond) { return pinv(py::to_var(a), rcond); }, nb::arg("a"),
        nb::arg("rcond") = 1e-15);
  m.def("extract_diag",
        [](nb::handle x, int offset, int axis1, int axis2) { return extract_diag(py::to_var(x), offset, axis1, axis2); },
        nb::arg("x"), nb::arg("offset") = 0, nb::arg("axis1") = 0, nb::arg("axis2") = 1);
  m.def("alloc_diag", [](nb::handle v, int offset) { return alloc_diag(py::to_var(v), offset); }, nb::arg("v"),
        nb::arg("offset") = 0);
  m.def("trace",
        [](nb::handle x, int offset, int axis1, int axis2) { return trace(py::to_var(x), offset, axis1, axis2); },
        nb::arg("x"), nb::arg("offset") = 0, nb::arg("axis1") = 0, nb::arg("axis2") = 1);
}
