// specialize rewrites (being written).
#include "theon/rewrite/rewriter.h"

namespace theon {

void register_specialize_rewrites(RewriteDB&) {}

}  // namespace theon
