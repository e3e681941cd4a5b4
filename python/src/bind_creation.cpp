// Python bindings of the creation ops (theon/ops/creation.h): alloc, fill,
// zeros/ones(_like), full_like, eye, identity_like, tri, tril/triu, arange,
// linspace. Theano's argument conventions are applied in theon/tensor/_creation.py.
#include <theon/ops/creation.h>

#include "common.h"

using namespace theon;

namespace {

std::optional<DType> opt_dtype(nb::handle d) {
  if (d.is_none()) return std::nullopt;
  return py::to_dtype(d);
}

bool is_py_number(nb::handle h) {
  return PyBool_Check(h.ptr()) || PyLong_Check(h.ptr()) || PyFloat_Check(h.ptr());
}

// Operands of arange/linspace: Python numbers alone take NumPy's default
// dtypes (int64, float64); among Variables they are weak scalars.
std::vector<Var> range_operands(const std::vector<nb::handle>& hs) {
  bool any_var = false;
  for (auto h : hs) any_var = any_var || !is_py_number(h);
  if (any_var) return py::to_vars(hs);
  std::vector<Var> r;
  for (auto h : hs) {
    if (PyFloat_Check(h.ptr()))
      r.push_back(constant(nb::cast<double>(h), DType::Float64));
    else
      r.push_back(py::to_var(h));
  }
  return r;
}

// An int scalar argument (Python int or integer scalar Variable).
Var int_arg(nb::handle h, const char* what) {
  if (PyFloat_Check(h.ptr()))
    throw nb::type_error((std::string(what) + " must be an integer, got a float").c_str());
  return py::to_var(h);
}

}  // namespace

void init_creation(nb::module_& m) {
  m.def(
      "alloc",
      [](nb::handle value, nb::handle shape) {
        return alloc(py::to_var(value), py::to_shape(shape));
      },
      nb::arg("value"), nb::arg("shape"));
  m.def(
      "fill",
      [](nb::handle model, nb::handle value) {
        auto vs = py::to_vars({model, value});
        return fill(vs[0], vs[1]);
      },
      nb::arg("model"), nb::arg("value"));
  m.def(
      "zeros",
      [](nb::handle shape, nb::handle dtype) {
        return zeros(py::to_shape(shape), py::to_dtype(dtype));
      },
      nb::arg("shape"), nb::arg("dtype") = nb::none());
  m.def(
      "ones",
      [](nb::handle shape, nb::handle dtype) {
        return ones(py::to_shape(shape), py::to_dtype(dtype));
      },
      nb::arg("shape"), nb::arg("dtype") = nb::none());
  m.def(
      "zeros_like",
      [](nb::handle x, nb::handle dtype) { return zeros_like(py::to_var(x), opt_dtype(dtype)); },
      nb::arg("model"), nb::arg("dtype") = nb::none());
  m.def(
      "ones_like",
      [](nb::handle x, nb::handle dtype) { return ones_like(py::to_var(x), opt_dtype(dtype)); },
      nb::arg("model"), nb::arg("dtype") = nb::none());
  m.def(
      "full_like",
      [](nb::handle x, nb::handle fill_value, nb::handle dtype) {
        Var xv = py::to_var(x);
        auto d = opt_dtype(dtype);
        // A Python number takes the result dtype (NumPy casts the fill value unsafely).
        Var v = is_py_number(fill_value)
                    ? constant(nb::cast<double>(fill_value), d.value_or(xv.dtype()))
                    : py::to_var(fill_value);
        return full_like(xv, v, d);
      },
      nb::arg("a"), nb::arg("fill_value"), nb::arg("dtype") = nb::none());
  auto eye_like = [&](const char* name,
                      Var (*fn)(const Var&, std::optional<Var>, std::optional<Var>, DType)) {
    m.def(
        name,
        [fn](nb::handle n, nb::handle mm, nb::handle k, nb::handle dtype) {
          std::optional<Var> mv;
          if (!mm.is_none()) mv = int_arg(mm, "M");
          return fn(int_arg(n, "N"), mv, int_arg(k, "k"), py::to_dtype(dtype));
        },
        nb::arg("n"), nb::arg("m") = nb::none(), nb::arg("k") = 0, nb::arg("dtype") = nb::none());
  };
  eye_like("eye", &eye);
  eye_like("tri", &tri);
  m.def(
      "identity_like", [](nb::handle x) { return identity_like(py::to_var(x)); }, nb::arg("x"));
  m.def(
      "tril", [](nb::handle x, int64_t k) { return tril(py::to_var(x), k); }, nb::arg("m"),
      nb::arg("k") = 0);
  m.def(
      "triu", [](nb::handle x, int64_t k) { return triu(py::to_var(x), k); }, nb::arg("m"),
      nb::arg("k") = 0);
  m.def(
      "arange",
      [](nb::handle start, nb::handle stop, nb::handle step, nb::handle dtype) {
        auto vs = range_operands({start, stop, step});
        return arange(vs[0], vs[1], vs[2], opt_dtype(dtype));
      },
      nb::arg("start"), nb::arg("stop"), nb::arg("step"), nb::arg("dtype") = nb::none());
  m.def(
      "linspace",
      [](nb::handle start, nb::handle stop, int64_t num, bool endpoint, nb::handle dtype) {
        auto vs = range_operands({start, stop});
        return linspace(vs[0], vs[1], num, endpoint, opt_dtype(dtype));
      },
      nb::arg("start"), nb::arg("stop"), nb::arg("num") = 50, nb::arg("endpoint") = true,
      nb::arg("dtype") = nb::none());
}
