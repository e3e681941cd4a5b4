// Model and Sequential: the layer graph, compile and the compiled functions.
#include "theon/nn/model.h"

#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "theon/graph/shared.h"
#include "theon/ops/elemwise.h"

namespace theon::nn {

Model::Model(std::vector<Var> inputs, Var output, std::string name) : name_(std::move(name)) {
  if (inputs.empty()) throw std::invalid_argument("[Model] needs at least one input");
  if (!output.defined()) throw std::invalid_argument("[Model] the output is undefined");
  std::unordered_map<const VariableNode*, int> ids;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].owner() || inputs[i].is_constant() || inputs[i].is_shared())
      throw std::invalid_argument("[Model] input " + std::to_string(i) + " is not a symbolic input (use nn::Input)");
    ids[inputs[i].get()] = int(i);
  }
  // Depth-first from the output through the recorded layer calls; an explicit
  // stack keeps deep models off the C++ stack.
  std::vector<std::pair<Var, bool>> stack{{output, false}};
  while (!stack.empty()) {
    auto [v, expanded] = stack.back();
    stack.pop_back();
    if (ids.count(v.get())) continue;
    const LayerCall* call = producing_call(v);
    if (!call)
      throw std::invalid_argument("[Model] " + v.str() +
                                  " was not computed by layers called on the model's inputs; build the model "
                                  "from nn::Input tensors and layer calls only");
    if (!expanded) {
      stack.push_back({v, true});
      for (const auto& in : call->inputs)
        if (!ids.count(in.get())) stack.push_back({in, false});
      continue;
    }
    Node n{call->layer, {}};
    for (const auto& in : call->inputs) n.inputs.push_back(ids.at(in.get()));
    ids[v.get()] = int(inputs.size() + nodes_.size());
    nodes_.push_back(std::move(n));
  }
  for (const auto& n : nodes_) {
    bool seen = false;
    for (const auto& l : layers_) seen = seen || l == n.layer;
    if (!seen) layers_.push_back(n.layer);
  }
  inputs_ = std::move(inputs);
  output_ = output;
}

Var Model::apply(const std::vector<Var>& inputs, bool training) {
  if (inputs.size() != inputs_.size())
    throw std::invalid_argument("[" + class_name() + " '" + name_ + "'] expected " + std::to_string(inputs_.size()) +
                                " inputs, got " + std::to_string(inputs.size()));
  std::vector<Var> t = inputs;
  for (const auto& n : nodes_) {
    std::vector<Var> in;
    for (int i : n.inputs) in.push_back(t[size_t(i)]);
    t.push_back(n.layer->call(in, training));
  }
  return t.back();
}

void Model::set_graph(std::vector<Var> inputs, Var output) {
  inputs_ = std::move(inputs);
  output_ = std::move(output);
}

void Model::build_for(const std::vector<Array>&) {}

LayerPtr Model::get_layer(const std::string& name) const {
  for (const auto& l : layers_)
    if (l->name() == name) return l;
  throw std::invalid_argument("[" + class_name() + " '" + name_ + "'] no layer named '" + name + "'");
}

std::vector<Var> Model::params() const {
  std::vector<Var> r;
  for (const auto& l : layers_)
    for (const auto& w : l->trainable_weights()) r.push_back(w);
  return r;
}

std::vector<Var> Model::weights() const {
  std::vector<Var> r;
  for (const auto& l : layers_)
    for (const auto& w : l->weights()) r.push_back(w);
  return r;
}

std::vector<Array> Model::get_weights() const {
  std::vector<Array> r;
  for (const auto& w : weights()) r.push_back(get_value(w));
  return r;
}

void Model::set_weights(const std::vector<Array>& values) {
  auto ws = weights();
  if (values.size() != ws.size())
    throw std::invalid_argument("[set_weights] expected " + std::to_string(ws.size()) + " arrays, got " +
                                std::to_string(values.size()));
  for (size_t i = 0; i < ws.size(); ++i) {
    Array cur = get_value(ws[i], true);
    if (cur.shape() != values[i].shape())
      throw std::invalid_argument("[set_weights] " + ws[i].name() + ": shape mismatch");
  }
  for (size_t i = 0; i < ws.size(); ++i) set_value(ws[i], values[i].astype(get_value(ws[i], true).dtype()));
}

