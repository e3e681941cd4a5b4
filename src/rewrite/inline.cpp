// inline_op_from_graph: an OpFromGraph node is replaced by its inner graph
// built on the node's inputs, so the other rewrites (merge, fusion, ...) see
// through it. FAST_RUN only; FAST_COMPILE and None run the op as a unit.
#include "theon/ops/op_from_graph.h"
#include "theon/rewrite/rewriter.h"

namespace theon {

void register_inline_rewrites(RewriteDB& db) {
  db.local("inline_op_from_graph", Phase::Canonicalize, {key<OpFromGraph>()}, {kFastRun},
           "OpFromGraph(inner)(x) -> inner(x) (lets the other rewrites optimize across it)",
           [](FunctionGraph&, ApplyNode& n) -> std::vector<Var> {
             const auto& op = static_cast<const OpFromGraph&>(*n.op);
             return op.expand(n.inputs);
           });
}

}  // namespace theon
