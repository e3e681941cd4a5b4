// Python bindings of the subtensor op family (filled in with the family).
#include "common.h"

void init_subtensor(nb::module_& m) { (void)m; }
