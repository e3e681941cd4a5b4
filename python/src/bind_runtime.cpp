// NumPy / DLPack <-> Array, Python objects -> Vars, config access.
#include <Python.h>

#include "common.h"
#include "theon/backend/cuda_device.h"
#include "theon/backend/cuda_memory.h"

namespace theon::py {

namespace {

nb::module_& numpy() {
  // Leaked on purpose: destroying it after the interpreter finalizes would crash.
  static nb::module_* np = new nb::module_(nb::module_::import_("numpy"));
  return *np;
}

DType from_dlpack_dtype(nb::dlpack::dtype dt, const char* what) {
  using C = nb::dlpack::dtype_code;
  auto code = C(dt.code);
  if (dt.lanes == 1) {
    if (code == C::Bool) return DType::Bool;
    if (code == C::Int) switch (dt.bits) {
        case 8: return DType::Int8;
        case 16: return DType::Int16;
        case 32: return DType::Int32;
        case 64: return DType::Int64;
      }
    if (code == C::UInt) switch (dt.bits) {
        case 8: return DType::UInt8;
        case 16: return DType::UInt16;
        case 32: return DType::UInt32;
        case 64: return DType::UInt64;
      }
    if (code == C::Float) switch (dt.bits) {
        case 16: return DType::Float16;
        case 32: return DType::Float32;
        case 64: return DType::Float64;
      }
    if (code == C::Bfloat && dt.bits == 16) return DType::BFloat16;
  }
  throw nb::type_error((std::string(what) + ": unsupported element type (code " + std::to_string(dt.code) +
                        ", " + std::to_string(dt.bits) + " bits)").c_str());
}

nb::dlpack::dtype to_dlpack_dtype(DType d) {
  using C = nb::dlpack::dtype_code;
  nb::dlpack::dtype r{};
  r.lanes = 1;
  r.bits = uint8_t(itemsize(d) * 8);
  switch (dtype_kind(d)) {
    case DKind::Bool: r.code = uint8_t(C::Bool); break;
    case DKind::Int: r.code = uint8_t(C::Int); break;
    case DKind::UInt: r.code = uint8_t(C::UInt); break;
    case DKind::Float: r.code = uint8_t(d == DType::BFloat16 ? C::Bfloat : C::Float); break;
  }
  return r;
}

// theon's Python values are host arrays: a DLPack tensor elsewhere is refused,
// naming where it is and, for CUDA, how to copy it over.
std::string not_host_message(const char* what, int32_t type, int32_t id) {
  std::string msg =
      std::string(what) + ": the DLPack tensor is in " + dlpack_device_name(type) + " memory";
  if (type == dl::kCUDA)
    msg += " (cuda:" + std::to_string(id) +
           "); theon takes host arrays from Python: theon.from_dlpack(x) copies a CUDA tensor to "
           "the host";
  else
    msg += " (DLPack device type " + std::to_string(type) + "); theon takes host arrays";
  return msg;
}

// Wraps an ndarray view; the Python object is released (under the GIL) with the last view.
Array wrap_ndarray(const nb::ndarray<nb::ro>& nd, DType dtype) {
  auto* keep = new nb::ndarray<nb::ro>(nd);
  std::shared_ptr<void> owner(keep, [](void* p) {
    auto* k = static_cast<nb::ndarray<nb::ro>*>(p);
    if (!Py_IsInitialized()) return;  // interpreter gone: leak rather than crash
    nb::gil_scoped_acquire gil;
    delete k;
  });
  Shape shape(nd.ndim());
  Strides strides(nd.ndim());
  int64_t isz = int64_t(itemsize(dtype));
  int64_t lo = 0, hi = 0;
  for (size_t i = 0; i < nd.ndim(); ++i) {
    shape[i] = int64_t(nd.shape(i));
    strides[i] = int64_t(nd.stride(i)) * isz;
    if (shape[i] == 0) continue;
    int64_t ext = (shape[i] - 1) * strides[i];
    (ext < 0 ? lo : hi) += ext;
  }
  bool empty = shape_size(shape) == 0;
  char* base = static_cast<char*>(const_cast<void*>(nd.data())) + (empty ? 0 : lo);
  size_t nbytes = empty ? 0 : size_t(hi - lo + isz);
  auto buf = Buffer::wrap(base, nbytes, owner);
  return Array(dtype, shape, strides, empty ? 0 : -lo, buf);
}

}  // namespace

Array to_array(nb::handle obj, const char* what) {
  nb::object arr;
  if (PyCapsule_CheckExact(obj.ptr())) {
    // A DLPack capsule ("dltensor"), as torch.utils.dlpack.to_dlpack gives.
    nb::ndarray<nb::ro> nd;
    if (!PyCapsule_IsValid(obj.ptr(), "dltensor") || !nb::try_cast(obj, nd))
      throw nb::type_error((std::string(what) + ": expected an array, got a capsule that is not an unused DLPack "
                            "tensor (a DLPack capsule can be consumed only once)").c_str());
    // Pinned and managed CUDA memory are host-addressable (dlpack.h).
    const int32_t type = nd.device_type();
    if (type != dl::kCPU && type != dl::kCUDAHost && type != dl::kCUDAManaged)
      throw nb::type_error(not_host_message(what, type, nd.device_id()).c_str());
    return wrap_ndarray(nd, from_dlpack_dtype(nd.dtype(), what));
  }
  // The common case first: a NumPy array of a standard dtype, read without any
  // Python-level attribute lookups (nanobind imports it through the buffer
  // protocol, which refuses non-native byte orders, so those take the slow path).
  static PyTypeObject* ndarray_type = reinterpret_cast<PyTypeObject*>(numpy().attr("ndarray").ptr());
  static PyObject* generic_type = numpy().attr("generic").ptr();  // NumPy scalars: buffer protocol too
  if (Py_TYPE(obj.ptr()) == ndarray_type || PyObject_IsInstance(obj.ptr(), generic_type) == 1) {
    nb::ndarray<nb::ro> nd;
    if (nb::try_cast(obj, nd) && nd.dtype().lanes == 1) {
      using C = nb::dlpack::dtype_code;
      const auto code = C(nd.dtype().code);
      const bool standard = code == C::Bool || code == C::Int || code == C::UInt ||
                            (code == C::Float && nd.dtype().bits <= 64);
      if (standard) return wrap_ndarray(nd, from_dlpack_dtype(nd.dtype(), what));
    }
  }
  if (nb::hasattr(obj, "__dlpack_device__") && nb::hasattr(obj, "__dlpack__") &&
      !nb::isinstance(obj, numpy().attr("ndarray"))) {
    // A GPU tensor (PyTorch, CuPy, JAX): NumPy would refuse it with a vaguer message.
    auto [type, id] = nb::cast<std::pair<int32_t, int32_t>>(obj.attr("__dlpack_device__")());
    if (type != dl::kCPU && type != dl::kCUDAHost && type != dl::kCUDAManaged)
      throw nb::type_error(not_host_message(what, type, id).c_str());
  }
  try {
    if (nb::hasattr(obj, "__dlpack__") && !nb::isinstance(obj, numpy().attr("ndarray"))) {
      arr = numpy().attr("from_dlpack")(obj);
    } else {
      arr = numpy().attr("asarray")(obj);
    }
  } catch (nb::python_error& e) {
    // Ragged nested lists and the like: say which argument was wrong.
    if (!e.matches(PyExc_ValueError) && !e.matches(PyExc_TypeError) && !e.matches(PyExc_BufferError)) throw;
    std::string msg = std::string(what) + ": cannot convert " + nb::cast<std::string>(nb::type_name(obj.type())) +
                      " to an array: " + nb::cast<std::string>(nb::str(e.value()));
    if (e.matches(PyExc_ValueError)) throw nb::value_error(msg.c_str());
    throw nb::type_error(msg.c_str());
  }
  nb::object dt = arr.attr("dtype");
  std::string kind = nb::cast<std::string>(dt.attr("kind"));
  std::string dname = nb::cast<std::string>(nb::str(dt));
  bool bf16 = dname == "bfloat16";
  if (!bf16 && kind != "b" && kind != "i" && kind != "u" && kind != "f")
    throw nb::type_error((std::string(what) + ": expected a numeric array (bool, int, uint or float), got dtype " +
                          dname).c_str());
  if (bf16) arr = arr.attr("view")("uint16");
  if (!nb::cast<bool>(arr.attr("dtype").attr("isnative")))
    arr = arr.attr("astype")(arr.attr("dtype").attr("newbyteorder")("="));
  if (kind == "f" && nb::cast<int>(arr.attr("dtype").attr("itemsize")) > 8)
    throw nb::type_error((std::string(what) + ": unsupported dtype " + dname).c_str());
  nb::ndarray<nb::ro> nd;
  if (!nb::try_cast(arr, nd)) arr = numpy().attr("ascontiguousarray")(arr);
  if (!nb::try_cast(arr, nd))
    throw nb::type_error((std::string(what) + ": cannot read array of dtype " + dname).c_str());
  DType d = bf16 ? DType::BFloat16 : from_dlpack_dtype(nd.dtype(), what);
  return wrap_ndarray(nd, d);
}

nb::object to_numpy(const Array& a0) {
  Array a = a0;
  int64_t isz = int64_t(a.itemsize());
  for (auto s : a.strides())
    if (s % isz != 0) {
      a = a.copy();
      break;
    }
  auto* keep = new Array(a);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<Array*>(p); });
  std::vector<size_t> shape(a.shape().begin(), a.shape().end());
  std::vector<int64_t> strides;
  for (auto s : a.strides()) strides.push_back(s / isz);
  DType storage = a.dtype() == DType::BFloat16 ? DType::UInt16 : a.dtype();
  nb::ndarray<nb::numpy> nd(a.data(), a.ndim(), shape.data(), owner, strides.data(), to_dlpack_dtype(storage));
  nb::object r = nd.cast();
  if (a.dtype() == DType::BFloat16) {
    nb::object ml;
    try {
      ml = nb::module_::import_("ml_dtypes");
    } catch (const nb::python_error&) {
      throw nb::type_error("bfloat16 arrays need the ml_dtypes package to be returned to NumPy (pip install ml_dtypes)");
    }
    r = r.attr("view")(ml.attr("bfloat16"));
  }
  return r;
}

