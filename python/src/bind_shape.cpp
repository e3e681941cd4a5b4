// Python bindings of the shape op family (filled in with the family).
#include "common.h"

void init_shape(nb::module_& m) { (void)m; }
