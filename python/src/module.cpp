// The theon._core extension: every family registers its bindings here.
#include "common.h"

void init_scan(nb::module_& m);  // bind_scan.cpp

NB_MODULE(_core, m) {
  m.doc() = "theon core (C++) — use the `theon` package, not this module directly";
  init_runtime(m);
  init_graph(m);
  init_elemwise(m);
  init_reduce(m);
  init_function(m);
  init_printing(m);
  init_shape(m);
  init_creation(m);
  init_subtensor(m);
  init_linalg(m);
  init_sort(m);
  init_nnet(m);
  init_random(m);
  init_autodiff(m);
  init_datasets(m);
  init_control(m);
  init_scan(m);
  { void init_nn_optim(nb::module_&); init_nn_optim(m); }
  { void init_nn_io(nb::module_&); init_nn_io(m); }
  { void init_nn(nb::module_&); init_nn(m); }
  init_cuda(m);
  { void init_nn_recurrent(nb::module_&); init_nn_recurrent(m); }
}
