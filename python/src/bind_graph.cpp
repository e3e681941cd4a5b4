// The Variable class (operators, methods), TensorType and shared variables.
#include <Python.h>

#include "common.h"

using namespace theon;

namespace {

Var binary(ScalarOpId id, nb::handle a, nb::handle b) {
  auto v = py::to_vars({a, b});
  return elemwise(id, {v[0], v[1]});
}

nb::tuple static_shape(const TensorType& t) {
  nb::list l;
  for (auto d : t.shape) l.append(d == kUnknownDim ? nb::object(nb::none()) : nb::object(nb::int_(d)));
  return nb::tuple(l);
}

// The axes of x.dimshuffle(...) ('x' -> -1, negative axes refused) or of
// x.transpose(...) (negative axes count from the end), given as arguments or
// as one tuple/list.
std::vector<int> to_int_list(nb::args args, bool dimshuffle_pattern = true) {
  std::vector<int> r;
  nb::handle src = args;
  if (args.size() == 1 && (nb::isinstance<nb::tuple>(args[0]) || nb::isinstance<nb::list>(args[0]))) src = args[0];
  const char* who = dimshuffle_pattern ? "dimshuffle" : "transpose";
  for (nb::handle h : src) {
    if (dimshuffle_pattern && nb::isinstance<nb::str>(h)) {
      if (nb::cast<std::string>(h) != "x")
        throw nb::value_error(("dimshuffle: only 'x' is allowed as a string, got " +
                               nb::cast<std::string>(nb::repr(h))).c_str());
      r.push_back(-1);
      continue;
    }
    int64_t d = py::to_int(h, (std::string(who) + " axis").c_str());
    if ((dimshuffle_pattern && d < 0) || d < -64 || d > 64)
      throw nb::value_error((std::string(who) + ": axis " + std::to_string(d) + " is out of range").c_str());
    r.push_back(int(d));
  }
  return r;
}

}  // namespace

