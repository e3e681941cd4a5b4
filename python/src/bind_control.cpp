// Python bindings of control flow (theon/ops/ifelse.h): the lazy ifelse.
#include <theon/ops/ifelse.h>

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
}
