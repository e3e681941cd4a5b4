// Compiled functions and printing.
#include <Python.h>

#include "common.h"

#include <nanobind/stl/tuple.h>

using namespace theon;

namespace {

// A Python scalar argument takes the input's dtype when that loses nothing
// of its kind (Theano lets 1.5 feed a float32 input); a float into an integer
// input needs allow_input_downcast.
Array arg_to_array(nb::handle h, const In& in, bool allow_downcast, const std::string& what) {
  DType want = in.variable.dtype();
  bool is_bool = PyBool_Check(h.ptr()), is_int = PyLong_Check(h.ptr()) && !is_bool,
       is_pyfloat = PyFloat_Check(h.ptr());
  if ((is_bool || is_int || is_pyfloat) && in.variable.ndim() == 0) {
    if (is_pyfloat && !is_float(want) && !allow_downcast)
      throw nb::type_error((what + ": " + in.variable.type().str() + " cannot store the Python float " +
                            nb::cast<std::string>(nb::repr(h)) + " without loss; pass allow_input_downcast=True")
                               .c_str());
    if (is_int && is_integer(want)) {
      try {
        (void)weak_scalar(nb::cast<double>(h), ScalarKind::Int, want);  // range check
      } catch (const std::exception& e) {
        throw nb::type_error((what + ": " + in.variable.type().str() + " cannot store the Python int " +
                              nb::cast<std::string>(nb::repr(h)) + " (out of range for " +
                              std::string(dtype_name(want)) + ")").c_str());
      }
    }
    return Array::scalar(want, nb::cast<double>(h));
  }
  return py::to_array(h, what.c_str());
}

}  // namespace

