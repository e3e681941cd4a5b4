// Bindings of theon/datasets: the IDX reader and Fashion-MNIST.
#include "common.h"

using namespace theon;

void init_datasets(nb::module_& m) {
  m.def("read_idx", [](const std::string& path) { return py::to_numpy(read_idx(path)); });
  m.def("fashion_mnist_dir", &fashion_mnist_dir);
  m.def("fashion_mnist", [](const std::string& dir) {
    Dataset d = fashion_mnist(dir);
    return nb::make_tuple(nb::make_tuple(py::to_numpy(d.train_images), py::to_numpy(d.train_labels)),
                          nb::make_tuple(py::to_numpy(d.test_images), py::to_numpy(d.test_labels)));
  }, nb::arg("dir") = "");
}