DType to_dtype(nb::handle dtype) {
  if (dtype.is_none()) return config().floatX;
  if (nb::isinstance<nb::str>(dtype)) return dtype_from_name(nb::cast<std::string>(dtype));
  nb::object d = numpy().attr("dtype")(dtype);
  return dtype_from_name(nb::cast<std::string>(nb::str(d)));
}

static bool is_py_scalar(nb::handle h) {
  return PyBool_Check(h.ptr()) || PyLong_Check(h.ptr()) || PyFloat_Check(h.ptr());
}

static ScalarKind scalar_kind(nb::handle h) {
  if (PyBool_Check(h.ptr())) return ScalarKind::Bool;
  if (PyLong_Check(h.ptr())) return ScalarKind::Int;
  return ScalarKind::Float;
}

static Var scalar_to_var(nb::handle h, std::optional<DType> other) {
  ScalarKind k = scalar_kind(h);
  if (k == ScalarKind::Int) {
    // Python ints may exceed int64; NumPy refuses those too.
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
    if (overflow) {
      unsigned long long u = PyLong_AsUnsignedLongLong(h.ptr());
      if (PyErr_Occurred()) {
        PyErr_Clear();
        throw nb::value_error("Python integer out of bounds for int64/uint64");
      }
      if (other && *other == DType::UInt64) return constant(Array::from_vector<uint64_t>({u}, {}));
      throw std::overflow_error("Python integer " + std::to_string(u) + " out of bounds for int64");
    }
    if (other) {
      // Exact for int64 (weak_scalar goes through double); range-checked otherwise.
      if (weak_scalar_dtype(k, *other) == DType::Int64)
        return constant(Array::from_vector<int64_t>({int64_t(v)}, {}));
      return weak_scalar(double(v), k, *other);
    }
    return constant(Array::from_vector<int64_t>({int64_t(v)}, {}));
  }
  double v = nb::cast<double>(h);
  if (other) return weak_scalar(v, k, *other);
  if (k == ScalarKind::Bool) return constant(v, DType::Bool);
  return constant(v, config().floatX);
}

