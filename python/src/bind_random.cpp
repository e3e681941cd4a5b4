// Python bindings of the random family (theon/ops/random.h): the C++
// RandomStreams as _core.RandomStreams, with Theano's argument conventions
// (sizes as tuples or shape vectors, parameters as numbers or Variables).
// theon/tensor/shared_randomstreams.py gives it Theano's Python class.
#include <theon/ops/random.h>

#include "common.h"

using namespace theon;

namespace {

// None, (), an int, a tuple/list of ints and scalar Variables, or an int vector Variable.
RandomSize to_size(nb::handle h) {
  if (h.is_none()) return RandomSize();
  Var v;
  if (nb::try_cast(h, v)) {
    if (v.ndim() > 1 || !is_integer(v.dtype()))
      throw nb::type_error(
          ("size must be a tuple of ints or an integer vector, got " + v.type().str()).c_str());
    return RandomSize(v);
  }
  return RandomSize(py::to_shape(h));
}

// A Python number stays a number (it takes the sample's dtype); anything else becomes a Variable.
RandomParam to_param(nb::handle h) {
  if (PyBool_Check(h.ptr()) || PyLong_Check(h.ptr())) {
    if (nb::cast<double>(h) != double(nb::cast<int64_t>(h)))
      throw nb::value_error("random parameter does not fit in int64");
    return RandomParam(nb::cast<int64_t>(h));
  }
  if (PyFloat_Check(h.ptr())) return RandomParam(nb::cast<double>(h));
  return RandomParam(py::to_var(h));
}

std::optional<DType> opt_dtype(nb::handle d) {
  if (d.is_none()) return std::nullopt;
  return py::to_dtype(d);
}

DType int_dtype(nb::handle d) {
  return d.is_none() ? DType::Int64 : py::to_dtype(d);
}

}  // namespace

void init_random(nb::module_& m) {
  nb::class_<RandomStreams>(m, "RandomStreams")
      .def(nb::init<uint64_t>(), nb::arg("seed"))
      .def(
          "uniform",
          [](RandomStreams& rs, nb::handle size, nb::handle low, nb::handle high,
             std::optional<int> ndim, nb::handle dtype) {
            return rs.uniform(to_size(size), to_param(low), to_param(high), ndim, opt_dtype(dtype));
          },
          nb::arg("size").none(), nb::arg("low"), nb::arg("high"), nb::arg("ndim").none(),
          nb::arg("dtype").none())
      .def(
          "normal",
          [](RandomStreams& rs, nb::handle size, nb::handle avg, nb::handle std,
             std::optional<int> ndim, nb::handle dtype) {
            return rs.normal(to_size(size), to_param(avg), to_param(std), ndim, opt_dtype(dtype));
          },
          nb::arg("size").none(), nb::arg("avg"), nb::arg("std"), nb::arg("ndim").none(),
          nb::arg("dtype").none())
      .def(
          "binomial",
          [](RandomStreams& rs, nb::handle size, nb::handle n, nb::handle p,
             std::optional<int> ndim, nb::handle dtype) {
            return rs.binomial(to_size(size), to_param(n), to_param(p), ndim, int_dtype(dtype));
          },
          nb::arg("size").none(), nb::arg("n"), nb::arg("p"), nb::arg("ndim").none(),
          nb::arg("dtype").none())
      .def(
          "random_integers",
          [](RandomStreams& rs, nb::handle size, nb::handle low, nb::handle high,
             std::optional<int> ndim, nb::handle dtype) {
            return rs.random_integers(to_size(size), to_param(low), to_param(high), ndim,
                                      int_dtype(dtype));
          },
          nb::arg("size").none(), nb::arg("low"), nb::arg("high"), nb::arg("ndim").none(),
          nb::arg("dtype").none())
      .def(
          "choice",
          [](RandomStreams& rs, nb::handle size, nb::handle a, bool replace, nb::handle p,
             std::optional<int> ndim, nb::handle dtype) {
            Var pv = p.is_none() ? Var() : py::to_var(p);
            return rs.choice(to_size(size), to_param(a), replace, pv, ndim, int_dtype(dtype));
          },
          nb::arg("size").none(), nb::arg("a"), nb::arg("replace"), nb::arg("p").none(),
          nb::arg("ndim").none(), nb::arg("dtype").none())
      .def(
          "permutation",
          [](RandomStreams& rs, nb::handle size, nb::handle n, std::optional<int> ndim,
             nb::handle dtype) {
            return rs.permutation(to_size(size), to_param(n), ndim, int_dtype(dtype));
          },
          nb::arg("size").none(), nb::arg("n"), nb::arg("ndim").none(), nb::arg("dtype").none())
      .def("seed", &RandomStreams::seed, nb::arg("seed"))
      .def_prop_ro("current_seed", &RandomStreams::get_seed)
      .def_prop_ro("state_updates", [](const RandomStreams& rs) { return rs.state_updates(); });
  m.def(
      "random_state",
      [](uint64_t seed, uint64_t index) { return py::to_numpy(random_state(seed, index)); },
      nb::arg("seed"), nb::arg("index") = 0,
      "A generator state [key, counter] (uint64) for a seed and stream index.");
}
