// Python binding of theon/ops/scan.h. The Python package (theon.scan_module)
// normalizes Theano's calling conventions; this layer takes plain lists:
// sequences as (variable, taps), outputs_info as (initial or None, taps), and
// a step function returning (outputs, [(shared, update)], until or None).
#include <theon/ops/scan.h>

#include <nanobind/stl/function.h>
#include <nanobind/stl/tuple.h>

#include "common.h"

using namespace theon;

namespace {

std::vector<int> int_list(nb::handle h, const char* what) {
  std::vector<int> out;
  for (nb::handle t : h) out.push_back(int(py::to_int(t, what)));
  return out;
}

}  // namespace

void init_scan(nb::module_& m) {
  m.def(
      "scan",
      [](nb::object fn, nb::handle sequences, nb::handle outputs_info, nb::handle non_sequences, nb::object n_steps,
         int truncate_gradient, bool go_backwards, std::string name, bool strict) {
        std::vector<ScanSequence> seqs;
        for (nb::handle s : sequences) {
          nb::tuple t = nb::borrow<nb::tuple>(s);
          seqs.push_back({py::to_var(t[0]), int_list(t[1], "scan: sequence taps")});
        }
        std::vector<ScanOutput> outs;
        for (nb::handle o : outputs_info) {
          nb::tuple t = nb::borrow<nb::tuple>(o);
          ScanOutput so;
          if (!t[0].is_none()) so.initial = py::to_var(t[0]);
          so.taps = int_list(t[1], "scan: output taps");
          outs.push_back(so);
        }
        std::vector<Var> ns;
        for (nb::handle v : non_sequences) ns.push_back(py::to_var(v));
        ScanOptions opt;
        if (!n_steps.is_none()) opt.n_steps = py::to_var(n_steps);
        opt.truncate_gradient = truncate_gradient;
        opt.go_backwards = go_backwards;
        opt.name = name;
        opt.strict = strict;
        auto step = [&fn](const std::vector<Var>& args) {
          nb::object r = fn(args);
          nb::tuple t = nb::borrow<nb::tuple>(r);
          ScanStepResult res;
          for (nb::handle o : t[0]) res.outputs.push_back(py::to_var(o));
          for (nb::handle u : t[1]) {
            nb::tuple p = nb::borrow<nb::tuple>(u);
            res.updates.push_back({py::to_var(p[0]), py::to_var(p[1])});
          }
          if (!t[2].is_none()) res.until = py::to_var(t[2]);
          return res;
        };
        ScanResult r = scan(step, seqs, outs, ns, opt);
        return std::make_pair(r.outputs, r.updates);
      },
      nb::arg("fn"), nb::arg("sequences"), nb::arg("outputs_info"), nb::arg("non_sequences"), nb::arg("n_steps").none(),
      nb::arg("truncate_gradient") = -1, nb::arg("go_backwards") = false, nb::arg("name") = "",
      nb::arg("strict") = false,
      "Builds a Scan (theon.scan_module.scan normalizes Theano's arguments before calling this).");
}
