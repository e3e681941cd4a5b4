// Python bindings of the linalg op family (filled in with the family).
#include "common.h"

void init_linalg(nb::module_& m) { (void)m; }
