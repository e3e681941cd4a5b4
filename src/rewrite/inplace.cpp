// inplace rewrites (being written).
#include "theon/rewrite/rewriter.h"

namespace theon {

void register_inplace_rewrites(RewriteDB&) {}

}  // namespace theon
