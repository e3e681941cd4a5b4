// Writing through an index: IncSubtensor (set_subtensor / inc_subtensor for
// basic and advanced indices) and numpy.take.
#include <stdexcept>

#include "subtensor_impl.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/shape.h"

namespace theon {

using namespace subtensor_detail;

std::string IncSubtensor::name() const {
  return std::string(pattern_is_advanced(p_) ? "AdvancedIncSubtensor{" : "IncSubtensor{") +
         (set_ ? "set; " : "inc; ") + pattern_str(p_) + "}";
}

std::vector<TensorType> IncSubtensor::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() < 2) throw std::invalid_argument("[" + name() + "] expected x and y inputs");
  const TensorType& x = ins[0].type();
  const TensorType& y = ins[1].type();
  TensorType sub = index_result_type(name(), x, p_, ins, 2);
  if (y.ndim() > sub.ndim())
    throw std::invalid_argument("[" + name() + "] cannot " + (set_ ? "set" : "increment") + " a " +
                                std::to_string(sub.ndim()) + "-dimensional subtensor " +
                                sub.str() + " with a " + std::to_string(y.ndim()) +
                                "-dimensional value " + y.str());
  for (int i = 0; i < y.ndim(); ++i) {
    int64_t d = y.shape[i], s = sub.shape[sub.ndim() - y.ndim() + i];
    if (d != kUnknownDim && d != 1 && s != kUnknownDim && d != s)
      throw std::invalid_argument("[" + name() + "] shape mismatch: value of type " + y.str() +
                                  " cannot be broadcast to the indexed subtensor " + sub.str());
  }
  return {x};
}

void IncSubtensor::perform(const std::vector<Array>& in, std::vector<Array>& out) const {
  Array r = in[0].copy();
  const Array& y = in[1];
  auto fit = [&](const Shape& target) {
    bool ok = y.ndim() <= int(target.size());
    for (int i = 0; ok && i < y.ndim(); ++i) {
      int64_t d = y.shape()[i], s = target[target.size() - y.ndim() + i];
      ok = d == 1 || d == s;
    }
    if (!ok)
      throw std::invalid_argument("[" + name() + "] shape mismatch: value array of shape " +
                                  shape_str(y.shape()) +
                                  " could not be broadcast to indexing result of shape " +
                                  shape_str(target));
    return y.contiguous(r.dtype()).broadcast_to(target);
  };
  if (pattern_is_advanced(p_)) {
    AdvPlan plan = make_adv_plan(name(), r, p_, in, 2);
    adv_scatter(plan, fit(plan.out_shape), !set_);
  } else {
    Array v = basic_view(name(), r, p_, in, 2);
    Array yv = fit(v.shape());
    if (set_) v.assign(yv);
    else v.assign(elemwise_eval(ScalarOpId::add, {v, yv}));
  }
  out[0] = r;
}

std::optional<ShapeExprs> IncSubtensor::infer_shape(const ApplyNode&, const ShapeExprs& in) const {
  return ShapeExprs{in[0]};
}

namespace {

Var inc_or_set(const char* who, const Var& x, const Index& idx, const Var& y, bool set) {
  if (!x.defined() || !y.defined())
    throw std::invalid_argument(std::string("[") + who + "] undefined input");
  Var sub = subtensor(x, idx);
  const ApplyNode* node = sub.owner();
  if (!node || !(dynamic_cast<const Subtensor*>(node->op.get()) ||
                 dynamic_cast<const AdvancedSubtensor*>(node->op.get())))
    throw std::invalid_argument(std::string("[") + who + "] cannot write through this index of " +
                                x.type().str());
  return set ? set_subtensor(sub, y) : inc_subtensor(sub, y);
}

Var from_sub(const char* who, const Var& x_sub, const Var& y, bool set) {
  if (!x_sub.defined() || !y.defined())
    throw std::invalid_argument(std::string("[") + who + "] undefined input");
  const ApplyNode* node = x_sub.owner();
  const IndexPattern* p = nullptr;
  if (node) {
    if (auto* s = dynamic_cast<const Subtensor*>(node->op.get())) p = &s->pattern();
    if (auto* s = dynamic_cast<const AdvancedSubtensor*>(node->op.get())) p = &s->pattern();
  }
  if (!p)
    throw std::invalid_argument(std::string("[") + who +
                                "] the first argument must be the result of indexing, x[idx]; got " +
                                x_sub.str());
  std::vector<Var> ins{node->inputs[0], y};
  ins.insert(ins.end(), node->inputs.begin() + 1, node->inputs.end());
  return make1<IncSubtensor>(ins, *p, set);
}

}  // namespace

Var set_subtensor(const Var& x, const Index& idx, const Var& y) {
  return inc_or_set("set_subtensor", x, idx, y, true);
}
Var inc_subtensor(const Var& x, const Index& idx, const Var& y) {
  return inc_or_set("inc_subtensor", x, idx, y, false);
}
Var set_subtensor(const Var& x_sub, const Var& y) { return from_sub("set_subtensor", x_sub, y, true); }
Var inc_subtensor(const Var& x_sub, const Var& y) { return from_sub("inc_subtensor", x_sub, y, false); }

Var take(const Var& a, const Var& indices, std::optional<int> axis) {
  if (!a.defined() || !indices.defined()) throw std::invalid_argument("[take] undefined input");
  Var ind = indices;
  if (ind.dtype() == DType::Bool) ind = cast(ind, DType::Int64);  // NumPy takes True as 1
  if (!is_integer(ind.dtype()))
    throw std::invalid_argument("[take] indices must be integers, got " + ind.type().str());
  if (!axis) return subtensor(flatten(a, 1), {IndexItem::array(ind)});
  int ax = normalize_axis(*axis, a.ndim(), "take");
  Index idx(ax, IndexItem::slice());
  idx.push_back(IndexItem::array(ind));
  return subtensor(a, idx);
}

}  // namespace theon
