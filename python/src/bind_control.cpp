// Python bindings of control flow (theon/ops/ifelse.h, op_from_graph.h): the
// lazy ifelse and subgraphs packaged as ops.
#include <theon/ops/ifelse.h>
#include <theon/ops/op_from_graph.h>

#include <nanobind/stl/shared_ptr.h>

#include "common.h"

using namespace theon;

namespace {
std::vector<Var> var_list(nb::handle seq) {
  std::vector<nb::handle> hs;
  for (nb::handle h : seq) hs.push_back(h);
  return py::to_vars(hs);
}
}  // namespace

void init_control(nb::module_& m) {
  m.def("ifelse",
        [](nb::handle cond, nb::handle then_branch, nb::handle else_branch) {
          return ifelse(py::to_var(cond), var_list(then_branch), var_list(else_branch));
        },
        nb::arg("condition"), nb::arg("then_branch"), nb::arg("else_branch"));
  nb::class_<OpFromGraph>(m, "OpFromGraph")
      .def("__call__", [](const OpFromGraph& op, nb::args args) { return op(var_list(args)); })
      .def_prop_ro("name", &OpFromGraph::name);
  m.def("op_from_graph",
        [](nb::handle inputs, nb::handle outputs, std::string name) {
          return op_from_graph(var_list(inputs), var_list(outputs), name);
        },
        nb::arg("inputs"), nb::arg("outputs"), nb::arg("name") = "");
}
