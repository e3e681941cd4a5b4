// elemwise_inplace: elementwise nodes (Elemwise, Composite) that may write
// their result into an input's buffer instead of a new one.
//
// The static test picks an input nothing else can observe: computed by the
// graph (not a function input, constant or shared variable), not a graph
// output (outputs and updates are returned or stored), read by this node only,
// of the output's dtype and never broadcast against the output. The inplace
// op checks again at run time (the buffer has no other holder, the shape is
// the output's, the layout is C-contiguous) and computes into a new buffer
// otherwise, so the static test only decides where reuse is attempted.
#include "theon/ops/composite.h"
#include "theon/rewrite/rewriter.h"

namespace theon {

namespace {

bool destroyable(const FunctionGraph& fg, const Var& v) {
  if (!v.owner() || v.is_constant() || v.is_shared()) return false;
  const auto& cs = fg.clients(v);
  return cs.size() == 1 && cs[0].node != nullptr;
}

// The input's static shape cannot be smaller than the output's.
bool covers(const TensorType& in, const TensorType& out) {
  if (in.ndim() != out.ndim()) return false;
  for (int d = 0; d < in.ndim(); ++d)
    if (in.shape[size_t(d)] == 1 && out.shape[size_t(d)] != 1) return false;
  return true;
}

std::shared_ptr<const Op> inplace_variant(const FunctionGraph& fg, const ApplyNode& n) {
  if (const auto* e = dynamic_cast<const Elemwise*>(n.op.get())) {
    if (e->inplace_input() >= 0) return nullptr;
    std::vector<DType> ds;
    for (const Var& v : n.inputs) ds.push_back(v.dtype());
    if (elemwise_is_exact_int_cmp(e->scalar_op(), ds)) return nullptr;
    const TensorType& out = n.outputs[0].type;
    // The kernel writes its result directly only when it runs in the output dtype.
    const ScalarOpInfo& info = scalar_op_info(e->scalar_op());
    bool pred = info.rule == TypeRule::CMP || info.rule == TypeRule::PRED;
    DType kernel_out = pred ? DType::Bool : elemwise_kernel_dtype(e->scalar_op(), ds);
    if (kernel_out != out.dtype) return nullptr;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const Var& v = n.inputs[i];
      if (v.dtype() == out.dtype && covers(v.type(), out) && destroyable(fg, v))
        return std::make_shared<Elemwise>(e->scalar_op(), int(i));
    }
    return nullptr;
  }
  if (const auto* c = dynamic_cast<const Composite*>(n.op.get())) {
    if (!c->inplace().empty()) return nullptr;
    std::vector<int> dest(n.outputs.size(), -1);
    std::vector<bool> taken(n.inputs.size(), false);
    bool any = false;
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      const TensorType& out = n.outputs[k].type;
      for (size_t i = 0; i < n.inputs.size(); ++i) {
        const Var& v = n.inputs[i];
        if (taken[i] || v.dtype() != out.dtype || !covers(v.type(), out) || !destroyable(fg, v)) continue;
        dest[k] = int(i);
        taken[i] = true;
        any = true;
        break;
      }
    }
    if (!any) return nullptr;
    return std::make_shared<Composite>(c->program(), dest);
  }
  return nullptr;
}

int make_inplace(FunctionGraph& fg) {
  int changed = 0;
  for (ApplyNode* n : fg.toposort()) {
    if (!fg.contains(n)) continue;
    std::shared_ptr<const Op> op = inplace_variant(fg, *n);
    if (!op) continue;
    std::vector<Var> outs = theon::apply(op, n->inputs);
    std::vector<std::pair<Var, Var>> pairs;
    for (size_t k = 0; k < outs.size(); ++k) {
      outs[k].set_name(n->outputs[k].name);
      pairs.push_back({n->output(int(k)), outs[k]});
    }
    fg.replace_all(pairs, "elemwise_inplace");
    ++changed;
  }
  return changed;
}

}  // namespace

void register_inplace_rewrites(RewriteDB& db) {
  db.global("elemwise_inplace", Phase::Inplace, {kFastRun, "inplace"},
            "elementwise node -> its inplace variant where an input buffer is dead after it (saves an allocation)",
            make_inplace);
}

}  // namespace theon