Var to_var(nb::handle obj) {
  Var v;
  if (nb::try_cast(obj, v)) return v;
  if (is_py_scalar(obj)) return scalar_to_var(obj, std::nullopt);
  return constant(to_array(obj, "constant").copy());
}

std::vector<Var> to_vars(const std::vector<nb::handle>& objs) {
  std::vector<Var> out(objs.size());
  std::optional<DType> common;
  for (size_t i = 0; i < objs.size(); ++i) {
    if (is_py_scalar(objs[i])) continue;
    out[i] = to_var(objs[i]);
    common = common ? promote_types(*common, out[i].dtype()) : out[i].dtype();
  }
  for (size_t i = 0; i < objs.size(); ++i)
    if (!out[i].defined()) out[i] = scalar_to_var(objs[i], common);
  return out;
}

int64_t to_int(nb::handle h, const char* what) {
  if (PyBool_Check(h.ptr()) || !PyIndex_Check(h.ptr()))
    throw nb::type_error((std::string(what) + ": expected an integer, got " +
                          nb::cast<std::string>(nb::repr(h)) + " (" + nb::cast<std::string>(nb::type_name(h.type())) +
                          ")").c_str());
  nb::object i = nb::steal(PyNumber_Index(h.ptr()));
  if (!i.is_valid()) throw nb::python_error();
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if (overflow) throw nb::value_error((std::string(what) + ": integer " + nb::cast<std::string>(nb::repr(h)) +
                                      " is out of range").c_str());
  return int64_t(v);
}

