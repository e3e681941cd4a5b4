// Python bindings of the nnet family (theon/ops/nnet.h, conv.h, pool.h,
// batchnorm.h): softmax, cross-entropies, activations, conv2d, pool_2d and
// batch normalization. Theano's signatures (aliases, deprecated names) are
// applied in theon/tensor/nnet and theon/tensor/signal.
#include <theon/ops/batchnorm.h>
#include <theon/ops/conv.h>
#include <theon/ops/nnet.h>
#include <theon/ops/pool.h>

#include "common.h"

using namespace theon;

namespace {

bool is_int(nb::handle h) { return PyLong_Check(h.ptr()) && !PyBool_Check(h.ptr()); }

bool is_seq(nb::handle h) { return nb::isinstance<nb::tuple>(h) || nb::isinstance<nb::list>(h); }

// An int or a pair of ints.
std::array<int64_t, 2> int_pair(nb::handle h, const char* who, const char* what) {
  if (is_int(h)) {
    int64_t v = nb::cast<int64_t>(h);
    return {v, v};
  }
  if (is_seq(h) && nb::len(h) == 2) {
    std::array<int64_t, 2> r{};
    int i = 0;
    for (nb::handle e : h) {
      if (!is_int(e) && !nb::hasattr(e, "__index__")) break;
      r[i++] = nb::cast<int64_t>(nb::int_(e));
    }
    if (i == 2) return r;
  }
  throw nb::value_error(("[" + std::string(who) + "] " + what + " must be a pair of ints, got " +
                         nb::cast<std::string>(nb::repr(h)))
                            .c_str());
}

// A shape hint: None, or 4 entries that are ints or None (unknown).
std::vector<int64_t> shape_hint(nb::handle h, const char* what) {
  if (h.is_none()) return {};
  if (!is_seq(h))
    throw nb::value_error(("[conv2d] " + std::string(what) + " must be None or a tuple of 4 entries, got " +
                           nb::cast<std::string>(nb::repr(h)))
                              .c_str());
  std::vector<int64_t> r;
  for (nb::handle e : h) r.push_back(is_int(e) ? nb::cast<int64_t>(e) : -1);
  if (r.size() != 4)
    throw nb::value_error(("[conv2d] " + std::string(what) + " must have 4 entries, got " +
                           nb::cast<std::string>(nb::repr(h)))
                              .c_str());
  return r;
}

std::vector<int> bn_axes(nb::handle axes, int ndim) {
  if (nb::isinstance<nb::str>(axes)) return batch_norm_axes(nb::cast<std::string>(axes), ndim);
  if (is_seq(axes) || nb::hasattr(axes, "tolist")) {
    nb::object seq = nb::hasattr(axes, "tolist") ? axes.attr("tolist")() : nb::borrow(axes);
    std::vector<int> r;
    for (nb::handle e : seq) r.push_back(nb::cast<int>(nb::int_(e)));
    return r;
  }
  throw nb::value_error(("[batch_normalization] invalid axes: " + nb::cast<std::string>(nb::repr(axes))).c_str());
}

Var opt_var(nb::handle h) { return h.is_none() ? Var() : py::to_var(h); }

void init_conv_pool(nb::module_& m) {
  m.def("conv2d",
        [](nb::handle input, nb::handle filters, nb::handle input_shape, nb::handle filter_shape,
           nb::handle border_mode, nb::handle subsample, bool filter_flip, nb::handle filter_dilation,
           int64_t num_groups) {
          ConvParams p;
          if (nb::isinstance<nb::str>(border_mode)) set_border_mode(p, nb::cast<std::string>(border_mode));
          else if (is_int(border_mode) || is_seq(border_mode)) {
            auto pad = int_pair(border_mode, "conv2d", "border_mode");
            set_border_mode(p, pad[0], pad[1]);
          } else {
            throw nb::value_error(("[conv2d] border_mode must be 'valid', 'full', 'half', an int or a pair of "
                                   "ints, got " + nb::cast<std::string>(nb::repr(border_mode)))
                                      .c_str());
          }
          p.subsample = int_pair(subsample, "conv2d", "subsample");
          p.dilation = int_pair(filter_dilation, "conv2d", "filter_dilation");
          p.filter_flip = filter_flip;
          p.num_groups = num_groups;
          p.input_shape = shape_hint(input_shape, "input_shape");
          p.filter_shape = shape_hint(filter_shape, "filter_shape");
          return conv2d(py::to_var(input), py::to_var(filters), p);
        },
        nb::arg("input"), nb::arg("filters"), nb::arg("input_shape") = nb::none(),
        nb::arg("filter_shape") = nb::none(), nb::arg("border_mode") = "valid",
        nb::arg("subsample") = nb::make_tuple(1, 1), nb::arg("filter_flip") = true,
        nb::arg("filter_dilation") = nb::make_tuple(1, 1), nb::arg("num_groups") = 1);

  m.def("pool_2d",
        [](nb::handle input, nb::handle ws, bool ignore_border, nb::handle stride, nb::handle pad,
           const std::string& mode) {
          PoolParams p;
          p.ws = int_pair(ws, "pool_2d", "ws");
          if (!stride.is_none()) p.stride = int_pair(stride, "pool_2d", "stride");
          p.pad = int_pair(pad, "pool_2d", "pad");
          p.ignore_border = ignore_border;
          p.mode = pool_mode_from_name(mode == "max_deterministic" ? "max" : mode);
          return pool_2d(py::to_var(input), p);
        },
        nb::arg("input"), nb::arg("ws"), nb::arg("ignore_border") = true, nb::arg("stride") = nb::none(),
        nb::arg("pad") = nb::make_tuple(0, 0), nb::arg("mode") = "max");
}

void init_batchnorm(nb::module_& m) {
  m.def("batch_normalization",
        [](nb::handle inputs, nb::handle gamma, nb::handle beta, nb::handle mean, nb::handle std_dev,
           const std::string& mode) {
          auto v = py::to_vars({inputs, gamma, beta, mean, std_dev});
          return batch_normalization(v[0], v[1], v[2], v[3], v[4], mode);
        },
        nb::arg("inputs"), nb::arg("gamma"), nb::arg("beta"), nb::arg("mean"), nb::arg("std"),
        nb::arg("mode") = "low_mem");
  m.def("batch_normalization_train",
        [](nb::handle inputs, nb::handle gamma, nb::handle beta, nb::handle axes, double epsilon,
           double running_average_factor, nb::handle running_mean, nb::handle running_var) {
          Var x = py::to_var(inputs);
          auto r = batch_normalization_train(x, py::to_var(gamma), py::to_var(beta), bn_axes(axes, x.ndim()),
                                             epsilon, running_average_factor, opt_var(running_mean),
                                             opt_var(running_var));
          nb::list out;
          for (auto& v : r) out.append(nb::cast(v));
          return nb::tuple(out);
        },
        nb::arg("inputs"), nb::arg("gamma"), nb::arg("beta"), nb::arg("axes") = "per-activation",
        nb::arg("epsilon") = 1e-4, nb::arg("running_average_factor") = 0.1,
        nb::arg("running_mean") = nb::none(), nb::arg("running_var") = nb::none());
  m.def("batch_normalization_test",
        [](nb::handle inputs, nb::handle gamma, nb::handle beta, nb::handle mean, nb::handle var_,
           nb::handle axes, double epsilon) {
          Var x = py::to_var(inputs);
          return batch_normalization_test(x, py::to_var(gamma), py::to_var(beta), py::to_var(mean),
                                          py::to_var(var_), bn_axes(axes, x.ndim()), epsilon);
        },
        nb::arg("inputs"), nb::arg("gamma"), nb::arg("beta"), nb::arg("mean"), nb::arg("var"),
        nb::arg("axes") = "per-activation", nb::arg("epsilon") = 1e-4);
}

}  // namespace