int64_t Model::count_params() const {
  int64_t n = 0;
  for (const auto& w : weights()) n += get_value(w, true).size();
  return n;
}

void Model::compile(OptimizerPtr optimizer, LossSpec loss, std::vector<std::string> metrics) {
  if (!optimizer) throw std::invalid_argument("[compile] an optimizer is required");
  std::vector<std::string> keys;
  for (const auto& m : metrics) keys.push_back(metric_by_name(m, loss).name);  // validates the names
  optimizer_ = std::move(optimizer);
  loss_ = std::move(loss);
  metric_names_ = std::move(metrics);
  metric_keys_ = std::move(keys);
  train_fn_.reset();
  test_fn_.reset();
  target_ = Var();
}

Var Model::target_var() {
  if (!target_.defined()) {
    int nd = output_.ndim() - (loss_.sparse_targets() ? 1 : 0);
    std::vector<int64_t> shape(size_t(std::max(nd, 0)), -1);
    target_ = tensor(loss_.sparse_targets() ? DType::Int64 : output_.dtype(), shape, "y_true");
  }
  return target_;
}

namespace {
// The loss (with the layers' weight penalties) and the metrics of a compiled
// model on `y_pred`, and the inputs of a function computing them.
struct LossGraph {
  std::vector<In> ins;
  std::vector<Var> outs;  // loss, then one per metric
};
}  // namespace

static LossGraph loss_graph(const std::vector<Var>& inputs, const std::vector<LayerPtr>& layers,
                            const LossSpec& loss_fn, const std::vector<std::string>& metric_names, const Var& y_true,
                            const Var& y_pred) {
  Var loss = loss_fn(y_true, y_pred);
  for (const auto& l : layers) {
    Var r = l->regularization_loss();
    if (r.defined()) loss = loss + cast(r, loss.dtype());
  }
  LossGraph g;
  g.outs.push_back(loss);
  for (const auto& m : metric_names) g.outs.push_back(metric_by_name(m, loss_fn).fn(y_true, y_pred));
  g.ins.assign(inputs.begin(), inputs.end());
  g.ins.emplace_back(y_true);
  return g;
}

std::shared_ptr<Function> Model::train_function() {
  if (!compiled()) throw std::logic_error("[" + class_name() + " '" + name_ + "'] call compile() before fit()");
  if (train_fn_) return train_fn_;
  Var y_pred = apply(inputs_, true);
  LossGraph g = loss_graph(inputs_, layers_, loss_, metric_names_, target_var(), y_pred);
  FunctionOptions o;
  o.updates = optimizer_->get_updates(g.outs[0], params());
  for (const auto& l : layers_)
    for (const auto& u : l->updates()) o.updates.push_back(u);
  o.name = name_ + "/train";
  train_fn_ = function(g.ins, g.outs, o);
  return train_fn_;
}

std::shared_ptr<Function> Model::test_function() {
  if (!compiled()) throw std::logic_error("[" + class_name() + " '" + name_ + "'] call compile() before evaluate()");
  if (test_fn_) return test_fn_;
  LossGraph g = loss_graph(inputs_, layers_, loss_, metric_names_, target_var(), apply(inputs_, false));
  FunctionOptions o;
  o.name = name_ + "/test";
  test_fn_ = function(g.ins, g.outs, o);
  return test_fn_;
}

std::shared_ptr<Function> Model::predict_function() {
  if (!built()) throw std::logic_error("[" + class_name() + " '" + name_ + "'] the model is not built yet");
  if (predict_fn_) return predict_fn_;
  FunctionOptions o;
  o.name = name_ + "/predict";
  std::vector<In> ins(inputs_.begin(), inputs_.end());
  predict_fn_ = function(ins, {apply(inputs_, false)}, o);
  return predict_fn_;
}

