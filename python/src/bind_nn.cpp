// Bindings of theon::nn (layers, models, losses, callbacks) into theon._core.nn;
// the Keras-style sugar lives in python/theon/nn/.
#include <Python.h>

#include "common.h"

#include <nanobind/stl/array.h>
#include <nanobind/stl/function.h>
#include <nanobind/trampoline.h>

#include <theon/nn.h>

using namespace theon;

namespace {

// theon._core.nn, created by whichever nn binding runs first.
nb::module_ nn_module(nb::module_& m) {
  if (nb::hasattr(m, "nn")) return nb::borrow<nb::module_>(m.attr("nn"));
  return m.def_submodule("nn", "theon.nn core (C++)");
}

// A Python value (str, dict, list, number, None) -> Json, through the json module.
nn::Json to_json(nb::handle obj) {
  nb::object dumps = nb::module_::import_("json").attr("dumps");
  return nn::parse_json(nb::cast<std::string>(dumps(obj)));
}
nb::object from_json(const nn::Json& j) {
  return nb::module_::import_("json").attr("loads")(j.dump());
}

std::array<int64_t, 2> pair_of(nb::handle h, const char* what) {
  if (PyLong_Check(h.ptr())) {
    int64_t v = py::to_int(h, what);
    return {v, v};
  }
  auto v = nb::cast<std::vector<int64_t>>(h);
  if (v.size() != 2) throw nb::value_error((std::string(what) + " must be an int or a pair of ints").c_str());
  return {v[0], v[1]};
}

nn::Initializer init_of(nb::handle h) { return nn::Initializer::from_json(to_json(h)); }
nn::Regularizer reg_of(nb::handle h) { return h.is_none() ? nn::Regularizer{} : nn::Regularizer::from_json(to_json(h)); }
std::string act_of(nb::handle h) { return h.is_none() ? "linear" : nb::cast<std::string>(h); }

std::vector<Array> arrays_of(nb::handle x, const char* what) {
  std::vector<Array> r;
  if (nb::isinstance<nb::list>(x) || nb::isinstance<nb::tuple>(x)) {
    for (auto h : x) r.push_back(py::to_array(h, what));
  } else {
    r.push_back(py::to_array(x, what));
  }
  return r;
}

nb::dict logs_dict(const nn::Logs& logs) {
  nb::dict d;
  for (const auto& [k, v] : logs) d[k.c_str()] = v;
  return d;
}

// Python subclasses of Callback: each hook calls the Python method when defined.
class PyCallback : public nn::Callback {
 public:
  NB_TRAMPOLINE(nn::Callback, 6);
  void on_train_begin(const nn::Logs& l) override { hook("on_train_begin", l); }
  void on_train_end(const nn::Logs& l) override { hook("on_train_end", l); }
  void on_epoch_begin(int e, const nn::Logs& l) override { hook("on_epoch_begin", l, e); }
  void on_epoch_end(int e, const nn::Logs& l) override { hook("on_epoch_end", l, e); }
  void on_batch_begin(int64_t b, const nn::Logs& l) override { hook("on_batch_begin", l, b); }
  void on_batch_end(int64_t b, const nn::Logs& l) override { hook("on_batch_end", l, b); }

 private:
  void hook(const char* name, const nn::Logs& l, std::optional<int64_t> idx = std::nullopt) {
    nb::gil_scoped_acquire gil;
    nb::handle self = nb_trampoline.base();
    nb::object fn = nb::getattr(self, name, nb::none());
    if (fn.is_none()) return;
    if (idx) fn(*idx, logs_dict(l));
    else fn(logs_dict(l));
  }
};

// Lets Ctrl-C stop fit between batches (the loop runs in C++ holding the GIL).
class SignalCheck : public nn::Callback {
 public:
  void on_batch_end(int64_t, const nn::Logs&) override {
    if (PyErr_CheckSignals() != 0) throw nb::python_error();
  }
};

nb::dict history_dict(const nn::History& h) {
  nb::dict d;
  for (const auto& [k, v] : h.history) d[k.c_str()] = nb::cast(v);
  return d;
}

}  // namespace

