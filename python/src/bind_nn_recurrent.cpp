// Bindings of theon::nn's recurrent layers (theon/nn/recurrent.h) into theon._core.nn.
#include "common.h"

#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <theon/nn.h>
#include <theon/nn/recurrent.h>

using namespace theon;

namespace {

nn::Json to_json(nb::handle obj) {
  nb::object dumps = nb::module_::import_("json").attr("dumps");
  return nn::parse_json(nb::cast<std::string>(dumps(obj)));
}
nn::Initializer init_of(nb::handle h) { return nn::Initializer::from_json(to_json(h)); }
nn::Regularizer reg_of(nb::handle h) {
  return h.is_none() ? nn::Regularizer{} : nn::Regularizer::from_json(to_json(h));
}
std::string act_of(nb::handle h) { return h.is_none() ? "linear" : nb::cast<std::string>(h); }
Var var_or_none(nb::handle h) { return h.is_none() ? Var() : py::to_var(h); }
std::vector<Var> states_of(nb::handle h) {
  std::vector<Var> r;
  if (h.is_none()) return r;
  if (nb::isinstance<nb::list>(h) || nb::isinstance<nb::tuple>(h)) {
    for (auto s : h) r.push_back(py::to_var(s));
  } else {
    r.push_back(py::to_var(h));
  }
  return r;
}
nb::list output_list(const nn::RNNOutput& r) {
  nb::list l;
  l.append(nb::cast(r.output));
  for (const auto& s : r.states) l.append(nb::cast(s));
  return l;
}

// The constructor shared by SimpleRNN, LSTM and GRU (Keras' keywords).
template <class L>
void init_rnn(L* self, int64_t units, nb::handle activation, nb::handle recurrent_activation, bool use_bias,
              nb::handle ki, nb::handle ri, nb::handle bi, bool unit_forget_bias, nb::handle kr, nb::handle rr,
              nb::handle br, double dropout, double recurrent_dropout, bool return_sequences, bool return_state,
              bool go_backwards, bool unroll, bool reset_after, bool zero_output_for_mask, const std::string& name) {
  if (dropout != 0 || recurrent_dropout != 0)
    throw nb::value_error("theon.nn recurrent layers do not implement dropout / recurrent_dropout; "
                          "put a Dropout layer before or after the recurrent layer");
  nn::RNNOptions o;
  o.activation = act_of(activation);
  o.recurrent_activation = act_of(recurrent_activation);
  o.use_bias = use_bias;
  o.kernel_initializer = init_of(ki);
  o.recurrent_initializer = init_of(ri);
  o.bias_initializer = init_of(bi);
  o.unit_forget_bias = unit_forget_bias;
  o.kernel_regularizer = reg_of(kr);
  o.recurrent_regularizer = reg_of(rr);
  o.bias_regularizer = reg_of(br);
  o.return_sequences = return_sequences;
  o.return_state = return_state;
  o.go_backwards = go_backwards;
  o.unroll = unroll;
  o.reset_after = reset_after;
  o.zero_output_for_mask = zero_output_for_mask;
  o.name = name;
  new (self) L(units, o);
}

template <class L>
void bind_rnn(nb::module_& nm, const char* pyname) {
  nb::class_<L, nn::Recurrent>(nm, pyname)
      .def("__init__", &init_rnn<L>, nb::arg("units"), nb::arg("activation") = "tanh",
           nb::arg("recurrent_activation") = "sigmoid", nb::arg("use_bias") = true,
           nb::arg("kernel_initializer") = "glorot_uniform", nb::arg("recurrent_initializer") = "orthogonal",
           nb::arg("bias_initializer") = "zeros", nb::arg("unit_forget_bias") = true,
           nb::arg("kernel_regularizer") = nb::none(), nb::arg("recurrent_regularizer") = nb::none(),
           nb::arg("bias_regularizer") = nb::none(), nb::arg("dropout") = 0.0, nb::arg("recurrent_dropout") = 0.0,
           nb::arg("return_sequences") = false, nb::arg("return_state") = false, nb::arg("go_backwards") = false,
           nb::arg("unroll") = false, nb::arg("reset_after") = true, nb::arg("zero_output_for_mask") = false,
           nb::arg("name") = "");
}

}  // namespace

