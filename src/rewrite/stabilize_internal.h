// Private to the stabilize phase: the families of rewrites its files register.
#pragma once
#include "theon/rewrite/rewriter.h"

namespace theon::detail {

// log(softmax) -> log_softmax, softmax with the one-hot cross-entropy (the
// op, its indexing form and its gradient) -> the fused ops of nnet_fused.h.
void register_stabilize_softmax(RewriteDB& db);

}  // namespace theon::detail