void init_nn(nb::module_& m) {
  nb::module_ nm = nn_module(m);

  // ---- layers ----
  nb::class_<nn::Layer>(nm, "Layer", nb::dynamic_attr())
      .def_prop_ro("name", &nn::Layer::name)
      .def_prop_ro("class_name", &nn::Layer::class_name)
      .def_prop_ro("built", &nn::Layer::built)
      .def_prop_ro("weights", &nn::Layer::weights)
      .def_prop_ro("trainable_weights", &nn::Layer::trainable_weights)
      .def_prop_ro("non_trainable_weights", &nn::Layer::non_trainable_weights)
      .def_prop_ro("updates", &nn::Layer::updates)
      .def("regularization_loss", &nn::Layer::regularization_loss)
      .def("__call__", [](std::shared_ptr<nn::Layer> l, nb::handle x) {
        // Taking self as a shared_ptr makes nanobind set up shared_from_this, which the recorded call needs.
        if (nb::isinstance<nb::list>(x) || nb::isinstance<nb::tuple>(x)) {
          std::vector<Var> xs;
          for (auto h : x) xs.push_back(py::to_var(h));
          return (*l)(xs);
        }
        return (*l)(py::to_var(x));
      }, nb::arg("inputs"))
      .def("call", [](nn::Layer& l, nb::handle x, bool training) {
        std::vector<Var> xs;
        if (nb::isinstance<nb::list>(x) || nb::isinstance<nb::tuple>(x)) {
          for (auto h : x) xs.push_back(py::to_var(h));
        } else {
          xs.push_back(py::to_var(x));
        }
        return l.call(xs, training);
      }, nb::arg("inputs"), nb::arg("training") = false)
      .def("_config_json", [](const nn::Layer& l) { return l.get_config().dump(); })
      .def("__repr__", [](const nn::Layer& l) { return "<" + l.class_name() + " '" + l.name() + "'>"; });

  nb::class_<nn::Dense, nn::Layer>(nm, "Dense")
      .def("__init__", [](nn::Dense* self, int64_t units, nb::handle activation, bool use_bias, nb::handle ki,
                          nb::handle bi, nb::handle kr, nb::handle br, const std::string& name) {
        new (self) nn::Dense(units, nn::DenseOptions{act_of(activation), use_bias, init_of(ki), init_of(bi), reg_of(kr),
                                                     reg_of(br), name});
      }, nb::arg("units"), nb::arg("activation").none() = nb::none(), nb::arg("use_bias") = true,
         nb::arg("kernel_initializer") = "glorot_uniform", nb::arg("bias_initializer") = "zeros",
         nb::arg("kernel_regularizer").none() = nb::none(), nb::arg("bias_regularizer").none() = nb::none(), nb::arg("name") = "");
  nb::class_<nn::Conv2D, nn::Layer>(nm, "Conv2D")
      .def("__init__", [](nn::Conv2D* self, int64_t filters, nb::handle ks, nb::handle strides, const std::string& padding,
                          nb::handle dilation, int64_t groups, nb::handle activation, bool use_bias, nb::handle ki,
                          nb::handle bi, nb::handle kr, nb::handle br, const std::string& name) {
        nn::Conv2DOptions o;
        o.strides = pair_of(strides, "strides");
        o.padding = padding;
        o.dilation_rate = pair_of(dilation, "dilation_rate");
        o.groups = groups;
        o.activation = act_of(activation);
        o.use_bias = use_bias;
        o.kernel_initializer = init_of(ki);
        o.bias_initializer = init_of(bi);
        o.kernel_regularizer = reg_of(kr);
        o.bias_regularizer = reg_of(br);
        o.name = name;
        new (self) nn::Conv2D(filters, pair_of(ks, "kernel_size"), o);
      }, nb::arg("filters"), nb::arg("kernel_size"), nb::arg("strides") = 1, nb::arg("padding") = "valid",
         nb::arg("dilation_rate") = 1, nb::arg("groups") = 1, nb::arg("activation").none() = nb::none(),
         nb::arg("use_bias") = true, nb::arg("kernel_initializer") = "glorot_uniform",
         nb::arg("bias_initializer") = "zeros", nb::arg("kernel_regularizer").none() = nb::none(),
         nb::arg("bias_regularizer").none() = nb::none(), nb::arg("name") = "");
  auto pool_init = [](auto* self, nb::handle pool, nb::handle strides, const std::string& padding, const std::string& name) {
    using L = std::remove_pointer_t<decltype(self)>;
    std::array<int64_t, 2> s = strides.is_none() ? std::array<int64_t, 2>{0, 0} : pair_of(strides, "strides");
    new (self) L(pair_of(pool, "pool_size"), s, padding, name);
  };
  nb::class_<nn::MaxPool2D, nn::Layer>(nm, "MaxPool2D")
      .def("__init__", [pool_init](nn::MaxPool2D* s, nb::handle p, nb::handle st, const std::string& pad,
                                   const std::string& n) { pool_init(s, p, st, pad, n); },
           nb::arg("pool_size") = 2, nb::arg("strides").none() = nb::none(), nb::arg("padding") = "valid", nb::arg("name") = "");
  nb::class_<nn::AvgPool2D, nn::Layer>(nm, "AvgPool2D")
      .def("__init__", [pool_init](nn::AvgPool2D* s, nb::handle p, nb::handle st, const std::string& pad,
                                   const std::string& n) { pool_init(s, p, st, pad, n); },
           nb::arg("pool_size") = 2, nb::arg("strides").none() = nb::none(), nb::arg("padding") = "valid", nb::arg("name") = "");
  nb::class_<nn::GlobalAvgPool2D, nn::Layer>(nm, "GlobalAvgPool2D").def(nb::init<std::string>(), nb::arg("name") = "");
  nb::class_<nn::Flatten, nn::Layer>(nm, "Flatten").def(nb::init<std::string>(), nb::arg("name") = "");
  nb::class_<nn::Reshape, nn::Layer>(nm, "Reshape")
      .def(nb::init<std::vector<int64_t>, std::string>(), nb::arg("target_shape"), nb::arg("name") = "");
  nb::class_<nn::Dropout, nn::Layer>(nm, "Dropout")
      .def(nb::init<double, uint64_t, std::string>(), nb::arg("rate"), nb::arg("seed") = 0, nb::arg("name") = "");
  nb::class_<nn::BatchNorm, nn::Layer>(nm, "BatchNorm")
      .def("__init__", [](nn::BatchNorm* self, int axis, double momentum, double epsilon, bool center, bool scale,
                          const std::string& name) {
        new (self) nn::BatchNorm(nn::BatchNormOptions{axis, momentum, epsilon, center, scale, name});
      }, nb::arg("axis") = 1, nb::arg("momentum") = 0.99, nb::arg("epsilon") = 1e-3, nb::arg("center") = true,
         nb::arg("scale") = true, nb::arg("name") = "");
  nb::class_<nn::LayerNorm, nn::Layer>(nm, "LayerNorm")
      .def(nb::init<double, bool, bool, std::string>(), nb::arg("epsilon") = 1e-3, nb::arg("center") = true,
           nb::arg("scale") = true, nb::arg("name") = "");
  nb::class_<nn::Embedding, nn::Layer>(nm, "Embedding")
      .def("__init__", [](nn::Embedding* self, int64_t in, int64_t out, nb::handle init, const std::string& name) {
        new (self) nn::Embedding(in, out, init_of(init), name);
      }, nb::arg("input_dim"), nb::arg("output_dim"),
         nb::arg("embeddings_initializer") = "uniform",
         nb::arg("name") = "");
  nb::class_<nn::Activation, nn::Layer>(nm, "Activation")
      .def(nb::init<std::string, double, std::string>(), nb::arg("activation"), nb::arg("alpha") = -1.0,
           nb::arg("name") = "");
  nb::class_<nn::Add, nn::Layer>(nm, "Add").def(nb::init<std::string>(), nb::arg("name") = "");
  nb::class_<nn::Concatenate, nn::Layer>(nm, "Concatenate")
      .def(nb::init<int, std::string>(), nb::arg("axis") = -1, nb::arg("name") = "");

  nm.def("Input", [](const std::vector<int64_t>& shape, nb::handle dtype, const std::string& name) {
    return nn::Input(shape, dtype.is_none() ? DType::Float32 : py::to_dtype(dtype), name);
  }, nb::arg("shape"), nb::arg("dtype").none() = nb::none(), nb::arg("name") = "");
  nm.def("layer_from_config", [](const std::string& cls, nb::handle cfg) { return nn::layer_from_config(cls, to_json(cfg)); },
         nb::arg("class_name"), nb::arg("config"));
  nm.def("registered_layers", &nn::registered_layers);
  nm.def("_clear_call_records", &nn::clear_call_records);
  nm.def("activation", &nn::activation, nb::arg("name"), nb::arg("x"), nb::arg("alpha") = -1.0);

  // ---- initializers ----
  nm.def("initialize", [](nb::handle init, const std::vector<int64_t>& shape, nb::handle dtype, uint64_t seed) {
    return py::to_numpy(init_of(init)(shape, dtype.is_none() ? DType::Float32 : py::to_dtype(dtype), seed));
  }, nb::arg("initializer"), nb::arg("shape"), nb::arg("dtype").none() = nb::none(), nb::arg("seed") = 0);
  nm.def("set_global_seed", &nn::set_global_seed, nb::arg("seed"));
  nm.def("compute_fans", &nn::compute_fans, nb::arg("shape"));

  // ---- losses and metrics ----
  nm.def("sparse_categorical_crossentropy", &nn::sparse_categorical_crossentropy, nb::arg("y_true"), nb::arg("y_pred"),
         nb::arg("from_logits") = false);
  nm.def("categorical_crossentropy", &nn::categorical_crossentropy, nb::arg("y_true"), nb::arg("y_pred"),
         nb::arg("from_logits") = false);
  nm.def("binary_crossentropy", &nn::binary_crossentropy, nb::arg("y_true"), nb::arg("y_pred"), nb::arg("from_logits") = false);
  nm.def("mean_squared_error", &nn::mean_squared_error, nb::arg("y_true"), nb::arg("y_pred"));
  nm.def("mean_absolute_error", &nn::mean_absolute_error, nb::arg("y_true"), nb::arg("y_pred"));
  nm.def("huber", &nn::huber, nb::arg("y_true"), nb::arg("y_pred"), nb::arg("delta") = 1.0);
  nm.def("sparse_categorical_accuracy", &nn::sparse_categorical_accuracy, nb::arg("y_true"), nb::arg("y_pred"));
  nm.def("categorical_accuracy", &nn::categorical_accuracy, nb::arg("y_true"), nb::arg("y_pred"));
  nm.def("binary_accuracy", &nn::binary_accuracy, nb::arg("y_true"), nb::arg("y_pred"), nb::arg("threshold") = 0.5);
  nm.def("sparse_top_k_categorical_accuracy", &nn::sparse_top_k_categorical_accuracy, nb::arg("y_true"),
         nb::arg("y_pred"), nb::arg("k") = 5);

  // ---- callbacks ----
  nb::class_<nn::Callback, PyCallback>(nm, "Callback")
      .def(nb::init<>())
      .def_prop_ro("model", [](const nn::Callback& c) { return c.model(); }, nb::rv_policy::reference)
      .def("set_model", [](nn::Callback& c, nn::Model* m) { c.set_model(m); });
  nb::class_<nn::EarlyStopping, nn::Callback>(nm, "EarlyStopping")
      .def(nb::init<std::string, int, double, std::string, bool>(), nb::arg("monitor") = "val_loss",
           nb::arg("patience") = 0, nb::arg("min_delta") = 0.0, nb::arg("mode") = "auto",
           nb::arg("restore_best_weights") = false)
      .def_prop_ro("stopped_epoch", &nn::EarlyStopping::stopped_epoch)
      .def_prop_ro("best_epoch", &nn::EarlyStopping::best_epoch)
      .def_prop_ro("best", &nn::EarlyStopping::best);
  nb::class_<nn::ModelCheckpoint, nn::Callback>(nm, "ModelCheckpoint")
      .def(nb::init<std::string, std::string, bool, bool, std::string, int>(), nb::arg("filepath"),
           nb::arg("monitor") = "val_loss", nb::arg("save_best_only") = false, nb::arg("save_weights_only") = false,
           nb::arg("mode") = "auto", nb::arg("verbose") = 0)
      .def_prop_ro("last_saved", &nn::ModelCheckpoint::last_saved);
  nb::class_<nn::CSVLogger, nn::Callback>(nm, "CSVLogger")
      .def(nb::init<std::string, std::string, bool>(), nb::arg("filename"), nb::arg("separator") = ",",
           nb::arg("append") = false);
  nb::class_<nn::LearningRateScheduler, nn::Callback>(nm, "LearningRateScheduler")
      .def("__init__", [](nn::LearningRateScheduler* self, nb::object schedule, int verbose, bool per_step) {
        // Keras schedules take (epoch, lr); one-argument callables (theon.nn.schedules) take the epoch or step.
        int nargs = 2;
        try {
          nb::object sig = nb::module_::import_("inspect").attr("signature")(schedule);
          nargs = int(nb::len(nb::object(sig.attr("parameters"))));
        } catch (const nb::python_error&) {
          nargs = per_step ? 1 : 2;
        }
        if (nargs >= 2 && !per_step)
          new (self) nn::LearningRateScheduler(
              [schedule](int64_t e, double lr) {
                nb::gil_scoped_acquire g;
                return nb::cast<double>(schedule(e, lr));
              }, verbose);
        else
          new (self) nn::LearningRateScheduler(
              [schedule](int64_t s) {
                nb::gil_scoped_acquire g;
                return nb::cast<double>(schedule(s));
              }, per_step, verbose);
      }, nb::arg("schedule"), nb::arg("verbose") = 0, nb::arg("per_step") = false);

  // ---- models ----
  nb::class_<nn::Model>(nm, "Model", nb::dynamic_attr())
      .def("__init__", [](nn::Model* self, nb::handle inputs, nb::handle outputs, const std::string& name) {
        std::vector<Var> ins;
        if (nb::isinstance<nb::list>(inputs) || nb::isinstance<nb::tuple>(inputs)) {
          for (auto h : inputs) ins.push_back(py::to_var(h));
        } else {
          ins.push_back(py::to_var(inputs));
        }
        Var out;
        if (nb::isinstance<nb::list>(outputs) || nb::isinstance<nb::tuple>(outputs)) {
          if (nb::len(outputs) != 1) throw nb::value_error("Model: exactly one output is supported");
          out = py::to_var(outputs[0]);
        } else {
          out = py::to_var(outputs);
        }
        new (self) nn::Model(ins, out, name);
      }, nb::arg("inputs"), nb::arg("outputs"), nb::arg("name") = "model")
      .def_prop_ro("name", &nn::Model::name)
      .def_prop_ro("class_name", &nn::Model::class_name)
      .def_prop_ro("layers", &nn::Model::layers)
      .def_prop_ro("params", &nn::Model::params)
      .def_prop_ro("weights", &nn::Model::weights)
      .def_prop_ro("inputs", &nn::Model::inputs)
      .def_prop_ro("output", &nn::Model::output)
      .def_prop_ro("built", &nn::Model::built)
      .def_prop_ro("compiled", &nn::Model::compiled)
      .def_prop_ro("_core_optimizer", &nn::Model::optimizer)
      .def_prop_ro("metrics_names", [](const nn::Model& m) {
        std::vector<std::string> r{"loss"};
        for (const auto& n : m.metric_keys()) r.push_back(n);
        return r;
      })
      .def_rw("stop_training", &nn::Model::stop_training)
      .def("get_layer", &nn::Model::get_layer, nb::arg("name"))
      .def("get_weights", [](const nn::Model& m) {
        nb::list r;
        for (const auto& a : m.get_weights()) r.append(py::to_numpy(a));
        return r;
      })
      .def("set_weights", [](nn::Model& m, nb::handle values) { m.set_weights(arrays_of(values, "weights")); },
           nb::arg("weights"))
      .def("count_params", &nn::Model::count_params)
      .def("__call__", [](nn::Model& m, nb::handle x, bool training) {
        std::vector<Var> xs;
        if (nb::isinstance<nb::list>(x) || nb::isinstance<nb::tuple>(x)) {
          for (auto h : x) xs.push_back(py::to_var(h));
        } else {
          xs.push_back(py::to_var(x));
        }
        return m.apply(xs, training);
      }, nb::arg("inputs"), nb::arg("training") = false)
      .def("_compile", [](nn::Model& m, nn::OptimizerPtr opt, const std::string& loss, std::vector<std::string> metrics,
                          bool from_logits, double delta) {
        nn::LossSpec l = nn::loss_by_name(loss, from_logits);
        l.delta = delta;
        m.compile(std::move(opt), l, std::move(metrics));
      })
      .def("_fit", [](nn::Model& m, nb::handle x, nb::handle y, int64_t batch_size, int epochs, int verbose,
                      std::vector<nn::CallbackPtr> callbacks, nb::handle val, double validation_split, bool shuffle,
                      uint64_t seed, int initial_epoch) {
        nn::FitOptions o;
        o.batch_size = batch_size;
        o.epochs = epochs;
        o.verbose = verbose;
        o.callbacks = std::move(callbacks);
        o.callbacks.push_back(std::make_shared<SignalCheck>());
        o.validation_split = validation_split;
        o.shuffle = shuffle;
        o.seed = seed;
        o.initial_epoch = initial_epoch;
        if (!val.is_none() && nb::len(val) > 0) {
          if (nb::len(val) != 2) throw nb::value_error("validation_data must be a pair (x_val, y_val)");
          o.validation_data = {{arrays_of(val[0], "validation x")}, py::to_array(val[1], "validation y")};
        }
        nn::History h = m.fit(arrays_of(x, "x"), py::to_array(y, "y"), o);
        return nb::make_tuple(history_dict(h), h.epochs);
      })
      .def("_evaluate", [](nn::Model& m, nb::handle x, nb::handle y, int64_t batch_size, int verbose) {
        return logs_dict(m.evaluate(arrays_of(x, "x"), py::to_array(y, "y"), batch_size, verbose));
      })
      .def("_predict", [](nn::Model& m, nb::handle x, int64_t batch_size) {
        return py::to_numpy(m.predict(arrays_of(x, "x"), batch_size));
      })
      .def("_train_on_batch", [](nn::Model& m, nb::handle x, nb::handle y) {
        return logs_dict(m.train_on_batch(arrays_of(x, "x"), py::to_array(y, "y")));
      })
      .def("train_function", &nn::Model::train_function, "The compiled training function (inputs..., targets).")
      .def("test_function", &nn::Model::test_function)
      .def("predict_function", &nn::Model::predict_function)
      .def("summary_text", &nn::Model::summary)
      .def("to_json", [](const nn::Model& m) { return m.to_json().dump(); })
      .def("save", &nn::Model::save, nb::arg("path"), nb::arg("include_optimizer") = true)
      .def("save_weights", &nn::Model::save_weights, nb::arg("path"))
      .def("load_weights", &nn::Model::load_weights, nb::arg("path"));
  nb::class_<nn::Sequential, nn::Model>(nm, "Sequential")
      .def(nb::init<std::vector<nn::LayerPtr>, std::string>(), nb::arg("layers") = std::vector<nn::LayerPtr>{},
           nb::arg("name") = "sequential")
      .def("add", &nn::Sequential::add, nb::arg("layer"))
      .def("build", [](nn::Sequential& s, const std::vector<int64_t>& shape, nb::handle dtype) {
        s.build(shape, dtype.is_none() ? DType::Float32 : py::to_dtype(dtype));
      }, nb::arg("input_shape"), nb::arg("dtype").none() = nb::none());
  nm.def("load_model", &nn::load_model, nb::arg("path"));
  nm.def("model_from_json", [](const std::string& s) { return nn::model_from_json(nn::parse_json(s)); }, nb::arg("json"));
  nm.def("parse_json", [](const std::string& s) { return from_json(nn::parse_json(s)); }, nb::arg("text"));
}
