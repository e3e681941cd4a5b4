// Python bindings of the random op family (filled in with the family).
#include "common.h"

void init_random(nb::module_& m) { (void)m; }
