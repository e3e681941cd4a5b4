// Python bindings of the creation op family (filled in with the family).
#include "common.h"

void init_creation(nb::module_& m) { (void)m; }