void init_function(nb::module_& m) {
  nb::class_<Function>(m, "Function")
      .def("__call__",
           [](Function& f, nb::args args, nb::kwargs kwargs) {
             const auto& ins = f.inputs();
             if (args.size() > ins.size())
               throw nb::type_error(((f.name().empty() ? std::string("function") : "function '" + f.name() + "'") +
                                     ": expected at most " + std::to_string(ins.size()) + " arguments, got " +
                                     std::to_string(args.size()))
                                        .c_str());
             std::vector<std::optional<Array>> pos;
             for (size_t i = 0; i < args.size(); ++i) {
               std::string what = "input " + std::to_string(i) + (ins[i].name.empty() ? "" : " ('" + ins[i].name + "')");
               pos.push_back(arg_to_array(args[i], ins[i], ins[i].allow_downcast.value_or(false), what));
             }
             std::map<std::string, Array> kw;
             for (auto [k, v] : kwargs) {
               std::string key = nb::cast<std::string>(k);
               const In* in = nullptr;
               for (const auto& i : ins)
                 if (i.name == key) in = &i;
               if (!in) throw nb::type_error(("function: unknown keyword argument '" + key + "'").c_str());
               kw[key] = arg_to_array(v, *in, in->allow_downcast.value_or(false), "input '" + key + "'");
             }
             std::vector<Array> outs;
             outs = f.call(pos, kw);
             nb::list r;
             for (const auto& a : outs) r.append(py::to_numpy(a));
             return r;
           })
      .def_prop_ro("name", &Function::name)
      .def_prop_ro("outputs", &Function::outputs)
      .def_prop_ro("input_variables", [](const Function& f) {
        std::vector<Var> r;
        for (const auto& i : f.inputs()) r.push_back(i.variable);
        return r;
      })
      .def("profile_summary", &Function::profile_summary)
      .def_prop_ro("profiling", &Function::profiling)
      .def("profile", [](const Function& f) {
        std::vector<std::tuple<std::string, int64_t, double>> r;
        for (const auto& p : f.profile()) r.emplace_back(p.op, p.calls, p.seconds);
        return r;
      })
      .def("profile_kernels", [](const Function& f) {
        std::map<std::string, std::string> r;
        for (const auto& p : f.profile()) r[p.op] = p.kernel;
        return r;
      })
      .def("call_profile", [](const Function& f) {
        CallProfile c = f.call_profile();
        return std::make_tuple(c.calls, c.seconds, c.peak_bytes, c.last_peak_bytes);
      })
      .def("debugprint", [](const Function& f, bool print_type, int depth, bool ids) {
             return debugprint(f, DebugPrintOptions{print_type, depth, ids});
           },
           nb::arg("print_type") = true, nb::arg("depth") = -1, nb::arg("ids") = true)
      .def("rewrites_applied", [](const Function& f) { return f.rewrites_applied(); })
      .def("rewrite_seconds", [](const Function& f) { return f.rewrite_stats().seconds; })
      .def("rewrite_warnings", [](const Function& f) { return f.rewrite_stats().warnings; })
      .def_prop_ro("mode", [](const Function& f) { return f.mode(); })
      .def_prop_ro("device", [](const Function& f) { return f.device().str(); })
      .def("transfer_stats", [](const Function& f) {
        TransferStats t = f.transfer_stats();
        return std::make_tuple(t.uploads, t.downloads, t.upload_bytes, t.download_bytes);
      })
      .def("cpu_fallback_ops", &Function::cpu_fallback_ops)
      .def("nodes", [](const Function& f) {
        std::vector<std::string> r;
        for (auto* n : f.nodes()) r.push_back(n->op->name());
        return r;
      });

  m.def("rewrites", [] {
    // (name, phase, tags, doc) of every registered rewrite, in registration order.
    std::vector<std::tuple<std::string, std::string, std::vector<std::string>, std::string>> r;
    for (const auto& info : rewrite_db().all()) r.emplace_back(info.name, phase_name(info.phase), info.tags, info.doc);
    return r;
  });
  m.def("function",
        [](nb::list inputs, std::vector<Var> outputs, std::vector<std::pair<Var, Var>> updates,
           std::vector<std::pair<Var, nb::object>> givens, std::string mode, std::string name, bool allow_input_downcast,
           std::string on_unused_input, std::optional<bool> profile, std::vector<std::string> including,
           std::vector<std::string> excluding, std::vector<std::string> requiring, bool no_default_updates, std::string device) {
          std::vector<In> ins;
          for (nb::handle h : inputs) {
            // (variable, name, value or None, borrow, mutable, allow_downcast or None)
            nb::tuple t = nb::cast<nb::tuple>(h);
            In in(nb::cast<Var>(t[0]));
            if (!t[1].is_none()) in.name = nb::cast<std::string>(t[1]);
            if (!t[2].is_none()) in.value = py::to_array(t[2], "default value");
            in.borrow = nb::cast<bool>(t[3]);
            in.mutable_ = nb::cast<bool>(t[4]);
            if (!t[5].is_none()) in.allow_downcast = nb::cast<bool>(t[5]);
            if (!in.allow_downcast) in.allow_downcast = allow_input_downcast;
            ins.push_back(std::move(in));
          }
          FunctionOptions o;
          o.updates = std::move(updates);
          for (auto& [k, v] : givens) {
            Var r = py::to_var(v);
            if (r.dtype() != k.dtype() && r.is_constant()) r = cast(r, k.dtype());
            o.givens.push_back({k, r});
          }
          o.mode = Mode(mode).including(including).excluding(excluding).requiring(requiring);
          o.no_default_updates = no_default_updates;
          o.device = device;
          o.name = name;
          o.allow_input_downcast = allow_input_downcast;
          o.on_unused_input = on_unused_input;
          o.profile = profile;
          return function(ins, outputs, o);
        },
        nb::arg("inputs"), nb::arg("outputs"), nb::arg("updates"), nb::arg("givens"), nb::arg("mode") = "",
        nb::arg("name") = "", nb::arg("allow_input_downcast") = false, nb::arg("on_unused_input") = "",
        nb::arg("profile") = nb::none(), nb::arg("including") = std::vector<std::string>{},
        nb::arg("excluding") = std::vector<std::string>{}, nb::arg("requiring") = std::vector<std::string>{},
        nb::arg("no_default_updates") = false, nb::arg("device") = "");
}

void init_printing(nb::module_& m) {
  m.def("debugprint", [](std::vector<Var> outs, bool print_type, int depth, bool ids) {
          return debugprint(outs, DebugPrintOptions{print_type, depth, ids});
        },
        nb::arg("outputs"), nb::arg("print_type") = true, nb::arg("depth") = -1, nb::arg("ids") = true);
  m.def("graph_to_dot", &graph_to_dot, nb::arg("outputs"), nb::arg("title") = "");
  m.def("write_graph", &write_graph, nb::arg("outputs"), nb::arg("path"), nb::arg("title") = "");
}
