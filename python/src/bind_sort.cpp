// Python bindings of sorting and scans (sort.h).
#include <theon/ops/sort.h>

#include "common.h"

using namespace theon;

namespace {
std::optional<int> one_axis(nb::handle axis, const char* who) {
  if (axis.is_none()) return std::nullopt;
  if (!nb::isinstance<nb::int_>(axis))
    throw nb::type_error((std::string("[") + who + "] axis must be None or an int").c_str());
  return nb::cast<int>(axis);
}
}  // namespace

void init_sort(nb::module_& m) {
  m.def("sort", [](nb::handle x, nb::handle axis) { return sort(py::to_var(x), one_axis(axis, "sort")); },
        nb::arg("x"), nb::arg("axis").none() = -1);
  m.def("argsort", [](nb::handle x, nb::handle axis) { return argsort(py::to_var(x), one_axis(axis, "argsort")); },
        nb::arg("x"), nb::arg("axis").none() = -1);
  m.def("cumsum", [](nb::handle x, nb::handle axis) { return cumsum(py::to_var(x), one_axis(axis, "cumsum")); },
        nb::arg("x"), nb::arg("axis").none() = nb::none());
  m.def("cumprod", [](nb::handle x, nb::handle axis) { return cumprod(py::to_var(x), one_axis(axis, "cumprod")); },
        nb::arg("x"), nb::arg("axis").none() = nb::none());
  m.def("diff", [](nb::handle x, int n, int axis) { return diff(py::to_var(x), n, axis); }, nb::arg("x"),
        nb::arg("n") = 1, nb::arg("axis") = -1);
}
