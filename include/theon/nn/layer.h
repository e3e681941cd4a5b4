// theon/nn/layer.h — the Layer base class, weight regularizers and the layer registry.
//
// A layer maps symbolic tensors to a symbolic tensor and owns its parameters
// as shared variables named "<layer>/<param>". Parameters are created on the
// first call from the inputs' static shapes (Keras' lazy build), so a layer
// needs no input size up front. call(inputs, training) builds the training
// graph (dropout active, batch statistics) or the inference graph; state a
// training call updates (BatchNorm's moving averages) is returned by
// updates() as Theano-style (shared, new value) pairs that the model's
// compiled training function applies.
//
// Calling a layer on symbolic tensors with operator() is the functional API:
// the call is recorded, so Model(inputs, outputs) can find the layers between
// them and rebuild the graph for training or inference. Every layer has a
// JSON config from which layer_from_config() rebuilds it (the saved architecture).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "theon/compile/function.h"
#include "theon/graph/node.h"
#include "theon/nn/initializers.h"
#include "theon/nn/json.h"

namespace theon::nn {

// L1/L2 penalty on a weight: l1 * sum(|w|) + l2 * sum(w^2), added to the loss.
struct Regularizer {
  double l1 = 0, l2 = 0;
  bool active() const { return l1 != 0 || l2 != 0; }
  Var operator()(const Var& w) const;
  Json to_json() const;
  static Regularizer from_json(const Json& j);  // null -> none
};
inline Regularizer l1(double v) { return {v, 0}; }
inline Regularizer l2(double v) { return {0, v}; }
inline Regularizer l1_l2(double a, double b) { return {a, b}; }

class Layer : public std::enable_shared_from_this<Layer> {
 public:
  // An empty name becomes "<class>_<n>" (dense, dense_1, ...) on first use.
  explicit Layer(std::string name = "") : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // The registry key: "Dense", "Conv2D", ...
  virtual std::string class_name() const = 0;
  const std::string& name() const;

  // Functional API: applies the layer in inference mode and records the call
  // (for Model(inputs, outputs)). The layer must be held by a shared_ptr.
  Var operator()(const Var& x);
  Var operator()(const std::vector<Var>& xs);
  // Builds the graph of the layer on `inputs` (building the parameters on the
  // first call). A training call records the state updates, see updates().
  Var call(const std::vector<Var>& inputs, bool training);
  Var call(const Var& x, bool training) { return call(std::vector<Var>{x}, training); }

  bool built() const { return built_; }
  const std::vector<Var>& trainable_weights() const { return trainable_; }
  const std::vector<Var>& non_trainable_weights() const { return non_trainable_; }
  // Trainable then non-trainable weights.
  std::vector<Var> weights() const;
  // Sum of the regularizer penalties on this layer's weights (undefined: none).
  Var regularization_loss() const;
  // The state updates of the last training call.
  const Updates& updates() const { return updates_; }
  // Extra arguments this layer needs per call (none by default).
  virtual int num_inputs() const { return 1; }

  // {"name": ...} plus the constructor arguments; layer_from_config inverts it.
  virtual Json get_config() const;

 protected:
  // Creates the parameters from the inputs' static types (-1: unknown).
  virtual void build(const std::vector<TensorType>& input_types);
  virtual Var forward(const std::vector<Var>& inputs, bool training) = 0;
  // Creates a parameter "<layer>/<pname>" drawn by `init` with a fresh seed.
  Var add_weight(const std::string& pname, const std::vector<int64_t>& shape, const Initializer& init,
                 bool trainable = true, const Regularizer& reg = {});
  // Static size of dim `axis` of `t`, or an error naming the layer and what it needs.
  int64_t static_dim(const TensorType& t, int axis, const char* what) const;
  // The weight with its current static shape: shared variables have unknown
  // static shapes (set_value may reshape them), but layers after this one
  // need sizes to build, so forward passes read weights through this view.
  static Var param(const Var& weight);
  void add_update(const Var& shared_var, const Var& value) { updates_.emplace_back(shared_var, value); }
  std::string error_prefix() const;  // "[Dense 'dense_1']"
  DType dtype_ = DType::Float32;     // of the weights: the first input's float dtype

 private:
  mutable std::string name_;
  bool built_ = false;
  std::vector<Var> trainable_, non_trainable_;
  std::vector<std::pair<Var, Regularizer>> regs_;
  Updates updates_;
};

using LayerPtr = std::shared_ptr<Layer>;

// Base of single-input layers: forward/build on one tensor.
class UnaryLayer : public Layer {
 public:
  using Layer::Layer;

 protected:
  virtual void build1(const TensorType&) {}
  virtual Var forward1(const Var& x, bool training) = 0;
  void build(const std::vector<TensorType>& t) override { build1(t.at(0)); }
  Var forward(const std::vector<Var>& in, bool training) override;
};

// ---- registry: class name -> factory from config ----
using LayerFactory = std::function<LayerPtr(const Json& config)>;
void register_layer(const std::string& class_name, LayerFactory factory);
// Rebuilds a layer; throws std::invalid_argument for an unknown class name or a bad config.
LayerPtr layer_from_config(const std::string& class_name, const Json& config);
// {"class_name": ..., "config": ...}
Json layer_to_json(const Layer& layer);
LayerPtr layer_from_json(const Json& j);
std::vector<std::string> registered_layers();

// ---- functional API records ----
struct LayerCall {
  LayerPtr layer;
  std::vector<Var> inputs;
};
// The recorded call that produced `v`, or nullptr. A record keeps its layer
// alive while the output variable lives (records of dead outputs are dropped).
const LayerCall* producing_call(const Var& v);
// Drops every record (the Python binding calls it at exit, so layers owned by
// Python objects are released before the interpreter goes).
void clear_call_records();
// A symbolic batch of inputs of per-sample `shape` (the batch dim is added, unknown).
Var Input(const std::vector<int64_t>& shape, DType dtype = DType::Float32, const std::string& name = "");

}  // namespace theon::nn
