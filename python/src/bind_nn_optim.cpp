// Bindings of theon/nn/optimizers.h and schedules.h into theon._core.nn
// (the Keras-style classes live in python/theon/nn/optimizers.py and schedules.py).
#include <nanobind/stl/function.h>

#include <theon/nn/optimizers.h>
#include <theon/nn/schedules.h>

#include "common.h"

using namespace theon;

namespace {

// theon._core.nn, created by whichever nn binding runs first.
nb::module_ nn_submodule(nb::module_& m) {
  if (nb::hasattr(m, "nn")) return nb::borrow<nb::module_>(m.attr("nn"));
  return m.def_submodule("nn", "theon.nn core (C++): optimizers, schedules, weight files");
}

nn::Clipping clipping(std::optional<double> clipnorm, std::optional<double> global_clipnorm,
                      std::optional<double> clipvalue) {
  return {clipnorm.value_or(0), global_clipnorm.value_or(0), clipvalue.value_or(0)};
}

std::vector<Var> vars(const std::vector<nb::handle>& hs) {
  std::vector<Var> out;
  for (auto h : hs) out.push_back(py::to_var(h));
  return out;
}

}  // namespace

void init_nn_optim(nb::module_& m) {
  nb::module_ nm = nn_submodule(m);
  nb::class_<nn::Optimizer>(nm, "Optimizer")
      .def("get_updates", [](nn::Optimizer& o, const Var& loss, const std::vector<Var>& params) {
             return o.get_updates(loss, params);
           },
           nb::arg("loss"), nb::arg("params"))
      .def("apply_gradients", [](nn::Optimizer& o, const std::vector<Var>& params, const std::vector<nb::handle>& grads) {
             return o.apply_gradients(params, vars(grads));
           },
           nb::arg("params"), nb::arg("grads"))
      .def("build", &nn::Optimizer::build, nb::arg("params"))
      .def_prop_ro("name", &nn::Optimizer::name)
      .def("config", &nn::Optimizer::config)
      .def_prop_ro("learning_rate_variable", &nn::Optimizer::learning_rate)
      .def("get_learning_rate", &nn::Optimizer::get_learning_rate)
      .def("set_learning_rate", &nn::Optimizer::set_learning_rate, nb::arg("learning_rate"))
      .def("set_schedule", &nn::Optimizer::set_schedule, nb::arg("schedule").none())
      .def("has_schedule", [](const nn::Optimizer& o) { return bool(o.schedule()); })
      .def("update_learning_rate", &nn::Optimizer::update_learning_rate)
      .def_prop_ro("iterations", &nn::Optimizer::iterations)
      .def("state", &nn::Optimizer::state);

  using O = std::optional<double>;
#define THEON_CLIP_ARGS nb::arg("clipnorm") = nb::none(), nb::arg("global_clipnorm") = nb::none(), \
                        nb::arg("clipvalue") = nb::none()
  nm.def("sgd", [](double lr, double momentum, bool nesterov, double wd, O cn, O gcn, O cv) {
           return nn::sgd(lr, momentum, nesterov, wd, clipping(cn, gcn, cv));
         },
         nb::arg("learning_rate") = 0.01, nb::arg("momentum") = 0.0, nb::arg("nesterov") = false,
         nb::arg("weight_decay") = 0.0, THEON_CLIP_ARGS);
  nm.def("adam", [](double lr, double b1, double b2, double eps, bool ams, double wd, O cn, O gcn, O cv) {
           return nn::adam(lr, b1, b2, eps, ams, wd, clipping(cn, gcn, cv));
         },
         nb::arg("learning_rate") = 1e-3, nb::arg("beta_1") = 0.9, nb::arg("beta_2") = 0.999,
         nb::arg("epsilon") = 1e-7, nb::arg("amsgrad") = false, nb::arg("weight_decay") = 0.0, THEON_CLIP_ARGS);
  nm.def("adamw", [](double lr, double wd, double b1, double b2, double eps, bool ams, O cn, O gcn, O cv) {
           return nn::adamw(lr, wd, b1, b2, eps, ams, clipping(cn, gcn, cv));
         },
         nb::arg("learning_rate") = 1e-3, nb::arg("weight_decay") = 0.01, nb::arg("beta_1") = 0.9,
         nb::arg("beta_2") = 0.999, nb::arg("epsilon") = 1e-7, nb::arg("amsgrad") = false, THEON_CLIP_ARGS);
  nm.def("rmsprop", [](double lr, double rho, double eps, double momentum, bool centered, O cn, O gcn, O cv) {
           return nn::rmsprop(lr, rho, eps, momentum, centered, clipping(cn, gcn, cv));
         },
         nb::arg("learning_rate") = 1e-3, nb::arg("rho") = 0.9, nb::arg("epsilon") = 1e-7,
         nb::arg("momentum") = 0.0, nb::arg("centered") = false, THEON_CLIP_ARGS);
  nm.def("adagrad", [](double lr, double init, double eps, O cn, O gcn, O cv) {
           return nn::adagrad(lr, init, eps, clipping(cn, gcn, cv));
         },
         nb::arg("learning_rate") = 0.01, nb::arg("initial_accumulator_value") = 0.1, nb::arg("epsilon") = 1e-7,
         THEON_CLIP_ARGS);
  nm.def("adadelta", [](double lr, double rho, double eps, O cn, O gcn, O cv) {
           return nn::adadelta(lr, rho, eps, clipping(cn, gcn, cv));
         },
         nb::arg("learning_rate") = 1.0, nb::arg("rho") = 0.95, nb::arg("epsilon") = 1e-7, THEON_CLIP_ARGS);
#undef THEON_CLIP_ARGS
  nm.def("make_optimizer", &nn::make_optimizer, nb::arg("name"), nb::arg("config"));
  nm.def("clip_by_norm", [](nb::handle g, double max_norm) { return nn::clip_by_norm(py::to_var(g), max_norm); },
         nb::arg("grad"), nb::arg("max_norm"));
  nm.def("clip_by_global_norm", [](const std::vector<nb::handle>& grads, double max_norm) {
           return nn::clip_by_global_norm(vars(grads), max_norm);
         },
         nb::arg("grads"), nb::arg("max_norm"));

  nm.def("step_decay", &nn::step_decay, nb::arg("initial"), nb::arg("drop"), nb::arg("every_n"));
  nm.def("exponential_decay", &nn::exponential_decay, nb::arg("initial"), nb::arg("decay_steps"),
         nb::arg("decay_rate"), nb::arg("staircase") = false);
  nm.def("cosine_decay", &nn::cosine_decay, nb::arg("initial"), nb::arg("decay_steps"), nb::arg("alpha") = 0.0);
  nm.def("warmup", &nn::warmup, nb::arg("after"), nb::arg("warmup_steps"), nb::arg("start") = 0.0);
  nm.def("piecewise_constant", &nn::piecewise_constant, nb::arg("boundaries"), nb::arg("values"));
}
