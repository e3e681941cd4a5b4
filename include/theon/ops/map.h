// theon/ops/map.h — map_range: evaluate a graph once per index and stack the results.
//
// A minimal form of Theano's scan: map_range(n, body) builds body(i) once on
// a symbolic int64 index i, and its Op evaluates that inner graph for
// i = 0 .. n-1, stacking the results along a new leading axis. jacobian and
// hessian use it so that the length of the differentiated vector need not be
// known when the graph is built.
#pragma once
#include <functional>
#include <memory>
#include <mutex>

#include "theon/compile/function.h"
#include "theon/graph/node.h"

namespace theon {

class MapRange : public Op {
 public:
  // `index` is the inner int64 scalar; `inner_inputs` are inner placeholders
  // for the op's inputs after n; `output` is the inner result.
  MapRange(Var index, std::vector<Var> inner_inputs, Var output);
  std::string name() const override { return "MapRange"; }
  std::string props() const override { return std::to_string(id_); }
  std::vector<TensorType> infer_type(const std::vector<Var>& inputs) const override;
  void perform(const std::vector<Array>& inputs, std::vector<Array>& outputs) const override;
  const Var& inner_output() const { return output_; }

 private:
  Var index_;
  std::vector<Var> inner_inputs_;
  Var output_;
  uint64_t id_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<Function> fn_;
};

// Stacks body(i) for i in [0, n); n is an integer scalar.
Var map_range(const Var& n, const std::function<Var(const Var&)>& body);

}  // namespace theon