void init_nnet(nb::module_& m) {
  m.def("softmax", [](nb::handle x, int axis) { return softmax(py::to_var(x), axis); }, nb::arg("x"),
        nb::arg("axis") = -1);
  m.def("log_softmax", [](nb::handle x, int axis) { return log_softmax(py::to_var(x), axis); }, nb::arg("x"),
        nb::arg("axis") = -1);
  m.def("categorical_crossentropy",
        [](nb::handle coding, nb::handle truth) {
          return categorical_crossentropy(py::to_var(coding), py::to_var(truth));
        },
        nb::arg("coding_dist"), nb::arg("true_dist"));
  m.def("crossentropy_categorical_1hot",
        [](nb::handle coding, nb::handle idx) {
          return crossentropy_categorical_1hot(py::to_var(coding), py::to_var(idx));
        },
        nb::arg("coding_dist"), nb::arg("true_one_of_n"));
  m.def("binary_crossentropy",
        [](nb::handle output, nb::handle target) {
          auto v = py::to_vars({output, target});
          return binary_crossentropy(v[0], v[1]);
        },
        nb::arg("output"), nb::arg("target"));
  m.def("relu",
        [](nb::handle x, nb::handle alpha) {
          Var xv = py::to_var(x);
          if (PyFloat_Check(alpha.ptr()) || PyLong_Check(alpha.ptr())) return relu(xv, nb::cast<double>(alpha));
          return relu(xv, py::to_var(alpha));
        },
        nb::arg("x"), nb::arg("alpha") = 0);
  m.def("elu",
        [](nb::handle x, nb::handle alpha) {
          Var xv = py::to_var(x);
          if (PyFloat_Check(alpha.ptr()) || PyLong_Check(alpha.ptr())) return elu(xv, nb::cast<double>(alpha));
          return elu(xv, py::to_var(alpha));
        },
        nb::arg("x"), nb::arg("alpha") = 1.0);
  m.def("selu", [](nb::handle x) { return selu(py::to_var(x)); }, nb::arg("x"));
  init_conv_pool(m);
  init_batchnorm(m);
}
