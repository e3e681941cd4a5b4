// fusion rewrites (being written).
#include "theon/rewrite/rewriter.h"

namespace theon {

void register_fusion_rewrites(RewriteDB&) {}

}  // namespace theon
