// Bindings of theon/nn/serialization.h into theon._core.nn: the theon model
// file and .npz, arrays passed as (name, array-like) pairs and returned as
// (name, NumPy array) pairs (python/theon/nn/serialization.py makes dicts).
#include <theon/nn/serialization.h>

#include "common.h"

using namespace theon;

namespace {

nb::module_ nn_submodule(nb::module_& m) {
  if (nb::hasattr(m, "nn")) return nb::borrow<nb::module_>(m.attr("nn"));
  return m.def_submodule("nn", "theon.nn core (C++): optimizers, schedules, weight files");
}

std::vector<nn::NamedArray> named_arrays(const std::vector<std::pair<std::string, nb::handle>>& items) {
  std::vector<nn::NamedArray> out;
  for (const auto& [name, value] : items) out.push_back({name, py::to_array(value, name.c_str())});
  return out;
}

nb::list to_pairs(const std::vector<nn::NamedArray>& arrays) {
  nb::list l;
  for (const auto& a : arrays) l.append(nb::make_tuple(a.name, py::to_numpy(a.value)));
  return l;
}

}  // namespace

void init_nn_io(nb::module_& m) {
  nb::module_ nm = nn_submodule(m);
  nm.def("save_model_file", [](const std::string& path, const std::string& metadata,
                               const std::vector<std::pair<std::string, nb::handle>>& arrays) {
           auto a = named_arrays(arrays);
           nb::gil_scoped_release release;
           nn::save_model_file(path, metadata, a);
         },
         nb::arg("path"), nb::arg("metadata"), nb::arg("arrays"));
  nm.def("load_model_file", [](const std::string& path) {
           nn::ModelFile f;
           {
             nb::gil_scoped_release release;
             f = nn::load_model_file(path);
           }
           // Bytes: the metadata is opaque to C++; Python decodes it (a clear error for bad UTF-8).
           return nb::make_tuple(nb::bytes(f.metadata.data(), f.metadata.size()), to_pairs(f.arrays));
         },
         nb::arg("path"));
  nm.def("save_npz", [](const std::string& path, const std::vector<std::pair<std::string, nb::handle>>& arrays) {
           auto a = named_arrays(arrays);
           nb::gil_scoped_release release;
           nn::save_npz(path, a);
         },
         nb::arg("path"), nb::arg("arrays"));
  nm.def("load_npz", [](const std::string& path) {
           std::vector<nn::NamedArray> a;
           {
             nb::gil_scoped_release release;
             a = nn::load_npz(path);
           }
           return to_pairs(a);
         },
         nb::arg("path"));
}
