// theon/nn/model.h — models: Sequential and functional graphs of layers, with compile/fit/evaluate/predict.
//
// A Model holds layers between symbolic inputs and one output. Sequential
// chains layers (its input shape comes from an Input, build(), or the first
// data it sees); Model(inputs, outputs) takes the layers recorded by calling
// them on Input tensors (residual connections through Add/Concatenate).
// compile() picks the optimizer, loss and metrics; fit() compiles ONE training
// function (forward pass, loss, gradients and every update — optimizer and
// BatchNorm statistics — in one graph) and one evaluation function, then runs
// the epochs over minibatches (the last partial batch included), drawing a
// progress bar, calling the callbacks and returning the History. save() writes
// the architecture (JSON), the weights and optionally the optimizer state to
// the safe theon model file; load_model() rebuilds it.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "theon/compile/function.h"
#include "theon/nn/callbacks.h"
#include "theon/nn/layer.h"
#include "theon/nn/losses.h"
#include "theon/nn/optimizers.h"

namespace theon::nn {

// Per-epoch values of every logged quantity ("loss", "accuracy", "val_loss", ...).
struct History {
  std::map<std::string, std::vector<double>> history;
  std::vector<int> epochs;  // 0-based epoch numbers
};

struct FitOptions {
  int64_t batch_size = 32;
  int epochs = 1;
  // (x, y) evaluated at the end of every epoch into val_* logs.
  std::optional<std::pair<std::vector<Array>, Array>> validation_data{};
  // Fraction of the training data (taken from the end, before shuffling) held out for validation.
  double validation_split = 0;
  bool shuffle = true;
  std::vector<CallbackPtr> callbacks{};
  int verbose = 1;  // 0 silent, 1 progress bar (one line per epoch when not a terminal), 2 one line per epoch
  uint64_t seed = 0;  // shuffling seed; 0 draws one from the global seed sequence
  int initial_epoch = 0;
};

class Model : public std::enable_shared_from_this<Model> {
 public:
  // A functional model: the layers recorded between `inputs` and `output`.
  Model(std::vector<Var> inputs, Var output, std::string name = "model");
  Model(Var input, Var output, std::string name = "model") : Model(std::vector<Var>{input}, output, name) {}
  virtual ~Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  virtual std::string class_name() const { return "Model"; }
  const std::string& name() const { return name_; }
  // Distinct layers in the order they are first applied.
  const std::vector<LayerPtr>& layers() const { return layers_; }
  LayerPtr get_layer(const std::string& name) const;
  // Trainable parameters (what the optimizer updates) and all weights (plus BatchNorm statistics).
  std::vector<Var> params() const;
  std::vector<Var> weights() const;
  std::vector<Array> get_weights() const;
  void set_weights(const std::vector<Array>& values);  // same order and shapes as weights()
  const std::vector<Var>& inputs() const { return inputs_; }
  const Var& output() const { return output_; }
  bool built() const { return !inputs_.empty(); }

  // Builds the model's graph on `inputs` (for training or inference).
  virtual Var apply(const std::vector<Var>& inputs, bool training);
  Var apply(const Var& x, bool training) { return apply(std::vector<Var>{x}, training); }

  void compile(OptimizerPtr optimizer, LossSpec loss, std::vector<std::string> metrics = {});
  void compile(OptimizerPtr optimizer, const std::string& loss, std::vector<std::string> metrics = {},
               bool from_logits = false) {
    compile(std::move(optimizer), loss_by_name(loss, from_logits), std::move(metrics));
  }
  bool compiled() const { return optimizer_ != nullptr; }
  const OptimizerPtr& optimizer() const { return optimizer_; }
  const LossSpec& loss() const { return loss_; }
  const std::vector<std::string>& metric_names() const { return metric_names_; }
  // The log keys of the metrics, in compile order ("acc" is logged as "accuracy").
  const std::vector<std::string>& metric_keys() const { return metric_keys_; }