void init_nn_recurrent(nb::module_& m) {
  nb::module_ nm = nb::borrow<nb::module_>(m.attr("nn"));

  nb::class_<nn::Recurrent, nn::Layer>(nm, "Recurrent")
      .def_prop_ro("units", &nn::Recurrent::units)
      .def_prop_ro("return_sequences", [](const nn::Recurrent& l) { return l.options().return_sequences; })
      .def_prop_ro("return_state", [](const nn::Recurrent& l) { return l.options().return_state; })
      .def_prop_ro("go_backwards", [](const nn::Recurrent& l) { return l.options().go_backwards; })
      .def_prop_ro("kernel", [](const nn::Recurrent& l) { return l.rnn_weights().kernel; })
      .def_prop_ro("recurrent_kernel", [](const nn::Recurrent& l) { return l.rnn_weights().recurrent_kernel; })
      .def_prop_ro("bias", [](const nn::Recurrent& l) -> nb::object {
        Var b = l.rnn_weights().bias;
        return b.defined() ? nb::cast(b) : nb::none();
      })
      .def("__call__", [](std::shared_ptr<nn::Recurrent> l, nb::handle x, nb::handle mask, nb::handle initial_state,
                          bool training) -> nb::object {
        // Taking self as a shared_ptr makes nanobind set up shared_from_this (the recorded functional call).
        Var xv = py::to_var(x), mv = var_or_none(mask);
        std::vector<Var> init = states_of(initial_state);
        if (l->options().return_state || !init.empty() || training) {
          nn::RNNOutput r = l->call_with_state(xv, mv, init, training);
          if (l->options().return_state) return output_list(r);
          return nb::cast(r.output);
        }
        std::vector<Var> in{xv};
        if (mv.defined()) in.push_back(mv);
        return nb::cast((*l)(in));
      }, nb::arg("inputs"), nb::arg("mask") = nb::none(), nb::arg("initial_state") = nb::none(),
         nb::arg("training") = false,
         "Applies the layer: the output, or [output, *final_states] with return_state. "
         "mask: (batch, time), nonzero for valid steps.")
      .def("forward_with", [](const nn::Recurrent& l, nb::handle x, nb::handle kernel, nb::handle recurrent_kernel,
                              nb::handle bias, nb::handle mask, nb::handle initial_state) {
        nn::RNNWeights w{py::to_var(kernel), py::to_var(recurrent_kernel), var_or_none(bias)};
        return output_list(nn::rnn_forward(l.kind(), l.units(), l.options(), w, py::to_var(x), var_or_none(mask),
                                           states_of(initial_state)));
      }, nb::arg("x"), nb::arg("kernel"), nb::arg("recurrent_kernel"), nb::arg("bias") = nb::none(),
         nb::arg("mask") = nb::none(), nb::arg("initial_state") = nb::none(),
         "This layer's recurrent pass on explicit weights: [output, *final_states] (for gradient checks).");

  bind_rnn<nn::SimpleRNN>(nm, "SimpleRNN");
  bind_rnn<nn::LSTM>(nm, "LSTM");
  bind_rnn<nn::GRU>(nm, "GRU");

  nb::class_<nn::Bidirectional, nn::Layer>(nm, "Bidirectional")
      .def(nb::init<std::shared_ptr<nn::Recurrent>, std::string, std::string>(), nb::arg("layer"),
           nb::arg("merge_mode") = "concat", nb::arg("name") = "")
      .def_prop_ro("layer", &nn::Bidirectional::layer)
      .def("__call__", [](std::shared_ptr<nn::Bidirectional> l, nb::handle x, nb::handle mask) {
        std::vector<Var> in{py::to_var(x)};
        if (!mask.is_none()) in.push_back(py::to_var(mask));
        return (*l)(in);
      }, nb::arg("inputs"), nb::arg("mask") = nb::none());
}