static int to_axis_int(nb::handle h, nb::handle axis) {
  int64_t v = to_int(h, ("axis " + nb::cast<std::string>(nb::repr(axis))).c_str());
  if (v < INT32_MIN || v > INT32_MAX)
    throw nb::value_error(("axis " + std::to_string(v) + " is out of bounds").c_str());
  return int(v);
}

Axes to_axes(nb::handle axis) {
  if (axis.is_none()) return std::nullopt;
  if (nb::isinstance<nb::tuple>(axis) || nb::isinstance<nb::list>(axis)) {
    std::vector<int> r;
    for (nb::handle h : axis) r.push_back(to_axis_int(h, axis));
    return r;
  }
  Var v;
  if (nb::try_cast(axis, v)) {
    if (v.is_constant()) {
      auto vals = v.constant_value().to_int_vector();
      return std::vector<int>(vals.begin(), vals.end());
    }
    throw nb::type_error("axis must be known when the graph is built, not a symbolic variable");
  }
  if (PyIndex_Check(axis.ptr()) && !PyBool_Check(axis.ptr())) return std::vector<int>{to_axis_int(axis, axis)};
  // floats and other objects are refused, as NumPy does
  throw nb::type_error(("axis must be an int, a tuple of ints or None, got " +
                        nb::cast<std::string>(nb::repr(axis))).c_str());
}