std::string Model::summary() const {
  std::ostringstream s;
  char line[200];
  s << "Model: \"" << name_ << "\" (" << class_name() << ")\n";
  std::snprintf(line, sizeof line, "%-30s %-24s %10s\n", "Layer (type)", "Output shape", "Params");
  s << line << std::string(66, '-') << "\n";
  // Output shapes from the static types of the inference graph.
  std::vector<std::string> shapes(layers_.size());
  if (built()) {
    std::vector<Var> t = inputs_;
    auto record = [&](const LayerPtr& l, const Var& out) {
      for (size_t i = 0; i < layers_.size(); ++i)
        if (layers_[i] == l && shapes[i].empty()) {
          std::string sh = "(";
          for (int d = 0; d < out.ndim(); ++d) {
            int64_t n = out.type().shape[size_t(d)];
            sh += (d ? ", " : "") + (n < 0 ? std::string("None") : std::to_string(n));
          }
          shapes[i] = sh + (out.ndim() == 1 ? ",)" : ")");
        }
    };
    if (nodes_.empty()) {
      Var x = inputs_[0];
      for (const auto& l : layers_) record(l, x = l->call(x, false));
    } else {
      for (const auto& n : nodes_) {
        std::vector<Var> in;
        for (int i : n.inputs) in.push_back(t[size_t(i)]);
        t.push_back(n.layer->call(in, false));
        record(n.layer, t.back());
      }
    }
  }
  for (size_t i = 0; i < layers_.size(); ++i) {
    int64_t n = 0;
    for (const auto& w : layers_[i]->weights()) n += get_value(w, true).size();
    std::snprintf(line, sizeof line, "%-30s %-24s %10lld\n",
                  (layers_[i]->name() + " (" + layers_[i]->class_name() + ")").c_str(), shapes[i].c_str(),
                  static_cast<long long>(n));
    s << line;
  }
  int64_t trainable = 0;
  for (const auto& p : params()) trainable += get_value(p, true).size();
  s << std::string(66, '-') << "\nTotal params: " << count_params() << " (trainable " << trainable << ")\n";
  return s.str();
}

// ---- Sequential ----
Sequential::Sequential(std::vector<LayerPtr> layers, std::string name) : Model(std::move(name)) {
  for (auto& l : layers) add(std::move(l));
}

void Sequential::add(LayerPtr layer) {
  if (!layer) throw std::invalid_argument("[Sequential] cannot add a null layer");
  for (const auto& l : layers_)
    if (l == layer) throw std::invalid_argument("[Sequential] layer '" + layer->name() + "' is already in the model");
  if (built())
    throw std::logic_error("[Sequential] cannot add layers after the model is built");
  layers_.push_back(std::move(layer));
}

Var Sequential::apply(const std::vector<Var>& inputs, bool training) {
  if (inputs.size() != 1)
    throw std::invalid_argument("[Sequential '" + name_ + "'] expected 1 input, got " + std::to_string(inputs.size()));
  Var x = inputs[0];
  for (const auto& l : layers_) x = l->call(x, training);
  return x;
}

void Sequential::build(const std::vector<int64_t>& input_shape, DType dtype) {
  if (built()) return;
  if (layers_.empty()) throw std::logic_error("[Sequential '" + name_ + "'] has no layers");
  Var in = Input(input_shape, dtype, "input");
  Var out = apply({in}, false);
  input_shape_ = input_shape;
  input_dtype_ = dtype;
  set_graph({in}, out);
}

void Sequential::build_for(const std::vector<Array>& x) {
  if (built()) return;
  if (x.size() != 1)
    throw std::invalid_argument("[Sequential '" + name_ + "'] expected 1 input array, got " + std::to_string(x.size()));
  if (x[0].ndim() < 1) throw std::invalid_argument("[Sequential '" + name_ + "'] inputs need a batch dimension");
  std::vector<int64_t> shape(x[0].shape().begin() + 1, x[0].shape().end());
  DType d = x[0].dtype();
  if (!is_integer(d)) d = DType::Float32;  // float data trains a float32 model, as in Keras
  build(shape, d);
}

}  // namespace theon::nn
