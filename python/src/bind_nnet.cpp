// Python bindings of the nnet op family (filled in with the family).
#include "common.h"

void init_nnet(nb::module_& m) { (void)m; }
