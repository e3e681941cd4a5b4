// elemwise_reduce_fusion: reduce(elementwise(...)) over the trailing axes ->
// one CompositeReduce, which never materializes the elementwise result whole
// (see theon/ops/composite_reduce.h). Runs after elemwise_fusion, so the
// producer is a Composite (or a single Elemwise/Cast, wrapped in a
// one-instruction program); only a producer read by the reduction alone is
// taken, so no work is duplicated.
#include "theon/ops/composite_reduce.h"
#include "theon/rewrite/rewriter.h"

namespace theon {

namespace {

// The producer of `v` as a single-output Composite, or null.
std::shared_ptr<const Composite> as_composite(const ApplyNode& p) {
  if (p.outputs.size() != 1) return nullptr;
  if (auto c = std::dynamic_pointer_cast<const Composite>(p.op)) return c->program().outputs.size() == 1 ? c : nullptr;
  ScalarProgram prog;
  for (const Var& in : p.inputs) prog.inputs.push_back(in.dtype());
  ScalarInstr ins;
  if (auto* cast = dynamic_cast<const Cast*>(p.op.get())) {
    if (p.inputs.size() != 1) return nullptr;
    ins.is_cast = true;
    ins.to = cast->to();
  } else if (auto* e = dynamic_cast<const Elemwise*>(p.op.get())) {
    if (e->inplace_input() >= 0 || (p.inputs.size() == 2 && elemwise_is_exact_int_cmp(e->scalar_op(), prog.inputs)))
      return nullptr;
    ins.op = e->scalar_op();
  } else {
    return nullptr;
  }
  for (size_t i = 0; i < p.inputs.size(); ++i) ins.args.push_back(int(i));
  prog.instrs.push_back(ins);
  prog.outputs.push_back(int(p.inputs.size()));
  try {
    auto c = std::make_shared<const Composite>(std::move(prog));
    if (c->value_dtype(int(p.inputs.size())) != p.outputs[0].type.dtype) return nullptr;
    return c;
  } catch (const std::exception&) {
    return nullptr;  // a program Composite does not take
  }
}

int fuse_reductions(FunctionGraph& fg) {
  int fused = 0;
  for (ApplyNode* n : fg.toposort()) {
    if (!fg.contains(n)) continue;
    auto red = std::dynamic_pointer_cast<const Reduce>(n->op);
    if (!red || n->inputs.size() != 1 || n->outputs.size() != 1) continue;
    const Var& v = n->inputs[0];
    ApplyNode* p = v.owner();
    if (!p || fg.is_output(v) || fg.clients(v).size() != 1) continue;
    const int nd = v.ndim(), k = int(red->axes().size());
    if (k == 0 || k >= nd) continue;  // at least one leading axis kept
    bool trailing = true;
    for (int i = 0; i < k; ++i) trailing = trailing && red->axes()[size_t(i)] == nd - k + i;
    if (!trailing) continue;
    auto comp = as_composite(*p);
    if (!comp) continue;
    Var fusedv = apply1(std::make_shared<CompositeReduce>(comp, red), p->inputs);
    if (!(fusedv.type() == n->outputs[0].type)) continue;
    fg.replace(n->output(0), fusedv, "elemwise_reduce_fusion");
    ++fused;
  }
  return fused;
}

}  // namespace

void register_reduce_fusion(RewriteDB& db) {
  db.global("elemwise_reduce_fusion", Phase::Fusion, {kFastRun, "fusion"},
            "reduce(elementwise(x), trailing axes) -> CompositeReduce (rows computed and reduced in cache, "
            "the elementwise result never materialized)",
            fuse_reductions);
}

}  // namespace theon