std::vector<Var> to_shape(nb::handle shp) {
  Var v;
  if (nb::try_cast(shp, v)) {
    if (v.ndim() == 0) return {cast(v, DType::Int64)};
    if (v.ndim() != 1 || v.type().shape[0] == kUnknownDim || !is_integer(v.dtype()))
      throw nb::type_error("shape must be a tuple or an integer vector of known length");
    if (auto vals = static_int_vector(v)) {
      std::vector<Var> r;
      for (auto x : *vals) r.push_back(constant(double(x), DType::Int64));
      return r;
    }
    if (v.owner() && dynamic_cast<const MakeVector*>(v.owner()->op.get())) return v.owner()->inputs;
    throw nb::type_error("symbolic shape vectors are supported when built from scalars (e.g. x.shape)");
  }
  if (PyLong_Check(shp.ptr())) return {constant(double(to_int(shp, "shape")), DType::Int64)};
  if (!nb::isinstance<nb::tuple>(shp) && !nb::isinstance<nb::list>(shp)) {
    // numpy arrays / integers
    Array a = to_array(shp, "shape");
    if (!is_integer(a.dtype()) || a.ndim() > 1) throw nb::type_error("shape must contain integers");
    std::vector<Var> r;
    for (auto x : a.to_int_vector()) r.push_back(constant(double(x), DType::Int64));
    return r;
  }
  std::vector<Var> r;
  for (nb::handle h : shp) {
    Var e;
    if (nb::try_cast(h, e)) {
      if (e.ndim() != 0 || !is_integer(e.dtype()))
        throw nb::type_error(("shape entries must be integer scalars, got " + e.type().str()).c_str());
      r.push_back(cast(e, DType::Int64));
    } else {
      if (PyFloat_Check(h.ptr())) throw nb::type_error("shape entries must be integers, got a float");
      r.push_back(constant(double(to_int(h, "shape entry")), DType::Int64));
    }
  }
  return r;
}

}  // namespace theon::py

void init_runtime(nb::module_& m) {
  using namespace theon;
  // A bad argument to a compiled function is a TypeError, as in Theano (other
  // std::invalid_argument errors stay ValueError).
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const BadArgument& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const OutOfMemory& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const nb::cast_error&) {
      // A Python value of the wrong type reached a C++ conversion that was not guarded.
      PyErr_SetString(PyExc_TypeError, "theon: an argument has the wrong type (could not convert it to the C++ type)");
    }
  });
  m.def("config_get", [](const std::string& k) { return config().get(k); });
  m.def("config_set", [](const std::string& k, const std::string& v) { config().set(k, v); });
  m.def("promote_types", [](nb::handle a, nb::handle b) {
    return std::string(dtype_name(promote_types(py::to_dtype(a), py::to_dtype(b))));
  });
  m.def("as_array_roundtrip", [](nb::handle obj) { return py::to_numpy(py::to_array(obj)); },
        "Wraps a value as a theon Array and back (zero-copy both ways); for tests.");
  // DLPack import of CUDA tensors (python/theon/_dlpack.py): the stream the
  // producer is to order its work before (None under the emulator, which has
  // no streams), then the import itself, copied to the host.
  m.def("dlpack_cuda_stream", [](int device) -> nb::object {
    cuda::DeviceRuntime& rt = cuda::device_runtime(device);  // DeviceUnavailable naming the index
    if (rt.emulated()) return nb::none();
    return nb::int_(reinterpret_cast<uintptr_t>(cuda::device_stream(device).handle()));
  });
  m.def(
      "dlpack_to_host",
      [](nb::capsule cap) {
        if (!PyCapsule_IsValid(cap.ptr(), "dltensor"))
          throw nb::type_error(
              "from_dlpack: expected an unused DLPack capsule (a capsule can be consumed only "
              "once)");
        auto* t = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap.ptr(), "dltensor"));
        // Consumed: the Array below owns the tensor (and calls its deleter, here,
        // under the GIL, since the imported Array does not outlive this call).
        PyCapsule_SetName(cap.ptr(), "used_dltensor");
        PyCapsule_SetDestructor(cap.ptr(), nullptr);
        Array a = from_dlpack(t);
        return py::to_numpy(a.on_device() ? cuda::to_host(a) : a.copy());
      },
      "Imports a DLPack capsule and copies it to a new host array.");
  m.def("shares_memory_roundtrip", [](nb::handle obj) {
    Array a = py::to_array(obj);
    return reinterpret_cast<uintptr_t>(a.data());
  });
}
