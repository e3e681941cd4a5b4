// constant_folding: a node whose inputs are all constants is computed once,
// at compile time, and replaced by its value — unless the value would be much
// larger than its inputs (alloc(0, 10000, 10000) stays an alloc), or the op
// fails (the error is then raised by the call, where the user expects it).
#include <algorithm>

#include "theon/rewrite/rewriter.h"

namespace theon {

namespace {

// Results up to this many bytes are always folded; larger ones only when they
// are no larger than the constants they are computed from.
constexpr size_t kFoldBytes = size_t(1) << 16;

bool small_enough(size_t out_bytes, size_t in_bytes) { return out_bytes <= std::max(kFoldBytes, in_bytes); }

std::vector<Var> fold(FunctionGraph&, ApplyNode& n) {
  size_t in_bytes = 0;
  for (const auto& in : n.inputs) {
    if (!in.is_constant()) return {};
    in_bytes += in.constant_value().nbytes();
  }
  // Refuse early when the static output shapes already say the result is too big.
  for (const auto& o : n.outputs) {
    int64_t size = 1;
    bool known = true;
    for (int64_t d : o.type.shape) {
      if (d < 0) known = false;
      else size *= d;
    }
    if (known && !small_enough(size_t(size) * itemsize(o.type.dtype), in_bytes)) return {};
  }
  std::vector<Array> ins, outs(n.outputs.size());
  for (const auto& in : n.inputs) ins.push_back(in.constant_value());
  try {
    n.op->perform(ins, outs);
  } catch (const std::exception&) {
    return {};  // left for the call to report
  }
  std::vector<Var> repl;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].defined() || !small_enough(outs[i].nbytes(), in_bytes)) return {};
    if (outs[i].dtype() != n.outputs[i].type.dtype || outs[i].ndim() != n.outputs[i].type.ndim()) return {};
    repl.push_back(constant(outs[i].copy()));
  }
  return repl;
}

}  // namespace

void register_constant_folding(RewriteDB& db) {
  db.local("constant_folding", Phase::Canonicalize, {}, {kFastRun, kFastCompile},
           "f(constants) -> its value, computed once at compile time (results up to 64 KiB or the inputs' size)",
           fold);
}

}  // namespace theon
