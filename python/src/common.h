// Shared helpers of the nanobind extension: NumPy <-> Array conversion and
// turning Python objects (Variables, scalars, arrays, lists) into Vars.
#pragma once
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <theon/theon.h>

namespace nb = nanobind;

namespace theon::py {

// Any array-like (NumPy array of any dtype/strides/order, DLPack object,
// nested list, Python scalar) -> Array. NumPy and DLPack memory is shared, not
// copied, and the Python object stays alive while theon uses it. Object, string
// and ragged inputs raise TypeError naming `what`.
Array to_array(nb::handle obj, const char* what = "value");
// Array -> NumPy array sharing the Array's memory (bfloat16 through ml_dtypes).
nb::object to_numpy(const Array& a);
// Python object -> Var: a Variable as is; an array-like becomes a constant; a
// Python float a floatX constant, a Python int an int64 constant.
Var to_var(nb::handle obj);
// Converts several operands together: Python scalars among Variables take the
// promoted dtype of the Variables (NumPy 2 weak scalars).
std::vector<Var> to_vars(const std::vector<nb::handle>& objs);
// Python axis argument (None, int, tuple/list of ints) -> Axes.
Axes to_axes(nb::handle axis);
// A shape given as a Variable (int vector) or a tuple/list of ints and scalar Variables.
std::vector<Var> to_shape(nb::handle shape);
DType to_dtype(nb::handle dtype);  // a string, numpy dtype or numpy type; None -> floatX
// A Python int or NumPy integer (anything with __index__, not bool or float) ->
// int64; TypeError / ValueError naming `what` otherwise.
int64_t to_int(nb::handle h, const char* what);

}  // namespace theon::py

// One init function per family of bindings (python/src/bind_<family>.cpp).
void init_runtime(nb::module_& m);
void init_graph(nb::module_& m);
void init_elemwise(nb::module_& m);
void init_reduce(nb::module_& m);
void init_function(nb::module_& m);
void init_printing(nb::module_& m);
void init_shape(nb::module_& m);
void init_creation(nb::module_& m);
void init_subtensor(nb::module_& m);
void init_linalg(nb::module_& m);
void init_sort(nb::module_& m);
void init_nnet(nb::module_& m);
void init_random(nb::module_& m);
void init_autodiff(nb::module_& m);
void init_datasets(nb::module_& m);
void init_control(nb::module_& m);
void init_cuda(nb::module_& m);
