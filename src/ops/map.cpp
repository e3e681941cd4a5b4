// map_range: an inner graph evaluated once per index (a minimal scan).
#include "theon/ops/map.h"

#include <stdexcept>

#include "theon/ops/elemwise.h"

namespace theon {

MapRange::MapRange(Var index, std::vector<Var> inner_inputs, Var output)
    : index_(std::move(index)), inner_inputs_(std::move(inner_inputs)), output_(std::move(output)),
      id_(next_variable_id()) {}

std::vector<TensorType> MapRange::infer_type(const std::vector<Var>& ins) const {
  if (ins.size() != inner_inputs_.size() + 1)
    throw std::invalid_argument("[MapRange] expected " + std::to_string(inner_inputs_.size() + 1) + " inputs, got " +
                                std::to_string(ins.size()));
  if (ins[0].ndim() != 0 || !is_integer(ins[0].dtype()))
    throw std::invalid_argument("[MapRange] the length must be an integer scalar, got " + ins[0].type().str());
  std::vector<int64_t> shp{kUnknownDim};
  if (ins[0].is_constant()) shp[0] = ins[0].constant_value().item_int();
  for (auto d : output_.type().shape) shp.push_back(d);
  return {TensorType(output_.dtype(), shp)};
}

void MapRange::perform(const std::vector<Array>& ins, std::vector<Array>& outs) const {
  int64_t n = ins[0].item_int();
  if (n < 0) throw std::invalid_argument("[MapRange] negative length " + std::to_string(n));
  std::shared_ptr<Function> fn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fn_) {
      std::vector<In> fin{In(index_)};
      for (const auto& v : inner_inputs_) fin.emplace_back(v);
      FunctionOptions opt;
      opt.on_unused_input = "ignore";
      opt.device = "cpu";  // the inner graph runs inside this op's CPU perform, whatever config.device says
      fn_ = function(fin, {output_}, opt);
    }
    fn = fn_;
  }
  std::vector<Array> args(ins.size());
  for (size_t k = 1; k < ins.size(); ++k) args[k] = ins[k];
  Array out;
  for (int64_t i = 0; i < n; ++i) {
    args[0] = Array::scalar(DType::Int64, double(i));
    Array r = (*fn)(args)[0];
    if (i == 0) {
      Shape s{n};
      s.insert(s.end(), r.shape().begin(), r.shape().end());
      out = Array::empty(r.dtype(), s);
    } else if (r.ndim() != out.ndim() - 1 || !std::equal(r.shape().begin(), r.shape().end(), out.shape().begin() + 1)) {
      throw std::invalid_argument("[MapRange] iteration " + std::to_string(i) + " produced shape " +
                                  shape_str(r.shape()) + ", earlier iterations " +
                                  shape_str(Shape(out.shape().begin() + 1, out.shape().end())));
    }
    out.index(0, i).assign(r);
  }
  if (n == 0) {
    Shape s{0};
    for (auto d : output_.type().shape) s.push_back(d == kUnknownDim ? 0 : d);
    out = Array::empty(output_.dtype(), s);
  }
  outs[0] = out;
}

Var map_range(const Var& n, const std::function<Var(const Var&)>& body) {
  Var i = scalar(DType::Int64, "i");
  Var out = body(i);
  // Free variables of the body (other than i, constants and shared state) become op inputs.
  std::vector<Var> outer, inner;
  std::vector<std::pair<Var, Var>> rep;
  for (const Var& leaf : graph_inputs({out})) {
    if (leaf.is(i) || leaf.is_constant() || leaf.is_shared()) continue;
    Var p = variable(leaf.type(), leaf.name());
    outer.push_back(leaf);
    inner.push_back(p);
    rep.push_back({leaf, p});
  }
  Var inner_out = rep.empty() ? out : clone_replace({out}, rep)[0];
  std::vector<Var> ins{cast(n, DType::Int64)};
  ins.insert(ins.end(), outer.begin(), outer.end());
  return apply1(std::make_shared<MapRange>(i, inner, inner_out), ins);
}

}  // namespace theon