  History fit(const std::vector<Array>& x, const Array& y, const FitOptions& options = {});
  History fit(const Array& x, const Array& y, const FitOptions& options = {}) {
    return fit(std::vector<Array>{x}, y, options);
  }
  // Loss and metrics over the whole data (batched; inference mode).
  Logs evaluate(const std::vector<Array>& x, const Array& y, int64_t batch_size = 128, int verbose = 0);
  Logs evaluate(const Array& x, const Array& y, int64_t batch_size = 128, int verbose = 0) {
    return evaluate(std::vector<Array>{x}, y, batch_size, verbose);
  }
  // The model's outputs on `x`, computed in batches (inference mode).
  Array predict(const std::vector<Array>& x, int64_t batch_size = 128);
  Array predict(const Array& x, int64_t batch_size = 128) { return predict(std::vector<Array>{x}, batch_size); }
  // One training step on one batch; returns the logs of that batch.
  Logs train_on_batch(const std::vector<Array>& x, const Array& y);

  // Set by a callback to end fit after the current epoch.
  bool stop_training = false;
  // The last fit's history.
  const History& history() const { return history_; }

  // {"class_name": ..., "config": ...}: everything needed to rebuild the model (no weights).
  virtual Json to_json() const;
  // A table of the layers, output shapes and parameter counts.
  std::string summary() const;
  int64_t count_params() const;

  // The model file: architecture + weights (+ optimizer state and compile settings).
  void save(const std::string& path, bool include_optimizer = true) const;
  // Weights only, by name: a theon model file, or a NumPy archive when the path ends in ".npz".
  void save_weights(const std::string& path) const;
  // Loads weights by name; every weight must be present with its shape, else
  // std::runtime_error and nothing changes.
  void load_weights(const std::string& path);

  // The compiled functions (built on demand; compile() resets them).
  std::shared_ptr<Function> train_function();
  std::shared_ptr<Function> test_function();
  std::shared_ptr<Function> predict_function();

 protected:
  explicit Model(std::string name) : name_(std::move(name)) {}
  // Sequential: builds inputs_/output_ from a per-sample shape once data arrives.
  virtual void build_for(const std::vector<Array>& x);
  void set_graph(std::vector<Var> inputs, Var output);
  std::vector<Array> prepare_inputs(const std::vector<Array>& x, const char* who) const;
  Array prepare_targets(const Array& y, const char* who);
  Var target_var();

  std::string name_;
  std::vector<LayerPtr> layers_;
  std::vector<Var> inputs_;
  Var output_;

 private:
  struct Node {
    LayerPtr layer;
    std::vector<int> inputs;  // tensor ids: model inputs first, then node outputs
  };
  friend std::shared_ptr<Model> model_from_json(const Json& j);
  Logs run_eval(const std::vector<Array>& x, const Array& y, int64_t batch_size);
  std::vector<Node> nodes_;
  OptimizerPtr optimizer_;
  LossSpec loss_;
  std::vector<std::string> metric_names_, metric_keys_;
  std::shared_ptr<Function> train_fn_, test_fn_, predict_fn_;
  Var target_;
  History history_;
};

class Sequential : public Model {
 public:
  explicit Sequential(std::vector<LayerPtr> layers = {}, std::string name = "sequential");
  std::string class_name() const override { return "Sequential"; }
  void add(LayerPtr layer);
  // Builds every layer for samples of `input_shape` (without the batch dim).
  void build(const std::vector<int64_t>& input_shape, DType dtype = DType::Float32);
  Var apply(const std::vector<Var>& inputs, bool training) override;
  Json to_json() const override;

 protected:
  void build_for(const std::vector<Array>& x) override;

 private:
  std::vector<int64_t> input_shape_;
  DType input_dtype_ = DType::Float32;
};

using ModelPtr = std::shared_ptr<Model>;

// Rebuilds a model (unbuilt weights freshly initialized) from to_json() output.
ModelPtr model_from_json(const Json& j);
// Loads a file written by Model::save: the architecture, the weights, and, if
// saved, the compile settings and optimizer state (so training resumes).
// Throws std::runtime_error naming the file for anything malformed.
ModelPtr load_model(const std::string& path);

}  // namespace theon::nn
