// Python bindings of the join and rearranging ops (theon/ops/join.h,
// theon/ops/shape_extra.h): concatenate, stack, split, tile, repeat, roll,
// broadcast_to, flip. Theano's signatures are applied in theon/tensor/_join.py.
#include <theon/ops/join.h>
#include <theon/ops/shape_extra.h>

#include "common.h"

using namespace theon;

namespace {

std::vector<Var> var_list(nb::handle seq) {
  if (!nb::isinstance<nb::list>(seq) && !nb::isinstance<nb::tuple>(seq))
    throw nb::type_error("expected a list or tuple of tensors");
  std::vector<nb::handle> hs;
  for (nb::handle h : seq) hs.push_back(h);
  return py::to_vars(hs);
}

int int_axis(nb::handle axis, const char* who) {
  if (!PyLong_Check(axis.ptr()))
    throw nb::type_error((std::string(who) + ": axis must be an int").c_str());
  return nb::cast<int>(axis);
}

// A list/tuple of Python ints as an int64 vector constant (also when empty); anything else via
// to_var.
Var int_vector_arg(nb::handle h) {
  if (!nb::isinstance<nb::list>(h) && !nb::isinstance<nb::tuple>(h)) return py::to_var(h);
  std::vector<int64_t> v;
  bool all_ints = true;
  for (nb::handle e : h) {
    if (!PyLong_Check(e.ptr()) || PyBool_Check(e.ptr())) {
      all_ints = false;
      break;
    }
    v.push_back(nb::cast<int64_t>(e));
  }
  if (!all_ints) return py::to_var(h);
  return constant(Array::from_vector<int64_t>(v, {int64_t(v.size())}));
}

}  // namespace

void init_shape(nb::module_& m) {
  m.def(
      "concatenate",
      [](nb::handle tensors, nb::handle axis) {
        auto vs = var_list(tensors);
        if (axis.is_none()) {
          for (auto& v : vs) v = flatten(v, 1);
          return concatenate(vs, 0);
        }
        return concatenate(vs, int_axis(axis, "concatenate"));
      },
      nb::arg("tensors"), nb::arg("axis").none() = 0);
  m.def(
      "stack", [](nb::handle tensors, int axis) { return stack(var_list(tensors), axis); },
      nb::arg("tensors"), nb::arg("axis") = 0);
  m.def(
      "split",
      [](nb::handle x, nb::handle splits, int n_splits, int axis) {
        Var xv = py::to_var(x);
        return split(xv, int_vector_arg(splits), n_splits, axis);
      },
      nb::arg("x"), nb::arg("splits_size"), nb::arg("n_splits"), nb::arg("axis") = 0);
  m.def(
      "tile", [](nb::handle x, nb::handle reps) { return tile(py::to_var(x), py::to_shape(reps)); },
      nb::arg("x"), nb::arg("reps"));
  m.def(
      "repeat",
      [](nb::handle x, nb::handle repeats, nb::handle axis) {
        std::optional<int> a;
        if (!axis.is_none()) a = int_axis(axis, "repeat");
        return repeat(py::to_var(x), int_vector_arg(repeats), a);
      },
      nb::arg("x"), nb::arg("repeats"), nb::arg("axis") = nb::none());
  m.def(
      "roll",
      [](nb::handle x, nb::handle shift, nb::handle axis) {
        Var xv = py::to_var(x);
        const bool multi_shift =
            nb::isinstance<nb::tuple>(shift) || nb::isinstance<nb::list>(shift);
        const bool multi_axis = nb::isinstance<nb::tuple>(axis) || nb::isinstance<nb::list>(axis);
        if (!multi_shift && !multi_axis) {
          std::optional<int> a;
          if (!axis.is_none()) a = int_axis(axis, "roll");
          return roll(xv, py::to_var(shift), a);
        }
        if (axis.is_none()) throw nb::value_error("[roll] a tuple of shifts needs a tuple of axes");
        std::vector<Var> shifts;
        if (multi_shift) {
          for (nb::handle h : shift) shifts.push_back(py::to_var(h));
        } else {
          shifts.push_back(py::to_var(shift));
        }
        std::vector<int> axes = py::to_axes(axis).value();
        return roll(xv, shifts, axes);
      },
      nb::arg("x"), nb::arg("shift"), nb::arg("axis") = nb::none());
  m.def(
      "broadcast_to",
      [](nb::handle x, nb::handle shape) {
        return broadcast_to(py::to_var(x), py::to_shape(shape));
      },
      nb::arg("x"), nb::arg("shape"));
  m.def(
      "flip", [](nb::handle x, nb::handle axis) { return flip(py::to_var(x), py::to_axes(axis)); },
      nb::arg("x"), nb::arg("axis") = nb::none());
}
