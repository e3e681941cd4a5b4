// Private to the specialize phase: the families of rewrites its files register.
#pragma once
#include "theon/rewrite/rewriter.h"

namespace theon::detail {

// z + a * dot(x, y) and friends -> Gemm / Gemv / Ger (specialize_gemm.cpp).
void register_specialize_gemm(RewriteDB& db);

}  // namespace theon::detail
