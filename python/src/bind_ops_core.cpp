// Bindings generated from the elementwise table, and the reductions.
#include "common.h"

using namespace theon;

void init_elemwise(nb::module_& m) {
  // One function per row of elemwise.def, under the row's name (add, exp, switch_, ...).
  for (const auto& info : scalar_ops()) {
    ScalarOpId id = info.id;
    int arity = info.arity;
    std::string name = info.name;
    m.def(info.name, [id, arity, name](nb::args args) {
      if (int(args.size()) != arity)
        throw nb::type_error((name + "() takes " + std::to_string(arity) + " argument(s), got " +
                              std::to_string(args.size())).c_str());
      std::vector<nb::handle> hs(args.begin(), args.end());
      return elemwise(id, py::to_vars(hs));
    });
  }
  m.def("elemwise_names", [] {
    std::vector<std::pair<std::string, int>> r;
    for (const auto& info : scalar_ops()) r.push_back({info.name, info.arity});
    return r;
  });
}

void init_reduce(nb::module_& m) {
  auto def = [&](const char* name, Var (*fn)(const Var&, const Axes&, bool)) {
    m.def(name, [fn](nb::handle x, nb::handle axis, bool keepdims) {
            return fn(py::to_var(x), py::to_axes(axis), keepdims);
          },
          nb::arg("x"), nb::arg("axis") = nb::none(), nb::arg("keepdims") = false);
  };
  def("sum", &sum);
  def("prod", &prod);
  def("mean", &mean);
  def("max", &max);
  def("min", &min);
  def("all", &all);
  def("any", &any);
  def("logsumexp", &logsumexp);
  auto arg = [&](const char* name, Var (*fn)(const Var&, std::optional<int>, bool)) {
    m.def(name, [fn, name](nb::handle x, nb::handle axis, bool keepdims) {
            auto a = py::to_axes(axis);
            if (a && a->size() != 1)
              throw nb::value_error((std::string(name) + ": axis must be None or a single int").c_str());
            return fn(py::to_var(x), a ? std::optional<int>((*a)[0]) : std::nullopt, keepdims);
          },
          nb::arg("x"), nb::arg("axis") = nb::none(), nb::arg("keepdims") = false);
  };
  arg("argmax", &argmax);
  arg("argmin", &argmin);
  m.def("var", [](nb::handle x, nb::handle axis, bool keepdims, int ddof) {
          return var(py::to_var(x), py::to_axes(axis), keepdims, ddof);
        },
        nb::arg("x"), nb::arg("axis") = nb::none(), nb::arg("keepdims") = false, nb::arg("ddof") = 0);
  m.def("std", [](nb::handle x, nb::handle axis, bool keepdims, int ddof) {
          return theon::std(py::to_var(x), py::to_axes(axis), keepdims, ddof);
        },
        nb::arg("x"), nb::arg("axis") = nb::none(), nb::arg("keepdims") = false, nb::arg("ddof") = 0);
}
