// Python bindings of indexing: _core.getitem (any NumPy-style key),
// set_subtensor, inc_subtensor and take.
#include "common.h"

#include <theon/ops/subtensor.h>

namespace {

using theon::IndexItem;
using namespace theon;

const char* kBadIndex =
    "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or "
    "boolean arrays are valid indices";

// A Python/NumPy integer (anything with __index__) as an int64 constant.
Var int_constant(nb::handle h) {
  nb::object i = nb::steal(PyNumber_Index(h.ptr()));
  if (!i.is_valid()) throw nb::python_error();
  int64_t v;
  if (!nb::try_cast(i, v))
    throw std::out_of_range("cannot fit 'int' into an index-sized integer");
  return constant(Array::from_vector<int64_t>({v}));
}

// A slice bound: None, a Python/NumPy integer, or an integer scalar Variable.
Var slice_bound(nb::handle h) {
  if (h.is_none()) return Var();
  Var v;
  if (nb::try_cast(h, v)) return v;
  if (PyIndex_Check(h.ptr())) return int_constant(h);
  throw nb::type_error("slice indices must be integers or None or have an __index__ method");
}

IndexItem parse_item(nb::handle h) {
  Var v;
  if (nb::try_cast(h, v)) {
    if (v.ndim() == 0 && is_integer(v.dtype())) return IndexItem::integer(v);
    return IndexItem::array(v);
  }
  if (h.is_none()) return IndexItem::newaxis();
  if (h.ptr() == Py_Ellipsis) return IndexItem::ellipsis();
  if (PySlice_Check(h.ptr())) {
    return IndexItem::slice(slice_bound(h.attr("start")), slice_bound(h.attr("stop")),
                            slice_bound(h.attr("step")));
  }
  if (PyBool_Check(h.ptr()))
    return IndexItem::array(constant(Array::from_vector<bool>({h.ptr() == Py_True})));
  if (PyLong_Check(h.ptr())) return IndexItem::integer(int_constant(h));
  if (nb::isinstance<nb::list>(h)) {
    // A list holding integer scalar Variables: their vector, an integer index array.
    bool symbolic = false;
    for (nb::handle e : h) symbolic = symbolic || nb::try_cast(e, v);
    if (symbolic) {
      std::vector<Var> elems;
      for (nb::handle e : h) {
        Var s = py::to_var(e);
        if (s.ndim() != 0 || !is_integer(s.dtype()))
          throw std::out_of_range(std::string(kBadIndex) + " (a list index holds " + s.type().str() + ")");
        elems.push_back(s);
      }
      return IndexItem::array(make_vector(elems, DType::Int64));
    }
  }
  if (nb::isinstance<nb::list>(h) || nb::hasattr(h, "__array__") || nb::hasattr(h, "dtype")) {
    Array a;
    try {
      a = py::to_array(h, "index").copy();
    } catch (const std::exception&) {
      throw std::out_of_range(kBadIndex);
    }
    if (a.size() == 0 && is_float(a.dtype())) a = a.astype(DType::Int64);  // x[[]]
    if (!is_integer(a.dtype()) && a.dtype() != DType::Bool)
      throw std::out_of_range("arrays used as indices must be of integer (or boolean) type, got " +
                              std::string(dtype_name(a.dtype())));
    if (a.ndim() == 0 && is_integer(a.dtype())) return IndexItem::integer(constant(a));
    return IndexItem::array(constant(a));
  }
  if (PyIndex_Check(h.ptr())) return IndexItem::integer(int_constant(h));
  throw std::out_of_range(kBadIndex);
}

Index parse_key(nb::handle key) {
  Index idx;
  if (nb::isinstance<nb::tuple>(key)) {
    for (nb::handle h : key) idx.push_back(parse_item(h));
  } else {
    idx.push_back(parse_item(key));
  }
  return idx;
}

Var value_like(const Var& x_sub, nb::handle y) {
  // Python scalars take x's dtype (NEP 50); anything else is converted as is.
  return py::to_vars({nb::handle(nb::cast(x_sub)), y})[1];
}

}  // namespace

void init_subtensor(nb::module_& m) {
  m.def("getitem", [](const Var& x, nb::handle key) { return subtensor(x, parse_key(key)); },
        nb::arg("x"), nb::arg("key"),
        "x[key] with NumPy's rules: ints, slices (symbolic bounds allowed), None, Ellipsis, "
        "integer and boolean arrays.");
  m.def(
      "set_subtensor",
      [](const Var& x_sub, nb::handle y, bool, bool) { return set_subtensor(x_sub, value_like(x_sub, y)); },
      nb::arg("x"), nb::arg("y"), nb::arg("inplace") = false,
      nb::arg("tolerate_inplace_aliasing") = false,
      "A copy of the indexed variable with x[idx] = y; x must be the result of indexing.");
  m.def(
      "inc_subtensor",
      [](const Var& x_sub, nb::handle y, bool, bool) { return inc_subtensor(x_sub, value_like(x_sub, y)); },
      nb::arg("x"), nb::arg("y"), nb::arg("inplace") = false,
      nb::arg("tolerate_inplace_aliasing") = false,
      "A copy of the indexed variable with x[idx] += y; repeated indices accumulate (np.add.at).");
  m.def(
      "take",
      [](nb::handle a, nb::handle indices, std::optional<int> axis, const std::string& mode) {
        if (mode != "raise")
          throw std::invalid_argument("[take] only mode='raise' is supported, got '" + mode + "'");
        return take(py::to_var(a), py::to_var(indices), axis);
      },
      nb::arg("a"), nb::arg("indices"), nb::arg("axis") = nb::none(), nb::arg("mode") = "raise",
      "numpy.take: elements of a at indices along axis (None: of the flattened a).");
}