void init_graph(nb::module_& m) {
  nb::class_<TensorType>(m, "TensorType")
      .def("__init__",
           [](TensorType* t, nb::handle dtype, nb::handle broadcastable, nb::handle shape) {
             DType d = py::to_dtype(dtype);
             std::vector<int64_t> s;
             if (!shape.is_none()) {
               for (nb::handle h : shape) {
                 if (h.is_none()) {
                   s.push_back(kUnknownDim);
                   continue;
                 }
                 int64_t d = 0;
                 if (PyBool_Check(h.ptr()) || !nb::try_cast(h, d) || d < 0)
                   throw nb::value_error(("TensorType: shape entries must be None or non-negative ints, got " +
                                          nb::cast<std::string>(nb::repr(shape))).c_str());
                 s.push_back(d);
               }
             } else if (!broadcastable.is_none()) {
               for (nb::handle h : broadcastable) s.push_back(nb::cast<bool>(h) ? 1 : kUnknownDim);
             } else {
               throw nb::type_error("TensorType needs broadcastable or shape");
             }
             new (t) TensorType(d, s);
           },
           nb::arg("dtype"), nb::arg("broadcastable") = nb::none(), nb::arg("shape") = nb::none())
      .def_prop_ro("dtype", [](const TensorType& t) { return std::string(dtype_name(t.dtype)); })
      .def_prop_ro("ndim", &TensorType::ndim)
      .def_prop_ro("shape", [](const TensorType& t) { return static_shape(t); })
      .def_prop_ro("broadcastable", [](const TensorType& t) {
        nb::list l;
        for (bool b : t.broadcastable()) l.append(nb::bool_(b));
        return nb::tuple(l);
      })
      .def("__call__", [](const TensorType& t, std::optional<std::string> name) { return variable(t, name.value_or("")); },
           nb::arg("name") = nb::none())
      .def("__eq__", [](const TensorType& a, const TensorType& b) { return a == b; })
      .def("__hash__", [](const TensorType& t) { return std::hash<std::string>()(t.str()); })
      .def("__repr__", &TensorType::str)
      .def("__str__", &TensorType::short_str);

  auto V = nb::class_<Var>(m, "Variable");
  V.def_prop_ro("type", [](const Var& v) { return v.type(); })
      .def_prop_ro("dtype", [](const Var& v) { return std::string(dtype_name(v.dtype())); })
      .def_prop_ro("ndim", &Var::ndim)
      .def_prop_ro("broadcastable", [](const Var& v) {
        nb::list l;
        for (bool b : v.type().broadcastable()) l.append(nb::bool_(b));
        return nb::tuple(l);
      })
      .def_prop_ro("static_shape", [](const Var& v) { return static_shape(v.type()); })
      .def_prop_rw("name",
                   [](const Var& v) -> nb::object { return v.name().empty() ? nb::object(nb::none()) : nb::object(nb::str(v.name().c_str())); },
                   [](Var& v, std::optional<std::string> n) { v.set_name(n.value_or("")); }, nb::arg("value").none())
      .def_prop_ro("shape", [](const Var& v) { return shape(v); })
      .def_prop_ro("size", [](const Var& v) {
        Var n = constant(1.0, DType::Int64);
        for (const auto& d : shape_of(v)) n = mul(n, d);
        return n;
      })
      .def_prop_ro("T", [](const Var& v) { return transpose(v); })
      .def_prop_ro("owner_op", [](const Var& v) -> nb::object {
        return v.owner() ? nb::object(nb::str(v.owner()->op->name().c_str())) : nb::object(nb::none());
      })
      .def_prop_ro("owner_inputs", [](const Var& v) {
        nb::list l;
        if (v.owner())
          for (const auto& i : v.owner()->inputs) l.append(nb::cast(i));
        return l;
      })
      .def("is_constant", &Var::is_constant)
      .def("is_shared", &Var::is_shared)
      .def_prop_ro("data", [](const Var& v) { return py::to_numpy(v.constant_value()); })
      .def("get_value", [](const Var& v, bool borrow, bool) { return py::to_numpy(get_value(v, borrow)); },
           nb::arg("borrow") = false, nb::arg("return_internal_type") = false)
      .def("set_value", [](const Var& v, nb::handle value, bool borrow) {
             Array a = py::to_array(value, ("set_value of '" + v.str() + "'").c_str());
             try {
               set_value(v, a, borrow);
             } catch (const std::invalid_argument& e) {
               throw nb::type_error(e.what());  // wrong dtype or rank: TypeError, as in Theano
             }
           },
           nb::arg("value"), nb::arg("borrow") = false)
      .def_prop_rw("default_update",
                   [](const Var& v) -> nb::object {
                     Var u = default_update_of(v);
                     return u.defined() ? nb::cast(u) : nb::none();
                   },
                   [](const Var& v, const Var& u) { set_default_update(v, u); })
      .def("__hash__", [](const Var& v) { return reinterpret_cast<intptr_t>(v.get()); })
      .def("__eq__", [](const Var& a, nb::handle b) {
        Var o;
        return nb::try_cast(b, o) && o.get() == a.get();
      })
      .def("__ne__", [](const Var& a, nb::handle b) {
        Var o;
        return !(nb::try_cast(b, o) && o.get() == a.get());
      })
      .def("__bool__", [](const Var&) -> bool {
        throw nb::type_error("theon Variables cannot be used as booleans (use T.switch / T.eq for symbolic tests)");
      })
      .def("__len__", [](const Var& v) -> int64_t {
        if (v.ndim() > 0 && v.type().shape[0] != kUnknownDim) return v.type().shape[0];
        throw nb::type_error("len() of a Variable whose first dimension is not known statically; use x.shape[0]");
      })
      .def("__iter__", [](const Var&) {
        throw nb::type_error("theon Variables are not iterable; index them (x[i]) or use T.split");
      })
      .def("__repr__", [](const Var& v) { return v.str(); })
      .def("__str__", [](const Var& v) { return v.str(); })
      .def("astype", [](const Var& v, nb::handle d) { return cast(v, py::to_dtype(d)); })
      .def("dimshuffle", [](const Var& v, nb::args args) { return dimshuffle(v, to_int_list(args)); })
      .def("transpose", [](const Var& v, nb::args args) {
        std::vector<int> axes = args.size() ? to_int_list(args, false) : std::vector<int>{};
        return transpose(v, axes);
      })
      .def("reshape", [](const Var& v, nb::handle shp, nb::handle ndim) {
             (void)ndim;
             return reshape(v, py::to_shape(shp));
           },
           nb::arg("shape"), nb::arg("ndim") = nb::none())
      .def("flatten", [](const Var& v, int ndim) { return flatten(v, ndim); }, nb::arg("ndim") = 1)
      .def("squeeze", [](const Var& v, nb::handle axis) {
             auto a = py::to_axes(axis);
             return squeeze(v, a.value_or(std::vector<int>{}));
           },
           nb::arg("axis") = nb::none())
      .def("__neg__", [](const Var& a) { return neg(a); })
      .def("__pos__", [](const Var& a) { return a; })
      .def("__abs__", [](const Var& a) { return abs(a); })
      .def("__invert__", [](const Var& a) { return invert(a); });

#define THEON_BIN(py, id)                                                                               \
  V.def("__" #py "__", [](const Var& a, nb::handle b) { return binary(ScalarOpId::id, nb::cast(a), b); }); \
  V.def("__r" #py "__", [](const Var& a, nb::handle b) { return binary(ScalarOpId::id, b, nb::cast(a)); });
  THEON_BIN(add, add)
  THEON_BIN(sub, sub)
  THEON_BIN(mul, mul)
  THEON_BIN(truediv, true_div)
  THEON_BIN(floordiv, int_div)
  THEON_BIN(mod, mod)
  THEON_BIN(pow, pow)
  THEON_BIN(and, and_)
  THEON_BIN(or, or_)
  THEON_BIN(xor, xor_)
  THEON_BIN(lshift, left_shift)
  THEON_BIN(rshift, right_shift)
#undef THEON_BIN
  V.def("__lt__", [](const Var& a, nb::handle b) { return binary(ScalarOpId::lt, nb::cast(a), b); });
  V.def("__le__", [](const Var& a, nb::handle b) { return binary(ScalarOpId::le, nb::cast(a), b); });
  V.def("__gt__", [](const Var& a, nb::handle b) { return binary(ScalarOpId::gt, nb::cast(a), b); });
  V.def("__ge__", [](const Var& a, nb::handle b) { return binary(ScalarOpId::ge, nb::cast(a), b); });

  m.def("variable", [](const TensorType& t, std::optional<std::string> name) { return variable(t, name.value_or("")); },
        nb::arg("type"), nb::arg("name") = nb::none());
  m.def("as_tensor_variable", [](nb::handle x, std::optional<std::string> name, nb::handle ndim) {
          Var v = py::to_var(x);
          if (name) v.set_name(*name);
          if (!ndim.is_none() && nb::cast<int>(ndim) != v.ndim())
            throw nb::value_error(("as_tensor_variable: expected " + std::to_string(nb::cast<int>(ndim)) +
                                   " dimensions, got " + v.type().str()).c_str());
          return v;
        },
        nb::arg("x"), nb::arg("name") = nb::none(), nb::arg("ndim") = nb::none());
  m.def("constant", [](nb::handle x, std::optional<std::string> name, nb::handle dtype) {
          Var v;
          if (!dtype.is_none()) {
            Array a = py::to_array(x, "constant");
            v = constant(a.astype(py::to_dtype(dtype)));
          } else {
            v = py::to_var(x);
            if (!v.is_constant()) throw nb::type_error("constant: expected a value, got a symbolic Variable");
          }
          if (name) v.set_name(*name);
          return v;
        },
        nb::arg("x"), nb::arg("name") = nb::none(), nb::arg("dtype") = nb::none());
  m.def("shared", [](nb::handle value, std::optional<std::string> name, bool borrow) {
          Array a = py::to_array(value, "shared value");
          return shared(a, name.value_or(""), borrow);
        },
        nb::arg("value"), nb::arg("name") = nb::none(), nb::arg("borrow") = false);
  m.def("shape", [](const Var& v) { return shape(v); });
  m.def("shape_i", [](const Var& v, int i) { return shape_i(v, i); });
  m.def("reshape", [](nb::handle x, nb::handle shp, nb::handle ndim) {
          (void)ndim;
          return reshape(py::to_var(x), py::to_shape(shp));
        },
        nb::arg("x"), nb::arg("newshape"), nb::arg("ndim") = nb::none());
  m.def("flatten", [](nb::handle x, int ndim) { return flatten(py::to_var(x), ndim); }, nb::arg("x"),
        nb::arg("ndim") = 1);
  m.def("transpose", [](nb::handle x, nb::handle axes) {
          auto a = py::to_axes(axes);
          return transpose(py::to_var(x), a.value_or(std::vector<int>{}));
        },
        nb::arg("x"), nb::arg("axes") = nb::none());
  m.def("dimshuffle", [](nb::handle x, nb::args order) { return dimshuffle(py::to_var(x), to_int_list(order)); });
  m.def("expand_dims", [](nb::handle x, int axis) { return expand_dims(py::to_var(x), axis); });
  m.def("squeeze", [](nb::handle x, nb::handle axis) {
          return squeeze(py::to_var(x), py::to_axes(axis).value_or(std::vector<int>{}));
        },
        nb::arg("x"), nb::arg("axis") = nb::none());
  m.def("cast", [](nb::handle x, nb::handle d) { return cast(py::to_var(x), py::to_dtype(d)); });
}
