// Python bindings of the sort op family (filled in with the family).
#include "common.h"

void init_sort(nb::module_& m) { (void)m; }
