// Bindings of theon/autodiff: grad, Lop, Rop, jacobian, hessian, modifiers, verify_grad.
#include <nanobind/stl/function.h>

#include "common.h"

using namespace theon;

namespace {

DisconnectedInputs parse_disconnected(const std::string& s) {
  if (s == "raise") return DisconnectedInputs::Raise;
  if (s == "warn") return DisconnectedInputs::Warn;
  if (s == "ignore") return DisconnectedInputs::Ignore;
  throw nb::value_error(("grad: disconnected_inputs must be 'raise', 'warn' or 'ignore', got '" + s + "'").c_str());
}

ReturnDisconnected parse_return(const std::string& s) {
  if (s == "zero") return ReturnDisconnected::Zero;
  if (s == "none") return ReturnDisconnected::None;
  if (s == "disconnected") return ReturnDisconnected::Disconnected;
  throw nb::value_error(("grad: return_disconnected must be 'zero', 'none' or 'disconnected', got '" + s + "'").c_str());
}

nb::list to_list(const std::vector<Var>& vs) {
  nb::list l;
  for (const auto& v : vs) l.append(v.defined() ? nb::cast(v) : nb::none());
  return l;
}

}  // namespace

void init_autodiff(nb::module_& m) {
  // grad's errors become theon.gradient.DisconnectedInputError (a ValueError) and
  // NullTypeGradError (a TypeError and a ValueError), as Theano's.
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const DisconnectedInputError& e) {
      nb::object cls = nb::module_::import_("theon.gradient").attr("DisconnectedInputError");
      PyErr_SetString(cls.ptr(), e.what());
    } catch (const NullTypeGradError& e) {
      nb::object cls = nb::module_::import_("theon.gradient").attr("NullTypeGradError");
      PyErr_SetString(cls.ptr(), e.what());
    }
  });
  m.def("grad",
        [](nb::handle cost, std::vector<Var> wrt, std::vector<Var> consider_constant, const std::string& disconnected,
           std::vector<std::pair<Var, nb::object>> known_grads, const std::string& return_disconnected,
           const std::string& null_gradients) {
          GradOptions o;
          o.consider_constant = std::move(consider_constant);
          o.disconnected_inputs = parse_disconnected(disconnected);
          o.warn = [](const std::string& msg) {
            nb::module_::import_("warnings").attr("warn")(msg, nb::handle(PyExc_UserWarning), 3);
          };
          for (auto& [v, g] : known_grads) {
            Var gv = py::to_var(g);
            o.known_grads.push_back({v, gv.dtype() == v.dtype() ? gv : cast(gv, v.dtype())});
          }
          o.return_disconnected = parse_return(return_disconnected);
          if (null_gradients != "raise" && null_gradients != "return")
            throw nb::value_error("grad: null_gradients must be 'raise' or 'return'");
          o.null_gradients_raise = null_gradients == "raise";
          Var c = cost.is_none() ? Var() : py::to_var(cost);
          return to_list(grad(c, wrt, o));
        },
        nb::arg("cost").none(), nb::arg("wrt"), nb::arg("consider_constant"), nb::arg("disconnected_inputs"),
        nb::arg("known_grads"), nb::arg("return_disconnected"), nb::arg("null_gradients"));
  m.def("Lop", [](std::vector<Var> f, std::vector<Var> wrt, std::vector<Var> ev) { return to_list(Lop(f, wrt, ev)); });
  m.def("Rop", [](std::vector<Var> f, std::vector<Var> wrt, std::vector<Var> ev) { return to_list(Rop(f, wrt, ev)); });
  auto options = [](std::vector<Var> consider_constant, const std::string& disconnected) {
    GradOptions o;
    o.consider_constant = std::move(consider_constant);
    o.disconnected_inputs = parse_disconnected(disconnected);
    o.warn = [](const std::string& msg) {
      nb::module_::import_("warnings").attr("warn")(msg, nb::handle(PyExc_UserWarning), 3);
    };
    return o;
  };
  m.def("jacobian", [options](const Var& e, const Var& w, std::vector<Var> cc, const std::string& disconnected) {
          return jacobian(e, w, options(std::move(cc), disconnected));
        },
        nb::arg("expression"), nb::arg("wrt"), nb::arg("consider_constant") = std::vector<Var>{},
        nb::arg("disconnected_inputs") = "ignore");
  m.def("hessian", [options](const Var& c, const Var& w, std::vector<Var> cc, const std::string& disconnected) {
          return hessian(c, w, options(std::move(cc), disconnected));
        },
        nb::arg("cost"), nb::arg("wrt"), nb::arg("consider_constant") = std::vector<Var>{},
        nb::arg("disconnected_inputs") = "ignore");
  m.def("zero_grad", [](nb::handle x) { return zero_grad(py::to_var(x)); });
  m.def("disconnected_grad", [](nb::handle x) { return disconnected_grad(py::to_var(x)); });
  m.def("grad_clip", [](nb::handle x, double lo, double hi) { return grad_clip(py::to_var(x), lo, hi); });
  m.def("grad_scale", [](nb::handle x, double k) { return grad_scale(py::to_var(x), k); });
  m.def("verify_grad",
        [](std::function<Var(std::vector<Var>)> fun, nb::list pt, int n_tests, uint64_t seed, double eps, double abs_tol,
           double rel_tol) {
          std::vector<Array> pts;
          for (nb::handle h : pt) pts.push_back(py::to_array(h, "verify_grad point"));
          VerifyGradOptions o{n_tests, seed, eps, abs_tol, rel_tol};
          try {
            verify_grad([&](const std::vector<Var>& xs) { return fun(xs); }, pts, o);
          } catch (const GradientError& e) {
            nb::object mod = nb::module_::import_("theon.gradient");
            PyErr_SetString(mod.attr("GradientError").ptr(), e.what());
            throw nb::python_error();
          }
        },
        nb::arg("fun"), nb::arg("pt"), nb::arg("n_tests"), nb::arg("seed"), nb::arg("eps"), nb::arg("abs_tol"),
        nb::arg("rel_tol"));
}
